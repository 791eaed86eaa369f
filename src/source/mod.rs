//! Where a run's events come from. The native engine is one source; a real
//! Python program and a recorded file are the next. The model, every panel,
//! the summary, the JSON report and the Runs table read a source's events,
//! its [`Meta`] (what the run is: [`About`]) and its [`Outcome`], never
//! which kind it is.
//!
//! A source beyond those is a module in this folder and a line in
//! [`REGISTERED`]: `parlab WORD …` then runs it headless (`--json`,
//! `--record`) or in the lab (`--tui`), and nothing downstream changes.

use crate::clock::Clock;
use crate::control::Control;
use crate::event::Inbox;
use crate::plan::{About, GilKind, Plan, Program, RunSpec};
use crate::sampler::Load;
use crate::strategy::{Extension, Failure};
use crate::workload::{TaskSpec, Workload};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::SystemTime;

/// A run under way, whatever produces it.
pub trait Source: Send {
    /// Event batches; disconnects when the run has ended.
    fn events(&mut self) -> &mut Inbox;
    /// What is known of the run as it starts.
    fn meta(&self) -> &Meta;
    /// Stop, pause and the live knobs.
    fn control(&self) -> &Control;
    /// Whether it has ended (every event already sent).
    fn is_finished(&self) -> bool;
    /// Wait for the end.
    fn join(self: Box<Self>) -> Result<Outcome>;
}

/// A source started by a word of its own: `parlab WORD [--json] [--record
/// FILE] [--tui] ARGS…`.
pub struct Registered {
    /// The command-line word.
    pub word: &'static str,
    /// One line for `parlab --help`.
    pub about: &'static str,
    /// Start a run from the words after the flags (a bad one: a [`crate::UserError`]).
    pub start: fn(&[String]) -> Result<Box<dyn Source>>,
}

/// The sources beyond the native engine (`parlab run`) and Python programs
/// (`parlab py`): a line each.
pub const REGISTERED: &[Registered] = &[Registered {
    word: "dask",
    about: "Attach to a running Dask cluster: its workers' threads as lanes",
    start: dask::start,
}];

pub mod dask;

/// The registered source named `word`, in `registry`.
pub fn registered<'a>(registry: &'a [Registered], word: &str) -> Option<&'a Registered> {
    registry.iter().find(|r| r.word == word)
}

/// A source whose events come from a driver thread that returns the outcome:
/// the native engine's, a Python program's, a recording's.
pub struct Driven {
    pub meta: Meta,
    pub events: Inbox,
    pub control: Control,
    pub driver: std::thread::JoinHandle<Result<Outcome>>,
}

impl Source for Driven {
    fn events(&mut self) -> &mut Inbox {
        &mut self.events
    }

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn control(&self) -> &Control {
        &self.control
    }

    fn is_finished(&self) -> bool {
        self.driver.is_finished()
    }

    fn join(self: Box<Self>) -> Result<Outcome> {
        match self.driver.join() {
            Ok(outcome) => outcome,
            Err(panic) => anyhow::bail!(
                "the run's driver panicked: {}",
                crate::strategy::panic_message(&panic)
            ),
        }
    }
}

/// What is known of a run as it starts (kept whole in a recording).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// The kind of source, as the JSON's `source` says it: `native`.
    pub source: String,
    /// The process that ran it (parlab's own, for a native run).
    pub pid: u32,
    /// A native run's settings (`None` for a Python program).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<RunSpec>,
    /// A Python program's script, arguments and interpreter (`None` for a native run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<Program>,
    /// What the run is, for every view and the report (an older
    /// recording has none: [`Meta::settle`] derives it).
    #[serde(default)]
    pub about: About,
    #[serde(with = "compact_tasks")]
    pub tasks: Vec<TaskSpec>,
    /// Workers in force.
    pub workers: u32,
    /// The bound of its queue, where it has one.
    pub capacity: Option<u64>,
    /// Its cache's `maxsize`, where it has a cache (`Some(None)`: unbounded).
    pub cache_maxsize: Option<Option<u64>>,
    pub clock: Clock,
    pub started: SystemTime,
}

