//! What a finished run reports: the JSON object of `parlab run --json`
//! (schema in `tests/run.schema.json`) and the human summary.

use crate::clock::ms;
use crate::event::WorkerState;
use crate::headless::Finished;
use crate::model::Lab;
use crate::sampler::Load;
use crate::source::GilMethod as Method;
use crate::source::{Meta, Outcome};
use serde_json::{json, Map, Value};

/// Bump when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// The run as one JSON object. Fields that do not apply are absent, not null.
pub fn to_json(f: &Finished) -> Value {
    let mut v = run_json(&f.meta, &f.outcome, &f.lab, f.load());
    if !f.repeats.is_empty() {
        if let (Value::Object(o), Value::Object(r)) = (&mut v, crate::repeat::json(&f.repeats)) {
            o.extend(r);
        }
    }
    v
}

/// The machine over a run, as the JSON has it: measured, never inferred.
pub fn machine_json(load: &Load) -> Value {
    let measured = |v: f64| {
        if load.measured() {
            json!(v)
        } else {
            Value::Null
        }
    };
    json!({
        "cores": load.cores,
        "window_ms": load.window_ms,
        "busy_cpu": measured(load.busy),
        "own_cpu": measured(load.own),
        "others_cpu": measured(load.others),
        "disturbed_threshold": load.threshold,
        "disturbed": if load.measured() { json!(load.disturbed()) } else { Value::Null },
    })
}

/// The same object, from a run's parts (the TUI keeps its lab).
pub fn run_json(info: &Meta, outcome: &Outcome, lab: &Lab, load: Option<&Load>) -> Value {
    let spec = info.native_spec();
    let mut o = Map::new();
    o.insert("schema_version".into(), json!(SCHEMA_VERSION));
    o.insert("source".into(), json!(info.source));
    o.insert("workload".into(), json!(info.workload_name()));
    o.insert("strategy".into(), json!(info.strategy_name()));
    if let Some(p) = &info.program {
        o.insert("script".into(), json!(p.script));
        o.insert("args".into(), json!(p.args));
    }
    // A program's workers are the lanes that ran a task; its tasks, those seen.
    let (workers, tasks) = match info.about.program_threads {
        true => (lab.task_lanes(), lab.tasks.len()),
        false => (info.workers as usize, info.tasks.len()),
    };
    o.insert("workers".into(), json!(workers));
    o.insert("pid".into(), json!(info.pid));
    o.insert("wall_ms".into(), json!(ms(outcome.wall_ns)));
    o.insert("tasks".into(), json!(tasks));
    if let Some(r) = &outcome.result {
        o.insert("result".into(), r.clone());
    }
    let received = if spec.is_none_or(|s| s.record_events) {
        lab.received
    } else {
        0
    };
    o.insert(
        "events".into(),
        json!({ "sent": outcome.events_sent, "received": received }),
    );
    o.insert("lanes".into(), Value::Array(lanes(lab)));
    let failures: Vec<Value> = outcome
        .failures
        .iter()
        .map(|x| json!({ "lane": x.lane, "pid": x.pid, "task": x.task, "reason": x.reason }))
        .collect();
    o.insert("failures".into(), Value::Array(failures));
    if spec.is_some_and(|s| s.duration_secs.is_some()) {
        o.insert("rounds".into(), json!(outcome.rounds));
    }
    if outcome.cancelled {
        o.insert("cancelled".into(), json!(true));
    }
    if outcome.truncated {
        o.insert("truncated".into(), json!(true));
    }
    for e in &outcome.extensions {
        o.insert(e.key.clone(), e.json.clone());
    }
    if let Some(load) = load {
        o.insert("machine".into(), machine_json(load));
    }
    if let Some(Value::Object(g)) = o.get_mut("gil") {
        // Older recordings' model runs did not say their method.
        let method = Method::of(&Value::Object(g.clone())).unwrap_or(Method::Model);
        g.insert("method".into(), json!(method.name()));
        let lanes: Vec<Value> = lab
            .gil_shares(method == Method::Measured)
            .iter()
            .filter(|s| s.life_ns > 0)
            .map(|s| {
                json!({ "lane": s.lane, "name": s.name, "held_ms": ms(s.held_ns), "wait_ms": ms(s.wait_ns) })
            })
            .collect();
        g.insert("lanes".into(), Value::Array(lanes));
    }
    if let Some(Value::Object(p)) = o.get_mut("profile") {
        profile_json(lab, p);
    }
    if let Some(Value::Object(q)) = o.get_mut("queue") {
        // What the model saw of the queue, beside what the strategy counted.
        let depth: Vec<Value> = lab
            .depth_series(1000)
            .iter()
            .map(|&(t, d)| json!([ms(t), d]))
            .collect();
        q.insert(
            "producer_blocked_ms".into(),
            json!(ms(lab.state_ns(WorkerState::QueueFull))),
        );
        q.insert(
            "consumer_blocked_ms".into(),
            json!(ms(lab.state_ns(WorkerState::QueueEmpty))),
        );
        q.insert("depth".into(), Value::Array(depth));
    }
    Value::Object(o)
}

