//! `parlab bench`: measure the lab itself on the machine at hand, and the
//! lesson's figures beside CPython's own when `python3` is present.
//!
//! Each section is a median of repeated runs; `--quick` makes every section
//! small, to prove the benchmarks work (CI), not to gate on their timings.

use crate::clock::ms;
use crate::config::Config;
use crate::event::{BatchSink, ChannelSink, Event, EventKind, Probe, Role, WorkerState};
use crate::headless::{self, Finished};
use crate::ipc::{read_frame, write_frame, FromWorker};
use crate::model::Lab;
use crate::plan::RunSpec;
use anyhow::Result;
use serde_json::{json, Value};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

mod dask;
mod gil;
mod profile;
mod python;
mod recording;
mod table;

pub use python::{verdict, CONFIDENCE};
pub use table::table;

/// The bundled CPython script (same Collatz, threading and ProcessPoolExecutor).
pub const GIL_SCRIPT: &str = include_str!("../../assets/gil_bench.py");

/// How big the measurements are.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub quick: bool,
}

impl Scale {
    fn repeats(&self) -> usize {
        if self.quick {
            1
        } else {
            3
        }
    }
    fn collatz_size(&self) -> u64 {
        if self.quick {
            400_000
        } else {
            12_000_000
        }
    }
    fn python_size(&self) -> u64 {
        if self.quick {
            20_000
        } else {
            600_000
        }
    }
    fn events(&self) -> u64 {
        if self.quick {
            200_000
        } else {
            10_000_000
        }
    }
}

/// The smallest and the largest: a figure's spread.
pub(crate) fn min_max(v: &[f64]) -> [f64; 2] {
    [
        v.iter().copied().fold(f64::INFINITY, f64::min),
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    ]
}

/// A program's `python` figures under `key` (a CPU time in ms) as a share of
/// its wall time, in % of one core.
pub(crate) fn percent_of_one_core(f: &crate::headless::Finished, key: &str) -> f64 {
    let py = f.outcome.extension(crate::strategy::Figures::Python);
    let ms = py.and_then(|p| p[key].as_f64()).unwrap_or(0.0);
    100.0 * ms / crate::clock::ms(f.outcome.wall_ns).max(1e-9)
}

pub(crate) fn median(v: Vec<f64>) -> f64 {
    crate::repeat::median(&v)
}

/// A benchmark's run: one workload and one strategy, by name, at their defaults.
pub(crate) fn spec(workload: &str, strategy: &str, workers: Option<u32>) -> RunSpec {
    let config = Config::default();
    let w = crate::workload::find(workload).expect("a registered workload");
    let s = crate::strategy::find(strategy).expect("a registered strategy");
    RunSpec {
        workload: config.workload(w),
        strategy: config.strategy(s),
        workers,
        ..RunSpec::new(w, s)
    }
}

fn run(spec: &RunSpec) -> Result<Finished> {
    let f = headless::run(spec.clone())?;
    if let Some(x) = f.outcome.failures.first() {
        anyhow::bail!("benchmark run failed: {} {}", x.lane, x.reason);
    }
    Ok(f)
}

fn wall(spec: &RunSpec, scale: Scale) -> Result<f64> {
    let mut v = Vec::new();
    for _ in 0..scale.repeats() {
        v.push(ms(run(spec)?.outcome.wall_ns));
    }
    Ok(median(v))
}

/// Spawn-to-first-event of threads and of processes.
fn start_cost(scale: Scale) -> Result<Value> {
    let mut out = json!({});
    // Pools start their workers before any task, so nothing competes with the start.
    for (key, strategy) in [("thread_ms", "pool"), ("process_ms", "process-pool")] {
        let mut s = spec("collatz", strategy, Some(2));
        s.workload.set("size", 1_000);
        s.workload.set("tasks", 2);
        let mut spawns = Vec::new();
        for _ in 0..scale.repeats() * 5 {
            spawns.extend(run(&s)?.lab.lanes.iter().filter_map(|l| l.spawn_ns).map(ms));
        }
        out[key] = json!(median(spawns));
    }
    out["ratio"] = json!(
        out["process_ms"].as_f64().unwrap_or(0.0)
            / out["thread_ms"].as_f64().unwrap_or(1.0).max(1e-9)
    );
    Ok(out)
}

