//! What the Dask watcher says, turned into lanes and events: one lane per
//! worker thread, grouped by worker; a task on its lane from its start
//! (the worker said so) to its end (the scheduler said so, with the times
//! of its compute and its transfers).
//!
//! Reads no file and starts nothing: lines in, events out, so it is tested
//! on lines alone.

use crate::event::{Event, EventKind, LaneId, Role, WorkerState, SPAWN_UNKNOWN};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The next lane and task numbers free in the run: a program's own lanes
/// and tasks and its cluster's share them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Numbers {
    pub lane: LaneId,
    pub task: u32,
}

/// A worker of the cluster, as seen so far.
#[derive(Debug)]
struct Worker {
    host: String,
    /// Its process, as its scheduler says (on its own host).
    pid: Option<u32>,
    /// Its process's lane where parlab already shows the process (a
    /// program's own cluster under `parlab py`): its tasks then go on the
    /// lanes of the threads that ran them, and it has no lanes of its own.
    home: Option<LaneId>,
    nthreads: u32,
    joined_ns: u64,
    left_ns: Option<u64>,
    threads: Vec<Slot>,
}

/// One worker thread's lane.
#[derive(Debug)]
struct Slot {
    lane: LaneId,
    /// The thread's ident, once a task that ended there said it.
    thread: Option<u64>,
    /// The task it runs now: its key and number.
    task: Option<(String, u32)>,
    /// The lane is a thread's that parlab already shows (its states are
    /// that thread's own): only the tasks are drawn on it.
    borrowed: bool,
    /// Its last event's time: a lane's events never go back in time.
    last_ns: u64,
    /// Its lane has ended (a failed one stays drawn failed until the run ends).
    ended: bool,
}

/// The cluster as the events so far tell it.
#[derive(Debug, Default)]
pub struct Cluster {
    /// Unix time (s) at the run's origin: the watcher's times are Unix.
    origin_unix: f64,
    scheduler: String,
    version: String,
    workers: BTreeMap<String, Worker>,
    /// The next lane and task free in the run (shared with a program's).
    next: Numbers,
    /// When the workers there at the hello joined (None: as it is read).
    present_at: Option<u64>,
    tasks: HashMap<String, u32>,
    by_prefix: BTreeMap<String, u64>,
    ended: u64,
    erred: u64,
    /// Tasks the scheduler holds and has not finished, at the last census.
    depth: Option<u32>,
    /// The scheduler's unfinished tasks at the last census, and task ends since.
    held: u64,
    ends_since: u64,
    /// The scheduler's tasks by state at the last census.
    states: BTreeMap<String, u64>,
    /// Each worker's CPU (%) and memory (bytes) as the scheduler last reported them.
    metrics: BTreeMap<String, (f64, u64)>,
    /// From each task's compute end to its line reaching parlab, ns, signed:
    /// what watching adds to what is seen. The end is on the worker's own
    /// clock where it shares ours, else as the scheduler dated it.
    latencies: Vec<i64>,
    /// Lanes whose worker left while they ran a task.
    failures: Vec<crate::strategy::Failure>,
    /// Processes parlab already shows, by pid: their lane, and their
    /// threads' lanes by `threading.get_ident()`.
    shown: HashMap<u32, LaneId>,
    shown_threads: HashMap<(u32, u64), LaneId>,
}

/// The part of a key a class would call its function, as Dask names it:
/// `inc-0a1b…` is `inc`, `('sum-aggregate-2f…', 0)` is `sum-aggregate`
/// (the first word, then the words that are letters and not a hash).
pub fn prefix(key: &str) -> String {
    let key = key.trim_start_matches(['(', '\'', '"']);
    let key = key.split(['\'', '"', ',']).next().unwrap_or(key);
    let mut words = key.split('-');
    let mut name = words.next().unwrap_or_default().to_string();
    for w in words {
        let hash = w.len() == 8 && w.chars().all(|c| c.is_ascii_hexdigit());
        if w.is_empty() || hash || !w.chars().all(|c| c.is_ascii_alphabetic()) {
            break;
        }
        name.push('-');
        name.push_str(w);
    }
    name
}

