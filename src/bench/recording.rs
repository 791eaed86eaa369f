//! What keeping a run costs: wall time recorded ÷ not (pairs, alternated,
//! median and spread), bytes per event on disk, a many-event recording
//! opened and sought, and the UI's time replaying at 16× beside live.

use super::{kernel_iters_per_us, median, min_max, spec, Scale};
use crate::clock::{ms, Clock};
use crate::event::{Event, EventKind, Role, WorkerState};
use crate::headless;
use crate::recording::{self, Recorder};
use crate::replay::Playback;
use crate::source::{Meta, Outcome};
use crate::workload::SplitMix64;
use anyhow::Result;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Instant;

/// The section's figures.
pub fn measure(scale: Scale) -> Result<Value> {
    Ok(json!({
        "overhead": overhead(scale)?,
        "big_file": big_file(scale)?,
        "ui": ui(scale)?,
    }))
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("parlab-bench-{}-{name}", std::process::id()))
}

/// 100 µs tasks on a pool of 2, recorded to a file and not, in alternating
/// pairs: the ratio of each pair, and the file's bytes per event.
fn overhead(scale: Scale) -> Result<Value> {
    let per_us = kernel_iters_per_us()?;
    let tasks: u32 = if scale.quick { 200 } else { 4000 };
    let pairs = if scale.quick { 1 } else { 9 };
    let mut s = spec("amdahl", "pool", Some(2));
    s.workload
        .set("serial", 0.0)
        .set("work", (per_us * 100.0 * tasks as f64) as u64)
        .set("tasks", tasks);
    let path = scratch("overhead.parlab");
    let (mut ratios, mut bytes, mut events) = (Vec::new(), 0, 0);
    for i in 0..pairs {
        let mut walls = [0.0; 2];
        // Alternate which goes first, so drift on a shared machine cancels.
        let order = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for record in order {
            let mut r = record.then(|| Recorder::create(&path)).transpose()?;
            let f = headless::run_until(s.clone(), || false, 1.0, r.as_mut())?;
            walls[record as usize] = ms(f.outcome.wall_ns);
            if let Some(r) = r {
                (bytes, events) = (r.bytes_written(), r.events_written());
            }
        }
        ratios.push(walls[1] / walls[0]);
    }
    let _ = std::fs::remove_file(&path);
    let spread = min_max(&ratios);
    Ok(json!({
        "task_us": 100,
        "tasks": tasks,
        "pairs": pairs,
        "ratio_median": median(ratios),
        "ratio_min_max": spread,
        "events": events,
        "bytes": bytes,
        "bytes_per_event": bytes as f64 / events.max(1) as f64,
    }))
}

/// A recording of `n` events on four lanes (tasks of about 25 µs: a start,
/// a state, an end, a state), written as a run would write it.
fn synthetic(n: u64, path: &std::path::Path) -> Result<()> {
    let spec = spec("collatz", "pool", Some(4));
    let workload = crate::workload::build(&spec.workload)?;
    let meta = Meta::native(
        &spec,
        workload.as_ref(),
        workload.tasks(),
        4,
        Clock::start(),
    );
    let mut rec = Recorder::create(path)?;
    rec.begin(&meta);
    let mut rng = SplitMix64::new(7);
    let mut t = [0u64; 4];
    let mut written = 0;
    for lane in 0..4u32 {
        rec.events(&[Event {
            t: 0,
            lane,
            kind: EventKind::Lane {
                name: format!("worker-{lane}"),
                role: Role::Thread,
                pid: std::process::id(),
                tid: Some(lane as u64),
                spawned_at: 0,
            },
        }]);
    }
    let mut task = 0u32;
    while written < n {
        for (lane, t) in t.iter_mut().enumerate() {
            let mut batch = Vec::with_capacity(256);
            for _ in 0..64 {
                for kind in [
                    EventKind::TaskStart { task },
                    EventKind::State(WorkerState::Running),
                    EventKind::TaskEnd { task, ok: true },
                    EventKind::State(WorkerState::Idle),
                ] {
                    *t += rng.range(1_000, 12_000);
                    batch.push(Event {
                        t: *t,
                        lane: lane as u32,
                        kind,
                    });
                }
                task = (task + 1) % 32;
            }
            written += batch.len() as u64;
            rec.events(&batch);
        }
    }
    let end = t.iter().copied().max().unwrap_or(0);
    rec.end(&Outcome {
        result: None,
        wall_ns: end,
        end_ns: end,
        failures: Vec::new(),
        cancelled: false,
        events_sent: written,
        events_dropped: 0,
        machine: None,
        extensions: Vec::new(),
        rounds: 1,
        truncated: false,
    });
    if let Some(p) = rec.problem() {
        anyhow::bail!("{p}");
    }
    Ok(())
}

