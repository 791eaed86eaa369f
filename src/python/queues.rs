//! A program's queues: their traffic and depth.
//!
//! Where parlab reads the program from outside (Linux, GIL reading on), a
//! `queue.Queue`'s `put` and `get` stay CPython's own: the probe says once,
//! when the queue is made, where its deque lies and which of the deque's
//! words hold its length and its count of changes (appends plus pops), and
//! parlab reads those two words at each GIL reading. Puts are then
//! (changes + length) / 2 and gets (changes − length) / 2, exact, at no cost
//! to the program; who put and who got is not known. Elsewhere, and for
//! queues whose container keeps no count (a `LifoQueue`'s or a
//! `PriorityQueue`'s list, a multiprocessing queue), the probe records each
//! put and get.
//!
//! Who is blocked on a queue is read from outside too ([`Waiters`]): a
//! thread in `get` on an empty queue (or `put` on a full one) sleeps on a
//! lock of its own that it has put in the queue's condition's list of
//! waiters; the OS names the futex it sleeps on, and the list says whose
//! futexes those are. No Python runs for it in the program.

use super::gil::{read_memory, read_words};
use super::ring::Record;
use crate::event::{LaneId, WorkerState};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A queue's traffic at one reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub puts: u64,
    pub gets: u64,
    pub depth: u64,
}

impl Traffic {
    /// From a deque's length and its count of changes.
    pub fn of_deque(length: u64, changes: u64) -> Self {
        Self {
            puts: (changes + length) / 2,
            gets: changes.saturating_sub(length) / 2,
            depth: length,
        }
    }
}

/// A queue read from outside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    pub pid: u32,
    /// The probe's number for it in its process.
    pub qid: u32,
    /// The lane of the thread that made it (its events are shown there).
    pub lane: LaneId,
    /// Its deque's address, and where in it the length and the count of
    /// changes are (byte offsets).
    addr: u64,
    length_at: usize,
    changes_at: usize,
    /// The traffic at the last reading.
    pub last: Traffic,
}

impl Watched {
    /// From the probe's `QUEUE_AT` record: `a` the queue, `b` its deque,
    /// `state` the two offsets (length in the low byte).
    pub fn from_record(pid: u32, r: &Record, lane: LaneId) -> Self {
        Self {
            pid,
            qid: r.a,
            lane,
            addr: r.b,
            length_at: (r.state & 0xff) as usize,
            changes_at: (r.state >> 8) as usize,
            last: Traffic::default(),
        }
    }

    /// Read its traffic now: one read of the deque's first words.
    pub fn read(&self) -> std::io::Result<Traffic> {
        let span = self.length_at.max(self.changes_at) + 8;
        let mut buf = [0u8; 256];
        let buf = buf.get_mut(..span).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "offsets out of reach")
        })?;
        let n = read_memory(self.pid, self.addr, buf)?;
        if n < span {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let word = |at: usize| i64::from_ne_bytes(buf[at..at + 8].try_into().expect("8 bytes"));
        let (length, changes) = (word(self.length_at), word(self.changes_at));
        if length < 0 || changes < length {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "no longer reads as the queue's deque",
            ));
        }
        Ok(Traffic::of_deque(length as u64, changes as u64))
    }
}

/// One condition of a queue (`not_empty` or `not_full`), read from outside:
/// the futexes its waiting threads sleep on. The probe says where its list
/// of waiters (a deque of locks) lies and, as byte offsets checked on the
/// program's interpreter, where the deque keeps its length, first block and
/// first index, where a block's items begin, and where a lock keeps its
/// semaphore (whose address is the futex a waiting thread sleeps on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiters {
    pub pid: u32,
    /// A thread waiting here is in this state (empty or full).
    pub state: WorkerState,
    addr: u64,
    length_at: u64,
    block_at: u64,
    index_at: u64,
    item_at: u64,
    sem_at: u64,
}

/// Items in a deque's block (CPython's `BLOCKLEN`): the waiters read are
/// those in the first block, which a queue's few waiters never outgrow.
const BLOCK_ITEMS: u64 = 64;

impl Waiters {
    /// From the probe's `WAITERS_AT` record: `b` the deque, `state` the
    /// wait, the offsets in the text's first five bytes.
    pub fn from_record(pid: u32, r: &Record) -> Option<Self> {
        let state = u8::try_from(r.state).ok().and_then(crate::wire::state_of)?;
        let at = |i: usize| u64::from(r.raw[i]);
        Some(Self {
            pid,
            state,
            addr: r.b,
            length_at: at(0),
            block_at: at(1),
            index_at: at(2),
            item_at: at(3),
            sem_at: at(4),
        })
    }

    /// Whether a thread asleep on `futex` waits here: three reads at most
    /// (the deque's words, its waiters, their semaphores).
    pub fn has(&self, futex: u64) -> std::io::Result<bool> {
        let head = [self.length_at, self.block_at, self.index_at].map(|o| self.addr + o);
        let [length, block, index] = read_words(self.pid, &head)?[..] else {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        };
        if length == 0 {
            return Ok(false);
        }
        if length > BLOCK_ITEMS * 16 || index >= BLOCK_ITEMS {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "no longer reads as a condition's waiters",
            ));
        }
        let items = (index..(index + length).min(BLOCK_ITEMS))
            .map(|i| block + self.item_at + 8 * i)
            .collect::<Vec<_>>();
        let locks = read_words(self.pid, &items)?;
        let sems = locks.iter().map(|l| l + self.sem_at).collect::<Vec<_>>();
        Ok(read_words(self.pid, &sems)?.contains(&futex))
    }
}

