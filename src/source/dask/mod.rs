//! A Dask cluster as a run: `parlab dask tcp://HOST:8786` attaches to a
//! running scheduler and shows its workers' threads as lanes.
//!
//! Nothing of parlab's runs on the cluster. A watcher (`assets/dask/`, a
//! small Python client run with the user's interpreter on parlab's
//! machine) registers two plugins and prints what they see, a JSON object
//! a line; [`cluster`] turns the lines into events. The watcher needs only
//! the scheduler's port, as any client does (through an SSH tunnel too).

pub mod cluster;

use super::{Driven, Meta, Outcome, Source};
use crate::clock::Clock;
use crate::control::Control;
use crate::event::{Batch, Event, EventKind, Outbox};
use crate::plan::About;
use crate::strategy::{Extension, Failure, Figures};
use crate::UserError;
use anyhow::Result;
use cluster::{Cluster, Numbers};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// The watcher, embedded.
pub const WATCHER: &str = include_str!("../../../assets/dask/_parlab_dask.py");

/// What to install where the interpreter has no Dask.
pub const INSTALL: &str = "pip install \"dask[distributed]\" joblib";

/// How long the watcher may take to import Dask and reach the scheduler
/// (it gives up on the scheduler itself after 3 s).
const HELLO_WITHIN: Duration = Duration::from_secs(5);

/// How long the watcher has to take its plugins off the cluster at the end.
const GOODBYE_WITHIN: Duration = Duration::from_secs(3);

const USAGE: &str = "parlab dask [--duration S] [--python PY] tcp://HOST:PORT";

/// What `parlab dask` was asked.
#[derive(Debug, PartialEq)]
pub struct Args {
    pub address: String,
    pub duration: Option<Duration>,
    pub python: String,
}

/// Read `parlab dask`'s words.
pub fn parse(args: &[String]) -> Result<Args, UserError> {
    let mut it = args.iter();
    let (mut address, mut duration, mut python) = (None, None, "python3".to_string());
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| UserError::new(format!("{flag} needs a value: {USAGE}")))
        };
        match a.as_str() {
            "--duration" => {
                let v = value("--duration")?;
                let s: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && s.is_finite())
                    .ok_or_else(|| {
                        UserError::new(format!("--duration {v}: not a number of seconds above 0"))
                    })?;
                duration = Some(Duration::from_secs_f64(s));
            }
            "--python" => python = value("--python")?,
            flag if flag.starts_with('-') => {
                return Err(UserError::new(format!(
                    "{flag}: not a flag of parlab dask (--duration, --python): {USAGE}"
                )))
            }
            word if address.is_none() => address = Some(word.to_string()),
            word => {
                return Err(UserError::new(format!(
                    "{word}: one scheduler address only: {USAGE}"
                )))
            }
        }
    }
    let address = address.ok_or_else(|| UserError::new(format!("which scheduler? {USAGE}")))?;
    if !address.contains("://") && !address.contains(':') {
        return Err(UserError::new(format!(
            "{address}: not a scheduler address (tcp://HOST:PORT)"
        )));
    }
    Ok(Args {
        address,
        duration,
        python,
    })
}

