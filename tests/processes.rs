//! Real worker processes: their own pids, every one reaped, a killed one reported.
#![cfg(unix)]

mod common;
use common::{exists, gone, run_json, wait_for_children, BIN};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn workers_are_other_processes_and_none_remains_after_the_run() {
    for s in ["processes", "process-pool"] {
        let v = run_json(&[
            "--workload",
            "fib",
            "--inputs",
            "20,21,22,23",
            "--strategy",
            s,
            "--workers",
            "2",
        ]);
        let top = v["pid"].as_u64().unwrap();
        let lanes = v["lanes"].as_array().unwrap();
        assert!(!lanes.is_empty());
        for lane in lanes {
            let pid = lane["pid"].as_u64().unwrap();
            assert_ne!(pid, top, "{s}: a worker runs in its own process");
            assert!(lane["spawn_ms"].as_f64().unwrap() > 0.0);
            assert!(!exists(pid as u32), "{s}: worker {pid} outlived the run");
        }
        // Each process has its own cache, and the JSON shows each one.
        let per = v["cache"]["per_process"].as_array().unwrap();
        assert_eq!(per.len(), lanes.len());
        let hits: u64 = per.iter().map(|p| p["hits"].as_u64().unwrap()).sum();
        assert_eq!(v["cache"]["hits"].as_u64().unwrap(), hits);
    }
}

#[test]
fn a_killed_worker_fails_the_run_naming_its_lane_pid_and_task_and_nothing_is_left() {
    let mut parlab = Command::new(BIN)
        .args(["--no-config", "run", "--json"])
        .args(common::LONG_PROCESS_POOL_RUN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let workers = wait_for_children(parlab.id(), 2);
    std::thread::sleep(Duration::from_millis(200));
    let victim = workers[0];
    // SAFETY: plain kill(2) of our own grandchild.
    unsafe { libc::kill(victim as i32, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = parlab.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "parlab hung after a worker died");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    parlab
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    parlab
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {victim}")) && stderr.contains("process-"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("the JSON is still printed");
    let f = &v["failures"][0];
    assert_eq!(f["pid"], victim);
    assert!(f["lane"].as_str().unwrap().starts_with("process-"));
    assert!(f["task"].as_str().unwrap().starts_with("chunk"), "{f}");
    assert!(f["reason"].as_str().unwrap().contains("signal"), "{f}");
    for pid in workers {
        assert!(gone(pid), "worker {pid} left behind");
    }
}

#[test]
fn a_missing_worker_executable_is_a_clear_error_not_a_hang() {
    let out = Command::new(BIN)
        .args([
            "--no-config",
            "run",
            "--strategy",
            "process-pool",
            "--worker-exe",
            "/nonexistent/parlab",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("cannot start worker process '/nonexistent/parlab'"),
        "{err}"
    );
}

#[test]
fn a_worker_exits_when_parlab_goes() {
    // A worker whose stdin closes without a goodbye exits at once.
    let mut w = Command::new(BIN)
        .arg("worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(w.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    while w.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the worker outlived its parent's pipe"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
