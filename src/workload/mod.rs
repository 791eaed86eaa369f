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

use crate::control::{Cancelled, Control};
use crate::event::{Probe, WorkerState};
use crate::param::{Param, Values};
use crate::simulated_gil::Gil;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

/// A workload's one description: everything the command line, the config
/// file, the Settings form, the Runs table and `parlab list` know of it.
/// Adding a workload is its file (with its `DESCRIPTOR`) and one line in [`REGISTRY`].
pub struct Descriptor {
    /// The name on the command line and its `[section]` in the config file.
    pub name: &'static str,
    /// One line for `parlab list`.
    pub about: &'static str,
    /// Its parameters: flag, config key, default, valid values, help.
    pub params: &'static [Param],
    /// The parameters the Runs table shows to tell its runs apart.
    pub label: &'static [&'static str],
    /// The fields of its result, in the order the summary line shows them.
    pub result: &'static [&'static str],
    /// It only makes sense with memory shared by its workers (refuses processes).
    pub needs_shared_memory: bool,
    /// Build it from checked parameters and the run's seed.
    pub build: fn(&Values, u64) -> Result<Arc<dyn Workload>>,
}

crate::named_registry!(Descriptor, REGISTRY, "workload");

impl Descriptor {
    /// The parameter with this key.
    pub fn param(&self, key: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.key == key)
    }

    /// The Runs table's label of a run with these values: a word as it is
    /// (`lengths`), a number after its label, round ones short (`size 20M`).
    pub fn label_of(&self, v: &Values) -> String {
        self.label_words(v).join(" ")
    }

    /// [`Self::label_of`]'s parts, one a parameter.
    pub fn label_words(&self, v: &Values) -> Vec<String> {
        self.label
            .iter()
            .filter_map(|k| {
                let p = self.param(k)?;
                Some(match (p.kind, v.get(k)) {
                    (crate::param::Kind::Choice(_), value) => p.show(value),
                    (_, Some(crate::param::Value::Int(n))) => format!("{} {}", p.label, short(*n)),
                    (_, value) => format!("{} {}", p.label, p.show(value)),
                })
            })
            .collect()
    }
}

/// The `tasks` parameter of a workload split into chunks: the same range for
/// each, its own help and default.
pub const fn tasks_param(help: &'static str, default: u64) -> Param {
    Param {
        key: "tasks",
        help,
        kind: crate::param::Kind::Int {
            min: 1,
            max: 1_000_000,
        },
        default: crate::param::Default::Int(default),
        label: "tasks",
        step: crate::param::Step::Double,
    }
}

/// Every workload, in `parlab list` order: the one place that names them all.
pub const REGISTRY: &[&Descriptor] = &[
    &collatz::DESCRIPTOR,
    &primes::DESCRIPTOR,
    &fib::DESCRIPTOR,
    &sleep::DESCRIPTOR,
    &shell::DESCRIPTOR,
    &amdahl::DESCRIPTOR,
    &race::DESCRIPTOR,
];

/// A whole number, short where it is round: `20M`, `12k`, `1G`; else as it is.
fn short(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 && n % 1_000_000_000 == 0 => format!("{}G", n / 1_000_000_000),
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 10_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// The workload a run computes when nothing says otherwise.
pub fn default() -> &'static Descriptor {
    REGISTRY[0]
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

impl CacheInfo {
    /// As the run JSON has it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "hits": self.hits,
            "misses": self.misses,
            "maxsize": self.maxsize,
            "currsize": self.currsize,
        })
    }

    /// The sum of several caches' figures (`maxsize`: the first's, as each
    /// process runs the same `lru_cache`).
    pub fn sum<'a>(parts: impl IntoIterator<Item = &'a CacheInfo>) -> Option<CacheInfo> {
        parts.into_iter().fold(None, |acc: Option<CacheInfo>, c| {
            Some(match acc {
                None => *c,
                Some(a) => CacheInfo {
                    hits: a.hits + c.hits,
                    misses: a.misses + c.misses,
                    maxsize: a.maxsize,
                    currsize: a.currsize + c.currsize,
                },
            })
        })
    }
}

impl std::fmt::Display for CacheInfo {
    /// As Python prints `cache_info()`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let max = self
            .maxsize
            .map(|m| m.to_string())
            .unwrap_or_else(|| "None".into());
        write!(
            f,
            "CacheInfo(hits={}, misses={}, maxsize={max}, currsize={})",
            self.hits, self.misses, self.currsize
        )
    }
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
        _cancel: &'a Control,
    ) -> Option<LocalFuture<'a>> {
        None
    }

    /// Combine the outputs, in task order, into the workload's result.
    fn result(&self, outputs: &[Value]) -> Value;

    /// This process's cache counters, for memoised workloads.
    fn cache_info(&self) -> Option<CacheInfo> {
        None
    }
}

/// What a running task may touch: its lane's probe, the GIL, cancellation.
pub struct TaskCtx<'a> {
    /// The lane's probe, for workload events (cache, log).
    pub probe: &'a mut Probe,
    gil: Option<&'a Gil>,
    cancel: &'a Control,
    ticks: u32,
}

impl<'a> TaskCtx<'a> {
    /// A context for one task.
    pub fn new(probe: &'a mut Probe, gil: Option<&'a Gil>, cancel: &'a Control) -> Self {
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
    pub fn io<T>(&mut self, wait: impl FnOnce(&Control) -> T) -> T {
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
    pub fn cancel(&self) -> &Control {
        self.cancel
    }
}

/// Everything needed to build a workload, in this process or a worker process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    /// Which workload (by name in JSON and on the pipe).
    #[serde(rename = "name", with = "by_name")]
    pub desc: &'static Descriptor,
    pub seed: u64,
    pub params: Values,
}

impl WorkloadSpec {
    /// A workload at its defaults.
    pub fn new(desc: &'static Descriptor, seed: u64) -> Self {
        Self {
            desc,
            seed,
            params: Values::defaults(desc.params),
        }
    }

    /// The workload's name.
    pub fn name(&self) -> &'static str {
        self.desc.name
    }

    /// Set one parameter (checked when the run starts): `spec.set("size", 1000)`.
    pub fn set(&mut self, key: &str, v: impl Into<crate::param::Value>) -> &mut Self {
        self.params.set(key, v);
        self
    }
}

/// Check the parameters and build the workload.
pub fn build(spec: &WorkloadSpec) -> Result<Arc<dyn Workload>> {
    spec.params.check(
        spec.desc.params,
        &format!("the {} workload", spec.desc.name),
    )?;
    (spec.desc.build)(&spec.params, spec.seed)
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
    #[test]
    fn every_task_id_is_its_index_as_recordings_assume() {
        for d in REGISTRY {
            let spec = WorkloadSpec::new(d, 42);
            let tasks = build(&spec).expect("builds at its defaults").tasks();
            assert!(!tasks.is_empty(), "{}", d.name);
            for (i, t) in tasks.iter().enumerate() {
                assert_eq!(t.id as usize, i, "{}", d.name);
            }
        }
    }

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
        let cancel = Control::new();
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
