//! The lab: what every panel and every summary reads. Plain data, fed by
//! event batches ([`Lab::apply`]), testable without a terminal; it imports
//! nothing from the UI.

pub mod lane;
pub mod moment;
pub mod profile;

use crate::clock::{ms, wall_clock_hms};
use crate::event::{Batch, CacheOp, Event, EventKind, LaneId, WorkerState};
use crate::workload::TaskSpec;
use lane::Lane;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, SystemTime};

/// Log lines kept for the Log panel.
pub const LOG_LINES: usize = 10_000;
/// Depth points kept for the Queue panel before older ones are thinned.
const DEPTH_POINTS: usize = 100_000;

/// One line of the lecture-style log, kept raw: it is formatted only when
/// shown ([`Lab::log_text`]), so logging costs the model almost nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub t: u64,
    pub lane: Option<LaneId>,
    pub body: LogBody,
}

/// What a log line says.
#[derive(Clone, Debug, PartialEq)]
pub enum LogBody {
    /// A task completed on the line's lane, taking `took` ns.
    Completed { task: u32, took: u64 },
    /// Anything else, already worded (`INFO:who: text`).
    Text(String),
    /// A line a program printed, shown exactly so.
    Verbatim(String),
}

/// Queue depth and traffic.
#[derive(Clone, Debug, Default)]
pub struct QueueModel {
    /// The queue's bound, where the run has one.
    pub capacity: Option<u64>,
    /// (time, depth after a put or get), in time order.
    pub depth: Vec<(u64, u32)>,
    pub puts: u64,
    pub gets: u64,
    /// Put and get times within the last second, for the rates.
    pub recent_puts: VecDeque<u64>,
    pub recent_gets: VecDeque<u64>,
    /// A scheduler's tasks by state over time (queued, processing, in
    /// memory), where the run has a scheduler (a Dask cluster).
    pub states: Vec<(u64, [u64; 3])>,
}

/// A process's CPU and memory as its own side last reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// When it was reported (ns since the run's start).
    pub t: u64,
    /// Percent of one core.
    pub cpu_percent: f64,
    pub memory_bytes: u64,
}

/// The window the queue's put and get rates are measured over.
pub const RATE_WINDOW_NS: u64 = 1_000_000_000;

impl QueueModel {
    fn note(times: &mut VecDeque<u64>, t: u64) {
        times.push_back(t);
        while times.front().is_some_and(|&f| f + RATE_WINDOW_NS < t) {
            times.pop_front();
        }
    }

    /// The depth now: after the latest put or get.
    pub fn depth_now(&self) -> u32 {
        self.depth.last().map(|p| p.1).unwrap_or(0)
    }

    /// Puts and gets per second over the last second before `now`.
    pub fn rates(&self, now: u64) -> (f64, f64) {
        let count = |times: &VecDeque<u64>| {
            times.iter().filter(|&&t| t + RATE_WINDOW_NS >= now).count() as f64
        };
        let window = now.clamp(1, RATE_WINDOW_NS) as f64 / 1e9;
        (
            count(&self.recent_puts) / window,
            count(&self.recent_gets) / window,
        )
    }
}

/// Cache traffic, streamed live.
#[derive(Clone, Debug, Default)]
pub struct CacheModel {
    /// `lru_cache(maxsize)`, where the run told it: `Some(None)` is unbounded.
    pub maxsize: Option<Option<u64>>,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    /// Per process: (hits, misses, currsize).
    pub per_pid: BTreeMap<u32, (u64, u64, u64)>,
    /// (time, hits, misses) sampled every few milliseconds, for the ratio over time.
    pub series: Vec<(u64, u64, u64)>,
}

/// One lane's time with the GIL and waiting for it, and its whole life.
#[derive(Clone, Debug, PartialEq)]
pub struct GilShare {
    pub lane: LaneId,
    pub name: String,
    /// Its process: each has a GIL of its own.
    pub pid: u32,
    /// It ran a task.
    pub worker: bool,
    pub held_ns: u64,
    pub wait_ns: u64,
    pub life_ns: u64,
}

