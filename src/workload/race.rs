//! A race condition: the workers together increment one shared counter.
//!
//! `unsynchronized` reads, yields, then writes back, so two workers lose
//! updates (done with an atomic's separate load and store: a race condition
//! without undefined behaviour); `mutex` and `atomic` never lose one.
//! Processes share no counter, so process strategies are refused.

use super::{bad_param, chunks, TaskCtx, TaskSpec, Workload};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// How the counter is incremented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Read, yield, write back: lost updates.
    #[default]
    Unsynchronized,
    /// Under a lock (waits are `lock_wait`).
    Mutex,
    /// One atomic read-modify-write.
    Atomic,
}

/// `[race]` in the config file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Increments in all.
    pub size: u64,
    /// Split into this many tasks.
    pub tasks: u32,
    /// `unsynchronized`, `mutex` or `atomic`.
    pub mode: Mode,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            size: 1_000_000,
            tasks: 8,
            mode: Mode::Unsynchronized,
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
    /// Validate and split.
    pub fn new(p: &Params) -> Result<Self> {
        if p.size == 0 || p.size > 1_000_000_000 {
            return Err(bad_param("--size", p.size, "must be 1..=1000000000"));
        }
        if p.tasks == 0 {
            return Err(bad_param("--tasks", 0, "must be at least 1"));
        }
        Ok(Self {
            ranges: chunks(p.size, p.tasks),
            size: p.size,
            mode: p.mode,
            atomic: AtomicU64::new(0),
            locked: Mutex::new(0),
        })
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
        let mode = match self.mode {
            Mode::Unsynchronized => "unsynchronized",
            Mode::Mutex => "mutex",
            Mode::Atomic => "atomic",
        };
        json!({ "mode": mode, "expected": self.size, "actual": actual, "lost": self.size.saturating_sub(actual) })
    }

    fn needs_shared_memory(&self) -> bool {
        true
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
            })
            .unwrap();
            let r = run_sequentially(&w);
            assert_eq!(r["actual"], 1000);
            assert_eq!(r["lost"], 0);
        }
    }
}
