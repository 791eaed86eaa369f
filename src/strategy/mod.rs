//! Concurrency strategies: how a workload's tasks are run. One file each,
//! named as in the lecture; each owns its workers and joins them all.

pub mod async_loop;
pub mod pool;
pub mod process_pool;
pub mod queue;
pub mod rayon_pool;
pub mod sequential;
pub mod threads;

use crate::clock::Clock;
use crate::control::{Cancelled, Control, Knob};
use crate::event::{BatchSink, EventKind, LaneId, Probe, Role, WorkerState};
use crate::param::{Param, Values};
use crate::simulated_gil::Gil;
use crate::workload::{CacheInfo, TaskCtx, TaskSpec, Workload, WorkloadSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// A strategy's one description: what the command line, the config file,
/// the Settings form, the engine and the help know of it. Adding a strategy
/// is its file (with its `DESCRIPTOR`) and one line in [`REGISTRY`].
pub struct Descriptor {
    /// The name on the command line; its parameters' `[section]` in the config file.
    pub name: &'static str,
    /// One line for `parlab list`.
    pub about: &'static str,
    /// Its own parameters (the queue's producers, capacity, ...).
    pub params: &'static [Param],
    /// How many workers it runs.
    pub workers: Workers,
    /// It runs tasks in worker processes.
    pub processes: bool,
    /// A simulated GIL applies (its threads share one interpreter).
    pub gil: bool,
    /// What the user can turn while it runs.
    pub knobs: &'static [Knob],
    /// The parameter that bounds its queue, where it has one (for the Queue panel).
    pub bound: Option<&'static str>,
    /// Checks across its parameters and the task count, once the tasks are known.
    pub check: fn(&Values, usize) -> Result<(), String>,
    /// Run to the end (every worker joined).
    pub run: fn(&Arc<RunCtx>) -> anyhow::Result<()>,
}

/// How many workers a strategy runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workers {
    /// Always one (sequential, the event loop): `--workers` does not apply.
    One,
    /// One per task, at most `--workers` at once; the word is what each is.
    PerTask(&'static str),
    /// `--workers`, else the logical cores.
    Pool,
    /// This parameter, else `--workers`, else the logical cores.
    Param(&'static str),
}

/// The most workers (threads, processes, consumers) a run may start.
pub const MAX_WORKERS: u32 = 1024;

crate::named_registry!(Descriptor, REGISTRY, "strategy");

impl Descriptor {
    /// Whether `--workers` means anything to it.
    pub fn takes_workers(&self) -> bool {
        self.workers != Workers::One
    }

    /// The worker count that will run: resolved here, once.
    pub fn workers_for(&self, params: &Values, workers: Option<u32>, tasks: usize) -> u32 {
        let tasks = tasks.max(1) as u32;
        let cores = crate::sampler::logical_cores;
        match self.workers {
            Workers::One => 1,
            Workers::PerTask(_) => workers.unwrap_or(tasks).min(tasks),
            Workers::Pool => workers.unwrap_or_else(cores),
            Workers::Param(key) => params
                .opt_int(key)
                .map(|n| n as u32)
                .or(workers)
                .unwrap_or_else(cores),
        }
    }

    /// The parameter with this key.
    pub fn param(&self, key: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.key == key)
    }
}

/// Every strategy, in `parlab list` order: the one place that names them all.
pub const REGISTRY: &[&Descriptor] = &[
    &sequential::DESCRIPTOR,
    &threads::DESCRIPTOR,
    &pool::DESCRIPTOR,
    &process_pool::PROCESSES,
    &process_pool::DESCRIPTOR,
    &rayon_pool::DESCRIPTOR,
    &queue::DESCRIPTOR,
    &async_loop::DESCRIPTOR,
];

/// The names of the strategies that `keep` says yes to, in registry order
/// (a user error's list of valid ones).
pub fn names_where(keep: impl Fn(&Descriptor) -> bool) -> Vec<&'static str> {
    REGISTRY
        .iter()
        .filter(|s| keep(s))
        .map(|s| s.name)
        .collect()
}

/// The strategy a run uses when nothing says otherwise: a thread pool.
pub fn default() -> &'static Descriptor {
    &pool::DESCRIPTOR
}

/// The strategy every speedup is measured against: one task after another.
pub fn baseline() -> &'static Descriptor {
    &sequential::DESCRIPTOR
}

/// A strategy and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategySpec {
    /// Which strategy (by name in a recording).
    #[serde(rename = "name", with = "by_name")]
    pub desc: &'static Descriptor,
    pub params: Values,
}

