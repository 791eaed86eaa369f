//! A Python program as a [`Source`]: started in a process group of its own
//! with the probe on its path; a driver thread reads every process's ring,
//! the program's output and (on Linux) each thread's run state, and turns
//! them into the lab's events; the end is its exit, with what the probe
//! left (the interpreter, caches, queues, failures).

use super::ring::{kind, Record, Ring};
use super::{source_of, PyPlan, Source as ScriptSource};
use crate::clock::Clock;
use crate::control::Control;
use crate::event::{Batch, Event, EventKind, LaneId, Role, WorkerState};
use crate::source::{Meta, Outcome};
use crate::strategy::{Extension, Failure};
use anyhow::{Context, Result};
use crossbeam_channel::Sender;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How often the driver looks at the rings and the output (the lab draws at 30 fps).
const TICK: Duration = Duration::from_millis(5);
/// How often it looks for new processes' rings.
const SCAN: Duration = Duration::from_millis(50);
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
    let (tx, rx) = crossbeam_channel::unbounded();
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
            let out = Driver::new(clock, tx, dir.clone(), child.id()).run(child, &ctl, p.timeout);
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

/// What the driver knows of one thread.
struct Thread {
    lane: LaneId,
    /// Blocking calls the probe reported, outermost first.
    waits: Vec<WorkerState>,
    /// On a CPU or not, as last sampled.
    on_cpu: bool,
    shown: WorkerState,
    ended: bool,
}

