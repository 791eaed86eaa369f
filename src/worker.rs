//! The worker process: `parlab worker`, started by the process strategies.
//!
//! It reads a [`Hello`] and tasks on stdin and writes events and results on
//! stdout. It exits at once when stdin closes without a goodbye: parlab is
//! gone, and no worker outlives it.

use crate::clock::Clock;
use crate::control::Control;
use crate::event::{Batch, BatchSink, Role};
use crate::ipc::{read_frame, write_frame, FromWorker, Hello, ToWorker};
use crate::strategy::{Launch, OnError, RunCtx, Setup, StrategySpec};
use crate::workload::{self, WorkloadSpec};
use anyhow::{bail, Context, Result};
use std::io::{BufReader, BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The pipe to parlab, shared by the probe and the result messages.
struct Pipe {
    out: Mutex<BufWriter<Stdout>>,
    sent: AtomicU64,
}

impl Pipe {
    fn send(&self, msg: &FromWorker) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if write_frame(&mut *out, msg).is_err() {
            std::process::exit(0); // parlab is gone
        }
    }
}

impl BatchSink for Pipe {
    fn deliver(&self, batch: Batch) {
        let n = batch.len() as u64;
        self.send(&FromWorker::Events(batch));
        self.sent.fetch_add(n, Ordering::Relaxed);
    }
}

/// Serve tasks until parlab says goodbye (or disappears).
pub fn main() -> Result<()> {
    // A terminal's Ctrl-C reaches the whole process group: parlab decides
    // when workers stop (it closes the pipe or kills them), so ignore it here.
    #[cfg(unix)]
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGHUP] {
        let _ =
            signal_hook::flag::register(sig, Arc::new(std::sync::atomic::AtomicBool::new(false)));
    }
    if std::env::var_os(crate::priority::ENV).is_some() {
        crate::priority::set_workers_yield(true);
        crate::priority::lower_this_thread();
    }
    let mut input = BufReader::new(std::io::stdin());
    let hello: Hello = match read_frame(&mut input)? {
        Some(ToWorker::Hello(h)) => h,
        _ => bail!(
            "parlab worker: expected a hello frame on stdin (this command is started by parlab)"
        ),
    };
    let spec: WorkloadSpec = serde_json::from_str(&hello.workload).context("bad workload spec")?;
    let pipe = Arc::new(Pipe {
        out: Mutex::new(BufWriter::new(std::io::stdout())),
        sent: AtomicU64::new(0),
    });
    // One process, one interpreter, one worker thread: a GIL here would never
    // be contended, so none is simulated (as with ProcessPoolExecutor).
    let ctx = RunCtx::new(Setup {
        workload: workload::build(&spec)?,
        strategy: StrategySpec::new(&crate::strategy::sequential::DESCRIPTOR),
        workers: 1,
        clock: Clock::from_origin(hello.origin),
        sink: pipe.clone(),
        record_events: hello.record_events,
        control: Control::new(),
        gil: None,
        on_error: OnError::Continue,
        launch: Launch {
            exe: Default::default(),
            workload: spec,
        },
        duration_ns: None,
    });
    let mut probe = ctx.probe(hello.lane);
    probe.announce(&hello.name, Role::Process, hello.spawned_at);
    probe.flush();
    // A reader thread, so a closed pipe ends the process even mid-task.
    let (tx, rx) = crossbeam_channel::unbounded();
    let pause = ctx.control.clone();
    std::thread::spawn(move || loop {
        match read_frame::<_, ToWorker>(&mut input) {
            // Pausing acts at once, even mid-task: the task's own check points hold.
            Ok(Some(ToWorker::Pause(p))) => pause.set_paused(p),
            Ok(Some(msg)) => {
                let last = msg == ToWorker::Finish;
                if tx.send(msg).is_err() || last {
                    return; // after the goodbye, the closing pipe is expected
                }
            }
            // The pipe from parlab closed without a goodbye: parlab is gone.
            Ok(None) | Err(_) => std::process::exit(0),
        }
    });
    loop {
        match rx.recv() {
            Ok(ToWorker::Task(task)) => {
                ctx.execute(&task, &mut probe, &hello.name);
                probe.flush();
                let output = match ctx.take_output(task.id) {
                    Some(v) => Ok(v.to_string()),
                    None => Err(ctx.take_failures().pop().map(|f| f.reason)),
                };
                pipe.send(&FromWorker::Done {
                    task: task.id,
                    output,
                });
            }
            Ok(ToWorker::Finish) | Err(_) => break,
            Ok(ToWorker::Hello(_)) => bail!("parlab worker: a second hello"),
            Ok(ToWorker::Pause(_)) => {}
        }
    }
    drop(probe);
    let sent = pipe.sent.load(Ordering::Relaxed);
    pipe.send(&FromWorker::Bye {
        sent,
        cache: ctx.workload.cache_info(),
    });
    pipe.out.lock().unwrap_or_else(|e| e.into_inner()).flush()?;
    Ok(())
}
