//! The lecture's Collatz problem, in both of its forms.
//!
//! - `lengths`: for each n in 1..=size, the length of n's sequence, counting
//!   its terms including n and 1 (len(1) = 1, len(6) = 9).
//! - `first`: for each n, the smallest start whose sequence contains n
//!   ("the first Collatz sequence that includes it").

use super::{bad_param, chunks, Descriptor, TaskCtx, TaskSpec, Workload};
use crate::param::{Default, Kind, Param, Step, Values};
use anyhow::Result;
use serde_json::{json, Value};
use std::sync::Arc;

/// Largest size accepted: keeps every sequence's values in u64 and `first`'s tables in memory.
pub const MAX_SIZE: u64 = 1_000_000_000;
/// Largest size for `first`, whose table holds every value.
const MAX_FIRST_SIZE: u64 = 50_000_000;

/// The workload's one description.
pub const DESCRIPTOR: Descriptor = Descriptor {
    name: "collatz",
    about: "CPU-bound: Collatz sequence lengths, or the first sequence containing each n",
    params: &[
        Param {
            key: "size",
            help: "the range 1..=size",
            kind: Kind::Int {
                min: 1,
                max: MAX_SIZE,
            },
            default: Default::Int(20_000_000),
            label: "size",
            step: Step::Double,
        },
        super::tasks_param("chunks the range is split into", 32),
        Param {
            key: "mode",
            help: "lengths (sum_len, max_len, argmax) or first (the smallest start whose sequence contains n)",
            kind: Kind::Choice(&["lengths", "first"]),
            default: Default::Word("lengths"),
            label: "mode",
            step: Step::Double,
        },
    ],
    label: &["size", "mode"],
    result: &["mode", "size", "sum_len", "max_len", "argmax", "checksum", "first"],
    needs_shared_memory: false,
    build: |v, _seed| Ok(Arc::new(Collatz::new(&Params::from(v))?)),
};

/// Which question the workload answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Sequence lengths: `sum_len`, `max_len`, `argmax`.
    Lengths,
    /// First sequence containing each n: `checksum`, `first`.
    First,
}

/// The parameters, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The range is 1..=size.
    pub size: u64,
    /// The range is split into this many chunks.
    pub tasks: u32,
    pub mode: Mode,
}

impl From<&Values> for Params {
    fn from(v: &Values) -> Self {
        Self {
            size: v.int("size"),
            tasks: v.int("tasks") as u32,
            mode: match v.text("mode") {
                Some("first") => Mode::First,
                _ => Mode::Lengths,
            },
        }
    }
}

impl std::default::Default for Params {
    fn default() -> Self {
        Self::from(&Values::defaults(DESCRIPTOR.params))
    }
}

/// The Collatz workload.
pub struct Collatz {
    size: u64,
    ranges: Vec<(u64, u64)>,
    mode: Mode,
}

impl Collatz {
    /// Split the range (the table has checked each parameter; this, how they combine).
    pub fn new(p: &Params) -> Result<Self> {
        if p.mode == Mode::First && p.size > MAX_FIRST_SIZE {
            return Err(bad_param(
                "--size",
                p.size,
                &format!("must be 1..={MAX_FIRST_SIZE} with --mode first"),
            ));
        }
        Ok(Self {
            size: p.size,
            ranges: chunks(p.size, p.tasks),
            mode: p.mode,
        })
    }
}

/// The next term of a Collatz sequence.
#[inline]
fn step(n: u64) -> u64 {
    if n.is_multiple_of(2) {
        n / 2
    } else {
        3 * n + 1
    }
}

/// The number of terms in n's sequence, n and 1 included.
pub fn collatz_len(mut n: u64) -> u32 {
    let mut len = 1;
    while n != 1 {
        n = step(n);
        len += 1;
    }
    len
}

/// Lengths over `a..=b`: (sum, max, smallest n with the max).
fn lengths(a: u64, b: u64, ctx: &mut TaskCtx) -> Result<(u64, u32, u64)> {
    let (mut sum, mut max, mut argmax) = (0u64, 0u32, a);
    for n in a..=b {
        if n % 64 == 0 {
            ctx.tick()?;
        }
        let len = collatz_len(n);
        sum += len as u64;
        if len > max {
            max = len;
            argmax = n;
        }
    }
    Ok((sum, max, argmax))
}

/// For starts `a..=b`, the smallest start (within them) whose sequence
/// contains each value v in `a..=size`. Values below `a` are left out: start
/// v itself, in an earlier chunk, is smaller than any start here.
fn first_starts(a: u64, b: u64, size: u64, ctx: &mut TaskCtx) -> Result<Vec<(u64, u64)>> {
    let mut first = vec![0u64; (size - a + 1) as usize];
    for s in a..=b {
        if s % 64 == 0 {
            ctx.tick()?;
        }
        let mut n = s;
        loop {
            if (a..=size).contains(&n) {
                let slot = &mut first[(n - a) as usize];
                if *slot != 0 {
                    break; // the rest of this sequence was walked from a smaller start
                }
                *slot = s;
            }
            if n == 1 {
                break;
            }
            n = step(n);
        }
    }
    Ok(first
        .iter()
        .enumerate()
        .filter(|(_, &s)| s != 0)
        .map(|(i, &s)| (a + i as u64, s))
        .collect())
}

