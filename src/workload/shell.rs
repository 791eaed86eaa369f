//! `subprocess.run([...], check=True, capture_output=True)`: every task is a
//! real child process running a small script (bundled in the binary) that
//! sleeps its units and prints `Task "NAME" completed in N units`.
//!
//! Each command runs in its own process group, and the whole group is killed
//! on timeout, stop or quit, so no grandchild (the script's `sleep`) survives.

use super::sleep::{seven_specs, seven_tasks, UNIT_MS};
use super::{Descriptor, LocalFuture, TaskCtx, TaskSpec, Workload};
use crate::control::Control;
use crate::param::{Default, Kind, Param, Step, Values};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The bundled script, embedded so parlab works from any folder.
pub const SCRIPT: &str = include_str!("../../assets/task.sh");

/// The workload's one description.
pub const DESCRIPTOR: Descriptor = Descriptor {
    name: "shell",
    about: "subprocess: each task a real child process running a script",
    params: &[
        UNIT_MS,
        Param {
            key: "task_timeout_ms",
            help: "a command running longer than this is killed with its whole process group",
            kind: Kind::Int {
                min: 1,
                max: u64::MAX,
            },
            default: Default::Int(30_000),
            label: "timeout ms",
            step: Step::Hidden,
        },
        Param {
            key: "script",
            help: "a script to run instead of the bundled one, as: sh SCRIPT NAME UNITS UNIT_MS",
            kind: Kind::Program,
            default: Default::Absent("bundled", "the bundled script"),
            label: "script",
            step: Step::Hidden,
        },
        Param {
            key: "count",
            help: "how many tasks",
            kind: Kind::Int { min: 1, max: 1024 },
            default: Default::Absent("seven", "the lecture's seven"),
            label: "count",
            step: Step::Hidden,
        },
        Param {
            key: "units",
            help: "every task sleeps this many units",
            kind: Kind::Int { min: 1, max: 1000 },
            default: Default::Absent("seeded", "a seeded 1-10 each"),
            label: "units",
            step: Step::Hidden,
        },
    ],
    label: &["unit_ms"],
    result: &["tasks", "unit_ms"],
    needs_shared_memory: false,
    build: |v, seed| Ok(Arc::new(Shell::new(&Params::from(v), seed)?)),
};

/// The parameters, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Milliseconds in one time unit.
    pub unit_ms: u64,
    /// A command running longer than this is killed (with its process group).
    pub task_timeout_ms: u64,
    /// A script to run instead of the bundled one: `sh SCRIPT NAME UNITS UNIT_MS`.
    pub script: Option<String>,
    /// How many tasks; absent: the lecture's seven.
    pub count: Option<u32>,
    /// Every task's units; absent: a seeded 1-10 each.
    pub units: Option<u32>,
}

impl From<&Values> for Params {
    fn from(v: &Values) -> Self {
        Self {
            unit_ms: v.int("unit_ms"),
            task_timeout_ms: v.int("task_timeout_ms"),
            script: v.text("script").map(String::from),
            count: v.opt_int("count").map(|c| c as u32),
            units: v.opt_int("units").map(|u| u as u32),
        }
    }
}

impl std::default::Default for Params {
    fn default() -> Self {
        Self::from(&Values::defaults(DESCRIPTOR.params))
    }
}

/// The shell workload.
pub struct Shell {
    tasks: Vec<(String, u32)>,
    params: Params,
}

impl Shell {
    /// The tasks; refused where there is no POSIX sh.
    pub fn new(p: &Params, seed: u64) -> Result<Self> {
        if cfg!(not(unix)) {
            bail!(crate::UserError::new(
                "the shell workload needs a POSIX sh (Linux or macOS)"
            ));
        }
        Ok(Self {
            tasks: shell_tasks(p, seed),
            params: p.clone(),
        })
    }