impl GilShare {
    /// Held, as a share of its life.
    pub fn held(&self) -> f64 {
        self.held_ns as f64 / self.life_ns.max(1) as f64
    }

    /// Waiting, as a share of its life.
    pub fn waited(&self) -> f64 {
        self.wait_ns as f64 / self.life_ns.max(1) as f64
    }
}

/// A program's lane that ran no task for this long counts as a helper.
const HELPER_AFTER_NS: u64 = 500_000_000;

/// Everything known about the current run (bounded in size, so a replay
/// keeps copies of it to seek back to).
#[derive(Clone, Debug)]
pub struct Lab {
    pub lanes: Vec<Lane>,
    index: HashMap<LaneId, usize>,
    pub log: VecDeque<LogLine>,
    pub tasks: Vec<TaskSpec>,
    pub started: SystemTime,
    /// Events applied.
    pub received: u64,
    /// The latest timestamp seen.
    pub now: u64,
    pub queue: QueueModel,
    pub cache: CacheModel,
    pub gil_switches: u64,
    /// A real GIL's holder has been read (a program's run).
    pub gil_read: bool,
    pub tasks_done: u64,
    /// A program's run: it logs its own lines; the lab adds none for its tasks.
    pub program: bool,
    /// Its Python stacks, sampled from outside.
    pub profile: profile::Profile,
    /// Processes that report their own CPU and memory (a Dask cluster's
    /// workers), by the lane that speaks for each.
    pub usage: BTreeMap<LaneId, Usage>,
}

impl Lab {
    /// A lab for a run about to start.
    pub fn for_run(meta: &crate::source::Meta) -> Self {
        let mut lab = Self::new(meta.tasks.clone(), meta.started);
        lab.queue.capacity = meta.capacity;
        lab.cache.maxsize = meta.cache_maxsize;
        lab.program = meta.about.program_threads;
        lab
    }

    /// An empty lab for a run of these tasks, started at `started` (wall clock).
    pub fn new(tasks: Vec<TaskSpec>, started: SystemTime) -> Self {
        Self {
            lanes: Vec::new(),
            index: HashMap::new(),
            log: VecDeque::new(),
            tasks,
            started,
            received: 0,
            now: 0,
            queue: QueueModel::default(),
            cache: CacheModel::default(),
            gil_switches: 0,
            gil_read: false,
            tasks_done: 0,
            program: false,
            profile: profile::Profile::default(),
            usage: BTreeMap::new(),
        }
    }

    /// Apply one batch of events.
    pub fn apply(&mut self, batch: Batch) {
        for e in batch {
            self.apply_event(e);
        }
    }

    /// Apply a batch, leaving it empty for its sender to fill again.
    pub fn apply_from(&mut self, batch: &mut Batch) {
        for e in batch.drain(..) {
            self.apply_event(e);
        }
    }

    /// Where lane `id` is: a scan while there are few lanes (cheaper than
    /// hashing, and a replay applies millions of events), else the index.
    fn position(&self, id: LaneId) -> Option<usize> {
        if self.lanes.len() <= 16 {
            self.lanes.iter().position(|l| l.id == id)
        } else {
            self.index.get(&id).copied()
        }
    }

