//! Memoisation: recursive Fibonacci under an LRU cache with exactly the
//! semantics of Python's `functools.lru_cache(maxsize)`.
//!
//! As in CPython's `bounded_lru_cache_wrapper`: a hit moves the entry to the
//! most-recent end; a miss calls the function *without* holding the cache,
//! then inserts the result unless a nested (or concurrent) call already did,
//! evicting the least recently used entry when full. `maxsize = 0` caches
//! nothing and counts every call a miss; `maxsize = None` never evicts.
//!
//! Threads share one cache behind a lock (its waits are `lock_wait`); each
//! process builds its own, as each Python process has its own.

use super::{CacheInfo, Descriptor, SplitMix64, TaskCtx, TaskSpec, Workload};
use crate::event::{CacheOp, EventKind};
use crate::param::{Default, Kind, Param, Step, Values};
use anyhow::Result;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Largest k accepted.
pub const MAX_INPUT: u32 = 90;

/// The workload's one description.
pub const DESCRIPTOR: Descriptor = Descriptor {
    name: "fib",
    about: "memoised: recursive fib under an LRU cache with functools.lru_cache semantics",
    params: &[
        Param {
            key: "inputs",
            help: "the k of each call fib(k), like 30,25,32",
            kind: Kind::IntList {
                min: 0,
                max: MAX_INPUT as u64,
            },
            default: Default::EmptyList("a seeded list"),
            label: "inputs",
            step: Step::Hidden,
        },
        Param {
            key: "count",
            help: "how many seeded inputs",
            kind: Kind::Int {
                min: 1,
                max: 10_000,
            },
            default: Default::Int(12),
            label: "count",
            step: Step::Hidden,
        },
        Param {
            key: "max_input",
            help: "the largest seeded input",
            kind: Kind::Int {
                min: 0,
                max: MAX_INPUT as u64,
            },
            default: Default::Int(32),
            label: "max input",
            step: Step::Hidden,
        },
        Param {
            key: "cache_size",
            help: "functools.lru_cache(maxsize): a number (0 caches nothing) or none (unbounded)",
            kind: Kind::IntOrNone {
                min: 0,
                max: u64::MAX,
            },
            default: Default::Int(128),
            label: "cache size",
            step: Step::Ladder(&["0", "1", "2", "4", "8", "16", "32", "64", "128", "none"]),
        },
    ],
    label: &["cache_size"],
    result: &["inputs", "values", "cache_size", "seed"],
    needs_shared_memory: false,
    build: |v, seed| Ok(Arc::new(Fib::new(&Params::from(v), seed))),
};

/// `lru_cache(maxsize)`: a bound, or `None` for unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheSize {
    Bounded(u64),
    Unbounded,
}

impl CacheSize {
    /// The bound (`None`: unbounded).
    pub fn maxsize(self) -> Option<u64> {
        match self {
            CacheSize::Bounded(n) => Some(n),
            CacheSize::Unbounded => None,
        }
    }
}

impl std::fmt::Display for CacheSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheSize::Bounded(n) => write!(f, "{n}"),
            CacheSize::Unbounded => f.write_str("none"),
        }
    }
}

/// The parameters, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The k of each call fib(k); empty: a seeded list.
    pub inputs: Vec<u32>,
    /// How many seeded inputs when `inputs` is empty.
    pub count: u32,
    /// The largest seeded input.
    pub max_input: u32,
    pub cache_size: CacheSize,
}

impl From<&Values> for Params {
    fn from(v: &Values) -> Self {
        Self {
            inputs: v.list("inputs").iter().map(|&k| k as u32).collect(),
            count: v.int("count") as u32,
            max_input: v.int("max_input") as u32,
            cache_size: match v.opt_int("cache_size") {
                Some(n) => CacheSize::Bounded(n),
                None => CacheSize::Unbounded,
            },
        }
    }
}

impl std::default::Default for Params {
    fn default() -> Self {
        Self::from(&Values::defaults(DESCRIPTOR.params))
    }
}

struct Lru {
    map: lru::LruCache<u32, u64>,
}