/// CPU-bound Collatz at 2 workers against 1, for every CPU strategy.
fn speedups(scale: Scale) -> Result<Value> {
    let size = scale.collatz_size();
    let with = |strategy, workers, gil: bool| {
        let mut s = spec("collatz", strategy, workers);
        s.workload.set("size", size);
        s.workload.set("tasks", 64);
        s.gil = gil;
        s
    };
    let one = wall(&with("sequential", None, false), scale)?;
    let mut out = json!({ "size": size, "sequential_ms": one });
    for (name, strategy, gil) in [
        ("threads", "threads", false),
        ("pool", "pool", false),
        ("rayon", "rayon", false),
        ("processes", "processes", false),
        ("process_pool", "process-pool", false),
        ("pool_gil", "pool", true),
        ("threads_gil", "threads", true),
    ] {
        out[name] = json!(one / wall(&with(strategy, Some(2), gil), scale)?);
    }
    Ok(out)
}

/// CPython on the same machine, when `python3` is present.
fn cpython(scale: Scale) -> Option<Value> {
    let dir = std::env::temp_dir().join(format!("parlab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let script = dir.join("gil_bench.py");
    std::fs::write(&script, GIL_SCRIPT).ok()?;
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(scale.python_size().to_string())
        .arg("16")
        .output()
        .ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// Native speed: parlab's single-thread Collatz against CPython's, same size.
fn native_ratio(scale: Scale, py: &Value) -> Result<f64> {
    let mut s = spec("collatz", "sequential", None);
    s.workload.set("size", scale.python_size());
    s.workload.set("tasks", 16);
    let f = run(&s)?;
    let py_sum = py["sum_len"].as_u64().unwrap_or(0);
    anyhow::ensure!(
        f.outcome
            .result
            .as_ref()
            .and_then(|r| r["sum_len"].as_u64())
            == Some(py_sum),
        "CPython and parlab disagree on sum_len"
    );
    Ok(py["one_thread_s"].as_f64().unwrap_or(0.0) * 1e3 / ms(f.outcome.wall_ns).max(1e-9))
}

fn sample_batch(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| Event {
            t: i as u64 * 1000,
            lane: 3,
            kind: match i % 4 {
                0 => EventKind::TaskStart { task: i as u32 },
                1 => EventKind::State(WorkerState::Running),
                2 => EventKind::Cache {
                    op: crate::event::CacheOp::Hit,
                    currsize: 64,
                },
                _ => EventKind::TaskEnd {
                    task: i as u32,
                    ok: true,
                },
            },
        })
        .collect()
}

/// The pipe between parlab and a worker: postcard frames against JSON lines.
fn ipc_formats(scale: Scale) -> Result<Value> {
    let batch = FromWorker::Events(sample_batch(256));
    let batches = (scale.events() / 256).max(10) as usize;
    let t = Instant::now();
    let mut buf = Vec::new();
    for _ in 0..batches {
        write_frame(&mut buf, &batch)?;
    }
    let mut r = buf.as_slice();
    let mut n = 0;
    while let Some(FromWorker::Events(b)) = read_frame::<_, FromWorker>(&mut r)? {
        n += b.len();
    }
    let postcard = n as f64 / t.elapsed().as_secs_f64();
    let bytes_postcard = buf.len() as f64 / n as f64;
    let t = Instant::now();
    let mut text = Vec::new();
    for _ in 0..batches {
        serde_json::to_writer(&mut text, &batch)?;
        text.push(b'\n');
    }
    let mut n = 0;
    for line in text.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        if let FromWorker::Events(b) = serde_json::from_slice::<FromWorker>(line)? {
            n += b.len();
        }
    }
    let json_lines = n as f64 / t.elapsed().as_secs_f64();
    Ok(json!({
        "postcard_events_per_s": postcard,
        "postcard_bytes_per_event": bytes_postcard,
        "json_lines_events_per_s": json_lines,
        "json_bytes_per_event": text.len() as f64 / n as f64,
    }))
}

/// Two workers each record `per_worker` events while this thread applies
/// them to a model: returns (sent, received, seconds).
pub fn pipeline_once(per_worker: u64) -> (u64, u64, f64) {
    let (tx, mut rx) = crate::inbox::channel();
    let sent = Arc::new(AtomicU64::new(0));
    let clock = crate::clock::Clock::start();
    let t = Instant::now();
    let workers: Vec<_> = (0..2u32)
        .map(|lane| {
            let sink: Arc<dyn BatchSink> = Arc::new(ChannelSink::new(tx.clone(), sent.clone()));
            std::thread::spawn(move || {
                let mut p = Probe::new(lane, clock, sink, true);
                p.announce("worker", Role::Thread, 0);
                for i in 0..per_worker {
                    p.record(EventKind::Cache {
                        op: crate::event::CacheOp::Hit,
                        currsize: i,
                    });
                }
            })
        })
        .collect();
    drop(tx);
    let mut lab = Lab::new(Vec::new(), std::time::SystemTime::now());
    rx.iter().for_each(|b| lab.apply(b));
    for w in workers {
        let _ = w.join();
    }
    let secs = t.elapsed().as_secs_f64();
    (
        sent.load(std::sync::atomic::Ordering::Relaxed),
        lab.received,
        secs,
    )
}

/// Events recorded by 2 workers and applied to the model, with sent == received.
fn pipeline(scale: Scale) -> Result<Value> {
    let (sent, received, secs) = pipeline_once(scale.events() / 2);
    anyhow::ensure!(
        sent == received,
        "events lost: sent {sent}, received {received}"
    );
    Ok(
        json!({ "events": sent, "events_per_s": sent as f64 / secs, "sent": sent, "received": received }),
    )
}

/// Drawing a full frame at 200x60 with a populated lab.
fn frame_cost(scale: Scale) -> Result<Value> {
    use ratatui::backend::TestBackend;
    let mut s = spec("fib", "queue", Some(2));
    s.workload.set("inputs", vec![20u64; 16]);
    let f = run(&s)?;
    let mut app = crate::ui::app::App::new(s, 30);
    app.lab = f.lab;
    app.info = Some(f.meta);
    app.outcome = Some(f.outcome);
    let theme = crate::ui::theme::Theme {
        color: true,
        light: false,
    };
    let mut terminal = ratatui::Terminal::new(TestBackend::new(200, 60))?;
    let frames = if scale.quick { 20 } else { 300 };
    let mut times = Vec::with_capacity(frames);
    for _ in 0..frames {
        let t = Instant::now();
        terminal.draw(|fr| crate::ui::draw(fr, &app, &theme))?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(json!({ "size": "200x60", "median_ms": median(times) }))
}

/// Iterations of the amdahl kernel per microsecond on this machine.
pub(crate) fn kernel_iters_per_us() -> Result<f64> {
    let mut s = spec("amdahl", "sequential", None);
    s.workload
        .set("serial", 0.0)
        .set("work", 100_000_000u64)
        .set("tasks", 10u64);
    s.record_events = false;
    let f = run(&s)?;
    Ok(1e8 / (ms(f.outcome.wall_ns) * 1e3))
}

/// Wall time with events on over wall time with them off, for tasks of a given length.
fn overhead(scale: Scale) -> Result<Value> {
    let per_us = kernel_iters_per_us()?;
    let mut out = json!({ "kernel_iterations_per_us": per_us });
    for (key, task_us, tasks) in [
        ("ratio_100us", 100.0, 4000u32),
        ("ratio_10us", 10.0, 20_000u32),
    ] {
        let tasks = if scale.quick { tasks / 20 } else { tasks };
        let mut s = spec("amdahl", "pool", Some(2));
        s.workload
            .set("serial", 0.0)
            .set("work", (per_us * task_us * tasks as f64) as u64)
            .set("tasks", tasks);
        let on = wall(&s, Scale { quick: false })?;
        s.record_events = false;
        let off = wall(&s, Scale { quick: false })?;
        out[key] = json!(on / off);
    }
    Ok(out)
}

pub(crate) use crate::clock::thread_cpu_ns;

/// The UI thread's CPU while a run goes: drain and draw at 30 fps, 200x60.
#[cfg(unix)]
fn ui_cpu(scale: Scale) -> Result<Value> {
    use ratatui::backend::TestBackend;
    let secs = if scale.quick { 0.5 } else { 3.0 };
    let mut s = spec("collatz", "pool", Some(2));
    s.duration_secs = Some(secs);
    s.workload.set("size", 2_000_000);
    let mut app = crate::ui::app::App::new(s, 30);
    let theme = crate::ui::theme::Theme {
        color: true,
        light: false,
    };
    let mut terminal = ratatui::Terminal::new(TestBackend::new(200, 60))?;
    app.start();
    let (cpu0, t0) = (thread_cpu_ns(), Instant::now());
    let frame = std::time::Duration::from_secs_f64(1.0 / 30.0);
    let mut frames = 0u32;
    while app.running() {
        let next = Instant::now() + frame;
        app.pump();
        terminal.draw(|f| crate::ui::draw(f, &app, &theme))?;
        frames += 1;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let cpu = (thread_cpu_ns() - cpu0) as f64 / t0.elapsed().as_nanos() as f64;
    Ok(json!({ "fps": 30, "frames": frames, "percent_of_one_core": 100.0 * cpu }))
}

/// An idle lab (no run) through the real app loop at 200x60, its CPU
/// sampler on: the whole process's CPU over the stretch (budget: 0.5 %).
fn idle_lab(scale: Scale) -> Result<Value> {
    use ratatui::backend::TestBackend;
    let secs = if scale.quick { 1.0 } else { 10.0 };
    let mut app = crate::ui::app::App::new(spec("collatz", "pool", Some(2)), 30);
    app.sampler = Some(crate::sampler::Sampler::start(
        std::time::Duration::from_millis(500),
    ));
    let theme = crate::ui::theme::Theme {
        color: true,
        light: false,
    };
    let mut terminal = ratatui::Terminal::new(TestBackend::new(200, 60))?;
    let (tx, rx) = crossbeam_channel::unbounded();
    let quit = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        let q = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('q'));
        let _ = tx.send(crate::ui::Input::Key(q));
    });
    let (cpu0, t0) = (crate::sampler::own_cpu_time(), Instant::now());
    crate::ui::run_app(&mut terminal, &mut app, &theme, &rx)?;
    let cpu = crate::sampler::own_cpu_time().saturating_sub(cpu0);
    let _ = quit.join();
    let share = cpu.as_secs_f64() / t0.elapsed().as_secs_f64();
    Ok(json!({ "seconds": secs, "percent_of_one_core": 100.0 * share }))
}

