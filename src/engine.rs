//! The native engine: a run of (workload, strategy, workers, parameters)
//! started on background threads, cancellable at any moment, ending with an
//! [`Outcome`]. It is one [`Source`] of a run's events among others.

use crate::clock::Clock;
use crate::control::Control;
use crate::event::{BatchSink, ChannelSink, NullSink};
use crate::source::{Meta, Outcome};
use crate::strategy::{self, Extension, Launch, RunCtx, Setup, StrategySpec};
use crate::workload::{self, CacheInfo};
use anyhow::Result;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Kept here too: the engine's public face (tests, benches) names them so.
pub use crate::plan::{RunSpec, DURATION, MAX_WORKERS, SWITCH_INTERVAL_MS, WORKERS};

/// A native run under way.
pub type Run = crate::source::Driven;

/// Start a run on background threads. Returns as soon as the driver thread
/// is up: workers are started by the driver, never by the caller, so a UI
/// that starts 1024 threads keeps drawing.
pub fn start(spec: RunSpec) -> Result<Run> {
    spec.validate()?;
    let workload = workload::build(&spec.workload)?;
    let tasks = workload.tasks();
    spec.validate_tasks(tasks.len())?;
    let workers = spec.effective_workers(tasks.len());
    let exe = match &spec.worker_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe()?,
    };
    let (tx, rx) = crate::inbox::channel();
    let sent = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let sink: Arc<dyn BatchSink> = if spec.record_events {
        Arc::new(ChannelSink::bounded(
            tx,
            sent.clone(),
            dropped.clone(),
            crate::event::MAX_BACKLOG_BATCHES,
        ))
    } else {
        Arc::new(NullSink)
    };
    let params = spec.resolved_params(workers);
    let control = Control::with_knobs(
        spec.strategy
            .desc
            .knobs
            .iter()
            .map(|k| (k, params.opt_float(k.key).unwrap_or(0.0))),
    );
    let clock = Clock::start();
    let meta = Meta::native(&spec, workload.as_ref(), tasks, workers, clock);
    let ctx = Arc::new(RunCtx::new(Setup {
        workload,
        strategy: StrategySpec {
            desc: spec.strategy.desc,
            params,
        },
        workers,
        clock,
        sink,
        record_events: spec.record_events,
        control: control.clone(),
        gil: spec
            .gil
            .then(|| std::time::Duration::from_secs_f64(spec.switch_interval_ms / 1e3)),
        on_error: spec.on_error,
        launch: Launch {
            exe,
            workload: spec.workload.clone(),
        },
        duration_ns: spec.duration_secs.map(|s| (s * 1e9) as u64),
    }));
    let driver = std::thread::Builder::new()
        .name("parlab-driver".into())
        .spawn(move || drive(ctx, sent, dropped))?;
    Ok(Run {
        events: rx,
        meta,
        control,
        driver,
    })
}

fn drive(ctx: Arc<RunCtx>, sent: Arc<AtomicU64>, dropped: Arc<AtomicU64>) -> Result<Outcome> {
    // Lowered before it starts any worker, so each is born below the UI.
    crate::priority::lower_this_thread();
    crate::runqueue::reserve_files(ctx.workers);
    let t0 = ctx.clock.now();
    let ran = strategy::run(&ctx);
    let end_ns = ctx.clock.now();
    ran?;
    let cancelled = ctx.control.is_cancelled();
    let failures = ctx.failures();
    let result = match (failures.is_empty(), cancelled) {
        (true, false) => ctx.outputs().map(|o| ctx.workload.result(&o)),
        _ => None,
    };
    let reports = std::mem::take(&mut *ctx.reports());
    let mut extensions = reports.extensions;
    if let Some(gil) = &ctx.gil {
        extensions.push(gil_extension(gil.switches(), end_ns - t0, &ctx));
    }
    if let Some(cache) = cache_extension(&ctx, &reports.process_caches) {
        extensions.push(cache);
    }
    Ok(Outcome {
        result,
        wall_ns: end_ns - t0,
        end_ns,
        failures,
        cancelled,
        events_sent: sent.load(Ordering::Relaxed),
        events_dropped: dropped.load(Ordering::Relaxed),
        machine: None,
        extensions,
        rounds: ctx.rounds(),
        truncated: false,
    })
}

/// The simulated GIL's figures.
fn gil_extension(switches: u64, wall_ns: u64, ctx: &RunCtx) -> Extension {
    let interval_ms = ctx
        .gil
        .as_ref()
        .map(|g| g.interval().as_nanos() as f64 / 1e6)
        .unwrap_or(0.0);
    let per_s = switches as f64 / (wall_ns.max(1) as f64 / 1e9);
    Extension {
        key: crate::strategy::Figures::Gil.key().into(),
        json: json!({
            "method": crate::source::GilMethod::Model.name(),
            "switches": switches,
            "switches_per_s": (per_s * 10.0).round() / 10.0,
            "switch_interval_ms": interval_ms,
        }),
        summary: vec![
            "the model: parlab's simulated GIL".into(),
            format!("{switches} hand-offs, switch interval {interval_ms} ms"),
        ],
    }
}

/// The cache: this process's, or the sum of each worker process's own.
fn cache_extension(ctx: &RunCtx, per_process: &[(u32, CacheInfo)]) -> Option<Extension> {
    if !ctx.strategy.processes {
        return Some(crate::strategy::cache_figures(
            ctx.workload.cache_info()?,
            true,
            None,
        ));
    }
    let total = CacheInfo::sum(per_process.iter().map(|(_, c)| c))?;
    let parts = per_process
        .iter()
        .map(|(pid, c)| {
            let mut o = c.to_json();
            o["pid"] = json!(pid);
            let line = format!(
                "pid {pid}: hits={}, misses={}, currsize={}",
                c.hits, c.misses, c.currsize
            );
            (o, line)
        })
        .collect();
    Some(crate::strategy::cache_figures(
        total,
        true,
        Some(("per_process", parts)),
    ))
}
