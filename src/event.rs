//! The instrumentation stream: what workers record, and the probe that carries it.
//!
//! A worker records [`Event`]s into its own [`Probe`], which buffers them and
//! sends them in batches, so recording costs a clock read and a push, and the
//! work never waits for the viewer. Every event sent and received is counted.

use crate::clock::Clock;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A lane is one worker: a thread, a process, a producer, a consumer or the event loop.
pub type LaneId = u32;

/// What a worker is doing. One list everywhere: events, model, timeline, JSON
/// (serde's names are [`WorkerState::name`]'s; a test holds them equal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Computing, on a core.
    Running,
    /// Waiting for the (simulated) GIL.
    GilWait,
    /// Waiting for a lock held by another worker.
    LockWait,
    /// Waiting on I/O: a sleep, a subprocess, a pipe.
    Io,
    /// A producer blocked on a full queue.
    QueueFull,
    /// A consumer blocked on an empty queue.
    QueueEmpty,
    /// Nothing to do.
    Idle,
    /// The worker or its task failed.
    Failed,
    /// Ready to compute but waiting for a core (more runnable threads than
    /// cores): measured from the OS's account of its CPU and run-queue time.
    /// Last in the enum so the older states keep their indices; second in
    /// [`WorkerState::ALL`].
    Ready,
}

impl WorkerState {
    /// How many states there are: the length of per-state arrays.
    pub const COUNT: usize = 9;

    /// Every state, in display order.
    pub const ALL: [WorkerState; Self::COUNT] = [
        WorkerState::Running,
        WorkerState::Ready,
        WorkerState::GilWait,
        WorkerState::LockWait,
        WorkerState::Io,
        WorkerState::QueueFull,
        WorkerState::QueueEmpty,
        WorkerState::Idle,
        WorkerState::Failed,
    ];

    /// The state's name in the JSON and the legend.
    pub fn name(self) -> &'static str {
        match self {
            WorkerState::Running => "running",
            WorkerState::Ready => "ready",
            WorkerState::GilWait => "gil_wait",
            WorkerState::LockWait => "lock_wait",
            WorkerState::Io => "io",
            WorkerState::QueueFull => "queue_full",
            WorkerState::QueueEmpty => "queue_empty",
            WorkerState::Idle => "idle",
            WorkerState::Failed => "failed",
        }
    }

    /// A glyph per state, so the timeline reads without colour.
    pub fn glyph(self) -> char {
        match self {
            WorkerState::Running => '█',
            WorkerState::Ready => '░',
            WorkerState::GilWait => 'G',
            WorkerState::LockWait => 'L',
            WorkerState::Io => '~',
            WorkerState::QueueFull => '>',
            WorkerState::QueueEmpty => '<',
            WorkerState::Idle => '·',
            WorkerState::Failed => 'X',
        }
    }

    /// Index into per-state arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What kind of worker a lane is (serde's names are [`Role::word`]'s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A thread of parlab's.
    Thread,
    /// A worker process.
    Process,
    /// A queue producer.
    Producer,
    /// A queue consumer.
    Consumer,
    /// The async event loop.
    #[serde(rename = "loop")]
    EventLoop,
}

impl Role {
    /// The word used in lane titles and log lines.
    pub fn word(self) -> &'static str {
        match self {
            Role::Thread => "thread",
            Role::Process => "process",
            Role::Producer => "producer",
            Role::Consumer => "consumer",
            Role::EventLoop => "loop",
        }
    }
}