impl Cluster {
    /// A cluster read against a run whose origin was `origin_unix` (s);
    /// the workers there when it attached joined at `present_at` (the
    /// run's origin when the run is the watch; else when it is read).
    pub fn new(origin_unix: f64, present_at: Option<u64>) -> Self {
        Self {
            origin_unix,
            present_at,
            ..Self::default()
        }
    }

    /// A process parlab already shows (the probe reads it), and its lane: a
    /// worker that is this process gets no lanes of its own.
    pub fn shown_process(&mut self, pid: u32, lane: LaneId) {
        self.shown.insert(pid, lane);
    }

    /// A thread parlab already shows: `pid`'s thread whose
    /// `threading.get_ident()` is `ident`, on `lane`.
    pub fn shown_thread(&mut self, pid: u32, ident: u64, lane: LaneId) {
        self.shown_threads.insert((pid, ident), lane);
    }

    /// Unix seconds on the run's clock (ns since its origin; never before it).
    fn ns(&self, unix: f64) -> u64 {
        ((unix - self.origin_unix) * 1e9).round().max(0.0) as u64
    }

    /// Turn one line of the watcher into events, the latest at `now` when
    /// the line says no time; new lanes and tasks are numbered from `next` on.
    pub fn line(&mut self, msg: &Value, now: u64, next: &mut Numbers, out: &mut Vec<Event>) {
        self.next = *next;
        self.read(msg, now, out);
        *next = self.next;
    }

    fn read(&mut self, msg: &Value, now: u64, out: &mut Vec<Event>) {
        let t = msg["t"].as_f64().map_or(now, |u| self.ns(u));
        let s = |k: &str| msg[k].as_str().unwrap_or_default().to_string();
        match msg["k"].as_str().unwrap_or_default() {
            "hello" => {
                self.scheduler = s("scheduler");
                self.version = s("version");
                self.census(self.present_at.unwrap_or(now), msg, out);
            }
            "join" => self.join(&s("worker"), &s("host"), nthreads(msg), pid(msg), t, out),
            "leave" => self.leave(&s("worker"), t, out),
            "start" => self.start(&s("worker"), &s("key"), msg["thread"].as_u64(), t, out),
            "end" => {
                let stops: Vec<(String, u64, u64)> = msg["stops"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| {
                        let action = s[0].as_str()?.to_string();
                        Some((action, self.ns(s[1].as_f64()?), self.ns(s[2].as_f64()?)))
                    })
                    .collect();
                let end = stops.iter().map(|s| s.2).max().unwrap_or(now);
                // On the worker's own clock where it is parlab's (see the
                // watcher's `local_end`), else as the scheduler has it.
                let seen_end = msg["local_stop"].as_f64().map_or(end, |u| self.ns(u));
                if !stops.is_empty() {
                    self.latencies.push(now as i64 - seen_end as i64);
                }
                let ok = msg["ok"].as_bool().unwrap_or(true);
                let thread = msg["thread"].as_u64();
                self.end(&s("worker"), &s("key"), ok, thread, &stops, end, out);
            }
            "census" => self.census(t, msg, out),
            _ => {}
        }
    }

    /// A worker joined: a lane for each of its threads, unless parlab
    /// already shows its process (then its threads' own lanes serve).
    fn join(
        &mut self,
        addr: &str,
        host: &str,
        nthreads: u32,
        pid: Option<u32>,
        t: u64,
        out: &mut Vec<Event>,
    ) {
        if addr.is_empty() || self.workers.get(addr).is_some_and(|w| w.left_ns.is_none()) {
            return;
        }
        let home = pid.and_then(|p| self.shown.get(&p).copied());
        let threads = match home {
            Some(_) => Vec::new(),
            None => (1..=nthreads.max(1))
                .map(|i| self.own_slot(addr, i, t, out))
                .collect(),
        };
        let text = match (home, pid) {
            (Some(_), Some(pid)) => format!(
                "worker {addr} joined: {} thread(s) in the program's process {pid}, its tasks drawn on its threads' lanes",
                nthreads.max(1)
            ),
            _ => format!("worker {addr} joined: {} thread(s)", threads.len()),
        };
        let lane = home.or(threads.first().map(|s| s.lane)).unwrap_or_default();
        push(out, t, lane, EventKind::Log { text });
        self.workers.insert(
            addr.to_string(),
            Worker {
                host: host.to_string(),
                pid,
                home,
                nthreads: nthreads.max(1),
                joined_ns: t,
                left_ns: None,
                threads,
            },
        );
    }

