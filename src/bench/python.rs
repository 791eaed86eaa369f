//! What watching a real Python program costs it: the program's own wall
//! time under `parlab py` ÷ under plain `python3` (alternating pairs, median
//! and spread), one probe record's cost inside CPython, and parlab's CPU
//! reading the program (of which the /proc sampler).

use super::{median, min_max, percent_of_one_core, Scale};
use crate::headless;
use crate::python::{self, PyPlan};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::process::Command;

/// The section's figures, or why there are none.
pub fn measure(scale: Scale) -> Result<Value> {
    let Ok(interpreter) = python::Interpreter::ask("python3") else {
        return Ok(json!({ "note": "no python3 of 3.9 or later: not measured" }));
    };
    let dir = std::env::temp_dir().join(format!("parlab-bench-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut ratios = serde_json::Map::new();
    let size = if scale.quick { "20000" } else { "400000" };
    let unit = if scale.quick { "5" } else { "50" };
    let mut cases: Vec<(String, Vec<&str>)> = [
        "sequential",
        "threads",
        "processes",
        "thread-pool",
        "process-pool",
        "pool",
    ]
    .iter()
    .map(|m| {
        (
            format!("cpu_{m}"),
            vec!["lecture:cpu", "--mode", m, "--size", size],
        )
    })
    .collect();
    cases.push((
        "seven_tasks_threads".into(),
        vec![
            "lecture:seven_tasks",
            "--mode",
            "threads",
            "--unit-ms",
            unit,
        ],
    ));
    let cases = cases.into_iter().map(|(n, a)| (n, a, None, 5));
    for (name, args, budget, full) in cases.chain(sync_cases(scale)) {
        let pairs = if scale.quick { 1 } else { full };
        let (mut r, mut plains) = (Vec::new(), Vec::new());
        for i in 0..pairs {
            let (mut probed, mut plain) = (0.0, 0.0);
            for under in if i % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            } {
                let ms = if under {
                    under_parlab(args[0], &args[1..])?
                } else {
                    plain_python(&dir, args[0], &args[1..])?
                };
                *(if under { &mut probed } else { &mut plain }) = ms;
            }
            r.push(probed / plain);
            plains.push(plain);
        }
        // The noise floor: how far plain runs alone stray from their median.
        let mid = median(plains.clone());
        let alone: Vec<f64> = plains.iter().map(|p| p / mid).collect();
        let mut row = json!({
            "min_max": min_max(&r),
            "median": median(r.clone()),
            "pairs": pairs,
            "plain_spread": min_max(&alone),
        });
        if let Some(b) = budget {
            row["budget"] = json!(b);
            let interval = crate::repeat::median_interval(&r, CONFIDENCE);
            row["median_interval"] = json!(interval);
            row["verdict"] = json!(verdict(interval, b));
        }
        ratios.insert(name, row);
    }
    let reader = reader_cost(unit)?;
    let start = start_cost(
        &dir,
        &interpreter.executable,
        if scale.quick { 3 } else { 9 },
    )?;
    Ok(json!({
        "python": interpreter.version,
        "empty_script": start,
        "wall_ratio": ratios,
        "event_ns": event_cost(&dir, if scale.quick { 20_000 } else { 500_000 })?,
        "reader": reader,
    }))
}

/// How sure a verdict on a budget is: the median ratio lies in the interval
/// said with at least this confidence.
pub const CONFIDENCE: f64 = 0.9;

/// A budget against the interval where the median ratio lies: met (all of
/// it within), over (all of it above), or not told apart at this noise.
pub fn verdict(interval: Option<[f64; 2]>, budget: f64) -> &'static str {
    match interval {
        Some([_, hi]) if hi <= budget => "met",
        Some([lo, _]) if lo > budget => "over",
        _ => "not told apart",
    }
}

/// Programs that lock and queue a lot, with the ratio each must stay
/// within, measured in 11 pairs (their own walls vary by a quarter from run
/// to run on two cores, plain too): what the probe costs is the lock's and
/// the queue's own path (parlab reads their waits and depths from outside).
fn sync_cases(scale: Scale) -> Vec<(String, Vec<&'static str>, Option<f64>, usize)> {
    let q = scale.quick;
    let case = |name: &str, args: Vec<&'static str>, budget: f64| {
        (name.to_string(), args, Some(budget), 11)
    };
    vec![
        case(
            "races_lock",
            vec![
                "lecture:races",
                "--lock",
                "--increments",
                if q { "10000" } else { "100000" },
            ],
            1.10,
        ),
        case(
            "lock_two_threads",
            vec![
                "lecture:locks",
                "--demo",
                "lock",
                "--threads",
                "2",
                "--rounds",
                if q { "20000" } else { "300000" },
            ],
            1.10,
        ),
        case(
            "lock_uncontended",
            vec![
                "lecture:locks",
                "--demo",
                "lock",
                "--threads",
                "1",
                "--rounds",
                if q { "20000" } else { "600000" },
            ],
            1.05,
        ),
        case(
            "queue_one_thread",
            vec![
                "lecture:locks",
                "--demo",
                "queue",
                "--threads",
                "1",
                "--rounds",
                if q { "10000" } else { "100000" },
            ],
            1.10,
        ),
        case(
            "producer_consumer",
            vec![
                "lecture:producer_consumer",
                "--rate",
                "0",
                "--work-ms",
                "0",
                "--items",
                if q { "2000" } else { "20000" },
            ],
            1.10,
        ),
    ]
}