/// A cache operation, streamed live by memoised workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheOp {
    Hit,
    Miss,
    Evict,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EventKind {
    /// A lane announces itself; `spawned_at` is when its creator began starting it.
    Lane {
        name: String,
        role: Role,
        pid: u32,
        tid: Option<u64>,
        spawned_at: u64,
    },
    /// The worker entered a state.
    State(WorkerState),
    /// The worker began a task.
    TaskStart { task: u32 },
    /// The worker finished a task (`ok` false: it failed).
    TaskEnd { task: u32, ok: bool },
    /// parlab sent a task to this lane's worker process.
    Dispatched { task: u32 },
    /// parlab received the result of a task from this lane's worker process.
    Collected { task: u32 },
    /// A line for the log.
    Log { text: String },
    /// An item was put into the queue; `depth` is the queue's size after it.
    QueuePut { task: u32, depth: u32 },
    /// An item was taken from the queue; `depth` is the queue's size after it.
    QueueGet { task: u32, depth: u32 },
    /// A cache hit, miss or eviction; `currsize` after it.
    Cache { op: CacheOp, currsize: u64 },
    /// The GIL passed to this lane from another.
    GilSwitch,
    /// This lane asked the GIL holder to drop it (its switch interval ran out).
    GilDropRequest,
    /// This lane's thread was seen taking (true) or no longer holding
    /// (false) its interpreter's real GIL, read from the interpreter.
    GilHeld(bool),
    /// A line a program printed (stdout or stderr), shown in the log as it is.
    Output { text: String },
    /// A task seen as it starts (a program's): its number and name.
    Task { task: u32, name: String },
    /// The lane's thread or process ended.
    LaneEnd,
    /// The queue shown has this bound (0: unbounded), learnt as it is made.
    QueueBound { capacity: u64 },
    /// A process's cache counters as `cache_info()` reads them now.
    CacheTotals {
        hits: u64,
        misses: u64,
        currsize: u64,
    },
    /// A frame (a function at a line of a file) seen in a stack for the
    /// first time: samples name it by `id` from now on.
    Frame {
        id: u32,
        function: String,
        file: String,
        line: u32,
    },
    /// This lane's Python call stack read from outside (frame ids, root
    /// first), and whether its thread held the GIL as it was read.
    Sample { frames: Vec<u32>, held: bool },
    /// A scheduler's tasks by state (a Dask cluster's census): not yet on
    /// a worker (waiting, queued, no worker), running there, in memory.
    TaskStates {
        queued: u64,
        processing: u64,
        memory: u64,
    },
    /// This lane's process's CPU (tenths of a percent of one core: 1000 is
    /// a whole core) and memory (bytes), as its own side reports them (a
    /// Dask worker, by its scheduler).
    Usage { cpu_permille: u32, memory: u64 },
}

/// One timestamped event of one lane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Nanoseconds since the run's origin.
    pub t: u64,
    pub lane: LaneId,
    pub kind: EventKind,
}

/// ` pid PID` after a lane's name; nothing for pid 0, a lane that is not a
/// process of this machine (a Dask worker's thread).
pub fn pid_words(pid: u32) -> String {
    if pid == 0 {
        String::new()
    } else {
        format!(" pid {pid}")
    }
}

/// A lane's `spawned_at` when nobody knows when it was asked to start.
pub const SPAWN_UNKNOWN: u64 = u64::MAX;

/// Events travel in batches: one channel send per batch, not per event.
pub type Batch = Vec<Event>;

/// The sending end of a run's events ([`crate::inbox`]).
pub type Outbox = crate::inbox::Outbox<Batch>;
/// The receiving end of a run's events.
pub type Inbox = crate::inbox::Inbox<Batch>;

impl crate::inbox::Stamp for Batch {
    fn stamp(&self) -> u64 {
        self.first().map_or(0, |e| e.t)
    }
}

/// Where a probe's batches go: the run's channel, or a worker process's pipe.
pub trait BatchSink: Send + Sync {
    /// Deliver one batch; called from the worker's own thread.
    fn deliver(&self, batch: Batch);

    /// A sink of its own for one worker thread's probe, where sharing one
    /// would let a preempted worker hold up the others (see [`crate::inbox`]);
    /// `None`: share this one.
    fn lane_sink(&self) -> Option<Arc<dyn BatchSink>> {
        None
    }

    /// An emptied batch to fill again, if the receiver gave one back.
    fn spare(&self) -> Option<Batch> {
        None
    }
}

