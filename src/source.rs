//! Where a run's events come from. The native engine is one source; a real
//! Python program and a recorded file are the next. The model, every panel,
//! the summary, the JSON report and the Runs table read a source's events,
//! its [`Meta`] and its [`Outcome`], never which kind it is (but to label it).

use crate::clock::Clock;
use crate::control::Control;
use crate::event::Inbox;
use crate::plan::{Plan, Program, RunSpec};
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

    /// What ran, as the JSON's `workload` says it (`python` for a program).
    pub fn workload_name(&self) -> &str {
        self.native_spec().map_or("python", |s| s.workload.name())
    }

    /// How it ran, as the JSON's `strategy` says it (`script` for a program).
    pub fn strategy_name(&self) -> &str {
        self.native_spec().map_or("script", |s| s.strategy.name())
    }

    /// Whether the simulated GIL was on and applied.
    pub fn gil_applies(&self) -> bool {
        self.native_spec().is_some_and(RunSpec::gil_applies)
    }

    /// Where the run's GIL picture comes from: as its outcome says once it
    /// ended; before (or if its recording was cut short), the model for a native run under the GIL, and for a
    /// program measured once a holder has been read (`gil_read`), inferred until then.
    /// None: no GIL (a native run without it, a free-threaded Python).
    pub fn gil_method(&self, gil_read: bool, outcome: Option<&Outcome>) -> Option<GilMethod> {
        // A recording cut short has no end to say it: the events do.
        if let Some(o) = outcome.filter(|o| !o.truncated) {
            return GilMethod::of(o.extension("gil")?);
        }
        match &self.program {
            None => self.gil_applies().then_some(GilMethod::Model),
            Some(p) if !p.python.gil_enabled => None,
            Some(_) if gil_read => Some(GilMethod::Measured),
            Some(_) => Some(GilMethod::Inferred),
        }
    }

    /// `collatz with pool, 4 workers, GIL on`, or `cpu.py --mode threads
    /// (CPython 3.11.7)`: the log's opening line.
    pub fn headline(&self) -> String {
        if let Some(p) = &self.program {
            return p.label();
        }
        format!(
            "{} with {}, {} workers{}",
            self.workload_name(),
            self.strategy_name(),
            self.workers,
            if self.gil_applies() { ", GIL on" } else { "" }
        )
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
    pub fn extension(&self, key: &str) -> Option<&Value> {
        self.extensions
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.json)
    }

    /// Whether every task completed and nobody stopped it.
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && !self.cancelled
    }
}