/// What `parlab py` adds around a program: an empty script as a whole
/// process under `parlab py --python EXE` and under `EXE` alone, in
/// alternating pairs; the median of the differences, in ms, and the spread.
fn start_cost(dir: &std::path::Path, exe: &str, pairs: usize) -> Result<Value> {
    let empty = dir.join("empty.py");
    std::fs::write(&empty, "")?;
    let parlab = std::env::current_exe()?;
    let time = |under: bool| -> Result<f64> {
        let mut cmd = if under {
            let mut c = Command::new(&parlab);
            c.args(["py", "--no-config", "--python", exe]);
            c
        } else {
            Command::new(exe)
        };
        cmd.arg(&empty)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let t = std::time::Instant::now();
        cmd.status()?;
        Ok(t.elapsed().as_secs_f64() * 1e3)
    };
    let (mut diffs, mut plains) = (Vec::new(), Vec::new());
    for i in 0..pairs {
        let (a, b) = if i % 2 == 0 {
            (time(true)?, time(false)?)
        } else {
            let b = time(false)?;
            (time(true)?, b)
        };
        diffs.push(a - b);
        plains.push(b);
    }
    Ok(json!({
        "min_max": min_max(&diffs),
        "added_ms": median(diffs),
        "plain_ms": median(plains),
        "budget_ms": 30.0,
        "pairs": pairs,
    }))
}

/// The program's own `wall_ms` (its last line) under parlab's probe.
fn under_parlab(script: &str, args: &[&str]) -> Result<f64> {
    let plan = PyPlan::new(
        "python3",
        script,
        args.iter().map(|s| s.to_string()).collect(),
    )?;
    let f = headless::drain(Box::new(python::start(plan)?), || false, None, None)?;
    own_wall(f.outcome.result.as_ref())
}

/// The same program under plain `python3`.
fn plain_python(dir: &std::path::Path, script: &str, args: &[&str]) -> Result<f64> {
    let name = script.strip_prefix("lecture:").unwrap_or(script);
    let s = crate::lecture::find(name).context("a bundled program")?;
    let path = dir.join(format!("{name}.py"));
    std::fs::write(&path, s.source)?;
    let out = Command::new("python3").arg(&path).args(args).output()?;
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    own_wall(serde_json::from_str::<Value>(&last).ok().as_ref())
}

fn own_wall(result: Option<&Value>) -> Result<f64> {
    result
        .and_then(|r| r["wall_ms"].as_f64())
        .context("the program printed no wall_ms")
}

/// Nanoseconds per probe record, timed inside CPython (a state entered and left).
fn event_cost(dir: &std::path::Path, n: u32) -> Result<f64> {
    let probe = dir.join("probe");
    python::write_probe(&probe)?;
    let rings = dir.join("rings");
    std::fs::create_dir_all(&rings)?;
    let code = format!(
        "import time, _parlab_probe as p\nn = {n}\nt = time.perf_counter_ns()\nfor _ in range(n):\n    p.emit(6, state=3)\nprint((time.perf_counter_ns() - t) / n)\n"
    );
    let out = Command::new("python3")
        .args(["-c", &code])
        .env("PYTHONPATH", &probe)
        .env("PARLAB_PROBE_DIR", &rings)
        .output()?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<f64>()
        .with_context(|| {
            format!(
                "the probe's timing: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// parlab's CPU reading a program of seven sleeping threads, in percent of one core.
fn reader_cost(unit: &str) -> Result<Value> {
    let plan = PyPlan::new(
        "python3",
        "lecture:seven_tasks",
        vec![
            "--mode".into(),
            "threads".into(),
            "--unit-ms".into(),
            unit.into(),
        ],
    )?;
    let f = headless::drain(Box::new(python::start(plan)?), || false, None, None)?;
    Ok(json!({
        "reader_percent_of_one_core": percent_of_one_core(&f, "reader_cpu_ms"),
        "sampler_percent_of_one_core": percent_of_one_core(&f, "sampler_cpu_ms"),
        "threads": f.lab.lanes.len(),
    }))
}
