//! A run: (workload, strategy, workers, parameters), started on background
//! threads, cancellable at any moment, ending with an [`Outcome`].

use crate::cancel::Cancel;
use crate::clock::Clock;
use crate::event::{Batch, BatchSink, ChannelSink, NullSink};
use crate::strategy::{self, Failure, OnError, QueueParams, RunCtx, RunSetup, StrategyKind};
use crate::workload::{self, CacheInfo, TaskSpec, WorkloadSpec};
use crate::UserError;
use anyhow::Result;
use crossbeam_channel::Receiver;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The most workers (threads, processes, consumers) a run may start.
pub const MAX_WORKERS: u32 = 1024;

/// Everything that defines a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    pub workload: WorkloadSpec,
    pub strategy: StrategyKind,
    /// `None`: the strategy's default.
    pub workers: Option<u32>,
    pub gil: bool,
    pub switch_interval_ms: f64,
    pub queue: QueueParams,
    pub on_error: OnError,
    /// Record events (`--no-events` turns them off to measure their cost).
    pub events: bool,
    /// The executable started as a worker process; `None`: this one.
    pub worker_exe: Option<PathBuf>,
    /// Repeat the workload for this long (a soak); `None`: once.
    pub duration_secs: Option<f64>,
}

/// The machine's logical cores.
pub fn logical_cores() -> u32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1)
}

impl RunSpec {
    /// The worker count that will actually run.
    pub fn effective_workers(&self, tasks: usize) -> u32 {
        let tasks = tasks.max(1) as u32;
        match self.strategy {
            StrategyKind::Sequential | StrategyKind::Async => 1,
            StrategyKind::Threads | StrategyKind::Processes => {
                self.workers.unwrap_or(tasks).min(tasks)
            }
            StrategyKind::Queue => self
                .queue
                .consumers
                .or(self.workers)
                .unwrap_or_else(logical_cores),
            _ => self.workers.unwrap_or_else(logical_cores),
        }
    }

    fn check(&self, needs_shared_memory: bool) -> Result<()> {
        if let Some(w) = self.workers {
            if w == 0 || w > MAX_WORKERS {
                return Err(UserError::new(format!(
                    "invalid value '{w}' for --workers: must be 1..={MAX_WORKERS}"
                ))
                .into());
            }
        }
        if needs_shared_memory && self.strategy.uses_processes() {
            let ok: Vec<&str> = StrategyKind::ALL
                .iter()
                .filter(|s| !s.uses_processes())
                .map(|s| s.name())
                .collect();
            return Err(UserError::new(format!(
                "the {} workload needs shared memory, which processes do not have: use one of {}",
                self.workload.kind.name(),
                ok.join(", ")
            ))
            .into());
        }
        if let Some(d) = self
            .duration_secs
            .filter(|d| !(d.is_finite() && *d > 0.0 && *d <= 86_400.0))
        {
            return Err(UserError::new(format!(
                "invalid value '{d}' for --duration: must be above 0 and at most 86400 seconds"
            ))
            .into());
        }
        if !(self.switch_interval_ms > 0.0 && self.switch_interval_ms <= 10_000.0) {
            return Err(UserError::new(format!(
                "invalid value '{}' for --switch-interval-ms: must be above 0 and at most 10000",
                self.switch_interval_ms
            ))
            .into());
        }
        let q = &self.queue;
        if self.strategy == StrategyKind::Queue {
            if q.capacity == 0 || q.capacity > 1_000_000 {
                return Err(UserError::new(format!(
                    "invalid value '{}' for --capacity: must be 1..=1000000",
                    q.capacity
                ))
                .into());
            }
            if q.producers == 0 || q.producers > MAX_WORKERS {
                return Err(UserError::new(format!(
                    "invalid value '{}' for --producers: must be 1..={MAX_WORKERS}",
                    q.producers
                ))
                .into());
            }
            if let Some(c) = q.consumers.filter(|&c| c == 0 || c > MAX_WORKERS) {
                return Err(UserError::new(format!(
                    "invalid value '{c}' for --consumers: must be 1..={MAX_WORKERS}"
                ))
                .into());
            }
            if let Some(r) = q.rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
                return Err(UserError::new(format!(
                    "invalid value '{r}' for --rate: must be a positive number of items per second"
                ))
                .into());
            }
        }
        Ok(())
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The workload's result, when every task completed.
    pub result: Option<Value>,
    /// From the first task's dispatch to the last worker joined.
    pub wall_ns: u64,
    /// The end of the run on its clock.
    pub end_ns: u64,
    pub failures: Vec<Failure>,
    pub cancelled: bool,
    /// Events put on the channel (received is counted by whoever drains it).
    pub events_sent: u64,
    /// Events dropped because the viewer fell a whole backlog behind (0 when it keeps up).
    pub events_dropped: u64,
    /// The cache: this process's, or one per worker process.
    pub cache: Option<CacheReport>,
    pub gil_switches: Option<u64>,
    pub queue: Option<strategy::queue::QueueReport>,
    /// Rounds of the task list (more than 1 only with a duration).
    pub rounds: u32,
}

/// Cache totals, and each process's own where each has one.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheReport {
    pub total: CacheInfo,
    pub per_process: Option<Vec<(u32, CacheInfo)>>,
}

/// What is known of a run as it starts.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub spec: RunSpec,
    pub tasks: Vec<TaskSpec>,
    pub workers: u32,
    pub clock: Clock,
    pub started: std::time::SystemTime,
}