#[cfg(not(unix))]
fn ui_cpu(_scale: Scale) -> Result<Value> {
    Ok(json!({ "note": "thread CPU time is not measured on this platform" }))
}

/// Frame times (drain and draw at 200x60, 30 fps) while 1024 busy threads
/// saturate every core: the frame loop must not stall. Each frame is timed
/// from its deadline to its draw, so time the UI thread waited for a core counts.
fn frame_under_load(scale: Scale) -> Result<Value> {
    // As the TUI does: the frame loop raised if it can be, else the workers lowered.
    let mut out = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("parlab-frames".into())
            .spawn_scoped(s, || {
                let raised = crate::priority::raise_this_thread();
                frames_beside_1024_threads(scale, !raised).map(|mut v| {
                    v["ui"] = json!(if raised { "raised" } else { "workers lowered" });
                    v
                })
            })?
            .join()
            .unwrap_or_else(|_| anyhow::bail!("the frame loop panicked"))
    })?;
    // The fallback where the UI cannot be raised: the workers lowered.
    let lowered = frames_beside_1024_threads(scale, true)?;
    out["workers_lowered"] =
        json!({ "median_ms": lowered["median_ms"], "p99_ms": lowered["p99_ms"] });
    // Every priority left alone: what a UI gets on an OS that allows neither.
    let plain = frames_beside_1024_threads(scale, false)?;
    out["unchanged_priorities"] =
        json!({ "median_ms": plain["median_ms"], "p99_ms": plain["p99_ms"] });
    Ok(out)
}

