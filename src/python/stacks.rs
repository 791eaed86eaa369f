//! Each thread's Python call stack, read from outside at a steady rate:
//! where the time goes (the lecture's profiling part), without the
//! program's own cooperation and without pausing it.
//!
//! py-spy's library reads the stacks (non-blocking: it copies the frames
//! while the program runs, so a stack is now and then torn; such a sample
//! is dropped, never guessed). It runs on a thread of its own so a slow
//! read never delays the GIL's readings; the driver maps each sample to a
//! lane and puts it in the event stream.

use crate::clock::Clock;
use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The rate asked for by default, samples a second per thread.
pub const DEFAULT_HZ: u32 = 100;
/// The highest rate one may ask for.
pub const MAX_HZ: u32 = 1000;
/// The share of one core the reader may use at the default rate or below:
/// a round's cost is measured (its thread's own CPU), and rounds come less
/// often when they cost more, whatever makes them dear: many threads,
/// deep stacks, or a machine whose cross-process reads are slow (the same
/// 8 threads took 3.5 % of a core at 100 Hz on one day of this VM, 17 %
/// on another).
pub const CORE_SHARE: f64 = 0.03;
/// A rate asked above the default may cost proportionally more, to this.
const MOST_SHARE: f64 = 0.25;

/// The share of a core the reader may use when asked for `hz`.
pub fn core_share(hz: u32) -> f64 {
    (CORE_SHARE * hz.max(DEFAULT_HZ) as f64 / DEFAULT_HZ as f64).min(MOST_SHARE)
}

/// How long a process has to become readable (its interpreter set up)
/// before parlab says its stacks could not be read.
const ATTACH_FOR: Duration = Duration::from_secs(2);

/// What the reading thread reports, in order.
#[derive(Debug)]
pub enum Taken {
    /// A frame seen for the first time: its number from now on.
    Frame {
        id: u32,
        function: String,
        file: String,
        line: u32,
    },
    /// One thread's stack at `t` (root first); `held`: it held its
    /// interpreter's GIL as the stack was read.
    Sample {
        t: u64,
        pid: u32,
        /// The thread's identity as `threading.get_ident()` gives it.
        ident: u64,
        held: bool,
        frames: Vec<u32>,
    },
    /// A process whose stacks cannot be read, and why.
    Unread { pid: u32, why: String },
}

/// What the reading cost and achieved, once it stops.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Readings of every process taken, and over how long.
    pub rounds: u64,
    pub seconds: f64,
    /// Stacks read that could not be used (torn while the program ran).
    pub torn: u64,
    /// The reading thread's own CPU.
    pub cpu_ns: u64,
    /// The most threads read in one round.
    pub most_threads: usize,
    /// The lowest rate the reader set itself to under its share of a
    /// core (none: it never had to).
    pub slowed_to: Option<f64>,
}

impl Tally {
    /// Rounds a second achieved (none before two rounds).
    pub fn hz(&self) -> Option<f64> {
        (self.rounds > 1 && self.seconds > 0.0).then(|| (self.rounds - 1) as f64 / self.seconds)
    }
}

/// The reading thread: give it pids, take its [`Taken`]s. It sleeps
/// parked between rounds, so stopping it (a flag, then an unpark) ends it
/// at once: a run's end never waits for its next round.
pub struct Stacks {
    pids: Sender<u32>,
    pub taken: Receiver<Taken>,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Tally>,
}

impl Stacks {
    /// Start reading at `hz` rounds a second (each round reads every process).
    pub fn start(hz: u32, clock: Clock) -> std::io::Result<Self> {
        let (pids, pid_rx) = crossbeam_channel::unbounded();
        let (tx, taken) = crossbeam_channel::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::Builder::new()
            .name("parlab-stacks".into())
            .spawn(move || Reader::new(clock, tx).run(hz.clamp(1, MAX_HZ), &pid_rx, &s))?;
        Ok(Self {
            pids,
            taken,
            stop,
            handle,
        })
    }

    /// Read `pid`'s stacks from now on (until it ends).
    pub fn watch(&self, pid: u32) {
        let _ = self.pids.send(pid);
    }

    /// Stop reading; what it cost.
    pub fn stop(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.thread().unpark();
        self.handle.join().unwrap_or_default()
    }
}

/// A process being read, or still to be attached.
struct Target {
    pid: u32,
    spy: Option<py_spy::PythonSpy>,
    since: Instant,
    tried: Option<Instant>,
    /// Reading has failed every time since then (an `exec` into something
    /// that is not the interpreter read before).
    failing: Option<Instant>,
}

impl Target {
    fn new(pid: u32) -> Self {
        Self {
            pid,
            spy: None,
            since: Instant::now(),
            tried: None,
            failing: None,
        }
    }
}

struct Reader {
    clock: Clock,
    tx: Sender<Taken>,
    frames: HashMap<(String, String, i32), u32>,
    tally: Tally,
    /// Stacks read in the round under way, and the CPU it took.
    read: usize,
    spent_ns: u64,
}

impl Reader {
    fn new(clock: Clock, tx: Sender<Taken>) -> Self {
        Self {
            clock,
            tx,
            frames: HashMap::new(),
            tally: Tally::default(),
            read: 0,
            spent_ns: 0,
        }
    }

