//! Concurrency strategies: how a workload's tasks are run. One file each,
//! named as in the lecture; each owns its workers and joins them all.

pub mod async_loop;
pub mod gil;
pub mod pool;
pub mod process_pool;
pub mod queue;
pub mod rayon_pool;
pub mod sequential;
pub mod threads;

use crate::cancel::{Cancel, Cancelled};
use crate::clock::Clock;
use crate::event::{BatchSink, EventKind, LaneId, Probe, Role, WorkerState};
use crate::workload::{TaskCtx, TaskSpec, Workload};
use gil::Gil;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// The strategies, named as on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    Sequential,
    Threads,
    Pool,
    Processes,
    ProcessPool,
    Rayon,
    Queue,
    Async,
}

impl StrategyKind {
    /// Every strategy, in `parlab list` order.
    pub const ALL: [StrategyKind; 8] = [
        StrategyKind::Sequential,
        StrategyKind::Threads,
        StrategyKind::Pool,
        StrategyKind::Processes,
        StrategyKind::ProcessPool,
        StrategyKind::Rayon,
        StrategyKind::Queue,
        StrategyKind::Async,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Sequential => "sequential",
            StrategyKind::Threads => "threads",
            StrategyKind::Pool => "pool",
            StrategyKind::Processes => "processes",
            StrategyKind::ProcessPool => "process-pool",
            StrategyKind::Rayon => "rayon",
            StrategyKind::Queue => "queue",
            StrategyKind::Async => "async",
        }
    }

    /// One line for `parlab list`.
    pub fn about(self) -> &'static str {
        match self {
            StrategyKind::Sequential => "one task after another on one thread",
            StrategyKind::Threads => {
                "one OS thread per task, like threading.Thread(...).start()/join()"
            }
            StrategyKind::Pool => {
                "N threads pulling tasks, like concurrent.futures.ThreadPoolExecutor"
            }
            StrategyKind::Processes => "one child process per task, like multiprocessing.Process",
            StrategyKind::ProcessPool => "N long-lived child processes, like ProcessPoolExecutor",
            StrategyKind::Rayon => "work stealing over N threads, like joblib.Parallel",
            StrategyKind::Queue => {
                "producers and consumers around a bounded queue, like queue.Queue"
            }
            StrategyKind::Async => "one thread, one event loop, tasks interleaved, like asyncio",
        }
    }

    /// Whether the strategy runs tasks in worker processes.
    pub fn uses_processes(self) -> bool {
        matches!(self, StrategyKind::Processes | StrategyKind::ProcessPool)
    }

    /// Whether `--workers` means anything to it.
    pub fn takes_workers(self) -> bool {
        !matches!(self, StrategyKind::Sequential | StrategyKind::Async)
    }

    /// Whether a simulated GIL applies (thread-based strategies in one process).
    pub fn gil_applies(self) -> bool {
        matches!(
            self,
            StrategyKind::Threads | StrategyKind::Pool | StrategyKind::Rayon | StrategyKind::Queue
        )
    }
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

/// The queue strategy's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueParams {
    /// Producer threads.
    pub producers: u32,
    /// Consumer threads; `None`: `--workers`, else the logical cores.
    pub consumers: Option<u32>,
    /// The queue's bound.
    pub capacity: u32,
    /// Items per second, all producers together; `None`: as fast as they can.
    pub rate: Option<f64>,
    /// `fifo`, `lifo` or `priority`.
    pub discipline: queue::Discipline,
    /// Producers fill the queue before any consumer starts.
    pub prefill: bool,
}

impl Default for QueueParams {
    fn default() -> Self {
        Self {
            producers: 1,
            consumers: None,
            capacity: 8,
            rate: None,
            discipline: queue::Discipline::Fifo,
            prefill: false,
        }
    }
}