fn frames_beside_1024_threads(scale: Scale, yielding: bool) -> Result<Value> {
    use ratatui::backend::TestBackend;
    let secs = if scale.quick { 1.0 } else { 5.0 };
    let mut s = spec("collatz", "threads", Some(1024));
    s.workload.set("size", 1_000_000_000).set("tasks", 1024);
    let mut app = crate::ui::app::App::new(s, 30);
    let theme = crate::ui::theme::Theme {
        color: true,
        light: false,
    };
    let mut terminal = ratatui::Terminal::new(TestBackend::new(200, 60))?;
    // Workers read it as they start, so it stays set until they are gone.
    crate::priority::set_workers_yield(yielding);
    app.start();
    let frame = std::time::Duration::from_secs_f64(1.0 / 30.0);
    let (t0, mut times, mut next) = (Instant::now(), Vec::new(), Instant::now());
    while t0.elapsed().as_secs_f64() < secs && app.running() {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        app.pump();
        terminal.draw(|f| crate::ui::draw(f, &app, &theme))?;
        times.push(next.elapsed().as_secs_f64() * 1e3);
        // A late frame does not make the next one late: the next deadline is
        // a frame after this one, or now.
        next = (next + frame).max(Instant::now());
    }
    let lanes = app.lab.lanes.len();
    app.shut_down();
    crate::priority::set_workers_yield(false);
    if let Some(problem) = app.message.take().filter(|_| times.is_empty()) {
        anyhow::bail!("the 1024-thread run did not start: {problem}");
    }
    anyhow::ensure!(
        !times.is_empty(),
        "no frame was drawn beside the 1024 threads"
    );
    times.sort_by(|a, b| a.total_cmp(b));
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    Ok(json!({
        "threads": 1024,
        "lanes_seen": lanes,
        "frames": times.len(),
        "median_ms": times[times.len() / 2],
        "p99_ms": p99,
    }))
}