/// The fib workload and its cache (one per process).
pub struct Fib {
    inputs: Vec<u32>,
    seeded: Option<u64>,
    size: CacheSize,
    cache: Mutex<Lru>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Fib {
    /// Draw the seeded inputs when none are given.
    pub fn new(p: &Params, seed: u64) -> Self {
        let seeded = p.inputs.is_empty();
        let inputs = if seeded {
            let mut rng = SplitMix64::new(seed);
            let lo = (p.max_input / 2) as u64;
            (0..p.count)
                .map(|_| rng.range(lo, p.max_input as u64) as u32)
                .collect()
        } else {
            p.inputs.clone()
        };
        // The bound is enforced on insert (as lru_cache does), so a huge
        // maxsize costs nothing up front.
        let map = lru::LruCache::unbounded();
        Self {
            inputs,
            seeded: seeded.then_some(seed),
            size: p.cache_size,
            cache: Mutex::new(Lru { map }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The memoised function: `fib(k)` through the cache wrapper.
    fn call(&self, k: u32, ctx: &mut TaskCtx) -> Result<u64> {
        ctx.tick()?;
        if self.size == CacheSize::Bounded(0) {
            self.misses.fetch_add(1, Ordering::Relaxed);
            ctx.probe.record(EventKind::Cache {
                op: CacheOp::Miss,
                currsize: 0,
            });
            return self.body(k, ctx);
        }
        {
            let mut c = ctx.lock(&self.cache);
            if let Some(&v) = c.map.get(&k) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                let currsize = c.map.len() as u64;
                drop(c);
                ctx.probe.record(EventKind::Cache {
                    op: CacheOp::Hit,
                    currsize,
                });
                return Ok(v);
            }
            self.misses.fetch_add(1, Ordering::Relaxed);
            let currsize = c.map.len() as u64;
            drop(c);
            ctx.probe.record(EventKind::Cache {
                op: CacheOp::Miss,
                currsize,
            });
        }
        let v = self.body(k, ctx)?;
        let mut c = ctx.lock(&self.cache);
        // Added meanwhile by a nested or concurrent call: keep that entry where it is.
        if !c.map.contains(&k) {
            let full = matches!(self.size, CacheSize::Bounded(max) if c.map.len() as u64 >= max);
            let evicted = full && c.map.pop_lru().is_some();
            c.map.put(k, v);
            let currsize = c.map.len() as u64;
            drop(c);
            if evicted {
                ctx.probe.record(EventKind::Cache {
                    op: CacheOp::Evict,
                    currsize,
                });
            }
        }
        Ok(v)
    }

    /// The function's own body, calling fib(k-1) then fib(k-2).
    fn body(&self, k: u32, ctx: &mut TaskCtx) -> Result<u64> {
        if k < 2 {
            return Ok(k as u64);
        }
        Ok(self.call(k - 1, ctx)? + self.call(k - 2, ctx)?)
    }
}

impl Workload for Fib {
    fn tasks(&self) -> Vec<TaskSpec> {
        self.inputs
            .iter()
            .enumerate()
            .map(|(i, &k)| TaskSpec {
                id: i as u32,
                name: format!("fib({k})"),
                cost: k as u64,
                units: None,
                phase: 0,
            })
            .collect()
    }

    fn run(&self, task: &TaskSpec, ctx: &mut TaskCtx) -> Result<Value> {
        let k = self.inputs[task.id as usize];
        Ok(json!({ "k": k, "value": self.call(k, ctx)? }))
    }

    fn result(&self, outputs: &[Value]) -> Value {
        let values: Vec<Value> = outputs.iter().map(|o| o["value"].clone()).collect();
        let mut r =
            json!({ "inputs": self.inputs, "values": values, "cache_size": self.size.to_string() });
        if let Some(seed) = self.seeded {
            r["seed"] = json!(seed);
        }
        r
    }

    fn cache_info(&self) -> Option<CacheInfo> {
        let currsize = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len() as u64;
        Some(CacheInfo {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            maxsize: self.size.maxsize(),
            currsize: if self.size == CacheSize::Bounded(0) {
                0
            } else {
                currsize
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::run_sequentially;

    fn run(inputs: &[u32], size: CacheSize) -> (Value, CacheInfo) {
        let w = Fib::new(
            &Params {
                inputs: inputs.to_vec(),
                cache_size: size,
                ..Params::default()
            },
            1,
        );
        let r = run_sequentially(&w);
        (r, w.cache_info().unwrap())
    }

    #[test]
    fn values_are_fibonacci() {
        let (r, _) = run(&[0, 1, 2, 10, 30, 90], CacheSize::Bounded(128));
        assert_eq!(
            r["values"],
            json!([0, 1, 1, 55, 832040, 2880067194370816120u64])
        );
    }

    #[test]
    fn uncached_counts_every_call_a_miss() {
        let (_, info) = run(&[10], CacheSize::Bounded(0));
        assert_eq!(
            info,
            CacheInfo {
                hits: 0,
                misses: 177,
                maxsize: Some(0),
                currsize: 0
            }
        );
    }

    #[test]
    fn unbounded_matches_python() {
        // functools.lru_cache(None): fib(30) -> hits=28, misses=31, currsize=31
        let (_, info) = run(&[30], CacheSize::Unbounded);
        assert_eq!(
            info,
            CacheInfo {
                hits: 28,
                misses: 31,
                maxsize: None,
                currsize: 31
            }
        );
    }

    #[test]
    fn a_huge_maxsize_allocates_nothing_up_front() {
        let (r, info) = run(&[20], CacheSize::Bounded(u64::MAX));
        assert_eq!(r["values"], json!([6765]));
        assert_eq!(info.currsize, 21);
    }

    #[test]
    fn cache_size_parses_numbers_and_none() {
        let p = DESCRIPTOR.param("cache_size").unwrap();
        let mut v = Values::default();
        v.put("cache_size", p.parse("none").unwrap());
        assert_eq!(Params::from(&v).cache_size, CacheSize::Unbounded);
        v.put("cache_size", p.parse("2").unwrap());
        assert_eq!(Params::from(&v).cache_size, CacheSize::Bounded(2));
        assert!(p.parse("-1").is_err());
        assert!(p.parse("lots").unwrap_err().contains("none"));
    }
}