impl Meta {
    /// A native run's.
    pub fn native(
        spec: &RunSpec,
        workload: &dyn Workload,
        tasks: Vec<TaskSpec>,
        workers: u32,
        clock: Clock,
    ) -> Self {
        Self {
            source: "native".into(),
            pid: std::process::id(),
            cache_maxsize: workload.cache_info().map(|c| c.maxsize),
            capacity: spec
                .strategy
                .desc
                .bound
                .and_then(|key| spec.strategy.params.opt_int(key)),
            spec: Some(spec.clone()),
            program: None,
            about: Plan::Native(spec.clone()).about(workers),
            tasks,
            workers,
            clock,
            started: SystemTime::now(),
        }
    }

    /// A native run's settings.
    pub fn native_spec(&self) -> Option<&RunSpec> {
        self.spec.as_ref()
    }

    /// What ran.
    pub fn plan(&self) -> Option<Plan> {
        match (&self.spec, &self.program) {
            (Some(s), _) => Some(Plan::Native(s.clone())),
            (None, Some(p)) => Some(Plan::Python(p.clone())),
            (None, None) => None,
        }
    }

    /// Fill in what an older recording did not say of itself, from its plan.
    pub fn settle(&mut self) {
        if self.about == About::default() {
            if let Some(plan) = self.plan() {
                self.about = plan.about(self.workers);
            }
        }
    }

    /// What ran, as the JSON's `workload` says it (`python` for a program).
    pub fn workload_name(&self) -> &str {
        &self.about.workload
    }

    /// How it ran, as the JSON's `strategy` says it (`script` for a program).
    pub fn strategy_name(&self) -> &str {
        &self.about.strategy
    }

    /// Whether the simulated GIL was on and applied.
    pub fn gil_applies(&self) -> bool {
        self.about.simulated_gil()
    }

    /// Where the run's GIL picture comes from: as its outcome says once it
    /// ended; before (or if its recording was cut short), the model for a native run under the GIL, and for a
    /// program measured once a holder has been read (`gil_read`), inferred until then.
    /// None: no GIL (a native run without it, a free-threaded Python).
    pub fn gil_method(&self, gil_read: bool, outcome: Option<&Outcome>) -> Option<GilMethod> {
        // A recording cut short has no end to say it: the events do.
        if let Some(o) = outcome.filter(|o| !o.truncated) {
            return GilMethod::of(o.extension(crate::strategy::Figures::Gil)?);
        }
        match self.about.gil {
            GilKind::Off | GilKind::Free => None,
            GilKind::Model => Some(GilMethod::Model),
            GilKind::Real if gil_read => Some(GilMethod::Measured),
            GilKind::Real => Some(GilMethod::Inferred),
        }
    }

    /// `collatz with pool, 4 workers, GIL on`, or `cpu.py --mode threads
    /// (CPython 3.11.7)`: the log's opening line.
    pub fn headline(&self) -> &str {
        &self.about.headline
    }
}

/// Where a run's GIL figures come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GilMethod {
    /// Read from the interpreter's memory while it ran.
    Measured,
    /// Inferred from the probe's events and the threads' run states.
    Inferred,
    /// parlab's simulated GIL (a native run).
    Model,
}

impl GilMethod {
    /// The word in the JSON (`gil.method`) and on screen.
    pub fn name(self) -> &'static str {
        match self {
            GilMethod::Measured => "measured",
            GilMethod::Inferred => "inferred",
            GilMethod::Model => "model",
        }
    }

    /// The method a run's `gil` object says (an older recording's model
    /// run says none: the model).
    pub fn of(gil: &serde_json::Value) -> Option<Self> {
        let said = gil["method"].as_str().unwrap_or("model");
        [GilMethod::Measured, GilMethod::Inferred, GilMethod::Model]
            .into_iter()
            .find(|m| m.name() == said)
    }
}

