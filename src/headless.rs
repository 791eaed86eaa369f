//! Headless runs: drain a source's events into the lab, then report.

use crate::engine;
use crate::inbox::Empty;
use crate::model::Lab;
use crate::plan::RunSpec;
use crate::recording::Recorder;
use crate::sampler::{Load, Window, DISTURBED_THRESHOLD};
use crate::source::{Meta, Outcome, Source};
use anyhow::Result;

/// A finished run: what was known at the start, how it ended, and the lab.
pub struct Finished {
    pub meta: Meta,
    /// Its `machine` is the machine over the run: how much of it others used.
    pub outcome: Outcome,
    pub lab: Lab,
}

impl Finished {
    /// The machine over the run, where it was measured (a recording cut
    /// short before its end holds none).
    pub fn load(&self) -> Option<&Load> {
        self.outcome.machine.as_ref()
    }
}

/// Run natively to the end on this thread, applying every event to a lab.
pub fn run(spec: RunSpec) -> Result<Finished> {
    run_until(spec, || false, DISTURBED_THRESHOLD, None)
}

/// Run natively to the end, or until `stop()` says so (a signal); others
/// using more than `threshold` cores mark it disturbed; every event is
/// kept in `record` too, where there is one.
pub fn run_until(
    spec: RunSpec,
    stop: impl Fn() -> bool,
    threshold: f64,
    record: Option<&mut Recorder>,
) -> Result<Finished> {
    let window = Window::open();
    let source = Box::new(engine::start(spec)?);
    drain(source, stop, Some((window, threshold)), record)
}

/// Drain any source to its end, or until `stop()` says so: then stop it,
/// and still collect what was measured (every worker joined). `measure`:
/// the window over which this process measures the machine, for a source
/// that does not bring its own figures.
pub fn drain(
    mut source: Box<dyn Source>,
    stop: impl Fn() -> bool,
    measure: Option<(Window, f64)>,
    mut record: Option<&mut Recorder>,
) -> Result<Finished> {
    let mut lab = Lab::for_run(source.meta());
    if let Some(r) = record.as_deref_mut() {
        r.begin(source.meta());
    }
    // The inbox disconnects once every worker has finished and flushed.
    // A signal is heard between receipts, not only when nothing came: a
    // steady stream of batches never leaves the inbox empty for 50 ms.
    let mut stopping = false;
    loop {
        match source
            .events()
            .recv_timeout(std::time::Duration::from_millis(50))
        {
            Ok(batches) => {
                for mut batch in batches {
                    if let Some(r) = record.as_deref_mut() {
                        r.events(&batch);
                    }
                    lab.apply_from(&mut batch);
                    source.events().recycle(batch);
                }
            }
            Err(Empty::Timeout) => {}
            Err(Empty::Disconnected) => break,
        }
        if let Some(r) = record.as_deref_mut() {
            r.flush_if_old();
        }
        if !stopping && stop() {
            stopping = true;
            source.control().cancel();
        }
    }
    let meta = source.meta().clone();
    let mut outcome = source.join()?;
    if outcome.machine.is_none() {
        outcome.machine = measure.map(|(w, threshold)| w.close(threshold));
    }
    if let Some(r) = record {
        r.end(&outcome);
    }
    lab.finish(outcome.end_ns.max(lab.now));
    Ok(Finished { meta, outcome, lab })
}
