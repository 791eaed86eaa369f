//! A Python program as a [`Source`]: started in a process group of its own
//! with the probe on its path; a driver thread reads every process's ring,
//! the program's output and (on Linux) each thread's run state, and turns
//! them into the lab's events; the end is its exit, with what the probe
//! left (the interpreter, caches, queues, failures).

use super::gil;
use super::os::{OsState, TaskFile};
use super::queues;
use super::ring::{kind, Record, Ring};
use super::rota::{self, Rota};
use super::{source_of, PyPlan, Source as ScriptSource};
use crate::clock::Clock;
use crate::control::Control;
use crate::event::{Batch, Event, EventKind, LaneId, Outbox, Role, WorkerState};
use crate::source::GilMethod as Method;
use crate::source::{Meta, Outcome};
use crate::strategy::{Extension, Failure};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How often the driver looks at the rings and the output (the lab draws at 30 fps).
const TICK: Duration = Duration::from_millis(5);
/// How often it looks for new processes' rings (a folder listing: a short
/// process is seen, and its GIL read, from its first few milliseconds).
const SCAN: Duration = Duration::from_millis(10);
/// How often it samples each thread's run state (Linux: /proc): 100 Hz.
const SAMPLE: Duration = Duration::from_millis(10);
/// After SIGTERM, how long the program has before SIGKILL.
const GRACE: Duration = Duration::from_secs(1);

/// A Python program under way.
pub type PyRun = crate::source::Driven;

/// A folder of its own for the run: the probe, the script, the rings.
fn run_dir() -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "parlab-py-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    super::write_probe(&dir.join("probe")).context("cannot make the run's folder")?;
    Ok(dir)
}

/// Start the program; returns once it runs (its pid known).
pub fn start(plan: PyPlan) -> Result<PyRun> {
    crate::child::adopt_orphans();
    let dir = run_dir()?;
    let script = match source_of(&plan.program.script)? {
        ScriptSource::Bundled(s) => {
            let path = dir.join(format!("{}.py", s.name));
            std::fs::write(&path, s.source)?;
            path
        }
        ScriptSource::File(p) => p,
    };
    let clock = Clock::start();
    let (tx, rx) = crate::inbox::channel();
    let (pid_tx, pid_rx) = crossbeam_channel::bounded(1);
    let control = Control::new();
    let (ctl, p) = (control.clone(), plan.clone());
    // The driver starts the program: on Linux the program dies with the
    // thread that started it, and this one lives as long as the program.
    let driver = std::thread::Builder::new()
        .name("parlab-python".into())
        .spawn(move || {
            let child = spawn(&p, &script, &dir);
            let child = match child {
                Ok(c) => {
                    let _ = pid_tx.send(Ok(c.id()));
                    c
                }
                Err(e) => {
                    let _ = pid_tx.send(Err(format!("{e:#}")));
                    return Err(e);
                }
            };
            // Should parlab die unannounced, the watch stops the program's
            // own children too (PDEATHSIG reaches only the direct child).
            let watch = crate::child::Watch::start(child.id());
            let out = Driver::new(clock, tx, dir.clone(), child.id(), p.gil_hz)
                .run(child, &ctl, p.timeout);
            drop(watch); // the group is stopped: the watch goes first
            let _ = std::fs::remove_dir_all(&dir);
            out
        })?;
    let pid = match pid_rx.recv() {
        Ok(Ok(pid)) => pid,
        Ok(Err(e)) => anyhow::bail!(e),
        Err(_) => anyhow::bail!("the Python run's driver ended before the program started"),
    };
    let meta = Meta {
        source: "python".into(),
        pid,
        spec: None,
        about: crate::plan::Plan::Python(plan.program.clone()).about(0),
        program: Some(plan.program),
        tasks: Vec::new(),
        workers: 0,
        capacity: None,
        cache_maxsize: None,
        clock,
        started: SystemTime::now(),
    };
    Ok(PyRun {
        meta,
        events: rx,
        control,
        driver,
    })
}