impl Thread {
    /// The outermost wait is the reason (a queue's get waits on a condition
    /// inside: it is the queue that is empty).
    fn state(&self) -> WorkerState {
        match self.waits.first() {
            Some(&w) => w,
            None if self.on_cpu => WorkerState::Running,
            None => WorkerState::Idle,
        }
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
    tx: Sender<Batch>,
    dir: PathBuf,
    root: u32,
    rings: HashMap<u32, Ring>,
    threads: HashMap<(u32, u64), Thread>,
    next_lane: LaneId,
    tasks: HashMap<(u32, u32), u32>,
    next_task: u32,
    first_queue: Option<(u32, u32)>,
    /// The first queue's traffic: puts, gets, deepest, who put, who got.
    queue_stats: QueueStats,
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
}

impl Driver {
    fn new(clock: Clock, tx: Sender<Batch>, dir: PathBuf, root: u32) -> Self {
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
            queue_stats: QueueStats::default(),
            batch: Vec::new(),
            sent: 0,
            last_stdout: None,
            last_stderr: None,
            names: HashMap::new(),
            reader_cpu_ns: 0,
            sampler_cpu_ns: 0,
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
        let (mut last_scan, mut last_sample, mut stopping, mut cancelled, mut timed_out) = (
            Instant::now() - SCAN,
            Instant::now(),
            None::<Instant>,
            false,
            false,
        );
        let status = loop {
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
            std::thread::sleep(TICK);
        };
        let end = self.clock.now();
        // Whatever the program left running in its group goes with it.
        crate::child::kill_group(&mut child);
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

    fn read_rings(&mut self) {
        let mut records = Vec::new();
        let pids: Vec<u32> = self.rings.keys().copied().collect();
        for pid in pids {
            records.clear();
            if let Some(r) = self.rings.get_mut(&pid) {
                r.read(&mut records);
            }
            for r in records.drain(..) {
                self.record(pid, r);
            }
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
                self.threads.insert(
                    key,
                    Thread {
                        lane,
                        waits: Vec::new(),
                        on_cpu: false,
                        shown: WorkerState::Idle,
                        ended: false,
                    },
                );
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
                    let lane = th.lane;
                    self.push(t, lane, EventKind::LaneEnd);
                }
            }
            kind::TASK_START => {
                let Some(lane) = self.threads.get(&key).map(|th| th.lane) else {
                    return;
                };
                let task = self.next_task;
                self.next_task += 1;
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
            }
            kind::ENTER | kind::LEAVE => {
                let Some(th) = self.threads.get_mut(&key) else {
                    return;
                };
                let state = WorkerState::ALL
                    .get(r.state as usize)
                    .copied()
                    .unwrap_or(WorkerState::Idle);
                if r.kind == kind::ENTER {
                    th.waits.push(state);
                } else if let Some(at) = th.waits.iter().rposition(|&w| w == state) {
                    th.waits.remove(at);
                }
                self.show(key, t);
            }
            kind::QUEUE_NEW if self.first_queue.is_none() => {
                self.first_queue = Some((pid, r.a));
                if let Some(lane) = self.threads.get(&key).map(|th| th.lane) {
                    self.push(t, lane, EventKind::QueueBound { capacity: r.b });
                }
            }
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
            kind::QUEUE_DEPTH => {
                let Some(lane) = self.threads.get(&key).map(|th| th.lane) else {
                    return;
                };
                if self.first_queue == Some((pid, r.a)) {
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

    /// Each live thread on a CPU or not, from the OS (Linux: /proc).
    fn sample(&mut self) {
        if !cfg!(target_os = "linux") {
            return;
        }
        let t = self.clock.now();
        let keys: Vec<(u32, u64)> = self
            .threads
            .iter()
            .filter(|(_, th)| !th.ended)
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            let path = format!("/proc/{}/task/{}/stat", key.0, key.1);
            let Ok(stat) = std::fs::read_to_string(path) else {
                continue;
            };
            // The state follows the command's closing parenthesis.
            let running = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                == Some('R');
            if let Some(th) = self.threads.get_mut(&key) {
                th.on_cpu = running;
            }
            self.show(key, t);
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
        extensions.push(python);
        extensions.extend(cache_extension(&exits));
        extensions.extend(queue_extensions(&exits, &self.queue_stats));
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

/// The first queue's traffic, as the probe reported it.
#[derive(Default)]
struct QueueStats {
    puts: u64,
    gets: u64,
    max_depth: u32,
    putters: std::collections::BTreeSet<LaneId>,
    getters: std::collections::BTreeSet<LaneId>,
}

/// The program's first queue.Queue as `queue`, and all of them as `queues`.
fn queue_extensions(exits: &[(u32, Value)], stats: &QueueStats) -> Vec<Extension> {
    let queues: Vec<Value> = exits
        .iter()
        .flat_map(|(pid, v)| {
            v["queues"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |mut q| {
                    q["pid"] = json!(pid);
                    q
                })
        })
        .collect();
    let Some(first) = queues.first() else {
        return Vec::new();
    };
    let capacity = match first["maxsize"].as_u64() {
        Some(0) | None => Value::Null,
        Some(n) => json!(n),
    };
    let discipline = match first["kind"].as_str() {
        Some("LifoQueue") => "lifo",
        Some("PriorityQueue") => "priority",
        _ => "fifo",
    };
    let queue = Extension {
        key: "queue".into(),
        json: json!({
            "kind": first["kind"],
            "discipline": discipline,
            "capacity": capacity,
            "producers": stats.putters.len(),
            "consumers": stats.getters.len(),
            "max_depth": stats.max_depth,
            "produced": stats.puts,
            "consumed": stats.gets,
            "final_depth": first["depth"],
        }),
        summary: vec![format!(
            "{} of maxsize {}, {} left at the end",
            first["kind"].as_str().unwrap_or("Queue"),
            first["maxsize"],
            first["depth"]
        )],
    };
    let all = Extension {
        key: "queues".into(),
        json: Value::Array(queues.clone()),
        summary: vec![format!(
            "{} queue{}",
            queues.len(),
            if queues.len() == 1 { "" } else { "s" }
        )],
    };
    vec![queue, all]
}

/// Each line of a pipe, stamped as it arrives.
fn read_lines<R: Read + Send + 'static>(
    pipe: Option<R>,
    err: bool,
    clock: Clock,
    tx: Sender<Line>,
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
