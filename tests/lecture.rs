//! The lecture's bundled programs: listed and printed by `parlab lecture`,
//! and each, as printed, run by the machine's `python3` (every installed
//! CPython in the ignored suite), its last line checked against what it
//! computes, and where parlab models the same thing, against the model.

mod common;

use common::parlab;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every program, written where a Python can run it, as `parlab lecture NAME` prints it.
fn scripts() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-lecture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for s in &parlab::lecture::SCRIPTS {
        let out = parlab(&["lecture", s.name]);
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), s.source);
        std::fs::write(dir.join(format!("{}.py", s.name)), s.source).unwrap();
    }
    dir
}

/// The machine's `python3` if it is CPython 3.9 or later, or `None` (said) where not.
fn python3() -> Option<PathBuf> {
    let version = Command::new("python3")
        .args(["-c", "import sys; print(sys.version_info >= (3, 9))"])
        .output();
    match version {
        Ok(o) if String::from_utf8_lossy(&o.stdout).trim() == "True" => {
            Some(PathBuf::from("python3"))
        }
        Ok(_) => {
            eprintln!(
                "SKIPPED: python3 here is older than 3.9; the lecture's programs were not run"
            );
            None
        }
        Err(_) => {
            eprintln!("SKIPPED: no python3 on the PATH; the lecture's programs were not run");
            None
        }
    }
}

/// Run `script` with `args` under `python`: its last stdout line, parsed, and stderr.
fn run(python: &Path, dir: &Path, script: &str, args: &[&str]) -> (Value, String) {
    let out = Command::new(python)
        .arg(dir.join(format!("{script}.py")))
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{} {script} {args:?}: {stderr}",
        python.display()
    );
    let last = stdout.lines().last().unwrap_or_default();
    let v = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{script}: last line is not JSON ({e}): {last}"));
    (v, stderr)
}