    fn lane_mut(&mut self, id: LaneId) -> &mut Lane {
        let i = match self.position(id) {
            Some(i) => i,
            None => {
                // Lanes stay in id order (the order workers were started).
                let at = self.lanes.partition_point(|l| l.id < id);
                self.lanes.insert(at, Lane::new(id));
                self.index = self
                    .lanes
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.id, i))
                    .collect();
                at
            }
        };
        &mut self.lanes[i]
    }

    /// The lane with this id.
    pub fn lane(&self, id: LaneId) -> Option<&Lane> {
        self.position(id).map(|i| &self.lanes[i])
    }

    /// Apply one event.
    pub fn apply_event(&mut self, e: Event) {
        self.received += 1;
        self.now = self.now.max(e.t);
        let t = e.t;
        match e.kind {
            EventKind::Lane {
                name,
                role,
                pid,
                tid,
                spawned_at,
            } => {
                let lane = self.lane_mut(e.lane);
                lane.name = name;
                lane.role = role;
                lane.pid = pid;
                lane.tid = tid;
                lane.spawn_ns = (spawned_at != crate::event::SPAWN_UNKNOWN)
                    .then(|| t.saturating_sub(spawned_at));
                lane.since = lane.since.min(t);
            }
            EventKind::State(s) => self.lane_mut(e.lane).enter(t, s),
            EventKind::TaskStart { task } => self.lane_mut(e.lane).task_start(t, task),
            EventKind::TaskEnd { task, ok } => {
                let took = self.lane_mut(e.lane).task_end(t, task, ok);
                if ok {
                    self.tasks_done += 1;
                    if !self.program {
                        self.push_log(t, Some(e.lane), LogBody::Completed { task, took });
                    }
                }
            }
            EventKind::Log { text } => {
                let who = self
                    .lane(e.lane)
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                self.push_log(
                    t,
                    Some(e.lane),
                    LogBody::Text(format!("INFO:{who}: {text}")),
                );
            }
            EventKind::QueuePut { depth, .. } => {
                self.queue.puts += 1;
                QueueModel::note(&mut self.queue.recent_puts, t);
                self.push_depth(t, depth);
            }
            EventKind::QueueGet { depth, .. } => {
                self.queue.gets += 1;
                QueueModel::note(&mut self.queue.recent_gets, t);
                self.push_depth(t, depth);
            }
            EventKind::Cache { op, currsize } => self.apply_cache(e.lane, t, op, currsize),
            EventKind::GilSwitch => self.gil_switches += 1,
            EventKind::GilHeld(held) => {
                self.gil_read = true;
                self.lane_mut(e.lane).gil_held(t, held)
            }
            EventKind::Output { text } => self.push_log(t, Some(e.lane), LogBody::Verbatim(text)),
            EventKind::Task { task, name } => self.name_task(task, name),
            EventKind::LaneEnd => self.lane_mut(e.lane).end(t),
            EventKind::QueueBound { capacity } => {
                self.queue.capacity = (capacity > 0).then_some(capacity)
            }
            EventKind::CacheTotals {
                hits,
                misses,
                currsize,
            } => {
                // A program's process says its counters whole: the totals sum the processes.
                let pid = self.lane(e.lane).map(|l| l.pid).unwrap_or(0);
                let c = &mut self.cache;
                c.per_pid.insert(pid, (hits, misses, currsize));
                c.hits = c.per_pid.values().map(|v| v.0).sum();
                c.misses = c.per_pid.values().map(|v| v.1).sum();
                c.series.push((t, c.hits, c.misses));
            }
            EventKind::Frame { .. } | EventKind::Sample { .. } => self.apply_profile(e),
            EventKind::TaskStates { .. } | EventKind::Usage { .. } => self.apply_census(e),
            EventKind::GilDropRequest
            | EventKind::Dispatched { .. }
            | EventKind::Collected { .. } => {}
        }
    }

    /// A task seen as it starts (a program's, a cluster's): the list
    /// grows. Names can come out of order (a cluster's workers' clocks):
    /// the numbers between are held, nameless, until theirs come.
    fn name_task(&mut self, task: u32, name: String) {
        let i = task as usize;
        while self.tasks.len() <= i {
            self.tasks.push(TaskSpec {
                id: self.tasks.len() as u32,
                name: String::new(),
                cost: 0,
                units: None,
                phase: 0,
            });
        }
        if self.tasks[i].name.is_empty() {
            self.tasks[i].name = name;
        }
    }

    /// A scheduler's census: its tasks by state, or a worker's CPU and memory.
    fn apply_census(&mut self, e: Event) {
        match e.kind {
            EventKind::TaskStates {
                queued,
                processing,
                memory,
            } => thin_push(&mut self.queue.states, (e.t, [queued, processing, memory])),
            EventKind::Usage {
                cpu_permille,
                memory,
            } => {
                let usage = Usage {
                    t: e.t,
                    cpu_percent: cpu_permille as f64 / 10.0,
                    memory_bytes: memory,
                };
                self.usage.insert(e.lane, usage);
            }
            _ => {}
        }
    }

    /// A frame defined, or a stack sampled on its lane.
    fn apply_profile(&mut self, e: Event) {
        match e.kind {
            EventKind::Frame {
                id,
                function,
                file,
                line,
            } => self.profile.define(
                id,
                profile::Frame {
                    function,
                    file,
                    line,
                },
            ),
            EventKind::Sample { frames, held } => {
                // What the lane was doing as its stack was read. The GIL's
                // holder is read with the stack: a thread seen holding it
                // is not waiting for it, whatever an older reading said.
                let state = match self.lane(e.lane).map_or(WorkerState::Idle, |l| l.state) {
                    WorkerState::GilWait if held => WorkerState::Running,
                    s => s,
                };
                self.profile.sample(e.t, e.lane, frames, held, state);
            }
            _ => {}
        }
    }

    fn push_depth(&mut self, t: u64, depth: u32) {
        thin(&mut self.queue.depth);
        // Batches from different lanes arrive slightly out of order: insert
        // in time order (almost always at the end), so readers never sort.
        let at = self.queue.depth.len()
            - self
                .queue
                .depth
                .iter()
                .rev()
                .take_while(|p| p.0 > t)
                .count();
        // Several operations read at one instant (a queue read from
        // outside) are one point of the series: counted, not repeated.
        if at > 0 && self.queue.depth[at - 1] == (t, depth) {
            return;
        }
        self.queue.depth.insert(at, (t, depth));
    }

    fn apply_cache(&mut self, lane: LaneId, t: u64, op: CacheOp, currsize: u64) {
        let pid = self.lane(lane).map(|l| l.pid).unwrap_or(0);
        let c = &mut self.cache;
        let entry = c.per_pid.entry(pid).or_default();
        match op {
            CacheOp::Hit => {
                c.hits += 1;
                entry.0 += 1;
            }
            CacheOp::Miss => {
                c.misses += 1;
                entry.1 += 1;
            }
            CacheOp::Evict => c.evictions += 1,
        }
        entry.2 = currsize;
        if c.series
            .last()
            .is_none_or(|&(last, _, _)| t >= last + 5_000_000)
        {
            c.series.push((t, c.hits, c.misses));
        }
    }

    /// `NAME (thread worker-3/TID, pid PID) completed in N units`, as the lecture's log reads.
    fn completed_line(&self, lane: LaneId, task: u32, took: u64) -> String {
        let spec = self.tasks.get(task as usize);
        let name = spec.map(|s| s.name.as_str()).unwrap_or("?");
        let (who, tid, pid) = match self.lane(lane) {
            // One fixed format, as the lecture's: a process's worker is its main thread.
            Some(l) => (
                format!("thread {}", l.name),
                l.tid.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                l.pid,
            ),
            None => ("thread ?".into(), "-".into(), 0),
        };
        let took = match spec.and_then(|s| s.units) {
            Some(units) => format!("{units} units"),
            None => format!("{:.1} ms", ms(took)),
        };
        let pid = crate::event::pid_words(pid).replacen(' ', ", ", 1);
        format!("INFO:execute_task: {name} ({who}/{tid}{pid}) completed in {took}")
    }

    fn push_log(&mut self, t: u64, lane: Option<LaneId>, body: LogBody) {
        if self.log.len() >= LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(LogLine { t, lane, body });
    }

    /// A log line as the lecture prints it: `[HH:MM:SS.mmm] INFO:...`.
    pub fn log_text(&self, line: &LogLine) -> String {
        let at = self.started + Duration::from_nanos(line.t);
        let body = match &line.body {
            LogBody::Verbatim(text) => return text.clone(),
            LogBody::Completed { task, took } => {
                self.completed_line(line.lane.unwrap_or(0), *task, *took)
            }
            LogBody::Text(text) => text.clone(),
        };
        format!("[{}] {body}", wall_clock_hms(at))
    }

    /// Add a line from the lab itself (a control changed, a run started).
    pub fn note(&mut self, text: impl Into<String>) {
        let t = self.now;
        self.push_log(
            t,
            None,
            LogBody::Text(format!("INFO:parlab: {}", text.into())),
        );
    }

    /// Close every lane's open state at `t` (the end of the run).
    pub fn finish(&mut self, t: u64) {
        self.now = self.now.max(t);
        for lane in &mut self.lanes {
            lane.close(t);
        }
    }

    /// Each lane's time with and waiting for the GIL: held as read from the
    /// interpreter (`measured`), or else its time running (under the model
    /// or inferred, a thread runs Python code only while it holds the GIL).
    pub fn gil_shares(&self, measured: bool) -> Vec<GilShare> {
        let now = self.now;
        self.lanes
            .iter()
            .map(|l| GilShare {
                lane: l.id,
                name: l.name.clone(),
                pid: l.pid,
                worker: !l.task_marks.is_empty(),
                held_ns: if measured {
                    l.gil_held_ns_at(now)
                } else {
                    l.state_ns_at(WorkerState::Running, now)
                },
                wait_ns: l.state_ns_at(WorkerState::GilWait, now),
                life_ns: WorkerState::ALL
                    .iter()
                    .map(|&s| l.state_ns_at(s, now))
                    .sum(),
            })
            .collect()
    }

    /// Whether each lane is one of a program's helpers: a thread or process
    /// of the program that ran no task of its own (a pool's handler
    /// threads, queue feeders, the resource tracker), once it has had time
    /// to (half a second) or has ended. Never the program's first lane (its
    /// main thread), never a native run's lane, never while no lane ran a task.
    pub fn helpers(&self) -> Vec<bool> {
        let any_task = self.lanes.iter().any(|l| !l.task_marks.is_empty());
        self.lanes
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let settled = l.end_ns.is_some()
                    || l.born()
                        .is_some_and(|b| self.now.saturating_sub(b) >= HELPER_AFTER_NS);
                self.program && any_task && i > 0 && l.task_marks.is_empty() && settled
            })
            .collect()
    }

    /// Lanes that ran a task: a program's workers.
    pub fn task_lanes(&self) -> usize {
        self.lanes
            .iter()
            .filter(|l| !l.task_marks.is_empty())
            .count()
    }

    /// Time all lanes spent in `state` (a lane blocked on a full queue is
    /// a producer whatever its role: a Python program's threads are threads).
    pub fn state_ns(&self, state: WorkerState) -> u64 {
        self.lanes
            .iter()
            .map(|l| l.state_ns_at(state, self.now))
            .sum()
    }

    /// The depth series in time order, at most `max` points (the deepest of each stretch).
    pub fn depth_series(&self, max: usize) -> Vec<(u64, u32)> {
        let points = &self.queue.depth;
        if points.len() <= max || max == 0 {
            return points.clone();
        }
        let stride = points.len().div_ceil(max);
        points
            .chunks(stride)
            .map(|c| *c.iter().max_by_key(|p| p.1).expect("non-empty chunk"))
            .collect()
    }

    /// A scheduler's tasks by state over time, at most `max` points (the
    /// last of each stretch: a census is a count at an instant).
    pub fn states_series(&self, max: usize) -> Vec<(u64, [u64; 3])> {
        let points = &self.queue.states;
        let stride = points.len().div_ceil(max.max(1)).max(1);
        let mut out: Vec<_> = points.iter().step_by(stride).copied().collect();
        if let (Some(last), Some(&end)) = (out.last(), points.last()) {
            if *last != end {
                out.push(end);
            }
        }
        out
    }
}