/// Events per second through one worker process's pipe.
fn worker_pipe(scale: Scale) -> Result<Value> {
    let mut s = spec("fib", "process-pool", Some(1));
    s.workload
        .set("inputs", vec![if scale.quick { 20u64 } else { 27 }]);
    s.workload.set("cache_size", 0u64);
    let f = run(&s)?;
    let events = f.lab.received;
    Ok(json!({ "events": events, "events_per_s": events as f64 / (ms(f.outcome.wall_ns) / 1e3) }))
}

/// Resident memory after a run at the full event rate (a soak with `--duration`).
fn soak(scale: Scale) -> Result<Value> {
    let secs = if scale.quick { 1.0 } else { 20.0 };
    let mut s = spec("fib", "pool", Some(2));
    s.workload.set("inputs", vec![22u64; 8]);
    s.workload.set("cache_size", 0u64);
    s.duration_secs = Some(secs);
    let before = rss_mb();
    let f = run(&s)?;
    let after = rss_mb();
    Ok(
        json!({ "seconds": secs, "events": f.lab.received, "rounds": f.outcome.rounds, "rss_mb_before": before, "rss_mb_after": after }),
    )
}

/// This process's resident memory, in MB.
fn rss_mb() -> f64 {
    use sysinfo::{Pid, ProcessesToUpdate, System};
    let pid = Pid::from_u32(std::process::id());
    let mut sys = System::new();
    sys.refresh_processes(ProcessesToUpdate::Some(&[pid]), true);
    sys.process(pid)
        .map(|p| p.memory() as f64 / 1e6)
        .unwrap_or(f64::NAN)
}

/// rayon's bare parallel loop over the same Collatz, no lab around it.
fn bare_rayon(scale: Scale) -> Result<Value> {
    use rayon::prelude::*;
    let n = scale.collatz_size();
    let t = Instant::now();
    let one: u64 = (1..=n)
        .map(|k| crate::workload::collatz::collatz_len(k) as u64)
        .sum();
    let seq = t.elapsed().as_secs_f64();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build()?;
    let t = Instant::now();
    let two: u64 = pool.install(|| {
        (1..=n)
            .into_par_iter()
            .map(|k| crate::workload::collatz::collatz_len(k) as u64)
            .sum()
    });
    let par = t.elapsed().as_secs_f64();
    anyhow::ensure!(one == two, "rayon's sum differs");
    Ok(json!({ "speedup": seq / par }))
}

