//! Workloads: what the workers compute. Each one splits into tasks, runs a
//! task with real computation (or real I/O), and combines the task outputs
//! into a result anyone can check against a reference implementation.

pub mod amdahl;
pub mod collatz;
pub mod fib;
pub mod primes;
pub mod race;
pub mod shell;
pub mod sleep;

use crate::cancel::{Cancel, Cancelled};
use crate::event::{Probe, WorkerState};
use crate::strategy::gil::Gil;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

/// The workloads, named as on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    Collatz,
    Primes,
    Fib,
    Sleep,
    Shell,
    Amdahl,
    Race,
}

impl WorkloadKind {
    /// Every workload, in `parlab list` order.
    pub const ALL: [WorkloadKind; 7] = [
        WorkloadKind::Collatz,
        WorkloadKind::Primes,
        WorkloadKind::Fib,
        WorkloadKind::Sleep,
        WorkloadKind::Shell,
        WorkloadKind::Amdahl,
        WorkloadKind::Race,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Collatz => "collatz",
            WorkloadKind::Primes => "primes",
            WorkloadKind::Fib => "fib",
            WorkloadKind::Sleep => "sleep",
            WorkloadKind::Shell => "shell",
            WorkloadKind::Amdahl => "amdahl",
            WorkloadKind::Race => "race",
        }
    }

    /// One line for `parlab list`.
    pub fn about(self) -> &'static str {
        match self {
            WorkloadKind::Collatz => {
                "CPU-bound: Collatz sequence lengths, or the first sequence containing each n"
            }
            WorkloadKind::Primes => {
                "CPU-bound: count and sum the primes up to size (trial division or sieve)"
            }
            WorkloadKind::Fib => {
                "memoised: recursive fib under an LRU cache with functools.lru_cache semantics"
            }
            WorkloadKind::Sleep => {
                "I/O-bound: the lecture's seven named tasks, each sleeping 1-10 units"
            }
            WorkloadKind::Shell => "subprocess: each task a real child process running a script",
            WorkloadKind::Amdahl => "synthetic CPU work with a serial fraction, for Amdahl's law",
            WorkloadKind::Race => {
                "a shared counter incremented unsynchronized, under a mutex, or atomically"
            }
        }
    }
}

/// One unit of work handed to a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Index in the workload's task list.
    pub id: u32,
    /// Shown in the log (`Dopey`, `chunk 3`).
    pub name: String,
    /// Declared cost, for the priority queue (smallest first).
    pub cost: u64,
    /// Lecture time units, where the task has them (sleep, shell).
    pub units: Option<u32>,
    /// Tasks of phase k all finish before any of phase k+1 starts (Amdahl's serial part).
    pub phase: u32,
}

/// Cache counters in the words of `functools.lru_cache`'s `cache_info()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheInfo {
    pub hits: u64,
    pub misses: u64,
    /// `None`: unbounded.
    pub maxsize: Option<u64>,
    pub currsize: u64,
}

/// A task's future on the event loop.
pub type LocalFuture<'a> = Pin<Box<dyn Future<Output = Result<Value>> + 'a>>;

/// What every workload provides.
pub trait Workload: Send + Sync {
    /// The tasks, in order.
    fn tasks(&self) -> Vec<TaskSpec>;

    /// Run one task on the calling thread.
    fn run(&self, task: &TaskSpec, ctx: &mut TaskCtx) -> Result<Value>;

    /// The task as a future for the event loop, where it is I/O-bound; `None`
    /// runs [`Workload::run`] on the loop, blocking it, as CPU work does in asyncio.
    fn run_async<'a>(
        &'a self,
        _task: &'a TaskSpec,
        _cancel: &'a Cancel,
    ) -> Option<LocalFuture<'a>> {
        None
    }

    /// Combine the outputs, in task order, into the workload's result.
    fn result(&self, outputs: &[Value]) -> Value;

    /// This process's cache counters, for memoised workloads.
    fn cache_info(&self) -> Option<CacheInfo> {
        None
    }

    /// Whether the workload only makes sense with shared memory (refuses processes).
    fn needs_shared_memory(&self) -> bool {
        false
    }
}

/// What a running task may touch: its lane's probe, the GIL, cancellation.
pub struct TaskCtx<'a> {
    /// The lane's probe, for workload events (cache, log).
    pub probe: &'a mut Probe,
    gil: Option<&'a Gil>,
    cancel: &'a Cancel,
    ticks: u32,
}

impl<'a> TaskCtx<'a> {
    /// A context for one task.
    pub fn new(probe: &'a mut Probe, gil: Option<&'a Gil>, cancel: &'a Cancel) -> Self {
        Self {
            probe,
            gil,
            cancel,
            ticks: 0,
        }
    }

    /// A check point for CPU loops: call it every few microseconds of work.
    /// It notices cancellation, honours a GIL drop request, and keeps the
    /// probe's batches fresh.
    #[inline]
    pub fn tick(&mut self) -> Result<(), Cancelled> {
        self.cancel.check()?;
        if self.cancel.is_paused() {
            self.pause();
        }
        if let Some(gil) = self.gil {
            gil.check(self.probe);
        }
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(64) {
            self.probe.maybe_flush();
        }
        Ok(())
    }