/// A run under way.
pub struct Run {
    /// Event batches from every worker; disconnects when the run has ended.
    pub events: Receiver<Batch>,
    pub info: RunInfo,
    cancel: Cancel,
    control: Arc<strategy::queue::Control>,
    driver: JoinHandle<Result<Outcome>>,
}

impl Run {
    /// Stop the run: every worker stops at its next check and is joined.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Pause or resume the run itself: workers hold at their next check point.
    pub fn set_paused(&self, paused: bool) {
        self.cancel.set_paused(paused);
    }

    /// Whether the run is paused.
    pub fn is_paused(&self) -> bool {
        self.cancel.is_paused()
    }

    /// Whether every worker has finished.
    pub fn is_finished(&self) -> bool {
        self.driver.is_finished()
    }

    /// The queue's live controls.
    pub fn queue_control(&self) -> &strategy::queue::Control {
        &self.control
    }

    /// Wait for the end.
    pub fn join(self) -> Result<Outcome> {
        match self.driver.join() {
            Ok(outcome) => outcome,
            Err(panic) => anyhow::bail!(
                "the run's driver panicked: {}",
                strategy::panic_message(&panic)
            ),
        }
    }
}

/// Start a run on background threads.
pub fn start(spec: RunSpec) -> Result<Run> {
    let workload = workload::build(&spec.workload)?;
    spec.check(workload.needs_shared_memory())?;
    let tasks = workload.tasks();
    let workers = spec.effective_workers(tasks.len());
    if matches!(
        spec.strategy,
        StrategyKind::Threads | StrategyKind::Processes
    ) && tasks.len() > MAX_WORKERS as usize
    {
        return Err(UserError::new(format!(
            "the {} strategy starts one {} per task: {} tasks is over the limit of {MAX_WORKERS}; use a pool, or fewer --tasks",
            spec.strategy.name(),
            if spec.strategy == StrategyKind::Threads { "thread" } else { "process" },
            tasks.len()
        ))
        .into());
    }
    if spec.strategy == StrategyKind::Queue
        && spec.queue.prefill
        && spec.queue.capacity < tasks.len() as u32
    {
        return Err(UserError::new(format!(
            "--prefill needs --capacity of at least the number of tasks ({}); got {}",
            tasks.len(),
            spec.queue.capacity
        ))
        .into());
    }
    let worker_exe = match &spec.worker_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe()?,
    };
    let (tx, rx) = crossbeam_channel::unbounded();
    let sent = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let sink: Arc<dyn BatchSink> = if spec.events {
        Arc::new(ChannelSink::bounded(
            tx,
            sent.clone(),
            dropped.clone(),
            crate::event::MAX_BACKLOG_BATCHES,
        ))
    } else {
        Arc::new(NullSink)
    };
    let cancel = Cancel::new();
    let clock = Clock::start();
    let started = std::time::SystemTime::now();
    let mut queue = spec.queue.clone();
    queue.consumers = Some(workers);
    let ctx = Arc::new(RunCtx::new(RunSetup {
        workload,
        strategy: spec.strategy,
        workers,
        clock,
        sink,
        events: spec.events,
        cancel: cancel.clone(),
        gil_on: spec.gil,
        switch_interval_ns: (spec.switch_interval_ms * 1e6) as u64,
        on_error: spec.on_error,
        queue,
        worker_exe,
        workload_json: serde_json::to_string(&spec.workload)?,
        duration_ns: spec.duration_secs.map(|s| (s * 1e9) as u64),
    }));
    let driver_ctx = ctx.clone();
    let driver = std::thread::Builder::new()
        .name("parlab-driver".into())
        .spawn(move || drive(driver_ctx, sent, dropped))?;
    Ok(Run {
        events: rx,
        info: RunInfo {
            spec,
            tasks,
            workers,
            clock,
            started,
        },
        cancel,
        control: ctx.queue_control.clone(),
        driver,
    })
}

fn drive(ctx: Arc<RunCtx>, sent: Arc<AtomicU64>, dropped: Arc<AtomicU64>) -> Result<Outcome> {
    let t0 = ctx.clock.now();
    let ran = strategy::run(&ctx);
    let end_ns = ctx.clock.now();
    let wall_ns = end_ns - t0;
    ran?;
    let cancelled = ctx.cancel.is_cancelled();
    let failures = ctx.failures();
    let result = if failures.is_empty() {
        ctx.outputs().map(|o| ctx.workload.result(&o))
    } else {
        None
    };
    let reports = std::mem::take(&mut *ctx.reports());
    let cache = if ctx.strategy.uses_processes() {
        (!reports.process_caches.is_empty()).then(|| {
            let per: Vec<(u32, CacheInfo)> = reports.process_caches.clone();
            let total = per.iter().fold(
                CacheInfo {
                    maxsize: per[0].1.maxsize,
                    ..Default::default()
                },
                |acc, (_, c)| CacheInfo {
                    hits: acc.hits + c.hits,
                    misses: acc.misses + c.misses,
                    maxsize: acc.maxsize,
                    currsize: acc.currsize + c.currsize,
                },
            );
            CacheReport {
                total,
                per_process: Some(per),
            }
        })
    } else {
        ctx.workload.cache_info().map(|total| CacheReport {
            total,
            per_process: None,
        })
    };
    Ok(Outcome {
        result: if cancelled && failures.is_empty() {
            None
        } else {
            result
        },
        wall_ns,
        end_ns,
        failures,
        cancelled,
        events_sent: sent.load(Ordering::Relaxed),
        events_dropped: dropped.load(Ordering::Relaxed),
        cache,
        gil_switches: ctx.gil.as_ref().map(|g| g.switches()),
        queue: reports.queue,
        rounds: ctx.rounds(),
    })
}