/// Batches waiting for the model before new ones are dropped (and counted):
/// about two million events, so a viewer that falls far behind costs bounded
/// memory instead of the machine. A model that keeps up never comes near it.
pub const MAX_BACKLOG_BATCHES: usize = 8192;

/// The run's channel, counting every event it carries (and any it had to drop).
pub struct ChannelSink {
    tx: Outbox,
    sent: Arc<AtomicU64>,
    dropped: Option<(Arc<AtomicU64>, usize)>,
}

impl ChannelSink {
    /// A sink onto `tx` that adds every event to `sent`; it never drops.
    pub fn new(tx: Outbox, sent: Arc<AtomicU64>) -> Self {
        Self {
            tx,
            sent,
            dropped: None,
        }
    }

    /// A sink that drops (and counts in `dropped`) whole batches while
    /// `max_backlog` batches already wait: the workers never block.
    pub fn bounded(
        tx: Outbox,
        sent: Arc<AtomicU64>,
        dropped: Arc<AtomicU64>,
        max_backlog: usize,
    ) -> Self {
        Self {
            tx,
            sent,
            dropped: Some((dropped, max_backlog)),
        }
    }
}

impl BatchSink for ChannelSink {
    fn deliver(&self, batch: Batch) {
        let n = batch.len() as u64;
        if let Some((dropped, max)) = &self.dropped {
            if self.tx.backlog() >= *max {
                dropped.fetch_add(n, Ordering::Relaxed);
                return;
            }
        }
        // The receiver outlives every run thread; a send only fails once the
        // viewer has gone, when nobody counts any more.
        if self.tx.send(batch).is_ok() {
            self.sent.fetch_add(n, Ordering::Relaxed);
        }
    }

    fn lane_sink(&self) -> Option<Arc<dyn BatchSink>> {
        Some(Arc::new(Self {
            tx: self.tx.clone(),
            sent: self.sent.clone(),
            dropped: self.dropped.clone(),
        }))
    }

    fn spare(&self) -> Option<Batch> {
        self.tx.spare()
    }
}

/// A sink that discards everything (`--no-events`).
pub struct NullSink;

impl BatchSink for NullSink {
    fn deliver(&self, _batch: Batch) {}
}

/// Flush when a batch holds this many events...
const BATCH_EVENTS: usize = 256;
/// ...or when its oldest event is this old, so the view stays live.
const BATCH_AGE_NS: u64 = 2_000_000;

/// While a lane computes, how often its probe asks the OS whether it
/// waited for a core (at the work's check points: a read a millisecond).
const CORE_CHECK_NS: u64 = 1_000_000;

/// A worker's recorder: buffers events and sends them in batches.
pub struct Probe {
    lane: LaneId,
    clock: Clock,
    sink: Arc<dyn BatchSink>,
    buf: Batch,
    first_at: u64,
    enabled: bool,
    /// The time of the last event recorded: none is stamped before it.
    last_t: u64,
    /// When the lane was last checked for a wait for a core, its account
    /// then ([`crate::runqueue`]), and whether it has computed ever since
    /// (time blocked since then was blocked computing); none while it is
    /// not watched.
    on_core: Option<(u64, crate::runqueue::Account, bool)>,
    /// The thread's own account, opened on the thread at its first state.
    own: Option<crate::runqueue::OwnThread>,
    /// The lane computes (its last state was `running`): the work's check
    /// points may settle a wait for a core and resume computing.
    computing: bool,
}

impl Probe {
    /// A probe for `lane` on the run's clock.
    pub fn new(lane: LaneId, clock: Clock, sink: Arc<dyn BatchSink>, enabled: bool) -> Self {
        Self {
            lane,
            clock,
            sink: sink.lane_sink().unwrap_or(sink),
            buf: Vec::with_capacity(BATCH_EVENTS),
            first_at: 0,
            enabled,
            last_t: 0,
            on_core: None,
            own: None,
            computing: false,
        }
    }

    /// This probe's lane.
    pub fn lane(&self) -> LaneId {
        self.lane
    }