    /// A lane of the cluster's own for `addr`'s `i`th thread.
    fn own_slot(&mut self, addr: &str, i: u32, t: u64, out: &mut Vec<Event>) -> Slot {
        let lane = self.next.lane;
        self.next.lane += 1;
        let kind = EventKind::Lane {
            name: format!("{addr} #{i}"),
            role: Role::Thread,
            pid: 0,
            tid: None,
            spawned_at: SPAWN_UNKNOWN,
        };
        push(out, t, lane, kind);
        push(out, t, lane, EventKind::State(WorkerState::Idle));
        Slot {
            lane,
            thread: None,
            task: None,
            borrowed: false,
            last_ns: t,
            ended: false,
        }
    }

    /// A worker left: its lanes end, but one whose task was running stays
    /// failed to the run's end, as a native worker that fails does (an end
    /// at the same instant would draw nothing). A thread's lane parlab
    /// already shows ends with its thread.
    fn leave(&mut self, addr: &str, t: u64, out: &mut Vec<Event>) {
        let Some(w) = self.workers.get_mut(addr).filter(|w| w.left_ns.is_none()) else {
            return;
        };
        w.left_ns = Some(t);
        let mut lost = Vec::new();
        for (i, slot) in w.threads.iter_mut().enumerate() {
            let at = t.max(slot.last_ns);
            let failed = slot.task.is_some();
            if let Some((key, task)) = slot.task.take() {
                push(out, at, slot.lane, EventKind::TaskEnd { task, ok: false });
                if !slot.borrowed {
                    push(out, at, slot.lane, EventKind::State(WorkerState::Failed));
                }
                self.failures.push(crate::strategy::Failure {
                    lane: slot.name(addr, i),
                    pid: 0,
                    task: Some(prefix(&key)),
                    reason: "its worker left while it ran".into(),
                });
                lost.push(key);
            }
            if !slot.borrowed && !failed {
                push(out, at, slot.lane, EventKind::LaneEnd);
                slot.ended = true;
            }
        }
        let text = if lost.is_empty() {
            format!("worker {addr} left")
        } else {
            format!(
                "worker {addr} left with {} task(s) running ({}): the scheduler runs them again elsewhere",
                lost.len(),
                lost.join(", ")
            )
        };
        push(out, t, w.lane(), EventKind::Log { text });
    }

    /// A task began executing on `addr`, on `thread` where the worker saw it.
    fn start(&mut self, addr: &str, key: &str, thread: Option<u64>, t: u64, out: &mut Vec<Event>) {
        if !self.workers.contains_key(addr) {
            self.join(addr, "", 1, None, t, out);
        }
        let task = self.task_id(key, t, out);
        let Some(w) = self.workers.get_mut(addr).filter(|w| w.left_ns.is_none()) else {
            return;
        };
        // A thread parlab already shows and not yet told: its end places it.
        let Some(i) = w.slot_for(thread, &self.shown_threads) else {
            return;
        };
        let slot = &mut w.threads[i];
        let at = t.max(slot.last_ns);
        slot.task = Some((key.to_string(), task));
        slot.last_ns = at;
        let lane = slot.lane;
        push(out, at, lane, EventKind::TaskStart { task });
        if !slot.borrowed {
            push(out, at, lane, EventKind::State(WorkerState::Running));
        }
    }

    /// The task's number, announced with its name the first time it is seen.
    fn task_id(&mut self, key: &str, t: u64, out: &mut Vec<Event>) -> u32 {
        if let Some(&id) = self.tasks.get(key) {
            return id;
        }
        let id = self.next.task;
        self.next.task += 1;
        self.tasks.insert(key.to_string(), id);
        let name = prefix(key);
        *self.by_prefix.entry(name.clone()).or_default() += 1;
        // The lane does not matter for a name: the run's first.
        push(out, t, 0, EventKind::Task { task: id, name });
        id
    }