/// `parlab dask ARGS…`: attach, or say in one line why not.
pub fn start(args: &[String]) -> Result<Box<dyn Source>> {
    let args = parse(args)?;
    let clock = Clock::start();
    // The workers there when it attached were there from the run's start.
    let mut watch = Watch::spawn(&args.python, &args.address, clock, Some(0))?;
    let hello = watch.watcher.hello(&args)?;
    let (mut first, mut next) = (Vec::new(), Numbers::default());
    watch
        .cluster
        .line(&hello, clock.now(), &mut next, &mut first);
    let threads: u64 = hello["workers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| w["nthreads"].as_u64().unwrap_or(1))
        .sum();
    let scheduler = hello["scheduler"].as_str().unwrap_or(&args.address);
    let version = hello["version"].as_str().unwrap_or("?");
    let meta = meta(scheduler, version, threads as u32, clock);
    let (tx, events) = crate::inbox::channel();
    let control = Control::new();
    let c = control.clone();
    let driver = std::thread::Builder::new()
        .name("parlab-dask".into())
        .spawn(move || run(watch, next, first, tx, &c, args.duration))?;
    Ok(Box::new(Driven {
        meta,
        events,
        control,
        driver,
    }))
}

fn meta(scheduler: &str, version: &str, threads: u32, clock: Clock) -> Meta {
    Meta {
        source: "dask".into(),
        pid: std::process::id(),
        spec: None,
        program: None,
        about: About {
            workload: "dask".into(),
            strategy: "cluster".into(),
            runner: "dask".into(),
            headline: format!("Dask cluster at {scheduler} (distributed {version})"),
            params: vec![scheduler.to_string()],
            // Its workers are the threads that ran a task, however many
            // joined or left; its tasks those seen.
            program_threads: true,
            ..About::default()
        },
        tasks: Vec::new(),
        workers: threads,
        capacity: None,
        cache_maxsize: None,
        clock,
        started: SystemTime::now(),
    }
}

/// Until stopped, the duration is over or the scheduler is gone: lines in,
/// events out; then the watcher takes its plugins off.
fn run(
    mut watch: Watch,
    mut next: Numbers,
    first: Batch,
    tx: Outbox,
    control: &Control,
    duration: Option<Duration>,
) -> Result<Outcome> {
    let started = Instant::now();
    let clock = watch.watcher.clock;
    let mut sent = first.len() as u64;
    let _ = tx.send(first);
    loop {
        let mut batch = Vec::new();
        watch.poll(Duration::from_millis(20), &mut next, &mut batch);
        if !batch.is_empty() {
            sent += batch.len() as u64;
            let _ = tx.send(batch);
        }
        let over = duration.is_some_and(|d| started.elapsed() >= d);
        if watch.lost.is_some() || over || control.is_cancelled() {
            break;
        }
    }
    let end_ns = clock.now();
    let mut tail = Vec::new();
    let lost = watch.lost.clone();
    let (extension, mut failures) = watch.finish(end_ns, &mut tail);
    // Watched alone, the scheduler going away ends the run: a failure.
    failures.extend(lost.map(|reason| Failure {
        lane: "scheduler".into(),
        pid: 0,
        task: None,
        reason,
    }));
    sent += tail.len() as u64;
    let _ = tx.send(tail);
    Ok(Outcome {
        result: None,
        wall_ns: end_ns,
        end_ns,
        failures,
        cancelled: false,
        events_sent: sent,
        events_dropped: 0,
        machine: None,
        extensions: vec![extension],
        rounds: 1,
        truncated: false,
    })
}

/// A cluster watched: the watcher process and what its lines told so far.
/// `parlab dask` is one; a program under `parlab py` that makes a Dask
/// client gets one beside its own lanes.
pub struct Watch {
    watcher: Watcher,
    cluster: Cluster,
    /// Why the watch ended by itself (the scheduler went away, the watcher stopped).
    pub lost: Option<String>,
}

impl Watch {
    /// Start watching the scheduler at `address` with `python`; the run's
    /// clock is `clock`, and the workers there at the start joined at
    /// `present_at` (None: when the watcher says so).
    pub fn spawn(
        python: &str,
        address: &str,
        clock: Clock,
        present_at: Option<u64>,
    ) -> Result<Self> {
        let origin_unix = unix_now() - clock.now() as f64 / 1e9;
        Ok(Self {
            watcher: Watcher::spawn(python, address, clock)?,
            cluster: Cluster::new(origin_unix, present_at),
            lost: None,
        })
    }

    /// The cluster's view: where a worker is a process parlab already
    /// shows, its tasks are drawn on its threads' lanes.
    pub fn cluster_mut(&mut self) -> &mut Cluster {
        &mut self.cluster
    }

    /// Whether the watcher is on the cluster (its plugins registered).
    pub fn attached(&self) -> bool {
        self.cluster.attached()
    }

    /// The lines that came (waiting up to `wait` for the first), as events;
    /// new lanes and tasks numbered from `next` on.
    pub fn poll(&mut self, wait: Duration, next: &mut Numbers, out: &mut Vec<Event>) {
        let first = match self.watcher.lines.recv_timeout(wait) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => return,
            Err(RecvTimeoutError::Disconnected) => {
                let words = self.watcher.last_words();
                self.lost.get_or_insert(words);
                return;
            }
        };
        let now = self.watcher.clock.now();
        for text in std::iter::once(first).chain(self.watcher.lines.try_iter()) {
            let Ok(msg) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            match msg["k"].as_str() {
                Some("lost" | "missing" | "unreachable") => {
                    let why = msg["text"].as_str().unwrap_or("lost").to_string();
                    self.lost.get_or_insert(why);
                }
                _ => self.cluster.line(&msg, now, next, out),
            }
        }
    }

    /// Take the plugins off and end the watcher: the run's `dask` figures,
    /// and its failures (lanes whose worker left mid-task).
    pub fn finish(mut self, end_ns: u64, out: &mut Vec<Event>) -> (Extension, Vec<Failure>) {
        self.watcher.goodbye();
        if let Some(why) = &self.lost {
            out.push(Event {
                t: end_ns,
                lane: 0,
                kind: EventKind::Log {
                    text: format!("the Dask watch ended: {why}"),
                },
            });
        }
        self.cluster.close(end_ns, out);
        let failures = self.cluster.failures().to_vec();
        let extension = Extension::new(
            Figures::Dask,
            self.cluster.figures(),
            self.cluster.summary(),
        );
        (extension, failures)
    }
}

