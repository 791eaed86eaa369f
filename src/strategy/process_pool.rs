//! Real OS processes: `processes` (one child per task, like
//! `multiprocessing.Process`, at most `--workers` at once) and `process-pool`
//! (N long-lived children pulling tasks, like `ProcessPoolExecutor`).
//!
//! Each child is parlab's own binary (`parlab worker`), fed tasks over its
//! stdin and sending events and results back over its stdout. Every child is
//! reaped before the run ends; a child that dies fails the run, naming its
//! lane, pid and task.

use super::{spawn_named, Failure, RunCtx, Workers};
use crate::event::{EventKind, LaneId, Probe, WorkerState};
use crate::ipc::{read_frame, write_frame, FromWorker, Hello, ToWorker};
use crate::workload::{CacheInfo, TaskSpec};
use anyhow::{Context, Result};
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use std::collections::VecDeque;
use std::io::{BufReader, BufWriter, Read};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The strategy's one description.
pub const PROCESSES: super::Descriptor = super::Descriptor {
    name: "processes",
    about: "one child process per task, like multiprocessing.Process",
    params: &[],
    workers: super::Workers::PerTask("process"),
    processes: true,
    gil: false,
    knobs: &[],
    bound: None,
    check: super::no_check,
    run,
};

/// The strategy's one description.
pub const DESCRIPTOR: super::Descriptor = super::Descriptor {
    name: "process-pool",
    about: "N long-lived child processes, like ProcessPoolExecutor",
    params: &[],
    workers: super::Workers::Pool,
    processes: true,
    gil: false,
    knobs: &[],
    bound: None,
    check: super::no_check,
    run,
};

/// What a child's reader thread tells the driver.
enum Msg {
    Done {
        worker: usize,
        task: u32,
        output: Result<String, Option<String>>,
    },
    /// The child's stdout closed: `bye` is its goodbye, if it said one.
    Gone {
        worker: usize,
        bye: Option<(u64, Option<CacheInfo>)>,
        received: u64,
    },
}

/// One child process and parlab's side of its pipes.
struct Worker {
    name: String,
    pid: u32,
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    reader: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<String>>,
    /// parlab's own probe on the child's lane: dispatch and collection marks.
    probe: Probe,
    busy: Option<TaskSpec>,
    alive: bool,
}