fn spawn(plan: &PyPlan, script: &Path, dir: &Path) -> Result<Child> {
    let probe = dir.join("probe");
    let path = match std::env::var_os("PYTHONPATH") {
        Some(old) if !old.is_empty() => {
            std::env::join_paths(std::iter::once(probe.clone()).chain(std::env::split_paths(&old)))?
        }
        _ => probe.into_os_string(),
    };
    let mut cmd = Command::new(&plan.program.python.command);
    cmd.arg("-u")
        .arg(script)
        .args(&plan.program.args)
        .env("PYTHONPATH", path)
        .env("PARLAB_PROBE_DIR", dir)
        .env("PYTHONUNBUFFERED", "1")
        .env("PARLAB_GIL", if reads_gil(plan) { "1" } else { "0" })
        .stdin(if plan.stdin_null {
            Stdio::null()
        } else {
            Stdio::inherit()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    crate::child::in_own_group(&mut cmd, libc::SIGKILL);
    cmd.spawn()
        .with_context(|| format!("cannot start {}", plan.program.python.command))
}

/// Whether this run reads the real GIL (Linux: the only place parlab reads
/// another process's memory).
fn reads_gil(plan: &PyPlan) -> bool {
    plan.gil_hz > 0 && cfg!(target_os = "linux")
}

/// What the driver knows of one thread.
struct Thread {
    lane: LaneId,
    /// Its `PyThreadState` (0: not known), as the probe said it.
    tstate: u64,
    /// Blocking calls the probe reported, outermost first.
    waits: Vec<WorkerState>,
    /// On a CPU or not, as last sampled.
    on_cpu: bool,
    /// Holding its interpreter's GIL, as last read.
    holds: bool,
    /// Asleep on the GIL (measured), or taken to be waiting for it (inferred).
    on_gil: bool,
    /// Blocked in `select` / `poll` / `epoll`, asleep or waiting for a
    /// child, as the OS says: io.
    io: bool,
    /// Asleep on a futex not the GIL's, as the OS says: a lock, or the
    /// wait its slot names (a queue's condition).
    locked: Option<WorkerState>,
    /// Its slot in its process's ring, as the probe said.
    slot: Option<u32>,
    /// Tasks it is in (a thread's target, a pool's call), and whether it is
    /// the program's main thread: where a lock wait is the program's own (a
    /// pool's thread asleep between tasks waits for work: idle).
    tasks: u32,
    main: bool,
    /// Its system call, read while it does not hold the GIL.
    os: Option<TaskFile>,
    /// Its time on a CPU and waiting for one, read while the OS says it
    /// runs, and the last reading.
    sched: Option<TaskFile>,
    last_sched: Option<(u64, u64)>,
    /// Runnable, but waiting for a core (learnt once the wait ended).
    ready: bool,
    shown: WorkerState,
    ended: bool,
}

impl Thread {
    fn new(lane: LaneId, tstate: u64) -> Self {
        Self {
            lane,
            tstate,
            waits: Vec::new(),
            on_cpu: false,
            holds: false,
            on_gil: false,
            io: false,
            locked: None,
            slot: None,
            tasks: 0,
            main: false,
            os: None,
            sched: None,
            last_sched: None,
            ready: false,
            shown: WorkerState::Idle,
            ended: false,
        }
    }

    /// The OS's word on this thread (`key`: its pid and tid), through its
    /// syscall file, kept open while fewer than `MAX_OPEN` are.
    fn syscall(&mut self, key: (u32, u64), open_files: &mut usize) -> OsState {
        kept(&mut self.os, key, "syscall", open_files, TaskFile::state)
    }

    /// How long it waited for a core since its last reading (none: this is
    /// its first), from its schedstat file.
    fn waited_for_a_core(&mut self, key: (u32, u64), open_files: &mut usize) -> Option<u64> {
        let now = kept(
            &mut self.sched,
            key,
            "schedstat",
            open_files,
            TaskFile::schedstat,
        )?;
        let before = self.last_sched.replace(now)?;
        Some(now.1.saturating_sub(before.1))
    }

    /// Holding the GIL is running (ready while it waits for a core); then a
    /// wait for it; then the outermost wait the probe knows (a queue's get
    /// waits on a condition inside: it is the queue that is empty); then the
    /// OS's word (on a CPU or waiting for one, or in a selector: io).
    fn state(&self) -> WorkerState {
        let computing = if self.ready {
            WorkerState::Ready
        } else {
            WorkerState::Running
        };
        if self.holds {
            return computing;
        }
        if self.on_gil {
            return WorkerState::GilWait;
        }
        match self.waits.first() {
            Some(&w) => w,
            None if self.on_cpu => computing,
            None if self.io => WorkerState::Io,
            // A pool's thread asleep between tasks waits for work: idle.
            None => match self.locked {
                Some(WorkerState::LockWait) if self.tasks == 0 && !self.main => WorkerState::Idle,
                Some(w) => w,
                None => WorkerState::Idle,
            },
        }
    }
}

/// What a thread the OS finds asleep on a futex (not the GIL's) waits in:
/// the wait its ring slot names (a queue's condition), else a lock.
fn lock_wait(
    rings: &HashMap<u32, Ring>,
    pid: u32,
    slot: Option<u32>,
    os: OsState,
    gil: Option<u64>,
) -> Option<WorkerState> {
    if !os.on_lock(gil) {
        return None;
    }
    let named = slot
        .and_then(|i| rings.get(&pid)?.slot(i))
        .filter(|&b| b != 0)
        .and_then(crate::wire::state_of);
    Some(named.unwrap_or(WorkerState::LockWait))
}

/// Read a thread's `/proc` file `name` with `read`: the file kept open in
/// `slot` while fewer than `MAX_OPEN` are (`open_files` counts them); past
/// that, opened for this one read.
fn kept<R>(
    slot: &mut Option<TaskFile>,
    key: (u32, u64),
    name: &str,
    open_files: &mut usize,
    read: impl FnOnce(&TaskFile) -> R,
) -> R {
    if slot.is_none() && *open_files < MAX_OPEN {
        *slot = Some(TaskFile::open(key.0, key.1, name));
        *open_files += 1;
    }
    match slot {
        Some(f) => read(f),
        None => read(&TaskFile::open(key.0, key.1, name)),
    }
}

/// What the driver knows of one process's interpreter.
#[derive(Default)]
struct Interp {
    /// Where the probe said to look for the GIL: the interpreter, `_PyRuntime`.
    regions: [u64; 2],
    /// The switch interval the GIL holds, µs.
    interval_us: u64,
    /// Free-threaded: no GIL at all.
    no_gil: bool,
    /// The GIL's address, once found.
    gil: Option<u64>,
    /// Attempts to find it so far.
    tries: u32,
    /// `switch_number` when first and last read.
    switches: Option<(u64, u64)>,
    /// Gone: nothing more to read.
    ended: bool,
    /// Reading failed while it ran, at this time: inferred from then on.
    failed_at: Option<u64>,
    /// Why its GIL could not be found, if it was not.
    unread: Option<String>,
}

/// Attempts to find a process's GIL (one per tick, 5 ms apart, from its
/// hello on) before parlab infers it instead.
const FIND_TRIES: u32 = 100;
/// Syscall files kept open at once; past this, one is opened per read.
const MAX_OPEN: usize = 256;

/// A reading taken between two ring reads, applied in time order with the
/// probe's records.
enum Seen {
    /// The thread state holding each process's GIL (none: it is free),
    /// from one reading of them all.
    Holders(Vec<(u32, Option<u64>)>),
    /// A thread on a CPU (or waiting for one), asleep on the GIL, waiting
    /// in a selector, or none of these.
    Os {
        key: (u32, u64),
        on_cpu: bool,
        on_gil: bool,
        io: bool,
        locked: Option<WorkerState>,
    },
    /// A queue's traffic since the last reading (the first queue's).
    Queue {
        lane: LaneId,
        puts: u64,
        gets: u64,
        depth: u64,
    },
    /// A runnable thread waits for a core from here (or no longer).
    Ready { key: (u32, u64), ready: bool },
    /// The OS's words on `pid`'s threads are in: infer who waits for the GIL.
    Infer { pid: u32 },
}

/// When to read the GIL next: `hz` with ±25 % jitter, so the samples never
/// lock step with the interpreter's own 5 ms switch interval. When the
/// program keeps every core busy, wake-ups come late; while the samples
/// taken fall short of the rate asked for, the period shortens by a quarter.
struct Pace {
    hz: f64,
    period: Duration,
    next: Instant,
    rng: crate::workload::SplitMix64,
    /// Samples taken, and when the first and the last were.
    taken: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Pace {
    fn new(hz: u32) -> Option<Self> {
        (hz > 0).then(|| Self {
            hz: hz as f64,
            period: Duration::from_secs_f64(1.0 / hz as f64),
            next: Instant::now(),
            rng: crate::workload::SplitMix64::new(std::process::id() as u64),
            taken: 0,
            first: None,
            last: None,
        })
    }

    fn due(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        let first = *self.first.get_or_insert(now);
        self.taken += 1;
        let owed = self.hz * 1.01 * now.duration_since(first).as_secs_f64();
        let scale = if (self.taken as f64) < owed {
            0.75
        } else {
            1.0
        };
        let unit = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let step = self.period.mul_f64(scale * (0.75 + unit * 0.5));
        self.next = (self.next + step).max(now);
        self.last = Some(now);
        true
    }

    /// The rate achieved, samples a second.
    fn rate(&self) -> Option<f64> {
        let s = self.last?.duration_since(self.first?).as_secs_f64();
        (self.taken > 1 && s > 0.0).then(|| (self.taken - 1) as f64 / s)
    }
}

/// A line the program printed, and when.
struct Line {
    t: u64,
    err: bool,
    text: String,
}

struct Driver {
    clock: Clock,
    tx: Outbox,
    dir: PathBuf,
    root: u32,
    rings: HashMap<u32, Ring>,
    threads: HashMap<(u32, u64), Thread>,
    next_lane: LaneId,
    tasks: HashMap<(u32, u32), u32>,
    next_task: u32,
    first_queue: Option<(u32, u32)>,
    /// The first queue's traffic: puts, gets, deepest, who put, who got.
    queue_stats: queues::Stats,
    /// Queues read from outside.
    watched: Vec<queues::Watched>,
    batch: Batch,
    sent: u64,
    last_stdout: Option<String>,
    last_stderr: Option<String>,
    /// Each process's name, as multiprocessing gives it.
    names: HashMap<u32, String>,
    /// This thread's own CPU over the run: what reading the program cost.
    reader_cpu_ns: u64,
    /// Of which sampling the threads' run states.
    sampler_cpu_ns: u64,
    /// Each process's interpreter, as far as its GIL goes.
    interps: HashMap<u32, Interp>,
    /// Readings since the rings were last read.
    pending: Vec<(u64, Seen)>,
    /// When to read the GIL (none: it is inferred).
    pace: Option<Pace>,
    /// Syscall files open.
    open_files: usize,
    /// GIL readings taken.
    samples: u64,
    /// The time of the last record or reading applied: later readings are
    /// never stamped before it.
    applied_to: u64,
    /// Whose OS state to read at each GIL reading, under a budget.
    rota: Rota<(u32, u64)>,
    /// The live threads in a stable order (rebuilt when one starts or ends),
    /// and each process's GIL holder at the last reading (its thread state).
    roster: Option<Vec<(u32, u64)>>,
    holders: HashMap<u32, Option<u64>>,
}

impl Driver {
    fn new(clock: Clock, tx: Outbox, dir: PathBuf, root: u32, gil_hz: u32) -> Self {
        Self {
            clock,
            tx,
            dir,
            root,
            rings: HashMap::new(),
            threads: HashMap::new(),
            next_lane: 0,
            tasks: HashMap::new(),
            next_task: 0,
            first_queue: None,
            queue_stats: queues::Stats::default(),
            watched: Vec::new(),
            batch: Vec::new(),
            sent: 0,
            last_stdout: None,
            last_stderr: None,
            names: HashMap::new(),
            reader_cpu_ns: 0,
            sampler_cpu_ns: 0,
            interps: HashMap::new(),
            pending: Vec::new(),
            pace: Pace::new(gil_hz).filter(|_| cfg!(target_os = "linux")),
            open_files: 0,
            samples: 0,
            applied_to: 0,
            rota: Rota::new(rota::READS_PER_S),
            roster: None,
            holders: HashMap::new(),
        }
    }

    fn run(
        mut self,
        mut child: Child,
        control: &Control,
        timeout: Option<Duration>,
    ) -> Result<Outcome> {
        let t0 = self.clock.now();
        let started = Instant::now();
        let cpu0 = crate::clock::thread_cpu_ns();
        let (lines_tx, lines) = crossbeam_channel::unbounded();
        let readers = [
            read_lines(child.stdout.take(), false, self.clock, lines_tx.clone()),
            read_lines(child.stderr.take(), true, self.clock, lines_tx),
        ];
        let (
            mut last_scan,
            mut last_sample,
            mut last_tick,
            mut stopping,
            mut cancelled,
            mut timed_out,
        ) = (
            Instant::now() - SCAN,
            Instant::now(),
            Instant::now() - TICK,
            None::<Instant>,
            false,
            false,
        );
        fine_timer_slack();
        let status = loop {
            let now = Instant::now();
            // The reading's own CPU is not timed apart: two more system
            // calls a reading would cost more than the reading itself. The
            // bench compares the whole reader with reading on and off.
            if self.pace.as_mut().is_some_and(|p| p.due(now)) {
                self.sample_gil();
            }
            // Once the program closed its output it is likely gone: look a
            // millisecond apart, not a tick (a run ends sooner).
            let tick = if readers.iter().all(|r| r.is_finished()) {
                Duration::from_millis(1)
            } else {
                TICK
            };
            if now.duration_since(last_tick) < tick {
                self.sleep_until_next(last_tick + tick);
                continue;
            }
            last_tick = now;
            if last_scan.elapsed() >= SCAN {
                last_scan = Instant::now();
                self.scan();
            }
            if last_sample.elapsed() >= SAMPLE {
                last_sample = Instant::now();
                let cpu = crate::clock::thread_cpu_ns();
                self.sample();
                self.sampler_cpu_ns += crate::clock::thread_cpu_ns().saturating_sub(cpu);
            }
            self.read_rings();
            if self.pace.is_some() {
                // A process is read from its first tick after its hello.
                self.find_gils();
            }
            for line in lines.try_iter() {
                self.output(line);
            }
            self.flush();
            if let Some(status) = child.try_wait()? {
                break status;
            }
            let over = timeout.is_some_and(|t| started.elapsed() >= t);
            if stopping.is_none() && (control.is_cancelled() || over) {
                (cancelled, timed_out) = (true, over && !control.is_cancelled());
                crate::child::signal_group(&child, libc_term());
                stopping = Some(Instant::now());
            }
            if stopping.is_some_and(|s| s.elapsed() >= GRACE) {
                crate::child::kill_group(&mut child);
            }
        };
        let end = self.clock.now();
        // Whatever the program left running in its group goes with it,
        // reaped here where it was orphaned to parlab.
        crate::child::kill_group(&mut child);
        let _ = child.wait();
        crate::child::reap_group(child.id());
        for r in readers {
            let _ = r.join();
        }
        for line in lines.try_iter() {
            self.output(line);
        }
        self.scan();
        self.read_rings();
        for th in self.threads.values_mut().filter(|t| !t.ended) {
            th.ended = true;
            self.batch.push(Event {
                t: end,
                lane: th.lane,
                kind: EventKind::LaneEnd,
            });
        }
        self.flush();
        self.reader_cpu_ns = crate::clock::thread_cpu_ns().saturating_sub(cpu0);
        self.outcome(t0, end, status.code(), cancelled, timed_out)
    }

    /// Open the rings of processes that have appeared.
    fn scan(&mut self) {
        for (pid, path) in per_process(&self.dir, "ring-", ".bin") {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.rings.entry(pid) {
                if let Some(ring) = Ring::open(&path) {
                    slot.insert(ring);
                }
            }
        }
    }

    /// The probe's new records and the readings taken since, in time order.
    fn read_rings(&mut self) {
        let (mut records, mut all) = (Vec::new(), Vec::new());
        for (&pid, ring) in &mut self.rings {
            ring.read(&mut records);
            all.extend(records.drain(..).map(|r| (pid, r)));
        }
        let origin = self.clock.origin();
        all.sort_by_key(|(_, r)| r.t);
        // A wait for a core is learnt after it ended: readings may be stamped
        // back in time (never before what the lab was already sent).
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|(at, _)| *at);
        let mut seen = pending.into_iter().peekable();
        for (pid, r) in all {
            let t = r.t.saturating_sub(origin);
            while let Some((at, s)) = seen.next_if(|(at, _)| *at <= t) {
                self.apply(s, at.max(self.applied_to));
            }
            self.applied_to = self.applied_to.max(t);
            self.record(pid, r);
        }
        let now = self.clock.now();
        for (at, s) in seen {
            self.apply(s, at.min(now).max(self.applied_to));
        }
        self.applied_to = self.applied_to.max(now);
    }

    /// A runnable thread's wait for a core since its last reading (`waited`
    /// ns, counted by the OS once the wait ends): `ready` for that long,
    /// ending at this reading `t`.
    fn waited(&mut self, key: (u32, u64), t: u64, waited: Option<u64>) {
        if let Some(w) = waited.filter(|&w| w >= crate::runqueue::NOISE_NS) {
            let from = t.saturating_sub(w).max(self.applied_to);
            self.pending.push((from, Seen::Ready { key, ready: true }));
            self.pending.push((t, Seen::Ready { key, ready: false }));
        }
    }

    /// A reading, applied at `t`.
    fn apply(&mut self, seen: Seen, t: u64) {
        match seen {
            Seen::Holders(holders) => {
                // One pass over the threads, however many processes were read.
                let holders: HashMap<u32, Option<u64>> = holders.into_iter().collect();
                let mut changed = Vec::new();
                for (key, th) in self.threads.iter_mut().filter(|(_, th)| !th.ended) {
                    let Some(&tstate) = holders.get(&key.0) else {
                        continue;
                    };
                    let holds = th.tstate != 0 && tstate == Some(th.tstate);
                    if holds != th.holds {
                        th.holds = holds;
                        changed.push((*key, th.lane, holds));
                    }
                }
                for (key, lane, holds) in changed {
                    self.push(t, lane, EventKind::GilHeld(holds));
                    self.show(key, t);
                }
            }
            Seen::Os {
                key,
                on_cpu,
                on_gil,
                io,
                locked,
            } => {
                if let Some(th) = self.threads.get_mut(&key) {
                    (th.on_cpu, th.on_gil, th.io, th.locked) = (on_cpu, on_gil, io, locked);
                }
                self.show(key, t);
            }
            Seen::Queue {
                lane,
                puts,
                gets,
                depth,
            } => {
                let depth = depth.min(u32::MAX as u64) as u32;
                let q = &mut self.queue_stats;
                (q.puts, q.gets) = (q.puts + puts, q.gets + gets);
                q.max_depth = q.max_depth.max(depth);
                // The model counts one event an operation, as recorded ones.
                for _ in 0..puts {
                    self.push(t, lane, EventKind::QueuePut { task: 0, depth });
                }
                for _ in 0..gets {
                    self.push(t, lane, EventKind::QueueGet { task: 0, depth });
                }
            }
            Seen::Ready { key, ready } => {
                if let Some(th) = self.threads.get_mut(&key) {
                    th.ready = ready;
                }
                self.show(key, t);
            }
            Seen::Infer { pid } => {
                // One thread running Python code while another, runnable,
                // is off the CPU: that one is taken to wait for the GIL.
                let keys = self.live_threads(pid);
                let python = |th: &Thread| th.on_cpu && th.waits.is_empty();
                let busy = keys
                    .iter()
                    .filter(|k| self.threads.get(k).is_some_and(python))
                    .count();
                for key in keys {
                    if let Some(th) = self.threads.get_mut(&key) {
                        th.on_gil = busy > 0 && !th.on_cpu && th.waits.is_empty();
                    }
                    self.show(key, t);
                }
            }
        }
    }

    /// The threads of `pid` still running.
    fn live_threads(&self, pid: u32) -> Vec<(u32, u64)> {
        self.threads
            .iter()
            .filter(|(k, th)| k.0 == pid && !th.ended)
            .map(|(k, _)| *k)
            .collect()
    }

    /// Find the GIL of processes that said where to look.
    fn find_gils(&mut self) {
        let pids: Vec<u32> = self
            .interps
            .iter()
            .filter(|(_, i)| {
                i.gil.is_none()
                    && !i.no_gil
                    && !i.ended
                    && i.failed_at.is_none()
                    && i.tries < FIND_TRIES
                    && i.regions.iter().any(|&r| r != 0)
            })
            .map(|(p, _)| *p)
            .collect();
        for pid in pids {
            let tstates: std::collections::HashSet<u64> = self
                .threads
                .iter()
                .filter(|(k, th)| k.0 == pid && th.tstate != 0)
                .map(|(_, th)| th.tstate)
                .collect();
            // A forked child has its parent's addresses: try the GIL found there first.
            let regions = self.interps.get(&pid).map(|i| i.regions);
            let hint = self
                .interps
                .values()
                .find(|o| Some(o.regions) == regions && o.gil.is_some())
                .and_then(|o| o.gil);
            let Some(i) = self.interps.get_mut(&pid) else {
                continue;
            };
            i.tries += 1;
            let found = match hint.filter(|&at| gil::is_gil(pid, at, i.interval_us, &tstates)) {
                Some(at) => Ok(Some(at)),
                None => gil::locate(pid, i.regions, i.interval_us, &tstates),
            };
            i.unread = match &found {
                Ok(Some(_)) => None,
                Ok(None) => Some("not found near _PyRuntime or the interpreter".into()),
                Err(e) => Some(format!("its memory could not be read ({e})")),
            };
            i.gil = found.ok().flatten();
        }
    }

    /// Read each process's GIL, and what every thread not holding it is
    /// doing: on a CPU, asleep on the GIL, or elsewhere.
    fn sample_gil(&mut self) {
        let t = self.clock.now();
        self.samples += 1;
        let pids: Vec<(u32, u64)> = self
            .interps
            .iter()
            .filter(|(_, i)| !i.ended)
            .filter_map(|(p, i)| Some((*p, i.gil?)))
            .collect();
        self.read_queues(t);
        let mut read = HashMap::with_capacity(pids.len());
        for (pid, addr) in pids {
            match gil::read_word(pid, addr) {
                Ok(w) if w.valid() => {
                    if let Some(i) = self.interps.get_mut(&pid) {
                        let first = i.switches.map_or(w.switch_number, |s| s.0);
                        i.switches = Some((first, w.switch_number));
                        i.interval_us = w.interval_us;
                    }
                    read.insert(pid, (addr, w.holder()));
                }
                Err(e) if gone(&e) => {
                    if let Some(i) = self.interps.get_mut(&pid) {
                        i.ended = true;
                    }
                }
                other => self.gil_lost(pid, t, other.err()),
            }
        }
        if !read.is_empty() {
            let holders = read.iter().map(|(&pid, &(_, h))| (pid, h)).collect();
            self.pending.push((t, Seen::Holders(holders)));
            self.read_os(&read, t);
        }
    }

    /// The OS's word on threads of the processes just `read` (their GIL's
    /// address and holder), as many as the rota's budget allows: those
    /// that just took or lost a GIL first, then the next in turn. A holder
    /// is asked only whether it waited for a core; any other thread what it
    /// is doing (on a CPU, asleep on the GIL, in a selector).
    fn read_os(&mut self, read: &HashMap<u32, (u64, Option<u64>)>, t: u64) {
        for (&pid, &(_, holder)) in read {
            let before = self.holders.insert(pid, holder).flatten();
            if before != holder {
                for tstate in [before, holder].into_iter().flatten() {
                    if let Some(key) = self.thread_of(pid, tstate) {
                        self.rota.soon(key);
                    }
                }
            }
        }
        let roster = self.roster.get_or_insert_with(|| {
            let mut live: Vec<_> = self
                .threads
                .iter()
                .filter(|(_, th)| !th.ended)
                .map(|(k, _)| *k)
                .collect();
            live.sort_unstable();
            live
        });
        let turn = self.rota.turn(t, roster, |k| read.contains_key(&k.0));
        let (mut reads, mut waits) = (0, Vec::new());
        for key in turn {
            let Some(th) = self.threads.get_mut(&key).filter(|th| !th.ended) else {
                continue;
            };
            let (gil, holder) = read[&key.0];
            let files = &mut self.open_files;
            reads += 1;
            if th.tstate != 0 && holder == Some(th.tstate) {
                // The holder computes: on a core, or waiting for one.
                waits.push((key, th.waited_for_a_core(key, files)));
                continue;
            }
            let os = th.syscall(key, files);
            if os != OsState::Unknown {
                let on_cpu = os == OsState::OnCpu;
                if on_cpu {
                    // On a CPU without the GIL is mostly a moment on the way
                    // to waiting for it: read it again soon, not in a turn.
                    self.rota.soon(key);
                    reads += 1;
                    waits.push((key, th.waited_for_a_core(key, files)));
                }
                self.pending.push((
                    t,
                    Seen::Os {
                        key,
                        on_cpu,
                        on_gil: os.on_gil(gil),
                        io: os.io(),
                        locked: lock_wait(&self.rings, key.0, th.slot, os, Some(gil)),
                    },
                ));
            }
        }
        self.rota.spent(reads);
        for (key, w) in waits {
            self.waited(key, t, w);
        }
    }

    /// The first queue's traffic since its last reading, where it is read
    /// from outside. A queue that can no longer be read (its process ended,
    /// or it was freed) is read no more.
    fn read_queues(&mut self, t: u64) {
        let mut traffic = Vec::new();
        self.watched.retain_mut(|q| {
            match q.read() {
                // Counts only grow: anything else is no longer its deque.
                Ok(now) if now.puts < q.last.puts || now.gets < q.last.gets => false,
                Ok(now) => {
                    if now != q.last {
                        traffic.push(Seen::Queue {
                            lane: q.lane,
                            puts: now.puts.saturating_sub(q.last.puts),
                            gets: now.gets.saturating_sub(q.last.gets),
                            depth: now.depth,
                        });
                        q.last = now;
                    }
                    true
                }
                Err(_) => false,
            }
        });
        self.pending.extend(traffic.into_iter().map(|s| (t, s)));
    }

    /// The live thread of `pid` whose thread state is `tstate`.
    fn thread_of(&self, pid: u32, tstate: u64) -> Option<(u32, u64)> {
        self.threads
            .iter()
            .find(|(k, th)| k.0 == pid && th.tstate == tstate && !th.ended)
            .map(|(k, _)| *k)
    }

    /// Reading `pid`'s GIL failed while it ran: from `t` on it is inferred.
    fn gil_lost(&mut self, pid: u32, t: u64, why: Option<std::io::Error>) {
        let Some(i) = self.interps.get_mut(&pid) else {
            return;
        };
        i.gil = None;
        i.failed_at = Some(t);
        let why = why.map_or("it no longer reads as a GIL".to_string(), |e| e.to_string());
        self.pending.push((t, Seen::Holders(vec![(pid, None)])));
        if let Some(lane) = self.threads.get(&(pid, pid as u64)).map(|th| th.lane) {
            self.push(
                t,
                lane,
                EventKind::Log {
                    text: format!(
                        "the GIL of pid {pid} could not be read ({why}): inferred from here on"
                    ),
                },
            );
        }
    }

    /// Sleep until the next GIL reading, or the next tick where the GIL is
    /// not read. Readings come more often than ticks: a tick's work waits
    /// for the reading after it is due (a wake-up, a context switch, is
    /// most of what the reader costs).
    fn sleep_until_next(&self, tick: Instant) {
        let wake = self.pace.as_ref().map_or(tick, |p| p.next);
        let now = Instant::now();
        if wake > now {
            std::thread::sleep(wake - now);
        }
    }

    fn push(&mut self, t: u64, lane: LaneId, kind: EventKind) {
        self.batch.push(Event { t, lane, kind });
    }

    /// A probe record, on parlab's clock, as the lab's events.
    fn record(&mut self, pid: u32, r: Record) {
        let t = r.t.saturating_sub(self.clock.origin());
        let key = (pid, r.tid);
        match r.kind {
            kind::HELLO => {
                let (interp, interval_us, has_gil) = (r.raw_u64(0), r.raw_u64(1), r.raw_u64(2));
                let unread =
                    (self.pace.is_some() && has_gil != 0 && interp == 0 && r.b == 0).then(|| {
                        "the probe could not say where the interpreter is (no ctypes?)".into()
                    });
                self.interps.insert(
                    pid,
                    Interp {
                        regions: [interp, r.b],
                        interval_us,
                        no_gil: has_gil == 0,
                        unread,
                        ..Interp::default()
                    },
                );
            }
            kind::THREAD_START => {
                let lane = self.next_lane;
                self.next_lane += 1;
                let role = if pid != self.root && r.tid == pid as u64 {
                    Role::Process
                } else {
                    Role::Thread
                };
                let name = match (role, self.names.get(&pid)) {
                    (Role::Process, Some(n)) => n.clone(),
                    _ => r.text.clone(),
                };
                let mut thread = Thread::new(lane, r.b);
                thread.main = key == (self.root, self.root as u64);
                thread.slot = r.a.checked_sub(1);
                self.threads.insert(key, thread);
                self.roster = None;
                self.announce(key, name, role, t);
            }
            kind::PROCESS_NAME => {
                self.names.insert(pid, r.text.clone());
                if self.threads.contains_key(&(pid, pid as u64)) {
                    self.announce((pid, pid as u64), r.text, Role::Process, t);
                }
            }
            kind::THREAD_END => {
                if let Some(th) = self.threads.get_mut(&key).filter(|th| !th.ended) {
                    th.ended = true;
                    self.roster = None;
                    self.open_files -= [th.os.take(), th.sched.take()]
                        .iter()
                        .filter(|f| f.is_some())
                        .count();
                    let lane = th.lane;
                    self.push(t, lane, EventKind::LaneEnd);
                }
                if r.tid == pid as u64 {
                    // The main thread's end is the interpreter's: nothing more to read.
                    if let Some(i) = self.interps.get_mut(&pid) {
                        i.ended = true;
                    }
                }
            }
            kind::TASK_START => {
                let Some(lane) = self.threads.get(&key).map(|th| th.lane) else {
                    return;
                };
                let task = self.next_task;
                self.next_task += 1;
                if let Some(th) = self.threads.get_mut(&key) {
                    th.tasks += 1;
                }
                self.tasks.insert((pid, r.a), task);
                self.push(t, lane, EventKind::Task { task, name: r.text });
                self.push(t, lane, EventKind::TaskStart { task });
            }
            kind::TASK_END => {
                let Some(lane) = self.threads.get(&key).map(|th| th.lane) else {
                    return;
                };
                if let Some(task) = self.tasks.remove(&(pid, r.a)) {
                    self.push(t, lane, EventKind::TaskEnd { task, ok: r.b == 1 });
                }
                if let Some(th) = self.threads.get_mut(&key) {
                    th.tasks = th.tasks.saturating_sub(1);
                }
            }
            kind::ENTER | kind::LEAVE => {
                let Some(th) = self.threads.get_mut(&key) else {
                    return;
                };
                let state = u8::try_from(r.state)
                    .ok()
                    .and_then(crate::wire::state_of)
                    .unwrap_or(WorkerState::Idle);
                if r.kind == kind::ENTER {
                    th.waits.push(state);
                } else if let Some(at) = th.waits.iter().rposition(|&w| w == state) {
                    th.waits.remove(at);
                }
                self.show(key, t);
            }
            kind::QUEUE_NEW | kind::QUEUE_AT | kind::QUEUE_DEPTH => self.queue_record(key, &r, t),
            kind::CACHE => {
                let Some(lane) = self.threads.get(&key).map(|th| th.lane) else {
                    return;
                };
                let (misses, currsize) = (r.raw_u64(0), r.raw_u64(1));
                self.push(
                    t,
                    lane,
                    EventKind::CacheTotals {
                        hits: r.b,
                        misses,
                        currsize,
                    },
                );
            }
            _ => {}
        }
    }

    /// A record about a queue: made (its bound), where to read it from
    /// outside, or one recorded put or get.
    fn queue_record(&mut self, key: (u32, u64), r: &Record, t: u64) {
        let pid = key.0;
        let Some(lane) = self.threads.get(&key).map(|th| th.lane) else {
            return;
        };
        let first = self.first_queue == Some((pid, r.a));
        match r.kind {
            kind::QUEUE_NEW if self.first_queue.is_none() => {
                self.first_queue = Some((pid, r.a));
                self.push(t, lane, EventKind::QueueBound { capacity: r.b });
            }
            // Only the first queue is shown: only it is read.
            kind::QUEUE_AT if first => {
                self.queue_stats.watched = true;
                self.watched
                    .push(queues::Watched::from_record(pid, r, lane));
            }
            kind::QUEUE_DEPTH if first => {
                let depth = r.b.min(u32::MAX as u64) as u32;
                let q = &mut self.queue_stats;
                q.max_depth = q.max_depth.max(depth);
                let kind = if r.state == 2 {
                    q.gets += 1;
                    q.getters.insert(lane);
                    EventKind::QueueGet { task: 0, depth }
                } else {
                    q.puts += 1;
                    q.putters.insert(lane);
                    EventKind::QueuePut { task: 0, depth }
                };
                self.push(t, lane, kind);
            }
            _ => {}
        }
    }

    fn announce(&mut self, key: (u32, u64), name: String, role: Role, t: u64) {
        let Some(th) = self.threads.get(&key) else {
            return;
        };
        let (lane, shown) = (th.lane, th.shown);
        self.push(
            t,
            lane,
            EventKind::Lane {
                name,
                role,
                pid: key.0,
                tid: Some(key.1),
                // When it was asked to start is not known: no start cost shown.
                spawned_at: crate::event::SPAWN_UNKNOWN,
            },
        );
        self.push(t, lane, EventKind::State(shown));
    }

    /// The thread's state as shown, if it changed.
    fn show(&mut self, key: (u32, u64), t: u64) {
        let Some(th) = self.threads.get_mut(&key) else {
            return;
        };
        let now = th.state();
        if now != th.shown && !th.ended {
            th.shown = now;
            let lane = th.lane;
            self.push(t, lane, EventKind::State(now));
        }
    }

    /// Each live thread on a CPU or not, from the OS (Linux: /proc); one
    /// asleep outside any wait the probe knows is asked which call it is in
    /// (a selector's: io).
    fn sample(&mut self) {
        if !cfg!(target_os = "linux") {
            return;
        }
        let t = self.clock.now();
        // Where the GIL is read, its readings say more, and more often.
        let measured = |pid: &u32| self.interps.get(pid).is_some_and(|i| i.gil.is_some());
        let mut keys: Vec<(u32, u64)> = self
            .threads
            .iter()
            .filter(|(k, th)| !th.ended && !measured(&k.0))
            .map(|(k, _)| *k)
            .collect();
        keys.sort_unstable();
        for &key in &keys {
            let path = format!("/proc/{}/task/{}/stat", key.0, key.1);
            let Ok(stat) = std::fs::read_to_string(path) else {
                continue;
            };
            // The state follows the command's closing parenthesis.
            let on_cpu = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                == Some('R');
            let files = &mut self.open_files;
            let Some(th) = self.threads.get_mut(&key) else {
                continue;
            };
            let os = if !on_cpu && th.waits.is_empty() {
                th.syscall(key, files)
            } else {
                OsState::Unknown
            };
            let waited = on_cpu.then(|| th.waited_for_a_core(key, files)).flatten();
            self.pending.push((
                t,
                Seen::Os {
                    key,
                    on_cpu,
                    on_gil: false,
                    io: os.io(),
                    locked: lock_wait(&self.rings, key.0, th.slot, os, None),
                },
            ));
            self.waited(key, t, waited);
        }
        keys.dedup_by_key(|k| k.0);
        for (pid, _) in keys {
            if self.interps.get(&pid).is_some_and(|i| !i.no_gil) {
                self.pending.push((t, Seen::Infer { pid }));
            }
        }
    }

    fn output(&mut self, line: Line) {
        let lane = self
            .threads
            .get(&(self.root, self.root as u64))
            .map_or(0, |th| th.lane);
        if line.err {
            self.last_stderr = Some(line.text.clone());
        } else {
            self.last_stdout = Some(line.text.clone());
        }
        self.push(line.t, lane, EventKind::Output { text: line.text });
    }

    fn flush(&mut self) {
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            self.sent += batch.len() as u64;
            let _ = self.tx.send(batch);
        }
    }

    /// A JSON file the probe left per process: `info`, `exit`.
    fn files(&self, stem: &str) -> Vec<(u32, Value)> {
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

    fn failures(&self) -> Vec<Failure> {
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

    fn outcome(
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
            key: "exit_code".into(),
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
        extensions.extend(queues::extensions(&exits, &self.queue_stats));
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
}

impl Driver {
    /// The GIL's figures: read (measured) where it could be, else inferred;
    /// none for a free-threaded interpreter. Each lane's share is the lab's.
    fn gil_extension(&self, wall_ns: u64) -> Option<Extension> {
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
            json["thread_read_hz"] = json!((hz * 10.0).round() / 10.0);
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
            key: "gil".into(),
            json,
            summary,
        })
    }
}

/// The process is gone (its memory with it): not a failure to read.
fn gone(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Sleeps of a millisecond wake within a few microseconds of it (Linux's
/// default timer slack, 50 µs, would drag 1 kHz sampling well below it).
fn fine_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes a number of nanoseconds; it only
    // changes this thread's own timer slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 5_000 as libc::c_ulong);
    }
}

/// The probe's files of one kind in `dir`, one per process (`ring-PID.bin`,
/// `info-PID.json`), by pid.
fn per_process(dir: &Path, prefix: &str, suffix: &str) -> Vec<(u32, PathBuf)> {
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

#[cfg(unix)]
fn libc_term() -> i32 {
    libc::SIGTERM
}

#[cfg(not(unix))]
fn libc_term() -> i32 {
    15
}

/// The interpreter as the root process said it, and how processes started.
fn python_extension(info: &[(u32, Value)], exits: &[(u32, Value)]) -> Extension {
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
        key: "python".into(),
        json,
        summary,
    }
}

/// The program's own lru_caches, summed, each listed with its cache_info().
fn cache_extension(exits: &[(u32, Value)]) -> Option<Extension> {
    let functions: Vec<Value> = exits
        .iter()
        .flat_map(|(pid, v)| {
            v["caches"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |mut c| {
                    c["pid"] = json!(pid);
                    c
                })
        })
        .collect();
    if functions.is_empty() {
        return None;
    }
    let sum = |k: &str| {
        functions
            .iter()
            .map(|f| f[k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let (hits, misses, currsize) = (sum("hits"), sum("misses"), sum("currsize"));
    let maxsize = functions[0]["maxsize"].clone();
    Some(Extension {
        key: "cache".into(),
        json: json!({ "hits": hits, "misses": misses, "currsize": currsize, "maxsize": maxsize, "functions": functions }),
        summary: functions
            .iter()
            .map(|f| {
                format!(
                    "{}: hits={}, misses={}, maxsize={}, currsize={}",
                    f["function"].as_str().unwrap_or("?"),
                    f["hits"],
                    f["misses"],
                    f["maxsize"],
                    f["currsize"]
                )
            })
            .collect(),
    })
}

/// Each line of a pipe, stamped as it arrives.
fn read_lines<R: Read + Send + 'static>(
    pipe: Option<R>,
    err: bool,
    clock: Clock,
    tx: crossbeam_channel::Sender<Line>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let Some(p) = pipe else { return };
        for line in BufReader::new(p).lines() {
            let Ok(text) = line else { return };
            if tx
                .send(Line {
                    t: clock.now(),
                    err,
                    text,
                })
                .is_err()
            {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u16, tid: u64, b: u64, raw: [u64; 3], text: &str) -> Record {
        let mut bytes = [0u8; 24];
        for (i, v) in raw.iter().enumerate() {
            bytes[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        if !text.is_empty() {
            bytes = [0; 24];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
        }
        Record {
            t: 0,
            tid,
            kind,
            state: 0,
            a: 0,
            b,
            text: text.into(),
            raw: bytes,
        }
    }

    /// A driver fed a process's hello and two threads, as the probe says them.
    fn driver(has_gil: u64) -> (Driver, crate::event::Inbox) {
        let (tx, rx) = crate::inbox::channel();
        let dir = std::env::temp_dir().join(format!("parlab-ft-{}-{has_gil}", std::process::id()));
        // No GIL reading: the fake pid has no memory to read.
        let mut d = Driver::new(Clock::start(), tx, dir, 4_000_000, 0);
        let pid = 4_000_000;
        d.record(
            pid,
            record(kind::HELLO, pid as u64, 0, [0, 5000, has_gil], ""),
        );
        d.record(
            pid,
            record(kind::THREAD_START, pid as u64, 0x10, [0; 3], "MainThread"),
        );
        d.record(pid, record(kind::THREAD_START, 7, 0x20, [0; 3], "Thread-1"));
        (d, rx)
    }

    /// Its main thread on a CPU, Thread-1 off it (and, with a GIL, the
    /// inference asked for): the states the lab is sent.
    fn one_on_cpu_one_off(d: &mut Driver, rx: &mut crate::event::Inbox) -> Vec<WorkerState> {
        let pid = 4_000_000;
        d.pending.push((
            1,
            Seen::Os {
                key: (pid, pid as u64),
                on_cpu: true,
                on_gil: false,
                io: false,
                locked: None,
            },
        ));
        d.pending.push((
            1,
            Seen::Os {
                key: (pid, 7),
                on_cpu: false,
                on_gil: false,
                io: false,
                locked: None,
            },
        ));
        // The fake pid has no /proc: sampling only asks for the inference
        // (on Linux; asked here too, so the test holds elsewhere).
        d.sample();
        if d.interps.get(&pid).is_some_and(|i| !i.no_gil) {
            d.pending.push((1, Seen::Infer { pid }));
        }
        d.read_rings();
        d.flush();
        rx.try_recv_all()
            .into_iter()
            .flatten()
            .filter_map(|e| match e.kind {
                EventKind::State(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_free_threaded_python_has_no_gil_states_and_says_so() {
        let (mut d, mut rx) = driver(0);
        let states = one_on_cpu_one_off(&mut d, &mut rx);
        assert!(!states.contains(&WorkerState::GilWait), "{states:?}");
        let o = d.outcome(0, 1_000_000, Some(0), false, false).unwrap();
        assert!(o.extension("gil").is_none(), "no GIL figures without a GIL");
        let python = o.extensions.iter().find(|e| e.key == "python").unwrap();
        assert!(python.summary.iter().any(|l| l == "free-threaded: no GIL"));
    }

    #[test]
    fn with_a_gil_the_same_threads_are_inferred_to_wait() {
        let (mut d, mut rx) = driver(1);
        let states = one_on_cpu_one_off(&mut d, &mut rx);
        assert!(states.contains(&WorkerState::GilWait), "{states:?}");
        let o = d.outcome(0, 1_000_000, Some(0), false, false).unwrap();
        assert_eq!(o.extension("gil").unwrap()["method"], "inferred");
    }

    /// A thread the OS finds waiting in a selector (an event loop between
    /// its callbacks) is io, not idle; once it runs again, running.
    #[test]
    fn a_thread_waiting_in_a_selector_is_io() {
        let (mut d, mut rx) = driver(1);
        let pid = 4_000_000;
        for (t, on_cpu, io) in [(1, false, true), (2, true, false)] {
            d.pending.push((
                t,
                Seen::Os {
                    key: (pid, 7),
                    on_cpu,
                    on_gil: false,
                    io,
                    locked: None,
                },
            ));
        }
        d.read_rings();
        d.flush();
        let states: Vec<WorkerState> = rx
            .try_recv_all()
            .into_iter()
            .flatten()
            .filter_map(|e| match e.kind {
                EventKind::State(s) => Some(s),
                _ => None,
            })
            .collect();
        // The thread began idle (its start); then the two readings.
        assert_eq!(
            states[states.len() - 2..],
            [WorkerState::Io, WorkerState::Running]
        );
    }
}
