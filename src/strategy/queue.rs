//! Producer/consumer around a bounded queue, like `queue.Queue(maxsize)` with
//! worker threads, `task_done()` and `join()`.
//!
//! Producers put the workload's tasks (at `--rate` items per second, all
//! producers together); consumers get and run them. `put` blocks while the
//! queue is full (`queue_full`), `get` while it is empty (`queue_empty`).
//! Disciplines: `fifo` (`Queue`), `lifo` (`LifoQueue`), `priority`
//! (`PriorityQueue`: smallest declared cost first, ties in arrival order).

use super::{lock, spawn_named, RunCtx, MAX_WORKERS};
use crate::control::{Change, Knob};
use crate::event::{EventKind, Probe, Role, WorkerState};
use crate::param::{Default, Kind, Param, Step, Values};
use crate::workload::TaskSpec;
use serde_json::json;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The disciplines' names, in [`Discipline`] order.
const DISCIPLINES: &[&str] = &["fifo", "lifo", "priority"];
/// The largest queue bound.
pub const MAX_CAPACITY: u64 = 1_000_000;

/// The strategy's one description.
pub const DESCRIPTOR: super::Descriptor = super::Descriptor {
    name: "queue",
    about: "producers and consumers around a bounded queue, like queue.Queue",
    params: &[
        Param {
            key: "producers",
            help: "producer threads",
            kind: Kind::Int {
                min: 1,
                max: MAX_WORKERS as u64,
            },
            default: Default::Int(1),
            label: "producers",
            step: Step::One,
        },
        Param {
            key: "consumers",
            help: "consumer threads",
            kind: Kind::Int {
                min: 1,
                max: MAX_WORKERS as u64,
            },
            default: Default::Absent("auto", "--workers, else the logical cores"),
            label: "consumers",
            step: Step::One,
        },
        Param {
            key: "capacity",
            help: "the queue's bound (maxsize)",
            kind: Kind::Int {
                min: 1,
                max: MAX_CAPACITY,
            },
            default: Default::Int(8),
            label: "capacity",
            step: Step::Double,
        },
        Param {
            key: "rate",
            help: "items per second, all producers together",
            kind: Kind::Float {
                min: 0.0,
                max: f64::INFINITY,
                open: true,
            },
            default: Default::Absent("max", "as fast as they can"),
            label: "rate/s",
            step: Step::Ladder(&[
                "0.5", "1", "2", "5", "10", "20", "50", "100", "200", "500", "1000", "max",
            ]),
        },
        Param {
            key: "discipline",
            help: "fifo (Queue), lifo (LifoQueue) or priority (PriorityQueue, smallest cost first)",
            kind: Kind::Choice(DISCIPLINES),
            default: Default::Word("fifo"),
            label: "discipline",
            step: Step::Double,
        },
        Param {
            key: "prefill",
            help: "producers fill the queue before any consumer starts",
            kind: Kind::Flag,
            default: Default::Flag(false),
            label: "prefill",
            step: Step::Hidden,
        },
    ],
    workers: super::Workers::Param("consumers"),
    processes: false,
    gil: true,
    knobs: &[
        Knob {
            key: "rate",
            what: "producer rate",
            up: ']',
            down: '[',
            change: Change::Times(1.5),
            min: 0.001,
            max: 1e9,
            from_unset: 100.0,
        },
        Knob {
            key: "consumers",
            what: "consumers",
            up: '>',
            down: '<',
            change: Change::Plus(1.0),
            min: 1.0,
            max: MAX_WORKERS as f64,
            from_unset: 1.0,
        },
    ],
    bound: Some("capacity"),
    check,
    run,
};

/// A prefilled queue must hold every task.
fn check(p: &Values, tasks: usize) -> Result<(), String> {
    let capacity = p.int("capacity");
    if p.flag("prefill") && capacity < tasks as u64 {
        return Err(format!(
            "--prefill needs --capacity of at least the number of tasks ({tasks}); got {capacity}"
        ));
    }
    Ok(())
}