/// The rows of the JSON's profile: the top functions of all lanes and of
/// each lane (shares as fractions of the samples).
fn profile_json(lab: &Lab, o: &mut Map<String, Value>) {
    use crate::model::profile::{Grain, SortKey};
    const TOP: usize = 20;
    let p = &lab.profile;
    let all = p.counts(None).samples;
    let rows = |lane| -> Vec<Value> {
        let n = p.counts(lane).samples.max(1) as f64;
        p.rows(lane, Grain::Function, SortKey::Own)
            .iter()
            .take(TOP)
            .map(|r| {
                let c = &r.total;
                json!({
                    "function": r.function, "file": r.file, "line": r.line,
                    "self": r.own.samples as f64 / n, "total": c.samples as f64 / n,
                    "held": c.held_share(), "without_gil": c.free_share(),
                    "gil_wait": c.share(WorkerState::GilWait),
                    "io": c.share(WorkerState::Io),
                })
            })
            .collect()
    };
    let mut lanes = Map::new();
    for (id, samples) in p.lanes() {
        let name = lab
            .lane(id)
            .map_or(format!("lane-{id}"), |l| l.name.clone());
        lanes.insert(
            id.to_string(),
            json!({ "name": name, "samples": samples, "top": rows(Some(id)) }),
        );
    }
    o.insert("samples".into(), json!(all));
    o.insert("top".into(), Value::Array(rows(None)));
    o.insert("lanes".into(), Value::Object(lanes));
}

fn lanes(lab: &Lab) -> Vec<Value> {
    let now = lab.now;
    let helpers = lab.helpers();
    lab.lanes
        .iter()
        .zip(helpers)
        .map(|(l, helper)| {
            let states: Map<String, Value> = WorkerState::ALL
                .iter()
                .map(|&s| (s.name().to_string(), json!(ms(l.state_ns_at(s, now)))))
                .collect();
            let mut lane = json!({
                "id": l.id,
                "name": l.name,
                "role": l.role.word(),
                "pid": l.pid,
                "tid": l.tid,
                "busy_ms": ms(l.busy_ns_at(now)),
                "helper": helper,
                "tasks": l.tasks_done,
                "state_ms": states,
            });
            if let Some(s) = l.spawn_ns {
                lane["spawn_ms"] = json!(ms(s));
            }
            if let Some(e) = l.end_ns {
                lane["end_ms"] = json!(ms(e));
            }
            lane
        })
        .collect()
}

/// The human summary.
pub fn human(f: &Finished) -> String {
    let mut out = match f.meta.native_spec() {
        Some(spec) => native_heading(f, spec),
        None => format!("parlab: {}\n", f.meta.headline()),
    };
    out += &body(f);
    if !f.repeats.is_empty() {
        out += "  repeats: the figures above are the last run's; its wall time each run:\n";
        for line in crate::repeat::words(&f.repeats, 30) {
            out += &format!("           {line}\n");
        }
    }
    out
}

/// What a native run was, and notes on settings that did not apply.
fn native_heading(f: &Finished, spec: &crate::plan::RunSpec) -> String {
    let o = &f.outcome;
    let mut out = String::new();
    let gil = if o.extension(crate::strategy::Figures::Gil).is_some() {
        " under the GIL"
    } else {
        ""
    };
    out += &format!(
        "parlab: {} with {}{gil}, {} worker{}\n",
        spec.workload.name(),
        spec.strategy.name(),
        f.meta.workers,
        if f.meta.workers == 1 { "" } else { "s" }
    );
    if spec.workers.is_some() && !spec.strategy.desc.takes_workers() {
        out += &format!(
            "note: --workers does not apply to {} (it ran 1 worker)\n",
            spec.strategy.name()
        );
    }
    if spec.gil && !spec.gil_applies() {
        let why = if spec.strategy.desc.processes {
            "each worker process has its own interpreter, so its own uncontended GIL"
        } else {
            "one thread never waits for a GIL"
        };
        out += &format!(
            "note: --gil has no effect on {}: {why}\n",
            spec.strategy.name()
        );
    }
    out
}