impl Workload for Collatz {
    fn tasks(&self) -> Vec<TaskSpec> {
        self.ranges
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| TaskSpec {
                id: i as u32,
                name: format!("chunk-{}", i + 1),
                cost: b - a + 1,
                units: None,
                phase: 0,
            })
            .collect()
    }

    fn run(&self, task: &TaskSpec, ctx: &mut TaskCtx) -> Result<Value> {
        let (a, b) = self.ranges[task.id as usize];
        Ok(match self.mode {
            Mode::Lengths => {
                let (sum, max, argmax) = lengths(a, b, ctx)?;
                json!({ "sum_len": sum, "max_len": max, "argmax": argmax })
            }
            Mode::First => {
                let pairs = first_starts(a, b, self.size, ctx)?;
                let (v, s): (Vec<u64>, Vec<u64>) = pairs.into_iter().unzip();
                json!({ "v": v, "s": s })
            }
        })
    }

    fn result(&self, outputs: &[Value]) -> Value {
        match self.mode {
            Mode::Lengths => {
                let (mut sum, mut max, mut argmax) = (0u64, 0u64, 0u64);
                for o in outputs {
                    sum += o["sum_len"].as_u64().unwrap_or(0);
                    let m = o["max_len"].as_u64().unwrap_or(0);
                    if m > max {
                        max = m;
                        argmax = o["argmax"].as_u64().unwrap_or(0);
                    }
                }
                json!({ "mode": "lengths", "size": self.size, "sum_len": sum, "max_len": max, "argmax": argmax })
            }
            Mode::First => {
                let mut first = vec![u64::MAX; self.size as usize + 1];
                for o in outputs {
                    let vs = o["v"].as_array().map(Vec::as_slice).unwrap_or_default();
                    let ss = o["s"].as_array().map(Vec::as_slice).unwrap_or_default();
                    for (v, s) in vs.iter().zip(ss) {
                        let (v, s) = (v.as_u64().unwrap_or(0) as usize, s.as_u64().unwrap_or(0));
                        if v < first.len() {
                            first[v] = first[v].min(s);
                        }
                    }
                }
                let checksum: u64 = first[1..].iter().sum();
                let ten: Vec<u64> = first[1..].iter().take(10).copied().collect();
                json!({ "mode": "first", "size": self.size, "checksum": checksum, "first": ten })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::run_sequentially;

    #[test]
    fn lengths_count_n_and_1() {
        assert_eq!(collatz_len(1), 1);
        assert_eq!(collatz_len(6), 9);
        assert_eq!(collatz_len(27), 112);
    }

    #[test]
    fn lengths_up_to_9999_match_the_reference() {
        let w = Collatz::new(&Params {
            size: 9999,
            tasks: 7,
            mode: Mode::Lengths,
        })
        .unwrap();
        let r = run_sequentially(&w);
        assert_eq!(r["sum_len"], 859636);
        assert_eq!(r["max_len"], 262);
        assert_eq!(r["argmax"], 6171);
    }

    #[test]
    fn first_sequence_for_1_to_10_is_the_lectures() {
        let w = Collatz::new(&Params {
            size: 10,
            tasks: 3,
            mode: Mode::First,
        })
        .unwrap();
        let r = run_sequentially(&w);
        assert_eq!(r["first"], json!([1, 2, 3, 3, 3, 6, 7, 3, 9, 3]));
    }

    /// Brute force: walk every start in order, assigning each unseen value.
    fn first_reference(size: u64) -> Vec<u64> {
        let mut first = vec![0u64; size as usize + 1];
        for s in 1..=size {
            let mut n = s;
            loop {
                if n <= size && first[n as usize] == 0 {
                    first[n as usize] = s;
                }
                if n == 1 {
                    break;
                }
                n = step(n);
            }
        }
        first
    }

    #[test]
    fn first_for_1_to_30_matches_brute_force_for_any_chunking() {
        let reference = first_reference(30);
        let checksum: u64 = reference[1..].iter().sum();
        for tasks in [1, 2, 5, 30] {
            let w = Collatz::new(&Params {
                size: 30,
                tasks,
                mode: Mode::First,
            })
            .unwrap();
            let r = run_sequentially(&w);
            assert_eq!(r["checksum"], checksum, "tasks={tasks}");
        }
        assert_eq!(checksum, 328);
        let w = Collatz::new(&Params {
            size: 30,
            tasks: 4,
            mode: Mode::First,
        })
        .unwrap();
        assert_eq!(run_sequentially(&w)["first"], json!(reference[1..11]));
    }

    #[test]
    fn zero_size_is_refused() {
        let mut spec = crate::workload::WorkloadSpec::new(&DESCRIPTOR, 42);
        spec.set("size", 0u64);
        let err = crate::workload::build(&spec).err().unwrap().to_string();
        assert!(
            err.contains("--size") && err.contains("1..=1000000000"),
            "{err}"
        );
    }
}