    /// A task ended (the scheduler's word): its compute and transfers drawn
    /// on the lane of the thread that ran it, then the lane is idle.
    #[allow(clippy::too_many_arguments)]
    fn end(
        &mut self,
        addr: &str,
        key: &str,
        ok: bool,
        thread: Option<u64>,
        stops: &[(String, u64, u64)],
        end: u64,
        out: &mut Vec<Event>,
    ) {
        if !self.workers.contains_key(addr) {
            self.join(addr, "", 1, None, end, out);
        }
        let task = self.task_id(key, end, out);
        self.ended += 1;
        self.ends_since += 1;
        // A task out of the scheduler's care: a get, as a queue's.
        if let Some(d) = self.depth {
            let depth = d.saturating_sub(1);
            self.depth = Some(depth);
            let lane = self.workers.get(addr).map_or(0, Worker::lane);
            push(out, end, lane, EventKind::QueueGet { task, depth });
        }
        if !ok {
            self.erred += 1;
        }
        let Some(w) = self.workers.get_mut(addr) else {
            return;
        };
        let started = w
            .threads
            .iter()
            .position(|s| s.task.as_ref().is_some_and(|(k, _)| k == key));
        let i = match started {
            Some(j) if thread.is_none() || w.threads[j].thread == thread => Some(j),
            // Started on an unclaimed lane: that lane is its thread's.
            Some(j)
                if w.threads[j].thread.is_none()
                    && !w.threads.iter().any(|s| s.thread == thread) =>
            {
                w.threads[j].thread = thread;
                Some(j)
            }
            _ => w.slot_for(thread, &self.shown_threads),
        };
        // A thread parlab already shows that the probe has not named: the
        // task is counted, not drawn.
        let Some(i) = i else {
            return;
        };
        if let Some(j) = started.filter(|&j| j != i) {
            // Started where its thread was not known, ran on another: the
            // first lane's guess ends here.
            let s = &mut w.threads[j];
            s.task = None;
            let at = end.max(s.last_ns);
            s.last_ns = at;
            if !s.borrowed {
                push(out, at, s.lane, EventKind::State(WorkerState::Idle));
            }
        }
        let slot = &mut w.threads[i];
        if slot.task.as_ref().is_none_or(|(k, _)| k != key) {
            let at = stops.first().map_or(end, |s| s.1).max(slot.last_ns);
            push(out, at, slot.lane, EventKind::TaskStart { task });
        }
        // A thread parlab already shows has its own states: only its task.
        let stops = if slot.borrowed { &[][..] } else { stops };
        for (action, from, _) in stops {
            let state = if action == "compute" {
                WorkerState::Running
            } else {
                WorkerState::Io
            };
            push(
                out,
                (*from).max(slot.last_ns),
                slot.lane,
                EventKind::State(state),
            );
        }
        let at = end.max(slot.last_ns);
        push(out, at, slot.lane, EventKind::TaskEnd { task, ok });
        if !slot.borrowed {
            push(out, at, slot.lane, EventKind::State(WorkerState::Idle));
        }
        slot.task = None;
        slot.last_ns = at;
        if !ok {
            let text = format!("task {key} erred on {addr}");
            push(out, at, slot.lane, EventKind::Log { text });
        }
    }