    /// Held at a check point while the run is paused: `idle`, GIL released.
    #[cold]
    fn pause(&mut self) {
        self.probe.state(WorkerState::Idle);
        self.probe.flush();
        if let Some(gil) = self.gil {
            gil.release();
        }
        self.cancel.wait_while_paused();
        match self.gil {
            Some(gil) => gil.take(self.probe),
            None => self.probe.state(WorkerState::Running),
        }
    }

    /// Run a blocking wait: the lane is in `io` and the GIL is released meanwhile.
    pub fn io<T>(&mut self, wait: impl FnOnce(&Cancel) -> T) -> T {
        self.probe.state(WorkerState::Io);
        self.probe.flush();
        if let Some(gil) = self.gil {
            gil.release();
        }
        let out = wait(self.cancel);
        match self.gil {
            Some(gil) => gil.take(self.probe),
            None => self.probe.state(WorkerState::Running),
        }
        out
    }

    /// Lock a mutex shared by workers; a contended lock is `lock_wait`, and the
    /// GIL is released while blocked, as CPython's `Lock.acquire` does.
    pub fn lock<'m, T>(&mut self, m: &'m Mutex<T>) -> MutexGuard<'m, T> {
        if let Ok(guard) = m.try_lock() {
            return guard;
        }
        self.probe.state(WorkerState::LockWait);
        self.probe.flush();
        if let Some(gil) = self.gil {
            gil.release();
        }
        let guard = m.lock().unwrap_or_else(|e| e.into_inner());
        match self.gil {
            Some(gil) => gil.take(self.probe),
            None => self.probe.state(WorkerState::Running),
        }
        guard
    }

    /// The run's cancellation token.
    pub fn cancel(&self) -> &Cancel {
        self.cancel
    }
}

/// Every workload's parameters: one section each in the config file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadParams {
    pub collatz: collatz::Params,
    pub primes: primes::Params,
    pub fib: fib::Params,
    pub sleep: sleep::Params,
    pub shell: shell::Params,
    pub amdahl: amdahl::Params,
    pub race: race::Params,
}

/// Everything needed to build a workload, in this process or a worker process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    pub kind: WorkloadKind,
    pub seed: u64,
    pub params: WorkloadParams,
}

/// Build a workload from its spec (validating its parameters).
pub fn build(spec: &WorkloadSpec) -> Result<Arc<dyn Workload>> {
    let p = &spec.params;
    Ok(match spec.kind {
        WorkloadKind::Collatz => Arc::new(collatz::Collatz::new(&p.collatz)?),
        WorkloadKind::Primes => Arc::new(primes::Primes::new(&p.primes)?),
        WorkloadKind::Fib => Arc::new(fib::Fib::new(&p.fib, spec.seed)?),
        WorkloadKind::Sleep => Arc::new(sleep::Sleep::new(&p.sleep, spec.seed)?),
        WorkloadKind::Shell => Arc::new(shell::Shell::new(&p.shell, spec.seed)?),
        WorkloadKind::Amdahl => Arc::new(amdahl::Amdahl::new(&p.amdahl)?),
        WorkloadKind::Race => Arc::new(race::Race::new(&p.race)?),
    })
}

/// Split `1..=size` into `tasks` contiguous chunks of near-equal length.
pub fn chunks(size: u64, tasks: u32) -> Vec<(u64, u64)> {
    let tasks = (tasks as u64).clamp(1, size.max(1));
    (0..tasks)
        .map(|i| (1 + size * i / tasks, size * (i + 1) / tasks))
        .filter(|(a, b)| a <= b)
        .collect()
}

/// A small seeded generator (SplitMix64): reproducible inputs without a dependency.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// A user mistake in a workload parameter: reported in one line, exit status 2.
pub fn bad_param(flag: &str, value: impl std::fmt::Display, valid: &str) -> anyhow::Error {
    crate::UserError::new(format!("invalid value '{value}' for {flag}: {valid}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_range_exactly_once() {
        for (size, tasks) in [(10, 3), (9999, 32), (5, 8), (1, 1)] {
            let c = chunks(size, tasks);
            assert_eq!(c.first().unwrap().0, 1);
            assert_eq!(c.last().unwrap().1, size);
            assert!(c.windows(2).all(|w| w[0].1 + 1 == w[1].0));
        }
    }

    #[test]
    fn splitmix_is_reproducible() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut g = SplitMix64::new(7);
                move |_| g.range(1, 10)
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut g = SplitMix64::new(7);
                move |_| g.range(1, 10)
            })
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (1..=10).contains(v)));
    }
}

/// Helpers for workload unit tests: run every task in order on this thread.
#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::clock::Clock;
    use crate::event::NullSink;

    /// Run all tasks in order; the first error stops.
    pub fn try_run_sequentially(w: &dyn Workload) -> Result<Value> {
        let mut probe = Probe::new(0, Clock::start(), Arc::new(NullSink), false);
        let cancel = Cancel::new();
        let mut outputs = Vec::new();
        for task in w.tasks() {
            let mut ctx = TaskCtx::new(&mut probe, None, &cancel);
            outputs.push(w.run(&task, &mut ctx)?);
        }
        Ok(w.result(&outputs))
    }

    /// Run all tasks in order, panicking on error.
    pub fn run_sequentially(w: &dyn Workload) -> Value {
        try_run_sequentially(w).expect("workload ran")
    }
}