impl Worker {
    fn spawn(ctx: &Arc<RunCtx>, index: usize, tx: Sender<Msg>) -> Result<Self> {
        let lane: LaneId = ctx.new_lane();
        let name = format!("process-{}", index + 1);
        let spawned_at = ctx.clock.now();
        let mut cmd = Command::new(&ctx.launch.exe);
        if crate::priority::yielding() {
            cmd.env(crate::priority::ENV, "1");
        }
        let mut child = cmd
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| {
                format!("cannot start worker process '{}'", ctx.launch.exe.display())
            })?;
        let pid = child.id();
        let mut stdin = BufWriter::new(child.stdin.take().expect("piped stdin"));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let hello = Hello {
            origin: ctx.clock.origin(),
            lane,
            name: name.clone(),
            spawned_at,
            workload: serde_json::to_string(&ctx.launch.workload)?,
            record_events: ctx.record_events,
        };
        // A child that died at once shows up as `Gone` from its reader below.
        let _ = write_frame(&mut stdin, &ToWorker::Hello(hello));
        let sink = ctx.sink.clone();
        let reader = spawn_named(format!("{name}-reader"), move || {
            let mut out = BufReader::new(stdout);
            let (mut received, mut bye) = (0u64, None);
            while let Ok(Some(msg)) = read_frame::<_, FromWorker>(&mut out) {
                match msg {
                    FromWorker::Events(batch) => {
                        received += batch.len() as u64;
                        sink.deliver(batch);
                    }
                    FromWorker::Done { task, output } => {
                        let _ = tx.send(Msg::Done {
                            worker: index,
                            task,
                            output,
                        });
                    }
                    FromWorker::Bye { sent, cache } => bye = Some((sent, cache)),
                }
            }
            let _ = tx.send(Msg::Gone {
                worker: index,
                bye,
                received,
            });
        })?;
        let stderr = spawn_named(format!("{name}-stderr"), move || {
            let mut s = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut s);
            s
        })?;
        Ok(Self {
            name,
            pid,
            child,
            stdin: Some(stdin),
            reader: Some(reader),
            stderr: Some(stderr),
            probe: ctx.probe(lane),
            busy: None,
            alive: true,
        })
    }

    fn send(&mut self, msg: &ToWorker) -> bool {
        match self.stdin.as_mut() {
            Some(w) => write_frame(w, msg).is_ok(),
            None => false,
        }
    }

    fn dispatch(&mut self, task: TaskSpec) -> bool {
        self.probe.record(EventKind::Dispatched { task: task.id });
        self.probe.flush();
        let ok = self.send(&ToWorker::Task(task.clone()));
        self.busy = Some(task);
        ok
    }

    /// Ask for a goodbye: the child finishes, says how much it sent, and exits.
    fn finish(&mut self) {
        self.send(&ToWorker::Finish);
        self.stdin = None;
    }

    fn kill(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
    }

    /// Reap the child and its threads; returns its exit status and stderr.
    fn reap(&mut self) -> (String, String) {
        let status = self
            .child
            .wait()
            .map(|s| s.to_string())
            .unwrap_or_else(|e| format!("unknown status ({e})"));
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        self.alive = false;
        (status, stderr)
    }
}

/// The driver: spawns children per the strategy, hands out tasks phase by
/// phase, collects results, and reaps every child whatever happens.
struct Driver<'a> {
    ctx: &'a Arc<RunCtx>,
    workers: Vec<Worker>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// `processes`: a child per task, at most this many alive.
    per_task: bool,
    /// The pause state last sent to the children.
    paused: bool,
}

/// Run on child processes.
pub fn run(ctx: &Arc<RunCtx>) -> Result<()> {
    let (tx, rx) = unbounded();
    let mut d = Driver {
        ctx,
        workers: Vec::new(),
        tx,
        rx,
        per_task: matches!(ctx.strategy.workers, Workers::PerTask(_)),
        paused: false,
    };
    let result = d.run_phases();
    d.shut_down();
    result
}

