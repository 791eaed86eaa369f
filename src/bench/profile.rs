//! What the live profile costs: the program's own wall time profiled ÷
//! not (alternating pairs, at 100 and 1000 stacks a second), the stack
//! reader's CPU with 8, 64 and 256 threads, and the rate it achieved.

use super::{median, min_max, Scale};
use crate::headless::{self, Finished};
use crate::python::{self, PyPlan};
use anyhow::Result;
use serde_json::{json, Value};

/// Budgets: wall ratio at 100 Hz and at 1000 Hz; the reader's share of a core at 100 Hz.
pub const BUDGETS: (f64, f64, f64) = (1.02, 1.05, 5.0);

/// N threads spinning on CPU for S seconds once all have started.
const SPINNERS: &str = r#"
import sys, threading, time
def spin(go, stop):
    go.wait()
    x = 0
    while time.time() < stop[0]:
        for i in range(1000):
            x += i
go, stop = threading.Event(), [0.0]
ts = [threading.Thread(target=spin, args=(go, stop)) for _ in range(int(sys.argv[2]))]
for t in ts: t.start()
stop[0] = time.time() + float(sys.argv[1])
go.set()
for t in ts: t.join()
"#;

/// The threads the reader's cost is measured at.
const THREADS: [u32; 3] = [8, 64, 256];

/// The section's figures, or why there are none.
pub fn measure(scale: Scale) -> Result<Value> {
    if python::Interpreter::ask("python3").is_err() {
        return Ok(json!({ "note": "no python3 of 3.9 or later: not measured" }));
    }
    let pairs = if scale.quick { 1 } else { 7 };
    let size = if scale.quick { "30000" } else { "300000" };
    let args = ["--mode", "threads", "--workers", "2", "--size", size];
    let mut ratios = serde_json::Map::new();
    for hz in [100, 1000] {
        let mut r = Vec::new();
        for i in 0..pairs {
            // Alternate which goes first, so drift on a shared machine cancels.
            let order = if i % 2 == 0 { [hz, 0] } else { [0, hz] };
            let (mut on, mut off) = (0.0, 0.0);
            for h in order {
                let wall = own_wall(&run("lecture:cpu", &args, h)?);
                *(if h == 0 { &mut off } else { &mut on }) = wall;
            }
            r.push(on / off.max(1e-9));
        }
        ratios.insert(
            format!("{hz}_hz"),
            json!({ "min_max": min_max(&r), "median": median(r) }),
        );
    }
    let dir = std::env::temp_dir().join(format!("parlab-bench-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("spinners.py");
    std::fs::write(&script, SPINNERS)?;
    let secs = if scale.quick { "1" } else { "5" };
    let mut readers = serde_json::Map::new();
    for n in THREADS {
        let f = run(
            script.to_str().unwrap_or_default(),
            &[secs, &n.to_string()],
            100,
        )?;
        let p = f.outcome.extension(crate::strategy::Figures::Profile);
        let cpu_ms = p
            .and_then(|p| p["reader_cpu_ms"].as_f64())
            .unwrap_or(f64::NAN);
        let reader = 100.0 * cpu_ms / crate::clock::ms(f.outcome.wall_ns).max(1e-9);
        readers.insert(
            format!("{n}_threads"),
            json!({
                "reader_percent_of_one_core": reader,
                "hz_achieved": p.and_then(|p| p["hz_achieved"].as_f64()),
                "most_threads": p.and_then(|p| p["most_threads"].as_u64()),
                "samples": f.lab.profile.samples,
            }),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(json!({
        "pairs": pairs,
        "wall_ratio_profiled": ratios,
        "readers": readers,
        "budgets": { "wall_ratio_100_hz": BUDGETS.0, "wall_ratio_1000_hz": BUDGETS.1, "reader_percent": BUDGETS.2 },
    }))
}

fn run(script: &str, args: &[&str], hz: u32) -> Result<Finished> {
    let mut plan = PyPlan::new(
        "python3",
        script,
        args.iter().map(|s| s.to_string()).collect(),
    )?;
    plan.profile_hz = hz;
    headless::drain(Box::new(python::start(plan)?), || false, None, None)
}

/// The program's own wall time (its result line's), else parlab's.
fn own_wall(f: &Finished) -> f64 {
    f.timed(false).wall_ms
}
