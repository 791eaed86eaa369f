//! A race condition: the workers together increment one shared counter.
//!
//! `unsynchronized` reads, yields, then writes back, so two workers lose
//! updates (done with an atomic's separate load and store: a race condition
//! without undefined behaviour); `mutex` and `atomic` never lose one.
//! Processes share no counter, so process strategies are refused.

use super::{chunks, Descriptor, TaskCtx, TaskSpec, Workload};
use crate::param::{Default, Kind, Param, Step, Values};
use anyhow::Result;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The modes' names, in [`Mode`] order.
const MODES: &[&str] = &["unsynchronized", "mutex", "atomic"];

/// The workload's one description.
pub const DESCRIPTOR: Descriptor = Descriptor {
    name: "race",
    about: "a shared counter incremented unsynchronized, under a mutex, or atomically",
    params: &[
        Param {
            key: "size",
            help: "increments in all",
            kind: Kind::Int {
                min: 1,
                max: 1_000_000_000,
            },
            default: Default::Int(1_000_000),
            label: "size",
            step: Step::Double,
        },
        super::tasks_param("tasks the increments are split into", 8),
        Param {
            key: "mode",
            help: "unsynchronized (lost updates), mutex or atomic",
            kind: Kind::Choice(MODES),
            default: Default::Word("unsynchronized"),
            label: "mode",
            step: Step::Double,
        },
    ],
    label: &["mode"],
    result: &["mode", "expected", "actual", "lost"],
    needs_shared_memory: true,
    build: |v, _seed| Ok(Arc::new(Race::new(&Params::from(v)))),
};

/// How the counter is incremented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Read, yield, write back: lost updates.
    Unsynchronized,
    /// Under a lock (waits are `lock_wait`).
    Mutex,
    /// One atomic read-modify-write.
    Atomic,
}

/// The parameters, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Increments in all.
    pub size: u64,
    /// Split into this many tasks.
    pub tasks: u32,
    pub mode: Mode,
}

impl From<&Values> for Params {
    fn from(v: &Values) -> Self {
        Self {
            size: v.int("size"),
            tasks: v.int("tasks") as u32,
            mode: match v.text("mode") {
                Some("mutex") => Mode::Mutex,
                Some("atomic") => Mode::Atomic,
                _ => Mode::Unsynchronized,
            },
        }
    }
}

/// The race workload and its shared counter.
pub struct Race {
    ranges: Vec<(u64, u64)>,
    size: u64,
    mode: Mode,
    atomic: AtomicU64,
    locked: Mutex<u64>,
}

impl Race {
    /// Split the increments.
    pub fn new(p: &Params) -> Self {
        Self {
            ranges: chunks(p.size, p.tasks),
            size: p.size,
            mode: p.mode,
            atomic: AtomicU64::new(0),
            locked: Mutex::new(0),
        }
    }

    fn actual(&self) -> u64 {
        match self.mode {
            Mode::Mutex => *self.locked.lock().unwrap_or_else(|e| e.into_inner()),
            _ => self.atomic.load(Ordering::SeqCst),
        }
    }
}

impl Workload for Race {
    fn tasks(&self) -> Vec<TaskSpec> {
        self.ranges
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| TaskSpec {
                id: i as u32,
                name: format!("{} increments", b - a + 1),
                cost: b - a + 1,
                units: None,
                phase: 0,
            })
            .collect()
    }

    fn run(&self, task: &TaskSpec, ctx: &mut TaskCtx) -> Result<Value> {
        let (a, b) = self.ranges[task.id as usize];
        for i in a..=b {
            if i % 256 == 0 {
                ctx.tick()?;
            }
            match self.mode {
                Mode::Unsynchronized => {
                    let v = self.atomic.load(Ordering::Relaxed);
                    std::thread::yield_now(); // the window another worker writes into
                    self.atomic.store(v + 1, Ordering::Relaxed);
                }
                Mode::Mutex => *ctx.lock(&self.locked) += 1,
                Mode::Atomic => {
                    self.atomic.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(json!({ "increments": b - a + 1 }))
    }

    fn result(&self, _outputs: &[Value]) -> Value {
        let actual = self.actual();
        json!({ "mode": MODES[self.mode as usize], "expected": self.size, "actual": actual, "lost": self.size.saturating_sub(actual) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::run_sequentially;

    #[test]
    fn one_worker_loses_nothing_in_any_mode() {
        for mode in [Mode::Unsynchronized, Mode::Mutex, Mode::Atomic] {
            let w = Race::new(&Params {
                size: 1000,
                tasks: 3,
                mode,
            });
            let r = run_sequentially(&w);
            assert_eq!(r["actual"], 1000);
            assert_eq!(r["lost"], 0);
        }
    }
}