    fn run(mut self, hz: u32, pids: &Receiver<u32>, stop: &AtomicBool) -> Tally {
        let cpu0 = crate::clock::thread_cpu_ns();
        let Some(mut pace) = super::pace::Pace::new(hz) else {
            return self.tally;
        };
        let mut targets: Vec<Target> = Vec::new();
        let mut first = None;
        let mut budget = super::pace::Share::new(core_share(hz), hz as f64);
        while !stop.load(Ordering::Relaxed) {
            for pid in pids.try_iter() {
                // A pid said again has exec'd a new interpreter: attach afresh.
                targets.retain(|t| t.pid != pid);
                targets.push(Target::new(pid));
            }
            // A process not yet attached is tried every 20 ms whatever the
            // pace (a slowed reader would otherwise try it once in seconds
            // and give up on an interpreter still starting).
            targets.retain_mut(|t| t.spy.is_some() || self.attach(t));
            let now = Instant::now();
            if !pace.due(now) {
                std::thread::park_timeout((pace.next - now).min(Duration::from_millis(20)));
                continue;
            }
            (self.read, self.spent_ns) = (0, 0);
            targets.retain_mut(|t| self.round(t));
            if !targets.iter().any(|t| t.spy.is_some()) {
                continue;
            }
            self.tally.most_threads = self.tally.most_threads.max(self.read);
            if let Some(rate) = budget.after(self.spent_ns, 1) {
                pace.set_hz(rate);
                self.tally.slowed_to = budget.slowed_to();
            }
            let f = *first.get_or_insert(now);
            self.tally.rounds += 1;
            self.tally.seconds = now.duration_since(f).as_secs_f64();
        }
        self.tally.cpu_ns = crate::clock::thread_cpu_ns().saturating_sub(cpu0);
        self.tally
    }

    /// Read one process's stacks (attaching first); false once it is done with.
    fn round(&mut self, target: &mut Target) -> bool {
        if target.spy.is_none() {
            return self.attach(target);
        }
        let Some(spy) = target.spy.as_mut() else {
            return false;
        };
        let t = self.clock.now();
        let cpu = crate::clock::thread_cpu_ns();
        let traces = spy.get_stack_traces();
        self.spent_ns += crate::clock::thread_cpu_ns().saturating_sub(cpu);
        match traces {
            Ok(traces) => {
                target.failing = None;
                self.read += traces.len();
                for trace in traces {
                    self.sample(t, target.pid, trace);
                }
                true
            }
            // Gone: its samples end here.
            Err(_) if !alive(target.pid) => false,
            Err(e) => {
                self.tally.torn += 1;
                let since = *target.failing.get_or_insert_with(Instant::now);
                if since.elapsed() < ATTACH_FOR {
                    return true;
                }
                // Every read failing for long: it is no longer what was attached.
                let _ = self.tx.send(Taken::Unread {
                    pid: target.pid,
                    why: format!("its stacks could no longer be read ({e:#})"),
                });
                false
            }
        }
    }

    /// Attach to `target` (a few tries while its interpreter starts).
    fn attach(&mut self, target: &mut Target) -> bool {
        if target
            .tried
            .is_some_and(|t| t.elapsed() < Duration::from_millis(20))
        {
            return true;
        }
        target.tried = Some(Instant::now());
        let config = py_spy::Config {
            blocking: py_spy::config::LockingStrategy::NonBlocking,
            collect_thread_names: false,
            include_idle: true,
            full_filenames: true,
            ..Default::default()
        };
        match py_spy::PythonSpy::new(target.pid as py_spy::Pid, &config) {
            Ok(spy) => {
                target.spy = Some(spy);
                true
            }
            Err(_) if !alive(target.pid) => false,
            Err(e) if target.since.elapsed() >= ATTACH_FOR => {
                let _ = self.tx.send(Taken::Unread {
                    pid: target.pid,
                    why: format!("{e:#}"),
                });
                false
            }
            Err(_) => true,
        }
    }

    fn sample(&mut self, t: u64, pid: u32, trace: py_spy::StackTrace) {
        // py-spy gives the innermost frame first; a sample is root first.
        // The probe's wrappers are parlab's, not the program's: left out.
        let frames: Vec<u32> = trace
            .frames
            .into_iter()
            .rev()
            .filter(|f| !is_probe(&f.filename))
            .map(|f| self.frame(f))
            .collect();
        if frames.is_empty() {
            return; // a thread between Python calls (starting, ending), or in the probe
        }
        let _ = self.tx.send(Taken::Sample {
            t,
            pid,
            ident: trace.thread_id,
            held: trace.owns_gil,
            frames,
        });
    }

    fn frame(&mut self, f: py_spy::Frame) -> u32 {
        let key = (f.name, f.filename, f.line);
        if let Some(&id) = self.frames.get(&key) {
            return id;
        }
        let id = self.frames.len() as u32;
        let _ = self.tx.send(Taken::Frame {
            id,
            function: key.0.clone(),
            file: key.1.clone(),
            line: key.2.max(0) as u32,
        });
        self.frames.insert(key, id);
        id
    }
}

/// A frame of parlab's probe (`PROBE`'s files, in the run's folder).
fn is_probe(file: &str) -> bool {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    crate::python::PROBE.iter().any(|(n, _)| *n == name)
}

/// Whether `pid` still runs (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()
                    .map(|r| !r.trim_start().starts_with('Z'))
            })
            .unwrap_or(false)
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid as i32, 0) == 0 }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_asked_above_the_default_may_cost_more_up_to_a_quarter_core() {
        assert_eq!(core_share(10), CORE_SHARE);
        assert_eq!(core_share(DEFAULT_HZ), CORE_SHARE);
        assert!((core_share(500) - 5.0 * CORE_SHARE).abs() < 1e-12);
        assert_eq!(core_share(MAX_HZ), MOST_SHARE);
    }
}