/// Which item `get` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discipline {
    /// First in, first out (`queue.Queue`).
    Fifo,
    /// Last in, first out (`queue.LifoQueue`).
    Lifo,
    /// Smallest declared cost first (`queue.PriorityQueue`).
    Priority,
}

impl Discipline {
    /// The discipline of this name (`fifo` otherwise).
    pub fn from_name(name: &str) -> Self {
        match name {
            "lifo" => Discipline::Lifo,
            "priority" => Discipline::Priority,
            _ => Discipline::Fifo,
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        DISCIPLINES[self as usize]
    }
}

enum Items {
    Fifo(VecDeque<TaskSpec>),
    Lifo(Vec<TaskSpec>),
    Priority(BinaryHeap<Reverse<(u64, u64, TaskKey)>>),
}

/// A task ordered by nothing but its id, to sit in the heap after (cost, arrival).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct TaskKey(u32, TaskBox);

#[derive(PartialEq)]
struct TaskBox(TaskSpec);
impl Eq for TaskBox {}
impl PartialOrd for TaskBox {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for TaskBox {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl Items {
    fn len(&self) -> usize {
        match self {
            Items::Fifo(q) => q.len(),
            Items::Lifo(s) => s.len(),
            Items::Priority(h) => h.len(),
        }
    }

    fn push(&mut self, task: TaskSpec, seq: u64) {
        match self {
            Items::Fifo(q) => q.push_back(task),
            Items::Lifo(s) => s.push(task),
            Items::Priority(h) => {
                h.push(Reverse((task.cost, seq, TaskKey(task.id, TaskBox(task)))))
            }
        }
    }

    fn pop(&mut self) -> Option<TaskSpec> {
        match self {
            Items::Fifo(q) => q.pop_front(),
            Items::Lifo(s) => s.pop(),
            Items::Priority(h) => h.pop().map(|Reverse((_, _, TaskKey(_, TaskBox(t))))| t),
        }
    }
}

struct Inner {
    items: Items,
    unfinished: u64,
    closed: bool,
    arrivals: u64,
    max_depth: u32,
    produced: u64,
    consumed: u64,
}

/// What `get` found.
pub enum Got {
    Item(TaskSpec),
    /// Nothing within the wait: look at the controls, then try again.
    TimedOut,
    /// Closed and drained: the consumer is done.
    Closed,
}

/// The bounded queue, hand-written: it is the lesson.
pub struct BoundedQueue {
    inner: Mutex<Inner>,
    not_full: Condvar,
    not_empty: Condvar,
    all_done: Condvar,
    capacity: u32,
}

impl BoundedQueue {
    /// An empty queue of `capacity` items.
    pub fn new(capacity: u32, discipline: Discipline) -> Self {
        let items = match discipline {
            Discipline::Fifo => Items::Fifo(VecDeque::new()),
            Discipline::Lifo => Items::Lifo(Vec::new()),
            Discipline::Priority => Items::Priority(BinaryHeap::new()),
        };
        Self {
            inner: Mutex::new(Inner {
                items,
                unfinished: 0,
                closed: false,
                arrivals: 0,
                max_depth: 0,
                produced: 0,
                consumed: 0,
            }),
            not_full: Condvar::new(),
            not_empty: Condvar::new(),
            all_done: Condvar::new(),
            capacity,
        }
    }