    /// The run's clock.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Record an event now.
    pub fn record(&mut self, kind: EventKind) {
        if !self.enabled {
            return;
        }
        let t = self.clock.now();
        self.record_at(t, kind);
    }

    /// Record an event at a known time. A state change, or any event of a
    /// computing lane, first settles the time since the last check of a
    /// watched lane (see [`Self::settle`]): one stamped now would otherwise
    /// hide the wait that ended now.
    pub fn record_at(&mut self, t: u64, kind: EventKind) {
        if !self.enabled {
            return;
        }
        let state = match kind {
            EventKind::State(s) => Some(s),
            _ => None,
        };
        let due = self
            .on_core
            .is_some_and(|(at, ..)| t.saturating_sub(at) >= CORE_CHECK_NS);
        let precise = self.own().precise();
        // Where the OS counts run-queue time (Linux) every state is watched,
        // a read at most a millisecond apart; elsewhere only computing, whose
        // off-CPU time is that wait. Any event of a computing lane settles
        // too (a task's end), or it would stamp over the wait.
        let settled = match state {
            Some(_) => self.on_core.is_some() && (due || !precise),
            None => due && self.computing,
        };
        let t = if settled {
            self.settle(t, state.is_none())
        } else {
            t
        };
        self.push(t, kind);
        if let Some(s) = state {
            self.computing = s == WorkerState::Running;
            let computing = self.computing;
            self.on_core = match self.on_core {
                // A check older than this change spans another state: time
                // blocked since it is not known to be blocked computing.
                Some((at, account, since)) if precise => {
                    Some((at, account, computing && (settled || since)))
                }
                _ if precise || computing => Some((t, self.own().account(t), computing)),
                _ => None,
            };
        }
    }

    fn push(&mut self, t: u64, kind: EventKind) {
        if self.buf.is_empty() {
            self.first_at = t;
        }
        self.last_t = self.last_t.max(t);
        self.buf.push(Event {
            t,
            lane: self.lane,
            kind,
        });
        if self.buf.len() >= BATCH_EVENTS || t.saturating_sub(self.first_at) >= BATCH_AGE_NS {
            self.flush();
        }
    }

    /// The thread's own account, opened on the thread at its first state.
    fn own(&mut self) -> &mut crate::runqueue::OwnThread {
        self.own
            .get_or_insert_with(crate::runqueue::OwnThread::open)
    }

    /// A lane that was off the CPU since its last check shows it, ending
    /// now (where in the stretch it fell is not known; how long it was is
    /// measured): a wait for a core as `ready`; while computing, time the OS
    /// had it blocked (neither on a CPU nor waiting for one) as `io`. Then
    /// it computes on (`resume`) or enters the state being recorded. Returns
    /// the time the stretch ends: the reading itself may wait for a core (a
    /// system call is where the OS preempts), so it ends after the reading.
    fn settle(&mut self, now: u64, resume: bool) -> u64 {
        let Some((at, before, computed)) = self.on_core else {
            return now;
        };
        let account = self.own().account(now);
        let end = self.clock.now().max(now);
        self.on_core = Some((end, account, self.computing));
        let (waited, blocked) = account.since(before, end.saturating_sub(at));
        let blocked = if self.computing && computed {
            blocked
        } else {
            0
        };
        let noise = crate::runqueue::NOISE_NS;
        if waited < noise && blocked < noise {
            return now;
        }
        let mut from = end.saturating_sub(waited + blocked).max(self.last_t);
        if blocked >= noise {
            self.push(from, EventKind::State(WorkerState::Io));
            from = end.saturating_sub(waited).max(self.last_t);
        }
        if waited >= noise {
            self.push(from, EventKind::State(WorkerState::Ready));
        }
        if resume {
            self.push(end, EventKind::State(WorkerState::Running));
        }
        end
    }

    /// Announce this lane: the first event of every worker.
    pub fn announce(&mut self, name: &str, role: Role, spawned_at: u64) {
        self.record(EventKind::Lane {
            name: name.to_string(),
            role,
            pid: std::process::id(),
            tid: os_thread_id(),
            spawned_at,
        });
        self.record(EventKind::State(WorkerState::Idle));
    }