    /// The scheduler's count of its tasks by state, and its workers.
    fn census(&mut self, t: u64, msg: &Value, out: &mut Vec<Event>) {
        // Workers first: the figures are drawn on their lanes.
        for w in msg["workers"].as_array().into_iter().flatten() {
            let addr = w["worker"].as_str().unwrap_or_default();
            let host = w["host"].as_str().unwrap_or_default();
            self.join(addr, host, nthreads(w), pid(w), t, out);
            // Rounded as the event keeps it, so a replay says the same.
            let cpu = (w["cpu"].as_f64().unwrap_or(0.0) * 10.0).round().max(0.0);
            let memory = w["memory"].as_u64().unwrap_or(0);
            self.metrics.insert(addr.to_string(), (cpu / 10.0, memory));
            // A process parlab already shows has its CPU and memory sampled.
            let lane = self.workers.get(addr).filter(|w| w.home.is_none());
            let lane = lane.and_then(|w| w.threads.first());
            if let Some(slot) = lane.filter(|_| self.workers[addr].left_ns.is_none()) {
                let usage = EventKind::Usage {
                    cpu_permille: cpu.min(u32::MAX as f64) as u32,
                    memory,
                };
                push(out, t.max(slot.last_ns), slot.lane, usage);
            }
        }
        if let Some(states) = msg["states"].as_object() {
            self.states = states
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect();
            let count = |names: &[&str]| -> u64 {
                names
                    .iter()
                    .map(|s| self.states.get(*s).copied().unwrap_or(0))
                    .sum()
            };
            let queued = count(&["waiting", "queued", "no-worker"]);
            let processing = count(&["processing"]);
            let memory = count(&["memory"]);
            self.depth_to(queued + processing, t, out);
            if let Some(lane) = self.first_lane() {
                let states = EventKind::TaskStates {
                    queued,
                    processing,
                    memory,
                };
                push(out, t, lane, states);
            }
        }
    }

    /// The lane the scheduler's own figures are drawn on: the first worker's first.
    fn first_lane(&self) -> Option<LaneId> {
        self.workers
            .values()
            .find_map(|w| w.home.or(w.threads.first().map(|s| s.lane)))
    }

    /// The Queue panel: the scheduler's unfinished tasks as a queue's
    /// depth, a put for each task that arrived since the last census (its
    /// unfinished tasks grew by them, less the ends seen), a get for each
    /// end (in [`Self::end`]).
    fn depth_to(&mut self, held: u64, t: u64, out: &mut Vec<Event>) {
        let arrived = (held + self.ends_since).saturating_sub(self.held);
        self.ends_since = 0;
        self.held = held;
        let Some(lane) = self.first_lane() else {
            return;
        };
        let mut depth = self.depth.unwrap_or(0);
        // Thousands arriving at once are drawn as the depth they make, not one by one.
        for _ in 0..arrived.min(MAX_PUTS) {
            depth = depth.saturating_add(1);
            push(out, t, lane, EventKind::QueuePut { task: 0, depth });
        }
        let held = held.min(u32::MAX as u64) as u32;
        if depth != held && (arrived > 0 || self.depth.is_some()) {
            // Ends the watcher missed, or more arrivals than drawn: the census is right.
            let kind = if held > depth {
                EventKind::QueuePut {
                    task: 0,
                    depth: held,
                }
            } else {
                EventKind::QueueGet {
                    task: 0,
                    depth: held,
                }
            };
            push(out, t, lane, kind);
        }
        self.depth = Some(held);
    }

    /// The watch ends at `t`: the lanes not yet ended (workers still there,
    /// failed ones) end too.
    pub fn close(&mut self, t: u64, out: &mut Vec<Event>) {
        for w in self.workers.values_mut() {
            for slot in w.threads.iter_mut().filter(|s| !s.borrowed && !s.ended) {
                push(out, t.max(slot.last_ns), slot.lane, EventKind::LaneEnd);
                slot.ended = true;
            }
        }
    }

    /// Whether the watcher said hello (its plugins are on the cluster).
    pub fn attached(&self) -> bool {
        !self.scheduler.is_empty()
    }

    /// The lanes that ended failed: their worker left mid-task.
    pub fn failures(&self) -> &[crate::strategy::Failure] {
        &self.failures
    }

    /// The run JSON's `dask` object.
    pub fn figures(&self) -> Value {
        let ms = |ns: u64| ns as f64 / 1e6;
        let workers: Vec<Value> = self
            .workers
            .iter()
            .map(|(addr, w)| {
                let (cpu, memory) = self.metrics.get(addr).copied().unwrap_or_default();
                json!({
                    "address": addr,
                    "host": w.host,
                    "pid": w.pid,
                    "nthreads": w.nthreads,
                    "joined_ms": ms(w.joined_ns),
                    "left_ms": w.left_ns.map(ms),
                    "cpu_percent": cpu,
                    "memory_bytes": memory,
                })
            })
            .collect();
        json!({
            "scheduler": self.scheduler,
            "version": self.version,
            "workers": workers,
            "tasks": {
                "total": self.tasks.len(),
                "ended": self.ended,
                "erred": self.erred,
                "by_prefix": self.by_prefix,
            },
            "states": self.states,
            "end_latency_ms": self.latency(),
        })
    }