/// The first queue's traffic over the run.
#[derive(Default)]
pub struct Stats {
    pub puts: u64,
    pub gets: u64,
    pub max_depth: u32,
    /// Who put and who got, where each put and get was recorded (none:
    /// the queue was read from outside, which does not say).
    pub putters: BTreeSet<LaneId>,
    pub getters: BTreeSet<LaneId>,
    pub watched: bool,
}

/// The program's first queue as `queue`, and all of them as `queues`.
pub fn extensions(exits: &[(u32, Value)], stats: &Stats) -> Vec<crate::strategy::Extension> {
    let queues: Vec<Value> = exits
        .iter()
        .flat_map(|(pid, v)| {
            v["queues"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |mut q| {
                    q["pid"] = json!(pid);
                    q
                })
        })
        .collect();
    let Some(first) = queues.first() else {
        return Vec::new();
    };
    let capacity = match first["maxsize"].as_u64() {
        Some(0) | None => Value::Null,
        Some(n) => json!(n),
    };
    let discipline = match first["kind"].as_str() {
        Some("LifoQueue") => "lifo",
        Some("PriorityQueue") => "priority",
        _ => "fifo",
    };
    // Who put and got is known only where each operation was recorded.
    let who = |set: &BTreeSet<LaneId>| {
        if stats.watched {
            Value::Null
        } else {
            json!(set.len())
        }
    };
    // The probe's own count at exit is exact to the end; the readings' is
    // as of the last one.
    let count = |key: &str, seen: u64| first[key].as_u64().unwrap_or(seen);
    let queue = crate::strategy::Extension {
        key: crate::strategy::Figures::Queue.key().into(),
        json: json!({
            "kind": first["kind"],
            "discipline": discipline,
            "capacity": capacity,
            "producers": who(&stats.putters),
            "consumers": who(&stats.getters),
            "max_depth": stats.max_depth,
            "produced": count("produced", stats.puts),
            "consumed": count("consumed", stats.gets),
            "final_depth": first["depth"],
        }),
        summary: vec![format!(
            "{} of maxsize {}, {} left at the end",
            first["kind"].as_str().unwrap_or("Queue"),
            first["maxsize"],
            first["depth"]
        )],
    };
    let all = crate::strategy::Extension {
        key: crate::strategy::Figures::Queues.key().into(),
        json: Value::Array(queues.clone()),
        summary: vec![format!(
            "{} queue{}",
            queues.len(),
            if queues.len() == 1 { "" } else { "s" }
        )],
    };
    vec![queue, all]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deques_length_and_changes_give_its_puts_and_gets() {
        assert_eq!(
            Traffic::of_deque(3, 17),
            Traffic {
                puts: 10,
                gets: 7,
                depth: 3
            }
        );
        assert_eq!(Traffic::of_deque(0, 0), Traffic::default());
    }

    /// A condition's waiters laid out as CPython lays them (a deque of
    /// locks, each with its semaphore), in this process: the futex of a
    /// waiter is found, any other is not.
    #[test]
    fn a_futex_is_a_queue_wait_when_a_waiter_of_its_condition_sleeps_on_it() {
        let sems = [0u64; 2];
        let sem = |i: usize| std::ptr::addr_of!(sems[i]) as u64;
        // Two locks: their semaphore's address at 16.
        let locks = [[0, 0, sem(0)], [0, 0, sem(1)]];
        let mut block = [0u64; 66];
        block[1 + 40] = locks[0].as_ptr() as u64;
        block[1 + 41] = locks[1].as_ptr() as u64;
        let mut deque = [0u64; 8];
        deque[2] = 2; // length
        deque[3] = block.as_ptr() as u64; // first block
        deque[5] = 40; // first index
        let mut raw = [0u8; 24];
        raw[..5].copy_from_slice(&[16, 24, 40, 8, 16]);
        let r = Record {
            t: 0,
            tid: 0,
            kind: super::super::ring::kind::WAITERS_AT,
            state: u16::from(crate::wire::state_code(WorkerState::QueueFull)),
            a: 0,
            b: deque.as_ptr() as u64,
            text: String::new(),
            raw,
        };
        let w = Waiters::from_record(std::process::id(), &r).unwrap();
        assert_eq!(w.state, WorkerState::QueueFull);
        if !cfg!(target_os = "linux") {
            assert!(w.has(sem(0)).is_err());
            return;
        }
        assert!(w.has(sem(0)).unwrap());
        assert!(w.has(sem(1)).unwrap());
        assert!(!w.has(sem(1) + 64).unwrap());
        // Once they are woken (the list empty), no futex is this wait's.
        // SAFETY: a write to our own array, volatile as only the kernel reads it.
        unsafe { std::ptr::write_volatile(&mut deque[2], 0) };
        assert!(!w.has(sem(0)).unwrap());
    }

    #[test]
    fn a_deque_in_this_process_is_read_as_another_would_read_it() {
        // A Vec's words stand in for a deque's: length at 16, changes at 56.
        let mut words = [0i64; 8];
        words[2] = 4;
        words[7] = 12;
        let r = Record {
            t: 0,
            tid: 0,
            kind: super::super::ring::kind::QUEUE_AT,
            state: 16 | 56 << 8,
            a: 1,
            b: words.as_ptr() as u64,
            text: String::new(),
            raw: [0; 24],
        };
        let w = Watched::from_record(std::process::id(), &r, 0);
        if cfg!(target_os = "linux") {
            assert_eq!(
                w.read().unwrap(),
                Traffic {
                    puts: 8,
                    gets: 4,
                    depth: 4
                }
            );
        } else {
            assert!(w.read().is_err());
        }
    }
}
