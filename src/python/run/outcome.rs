//! The run's end: what the probe left in its folder (the interpreter, caches, failures) and the GIL's figures, as the outcome's extensions.

use super::*;
use crate::workload::CacheInfo;

/// Off Linux nothing is read from outside: what a class should know of the
/// probe's cost there.
const INSIDE_COST: &str = "lock waits recorded by a Python wrapper on each lock: a program that takes locks very often runs slower (races --lock 12-21x with it, on Linux)";

impl Driver {
    /// A JSON file the probe left per process: `info`, `exit`.
    pub(super) fn files(&self, stem: &str) -> Vec<(u32, Value)> {
        per_process(&self.dir, &format!("{stem}-"), ".json")
            .into_iter()
            .filter_map(|(pid, path)| {
                Some((
                    pid,
                    serde_json::from_slice(&std::fs::read(path).ok()?).ok()?,
                ))
            })
            .collect()
    }

    pub(super) fn failures(&self) -> Vec<Failure> {
        let mut out = Vec::new();
        for (pid, path) in per_process(&self.dir, "failures-", ".jsonl") {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            for v in text
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            {
                out.push(Failure {
                    lane: v["thread"].as_str().unwrap_or("?").to_string(),
                    pid,
                    task: v["task"].as_str().map(str::to_string),
                    reason: v["reason"].as_str().unwrap_or("failed").to_string(),
                });
            }
        }
        out
    }

    pub(super) fn outcome(
        &self,
        t0: u64,
        end: u64,
        code: Option<i32>,
        cancelled: bool,
        timed_out: bool,
    ) -> Result<Outcome> {
        let mut failures = self.failures();
        if timed_out {
            failures.push(Failure {
                lane: "MainThread".into(),
                pid: self.root,
                task: None,
                reason: "stopped at its --timeout, with every process it started".into(),
            });
        } else if code.is_some_and(|c| c != 0) && !cancelled {
            let why = self
                .last_stderr
                .as_ref()
                .map(|l| format!(" (last line on stderr: {l})"))
                .unwrap_or_default();
            failures.push(Failure {
                lane: "MainThread".into(),
                pid: self.root,
                task: None,
                reason: format!("exited with status {}{why}", code.unwrap_or(-1)),
            });
        }
        let result = self
            .last_stdout
            .as_deref()
            .and_then(|l| serde_json::from_str::<Value>(l).ok())
            .filter(Value::is_object);
        let info = self.files("info");
        let exits = self.files("exit");
        let mut extensions = vec![Extension {
            key: crate::strategy::Figures::ExitCode.key().into(),
            json: json!(code),
            summary: vec![match code {
                Some(c) => c.to_string(),
                None => "none: ended by a signal".into(),
            }],
        }];
        let mut python = python_extension(&info, &exits);
        // What watching the program cost parlab: rings, output, /proc, on one thread.
        python.json["reader_cpu_ms"] = json!(crate::clock::ms(self.reader_cpu_ns));
        python.json["sampler_cpu_ms"] = json!(crate::clock::ms(self.sampler_cpu_ns));
        if self.interps.values().any(|i| i.no_gil) {
            python.summary.push("free-threaded: no GIL".into());
        }
        extensions.push(python);
        extensions.extend(self.gil_extension(end.saturating_sub(t0)));
        extensions.extend(cache_extension(&exits));
        extensions.extend(self.profile_extension());
        extensions.extend(queues::extensions(&exits, &self.queue_stats));
        // The first cluster the program used (a program rarely uses two).
        if let Some((dask, _)) = self.clusters.ended.first() {
            extensions.push(dask.clone());
        }
        failures.extend(
            self.clusters
                .ended
                .iter()
                .flat_map(|(_, f)| f.iter().cloned()),
        );
        let dropped: u64 = self.rings.values().map(|r| r.dropped).sum();
        Ok(Outcome {
            result,
            wall_ns: end.saturating_sub(t0),
            end_ns: end,
            failures,
            cancelled,
            events_sent: self.sent,
            events_dropped: dropped,
            machine: None,
            extensions,
            rounds: 1,
            truncated: false,
        })
    }