    /// The median, 95th percentile and extremes of the latency from a task's
    /// end to its event (ms), over the tasks seen; null before any. Signed,
    /// never clamped: the end is the worker's clock moved onto parlab's, so
    /// a latency below zero says how far those clocks are known to agree,
    /// and clamping it would pull the median down to a false zero.
    fn latency(&self) -> Value {
        if self.latencies.is_empty() {
            return Value::Null;
        }
        let mut l = self.latencies.clone();
        l.sort_unstable();
        let at = |q: f64| l[((l.len() - 1) as f64 * q).round() as usize] as f64 / 1e6;
        let below_zero = l.iter().filter(|&&x| x < 0).count();
        json!({
            "median": at(0.5), "p95": at(0.95), "min": at(0.0), "max": at(1.0),
            "below_zero": below_zero, "tasks": l.len(),
        })
    }

    /// The Summary's lines.
    pub fn summary(&self) -> Vec<String> {
        let live = self
            .workers
            .values()
            .filter(|w| w.left_ns.is_none())
            .count();
        let threads: u32 = self
            .workers
            .values()
            .filter(|w| w.left_ns.is_none())
            .map(|w| w.nthreads)
            .sum();
        vec![format!(
            "Dask {} at {}: {live} worker(s), {threads} thread(s) now; {} task(s) ended, {} erred",
            self.version, self.scheduler, self.ended, self.erred
        )]
    }
}

impl Worker {
    /// The lane it speaks on: its process's, or its first thread's.
    fn lane(&self) -> LaneId {
        self.home
            .or(self.threads.first().map(|s| s.lane))
            .unwrap_or_default()
    }

    /// The lane of `thread`: its own once seen, else the first free lane
    /// no thread has claimed (which it claims), else the first free one.
    /// A worker whose process parlab already shows draws on the lane of
    /// the thread itself, once the probe has named it (`shown`).
    fn slot_for(
        &mut self,
        thread: Option<u64>,
        shown: &HashMap<(u32, u64), LaneId>,
    ) -> Option<usize> {
        let slots = &mut self.threads;
        if let Some(i) = thread.and_then(|th| slots.iter().position(|s| s.thread == Some(th))) {
            return Some(i);
        }
        if self.home.is_some() {
            let th = thread?;
            let lane = *shown.get(&(self.pid?, th))?;
            slots.push(Slot {
                lane,
                thread: Some(th),
                task: None,
                borrowed: true,
                last_ns: 0,
                ended: false,
            });
            return Some(slots.len() - 1);
        }
        let unclaimed = slots
            .iter()
            .position(|s| s.thread.is_none() && s.task.is_none())
            .or_else(|| slots.iter().position(|s| s.thread.is_none()));
        Some(match (thread, unclaimed) {
            (Some(th), Some(i)) => {
                slots[i].thread = Some(th);
                i
            }
            _ => slots.iter().position(|s| s.task.is_none()).unwrap_or(0),
        })
    }
}

impl Slot {
    /// Its name in a failure: the cluster's lane, or the thread's.
    fn name(&self, addr: &str, i: usize) -> String {
        match (self.borrowed, self.thread) {
            (true, Some(th)) => format!("{addr} thread {th}"),
            _ => format!("{addr} #{}", i + 1),
        }
    }
}

/// Puts drawn one by one at a census, at most.
const MAX_PUTS: u64 = 10_000;

fn pid(msg: &Value) -> Option<u32> {
    msg["pid"].as_u64().and_then(|p| u32::try_from(p).ok())
}

fn nthreads(msg: &Value) -> u32 {
    msg["nthreads"].as_u64().unwrap_or(1).clamp(1, 4096) as u32
}

