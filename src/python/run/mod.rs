//! A Python program as a [`Source`]: started in a process group of its own
//! with the probe on its path; a driver thread reads every process's ring,
//! the program's output and (on Linux) each thread's run state, and turns
//! them into the lab's events; the end is its exit, with what the probe
//! left (the interpreter, caches, queues, failures).

mod clusters;
mod gil_reading;
mod os_sampling;
mod outcome;
mod profiling;
mod translate;

use os_sampling::kept;

use super::gil;
use super::os::{OsState, TaskFile};
use super::pace::Pace;
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
use std::io::Read;
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
    std::fs::create_dir_all(&dir).context("cannot make the run's folder")?;
    Ok(dir)
}

/// The probe's folder: parlab's cached one, else one in the run's folder.
fn probe_dir(dir: &Path) -> Result<PathBuf> {
    if let Some(cached) = super::cached_probe() {
        return Ok(cached);
    }
    let probe = dir.join("probe");
    super::write_probe(&probe).context("cannot write the probe")?;
    Ok(probe)
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
            let mut driver = Driver::new(clock, tx, dir.clone(), child.id(), p.gil_hz);
            driver.clusters.python = p.program.python.command.clone();
            driver.profile(p.profile_hz);
            let out = driver.run(child, &ctl, p.timeout);
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
    let probe = probe_dir(dir)?;
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
    // A program's own client preloads stay its own: parlab's joins none.
    let (key, preload) = super::DASK_PRELOAD;
    if std::env::var_os(key).is_none() {
        cmd.env(key, preload);
    }
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
    /// Asleep on a futex with no timeout: surely not on the GIL, even
    /// where the GIL's address is not known.
    untimed: bool,
    /// Its slot in its process's ring, as the probe said.
    slot: Option<u32>,
    /// Tasks it is in (a thread's target, a pool's call), and whether it is
    /// the program's main thread: where a lock wait is the program's own (a
    /// pool's thread asleep between tasks waits for work: idle).
    tasks: u32,
    main: bool,
    /// Its system call, read while it does not hold the GIL.
    os: Option<TaskFile>,
    /// Its stat file: runnable or not, where its GIL is not read.
    stat: Option<TaskFile>,
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
            untimed: false,
            slot: None,
            tasks: 0,
            main: false,
            os: None,
            stat: None,
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

    /// Whether the OS has it runnable (on a CPU or waiting for one), through
    /// its stat file, kept open like its syscall file; none once it is gone.
    fn runnable(&mut self, key: (u32, u64), open_files: &mut usize) -> Option<bool> {
        kept(&mut self.stat, key, "stat", open_files, TaskFile::runnable)
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
        /// Asleep on a futex with no timeout (never the GIL's).
        untimed: bool,
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
    /// A thread's Python stack, read from outside (root first).
    Stack {
        key: (u32, u64),
        frames: Vec<u32>,
        held: bool,
    },
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
    /// The folder's modification time at the last look, and when that look
    /// began: a folder unchanged since well before it is not read again.
    looked: Option<(std::time::SystemTime, std::time::SystemTime)>,
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
    /// Their conditions' waiters, read when a thread sleeps on a futex.
    waiters: Vec<queues::Waiters>,
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
    /// The Dask clusters the program uses, watched beside it.
    clusters: clusters::Clusters,
    /// Stacks read from outside at `profile_hz` (none: not profiled), each
    /// thread known by its `threading.get_ident()`.
    stacks: Option<crate::python::stacks::Stacks>,
    profile_hz: u32,
    idents: HashMap<(u32, u64), (u32, u64)>,
    stacks_unread: Vec<(u32, String)>,
    stack_tally: Option<crate::python::stacks::Tally>,
}

impl Driver {
    fn new(clock: Clock, tx: Outbox, dir: PathBuf, root: u32, gil_hz: u32) -> Self {
        Self {
            clock,
            tx,
            dir,
            looked: None,
            root,
            rings: HashMap::new(),
            threads: HashMap::new(),
            next_lane: 0,
            tasks: HashMap::new(),
            next_task: 0,
            first_queue: None,
            queue_stats: queues::Stats::default(),
            watched: Vec::new(),
            waiters: Vec::new(),
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
            rota: Rota::new(rota::READS_PER_S, rota::CORE_SHARE),
            roster: None,
            holders: HashMap::new(),
            clusters: clusters::Clusters::default(),
            stacks: None,
            profile_hz: 0,
            idents: HashMap::new(),
            stacks_unread: Vec::new(),
            stack_tally: None,
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
                let clusters = self.scan_if_changed();
                self.find_clusters(clusters);
            }
            self.sample_when_due(&mut last_sample);
            self.watch_clusters();
            self.take_stacks();
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
        let _ = self.scan(); // the last rings; a cluster named this late is not watched
        self.stop_stacks();
        self.read_rings();
        for th in self.threads.values_mut().filter(|t| !t.ended) {
            th.ended = true;
            self.batch.push(Event {
                t: end,
                lane: th.lane,
                kind: EventKind::LaneEnd,
            });
        }
        self.end_clusters(end);
        self.flush();
        self.reader_cpu_ns = crate::clock::thread_cpu_ns().saturating_sub(cpu0);
        self.outcome(t0, end, status.code(), cancelled, timed_out)
    }

    /// [`Self::scan`], where the folder may have changed since the last
    /// look: one `stat` a tick instead of reading the folder. Modification
    /// times are coarse (a clock tick, a few ms), so a folder is taken as
    /// unchanged only if the last look began well after its last change.
    fn scan_if_changed(&mut self) -> Vec<PathBuf> {
        const SETTLED: Duration = Duration::from_millis(100);
        let now = std::time::SystemTime::now();
        let modified = std::fs::metadata(&self.dir).and_then(|m| m.modified());
        let settled = |(seen, at): (std::time::SystemTime, std::time::SystemTime)| {
            modified.as_ref().is_ok_and(|m| *m == seen)
                && at.duration_since(seen).is_ok_and(|d| d >= SETTLED)
        };
        if self.looked.is_some_and(settled) {
            return Vec::new();
        }
        self.looked = modified.ok().map(|m| (m, now));
        self.scan()
    }

    /// Open the rings of processes that have appeared; the files naming a
    /// Dask scheduler, from the same look at the folder.
    fn scan(&mut self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut clusters = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ring = name
                .strip_prefix("ring-")
                .and_then(|n| n.strip_suffix(".bin"));
            if let Some(pid) = ring.and_then(|p| p.parse::<u32>().ok()) {
                if let std::collections::hash_map::Entry::Vacant(slot) = self.rings.entry(pid) {
                    if let Some(ring) = Ring::open(&e.path()) {
                        slot.insert(ring);
                    }
                }
            } else if name.starts_with("dask-") && name.ends_with(".addr") {
                clusters.push(e.path());
            }
        }
        clusters
    }

    /// Sample the threads' run states every [`SAMPLE`] (since `last`),
    /// timing what it costs.
    fn sample_when_due(&mut self, last: &mut Instant) {
        if last.elapsed() < SAMPLE {
            return;
        }
        *last = Instant::now();
        let cpu = crate::clock::thread_cpu_ns();
        self.sample();
        self.sampler_cpu_ns += crate::clock::thread_cpu_ns().saturating_sub(cpu);
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

#[cfg(unix)]
fn libc_term() -> i32 {
    libc::SIGTERM
}

#[cfg(not(unix))]
fn libc_term() -> i32 {
    15
}

/// Each line of a pipe, stamped as it arrives.
fn read_lines<R: Read + Send + 'static>(
    pipe: Option<R>,
    err: bool,
    clock: Clock,
    tx: crossbeam_channel::Sender<Line>,
) -> JoinHandle<()> {
    crate::child::each_line(pipe, tx, move |text| Line {
        t: clock.now(),
        err,
        text,
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
        one_on_cpu_one_asleep(d, rx, None)
    }

    /// The same, Thread-1 asleep on a lock (`untimed`: with no timeout) or
    /// in no wait known (`None`).
    fn one_on_cpu_one_asleep(
        d: &mut Driver,
        rx: &mut crate::event::Inbox,
        lock: Option<bool>,
    ) -> Vec<WorkerState> {
        let pid = 4_000_000;
        d.pending.push((
            1,
            Seen::Os {
                key: (pid, pid as u64),
                on_cpu: true,
                on_gil: false,
                io: false,
                locked: None,
                untimed: false,
            },
        ));
        d.pending.push((
            1,
            Seen::Os {
                key: (pid, 7),
                on_cpu: false,
                on_gil: false,
                io: false,
                locked: lock.map(|_| WorkerState::LockWait),
                untimed: lock == Some(true),
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
        assert!(
            o.extension(crate::strategy::Figures::Gil).is_none(),
            "no GIL figures without a GIL"
        );
        let python = o
            .extensions
            .iter()
            .find(|e| e.is(crate::strategy::Figures::Python))
            .unwrap();
        assert!(python.summary.iter().any(|l| l == "free-threaded: no GIL"));
    }

    #[test]
    fn with_a_gil_the_same_threads_are_inferred_to_wait() {
        let (mut d, mut rx) = driver(1);
        let states = one_on_cpu_one_off(&mut d, &mut rx);
        assert!(states.contains(&WorkerState::GilWait), "{states:?}");
        let o = d.outcome(0, 1_000_000, Some(0), false, false).unwrap();
        assert_eq!(
            o.extension(crate::strategy::Figures::Gil).unwrap()["method"],
            "inferred"
        );
    }

    /// Inferring the GIL, a thread asleep on a futex with no timeout waits
    /// on a lock (CPython waits for the GIL an interval at a time); one
    /// with a timeout may be the GIL's, and is taken to wait for it while
    /// another thread runs Python.
    #[test]
    fn inferring_an_untimed_futex_wait_is_a_lock_wait_not_the_gils() {
        for (untimed, shown) in [(true, WorkerState::LockWait), (false, WorkerState::GilWait)] {
            let (mut d, mut rx) = driver(1);
            // In a task: a lock wait is the program's (not a pool's idle).
            d.record(4_000_000, record(kind::TASK_START, 7, 0, [0; 3], "work"));
            let states = one_on_cpu_one_asleep(&mut d, &mut rx, Some(untimed));
            assert_eq!(states.last(), Some(&shown), "untimed {untimed}: {states:?}");
            let gil = states.contains(&WorkerState::GilWait);
            assert_eq!(gil, !untimed, "{states:?}");
        }
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
                    untimed: false,
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