    /// The GIL's figures: read (measured) where it could be, else inferred;
    /// none for a free-threaded interpreter. Each lane's share is the lab's.
    pub(super) fn gil_extension(&self, wall_ns: u64) -> Option<Extension> {
        let mut with_gil: Vec<(&u32, &Interp)> =
            self.interps.iter().filter(|(_, i)| !i.no_gil).collect();
        with_gil.sort_by_key(|(pid, _)| **pid);
        let (_, root) = with_gil.first()?;
        let read: Vec<(u64, u64)> = with_gil.iter().filter_map(|(_, i)| i.switches).collect();
        let method = if read.is_empty() {
            Method::Inferred
        } else {
            Method::Measured
        };
        let mut json = json!({
            "method": method.name(),
            "switch_interval_ms": root.interval_us.max(1) as f64 / 1000.0,
        });
        let rate = match method {
            Method::Measured => self.pace.as_ref().and_then(Pace::rate),
            _ if cfg!(target_os = "linux") => Some(1.0 / SAMPLE.as_secs_f64()),
            _ => None,
        };
        if let Some(hz) = rate {
            json["sample_hz"] = json!((hz * 10.0).round() / 10.0);
        }
        let thread_hz = (method == Method::Measured)
            .then(|| self.rota.thread_hz())
            .flatten();
        if let Some(hz) = thread_hz {
            let (share, slowed) = self.rota.share();
            json["thread_read_hz"] = json!((hz * 10.0).round() / 10.0);
            json["thread_read_core_share_percent"] = json!(share * 100.0);
            json["thread_reads_slowed_to_per_s"] = json!(slowed.map(|r| r.round()));
        }
        let mut summary = vec![match rate {
            Some(hz) if method == Method::Measured => {
                format!("measured: read from each interpreter {hz:.0} times a second")
            }
            Some(hz) => format!("inferred from the probe and each thread's run state ({hz:.0} Hz)"),
            None => "inferred from the probe's events".into(),
        }];
        if method == Method::Inferred {
            // Why it was not read: off, not here, or this interpreter's own reason.
            let why = if !cfg!(target_os = "linux") {
                Some("another process's memory is read on Linux only".to_string())
            } else if self.pace.is_none() {
                Some("reading is off (--gil-sample-hz 0)".into())
            } else {
                with_gil.iter().find_map(|(_, i)| i.unread.clone())
            };
            if let Some(why) = why {
                summary.push(format!("not read: {why}"));
                json["inferred_because"] = json!(why);
            }
            if !cfg!(target_os = "linux") {
                // The probe's wrapper on every lock is the price: said, not hidden.
                summary.push(INSIDE_COST.into());
            }
        }
        if method == Method::Measured {
            let switches: u64 = read.iter().map(|(a, b)| b.saturating_sub(*a)).sum();
            let per_s = switches as f64 / (wall_ns.max(1) as f64 / 1e9);
            json["switches"] = json!(switches);
            json["switches_per_s"] = json!((per_s * 10.0).round() / 10.0);
            summary.push(format!(
                "{switches} hand-offs, switch interval {} ms",
                root.interval_us as f64 / 1000.0
            ));
            let unread: Vec<u32> = with_gil
                .iter()
                .filter(|(_, i)| i.switches.is_none())
                .map(|(p, _)| **p)
                .collect();
            if !unread.is_empty() {
                summary.push(format!(
                    "inferred for pid {unread:?}: its GIL was not found"
                ));
                json["inferred_pids"] = json!(unread);
            }
        }
        summary.extend(thread_hz.and_then(rota::rate_words));
        if let Some(at) = with_gil.iter().filter_map(|(_, i)| i.failed_at).min() {
            json["inferred_from_ms"] = json!(crate::clock::ms(at));
            summary.push(format!(
                "reading failed at {:.1} ms: inferred from there on",
                crate::clock::ms(at)
            ));
        }
        Some(Extension {
            key: crate::strategy::Figures::Gil.key().into(),
            json,
            summary,
        })
    }
}

/// The interpreter as the root process said it, and how processes started.
pub(super) fn python_extension(info: &[(u32, Value)], exits: &[(u32, Value)]) -> Extension {
    let root = info
        .iter()
        .min_by_key(|(pid, _)| *pid)
        .map(|(_, v)| v.clone())
        .unwrap_or(Value::Null);
    let mut json = json!({
        "version": root["version"],
        "implementation": root["implementation"],
        "executable": root["executable"],
        "gil_enabled": root["gil_enabled"],
    });
    let method = exits
        .iter()
        .find_map(|(_, v)| v["start_method"].as_str().map(str::to_string));
    if info.len() > 1 {
        if let Some(m) = &method {
            json["start_method"] = json!(m);
        }
    }
    let summary = vec![format!(
        "{} {}, GIL {}{}, {}",
        root["implementation"].as_str().unwrap_or("?"),
        root["version"].as_str().unwrap_or("?"),
        if root["gil_enabled"] == false {
            "off (free-threaded)"
        } else {
            "on"
        },
        method
            .filter(|_| info.len() > 1)
            .map(|m| format!(", processes by {m}"))
            .unwrap_or_default(),
        root["executable"].as_str().unwrap_or("?")
    )];
    Extension {
        key: crate::strategy::Figures::Python.key().into(),
        json,
        summary,
    }
}

/// The program's own lru_caches, summed, each listed with its cache_info().
pub(super) fn cache_extension(exits: &[(u32, Value)]) -> Option<Extension> {
    let functions: Vec<(Value, CacheInfo)> = exits
        .iter()
        .flat_map(|(pid, v)| {
            let caches = v["caches"].as_array().cloned().unwrap_or_default();
            caches.into_iter().map(move |mut c| {
                c["pid"] = json!(pid);
                let info = CacheInfo {
                    hits: c["hits"].as_u64().unwrap_or(0),
                    misses: c["misses"].as_u64().unwrap_or(0),
                    maxsize: c["maxsize"].as_u64(),
                    currsize: c["currsize"].as_u64().unwrap_or(0),
                };
                (c, info)
            })
        })
        .collect();
    let total = CacheInfo::sum(functions.iter().map(|(_, c)| c))?;
    let parts = functions
        .into_iter()
        .map(|(f, _)| {
            let line = format!(
                "{}: hits={}, misses={}, maxsize={}, currsize={}",
                f["function"].as_str().unwrap_or("?"),
                f["hits"],
                f["misses"],
                f["maxsize"],
                f["currsize"]
            );
            (f, line)
        })
        .collect();
    Some(crate::strategy::cache_figures(
        total,
        false,
        Some(("functions", parts)),
    ))
}

/// The probe's files of one kind in `dir`, one per process (`ring-PID.bin`,
/// `info-PID.json`), by pid.
pub(super) fn per_process(dir: &Path, prefix: &str, suffix: &str) -> Vec<(u32, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix(prefix)?
                .strip_suffix(suffix)?
                .parse()
                .ok()?;
            Some((pid, e.path()))
        })
        .collect();
    out.sort_by_key(|(pid, _)| *pid);
    out
}
