//! Synthetic CPU work with a serial fraction, for Amdahl's law.
//!
//! A serial phase (one task, which one worker runs while the others wait),
//! then the parallel part split into tasks. Both run the same kernel, so
//! iterations are proportional to time and the sequential run spends the
//! requested fraction of its time in the serial phase. Ideal speedup on N
//! workers with serial fraction f: `1 / (f + (1 - f) / N)`.

use super::{chunks, Descriptor, TaskCtx, TaskSpec, Workload};
use crate::param::{Default, Kind, Param, Step, Values};
use anyhow::Result;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// The workload's one description.
pub const DESCRIPTOR: Descriptor = Descriptor {
    name: "amdahl",
    about: "synthetic CPU work with a serial fraction, for Amdahl's law",
    params: &[
        Param {
            key: "serial",
            help: "the serial fraction",
            kind: Kind::Float {
                min: 0.0,
                max: 1.0,
                open: false,
            },
            default: Default::Float(0.1),
            label: "serial",
            step: Step::By(0.05),
        },
        Param {
            key: "work",
            help: "total kernel iterations, serial and parallel together",
            kind: Kind::Int {
                min: 1,
                max: 1_000_000_000_000,
            },
            default: Default::Int(2_000_000_000),
            label: "work",
            step: Step::Hidden,
        },
        super::tasks_param("tasks the parallel part is split into", 32),
    ],
    label: &["serial"],
    result: &["serial_fraction", "checksum", "serial_ms", "parallel_ms"],
    needs_shared_memory: false,
    build: |v, _seed| Ok(Arc::new(Amdahl::new(&Params::from(v)))),
};

/// The parameters, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The serial fraction f, 0..=1.
    pub serial: f64,
    /// Total kernel iterations (serial and parallel together).
    pub work: u64,
    /// The parallel part is split into this many tasks.
    pub tasks: u32,
}

impl From<&Values> for Params {
    fn from(v: &Values) -> Self {
        Self {
            serial: v.float("serial"),
            work: v.int("work"),
            tasks: v.int("tasks") as u32,
        }
    }
}

/// The Amdahl workload.
pub struct Amdahl {
    serial: f64,
    serial_iters: u64,
    parallel: Vec<(u64, u64)>,
}

impl Amdahl {
    /// Split the work into its serial phase and its parallel tasks.
    pub fn new(p: &Params) -> Self {
        let serial_iters = (p.work as f64 * p.serial).round() as u64;
        Self {
            serial: p.serial,
            serial_iters,
            parallel: chunks(p.work - serial_iters, p.tasks),
        }
    }

    fn iterations(&self, task: &TaskSpec) -> (u64, u64) {
        match task.id {
            0 => (1, self.serial_iters),
            i => self.parallel[i as usize - 1],
        }
    }
}

/// The kernel: an xorshift stream folded into a checksum, iterations a..=b.
fn kernel(a: u64, b: u64, ctx: &mut TaskCtx) -> Result<u64> {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut sum = 0u64;
    let mut i = a;
    while i <= b {
        let end = b.min(i + 4095);
        for _ in i..=end {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            sum = sum.wrapping_add(x);
        }
        i = end + 1;
        ctx.tick()?;
    }
    Ok(sum)
}

impl Workload for Amdahl {
    fn tasks(&self) -> Vec<TaskSpec> {
        let serial = TaskSpec {
            id: 0,
            name: "serial phase".into(),
            cost: self.serial_iters,
            units: None,
            phase: 0,
        };
        let parallel = self
            .parallel
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| TaskSpec {
                id: i as u32 + 1,
                name: format!("parallel part {}", i + 1),
                cost: b - a + 1,
                units: None,
                phase: 1,
            });
        std::iter::once(serial).chain(parallel).collect()
    }

    fn run(&self, task: &TaskSpec, ctx: &mut TaskCtx) -> Result<Value> {
        let (a, b) = self.iterations(task);
        let t0 = Instant::now();
        let checksum = if b >= a { kernel(a, b, ctx)? } else { 0 };
        Ok(json!({ "checksum": checksum, "ms": t0.elapsed().as_secs_f64() * 1e3 }))
    }

    fn result(&self, outputs: &[Value]) -> Value {
        let ms = |o: &Value| o["ms"].as_f64().unwrap_or(0.0);
        let serial_ms = outputs.first().map(ms).unwrap_or(0.0);
        let parallel_ms: f64 = outputs.iter().skip(1).map(ms).sum();
        let checksum = outputs.iter().fold(0u64, |acc, o| {
            acc.wrapping_add(o["checksum"].as_u64().unwrap_or(0))
        });
        json!({
            "serial_fraction": self.serial,
            "serial_ms": serial_ms,
            "parallel_ms": parallel_ms,
            "checksum": checksum,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::run_sequentially;

    #[test]
    fn serial_phase_comes_first_and_checksum_is_reproducible() {
        let p = Params {
            serial: 0.25,
            work: 100_000,
            tasks: 4,
        };
        let w = Amdahl::new(&p);
        let tasks = w.tasks();
        assert_eq!(tasks[0].phase, 0);
        assert!(tasks[1..].iter().all(|t| t.phase == 1));
        assert_eq!(tasks[0].cost, 25_000);
        assert_eq!(tasks[1..].iter().map(|t| t.cost).sum::<u64>(), 75_000);
        let a = run_sequentially(&w);
        let b = run_sequentially(&Amdahl::new(&p));
        assert_eq!(a["checksum"], b["checksum"]);
        assert_eq!(a["serial_fraction"], 0.25);
    }

    #[test]
    fn out_of_range_serial_fraction_is_refused() {
        let mut spec = crate::workload::WorkloadSpec::new(&DESCRIPTOR, 42);
        spec.set("serial", 1.5);
        let err = crate::workload::build(&spec).err().unwrap().to_string();
        assert!(err.contains("--serial") && err.contains("0..=1"), "{err}");
    }
}