    /// `put`: block while full; `false` if the queue was closed.
    pub fn put(&self, task: TaskSpec, probe: &mut Probe) -> bool {
        let mut q = lock(&self.inner);
        if q.items.len() >= self.capacity as usize && !q.closed {
            probe.state(WorkerState::QueueFull);
            probe.flush();
            while q.items.len() >= self.capacity as usize && !q.closed {
                q = self.not_full.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        }
        if q.closed {
            return false;
        }
        let id = task.id;
        let seq = q.arrivals;
        q.arrivals += 1;
        q.items.push(task, seq);
        q.unfinished += 1;
        q.produced += 1;
        let depth = q.items.len() as u32;
        q.max_depth = q.max_depth.max(depth);
        let t = probe.clock().now(); // stamped under the lock: depths are in time order
        drop(q);
        self.not_empty.notify_one();
        probe.record_at(t, EventKind::QueuePut { task: id, depth });
        probe.state(WorkerState::Idle);
        true
    }

    /// `get`: wait up to `wait` for an item.
    pub fn get(&self, probe: &mut Probe, wait: Duration) -> Got {
        let mut q = lock(&self.inner);
        if q.items.len() == 0 && !q.closed {
            probe.state(WorkerState::QueueEmpty);
            probe.flush();
            let deadline = Instant::now() + wait;
            while q.items.len() == 0 && !q.closed {
                let now = Instant::now();
                if now >= deadline {
                    return Got::TimedOut;
                }
                q = self
                    .not_empty
                    .wait_timeout(q, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        let Some(task) = q.items.pop() else {
            return Got::Closed;
        };
        q.consumed += 1;
        let depth = q.items.len() as u32;
        let t = probe.clock().now();
        drop(q);
        self.not_full.notify_one();
        probe.record_at(
            t,
            EventKind::QueueGet {
                task: task.id,
                depth,
            },
        );
        Got::Item(task)
    }

    /// `task_done()`: one fewer unfinished item.
    pub fn task_done(&self) {
        let mut q = lock(&self.inner);
        q.unfinished = q.unfinished.saturating_sub(1);
        if q.unfinished == 0 {
            self.all_done.notify_all();
        }
    }

    /// `join()` with a bound: `true` once every item put has been done.
    pub fn join_timeout(&self, wait: Duration) -> bool {
        let q = lock(&self.inner);
        if q.unfinished == 0 {
            return true;
        }
        let (q, _) = self
            .all_done
            .wait_timeout(q, wait)
            .unwrap_or_else(|e| e.into_inner());
        q.unfinished == 0
    }

    /// Close: blocked producers and consumers return.
    pub fn close(&self) {
        lock(&self.inner).closed = true;
        self.not_full.notify_all();
        self.not_empty.notify_all();
    }

    fn figures(&self) -> (u32, u64, u64) {
        let q = lock(&self.inner);
        (q.max_depth, q.produced, q.consumed)
    }
}

/// Consumers alive, and the ids handed out so far.
struct Crew {
    alive: AtomicU32,
    started: AtomicU32,
}

fn spawn_consumer(
    ctx: &Arc<RunCtx>,
    q: &Arc<BoundedQueue>,
    crew: &Arc<Crew>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let (ctx, q, crew) = (ctx.clone(), q.clone(), crew.clone());
    let n = crew.started.fetch_add(1, Ordering::Relaxed) + 1;
    crew.alive.fetch_add(1, Ordering::Relaxed);
    let name = format!("consumer-{n}");
    let spawned_at = ctx.clock.now();
    let lane = ctx.new_lane();
    spawn_named(name.clone(), move || {
        let mut probe = ctx.worker_probe(lane, &name, Role::Consumer, spawned_at);
        loop {
            // Retire when there are more consumers than asked for.
            let alive = crew.alive.load(Ordering::Relaxed);
            if alive > consumers_asked(&ctx)
                && crew
                    .alive
                    .compare_exchange(alive, alive - 1, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                probe.log(format!("{name} retires"));
                probe.state(WorkerState::Idle);
                return;
            }
            match q.get(&mut probe, Duration::from_millis(50)) {
                Got::Item(task) => {
                    ctx.execute(&task, &mut probe, &name);
                    q.task_done();
                }
                Got::TimedOut => {}
                Got::Closed => break,
            }
        }
        crew.alive.fetch_sub(1, Ordering::Relaxed);
        probe.state(WorkerState::Idle);
    })
}

fn spawn_producer(
    ctx: &Arc<RunCtx>,
    q: &Arc<BoundedQueue>,
    index: u32,
    tasks: Vec<TaskSpec>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let (ctx, q) = (ctx.clone(), q.clone());
    let name = format!("producer-{}", index + 1);
    let spawned_at = ctx.clock.now();
    let lane = ctx.new_lane();
    let producers = ctx.params.int("producers").max(1) as f64;
    spawn_named(name.clone(), move || {
        let mut probe = ctx.worker_probe(lane, &name, Role::Producer, spawned_at);
        let mut next = Instant::now();
        for task in tasks {
            if let Some(rate) = ctx.control.knob("rate") {
                // Each producer's share of the rate; the schedule follows live changes.
                next += Duration::from_secs_f64(producers / rate);
                let now = Instant::now();
                if next > now {
                    probe.state(WorkerState::Idle);
                    probe.flush();
                    if ctx.control.sleep(next - now).is_err() {
                        return;
                    }
                } else {
                    next = now;
                }
            }
            ctx.control.wait_while_paused();
            if ctx.control.is_cancelled() || !q.put(task, &mut probe) {
                return;
            }
        }
    })
}

/// Run every phase through the queue; the run ends when producers are done
/// and the queue has drained (`join()`).
pub fn run(ctx: &Arc<RunCtx>) -> anyhow::Result<()> {
    let capacity = ctx.params.int("capacity") as u32;
    let discipline = Discipline::from_name(ctx.params.text("discipline").unwrap_or("fifo"));
    let q = Arc::new(BoundedQueue::new(capacity, discipline));
    let crew = Arc::new(Crew {
        alive: AtomicU32::new(0),
        started: AtomicU32::new(0),
    });
    let mut consumers = Vec::new();
    let producers = ctx.params.int("producers").max(1) as u32;
    for (k, phase) in ctx.phases().enumerate() {
        let mut shares: Vec<Vec<TaskSpec>> = vec![Vec::new(); producers as usize];
        for (i, task) in phase.into_iter().enumerate() {
            shares[i % producers as usize].push(task);
        }
        let handles: Vec<_> = shares
            .into_iter()
            .enumerate()
            .map(|(i, share)| spawn_producer(ctx, &q, i as u32, share))
            .collect::<Result<_, _>>()?;
        if k == 0 {
            if ctx.params.flag("prefill") {
                // A paused start: every item is queued before any consumer runs.
                wait_until(ctx, &q, || handles.iter().all(|h| h.is_finished()));
            }
            for _ in 0..consumers_asked(ctx) {
                consumers.push(spawn_consumer(ctx, &q, &crew)?);
            }
        }
        // join(): producers done and every item done, adding consumers as asked.
        wait_until(ctx, &q, || {
            while crew.alive.load(Ordering::Relaxed) < consumers_asked(ctx) {
                match spawn_consumer(ctx, &q, &crew) {
                    Ok(h) => consumers.push(h),
                    Err(_) => break,
                }
            }
            handles.iter().all(|h| h.is_finished()) && q.join_timeout(Duration::ZERO)
        });
        for h in handles {
            let _ = h.join();
        }
        if ctx.control.is_cancelled() {
            break;
        }
    }
    q.close();
    for h in consumers {
        let _ = h.join();
    }
    let (max_depth, produced, consumed) = q.figures();
    let consumers = crew.started.load(Ordering::Relaxed);
    let name = discipline.name();
    ctx.extend(
        super::Figures::Queue,
        json!({
            "capacity": capacity,
            "discipline": name,
            "producers": producers,
            "consumers": consumers,
            "max_depth": max_depth,
            "produced": produced,
            "consumed": consumed,
        }),
        vec![format!(
            "{name} capacity {capacity}, {producers} producer(s), {consumers} consumer(s); max depth {max_depth}; produced {produced}, consumed {consumed}"
        )],
    );
    Ok(())
}

/// The consumers asked for now (the knob the user turns).
fn consumers_asked(ctx: &RunCtx) -> u32 {
    ctx.control
        .knob("consumers")
        .map(|n| n as u32)
        .unwrap_or(ctx.workers)
}

/// Poll `done` every few milliseconds; a cancel closes the queue, which
/// releases every blocked producer and consumer.
fn wait_until(ctx: &RunCtx, q: &BoundedQueue, mut done: impl FnMut() -> bool) {
    while !done() {
        if ctx.control.is_cancelled() {
            q.close();
            return;
        }
        let _ = ctx.control.sleep(Duration::from_millis(2));
    }
}
