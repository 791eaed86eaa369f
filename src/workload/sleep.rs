//! The lecture's running demo: seven named tasks, each sleeping a seeded
//! 1-10 time units. Run one after another they take the sum of their sleeps;
//! concurrently, about the longest one.

use super::{Descriptor, LocalFuture, SplitMix64, TaskCtx, TaskSpec, Workload};
use crate::control::Control;
use crate::param::{Default, Kind, Param, Step};
use anyhow::Result;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The seven tasks of the lecture.
pub const NAMES: [&str; 7] = [
    "Happy", "Sleepy", "Grumpy", "Dopey", "Doc", "Bashful", "Sneezy",
];

/// Largest unit accepted: ten units of it stay under ten minutes.
pub const MAX_UNIT_MS: u64 = 60_000;

/// A time unit's length, shared with the shell workload.
pub const UNIT_MS: Param = Param {
    key: "unit_ms",
    help: "milliseconds in one time unit; each task sleeps 1-10 units",
    kind: Kind::Int {
        min: 1,
        max: MAX_UNIT_MS,
    },
    default: Default::Int(100),
    label: "unit ms",
    step: Step::Double,
};

/// The workload's one description.
pub const DESCRIPTOR: Descriptor = Descriptor {
    name: "sleep",
    about: "I/O-bound: the lecture's seven named tasks, each sleeping 1-10 units",
    params: &[UNIT_MS],
    label: &["unit_ms"],
    result: &["tasks", "unit_ms", "seed"],
    needs_shared_memory: false,
    build: |v, seed| Ok(Arc::new(Sleep::new(v.int("unit_ms"), seed))),
};

/// The seven tasks' seeded units, shared with the shell workload.
pub fn seven_tasks(seed: u64) -> Vec<(&'static str, u32)> {
    let mut rng = SplitMix64::new(seed);
    NAMES
        .iter()
        .map(|&n| (n, rng.range(1, 10) as u32))
        .collect()
}

/// Task specs for named tasks of some units each.
pub fn seven_specs<S: AsRef<str>>(tasks: &[(S, u32)]) -> Vec<TaskSpec> {
    tasks
        .iter()
        .enumerate()
        .map(|(i, (name, units))| TaskSpec {
            id: i as u32,
            name: name.as_ref().to_string(),
            cost: *units as u64,
            units: Some(*units),
            phase: 0,
        })
        .collect()
}

/// Sleep on the event loop, waking early if the run is cancelled.
pub async fn sleep_async(d: Duration, cancel: &Control) -> Result<()> {
    let deadline = std::time::Instant::now() + d;
    loop {
        cancel.check()?;
        let now = std::time::Instant::now();
        if now >= deadline {
            return Ok(());
        }
        async_io::Timer::after((deadline - now).min(Duration::from_millis(20))).await;
    }
}

/// The sleep workload.
pub struct Sleep {
    tasks: Vec<(&'static str, u32)>,
    unit_ms: u64,
    seed: u64,
}

impl Sleep {
    /// Draw the seven tasks' units.
    pub fn new(unit_ms: u64, seed: u64) -> Self {
        Self {
            tasks: seven_tasks(seed),
            unit_ms,
            seed,
        }
    }

    fn duration(&self, task: &TaskSpec) -> Duration {
        Duration::from_millis(self.unit_ms * task.units.unwrap_or(0) as u64)
    }

    fn output(&self, task: &TaskSpec) -> Value {
        json!({ "name": task.name, "units": task.units })
    }
}

impl Workload for Sleep {
    fn tasks(&self) -> Vec<TaskSpec> {
        seven_specs(&self.tasks)
    }

    fn run(&self, task: &TaskSpec, ctx: &mut TaskCtx) -> Result<Value> {
        let d = self.duration(task);
        ctx.io(|cancel| cancel.sleep(d))?;
        Ok(self.output(task))
    }

    fn run_async<'a>(&'a self, task: &'a TaskSpec, cancel: &'a Control) -> Option<LocalFuture<'a>> {
        Some(Box::pin(async move {
            sleep_async(self.duration(task), cancel).await?;
            Ok(self.output(task))
        }))
    }

    fn result(&self, outputs: &[Value]) -> Value {
        json!({ "tasks": outputs, "unit_ms": self.unit_ms, "seed": self.seed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_named_tasks_of_1_to_10_units() {
        let w = Sleep::new(1, 42);
        let tasks = w.tasks();
        assert_eq!(tasks.len(), 7);
        assert_eq!(tasks[3].name, "Dopey");
        assert!(tasks.iter().all(|t| (1..=10).contains(&t.units.unwrap())));
        assert_eq!(seven_tasks(42), seven_tasks(42), "seeded");
        let r = crate::workload::testing::run_sequentially(&w);
        assert_eq!(r["tasks"].as_array().unwrap().len(), 7);
        assert_eq!(r["unit_ms"], 1);
    }
}
