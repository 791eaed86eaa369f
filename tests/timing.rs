//! The lesson's figures, with margins wide enough to gate on. Ignored in the
//! default suite (timings); `.ci/run` runs them one at a time in release:
//! `cargo test --release -- --ignored --test-threads=1`.

mod common;

/// A run other programs did not disturb: one that says it was disturbed
/// (`machine.disturbed`) is run again, up to five times, then taken as it is.
fn run_json(args: &[&str]) -> serde_json::Value {
    let mut v = common::run_json(args);
    for _ in 0..4 {
        if v["machine"]["disturbed"] != true {
            break;
        }
        eprintln!(
            "disturbed ({} cores by others): again",
            v["machine"]["others_cpu"]
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
        v = common::run_json(args);
    }
    v
}

/// Median wall time of three runs.
fn median_ms(args: &[&str]) -> f64 {
    let mut t: Vec<f64> = (0..3)
        .map(|_| run_json(args)["wall_ms"].as_f64().unwrap())
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    t[1]
}

const CPU: [&str; 6] = [
    "--workload",
    "collatz",
    "--size",
    "12000000",
    "--tasks",
    "64",
];

fn speedup(strategy: &str, gil: bool) -> f64 {
    let one = [&CPU[..], &["--strategy", "sequential"]].concat();
    let mut two = [&CPU[..], &["--strategy", strategy, "--workers", "2"]].concat();
    if gil {
        two.push("--gil");
    }
    median_ms(&one) / median_ms(&two)
}

#[test]
#[ignore = "timing: run with --ignored, one test at a time"]
fn cpu_bound_threads_do_not_speed_up_under_the_gil_and_do_without_it() {
    let with_gil = speedup("pool", true);
    let without = speedup("pool", false);
    let processes = speedup("process-pool", false);
    eprintln!("speedup at 2 workers: pool+GIL {with_gil:.2}, pool {without:.2}, process-pool {processes:.2}");
    assert!(with_gil < 1.15, "threads under the GIL: {with_gil:.2}");
    assert!(without > 1.5, "threads without the GIL: {without:.2}");
    assert!(processes > 1.5, "processes: {processes:.2}");
}

#[test]
#[ignore = "timing: run with --ignored, one test at a time"]
fn seven_sleepers_overlap_under_the_gil_and_on_the_event_loop() {
    let seq = median_ms(&[
        "--workload",
        "sleep",
        "--unit-ms",
        "50",
        "--strategy",
        "sequential",
    ]);
    let gil = median_ms(&[
        "--workload",
        "sleep",
        "--unit-ms",
        "50",
        "--strategy",
        "threads",
        "--gil",
    ]);
    let aio = median_ms(&[
        "--workload",
        "sleep",
        "--unit-ms",
        "50",
        "--strategy",
        "async",
    ]);
    eprintln!("seven sleepers: sequential {seq:.0} ms, threads+GIL {gil:.0} ms, async {aio:.0} ms");
    assert!(gil < seq * 0.6, "threads+GIL {gil} vs sequential {seq}");
    assert!(aio < seq * 0.6, "async {aio} vs sequential {seq}");
}

#[test]
#[ignore = "timing: run with --ignored, one test at a time"]
fn amdahl_serial_share_is_close_to_the_requested_fraction() {
    for f in [0.1, 0.5] {
        let v = run_json(&[
            "--workload",
            "amdahl",
            "--serial",
            &f.to_string(),
            "--work",
            "400000000",
            "--strategy",
            "sequential",
        ]);
        let r = &v["result"];
        let serial = r["serial_ms"].as_f64().unwrap();
        let share = serial / (serial + r["parallel_ms"].as_f64().unwrap());
        eprintln!("amdahl serial {f}: measured share {share:.3}");
        assert!((share - f).abs() < 0.05, "requested {f}, measured {share}");
    }
}