    fn spawn(&self, task: &TaskSpec) -> Result<Running> {
        let mut cmd = Command::new("sh");
        match &self.params.script {
            Some(path) => cmd.arg(path),
            None => cmd.arg("-c").arg(SCRIPT).arg("task.sh"),
        };
        cmd.arg(&task.name)
            .arg(task.units.unwrap_or(0).to_string())
            .arg(self.params.unit_ms.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // If parlab dies without a chance to clean up (SIGKILL), the
        // script gets TERM and takes its sleep with it.
        #[cfg(unix)]
        crate::child::in_own_group(&mut cmd, libc::SIGTERM);
        let mut child = cmd.spawn().context("cannot start sh")?;
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        Ok(Running {
            child,
            stdout,
            stderr,
            started: Instant::now(),
            timeout: Duration::from_millis(self.params.task_timeout_ms),
        })
    }

    fn output(&self, task: &TaskSpec, run: Running, status: ExitStatus) -> Result<Value> {
        let stdout = run.stdout.join().unwrap_or_default();
        let stderr = run.stderr.join().unwrap_or_default();
        if !status.success() {
            bail!(
                "command for {} failed ({status}): {}",
                task.name,
                stderr.trim()
            );
        }
        Ok(json!({
            "name": task.name,
            "units": task.units,
            "exit_code": status.code(),
            "stdout": stdout.trim_end(),
        }))
    }
}

/// The lecture's seven tasks, or `count` of them (names cycling), each of
/// `units` or a seeded 1-10.
fn shell_tasks(p: &Params, seed: u64) -> Vec<(String, u32)> {
    let seeded = seven_tasks(seed);
    let mut rng = super::SplitMix64::new(seed);
    (0..p.count.unwrap_or(7) as usize)
        .map(|i| {
            let (name, units) = seeded[i % 7];
            let name = if i < 7 {
                name.to_string()
            } else {
                format!("{name}-{}", i / 7 + 1)
            };
            let units = match (p.units, i < 7) {
                (Some(u), _) => u,
                (None, true) => units,
                (None, false) => rng.range(1, 10) as u32,
            };
            (name, units)
        })
        .collect()
}

/// A command under way.
struct Running {
    child: Child,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
    started: Instant,
    timeout: Duration,
}

impl Running {
    /// `Some` once the command has exited; an error once it must be stopped.
    fn poll(&mut self, cancel: &Control) -> Result<Option<ExitStatus>> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(Some(status));
        }
        if cancel.is_cancelled() {
            self.kill();
            return Err(crate::control::Cancelled.into());
        }
        if self.started.elapsed() > self.timeout {
            self.kill();
            return Err(anyhow!(
                "timed out after {} ms (killed)",
                self.timeout.as_millis()
            ));
        }
        Ok(None)
    }

    /// Kill the command's whole process group, then reap it.
    fn kill(&mut self) {
        kill_group(&mut self.child);
        let _ = self.child.wait();
    }
}

pub use crate::child::kill_group;

/// Read a pipe to its end on a helper thread, so a chatty command never blocks.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut s);
        }
        s
    })
}

const POLL: Duration = Duration::from_millis(2);

impl Workload for Shell {
    fn tasks(&self) -> Vec<TaskSpec> {
        seven_specs(&self.tasks)
    }

    fn run(&self, task: &TaskSpec, ctx: &mut TaskCtx) -> Result<Value> {
        let mut run = self.spawn(task)?;
        let status = ctx.io(|cancel| loop {
            match run.poll(cancel) {
                Ok(Some(status)) => return Ok(status),
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => return Err(e),
            }
        })?;
        self.output(task, run, status)
    }

    fn run_async<'a>(&'a self, task: &'a TaskSpec, cancel: &'a Control) -> Option<LocalFuture<'a>> {
        Some(Box::pin(async move {
            let mut run = self.spawn(task)?;
            let status = loop {
                match run.poll(cancel)? {
                    Some(status) => break status,
                    None => {
                        async_io::Timer::after(POLL).await;
                    }
                }
            };
            self.output(task, run, status)
        }))
    }

    fn result(&self, outputs: &[Value]) -> Value {
        json!({ "tasks": outputs, "unit_ms": self.params.unit_ms })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::workload::testing::{run_sequentially, try_run_sequentially};

    #[test]
    fn each_task_is_a_real_command_with_its_output() {
        let w = Shell::new(
            &Params {
                unit_ms: 1,
                ..Params::default()
            },
            3,
        )
        .unwrap();
        let r = run_sequentially(&w);
        let tasks = r["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), 7);
        for t in tasks {
            assert_eq!(t["exit_code"], 0);
            let expect = format!(
                "Task \"{}\" completed in {} units",
                t["name"].as_str().unwrap(),
                t["units"]
            );
            assert_eq!(t["stdout"], expect);
        }
    }

    #[test]
    fn a_failing_command_is_a_failed_task_with_its_stderr() {
        let dir = std::env::temp_dir().join(format!("parlab-shell-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("fail.sh");
        std::fs::write(&script, "echo broken pipe dream >&2; exit 3\n").unwrap();
        let p = Params {
            unit_ms: 1,
            script: Some(script.display().to_string()),
            ..Params::default()
        };
        let err = try_run_sequentially(&Shell::new(&p, 1).unwrap()).unwrap_err();
        assert!(err.to_string().contains("broken pipe dream"), "{err}");
    }

    #[test]
    fn a_hung_command_is_killed_at_its_timeout() {
        let p = Params {
            unit_ms: 60_000,
            task_timeout_ms: 50,
            ..Params::default()
        };
        let err = try_run_sequentially(&Shell::new(&p, 1).unwrap()).unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
    }
}
