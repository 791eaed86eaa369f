//! What a live demo throws at parlab: bad config files, panicking workers,
//! signals, a crashing UI. Each through the real binary.
#![cfg(unix)]

mod common;
use common::{descendants, gone, parlab, wait_for_children, BIN};
use serde_json::Value;
use std::process::Command;

#[test]
fn each_kind_of_config_error_names_the_file_line_and_key() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/config");
    let cases = [
        ("unknown_key.toml", "line 4", "workerz", "expected one of"),
        ("wrong_type.toml", "line 3", "workers", "invalid type"),
        ("out_of_range.toml", "line 3", "capacity", "1..=1000000"),
        ("bad_value.toml", "line 2", "strategy", "process-pool"),
        ("bad_fraction.toml", "line 4", "serial", "0..=1"),
        (
            "top_level_key.toml",
            "line 2",
            "key `wrokload`",
            "sections such as [run]",
        ),
        (
            "key_outside_its_section.toml",
            "line 2",
            "key `workers`",
            "[run]",
        ),
    ];
    for (file, line, key, valid) in cases {
        let out = Command::new(BIN)
            .args(["run", "--config"])
            .arg(format!("{dir}/{file}"))
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{file}: one line: {err}");
        for needle in [file, line, key, valid] {
            assert!(
                err.contains(needle),
                "{file}: '{needle}' missing from: {err}"
            );
        }
    }
}

#[test]
fn a_panicking_worker_thread_is_a_failed_task_and_exit_status_1() {
    for on_error in ["stop", "continue"] {
        let out = Command::new(BIN)
            .args([
                "--no-config",
                "run",
                "--workload",
                "collatz",
                "--size",
                "64000",
                "--strategy",
                "pool",
                "--workers",
                "2",
                "--json",
                "--on-error",
                on_error,
            ])
            .env("PARLAB_FAULT", "task-panic:chunk-3")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{on_error}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let f = &v["failures"][0];
        assert_eq!(f["task"], "chunk-3");
        assert!(f["lane"].as_str().unwrap().starts_with("worker-"));
        assert!(
            f["reason"]
                .as_str()
                .unwrap()
                .contains("panicked: injected fault"),
            "{f}"
        );
        assert!(v.get("result").is_none());
        let failed_lane =
            v["lanes"].as_array().unwrap().iter().any(|l| {
                l["name"] == f["lane"] && l["state_ms"]["failed"].as_f64().unwrap() >= 0.0
            });
        assert!(failed_lane);
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("chunk-3") && !err.contains("RUST_BACKTRACE"),
            "the panic is reported once, as a failure: {err}"
        );
        if on_error == "continue" {
            let done: u64 = v["lanes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["tasks"].as_u64().unwrap())
                .sum();
            assert_eq!(done, 31, "the other tasks finished");
        }
    }
}

#[test]
fn sigterm_and_sighup_stop_a_headless_run_and_reap_its_workers() {
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
        let child = Command::new(BIN)
            .args(["--no-config", "run", "--json"])
            .args(common::LONG_PROCESS_POOL_RUN)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let workers = wait_for_children(pid, 2);
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid as i32, sig) };
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(128 + sig),
            "signal {sig}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["cancelled"], true);
        for w in workers {
            assert!(gone(w), "worker {w} outlived parlab after signal {sig}");
        }
    }
}

#[test]
fn a_shell_task_that_fails_or_hangs_is_a_failed_task() {
    let out = parlab(&[
        "run",
        "--workload",
        "shell",
        "--unit-ms",
        "5000",
        "--task-timeout-ms",
        "100",
        "--strategy",
        "pool",
        "--workers",
        "7",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["failures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{}",
        v["failures"]
    );
}

/// parlab running seven long shell tasks on threads, and its whole family:
/// seven shells, each with its sleep.
fn shell_family() -> (std::process::Child, Vec<u32>) {
    let child = Command::new(BIN)
        .args([
            "--no-config",
            "run",
            "--workload",
            "shell",
            "--unit-ms",
            "5000",
            "--strategy",
            "threads",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let family = loop {
        let d = descendants(child.id());
        if d.len() >= 14 || std::time::Instant::now() > deadline {
            break d;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(family.len() >= 14, "{family:?}");
    (child, family)
}

#[test]
fn no_shell_grandchild_outlives_a_signalled_parlab() {
    let (child, family) = shell_family();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143));
    for p in family {
        assert!(gone(p), "descendant {p} outlived parlab");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn no_shell_grandchild_outlives_a_killed_parlab() {
    let (mut child, family) = shell_family();
    // No chance to clean up: the kernel tells each script, which takes its sleep down.
    child.kill().unwrap();
    child.wait().unwrap();
    for p in family {
        assert!(gone(p), "descendant {p} outlived a killed parlab");
    }
}
