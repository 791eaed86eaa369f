//! The GIL, model beside measurement: parlab's simulated GIL and CPython's
//! real one on the same CPU-bound Collatz work with two threads (speedup
//! over one, each thread's share holding it, hand-offs a second); what
//! reading the real GIL costs (the reader's CPU with two processes of two
//! threads each, and the program's own wall time with reading on ÷ off,
//! alternating pairs).

use super::{median, min_max, percent_of_one_core, spec, Scale};
use crate::headless::{self, Finished};
use crate::python::{self, PyPlan};
use anyhow::{Context, Result};
use serde_json::{json, Value};

/// Two processes of two CPU-bound threads each, for the reader's cost.
const TWO_BY_TWO: &str = r#"
import json, multiprocessing as mp, sys, threading, time

def spin(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def process(n):
    ts = [threading.Thread(target=spin, args=(n,)) for _ in range(2)]
    for t in ts: t.start()
    for t in ts: t.join()

if __name__ == "__main__":
    n = int(sys.argv[1])
    t = time.perf_counter()
    ps = [mp.get_context("fork").Process(target=process, args=(n,)) for _ in range(2)]
    for p in ps: p.start()
    for p in ps: p.join()
    print(json.dumps({"wall_ms": (time.perf_counter() - t) * 1e3}))
"#;

/// `P` processes of `N` threads each spinning on CPU for `S` seconds: what
/// reading costs as the threads grow.
const MANY: &str = r#"
import multiprocessing as mp, sys, threading, time

def spin(stop):
    x = 0
    while time.time() < stop:
        for i in range(1000):
            x += i

def process(n, stop):
    ts = [threading.Thread(target=spin, args=(stop,)) for _ in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()

if __name__ == "__main__":
    p, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    stop = time.time() + secs
    if p == 1:
        process(n, stop)
    else:
        ps = [mp.get_context("fork").Process(target=process, args=(n, stop)) for _ in range(p)]
        for q in ps: q.start()
        for q in ps: q.join()
"#;

/// The budgets for the reader's CPU (% of one core) by processes x threads.
pub const MANY_BUDGETS: [(u32, u32, f64); 4] =
    [(1, 8, 3.0), (1, 64, 5.0), (1, 256, 5.0), (8, 8, 5.0)];

/// The section's figures, or why there are none.
pub fn measure(scale: Scale) -> Result<Value> {
    if !cfg!(target_os = "linux") {
        return Ok(json!({ "note": "the real GIL is read on Linux only: not measured" }));
    }
    let Ok(interpreter) = python::Interpreter::ask("python3") else {
        return Ok(json!({ "note": "no python3 of 3.9 or later: not measured" }));
    };
    let size = if scale.quick { "30000" } else { "200000" };
    let pairs = if scale.quick { 1 } else { 9 };
    let mut ratios = serde_json::Map::new();
    for mode in ["threads", "processes"] {
        let args = ["--mode", mode, "--workers", "2", "--size", size];
        let r = paired(pairs, |on| {
            let f = program(
                "lecture:cpu",
                &args,
                if on { python::gil::DEFAULT_HZ } else { 0 },
            )?;
            own_wall(&f)
        })?;
        ratios.insert(format!("cpu_{mode}"), r);
    }
    Ok(json!({
        "python": interpreter.version,
        "model": model(scale)?,
        "cpython": cpython(size)?,
        "reader": reader(scale)?,
        "reader_many_threads": many(scale)?,
        "pairs": pairs,
        "wall_ratio_reading_on_off": ratios,
    }))
}

/// `on ÷ off` for `pairs` alternating pairs: the median and the spread.
fn paired(pairs: usize, mut wall: impl FnMut(bool) -> Result<f64>) -> Result<Value> {
    let mut r = Vec::new();
    for i in 0..pairs {
        let order = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        let (mut on, mut off) = (0.0, 0.0);
        for reading in order {
            *(if reading { &mut on } else { &mut off }) = wall(reading)?;
        }
        r.push(on / off.max(1e-9));
    }
    Ok(json!({ "min_max": min_max(&r), "median": median(r) }))
}

fn program(script: &str, args: &[&str], hz: u32) -> Result<Finished> {
    let mut plan = PyPlan::new(
        "python3",
        script,
        args.iter().map(|s| s.to_string()).collect(),
    )?;
    plan.gil_hz = hz;
    plan.profile_hz = 0; // the GIL reader's cost alone
    headless::drain(Box::new(python::start(plan)?), || false, None, None)
}

fn own_wall(f: &Finished) -> Result<f64> {
    f.outcome
        .result
        .as_ref()
        .and_then(|r| r["wall_ms"].as_f64())
        .context("the program printed no wall_ms")
}

/// Each worker's share holding the GIL and waiting for it, and hand-offs a second.
fn shares(f: &Finished) -> Value {
    let gil = f
        .outcome
        .extension(crate::strategy::Figures::Gil)
        .cloned()
        .unwrap_or(Value::Null);
    let measured = crate::source::GilMethod::of(&gil) == Some(crate::source::GilMethod::Measured);
    let workers: Vec<_> = f
        .lab
        .gil_shares(measured)
        .into_iter()
        .filter(|s| s.worker && s.life_ns > 0)
        .collect();
    json!({
        "method": gil["method"],
        "held": workers.iter().map(|s| s.held()).collect::<Vec<_>>(),
        "waited": workers.iter().map(|s| s.waited()).collect::<Vec<_>>(),
        "switches_per_s": gil["switches_per_s"],
        "sample_hz": gil["sample_hz"],
    })
}

/// The model: native Collatz on a pool of two threads under the simulated GIL.
fn model(scale: Scale) -> Result<Value> {
    let with = |strategy: &str, gil: bool| {
        let mut s = spec("collatz", strategy, Some(2));
        s.workload.set("size", scale.collatz_size());
        s.workload.set("tasks", 4);
        s.gil = gil;
        s
    };
    let one = headless::run(with("sequential", false))?;
    let two = headless::run(with("pool", true))?;
    let mut v = shares(&two);
    v["speedup_2_threads"] = json!(one.outcome.wall_ns as f64 / two.outcome.wall_ns.max(1) as f64);
    Ok(v)
}

/// CPython: the lecture's `cpu` on two threads, its GIL read.
fn cpython(size: &str) -> Result<Value> {
    let run = |mode| {
        program(
            "lecture:cpu",
            &["--mode", mode, "--workers", "2", "--size", size],
            python::gil::DEFAULT_HZ,
        )
    };
    let one = own_wall(&run("sequential")?)?;
    let two = run("threads")?;
    let mut v = shares(&two);
    v["speedup_2_threads"] = json!(one / own_wall(&two)?.max(1e-9));
    Ok(v)
}

/// The reader thread's CPU (% of one core, median of runs and the spread)
/// and the rate each thread's OS state was read, as the threads grow.
fn many(scale: Scale) -> Result<Value> {
    let dir = std::env::temp_dir().join(format!("parlab-bench-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("many.py");
    std::fs::write(&script, MANY)?;
    let script = script.to_string_lossy().into_owned();
    let (runs, secs) = if scale.quick { (1, "1") } else { (3, "4") };
    let mut out = Vec::new();
    for (procs, threads, budget) in MANY_BUDGETS {
        let (mut cpu, mut hz) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (p, n) = (procs.to_string(), threads.to_string());
            let f = program(&script, &[&p, &n, secs], python::gil::DEFAULT_HZ)?;
            cpu.push(percent_of_one_core(&f, "reader_cpu_ms"));
            let gil = f
                .outcome
                .extension(crate::strategy::Figures::Gil)
                .cloned()
                .unwrap_or(Value::Null);
            hz.extend(gil["thread_read_hz"].as_f64());
        }
        let spread = min_max(&cpu);
        out.push(json!({
            "processes": procs,
            "threads_each": threads,
            "reader_percent_of_one_core": median(cpu),
            "min_max": spread,
            "budget_percent": budget,
            "thread_read_hz": (!hz.is_empty()).then(|| median(hz)),
        }));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(json!(out))
}

/// What reading the GIL costs parlab: the reading's own CPU, and the
/// reader thread's whole CPU with reading on and off, in % of one core.
fn reader(scale: Scale) -> Result<Value> {
    let dir = std::env::temp_dir().join(format!("parlab-bench-gil-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("two_by_two.py");
    std::fs::write(&script, TWO_BY_TWO)?;
    let n = if scale.quick { "100000" } else { "3000000" };
    let percent = percent_of_one_core;
    let script = script.to_string_lossy().into_owned();
    let on = program(&script, &[n], python::gil::DEFAULT_HZ)?;
    let off = program(&script, &[n], 0)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(json!({
        "processes": 2,
        "threads_each": 2,
        "reader_on_percent_of_one_core": percent(&on, "reader_cpu_ms"),
        "reader_off_percent_of_one_core": percent(&off, "reader_cpu_ms"),
        "sample_hz": on.outcome.extension(crate::strategy::Figures::Gil).and_then(|g| g["sample_hz"].as_f64()),
    }))
}