impl StrategySpec {
    /// A strategy at its defaults.
    pub fn new(desc: &'static Descriptor) -> Self {
        Self {
            desc,
            params: Values::defaults(desc.params),
        }
    }

    /// The strategy's name.
    pub fn name(&self) -> &'static str {
        self.desc.name
    }

    /// Set one parameter (checked when the run starts).
    pub fn set(&mut self, key: &str, v: impl Into<crate::param::Value>) -> &mut Self {
        self.params.set(key, v);
        self
    }
}

/// No checks beyond each parameter's own.
pub fn no_check(_: &Values, _: usize) -> Result<(), String> {
    Ok(())
}

/// What failed in a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The lane's name (`worker-2`).
    pub lane: String,
    /// The process the lane ran in.
    pub pid: u32,
    /// The task's name, when a task was running.
    pub task: Option<String>,
    /// Why.
    pub reason: String,
}

/// What to do when a task fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// End the run.
    #[default]
    Stop,
    /// Finish the other tasks.
    Continue,
}

/// A strategy's own figures at the end of a run (the queue's, the GIL's, the
/// cache's): a JSON object under `key` in the report, and lines for the summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    /// [`Figures::key`]: the report's key, kept as a word in recordings.
    pub key: String,
    pub json: Value,
    pub summary: Vec<String>,
}

/// Which figures an extension holds: every key in one place, so a reader
/// and the one place that builds it cannot spell it two ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figures {
    /// The GIL's (simulated, measured or inferred): `gil`.
    Gil,
    /// The queue shown: `queue`.
    Queue,
    /// Every queue a program made: `queues`.
    Queues,
    /// The cache's: `cache`.
    Cache,
    /// The interpreter and the program's processes: `python`.
    Python,
    /// A program's exit status: `exit_code`.
    ExitCode,
    /// A Dask cluster's scheduler, workers and tasks: `dask`.
    Dask,
    /// A program's stacks sampled from outside: `profile`.
    Profile,
}

impl Figures {
    /// The key in the run JSON.
    pub fn key(self) -> &'static str {
        match self {
            Figures::Gil => "gil",
            Figures::Queue => "queue",
            Figures::Queues => "queues",
            Figures::Cache => "cache",
            Figures::Python => "python",
            Figures::ExitCode => "exit_code",
            Figures::Dask => "dask",
            Figures::Profile => "profile",
        }
    }
}

impl Extension {
    /// `figures`' extension.
    pub fn new(figures: Figures, json: Value, summary: Vec<String>) -> Self {
        Self {
            key: figures.key().to_string(),
            json,
            summary,
        }
    }

    /// Whether it holds `figures`.
    pub fn is(&self, figures: Figures) -> bool {
        self.key == figures.key()
    }
}

/// The run's `cache` figures: `total`'s, each part listed under `list`
/// (its JSON and its summary line), the total's own line first where
/// `total_line`. The one place they are built, for native runs and
/// programs alike.
pub fn cache_figures(
    total: crate::workload::CacheInfo,
    total_line: bool,
    list: Option<(&str, Vec<(Value, String)>)>,
) -> Extension {
    let mut json = total.to_json();
    let mut summary: Vec<String> = total_line.then(|| total.to_string()).into_iter().collect();
    if let Some((key, parts)) = list {
        let (items, lines): (Vec<Value>, Vec<String>) = parts.into_iter().unzip();
        json[key] = Value::Array(items);
        summary.extend(lines);
    }
    Extension::new(Figures::Cache, json, summary)
}

/// Everything a strategy may touch while it runs.
pub struct RunCtx {
    pub workload: Arc<dyn Workload>,
    pub tasks: Vec<TaskSpec>,
    pub strategy: &'static Descriptor,
    /// The strategy's own parameters, resolved (its worker parameter included).
    pub params: Values,
    /// Worker count in force (threads, processes, consumers).
    pub workers: u32,
    pub clock: Clock,
    pub sink: Arc<dyn BatchSink>,
    /// Whether probes record (`--no-events` measures what recording costs).
    pub record_events: bool,
    /// Cancel, pause and the strategy's knobs.
    pub control: Control,
    pub gil: Option<Gil>,
    pub on_error: OnError,
    /// Where the workload can be built again (in a worker process).
    pub launch: Launch,
    outputs: Mutex<Vec<Option<Value>>>,
    failures: Mutex<Vec<Failure>>,
    reports: Mutex<Reports>,
    next_lane: AtomicU32,
    /// With `--duration`: when to stop starting rounds (on the run's clock).
    deadline: Option<u64>,
    rounds: AtomicU32,
}