/// Wall time, machine, result, extensions, lanes, events, failures: any run's.
fn body(f: &Finished) -> String {
    let o = &f.outcome;
    let spec = f.meta.native_spec();
    let mut out = format!("wall time  {:.1} ms\n", ms(o.wall_ns));
    if let Some(l) = f.load() {
        let own = if l.measured() {
            format!("parlab used {:.1}, ", l.own)
        } else {
            String::new()
        };
        out += &format!(
            "machine    {} cores; {own}{}{}\n",
            l.cores,
            l.words(),
            if l.disturbed() {
                ": DISTURBED, the figures are suspect: rerun on a quieter machine"
            } else {
                ""
            }
        );
    }
    if let Some(cores) = core_words(&f.lab, crate::sampler::logical_cores(), false) {
        out += &format!("cores      {cores}\n");
    }
    out += &format!("result     {}\n", result_words(f));
    let mut extensions: Vec<_> = o.extensions.iter().collect();
    extensions.sort_by_key(|e| &e.key);
    for e in extensions {
        for (i, line) in e.summary.iter().enumerate() {
            let label = if i == 0 { e.key.as_str() } else { "" };
            out += &format!("{label:<10} {line}\n");
        }
        if e.is(crate::strategy::Figures::Gil) {
            out += &format!("           {}\n", gil_line(f));
        }
        if e.is(crate::strategy::Figures::Queue) {
            out += &format!(
                "           producers blocked {:.1} ms (queue_full), consumers blocked {:.1} ms (queue_empty)\n",
                ms(f.lab.state_ns(WorkerState::QueueFull)),
                ms(f.lab.state_ns(WorkerState::QueueEmpty))
            );
        }
    }
    out += &lane_lines(&f.lab);
    let received = if spec.is_none_or(|s| s.record_events) {
        f.lab.received
    } else {
        0
    };
    out += &format!("events     sent {}, received {}\n", o.events_sent, received);
    if o.events_dropped > 0 {
        out += &format!(
            "           dropped {}: the viewer fell {} batches behind (the bound that keeps memory flat)\n",
            o.events_dropped,
            crate::event::MAX_BACKLOG_BATCHES
        );
    }
    for x in &o.failures {
        out += &format!(
            "FAILED     {} (pid {}){}: {}\n",
            x.lane,
            x.pid,
            x.task
                .as_ref()
                .map(|t| format!(", task {t}"))
                .unwrap_or_default(),
            x.reason
        );
    }
    out
}

/// What the run computed, or why it has no result.
fn result_words(f: &Finished) -> String {
    let o = &f.outcome;
    let spec = f.meta.native_spec();
    let why = match &o.result {
        Some(r) => return compact(r, spec.map_or(&[][..], |s| s.workload.desc.result)),
        None if o.truncated => "the recording stops before the run ended",
        None if o.cancelled && o.failures.is_empty() => "the run was cancelled",
        // A program's result is its last JSON line: one that printed none
        // and failed nothing did not fail.
        None if f.meta.program.is_some() && o.failures.is_empty() => {
            "the program printed no JSON line"
        }
        None if spec.is_none() && o.failures.is_empty() => "its source gives none",
        None => "the run failed",
    };
    format!("none: {why}")
}

/// Each lane: its process, tasks, busy time, when it started and its states.
fn lane_lines(lab: &Lab) -> String {
    let mut out = String::from("lanes\n");
    let now = lab.now;
    for l in &lab.lanes {
        let spawn = l
            .spawn_ns
            .map(|s| format!(", started in {:.2} ms", ms(s)))
            .unwrap_or_default();
        let states: Vec<String> = WorkerState::ALL
            .iter()
            .filter_map(|&s| {
                let t = l.state_ns_at(s, now);
                (t > 0).then(|| format!("{} {:.1}", s.name(), ms(t)))
            })
            .collect();
        out += &format!(
            "  {:<12} pid {:<7} {:>3} tasks, busy {:>9.1} ms{spawn}  [{} ms]\n",
            l.name,
            l.pid,
            l.tasks_done,
            ms(l.busy_ns_at(now)),
            states.join(", ")
        );
    }
    out
}

/// "2 threads held the GIL 49 % / 50 % of the time; they waited 38 % / 37 %;
/// 118 hand-offs/s" (or "2 processes, each with its own GIL, held it …"):
/// the workers' shares of their own lives.
fn gil_line(f: &Finished) -> String {
    let gil = f.outcome.extension(crate::strategy::Figures::Gil);
    let measured = gil.and_then(Method::of) == Some(Method::Measured);
    gil_words(
        &f.lab,
        measured,
        gil.and_then(|g| g["switches_per_s"].as_f64()),
    )
}

