//! A recording written for other tools: Trace Event Format JSON, which
//! Perfetto's UI and `chrome://tracing` open as it is, and the run JSON.
//!
//! The trace follows the Trace Event Format specification: a JSON object
//! with `traceEvents`; metadata (`M`) names each process and thread as the
//! Timeline does; each state and each task is a complete event (`X`) on its
//! lane's thread track, states split at task boundaries so slices nest; a
//! lane whose tasks overlap (the event loop) has its tasks as async events
//! (`b`/`e`); queue depth and cache hits and misses are counters (`C`); log
//! lines and GIL hand-offs are thread-scoped instant events (`i`). Times are
//! microseconds (`ts`, `dur`), fractional, on the run's clock.

use crate::event::{CacheOp, Event, EventKind, LaneId, WorkerState};
use crate::recording::{RecordedRun, Recording};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Runs of one recording laid one after another, this far apart.
const GAP_NS: u64 = 1_000_000_000;

/// The whole recording as one trace.
pub fn chrome_trace(rec: &Recording) -> Value {
    let runs: Vec<&RecordedRun> = rec.runs.iter().collect();
    trace(&runs, &rec.path.display().to_string())
}

/// Runs as one trace, one after another; `from` names where they came from.
pub fn trace(runs: &[&RecordedRun], from: &str) -> Value {
    let mut out = Vec::new();
    let mut offset = 0u64;
    let mut pids = Pids {
        synthetic: runs.len() > 1,
        map: HashMap::new(),
    };
    for (i, run) in runs.iter().enumerate() {
        let end = trace_run(run, i, offset, &mut pids, &mut out);
        offset += end + GAP_NS;
    }
    json!({
        "traceEvents": out,
        "displayTimeUnit": "ms",
        "otherData": {
            "producer": format!("parlab {}", env!("CARGO_PKG_VERSION")),
            "recording": from,
            "runs": runs.len().to_string(),
        },
    })
}

/// Trace pids: the real ones for one run; for several, one number per run
/// and process, so runs never share a track.
struct Pids {
    synthetic: bool,
    map: HashMap<(usize, u32), u32>,
}

impl Pids {
    fn of(&mut self, run: usize, pid: u32) -> u32 {
        if !self.synthetic {
            return pid;
        }
        let next = self.map.len() as u32 + 1;
        *self.map.entry((run, pid)).or_insert(next)
    }
}