/// What a worker process needs to build the same workload.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The parlab binary, started as `parlab worker`.
    pub exe: PathBuf,
    pub workload: WorkloadSpec,
}

/// What strategies report beside task outputs.
#[derive(Default)]
pub struct Reports {
    /// Per worker process: (pid, cache counters).
    pub process_caches: Vec<(u32, CacheInfo)>,
    /// The strategy's own figures.
    pub extensions: Vec<Extension>,
}

/// The parts of a [`RunCtx`] chosen by whoever starts the run.
pub struct Setup {
    pub workload: Arc<dyn Workload>,
    pub strategy: StrategySpec,
    pub workers: u32,
    pub clock: Clock,
    pub sink: Arc<dyn BatchSink>,
    /// Whether probes record (`--no-events` measures what recording costs).
    pub record_events: bool,
    pub control: Control,
    /// The GIL's switch interval, when a simulated GIL is on.
    pub gil: Option<std::time::Duration>,
    pub on_error: OnError,
    pub launch: Launch,
    /// Repeat the task list until this much time has passed.
    pub duration_ns: Option<u64>,
}

impl RunCtx {
    /// Assemble the context of one run.
    pub fn new(s: Setup) -> Self {
        let tasks = s.workload.tasks();
        let gil = s.gil.filter(|_| s.strategy.desc.gil).map(Gil::new);
        Self {
            outputs: Mutex::new(vec![None; tasks.len()]),
            tasks,
            workload: s.workload,
            strategy: s.strategy.desc,
            params: s.strategy.params,
            workers: s.workers,
            clock: s.clock,
            sink: s.sink,
            record_events: s.record_events,
            control: s.control,
            gil,
            on_error: s.on_error,
            launch: s.launch,
            failures: Mutex::new(Vec::new()),
            reports: Mutex::new(Reports::default()),
            next_lane: AtomicU32::new(0),
            deadline: s.duration_ns.map(|d| s.clock.now() + d),
            rounds: AtomicU32::new(1),
        }
    }

    /// A new lane id.
    pub fn new_lane(&self) -> LaneId {
        self.next_lane.fetch_add(1, Ordering::Relaxed)
    }

    /// A probe for `lane`.
    pub fn probe(&self, lane: LaneId) -> Probe {
        Probe::new(lane, self.clock, self.sink.clone(), self.record_events)
    }

    /// `n` consecutive lane ids, the first returned.
    pub fn new_lanes(&self, n: u32) -> LaneId {
        self.next_lane.fetch_add(n, Ordering::Relaxed)
    }

    /// A lane's probe, announced: the first thing a worker does. The lane id
    /// is taken by the creator, so lanes list in the order workers were started.
    pub fn worker_probe(&self, lane: LaneId, name: &str, role: Role, spawned_at: u64) -> Probe {
        crate::priority::lower_this_thread();
        let mut probe = self.probe(lane);
        probe.announce(name, role, spawned_at);
        probe
    }

    /// Store a task's output.
    pub fn complete(&self, task: u32, output: Value) {
        lock(&self.outputs)[task as usize] = Some(output);
    }

    /// Record a failure; with `on_error = stop`, end the run.
    pub fn fail(&self, failure: Failure) {
        lock(&self.failures).push(failure);
        if self.on_error == OnError::Stop {
            self.control.cancel();
        }
    }

