//! Numbers on the wire: every event kind, worker state and lane role as a
//! recording's event stream numbers it, and the probe's record kinds. They
//! never change once given: recordings made by an older parlab, and the
//! probe's own constants, rely on them. Tests hold the probe's numbers
//! equal to these.
//!
//! Event kinds in a recording: 0..=7 and 29 are states ([`STATES`]), 8..=28
//! and 30..=34 the other kinds ([`event`]); 35..=63 are reserved for kinds
//! and states to come.

use crate::event::{Role, WorkerState};

/// A recording's event kinds that are not states.
pub mod event {
    pub const TASK_START: u8 = 8;
    pub const TASK_OK: u8 = 9;
    pub const TASK_FAILED: u8 = 10;
    pub const DISPATCHED: u8 = 11;
    pub const COLLECTED: u8 = 12;
    pub const LOG: u8 = 13;
    pub const QUEUE_PUT: u8 = 14;
    pub const QUEUE_GET: u8 = 15;
    pub const CACHE_HIT: u8 = 16;
    pub const CACHE_MISS: u8 = 17;
    pub const CACHE_EVICT: u8 = 18;
    pub const GIL_SWITCH: u8 = 19;
    pub const GIL_DROP_REQUEST: u8 = 20;
    pub const LANE: u8 = 21;
    pub const OUTPUT: u8 = 22;
    pub const TASK: u8 = 23;
    pub const LANE_END: u8 = 24;
    pub const QUEUE_BOUND: u8 = 25;
    pub const CACHE_TOTALS: u8 = 26;
    pub const GIL_TAKEN: u8 = 27;
    pub const GIL_LET_GO: u8 = 28;
    pub const FRAME: u8 = 30;
    /// A stack sample: its thread held the GIL, or did not.
    pub const SAMPLE_HELD: u8 = 31;
    pub const SAMPLE: u8 = 32;
    pub const TASK_STATES: u8 = 33;
    pub const USAGE: u8 = 34;
    /// The first number not yet given; up to 63 is reserved.
    pub const NEXT_FREE: u8 = 35;
}

/// The probe's record kinds (`assets/probe/_parlab_probe.py` names them alike).
pub mod record {
    pub const HELLO: u16 = 1;
    pub const THREAD_START: u16 = 2;
    pub const THREAD_END: u16 = 3;
    pub const TASK_START: u16 = 4;
    pub const TASK_END: u16 = 5;
    pub const ENTER: u16 = 6;
    pub const LEAVE: u16 = 7;
    pub const QUEUE_NEW: u16 = 8;
    pub const QUEUE_DEPTH: u16 = 9;
    pub const PROCESS_NAME: u16 = 10;
    pub const CACHE: u16 = 11;
    pub const QUEUE_AT: u16 = 12;
    /// A thread's `threading.get_ident()` (`b`), how stacks read from
    /// outside name it.
    pub const THREAD_IDENT: u16 = 13;
    /// The program set its switch interval (`a`, in µs): where the GIL is
    /// looked for by it, the interval said at the start no longer holds.
    pub const SWITCH_INTERVAL: u16 = 14;
    /// Where a queue's condition keeps its waiters (`b`), the wait a thread
    /// there is in (`state`), and the offsets to read them by (text bytes).
    pub const WAITERS_AT: u16 = 15;
}

/// Each lane role's number, as first given.
pub const ROLES: [(Role, u8); 5] = [
    (Role::Thread, 0),
    (Role::Process, 1),
    (Role::Producer, 2),
    (Role::Consumer, 3),
    (Role::EventLoop, 4),
];

/// The number `r` travels as.
pub fn role_code(r: Role) -> u8 {
    code_in(&ROLES, r)
}

/// The role numbered `code`, if it is one.
pub fn role_of(code: u8) -> Option<Role> {
    named_in(&ROLES, code)
}

/// `x`'s number in `table` (every value has one: the tests hold it).
fn code_in<T: PartialEq + Copy>(table: &[(T, u8)], x: T) -> u8 {
    table
        .iter()
        .find(|(y, _)| *y == x)
        .map(|(_, c)| *c)
        .expect("every value has a number")
}

/// The value numbered `code` in `table`, if any.
fn named_in<T: Copy>(table: &[(T, u8)], code: u8) -> Option<T> {
    table.iter().find(|(_, c)| *c == code).map(|(x, _)| *x)
}

/// Each state's number, as first given.
pub const STATES: [(WorkerState, u8); WorkerState::COUNT] = [
    (WorkerState::Running, 0),
    (WorkerState::GilWait, 1),
    (WorkerState::LockWait, 2),
    (WorkerState::Io, 3),
    (WorkerState::QueueFull, 4),
    (WorkerState::QueueEmpty, 5),
    (WorkerState::Idle, 6),
    (WorkerState::Failed, 7),
    (WorkerState::Ready, 29),
];

