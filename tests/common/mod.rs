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

/// The children of `pid`, by `pgrep -P` (Linux and macOS).
pub fn children(pid: u32) -> Vec<u32> {
    let out = Command::new("pgrep")
        .arg("-P")
        .arg(pid.to_string())
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Every descendant of `pid`, children first.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for kid in children(p) {
            all.push(kid);
            frontier.push(kid);
        }
    }
    all
}

/// Wait (up to 10 s) until `pid` has at least `n` children, and return them.
pub fn wait_for_children(pid: u32, n: usize) -> Vec<u32> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let kids = children(pid);
        if kids.len() >= n || std::time::Instant::now() > deadline {
            assert_eq!(kids.len(), n, "children of {pid}");
            return kids;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether `pid` is gone within 3 s: a killed process is reaped by its
/// parent, or by init once reparented, a moment later.
pub fn gone(pid: u32) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while exists(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    !exists(pid)
}

/// Flags for a CPU job long enough to outlast any test, on two worker processes.
pub const LONG_PROCESS_POOL_RUN: [&str; 8] = [
    "--workload",
    "collatz",
    "--size",
    "900000000",
    "--strategy",
    "process-pool",
    "--workers",
    "2",
];

/// The machine's logical cores, as parlab counts them.
pub fn cores() -> u32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1)
}

/// A busy neighbour: one core's worth of spinning, until dropped.
pub struct Hog(std::process::Child);

impl Hog {
    pub fn start() -> Self {
        let child = Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("sh spins");
        // Let it be scheduled before the run starts measuring.
        std::thread::sleep(std::time::Duration::from_millis(200));
        Self(child)
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Check a run's JSON against `tests/run.schema.json`.
pub fn validate(instance: &serde_json::Value) {
    validate_with(
        include_str!("../run.schema.json"),
        "run.schema.json",
        instance,
    );
}

/// Check `instance` against the JSON schema `schema` (named `name` in the message).
pub fn validate_with(schema: &str, name: &str, instance: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource(name, schema).unwrap();
    let id = compiler.compile(name, &mut schemas).unwrap();
    if let Err(e) = schemas.validate(instance, id) {
        panic!("JSON does not match tests/{name}: {e:#}\n{instance:#}");
    }
}

/// What a TestBackend shows, row by row.
pub fn screen(terminal: &ratatui::Terminal<ratatui::backend::TestBackend>) -> String {
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The theme the render tests draw with: no colour, so text compares.
pub fn plain_theme() -> parlab::ui::theme::Theme {
    parlab::ui::theme::Theme {
        color: false,
        light: false,
    }
}

/// Whether there is a python3 of 3.9 or later (says SKIPPED where not).
pub fn python3_ok() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import sys; print(sys.version_info >= (3, 9))"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "True");
    if !ok {
        eprintln!("SKIPPED: no python3 of 3.9 or later on the PATH");
    }
    ok
}

/// `parlab py ARGS --json`, its JSON (checked against the schema) and exit status.
pub fn py(args: &[&str]) -> (serde_json::Value, Option<i32>) {
    let mut all = vec!["py", "--json"];
    all.extend_from_slice(args);
    let out = parlab(&all);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "parlab {all:?}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    validate(&v);
    (v, out.status.code())
}

/// Every pyenv CPython of 3.9 and later installed here (the ignored suite
/// runs on each); says SKIPPED where there is none.
pub fn installed_cpythons() -> Vec<String> {
    let root = std::env::var("PYENV_ROOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".pyenv")
        });
    let mut found = Vec::new();
    for v in ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"] {
        let Ok(dirs) = std::fs::read_dir(root.join("versions")) else {
            break;
        };
        let mut names: Vec<_> = dirs.flatten().collect();
        names.sort_by_key(|d| d.file_name());
        for d in names {
            let name = d.file_name().to_string_lossy().into_owned();
            let exe = d.path().join("bin/python3");
            if name.starts_with(&format!("{v}.")) && exe.exists() {
                found.push(exe.to_string_lossy().into_owned());
            }
        }
    }
    if found.is_empty() {
        eprintln!("SKIPPED: no pyenv CPython 3.9+ found");
    }
    found
}

/// A Python script written for one test, in a folder of its own: its path.
pub fn script(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "parlab-{}-{}",
        name.trim_end_matches(".py"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Two tests of one check on real Python: `$quick` on `python3` (skipped,
/// saying so, without one), `$every` on every installed CPython (ignored
/// suite).
#[allow(unused_macros)]
macro_rules! on_pythons {
    ($quick:ident, $every:ident, $check:path) => {
        #[test]
        fn $quick() {
            if common::python3_ok() {
                $check("python3");
            }
        }

        #[test]
        #[ignore = "long: every installed CPython, in the ignored suite"]
        fn $every() {
            for exe in common::installed_cpythons() {
                eprintln!("{exe}");
                $check(&exe);
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_pythons;
