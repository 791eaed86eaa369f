//! What a run runs, whichever source runs it: a native run's settings
//! ([`RunSpec`]) or a Python program ([`Program`]). Low in the tree: the
//! sources, the model, the report and the views all read it, and it reads
//! nothing above the workloads and strategies.

use crate::param::{Default, Kind, Origin, Param, Step, Values};
use crate::strategy::{self, OnError, StrategySpec, Workers};
use crate::workload::{self, WorkloadSpec};
use crate::UserError;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use crate::strategy::MAX_WORKERS;

/// `--workers`: the one table row for its range.
pub const WORKERS: Param = Param {
    key: "workers",
    help: "worker threads or processes",
    kind: Kind::Int {
        min: 1,
        max: MAX_WORKERS as u64,
    },
    default: Default::Absent(
        "auto",
        "the logical cores; threads and processes: one per task",
    ),
    label: "workers",
    step: Step::One,
};

/// `--switch-interval-ms`: the simulated GIL's switch interval.
pub const SWITCH_INTERVAL_MS: Param = Param {
    key: "switch_interval_ms",
    help: "GIL switch interval in ms, like sys.setswitchinterval",
    kind: Kind::Float {
        min: 0.0,
        max: 10_000.0,
        open: true,
    },
    default: Default::Float(5.0),
    label: "switch ms",
    step: Step::Double,
};

/// `--duration`: a soak's length.
pub const DURATION: Param = Param {
    key: "duration",
    help: "repeat the workload for this many seconds, a soak",
    kind: Kind::Float {
        min: 0.0,
        max: 86_400.0,
        open: true,
    },
    default: Default::Absent("once", "run it once"),
    label: "duration",
    step: Step::Hidden,
};

/// Everything that defines a native run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunSpec {
    pub workload: WorkloadSpec,
    pub strategy: StrategySpec,
    /// `None`: the strategy's default.
    pub workers: Option<u32>,
    pub gil: bool,
    pub switch_interval_ms: f64,
    pub on_error: OnError,
    /// Record events (`--no-events` turns them off to measure their cost).
    pub record_events: bool,
    /// The executable started as a worker process; `None`: this one.
    pub worker_exe: Option<PathBuf>,
    /// Repeat the workload for this long (a soak); `None`: once.
    pub duration_secs: Option<f64>,
}

impl RunSpec {
    /// A run of these at every default.
    pub fn new(
        workload: &'static workload::Descriptor,
        strategy: &'static strategy::Descriptor,
    ) -> Self {
        Self {
            workload: WorkloadSpec::new(workload, 42),
            strategy: StrategySpec::new(strategy),
            workers: None,
            gil: false,
            switch_interval_ms: 5.0,
            on_error: OnError::Stop,
            record_events: true,
            worker_exe: None,
            duration_secs: None,
        }
    }

    /// Whether the simulated GIL is on and applies to this strategy.
    pub fn gil_applies(&self) -> bool {
        self.gil && self.strategy.desc.gil
    }

    /// The worker count that will actually run.
    pub fn effective_workers(&self, tasks: usize) -> u32 {
        self.strategy
            .desc
            .workers_for(&self.strategy.params, self.workers, tasks)
    }

    /// Check every value against its table, then how they combine: the one
    /// place a spec is validated, whoever built it.
    pub fn validate(&self) -> Result<()> {
        let check = |p: &Param, v: crate::param::Value| {
            p.check(&v).map_err(|why| {
                crate::param::error_at(p, &crate::param::show_value(&v), &Origin::Code, &why)
            })
        };
        if let Some(w) = self.workers {
            check(&WORKERS, w.into())?;
        }
        check(&SWITCH_INTERVAL_MS, self.switch_interval_ms.into())?;
        if let Some(d) = self.duration_secs {
            check(&DURATION, d.into())?;
        }
        let s = self.strategy.desc;
        self.strategy
            .params
            .check(s.params, &format!("the {} strategy", s.name))?;
        if self.workload.desc.needs_shared_memory && s.processes {
            let ok = strategy::names_where(|s| !s.processes);
            return Err(UserError::new(format!(
                "the {} workload needs shared memory, which processes do not have: use one of {}",
                self.workload.name(),
                ok.join(", ")
            ))
            .into());
        }
        Ok(())
    }

    /// Checks that need the task list.
    pub(crate) fn validate_tasks(&self, tasks: usize) -> Result<()> {
        let s = self.strategy.desc;
        if let Workers::PerTask(what) = s.workers {
            if tasks > MAX_WORKERS as usize {
                return Err(UserError::new(format!(
                    "the {} strategy starts one {what} per task: {tasks} tasks is over the limit of {MAX_WORKERS}; use a pool, or fewer --tasks",
                    s.name
                ))
                .into());
            }
        }
        (s.check)(&self.strategy.params, tasks).map_err(|e| UserError::new(e).into())
    }

    /// The strategy's parameters with its worker parameter resolved.
    pub(crate) fn resolved_params(&self, workers: u32) -> Values {
        let mut params = self.strategy.params.clone();
        if let Workers::Param(key) = self.strategy.desc.workers {
            params.set(key, workers);
        }
        params
    }
}

/// What ran: parlab's own workers on a workload, or a real Python program.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Native(RunSpec),
    Python(Program),
}