    /// Strategy reports, to add to.
    pub fn reports(&self) -> std::sync::MutexGuard<'_, Reports> {
        lock(&self.reports)
    }

    /// Add the strategy's own figures to the outcome.
    pub fn extend(&self, figures: Figures, json: Value, summary: Vec<String>) {
        self.reports()
            .extensions
            .push(Extension::new(figures, json, summary));
    }

    /// Failures so far.
    pub fn failures(&self) -> Vec<Failure> {
        lock(&self.failures).clone()
    }

    /// Take a task's output, if it completed.
    pub fn take_output(&self, task: u32) -> Option<Value> {
        lock(&self.outputs)[task as usize].take()
    }

    /// Take the failures so far.
    pub fn take_failures(&self) -> Vec<Failure> {
        std::mem::take(&mut *lock(&self.failures))
    }

    /// Every output, if every task completed.
    pub fn outputs(&self) -> Option<Vec<Value>> {
        lock(&self.outputs).iter().cloned().collect()
    }

    /// The tasks grouped by phase, in order: a phase ends before the next
    /// begins. With a duration (`--duration`), round after round until it is
    /// up, so a soak runs the same workload for as long as asked.
    pub fn phases(&self) -> impl Iterator<Item = Vec<TaskSpec>> + '_ {
        let mut round: Vec<Vec<TaskSpec>> = Vec::new();
        let mut sorted = self.tasks.clone();
        sorted.sort_by_key(|t| t.phase);
        for t in sorted {
            match round.last_mut() {
                Some(p) if p[0].phase == t.phase => p.push(t),
                _ => round.push(vec![t]),
            }
        }
        (0usize..).map_while(move |i| {
            let n = round.len();
            if n == 0 || (i > 0 && i % n == 0 && !self.another_round()) {
                return None;
            }
            Some(round[i % n].clone())
        })
    }

    /// Whether to start another round: only with a duration not yet up.
    fn another_round(&self) -> bool {
        let more =
            self.deadline.is_some_and(|d| self.clock.now() < d) && !self.control.is_cancelled();
        if more {
            self.rounds.fetch_add(1, Ordering::Relaxed);
        }
        more
    }

    /// Rounds of the whole task list run so far (1 without a duration).
    pub fn rounds(&self) -> u32 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Run one task on the calling thread's lane: start and end events, the
    /// GIL held while it computes, its output stored, a panic or error
    /// recorded as a failure (the lane shows `failed`).
    pub fn execute(&self, task: &TaskSpec, probe: &mut Probe, lane_name: &str) {
        if self.control.is_paused() {
            probe.flush();
            self.control.wait_while_paused();
        }
        if self.control.is_cancelled() {
            return;
        }
        probe.record(EventKind::TaskStart { task: task.id });
        match &self.gil {
            Some(gil) => gil.take(probe),
            None => probe.state(WorkerState::Running),
        }
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            crate::fault::maybe_panic_in_task(&task.name);
            let mut tctx = TaskCtx::new(probe, self.gil.as_ref(), &self.control);
            self.workload.run(task, &mut tctx)
        }));
        if let Some(gil) = &self.gil {
            probe.state(WorkerState::Idle); // stamped before another thread can take it
            gil.release();
        }
        self.settle(task, result, probe, lane_name);
    }

    /// A task has ended: its end event, its output or its failure.
    pub fn settle(
        &self,
        task: &TaskSpec,
        result: std::thread::Result<anyhow::Result<Value>>,
        probe: &mut Probe,
        lane_name: &str,
    ) {
        let reason = match result {
            Ok(Ok(output)) => {
                probe.record(EventKind::TaskEnd {
                    task: task.id,
                    ok: true,
                });
                self.complete(task.id, output);
                probe.state(WorkerState::Idle);
                return;
            }
            Ok(Err(e)) if e.is::<Cancelled>() => {
                probe.record(EventKind::TaskEnd {
                    task: task.id,
                    ok: false,
                });
                probe.state(WorkerState::Idle);
                return;
            }
            Ok(Err(e)) => format!("{e:#}"),
            Err(panic) => format!("panicked: {}", panic_message(&panic)),
        };
        probe.record(EventKind::TaskEnd {
            task: task.id,
            ok: false,
        });
        probe.log(format!("{} failed: {reason}", task.name));
        probe.state(WorkerState::Failed);
        probe.flush();
        self.fail(Failure {
            lane: lane_name.to_string(),
            pid: std::process::id(),
            task: Some(task.name.clone()),
            reason,
        });
    }
}

/// A panic's message, as the default hook would print it.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// A panicking worker thread is a failed task, reported once as such; its
/// message must not scribble over a TUI (nor restore the terminal under a
/// TUI still running). A panic anywhere else goes to the hook installed
/// before (ratatui's restores the terminal first, then prints).
pub fn silence_worker_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let name = std::thread::current()
            .name()
            .map(str::to_string)
            .unwrap_or_default();
        let worker = [
            "worker-",
            "Thread-",
            "consumer-",
            "producer-",
            "parlab-driver",
        ]
        .iter()
        .any(|p| name.starts_with(p));
        if !worker {
            previous(info);
        }
    }));
}

/// Lock a mutex, even one a panicking worker left poisoned: the data is plain counters.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Spawn a named worker thread.
pub fn spawn_named<F, T>(name: String, f: F) -> std::io::Result<std::thread::JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::Builder::new().name(name).spawn(f)
}

/// Run the strategy to the end (every worker joined).
pub fn run(ctx: &Arc<RunCtx>) -> anyhow::Result<()> {
    (ctx.strategy.run)(ctx)
}