/// The lecture's own demo figures, reproduced.
fn fidelity(scale: Scale) -> Result<Value> {
    let unit = if scale.quick { 20 } else { 100 };
    let sleep = |strategy| {
        let mut s = spec("sleep", strategy, None);
        s.workload.set("unit_ms", unit);
        s
    };
    let seq = run(&sleep("sequential"))?;
    let thr = run(&sleep("threads"))?;
    let units: Vec<u64> = seq
        .meta
        .tasks
        .iter()
        .filter_map(|t| t.units)
        .map(u64::from)
        .collect();
    let shell_unit = if scale.quick { 100 } else { 1000 };
    let shell = |strategy, count, workers| {
        let mut s = spec("shell", strategy, workers);
        s.workload.set("unit_ms", shell_unit);
        s.workload.set("count", count);
        s.workload.set("units", 1);
        s
    };
    let pool4 = run(&shell("pool", 3, Some(4)))?;
    let five = run(&shell("sequential", 5, None))?;
    Ok(json!({
        "seven_tasks": {
            "unit_ms": unit,
            "sum_ms": units.iter().sum::<u64>() * unit,
            "longest_ms": units.iter().max().copied().unwrap_or(0) * unit,
            "sequential_ms": ms(seq.outcome.wall_ns),
            "threads_ms": ms(thr.outcome.wall_ns),
        },
        "shell": {
            "unit_ms": shell_unit,
            "pool_of_4_three_tasks_ms": ms(pool4.outcome.wall_ns),
            "five_in_a_row_ms": ms(five.outcome.wall_ns),
        },
    }))
}

/// Every section, as one JSON object.
/// Every section, in the order measured.
pub const SECTIONS: [&str; 19] = [
    "start_cost",
    "speedup_2_workers",
    "cpython",
    "bare_rayon_2_workers",
    "ipc",
    "pipeline",
    "worker_pipe",
    "overhead",
    "frame",
    "ui_cpu",
    "idle_lab",
    "frame_under_load",
    "soak",
    "recording",
    "python",
    "gil",
    "profile",
    "dask",
    "fidelity",
];

/// Every section (or only those named), as one JSON object.
pub fn measure(scale: Scale, only: &[String]) -> Result<Value> {
    let mut out = json!({
        "machine": { "logical_cores": crate::sampler::logical_cores(), "os": std::env::consts::OS, "arch": std::env::consts::ARCH },
        "quick": scale.quick,
    });
    if let Some(bad) = only.iter().find(|o| !SECTIONS.contains(&o.as_str())) {
        return Err(crate::UserError::new(format!(
            "invalid value '{bad}' for --only: valid sections are {}",
            SECTIONS.join(", ")
        ))
        .into());
    }
    for section in SECTIONS {
        if !only.is_empty() && !only.iter().any(|o| o == section) {
            continue;
        }
        match section {
            "cpython" => {
                if let Some(py) = cpython(scale) {
                    out["native_speed_vs_cpython"] = json!(native_ratio(scale, &py)?);
                    out["cpython"] = py;
                }
            }
            _ => out[section] = section_fn(section)(scale)?,
        }
    }
    Ok(out)
}

fn section_fn(name: &str) -> fn(Scale) -> Result<Value> {
    match name {
        "start_cost" => start_cost,
        "speedup_2_workers" => speedups,
        "bare_rayon_2_workers" => bare_rayon,
        "ipc" => ipc_formats,
        "pipeline" => pipeline,
        "worker_pipe" => worker_pipe,
        "overhead" => overhead,
        "frame" => frame_cost,
        "ui_cpu" => ui_cpu,
        "idle_lab" => idle_lab,
        "frame_under_load" => frame_under_load,
        "soak" => soak,
        "recording" => recording::measure,
        "python" => python::measure,
        "gil" => gil::measure,
        "dask" => dask::measure,
        "profile" => profile::measure,
        _ => fidelity,
    }
}