impl Plan {
    /// A native run's settings.
    pub fn native(&self) -> Option<&RunSpec> {
        match self {
            Plan::Native(s) => Some(s),
            Plan::Python(_) => None,
        }
    }

    /// `collatz`, or `python`.
    pub fn workload_name(&self) -> &str {
        match self {
            Plan::Native(s) => s.workload.name(),
            Plan::Python(_) => "python",
        }
    }

    /// `pool`, or the interpreter: `CPython 3.11.7`.
    pub fn strategy_name(&self) -> String {
        match self {
            Plan::Native(s) => s.strategy.name().to_string(),
            Plan::Python(p) => format!("{} {}", p.python.implementation_name(), p.python.version),
        }
    }

    /// The parameters that tell runs apart, a word each: a workload's label parts,
    /// or the script's name then each argument with its value (`--mode threads`).
    pub fn param_words(&self) -> Vec<String> {
        match self {
            Plan::Native(s) => s.workload.desc.label_words(&s.workload.params),
            Plan::Python(p) => {
                let mut words = vec![p.name()];
                for a in &p.args {
                    match words.last_mut() {
                        // A value joins the flag before it.
                        Some(last)
                            if last.starts_with("--")
                                && !last.contains(' ')
                                && !a.starts_with('-') =>
                        {
                            last.push(' ');
                            last.push_str(a);
                        }
                        _ => words.push(a.clone()),
                    }
                }
                words
            }
        }
    }
}

/// What a run is, as every view, the report, the Runs table and a
/// recording read it, whichever source made it: a new source says these
/// and nothing downstream asks which source it was.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct About {
    /// What ran, as the JSON's `workload` says it: `collatz`, `python`.
    pub workload: String,
    /// How it ran, as the JSON's `strategy` says it: `pool`, `script`.
    pub strategy: String,
    /// How it ran, as the Runs table says it: `pool`, `CPython 3.11.7`.
    pub runner: String,
    /// The log's opening line: `collatz with pool, 4 workers, GIL on`.
    pub headline: String,
    /// The parameters that tell runs apart, a word each (a flag with its value).
    pub params: Vec<String>,
    /// What it can tell of a GIL.
    pub gil: GilKind,
    /// Its lanes are threads parlab did not make (a program's, a cluster's
    /// workers'): its tasks are those seen as they come, its workers the
    /// lanes that ran one, and threads that ran none are helpers. Otherwise
    /// its lanes are workers on a task list known at the start.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub program_threads: bool,
}

/// What a source can tell of a GIL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GilKind {
    /// None to tell: no GIL was simulated.
    #[default]
    Off,
    /// parlab's simulated GIL, on and applied.
    Model,
    /// A real interpreter's GIL: inferred until its holder is read.
    Real,
    /// A free-threaded interpreter: no GIL at all.
    Free,
}

impl About {
    /// Whether parlab's simulated GIL was on and applied.
    pub fn simulated_gil(&self) -> bool {
        self.gil == GilKind::Model
    }
}

impl Plan {
    /// What the run is, with `workers` in force.
    pub fn about(&self, workers: u32) -> About {
        let gil = match self {
            Plan::Native(s) if s.gil_applies() => GilKind::Model,
            Plan::Native(_) => GilKind::Off,
            Plan::Python(p) if p.python.gil_enabled => GilKind::Real,
            Plan::Python(_) => GilKind::Free,
        };
        let (strategy, headline) = match self {
            Plan::Native(s) => (
                s.strategy.name().to_string(),
                format!(
                    "{} with {}, {workers} workers{}",
                    s.workload.name(),
                    s.strategy.name(),
                    if s.gil_applies() { ", GIL on" } else { "" }
                ),
            ),
            Plan::Python(p) => ("script".to_string(), p.label()),
        };
        About {
            workload: self.workload_name().to_string(),
            strategy,
            runner: self.strategy_name(),
            headline,
            params: self.param_words(),
            gil,
            program_threads: matches!(self, Plan::Python(_)),
        }
    }
}

/// What a Python run runs: the script as given, its arguments, the interpreter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// As given: a path, or `lecture:NAME`.
    pub script: String,
    pub args: Vec<String>,
    pub python: Interpreter,
}

impl Program {
    /// The script's file name (`cpu`'s for `lecture:cpu`, `x.py` for `dir/x.py`).
    pub fn name(&self) -> String {
        let name = self.script.strip_prefix("lecture:").unwrap_or(&self.script);
        Path::new(name)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.to_string())
    }

    /// `cpu.py --mode threads (CPython 3.11.7)`: the Runs label and log heading.
    pub fn label(&self) -> String {
        let name = self.name();
        let args = if self.args.is_empty() {
            String::new()
        } else {
            format!(" {}", self.args.join(" "))
        };
        format!(
            "{name}{args} ({} {})",
            self.python.implementation_name(),
            self.python.version
        )
    }
}

/// The interpreter, as it says itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interpreter {
    /// What parlab ran (`python3`, a path).
    pub command: String,
    /// `sys.executable`: what that resolved to.
    pub executable: String,
    pub version: String,
    pub implementation: String,
    pub gil_enabled: bool,
}

impl Interpreter {
    /// `CPython`, `PyPy`.
    pub fn implementation_name(&self) -> &str {
        match self.implementation.as_str() {
            "cpython" => "CPython",
            "pypy" => "PyPy",
            other => other,
        }
    }
}
