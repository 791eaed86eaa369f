//! Count and sum the primes up to `size`.
//!
//! `trial` (the default) tests each number by trial division, so later
//! numbers cost more: equal chunks have unequal cost, and the load imbalance
//! shows in the timeline. `sieve` runs a segmented sieve of Eratosthenes.

use super::{bad_param, chunks, Descriptor, TaskCtx, TaskSpec, Workload};
use crate::param::{Default, Kind, Param, Step, Values};
use anyhow::Result;
use serde_json::{json, Value};
use std::sync::Arc;

/// Largest size accepted.
pub const MAX_SIZE: u64 = 1_000_000_000_000;
/// Largest sieve segment, in numbers (one byte each).
pub const MAX_SEGMENT: u64 = 1 << 28;
/// The methods' names, in [`Method`] order.
const METHODS: &[&str] = &["trial", "sieve"];

/// The workload's one description.
pub const DESCRIPTOR: Descriptor = Descriptor {
    name: "primes",
    about: "CPU-bound: count and sum the primes up to size (trial division or sieve)",
    params: &[
        Param {
            key: "size",
            help: "primes up to size",
            kind: Kind::Int {
                min: 1,
                max: MAX_SIZE,
            },
            default: Default::Int(12_000_000),
            label: "size",
            step: Step::Double,
        },
        super::tasks_param("chunks the range is split into", 32),
        Param {
            key: "method",
            help: "trial (trial division: later chunks cost more) or sieve (segmented sieve)",
            kind: Kind::Choice(METHODS),
            default: Default::Word("trial"),
            label: "method",
            step: Step::Double,
        },
    ],
    label: &["size", "method"],
    result: &["size", "method", "count", "sum"],
    needs_shared_memory: false,
    build: |v, _seed| Ok(Arc::new(Primes::new(&Params::from(v))?)),
};

/// How primes are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Trial division by odd numbers up to the square root.
    Trial,
    /// Segmented sieve of Eratosthenes, one segment per task.
    Sieve,
}

impl Method {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        METHODS[self as usize]
    }
}

/// The parameters, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Primes up to and including size.
    pub size: u64,
    /// The range is split into this many chunks.
    pub tasks: u32,
    pub method: Method,
}

impl From<&Values> for Params {
    fn from(v: &Values) -> Self {
        Self {
            size: v.int("size"),
            tasks: v.int("tasks") as u32,
            method: match v.text("method") {
                Some("sieve") => Method::Sieve,
                _ => Method::Trial,
            },
        }
    }
}

/// The primes workload.
pub struct Primes {
    ranges: Vec<(u64, u64)>,
    method: Method,
    size: u64,
}

impl Primes {
    /// Split the range; a sieve segment must fit in memory.
    pub fn new(p: &Params) -> Result<Self> {
        // A sieve segment lives in memory whole: keep each under 256 MB.
        let segment = p.size.div_ceil(p.tasks.max(1) as u64);
        if p.method == Method::Sieve && segment > MAX_SEGMENT {
            return Err(bad_param(
                "--size",
                p.size,
                &format!("with --method sieve each of the {} segments (size/tasks) must be at most {MAX_SEGMENT} numbers: raise --tasks", p.tasks),
            ));
        }
        Ok(Self {
            ranges: chunks(p.size, p.tasks),
            method: p.method,
            size: p.size,
        })
    }
}

/// Trial division.
pub fn is_prime(n: u64) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n.is_multiple_of(2) {
        return false;
    }
    let mut d = 3;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

fn trial(a: u64, b: u64, ctx: &mut TaskCtx) -> Result<(u64, u64)> {
    let (mut count, mut sum) = (0, 0);
    for n in a..=b {
        if n % 256 == 0 {
            ctx.tick()?;
        }
        if is_prime(n) {
            count += 1;
            sum += n;
        }
    }
    Ok((count, sum))
}

/// The primes up to `n` by a plain sieve: the base primes of a segment.
fn small_primes(n: u64) -> Vec<u64> {
    let n = n as usize;
    let mut composite = vec![false; n + 1];
    let mut out = Vec::new();
    for i in 2..=n {
        if !composite[i] {
            out.push(i as u64);
            let mut j = i * i;
            while j <= n {
                composite[j] = true;
                j += i;
            }
        }
    }
    out
}

fn sieve(a: u64, b: u64, ctx: &mut TaskCtx) -> Result<(u64, u64)> {
    let root = (b as f64).sqrt() as u64 + 1;
    let mut composite = vec![false; (b - a + 1) as usize];
    for (i, p) in small_primes(root).into_iter().enumerate() {
        if i % 64 == 0 {
            ctx.tick()?;
        }
        let first = (p * p).max(a.div_ceil(p) * p);
        let mut m = first;
        while m <= b {
            composite[(m - a) as usize] = true;
            m += p;
        }
    }
    let (mut count, mut sum) = (0, 0);
    for (i, &c) in composite.iter().enumerate() {
        let n = a + i as u64;
        if !c && n >= 2 {
            count += 1;
            sum += n;
        }
    }
    Ok((count, sum))
}

impl Workload for Primes {
    fn tasks(&self) -> Vec<TaskSpec> {
        self.ranges
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| TaskSpec {
                id: i as u32,
                name: format!("chunk-{}", i + 1),
                // Trial division costs about sqrt(n) per number.
                cost: match self.method {
                    Method::Trial => ((b as f64).powf(1.5) - (a as f64).powf(1.5)) as u64 + 1,
                    Method::Sieve => b - a + 1,
                },
                units: None,
                phase: 0,
            })
            .collect()
    }

    fn run(&self, task: &TaskSpec, ctx: &mut TaskCtx) -> Result<Value> {
        let (a, b) = self.ranges[task.id as usize];
        let (count, sum) = match self.method {
            Method::Trial => trial(a, b, ctx)?,
            Method::Sieve => sieve(a, b, ctx)?,
        };
        Ok(json!({ "count": count, "sum": sum }))
    }

    fn result(&self, outputs: &[Value]) -> Value {
        let count: u64 = outputs
            .iter()
            .map(|o| o["count"].as_u64().unwrap_or(0))
            .sum();
        let sum: u64 = outputs.iter().map(|o| o["sum"].as_u64().unwrap_or(0)).sum();
        json!({ "size": self.size, "method": self.method.name(), "count": count, "sum": sum })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::run_sequentially;

    #[test]
    fn both_methods_match_the_reference() {
        for method in [Method::Trial, Method::Sieve] {
            for (size, tasks, count, sum) in
                [(1000, 3, 168, 76127), (100_000, 7, 9592, 454396537u64)]
            {
                let w = Primes::new(&Params {
                    size,
                    tasks,
                    method,
                })
                .unwrap();
                let r = run_sequentially(&w);
                assert_eq!(r["count"], count, "{method:?} {size}");
                assert_eq!(r["sum"], sum, "{method:?} {size}");
            }
        }
    }

    #[test]
    fn tiny_ranges_are_right() {
        for method in [Method::Trial, Method::Sieve] {
            let w = Primes::new(&Params {
                size: 2,
                tasks: 2,
                method,
            })
            .unwrap();
            assert_eq!(run_sequentially(&w)["count"], 1);
        }
    }
}