/// The watcher process: its lines, its input (closed to end it) and its
/// last words on standard error.
struct Watcher {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    errors: Receiver<String>,
    clock: Clock,
    dir: PathBuf,
}

impl Watcher {
    fn spawn(python: &str, address: &str, clock: Clock) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("parlab-dask-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let script = dir.join("_parlab_dask.py");
        std::fs::write(&script, WATCHER)?;
        let mut cmd = Command::new(python);
        cmd.arg("-u")
            .arg(&script)
            .arg(address)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        crate::child::in_own_group(&mut cmd, terminate());
        let mut child = cmd.spawn().map_err(|e| {
            UserError::new(format!(
                "--python {python}: cannot run it ({e}): choose one with --python EXE"
            ))
        })?;
        Ok(Self {
            stdin: child.stdin.take(),
            lines: pipe_lines(child.stdout.take()),
            errors: pipe_lines(child.stderr.take()),
            child,
            clock,
            dir,
        })
    }

    /// The watcher's first line: connected, or why not (a user's error).
    fn hello(&mut self, args: &Args) -> Result<Value> {
        let said = self.lines.recv_timeout(HELLO_WITHIN);
        let msg: Value = said
            .as_deref()
            .ok()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or(Value::Null);
        let text = msg["text"].as_str().unwrap_or_default().to_string();
        let why = match msg["k"].as_str() {
            Some("hello") => return Ok(msg),
            Some("missing") => format!(
                "--python {}: this Python has no Dask ({text}): {INSTALL}",
                args.python
            ),
            Some("unreachable") => format!(
                "{}: no Dask scheduler answered within 3 s ({})",
                args.address,
                text.rsplit(": ").next().unwrap_or(&text)
            ),
            _ if said.is_err() && self.child.try_wait().ok().flatten().is_none() => format!(
                "{}: no word from the scheduler within {} s",
                args.address,
                HELLO_WITHIN.as_secs()
            ),
            _ => format!(
                "--python {}: the Dask watcher stopped ({})",
                args.python,
                self.last_words()
            ),
        };
        self.goodbye();
        Err(UserError::new(why).into())
    }

    /// What it last said on standard error.
    fn last_words(&self) -> String {
        let last = self
            .errors
            .try_iter()
            .filter(|l| !l.trim().is_empty())
            .last();
        last.unwrap_or_else(|| "it said nothing".into())
    }

    /// Close its input (it takes the plugins off and leaves); kill it if
    /// it has not left in time.
    fn goodbye(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let until = Instant::now() + GOODBYE_WITHIN;
        while Instant::now() < until {
            if self.child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        crate::child::kill_group(&mut self.child);
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            crate::child::kill_group(&mut self.child);
            let _ = self.child.wait();
        }
    }
}

/// A pipe's lines on a channel, read by a thread of their own.
fn pipe_lines<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> Receiver<String> {
    let (tx, rx) = crossbeam_channel::unbounded();
    crate::child::each_line(pipe, tx, |text| text);
    rx
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(unix)]
fn terminate() -> i32 {
    libc::SIGTERM
}

#[cfg(not(unix))]
fn terminate() -> i32 {
    15
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn its_words_are_an_address_and_two_flags() {
        assert_eq!(
            parse(&words("--duration 2.5 --python py3 tcp://h:8786")).unwrap(),
            Args {
                address: "tcp://h:8786".into(),
                duration: Some(Duration::from_millis(2500)),
                python: "py3".into()
            }
        );
        for (bad, says) in [
            ("", "which scheduler?"),
            ("--duration x tcp://h:1", "--duration x"),
            ("--duration -1 tcp://h:1", "--duration -1"),
            ("--workers 2 tcp://h:1", "--workers: not a flag"),
            ("tcp://h:1 tcp://g:2", "tcp://g:2: one scheduler"),
            ("nowhere", "nowhere: not a scheduler address"),
            ("--python", "--python needs a value"),
        ] {
            let e = parse(&words(bad)).unwrap_err().to_string();
            assert!(e.starts_with(says), "{bad}: {e}");
        }
    }
}