/// Everything a strategy may touch while it runs.
pub struct RunCtx {
    pub workload: Arc<dyn Workload>,
    pub tasks: Vec<TaskSpec>,
    pub strategy: StrategyKind,
    /// Worker count in force (threads, processes, consumers).
    pub workers: u32,
    pub clock: Clock,
    pub sink: Arc<dyn BatchSink>,
    pub events: bool,
    pub cancel: Cancel,
    pub gil: Option<Gil>,
    pub on_error: OnError,
    pub queue: QueueParams,
    pub queue_control: Arc<queue::Control>,
    /// The parlab binary, started as a worker process.
    pub worker_exe: PathBuf,
    /// The workload's spec, to hand to worker processes (JSON).
    pub workload_json: String,
    outputs: Mutex<Vec<Option<Value>>>,
    failures: Mutex<Vec<Failure>>,
    reports: Mutex<Reports>,
    next_lane: AtomicU32,
    /// With `--duration`: when to stop starting rounds (on the run's clock).
    deadline: Option<u64>,
    rounds: AtomicU32,
}

/// What strategies report beside task outputs.
#[derive(Default)]
pub struct Reports {
    /// Per worker process: (pid, cache counters).
    pub process_caches: Vec<(u32, crate::workload::CacheInfo)>,
    /// The queue's own figures.
    pub queue: Option<queue::QueueReport>,
}

/// The parts of a [`RunCtx`] chosen by the engine.
pub struct RunSetup {
    pub workload: Arc<dyn Workload>,
    pub strategy: StrategyKind,
    pub workers: u32,
    pub clock: Clock,
    pub sink: Arc<dyn BatchSink>,
    pub events: bool,
    pub cancel: Cancel,
    pub gil_on: bool,
    pub switch_interval_ns: u64,
    pub on_error: OnError,
    pub queue: QueueParams,
    pub worker_exe: PathBuf,
    pub workload_json: String,
    /// Repeat the task list until this much time has passed.
    pub duration_ns: Option<u64>,
}

impl RunCtx {
    /// Assemble the context of one run.
    pub fn new(s: RunSetup) -> Self {
        let tasks = s.workload.tasks();
        let gil = (s.gil_on && s.strategy.gil_applies())
            .then(|| Gil::new(std::time::Duration::from_nanos(s.switch_interval_ns)));
        let consumers = s.queue.consumers.unwrap_or(s.workers);
        Self {
            outputs: Mutex::new(vec![None; tasks.len()]),
            tasks,
            workload: s.workload,
            strategy: s.strategy,
            workers: s.workers,
            clock: s.clock,
            sink: s.sink,
            events: s.events,
            cancel: s.cancel,
            gil,
            on_error: s.on_error,
            queue_control: Arc::new(queue::Control::new(s.queue.rate, consumers)),
            queue: s.queue,
            worker_exe: s.worker_exe,
            workload_json: s.workload_json,
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
        Probe::new(lane, self.clock, self.sink.clone(), self.events)
    }

    /// `n` consecutive lane ids, the first returned.
    pub fn new_lanes(&self, n: u32) -> LaneId {
        self.next_lane.fetch_add(n, Ordering::Relaxed)
    }

    /// A lane's probe, announced: the first thing a worker does. The lane id
    /// is taken by the creator, so lanes list in the order workers were started.
    pub fn worker_probe(&self, lane: LaneId, name: &str, role: Role, spawned_at: u64) -> Probe {
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
            self.cancel.cancel();
        }
    }

    /// Strategy reports, to add to.
    pub fn reports(&self) -> std::sync::MutexGuard<'_, Reports> {
        lock(&self.reports)
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
            self.deadline.is_some_and(|d| self.clock.now() < d) && !self.cancel.is_cancelled();
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
        if self.cancel.is_paused() {
            probe.flush();
            self.cancel.wait_while_paused();
        }
        if self.cancel.is_cancelled() {
            return;
        }
        probe.record(EventKind::TaskStart { task: task.id });
        match &self.gil {
            Some(gil) => gil.take(probe),
            None => probe.state(WorkerState::Running),
        }
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            crate::fault::maybe_panic_in_task(&task.name);
            let mut tctx = TaskCtx::new(probe, self.gil.as_ref(), &self.cancel);
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
    match ctx.strategy {
        StrategyKind::Sequential => sequential::run(ctx),
        StrategyKind::Threads => threads::run(ctx),
        StrategyKind::Pool => pool::run(ctx),
        StrategyKind::Rayon => rayon_pool::run(ctx),
        StrategyKind::Processes | StrategyKind::ProcessPool => process_pool::run(ctx),
        StrategyKind::Queue => queue::run(ctx),
        StrategyKind::Async => async_loop::run(ctx),
    }
}