/// The workers' GIL shares in words, live or at the end.
pub fn gil_words(lab: &Lab, measured: bool, per_s: Option<f64>) -> String {
    let all = lab.gil_shares(measured);
    let workers: Vec<_> = all.iter().filter(|s| s.worker && s.life_ns > 0).collect();
    let shown = if workers.is_empty() {
        all.iter().filter(|s| s.life_ns > 0).collect()
    } else {
        workers
    };
    let pct = |v: Vec<f64>| {
        let mut words: Vec<String> = v
            .iter()
            .take(6)
            .map(|x| format!("{:.0} %", x * 100.0))
            .collect();
        if v.len() > 6 {
            words.push("…".into());
        }
        words.join(" / ")
    };
    let n = shown.len();
    let pids: Vec<u32> = shown.iter().map(|s| s.pid).collect();
    // Each process has a GIL of its own: say whose GIL it was.
    let who = match (n, distinct(&pids)) {
        (1, _) => "1 thread held the GIL".to_string(),
        (n, p) if p == n => format!("{} each with its own GIL, held it", counted(&pids) + ","),
        (_, 1) => format!("{} held the GIL", counted(&pids)),
        _ => format!("{} held their process's GIL", counted(&pids)),
    };
    let mut line = format!(
        "{who} {} of the time; {} {}",
        pct(shown.iter().map(|s| s.held()).collect()),
        if n == 1 { "it waited" } else { "they waited" },
        pct(shown.iter().map(|s| s.waited()).collect()),
    );
    if let Some(per_s) = per_s {
        line += &format!("; {per_s:.0} hand-offs/s");
    }
    line
}

/// More lanes computing than cores, in words: live, how many are on a core
/// and how many wait for one now ("8 threads, 2 cores: 2 on a core, 6 wait
/// for one"); at the end, the same on average over the run. None when no
/// lane waited for a core.
pub fn core_words(lab: &Lab, cores: u32, live: bool) -> Option<String> {
    let lanes: Vec<_> = lab.lanes.iter().filter(|l| l.born().is_some()).collect();
    let ready = |l: &&crate::model::lane::Lane| l.state_ns_at(WorkerState::Ready, lab.now);
    if lanes.iter().map(ready).sum::<u64>() == 0 {
        return None;
    }
    let pids: Vec<u32> = lanes.iter().map(|l| l.pid).collect();
    let who = format!(
        "{}, {cores} core{}",
        counted(&pids),
        if cores == 1 { "" } else { "s" }
    );
    if live {
        // A wait for a core is learnt when it ends, so a lane's last known
        // state lags: count the lanes that want a core (computing or
        // waiting for one), of which no more than the cores can be on one.
        let runnable = lanes
            .iter()
            .filter(|l| {
                l.end_ns.is_none() && matches!(l.state, WorkerState::Running | WorkerState::Ready)
            })
            .count();
        let on = runnable.min(cores as usize);
        return Some(match runnable - on {
            0 => format!("{who}: {on} on a core"),
            w => format!("{who}: {on} on a core, {w} wait for one"),
        });
    }
    let wall = lab.now.max(1) as f64;
    let mean =
        |s: WorkerState| lanes.iter().map(|l| l.state_ns_at(s, lab.now)).sum::<u64>() as f64 / wall;
    Some(format!(
        "{who}: on average {:.1} on a core, {:.1} waiting for one",
        mean(WorkerState::Running),
        mean(WorkerState::Ready)
    ))
}

/// How many processes these lanes' ids name.
fn distinct(pids: &[u32]) -> usize {
    let mut p = pids.to_vec();
    p.sort_unstable();
    p.dedup();
    p.len()
}

/// Lanes counted in the lecture's words, from their processes' ids: "1
/// thread", "2 threads" (one process), "2 processes" (one thread each),
/// "3 threads in 2 processes".
pub fn counted(pids: &[u32]) -> String {
    let (n, p) = (pids.len(), distinct(pids));
    match (n, p) {
        (1, _) => "1 thread".into(),
        (n, 1) => format!("{n} threads"),
        (n, p) if n == p => format!("{n} processes"),
        (n, p) => format!("{n} threads in {p} processes"),
    }
}

/// A result on one line: `key=value` pairs in the workload's declared
/// order, long arrays shortened.
fn compact(v: &Value, order: &[&str]) -> String {
    let Value::Object(m) = v else {
        return v.to_string();
    };
    let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(order.len());
    let mut fields: Vec<(&String, &Value)> = m.iter().collect();
    fields.sort_by_key(|(k, _)| rank(k));
    fields
        .iter()
        .map(|(k, v)| {
            let s = match v {
                Value::Array(a) if a.len() > 10 || a.iter().any(Value::is_object) => {
                    format!("[{} items]", a.len())
                }
                other => other.to_string(),
            };
            format!("{k}={s}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn lanes_are_counted_as_threads_or_processes_by_their_pids() {
        assert_eq!(counted(&[7]), "1 thread");
        assert_eq!(counted(&[7, 7]), "2 threads");
        assert_eq!(counted(&[7, 8]), "2 processes");
        assert_eq!(counted(&[7, 7, 8]), "3 threads in 2 processes");
    }
}
