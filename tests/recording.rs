//! Record, replay and export, through the real binary: a replay prints the
//! JSON the run printed, for every strategy; a cut or damaged file replays
//! what it holds or is one clear line; the Chrome trace keeps to the
//! Trace Event Format.

mod common;

use common::{parlab, BIN};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn stdout_of(args: &[&str]) -> String {
    let out = parlab(args);
    assert!(
        out.status.success(),
        "parlab {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A queue run: producers, consumers and a bounded queue's depth.
const QUEUE_RUN: [&str; 6] = [
    "--strategy",
    "queue",
    "--workload",
    "sleep",
    "--unit-ms",
    "5",
];

/// `parlab run ARGS --record FILE --json` and `parlab replay FILE --json`.
fn run_and_replay(args: &[&str], file: &Path) -> (String, String) {
    let f = file.to_str().unwrap();
    let mut run = vec!["run"];
    run.extend_from_slice(args);
    run.extend(["--record", f, "--json"]);
    let live = stdout_of(&run);
    let replayed = stdout_of(&["replay", f, "--json"]);
    (live, replayed)
}

#[test]
fn a_replay_prints_the_json_the_run_printed_for_every_strategy() {
    let strategies = parlab::strategy::names();
    for s in &strategies {
        let file = scratch(&format!("{s}.parlab"));
        let (live, replayed) = run_and_replay(
            &[
                "--workload",
                "collatz",
                "--size",
                "20000",
                "--strategy",
                s,
                "--workers",
                "2",
            ],
            &file,
        );
        assert_eq!(
            live, replayed,
            "{s}: field for field, source and pid included"
        );
        let v: Value = serde_json::from_str(&live).unwrap();
        common::validate(&v);
        assert_eq!(v["source"], "native");
        assert!(v["events"]["received"].as_u64().unwrap() > 0, "{s}");
    }
    // A queue, a cache and the simulated GIL: their figures come back too.
    for (name, args) in [
        ("queue", QUEUE_RUN.to_vec()),
        ("fib", vec!["--workload", "fib", "--strategy", "pool"]),
        (
            "gil",
            vec![
                "--strategy",
                "threads",
                "--gil",
                "--workload",
                "collatz",
                "--size",
                "20000",
            ],
        ),
    ] {
        let (live, replayed) = run_and_replay(&args, &scratch(&format!("{name}.parlab")));
        assert_eq!(live, replayed, "{name}");
    }
}

#[test]
fn the_lecture_run_replays_and_exports_seven_named_thread_tracks() {
    let file = scratch("sleep.parlab");
    let (live, replayed) = run_and_replay(&["--workload", "sleep", "--strategy", "threads"], &file);
    assert_eq!(live, replayed);
    let out = scratch("sleep.trace.json");
    stdout_of(&[
        "export",
        file.to_str().unwrap(),
        "--format",
        "chrome-trace",
        "-o",
        out.to_str().unwrap(),
    ]);
    let trace: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    check_trace_event_format(&trace);
    let threads: Vec<&str> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(threads.len(), 7, "{threads:?}");
    assert!(
        threads.iter().all(|t| t.starts_with("Thread-")),
        "{threads:?}"
    );
    // Every task is a slice named as the lecture names it.
    let tasks: BTreeSet<&str> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["cat"] == "task" && e["ph"] == "X")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(tasks.len(), 7, "{tasks:?}");
    assert!(tasks.contains("Grumpy"));
    // --format json is the run JSON.
    assert_eq!(export(&file, "json"), live);
}

#[test]
fn queue_depth_cache_counters_and_log_lines_are_in_the_trace() {
    let q = scratch("q.parlab");
    run_and_replay(&QUEUE_RUN, &q);
    let trace = export_stdout(&q);
    check_trace_event_format(&trace);
    let events = trace["traceEvents"].as_array().unwrap();
    assert!(events
        .iter()
        .any(|e| e["ph"] == "C" && e["name"] == "queue depth"));
    let f = scratch("fib.parlab");
    run_and_replay(&["--workload", "fib", "--strategy", "sequential"], &f);
    let trace = export_stdout(&f);
    check_trace_event_format(&trace);
    let events = trace["traceEvents"].as_array().unwrap();
    assert!(events
        .iter()
        .any(|e| e["ph"] == "C" && e["name"] == "cache"));
    // A failed run: its failure replays, its log line is an instant event.
    let x = scratch("failed.parlab");
    let run = parlab(&[
        "run",
        "--workload",
        "shell",
        "--unit-ms",
        "5000",
        "--task-timeout-ms",
        "100",
        "--strategy",
        "sequential",
        "--json",
        "--record",
        x.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    let replayed = stdout_of(&["replay", x.to_str().unwrap(), "--json"]);
    assert_eq!(String::from_utf8_lossy(&run.stdout), replayed);
    let trace = export_stdout(&x);
    check_trace_event_format(&trace);
    let logs: Vec<&Value> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "i" && e["cat"] == "log")
        .collect();
    assert!(
        logs.iter()
            .any(|e| e["args"]["text"].as_str().unwrap().contains("failed")),
        "{logs:?}"
    );
}

/// `parlab export FILE --format FORMAT -o -`.
fn export(file: &Path, format: &str) -> String {
    stdout_of(&[
        "export",
        file.to_str().unwrap(),
        "--format",
        format,
        "-o",
        "-",
    ])
}

fn export_stdout(file: &Path) -> Value {
    serde_json::from_str(&export(file, "chrome-trace")).unwrap()
}

/// The Trace Event Format, as its specification writes it: an object with a
/// `traceEvents` array; every event a `name`, a `ph` of the phases used
/// here, a `pid` and `tid` (integers); `ts` in microseconds on every event
/// but metadata; `X` a `dur` ≥ 0; `C` numeric `args`; `i` a scope `s` of
/// g, p or t; `b`/`e` a `cat` and an `id`, each begun once and ended once;
/// `M` one of the metadata names with its `args`. And what Perfetto needs of
/// complete events on one thread: they nest (a slice ends inside its parent).
fn check_trace_event_format(trace: &Value) {
    let obj = trace.as_object().expect("the JSON Object Format");
    let events = obj["traceEvents"].as_array().expect("traceEvents");
    if let Some(u) = obj.get("displayTimeUnit") {
        assert!(u == "ms" || u == "ns", "displayTimeUnit {u}");
    }
    let mut slices: HashMap<(u64, u64), Vec<(f64, f64)>> = HashMap::new();
    let mut open: BTreeMap<(String, String), i64> = BTreeMap::new();
    for e in events {
        let ph = e["ph"].as_str().expect("ph");
        assert!(e["name"].is_string(), "name: {e}");
        let pid = e["pid"].as_u64().expect("integer pid");
        let tid = e["tid"].as_u64().expect("integer tid");
        if ph != "M" {
            assert!(e["ts"].as_f64().expect("ts") >= 0.0, "{e}");
        }
        match ph {
            "X" => {
                let dur = e["dur"].as_f64().expect("dur");
                assert!(dur >= 0.0);
                slices
                    .entry((pid, tid))
                    .or_default()
                    .push((e["ts"].as_f64().unwrap(), dur));
            }
            "C" => {
                let args = e["args"].as_object().expect("counter args");
                assert!(
                    !args.is_empty() && args.values().all(Value::is_number),
                    "{e}"
                );
            }
            "i" | "I" => assert!(
                matches!(e["s"].as_str(), Some("g" | "p" | "t")),
                "instant scope: {e}"
            ),
            "b" | "e" => {
                let key = (
                    e["cat"].as_str().expect("async cat").to_string(),
                    e["id"].to_string(),
                );
                *open.entry(key).or_default() += if ph == "b" { 1 } else { -1 };
            }
            "M" => {
                let name = e["name"].as_str().unwrap();
                match name {
                    "process_name" | "thread_name" => assert!(e["args"]["name"].is_string()),
                    "process_sort_index" | "thread_sort_index" => {
                        assert!(
                            e["args"]["sort_index"].is_i64() || e["args"]["sort_index"].is_u64()
                        )
                    }
                    other => panic!("unknown metadata {other}"),
                }
            }
            other => panic!("a phase this test does not know: {other}"),
        }
    }
    assert!(
        open.values().all(|&n| n == 0),
        "async events pair up: {open:?}"
    );
    for ((pid, tid), mut xs) in slices {
        xs.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut stack: Vec<f64> = Vec::new();
        for (ts, dur) in xs {
            while stack.last().is_some_and(|&end| end <= ts + 1e-6) {
                stack.pop();
            }
            if let Some(&end) = stack.last() {
                assert!(
                    ts + dur <= end + 1e-6,
                    "slices on {pid}/{tid} overlap without nesting"
                );
            }
            stack.push(ts + dur);
        }
    }
}

#[test]
fn a_cut_recording_replays_what_it_holds() {
    let file = scratch("long.parlab");
    run_and_replay(
        &[
            "--workload",
            "collatz",
            "--size",
            "400000",
            "--tasks",
            "400",
            "--strategy",
            "pool",
            "--workers",
            "2",
        ],
        &file,
    );
    let bytes = std::fs::read(&file).unwrap();
    let half = scratch("half.parlab");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let out = parlab(&["replay", half.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "a cut recording replays: exit 0");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("half.parlab") && err.contains("ends at byte"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["truncated"], true);
    assert!(
        v.get("result").is_none(),
        "no result: the run's end is not in it"
    );
    let full: Value =
        serde_json::from_str(&stdout_of(&["replay", file.to_str().unwrap(), "--json"])).unwrap();
    let (h, f) = (
        v["events"]["received"].as_u64().unwrap(),
        full["events"]["received"].as_u64().unwrap(),
    );
    assert!(h > 0 && h < f, "the first half: {h} of {f} events");
}

#[test]
fn not_a_recording_or_a_newer_one_is_one_line_and_status_2() {
    let junk = scratch("junk.parlab");
    std::fs::write(&junk, b"hello, I am not a recording").unwrap();
    let out = parlab(&["replay", junk.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("junk.parlab") && err.contains("not a parlab recording"),
        "{err}"
    );

    let file = scratch("newer.parlab");
    run_and_replay(
        &[
            "--workload",
            "sleep",
            "--strategy",
            "sequential",
            "--unit-ms",
            "1",
        ],
        &file,
    );
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[8..10].copy_from_slice(&999u16.to_le_bytes());
    std::fs::write(&file, &bytes).unwrap();
    for cmd in [&["replay"][..], &["export"]] {
        let mut args = cmd.to_vec();
        args.push(file.to_str().unwrap());
        if cmd[0] == "export" {
            args.extend(["--format", "json"]);
        }
        let out = parlab(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("newer.parlab")
                && err.contains("version 999")
                && err.contains(&format!("versions 1 to {}", parlab::recording::VERSION)),
            "{err}"
        );
    }
    let out = parlab(&["replay", "/no/such/file.parlab"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.parlab"));
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_ends_the_recording_not_the_run() {
    let out = parlab(&[
        "run",
        "--workload",
        "sleep",
        "--strategy",
        "threads",
        "--unit-ms",
        "1",
        "--record",
        "/dev/full",
        "--json",
    ]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["result"]["tasks"].as_array().map(Vec::len), Some(7));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("recording to /dev/full ended") && err.contains("the run goes on"),
        "{err}"
    );
}

#[test]
fn a_sweep_records_every_run() {
    let file = scratch("sweep.parlab");
    let out = parlab(&[
        "sweep",
        "--workload",
        "collatz",
        "--size",
        "20000",
        "--strategy",
        "pool",
        "--workers",
        "1..2",
        "--repeat",
        "2",
        "--wait-quiet",
        "0",
        "--json",
        "--record",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replayed = stdout_of(&["replay", file.to_str().unwrap(), "--json"]);
    let runs: Vec<Value> = replayed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 4, "two worker counts, two repeats each");
    let workers: Vec<u64> = runs
        .iter()
        .map(|r| r["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(workers, [1, 1, 2, 2]);
    let trace = export_stdout(&file);
    check_trace_event_format(&trace);
}

#[cfg(unix)]
#[test]
fn a_killed_run_leaves_a_readable_prefix() {
    let file = scratch("killed.parlab");
    let mut child = Command::new(BIN)
        .args([
            "--no-config",
            "run",
            "--workload",
            "sleep",
            "--strategy",
            "threads",
            "--unit-ms",
            "1000",
            "--record",
            file.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Long enough for the first frames (written every 200 ms) to be on disk.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: SIGKILL to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let out = parlab(&["replay", file.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["truncated"], true);
    assert_eq!(
        v["lanes"].as_array().unwrap().len(),
        7,
        "every lane announced before the kill"
    );
}
