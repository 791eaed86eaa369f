//! Numbers on the wire: what each worker state is called in a recording's
//! event stream and in the probe's records. They never change once given:
//! recordings made by an older parlab, and the probe's own constants, rely
//! on them. A test holds the probe's numbers equal to these.
//!
//! Event kinds in a recording: 0..=7 and 29 are states (below), 8..=28 the
//! other kinds (`recording::codec`); 30..=63 are reserved for kinds and
//! states to come.

use crate::event::WorkerState;

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
    STATES
        .iter()
        .find(|(x, _)| *x == s)
        .map(|(_, c)| *c)
        .expect("every state has a number")
}

/// The state numbered `code`, if it is one.
pub fn state_of(code: u8) -> Option<WorkerState> {
    STATES.iter().find(|(_, c)| *c == code).map(|(s, _)| *s)
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