/// Tasks as short rows `[name, cost, units, phase]` (the id is the row's
/// index): a recording's header stays small beside its events.
mod compact_tasks {
    use crate::workload::TaskSpec;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Row = (String, u64, Option<u32>, u32);

    pub fn serialize<S: Serializer>(tasks: &[TaskSpec], s: S) -> Result<S::Ok, S::Error> {
        let rows: Vec<(&str, u64, Option<u32>, u32)> = tasks
            .iter()
            .map(|t| (t.name.as_str(), t.cost, t.units, t.phase))
            .collect();
        rows.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<TaskSpec>, D::Error> {
        let rows = Vec::<Row>::deserialize(d)?;
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(id, (name, cost, units, phase))| TaskSpec {
                id: id as u32,
                name,
                cost,
                units,
                phase,
            })
            .collect())
    }
}

/// How a run ended (kept whole in a recording).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// The workload's result, when every task completed.
    pub result: Option<Value>,
    /// From the first task's dispatch to the last worker joined.
    pub wall_ns: u64,
    /// The end of the run on its clock.
    pub end_ns: u64,
    pub failures: Vec<Failure>,
    pub cancelled: bool,
    /// Events put on the channel (received is counted by whoever drains it).
    pub events_sent: u64,
    /// Events dropped because the viewer fell a whole backlog behind (0 when it keeps up).
    pub events_dropped: u64,
    /// The machine over the run, when the source measured it itself (a
    /// recording does; a live run is measured by whoever drains it).
    pub machine: Option<Load>,
    /// The strategy's and workload's own figures (queue, GIL, cache).
    pub extensions: Vec<Extension>,
    /// Rounds of the task list (more than 1 only with a duration).
    pub rounds: u32,
    /// Known only up to where its recording stops (a crash, a kill, a cut).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl Outcome {
    /// The figures under `key`, if the run has them.
    pub fn extension(&self, figures: crate::strategy::Figures) -> Option<&Value> {
        self.extensions
            .iter()
            .find(|e| e.is(figures))
            .map(|e| &e.json)
    }

    /// Whether every task completed and nobody stopped it.
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && !self.cancelled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Interpreter;

    /// A recording made before `about` was kept says none: reading it
    /// derives the same About a run says today, for a native run (under
    /// the GIL or not) and for a program (with a GIL or free-threaded).
    #[test]
    fn an_older_meta_without_about_derives_it_from_its_plan() {
        let mut spec = RunSpec::new(
            crate::workload::find("collatz").unwrap(),
            crate::strategy::find("threads").unwrap(),
        );
        let w = crate::workload::build(&spec.workload).unwrap();
        let mut metas = vec![Meta::native(
            &spec,
            w.as_ref(),
            w.tasks(),
            4,
            Clock::start(),
        )];
        spec.gil = true;
        metas.push(Meta::native(
            &spec,
            w.as_ref(),
            w.tasks(),
            4,
            Clock::start(),
        ));
        for gil_enabled in [true, false] {
            let program = Program {
                script: "lecture:cpu".into(),
                args: vec!["--mode".into(), "threads".into()],
                python: Interpreter {
                    command: "python3".into(),
                    executable: "/usr/bin/python3".into(),
                    version: "3.13.0".into(),
                    implementation: "cpython".into(),
                    gil_enabled,
                },
            };
            let mut m = metas[0].clone();
            m.spec = None;
            m.about = Plan::Python(program.clone()).about(0);
            m.program = Some(program);
            metas.push(m);
        }
        for meta in metas {
            let mut json = serde_json::to_value(&meta).unwrap();
            json.as_object_mut().unwrap().remove("about");
            let mut old: Meta = serde_json::from_value(json).unwrap();
            assert_eq!(old.about, About::default());
            old.settle();
            assert_eq!(old.about, meta.about, "{}", meta.about.headline);
        }
    }
}