/// The number `s` travels as.
pub fn state_code(s: WorkerState) -> u8 {
    code_in(&STATES, s)
}

/// The state numbered `code`, if it is one.
pub fn state_of(code: u8) -> Option<WorkerState> {
    named_in(&STATES, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_one_number_and_back() {
        for s in WorkerState::ALL {
            assert_eq!(state_of(state_code(s)), Some(s));
        }
        let mut codes: Vec<u8> = STATES.iter().map(|(_, c)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), WorkerState::COUNT);
    }

    /// Every kind has one number: no state, kind or reserved number twice.
    #[test]
    fn kinds_and_states_never_share_a_number() {
        let kinds = [
            event::TASK_START,
            event::TASK_OK,
            event::TASK_FAILED,
            event::DISPATCHED,
            event::COLLECTED,
            event::LOG,
            event::QUEUE_PUT,
            event::QUEUE_GET,
            event::CACHE_HIT,
            event::CACHE_MISS,
            event::CACHE_EVICT,
            event::GIL_SWITCH,
            event::GIL_DROP_REQUEST,
            event::LANE,
            event::OUTPUT,
            event::TASK,
            event::LANE_END,
            event::QUEUE_BOUND,
            event::CACHE_TOTALS,
            event::GIL_TAKEN,
            event::GIL_LET_GO,
            event::FRAME,
            event::SAMPLE_HELD,
            event::SAMPLE,
            event::TASK_STATES,
            event::USAGE,
        ];
        let mut all: Vec<u8> = kinds.to_vec();
        all.extend(STATES.iter().map(|(_, c)| *c));
        all.sort_unstable();
        let n = all.len();
        all.dedup();
        assert_eq!(all.len(), n, "a number given twice");
        assert!(all.iter().all(|&c| c < event::NEXT_FREE));
        for (r, code) in ROLES {
            assert_eq!((role_of(code), role_code(r)), (Some(r), code));
        }
    }

    /// The probe's record kinds, as its two lines name them, are these.
    #[test]
    fn the_probes_record_kinds_are_these() {
        let probe = include_str!("../assets/probe/_parlab_probe.py");
        let ours = [
            ("HELLO", record::HELLO),
            ("THREAD_START", record::THREAD_START),
            ("THREAD_END", record::THREAD_END),
            ("TASK_START", record::TASK_START),
            ("TASK_END", record::TASK_END),
            ("ENTER", record::ENTER),
            ("LEAVE", record::LEAVE),
            ("QUEUE_NEW", record::QUEUE_NEW),
            ("QUEUE_DEPTH", record::QUEUE_DEPTH),
            ("PROCESS_NAME", record::PROCESS_NAME),
            ("CACHE", record::CACHE),
            ("QUEUE_AT", record::QUEUE_AT),
            ("THREAD_IDENT", record::THREAD_IDENT),
            ("SWITCH_INTERVAL", record::SWITCH_INTERVAL),
            ("WAITERS_AT", record::WAITERS_AT),
        ];
        let mut seen = 0;
        for line in probe
            .lines()
            .filter(|l| l.starts_with("HELLO,") || l.starts_with("QUEUE_NEW,"))
        {
            let (names, values) = line.split_once('=').unwrap();
            for (name, value) in names.split(',').zip(values.split(',')) {
                let ours = ours.iter().find(|(n, _)| *n == name.trim()).expect(name).1;
                assert_eq!(value.trim().parse::<u16>().unwrap(), ours, "{name}");
                seen += 1;
            }
        }
        assert_eq!(seen, ours.len(), "the probe names every record kind");
    }

    /// The probe numbers the waits it reports by hand: the same numbers.
    #[test]
    fn the_probes_state_numbers_are_these() {
        let probe = include_str!("../assets/probe/_parlab_probe.py");
        let line = probe
            .lines()
            .find(|l| l.starts_with("LOCK_WAIT, IO, QUEUE_FULL, QUEUE_EMPTY ="))
            .expect("the probe names its states in one line");
        let (names, values) = line.split_once('=').unwrap();
        let named = [
            ("LOCK_WAIT", WorkerState::LockWait),
            ("IO", WorkerState::Io),
            ("QUEUE_FULL", WorkerState::QueueFull),
            ("QUEUE_EMPTY", WorkerState::QueueEmpty),
        ];
        for (name, value) in names.split(',').zip(values.split(',')) {
            let state = named.iter().find(|(n, _)| *n == name.trim()).unwrap().1;
            assert_eq!(
                value.trim().parse::<u8>().unwrap(),
                state_code(state),
                "{name}"
            );
        }
    }
}