/// A lane as the trace sees it.
struct Track {
    name: String,
    pid: u32,
    tid: u64,
    states: Vec<(u64, WorkerState)>,
    /// task → (start, end, ok)
    tasks: BTreeMap<u32, (u64, Option<(u64, bool)>)>,
    /// (start, end, task, ok) once paired.
    done: Vec<(u64, u64, u32, bool)>,
    /// When its thread or process ended, if before the run.
    end: Option<u64>,
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// One run's events into `out`, shifted by `offset`; returns its end.
fn trace_run(
    run: &RecordedRun,
    index: usize,
    offset: u64,
    pids: &mut Pids,
    out: &mut Vec<Value>,
) -> u64 {
    let meta = &run.header.meta;
    let outcome = run.outcome();
    let ts = |t: u64| us(t + offset);
    let own = pids.of(index, meta.pid);
    let prefix = if pids.synthetic {
        format!("run {}: ", index + 1)
    } else {
        String::new()
    };
    out.push(meta_event(
        "process_name",
        own,
        None,
        json!({ "name": format!("{prefix}parlab: {}", meta.headline()) }),
    ));
    let mut tracks: BTreeMap<LaneId, Track> = BTreeMap::new();
    let mut used: BTreeSet<(u32, u64)> = BTreeSet::new();
    let mut cache = (0u64, 0u64);
    let mut end = outcome.end_ns;
    // Task names: the run's list, and those a program's tasks bring as they start.
    let mut names: Vec<crate::workload::TaskSpec> = meta.tasks.clone();
    for e in run.events() {
        end = end.max(e.t);
        if let EventKind::Task { task, name } = &e.kind {
            if *task as usize == names.len() {
                names.push(crate::workload::TaskSpec {
                    id: *task,
                    name: name.clone(),
                    cost: 0,
                    units: None,
                    phase: 0,
                });
            }
        }
        trace_event(
            &e,
            index,
            &mut tracks,
            &mut used,
            pids,
            own,
            out,
            &ts,
            &mut cache,
        );
    }
    for (id, t) in &tracks {
        if t.pid != own {
            out.push(meta_event(
                "process_name",
                t.pid,
                None,
                json!({ "name": format!("{prefix}{}", t.name) }),
            ));
        }
        out.push(meta_event(
            "thread_name",
            t.pid,
            Some(t.tid),
            json!({ "name": format!("{}{}", t.name, crate::event::pid_words(t.pid)) }),
        ));
        out.push(meta_event(
            "thread_sort_index",
            t.pid,
            Some(t.tid),
            json!({ "sort_index": id }),
        ));
        slices(t, t.end.unwrap_or(end), index, &names, &ts, out);
    }
    end
}

fn meta_event(name: &str, pid: u32, tid: Option<u64>, args: Value) -> Value {
    json!({ "name": name, "ph": "M", "pid": pid, "tid": tid.unwrap_or(0), "args": args })
}

#[allow(clippy::too_many_arguments)]
fn trace_event(
    e: &Event,
    run: usize,
    tracks: &mut BTreeMap<LaneId, Track>,
    used: &mut BTreeSet<(u32, u64)>,
    pids: &mut Pids,
    own: u32,
    out: &mut Vec<Value>,
    ts: &impl Fn(u64) -> f64,
    cache: &mut (u64, u64),
) {
    if let EventKind::Lane { name, pid, tid, .. } = &e.kind {
        let pid = pids.of(run, *pid);
        // The OS thread id where it is known and not yet taken, else the lane's own.
        let mut tid = tid.unwrap_or(e.lane as u64);
        if !used.insert((pid, tid)) {
            tid = 1_000_000 + e.lane as u64;
            used.insert((pid, tid));
        }
        tracks.insert(
            e.lane,
            Track {
                name: name.clone(),
                pid,
                tid,
                states: Vec::new(),
                tasks: BTreeMap::new(),
                done: Vec::new(),
                end: None,
            },
        );
        return;
    }
    let Some(track) = tracks.get_mut(&e.lane) else {
        return;
    };
    let (pid, tid) = (track.pid, track.tid);
    match &e.kind {
        EventKind::State(s) => track.states.push((e.t, *s)),
        EventKind::TaskStart { task } => {
            track.tasks.insert(*task, (e.t, None));
        }
        EventKind::TaskEnd { task, ok } => {
            if let Some((start, _)) = track.tasks.remove(task) {
                track.done.push((start, e.t, *task, *ok));
            }
        }
        EventKind::QueuePut { depth, .. } | EventKind::QueueGet { depth, .. } => out.push(json!({
            "name": "queue depth", "ph": "C", "ts": ts(e.t), "pid": own, "tid": 0,
            "args": { "depth": depth },
        })),
        EventKind::Cache { op, .. } => {
            match op {
                CacheOp::Hit => cache.0 += 1,
                CacheOp::Miss => cache.1 += 1,
                CacheOp::Evict => {}
            }
            out.push(json!({
                "name": "cache", "ph": "C", "ts": ts(e.t), "pid": pid, "tid": tid,
                "args": { "hits": cache.0, "misses": cache.1 },
            }))
        }
        EventKind::Log { text } => out.push(json!({
            "name": text.chars().take(80).collect::<String>(), "cat": "log", "ph": "i", "s": "t",
            "ts": ts(e.t), "pid": pid, "tid": tid, "args": { "text": text },
        })),
        EventKind::GilSwitch | EventKind::GilHeld(true) => out.push(json!({
            "name": "GIL taken", "cat": "gil", "ph": "i", "s": "t", "ts": ts(e.t), "pid": pid, "tid": tid,
        })),
        EventKind::GilHeld(false) => out.push(json!({
            "name": "GIL let go", "cat": "gil", "ph": "i", "s": "t", "ts": ts(e.t), "pid": pid, "tid": tid,
        })),
        EventKind::Output { text } => out.push(json!({
            "name": text.chars().take(80).collect::<String>(), "cat": "output", "ph": "i", "s": "t",
            "ts": ts(e.t), "pid": pid, "tid": tid, "args": { "text": text },
        })),
        EventKind::LaneEnd => track.end = Some(e.t),
        EventKind::CacheTotals { hits, misses, .. } => out.push(json!({
            "name": "cache", "ph": "C", "ts": ts(e.t), "pid": pid, "tid": tid,
            "args": { "hits": hits, "misses": misses },
        })),
        EventKind::TaskStates { .. } | EventKind::Usage { .. } => {
            out.push(json!({
                "name": if matches!(e.kind, EventKind::Usage { .. }) { "worker" } else { "tasks" },
                "ph": "C", "ts": ts(e.t), "pid": pid, "tid": tid, "args": counters(&e.kind),
            }))
        }
        EventKind::Lane { .. }
        | EventKind::QueueBound { .. }
        | EventKind::Task { .. }
        | EventKind::GilDropRequest
        | EventKind::Dispatched { .. }
        | EventKind::Collected { .. }
        // Stacks go to the profile's own files (speedscope, folded, pstats).
        | EventKind::Frame { .. }
        | EventKind::Sample { .. } => {}
    }
}

/// A census as a Chrome trace counter's values.
fn counters(kind: &EventKind) -> Value {
    match *kind {
        EventKind::TaskStates {
            queued,
            processing,
            memory,
        } => json!({ "queued": queued, "processing": processing, "in memory": memory }),
        EventKind::Usage {
            cpu_permille,
            memory,
        } => json!({ "cpu %": cpu_permille as f64 / 10.0, "memory MB": memory as f64 / 1e6 }),
        _ => Value::Null,
    }
}

/// A lane's states and tasks as slices that nest: tasks as `X` with states
/// split at their edges, or, where tasks overlap, tasks as async events.
fn slices(
    t: &Track,
    end: u64,
    run: usize,
    tasks: &[crate::workload::TaskSpec],
    ts: &impl Fn(u64) -> f64,
    out: &mut Vec<Value>,
) {
    let mut done = t.done.clone();
    // A task still open at the end of the recording ends there.
    done.extend(
        t.tasks
            .iter()
            .map(|(&task, &(start, _))| (start, end, task, false)),
    );
    done.sort_by_key(|d| (d.0, d.1));
    let disjoint = done.windows(2).all(|w| w[0].1 <= w[1].0);
    let mut edges: Vec<u64> = Vec::new();
    let mut xs: Vec<(u64, u64, Value)> = Vec::new();
    for &(start, stop, task, ok) in &done {
        let name = tasks
            .get(task as usize)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| format!("task {task}"));
        let args = json!({ "task": task, "ok": ok });
        if disjoint {
            edges.extend([start, stop]);
            xs.push((
                start,
                stop,
                json!({ "name": name, "cat": "task", "args": args }),
            ));
        } else {
            let id = format!("run{run}-lane{}-task{task}", t.tid);
            let base = json!({ "name": name, "cat": "task", "id": id, "pid": t.pid, "tid": t.tid });
            let mut b = base.clone();
            b["ph"] = json!("b");
            b["ts"] = json!(ts(start));
            b["args"] = args;
            let mut e = base;
            e["ph"] = json!("e");
            e["ts"] = json!(ts(stop));
            out.extend([b, e]);
        }
    }
    edges.sort_unstable();
    let mut states = t.states.clone();
    states.sort_by_key(|s| s.0);
    for (i, &(from, state)) in states.iter().enumerate() {
        let to = states.get(i + 1).map(|s| s.0).unwrap_or(end).max(from);
        // Split at every task edge inside, so a state never straddles a task.
        let cuts = edges.iter().copied().filter(|&c| c > from && c < to);
        let mut a = from;
        for b in cuts.chain([to]) {
            if b > a {
                xs.push((a, b, json!({ "name": state.name(), "cat": "state" })));
            }
            a = b;
        }
    }
    // Parents before children: by start, the longer first.
    xs.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)));
    for (a, b, mut v) in xs {
        v["ph"] = json!("X");
        v["ts"] = json!(ts(a));
        v["dur"] = json!(us(b - a));
        v["pid"] = json!(t.pid);
        v["tid"] = json!(t.tid);
        out.push(v);
    }
}