#[test]
fn parlab_lecture_lists_every_program_and_names_the_valid_ones() {
    let out = parlab(&["lecture"]);
    assert!(out.status.success());
    let list = String::from_utf8(out.stdout).unwrap();
    for s in &parlab::lecture::SCRIPTS {
        assert!(list.contains(s.name) && list.contains(s.about), "{list}");
    }
    let out = parlab(&["lecture", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1);
    assert!(
        err.contains("'nope'") && err.contains("seven_tasks, cpu"),
        "{err}"
    );
}

/// Every program under one interpreter: `--help`, and a quick run of each
/// checked for what it computes.
fn every_program(python: &Path) {
    let dir = scripts();
    for s in &parlab::lecture::SCRIPTS {
        let help = Command::new(python)
            .arg(dir.join(format!("{}.py", s.name)))
            .arg("--help")
            .output()
            .unwrap();
        assert!(help.status.success(), "{} --help", s.name);
        assert!(String::from_utf8_lossy(&help.stdout).contains("usage:"));
    }

    // The seven tasks sleep the units parlab's native sleep workload draws.
    let native = common::run_json(&[
        "--workload",
        "sleep",
        "--unit-ms",
        "1",
        "--strategy",
        "threads",
    ]);
    for mode in [
        "sequential",
        "threads",
        "processes",
        "thread-pool",
        "process-pool",
        "asyncio",
    ] {
        let (v, log) = run(
            python,
            &dir,
            "seven_tasks",
            &["--unit-ms", "2", "--mode", mode],
        );
        assert_eq!(v["tasks"], native["result"]["tasks"], "{mode}");
        assert_eq!(
            log.matches("INFO:execute_task: ").count(),
            7,
            "{mode}: {log}"
        );
        // [HH:MM:SS.mmm] INFO:execute_task: NAME (thread THREAD/TID, pid PID) completed in N units
        for line in log.lines().filter(|l| l.contains("execute_task")) {
            let (stamp, rest) = line.split_at(15);
            assert!(
                stamp.starts_with('[') && stamp.ends_with("] ") && &stamp[3..4] == ":",
                "{line}"
            );
            assert!(
                rest.contains(" (thread ") && rest.contains(", pid ") && rest.ends_with(" units"),
                "{line}"
            );
        }
        if mode == "threads" {
            assert!(
                log.contains("(thread Thread-"),
                "Python's own thread names: {log}"
            );
        }
    }

    // Collatz: the reference numbers in every mode, as parlab's native collatz.
    for mode in [
        "sequential",
        "threads",
        "processes",
        "thread-pool",
        "process-pool",
        "pool",
    ] {
        let (v, _) = run(
            python,
            &dir,
            "cpu",
            &["--mode", mode, "--workers", "2", "--size", "9999"],
        );
        assert_eq!(
            (
                v["sum_len"].as_u64(),
                v["max_len"].as_u64(),
                v["argmax"].as_u64()
            ),
            (Some(859636), Some(262), Some(6171)),
            "{mode}"
        );
    }
    let (spawned, _) = run(
        python,
        &dir,
        "cpu",
        &[
            "--mode",
            "processes",
            "--start-method",
            "spawn",
            "--size",
            "999",
        ],
    );
    assert_eq!(spawned["start_method"], "spawn");
    let (one, _) = run(python, &dir, "cpu", &["--work", "hash", "--size", "2"]);
    let (two, _) = run(
        python,
        &dir,
        "cpu",
        &["--work", "hash", "--size", "2", "--mode", "threads"],
    );
    assert_eq!(one["combined"], two["combined"]);

    // lru_cache's own counters are the native fib's, to the hit.
    let (v, _) = run(python, &dir, "lru_fib", &["--n", "30", "--maxsize", "16"]);
    assert_eq!(v["fib"], 832040);
    let native = common::run_json(&[
        "--workload",
        "fib",
        "--inputs",
        "30",
        "--cache-size",
        "16",
        "--strategy",
        "sequential",
    ]);
    for k in ["hits", "misses", "currsize", "maxsize"] {
        assert_eq!(
            v[k], native["cache"][k],
            "{k}: CPython {v} vs parlab {}",
            native["cache"]
        );
    }
    let (v, _) = run(python, &dir, "lru_fib", &["--n", "15", "--maxsize", "none"]);
    assert_eq!(
        (v["fib"].as_u64(), v["maxsize"].is_null()),
        (Some(610), true)
    );

    for kind in ["fifo", "lifo", "priority"] {
        let (v, _) = run(
            python,
            &dir,
            "producer_consumer",
            &[
                "--queue",
                kind,
                "--items",
                "12",
                "--work-ms",
                "1",
                "--rate",
                "0",
                "--producers",
                "2",
            ],
        );
        assert_eq!(v["consumed"], 24, "{kind}");
        assert_eq!(v["checksum"], v["expected_checksum"], "{kind}");
    }

    for demo in [
        "lock",
        "rlock",
        "semaphore",
        "event",
        "condition",
        "barrier",
        "timer",
        "queue",
        "deadlock",
    ] {
        let (v, _) = run(
            python,
            &dir,
            "locks",
            &["--demo", demo, "--rounds", "20", "--timeout", "0.2"],
        );
        match demo {
            "lock" | "rlock" => assert_eq!(v["counter"], v["expected"]),
            "semaphore" => assert!(v["most_inside"].as_u64().unwrap() <= 2),
            "event" => assert_eq!(
                (
                    v["woken_before_set"].as_u64(),
                    v["woken_after_set"].as_u64()
                ),
                (Some(0), Some(4))
            ),
            "condition" => assert_eq!(v["taken"], v["produced"]),
            "barrier" => assert_eq!(v["rounds_in_order"], true),
            "timer" => assert_eq!(v["fired"].as_array().map(Vec::len), Some(1)),
            "queue" => assert_eq!((&v["got"], &v["left"]), (&v["expected"], &0.into())),
            _ => assert_eq!(v["deadlocked"], true, "{v}"),
        }
    }

    let (v, _) = run(python, &dir, "races", &["--increments", "20000", "--lock"]);
    assert_eq!(v["lost"], 0);
    let (v, _) = run(python, &dir, "races", &["--increments", "20000"]);
    assert!(v["counter"].as_u64() <= v["expected"].as_u64());
    let (v, err) = run(
        python,
        &dir,
        "races",
        &["--demo", "dict", "--increments", "3000"],
    );
    let errors = v["thread_errors"].as_array().unwrap();
    assert!(
        errors.iter().all(|e| e
            .as_str()
            .unwrap()
            .contains("changed size during iteration")),
        "{v}"
    );
    assert_eq!(
        errors.is_empty(),
        !err.contains("changed size during iteration")
    );

    let (v, _) = run(python, &dir, "start_methods", &["--processes", "1"]);
    assert!(v["default"].is_string());
    assert!(v["spawn"]["to_first_line_ms_median"].as_f64().unwrap() > 0.0);

    let (v, _) = run(
        python,
        &dir,
        "subprocess_tasks",
        &["--tasks", "3", "--seconds", "0.05"],
    );
    assert_eq!(v["failed"], 0);
    assert_eq!(v["tasks"].as_array().map(Vec::len), Some(3));

    let (v, _) = run(python, &dir, "asyncio_tasks", &["--unit-ms", "2"]);
    let (seven, _) = run(
        python,
        &dir,
        "seven_tasks",
        &["--unit-ms", "1", "--mode", "sequential"],
    );
    assert_eq!(
        v["tasks"], seven["tasks"],
        "the same seven units as seed 42 draws"
    );
    let (v, _) = run(
        python,
        &dir,
        "asyncio_tasks",
        &["--demo", "blocking", "--size", "20000"],
    );
    // While the coroutine computed, the ticker could not tick.
    assert!(
        v["longest_tick_gap_ms"].as_f64() >= v["blocked_ms"].as_f64(),
        "{v}"
    );
}

#[test]
fn every_program_runs_under_python3_and_computes_what_it_says() {
    if let Some(python) = python3() {
        every_program(&python);
    }
}

/// Every CPython 3.9 or later that pyenv has here.
fn installed_cpythons() -> Vec<PathBuf> {
    let root = std::env::var("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".pyenv")
        });
    let Ok(dirs) = std::fs::read_dir(root.join("versions")) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = dirs
        .flatten()
        .filter(|d| {
            let name = d.file_name().to_string_lossy().into_owned();
            let mut parts = name.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            matches!((parts.next(), parts.next()), (Some(3), Some(minor)) if minor >= 9)
        })
        .map(|d| d.path().join("bin/python3"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found
}

#[test]
#[ignore = "long: every installed CPython, in the ignored suite"]
fn every_program_runs_under_every_installed_cpython() {
    let pythons = installed_cpythons();
    if pythons.is_empty() {
        eprintln!("SKIPPED: no pyenv CPython 3.9+ found");
    }
    for python in pythons {
        eprintln!("{}", python.display());
        every_program(&python);
    }
}