impl Driver<'_> {
    fn run_phases(&mut self) -> Result<()> {
        if !self.per_task {
            for _ in 0..self.ctx.workers {
                let w = Worker::spawn(self.ctx, self.workers.len(), self.tx.clone())?;
                self.workers.push(w);
            }
        }
        for phase in self.ctx.phases() {
            self.run_phase(phase.into())?;
            if self.ctx.control.is_cancelled() {
                break;
            }
        }
        Ok(())
    }

    fn alive(&self) -> usize {
        self.workers.iter().filter(|w| w.alive).count()
    }

    fn run_phase(&mut self, mut pending: VecDeque<TaskSpec>) -> Result<()> {
        loop {
            self.forward_pause();
            if !self.ctx.control.is_cancelled() && !self.paused {
                self.hand_out(&mut pending)?;
            }
            let outstanding = self.workers.iter().filter(|w| w.busy.is_some()).count();
            if outstanding == 0 && (pending.is_empty() || self.ctx.control.is_cancelled()) {
                return Ok(());
            }
            if self.alive() == 0 && outstanding == 0 {
                return Ok(()); // every worker died; their failures are recorded
            }
            match self.rx.recv_timeout(Duration::from_millis(20)) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) if self.ctx.control.is_cancelled() => {
                    // Stop now: kill the children rather than wait for their tasks.
                    for w in self.workers.iter_mut().filter(|w| w.alive) {
                        w.kill();
                    }
                }
                Err(_) => {}
            }
        }
    }

    /// Tell every child when the run is paused or resumed.
    fn forward_pause(&mut self) {
        let now = self.ctx.control.is_paused();
        if now != self.paused {
            self.paused = now;
            for w in self.workers.iter_mut().filter(|w| w.alive) {
                w.send(&ToWorker::Pause(now));
            }
        }
    }

    fn hand_out(&mut self, pending: &mut VecDeque<TaskSpec>) -> Result<()> {
        while !pending.is_empty() {
            let idle = self
                .workers
                .iter()
                .position(|w| w.alive && w.busy.is_none() && w.stdin.is_some());
            let index = match idle {
                Some(i) if !self.per_task => i,
                _ if self.per_task && self.alive() < self.ctx.workers as usize => {
                    let w = Worker::spawn(self.ctx, self.workers.len(), self.tx.clone())?;
                    self.workers.push(w);
                    self.workers.len() - 1
                }
                _ => return Ok(()),
            };
            let task = pending.pop_front().expect("not empty");
            self.workers[index].dispatch(task);
        }
        Ok(())
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Done {
                worker,
                task,
                output,
            } => {
                let w = &mut self.workers[worker];
                w.probe.record(EventKind::Collected { task });
                w.probe.flush();
                let spec = w.busy.take();
                match output {
                    Ok(json) => match serde_json::from_str(&json) {
                        Ok(v) => self.ctx.complete(task, v),
                        Err(e) => self.fail(worker, spec, format!("unreadable result: {e}")),
                    },
                    Err(Some(reason)) => self.fail(worker, spec, reason),
                    Err(None) => {}
                }
                if self.per_task {
                    self.workers[worker].finish();
                }
            }
            Msg::Gone {
                worker,
                bye,
                received,
            } => {
                let (status, stderr) = self.workers[worker].reap();
                let w = &mut self.workers[worker];
                if let Some((pid, cache)) = bye.and_then(|(_, c)| c).map(|c| (w.pid, c)) {
                    self.ctx.reports().process_caches.push((pid, cache));
                }
                let task = w.busy.take();
                let lost = bye.map(|(sent, _)| sent != received).unwrap_or(false);
                if bye.is_none() && !self.ctx.control.is_cancelled() {
                    let last = stderr.lines().last().unwrap_or("").trim().to_string();
                    let why = if last.is_empty() {
                        status
                    } else {
                        format!("{status}: {last}")
                    };
                    self.fail(
                        worker,
                        task,
                        format!("worker process exited unexpectedly ({why})"),
                    );
                } else if lost {
                    self.fail(
                        worker,
                        task,
                        format!("events lost on the pipe: {received} received"),
                    );
                }
            }
        }
    }

    fn fail(&mut self, worker: usize, task: Option<TaskSpec>, reason: String) {
        let w = &mut self.workers[worker];
        w.probe.state(WorkerState::Failed);
        w.probe
            .log(format!("{} (pid {}) failed: {reason}", w.name, w.pid));
        w.probe.flush();
        self.ctx.fail(Failure {
            lane: w.name.clone(),
            pid: w.pid,
            task: task.map(|t| t.name),
            reason,
        });
    }

    /// Say goodbye to every child (or kill it, after a cancel), and reap them all.
    fn shut_down(&mut self) {
        let cancelled = self.ctx.control.is_cancelled();
        for w in self.workers.iter_mut().filter(|w| w.alive) {
            if cancelled {
                w.kill();
            } else {
                w.finish();
            }
        }
        while self.alive() > 0 {
            match self.rx.recv_timeout(Duration::from_secs(5)) {
                Ok(msg) => self.handle(msg),
                Err(_) => {
                    // A child that neither exits nor answers: kill it.
                    for w in self.workers.iter_mut().filter(|w| w.alive) {
                        w.kill();
                        w.reap();
                    }
                }
            }
        }
    }
}