/// A recording of `Scale::events` events: how long it takes to open (read,
/// check, and build the replay's checkpoints), and to seek anywhere.
fn big_file(scale: Scale) -> Result<Value> {
    let n = scale.events();
    let path = scratch("big.parlab");
    synthetic(n, &path)?;
    let size = std::fs::metadata(&path)?.len();
    let t0 = Instant::now();
    let rec = recording::open(&path)?;
    let read_ms = ms(t0.elapsed().as_nanos() as u64);
    let run = rec.runs.into_iter().next().expect("one run");
    let events = run.events;
    let t1 = Instant::now();
    let mut pb = Playback::new(run, "big".into());
    let playable_ms = ms(t1.elapsed().as_nanos() as u64);
    let _ = std::fs::remove_file(&path);
    let mut lab = pb.start_lab();
    let mut rng = SplitMix64::new(11);
    let mut seeks = Vec::new();
    for _ in 0..20 {
        let to = rng.range(0, pb.end_ns);
        let t = Instant::now();
        pb.seek(&mut lab, to);
        seeks.push(ms(t.elapsed().as_nanos() as u64));
    }
    let worst = seeks.iter().copied().fold(0.0, f64::max);
    let t = Instant::now();
    pb.step(&mut lab, false);
    let step_back_ms = ms(t.elapsed().as_nanos() as u64);
    Ok(json!({
        "events": events,
        "bytes": size,
        "bytes_per_event": size as f64 / events.max(1) as f64,
        "read_ms": read_ms,
        "open_ms": read_ms + playable_ms,
        "seek_median_ms": median(seeks),
        "seek_max_ms": worst,
        "step_back_ms": step_back_ms,
    }))
}

/// The UI thread's CPU, drawing at 30 fps at 200x60: during a live run (which the lab also keeps in memory), then
/// replaying that run at 1× and at 16× for as long (from the start again
/// whenever it ends) while the same run goes on unseen beside it, in rounds
/// that alternate the replays' order.
#[cfg(unix)]
fn ui(scale: Scale) -> Result<Value> {
    use crate::ui::app::App;
    let secs = if scale.quick { 0.5 } else { 3.0 };
    let rounds = if scale.quick { 1 } else { 3 };
    let mut s = spec("collatz", "pool", Some(2));
    s.duration_secs = Some(secs);
    s.workload.set("size", 2_000_000);
    let mut app = App::new(s, 30);
    let (mut live, mut at_1x, mut at_16x, mut events) = (Vec::new(), Vec::new(), Vec::new(), 0);
    let mut pumps: [Vec<f64>; 3] = Default::default();
    for round in 0..rounds {
        app.start();
        let (frame, pump) = ui_percent(&mut app, |a| !a.running(), f64::INFINITY)?;
        live.push(frame);
        pumps[0].push(pump);
        let row = app.history.len() - 1;
        events = app.history[row].recorded.as_ref().map_or(0, |r| r.events);
        let speeds = if round % 2 == 0 {
            [1.0, 16.0]
        } else {
            [16.0, 1.0]
        };
        for speed in speeds {
            app.play(row);
            if let Some(p) = &mut app.playback {
                p.speed = speed;
            }
            let (frame, pump) = ui_percent(&mut app, |_| false, secs)?;
            let k = if speed == 1.0 { 1 } else { 2 };
            if k == 1 { &mut at_1x } else { &mut at_16x }.push(frame);
            pumps[k].push(pump);
        }
    }
    let spread = min_max;
    Ok(json!({
        "fps": 30,
        "rounds": rounds,
        "events_in_run": events,
        "live_percent_of_one_core": median(live.clone()),
        "live_min_max": spread(&live),
        "replay_1x_percent_of_one_core": median(at_1x.clone()),
        "replay_1x_min_max": spread(&at_1x),
        "replay_16x_percent_of_one_core": median(at_16x.clone()),
        "replay_16x_min_max": spread(&at_16x),
        "pump_us": {
            "live": median(pumps[0].clone()),
            "replay_1x": median(pumps[1].clone()),
            "replay_16x": median(pumps[2].clone()),
        },
    }))
}

/// Frames at 30 fps until `done` or `secs`: the UI thread's CPU over the
/// whole stretch in percent of one core, and per pump (taking events in, or
/// moving a replay on), median in microseconds. A replay that ends starts
/// again from the start.
#[cfg(unix)]
fn ui_percent(
    app: &mut crate::ui::app::App,
    done: impl Fn(&crate::ui::app::App) -> bool,
    secs: f64,
) -> Result<(f64, f64)> {
    use ratatui::backend::TestBackend;
    let theme = crate::ui::theme::Theme {
        color: true,
        light: false,
    };
    let mut terminal = ratatui::Terminal::new(TestBackend::new(200, 60))?;
    let frame = std::time::Duration::from_secs_f64(1.0 / 30.0);
    let (t0, cpu_start) = (Instant::now(), super::thread_cpu_ns());
    let mut pumps = Vec::new();
    while !done(app) && t0.elapsed().as_secs_f64() < secs {
        let next = Instant::now() + frame;
        if let Some(p) = &mut app.playback {
            if p.at_end() {
                p.seek(&mut app.lab, 0);
            }
        }
        let cpu0 = super::thread_cpu_ns();
        app.pump();
        pumps.push((super::thread_cpu_ns() - cpu0) as f64 / 1e3);
        terminal.draw(|f| crate::ui::draw(f, app, &theme))?;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let cpu = (super::thread_cpu_ns() - cpu_start) as f64 / t0.elapsed().as_nanos() as f64;
    Ok((100.0 * cpu, median(pumps)))
}

#[cfg(not(unix))]
fn ui(_scale: Scale) -> Result<Value> {
    Ok(json!({ "note": "thread CPU time is not measured on this platform" }))
}
