//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The real binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_parlab");

/// `parlab --no-config ARGS...`, so a developer's own config never leaks in.
pub fn parlab(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--no-config")
        .args(args)
        .output()
        .expect("parlab runs")
}

/// `parlab --no-config run ARGS... --json`, parsed; panics unless it exits 0.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = parlab(&all);
    assert!(
        out.status.success(),
        "parlab {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

/// Whether a process with this pid still exists (a zombie counts).
pub fn exists(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}