    /// Enter a state. Whoever is about to block calls [`Probe::flush`]
    /// next, so the viewer sees why; a state change alone costs no send.
    pub fn state(&mut self, state: WorkerState) {
        self.record(EventKind::State(state));
    }

    /// A log line from this lane.
    pub fn log(&mut self, text: impl Into<String>) {
        self.record(EventKind::Log { text: text.into() });
    }

    /// Called from long CPU loops: ask the OS, a millisecond apart, whether
    /// the lane waited for a core; flush if the oldest buffered event is old.
    pub fn maybe_flush(&mut self) {
        if self.buf.is_empty() && !self.computing {
            return;
        }
        let now = self.clock.now();
        if self.computing
            && self
                .on_core
                .is_some_and(|(at, ..)| now.saturating_sub(at) >= CORE_CHECK_NS)
        {
            self.settle(now, true);
        }
        if !self.buf.is_empty() && now.saturating_sub(self.first_at) >= BATCH_AGE_NS {
            self.flush();
        }
    }

    /// Send what is buffered.
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            let next = self
                .sink
                .spare()
                .unwrap_or_else(|| Vec::with_capacity(BATCH_EVENTS));
            let batch = std::mem::replace(&mut self.buf, next);
            self.sink.deliver(batch);
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The OS thread id where the platform has one.
pub fn os_thread_id() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions.
        Some(unsafe { libc::gettid() } as u64)
    }
    #[cfg(target_os = "macos")]
    {
        let mut tid: u64 = 0;
        // SAFETY: a null thread means the calling thread; `tid` is writable.
        let rc = unsafe { libc::pthread_threadid_np(0, &mut tid) };
        (rc == 0).then_some(tid)
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_says_each_state_and_role_as_the_screen_does() {
        for s in WorkerState::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
        }
        for r in [
            Role::Thread,
            Role::Process,
            Role::Producer,
            Role::Consumer,
            Role::EventLoop,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.word());
        }
    }

    #[test]
    fn probe_batches_and_counts_every_event() {
        let (tx, mut rx) = crate::inbox::channel();
        let sent = Arc::new(AtomicU64::new(0));
        let sink: Arc<dyn BatchSink> = Arc::new(ChannelSink::new(tx, sent.clone()));
        let mut probe = Probe::new(3, Clock::start(), sink, true);
        for task in 0..1000 {
            probe.record(EventKind::TaskStart { task });
        }
        drop(probe);
        let batches: Vec<Batch> = rx.try_recv_all();
        let received: usize = batches.iter().map(Vec::len).sum();
        assert_eq!(received, 1000);
        assert_eq!(sent.load(Ordering::Relaxed), 1000);
        assert!(batches.len() < 1000, "events travel in batches");
        assert!(batches.iter().flatten().all(|e| e.lane == 3));
        let ts: Vec<u64> = batches.iter().flatten().map(|e| e.t).collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn a_bounded_sink_drops_and_counts_when_the_viewer_falls_behind() {
        let (tx, rx) = crate::inbox::channel();
        let (sent, dropped) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let sink = ChannelSink::bounded(tx, sent.clone(), dropped.clone(), 2);
        for _ in 0..5 {
            sink.deliver(vec![
                Event {
                    t: 0,
                    lane: 0,
                    kind: EventKind::GilSwitch
                };
                10
            ]);
        }
        assert_eq!(rx.backlog(), 2);
        assert_eq!(sent.load(Ordering::Relaxed), 20);
        assert_eq!(dropped.load(Ordering::Relaxed), 30);
    }

    #[test]
    fn every_state_has_its_own_glyph_and_name() {
        let glyphs: std::collections::HashSet<char> =
            WorkerState::ALL.iter().map(|s| s.glyph()).collect();
        let names: std::collections::HashSet<&str> =
            WorkerState::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(glyphs.len(), WorkerState::COUNT);
        assert_eq!(names.len(), WorkerState::COUNT);
    }
}