fn push(out: &mut Vec<Event>, t: u64, lane: LaneId, kind: EventKind) {
    out.push(Event { t, lane, kind });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(c: &mut Cluster, lines: &[Value]) -> Vec<Event> {
        let (mut out, mut next) = (Vec::new(), Numbers::default());
        for l in lines {
            c.line(l, 0, &mut next, &mut out);
        }
        out
    }

    #[test]
    fn a_key_is_named_by_its_prefix() {
        assert_eq!(prefix("inc-0a1b2c3d"), "inc");
        assert_eq!(prefix("('sum-aggregate-2f3e', 0)"), "sum-aggregate");
        assert_eq!(
            prefix("batch_of_work_3_calls-8f1a0c"),
            "batch_of_work_3_calls"
        );
        assert_eq!(prefix("read-parquet-0a1b2c3d"), "read-parquet");
        assert_eq!(prefix("lambda-c0e46cf1"), "lambda");
        assert_eq!(prefix("x"), "x");
    }

    #[test]
    fn a_worker_s_threads_are_lanes_and_tasks_run_on_them() {
        let mut c = Cluster::new(100.0, Some(0));
        let out = feed(
            &mut c,
            &[
                json!({"k": "join", "t": 100.0, "worker": "tcp://a:1", "host": "a", "nthreads": 2}),
                json!({"k": "start", "t": 100.010, "worker": "tcp://a:1", "key": "f-1a"}),
                json!({"k": "start", "t": 100.011, "worker": "tcp://a:1", "key": "f-2b"}),
                json!({"k": "end", "worker": "tcp://a:1", "key": "f-2b", "ok": true, "thread": 7,
                       "stops": [["transfer", 100.011, 100.012], ["compute", 100.012, 100.020]]}),
                json!({"k": "end", "worker": "tcp://a:1", "key": "f-1a", "ok": false, "thread": 8,
                       "stops": [["compute", 100.010, 100.030]]}),
            ],
        );
        let lanes: Vec<&str> = out
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Lane { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(lanes, ["tcp://a:1 #1", "tcp://a:1 #2"]);
        let ends: Vec<(u64, LaneId, u32, bool)> = out
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::TaskEnd { task, ok } => Some((e.t, e.lane, task, ok)),
                _ => None,
            })
            .collect();
        assert_eq!(ends, [(20_000_000, 1, 1, true), (30_000_000, 0, 0, false)]);
        assert!(out.iter().any(|e| e.lane == 1
            && e.t == 11_000_000
            && e.kind == EventKind::State(WorkerState::Io)));
        let f = c.figures();
        assert_eq!(f["tasks"]["total"], 2);
        assert_eq!(f["tasks"]["erred"], 1);
        assert_eq!(f["tasks"]["by_prefix"]["f"], 2);
        assert_eq!(f["workers"][0]["nthreads"], 2);
    }

    #[test]
    fn a_worker_that_dies_mid_task_ends_its_lane_failed() {
        let mut c = Cluster::new(0.0, Some(0));
        let out = feed(
            &mut c,
            &[
                json!({"k": "join", "t": 1.0, "worker": "tcp://a:1", "nthreads": 1}),
                json!({"k": "start", "t": 2.0, "worker": "tcp://a:1", "key": "slow-1"}),
                json!({"k": "leave", "t": 3.0, "worker": "tcp://a:1"}),
            ],
        );
        let tail: Vec<&EventKind> = out.iter().rev().take(4).map(|e| &e.kind).collect();
        assert!(
            tail.contains(&&EventKind::State(WorkerState::Failed)),
            "{tail:?}"
        );
        // Drawn failed from its leaving to the run's end, not ended at once.
        assert!(!tail.contains(&&EventKind::LaneEnd), "{tail:?}");
        let mut end = Vec::new();
        c.close(9_000_000_000, &mut end);
        assert_eq!(end.len(), 1);
        assert_eq!(
            (end[0].kind.clone(), end[0].t),
            (EventKind::LaneEnd, 9_000_000_000)
        );
        assert_eq!(c.figures()["workers"][0]["left_ms"], 3000.0);
    }

    #[test]
    fn a_lane_never_goes_back_in_time() {
        let mut c = Cluster::new(0.0, Some(0));
        let out = feed(
            &mut c,
            &[
                json!({"k": "join", "t": 1.0, "worker": "w", "nthreads": 1}),
                json!({"k": "start", "t": 2.0, "worker": "w", "key": "a-1"}),
                // Its transfer happened before it started executing.
                json!({"k": "end", "worker": "w", "key": "a-1", "ok": true, "thread": 1,
                       "stops": [["transfer", 1.5, 1.9], ["compute", 2.0, 2.5]]}),
            ],
        );
        let mut last = 0;
        for e in out.iter().filter(|e| e.lane == 0) {
            assert!(e.t >= last, "{out:?}");
            last = e.t;
        }
    }

    #[test]
    fn a_census_gives_the_tasks_by_state_and_each_worker_s_cpu_and_memory() {
        let mut c = Cluster::new(0.0, Some(0));
        let worker = |addr: &str, cpu: f64| json!({"worker": addr, "host": "h", "nthreads": 2, "cpu": cpu, "memory": 123_000_000u64});
        let out = feed(
            &mut c,
            &[json!({"k": "census", "t": 1.0,
                     "states": {"waiting": 3, "queued": 4, "no-worker": 1, "processing": 2,
                                "memory": 9, "released": 5},
                     "workers": [worker("tcp://a:1", 93.46), worker("tcp://b:2", 4.0)]})],
        );
        let states: Vec<&EventKind> = out
            .iter()
            .filter(|e| matches!(e.kind, EventKind::TaskStates { .. }))
            .map(|e| &e.kind)
            .collect();
        let want = EventKind::TaskStates {
            queued: 8,
            processing: 2,
            memory: 9,
        };
        assert_eq!(states, [&want]);
        let usage: Vec<(LaneId, &EventKind)> = out
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Usage { .. }))
            .map(|e| (e.lane, &e.kind))
            .collect();
        let at = |cpu_permille| EventKind::Usage {
            cpu_permille,
            memory: 123_000_000,
        };
        // Each worker on its first thread's lane; the CPU as the event keeps it.
        assert_eq!(usage, [(0, &at(935)), (2, &at(40))]);
        assert_eq!(c.figures()["workers"][0]["cpu_percent"], 93.5);
    }

    /// Under `parlab py`, a worker of the program's own cluster is a
    /// process the probe shows: its tasks go on its threads' lanes, with
    /// no lanes of the cluster's own and no states (the probe has them).
    #[test]
    fn a_worker_parlab_already_shows_draws_its_tasks_on_its_threads_lanes() {
        let mut c = Cluster::new(0.0, Some(0));
        c.shown_process(4242, 7);
        c.shown_thread(4242, 99, 9);
        let mut next = Numbers { lane: 20, task: 5 };
        let mut out = Vec::new();
        for l in [
            json!({"k": "join", "t": 1.0, "worker": "tcp://a:1", "nthreads": 1, "pid": 4242}),
            json!({"k": "start", "t": 2.0, "worker": "tcp://a:1", "key": "f-1a", "thread": 99}),
            json!({"k": "end", "worker": "tcp://a:1", "key": "f-1a", "ok": true, "thread": 99,
                   "stops": [["compute", 2.0, 2.5]]}),
            // A thread the probe has not named: counted, not drawn.
            json!({"k": "end", "worker": "tcp://a:1", "key": "f-2b", "ok": true, "thread": 5,
                   "stops": [["compute", 3.0, 3.5]]}),
        ] {
            c.line(&l, 0, &mut next, &mut out);
        }
        // Its tasks numbered after the program's.
        assert_eq!(
            next,
            Numbers { lane: 20, task: 7 },
            "no lane of the cluster's own: {out:?}"
        );
        assert!(!out
            .iter()
            .any(|e| matches!(e.kind, EventKind::Lane { .. } | EventKind::State(_))));
        let on_thread: Vec<(u64, &EventKind)> = out
            .iter()
            .filter(|e| e.lane == 9)
            .map(|e| (e.t, &e.kind))
            .collect();
        assert_eq!(
            on_thread,
            [
                (2_000_000_000, &EventKind::TaskStart { task: 5 }),
                (2_500_000_000, &EventKind::TaskEnd { task: 5, ok: true }),
            ]
        );
        assert!(out
            .iter()
            .any(|e| e.lane == 7 && matches!(e.kind, EventKind::Log { .. })));
        assert_eq!(c.figures()["tasks"]["total"], 2);
    }
}