/// Keep a series' memory bounded: at [`DEPTH_POINTS`], thin its older
/// half to every other point.
fn thin<T: Copy>(series: &mut Vec<T>) {
    if series.len() >= DEPTH_POINTS {
        let half = series.len() / 2;
        let thinned: Vec<T> = series[..half].iter().step_by(2).copied().collect();
        series.splice(..half, thinned);
    }
}

/// Append to a series that arrives in time order, keeping it bounded.
fn thin_push<T: Copy>(series: &mut Vec<T>, point: T) {
    thin(series);
    series.push(point);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Role;

    fn ev(t: u64, lane: LaneId, kind: EventKind) -> Event {
        Event { t, lane, kind }
    }

    #[test]
    fn states_accumulate_per_lane_and_tasks_log_in_the_lectures_words() {
        let tasks = vec![TaskSpec {
            id: 0,
            name: "Dopey".into(),
            cost: 3,
            units: Some(3),
            phase: 0,
        }];
        let mut lab = Lab::new(tasks, SystemTime::now());
        lab.apply(vec![
            ev(
                0,
                7,
                EventKind::Lane {
                    name: "worker-3".into(),
                    role: Role::Thread,
                    pid: 42,
                    tid: Some(99),
                    spawned_at: 0,
                },
            ),
            ev(0, 7, EventKind::State(WorkerState::Idle)),
            ev(10, 7, EventKind::TaskStart { task: 0 }),
            ev(10, 7, EventKind::State(WorkerState::Io)),
            ev(40, 7, EventKind::TaskEnd { task: 0, ok: true }),
            ev(40, 7, EventKind::State(WorkerState::Idle)),
        ]);
        lab.finish(50);
        let lane = lab.lane(7).unwrap();
        assert_eq!(lane.state_ns_at(WorkerState::Io, 50), 30);
        assert_eq!(lane.state_ns_at(WorkerState::Idle, 50), 20);
        assert_eq!(lane.busy_ns, 30);
        assert_eq!(lane.tasks_done, 1);
        assert_eq!(lab.received, 6);
        let line = &lab.log_text(lab.log.back().unwrap());
        assert!(
            line.ends_with(
                "INFO:execute_task: Dopey (thread worker-3/99, pid 42) completed in 3 units"
            ),
            "{line}"
        );
        assert_eq!(line.as_bytes()[0], b'[');
        assert_eq!(&line[13..15], "] ");
    }

    #[test]
    fn operations_at_one_instant_are_one_depth_point() {
        let mut lab = Lab::new(Vec::new(), SystemTime::now());
        let put = |depth| EventKind::QueuePut { task: 0, depth };
        lab.apply(vec![
            ev(5, 0, put(4)),
            ev(5, 0, put(4)),
            ev(5, 0, put(4)),
            ev(6, 0, put(4)),
        ]);
        assert_eq!(lab.queue.puts, 4, "every operation counted");
        assert_eq!(lab.queue.depth, vec![(5, 4), (6, 4)]);
    }

    #[test]
    fn depth_series_is_sorted_and_bounded() {
        let mut lab = Lab::new(Vec::new(), SystemTime::now());
        let batch = (0..5000u64)
            .rev()
            .map(|t| {
                ev(
                    t,
                    0,
                    EventKind::QueuePut {
                        task: 0,
                        depth: (t % 9) as u32,
                    },
                )
            })
            .collect();
        lab.apply(batch);
        let s = lab.depth_series(1000);
        assert!(s.len() <= 1000);
        assert!(s.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(s.iter().map(|p| p.1).max(), Some(8));
    }

    /// A cluster's task names come in the order its workers' clocks put
    /// them: every one is kept, whatever the order.
    #[test]
    fn task_names_out_of_order_are_all_kept() {
        let mut lab = Lab::new(Vec::new(), SystemTime::now());
        for (t, task) in [(1, 0), (2, 2), (3, 1), (4, 2)] {
            let name = format!("f-{task}");
            lab.apply_event(Event {
                t,
                lane: 0,
                kind: EventKind::Task { task, name },
            });
        }
        let names: Vec<&str> = lab.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["f-0", "f-1", "f-2"]);
    }
}
