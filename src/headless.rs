//! Headless runs: drain a source's events into the lab, then report.

use crate::engine::{self, RunSpec};
use crate::model::Lab;
use crate::sampler::{Load, Window, DISTURBED_THRESHOLD};
use crate::source::{Meta, Outcome, Source};
use anyhow::Result;

/// A finished run: what was known at the start, how it ended, and the lab.
pub struct Finished {
    pub meta: Meta,
    pub outcome: Outcome,
    pub lab: Lab,
    /// The machine over the run: how much of it others used.
    pub load: Load,
}

/// Run natively to the end on this thread, applying every event to a lab.
pub fn run(spec: RunSpec) -> Result<Finished> {
    run_until(spec, || false, DISTURBED_THRESHOLD)
}

/// Run natively to the end, or until `stop()` says so (a signal); others
/// using more than `threshold` cores mark it disturbed.
pub fn run_until(spec: RunSpec, stop: impl Fn() -> bool, threshold: f64) -> Result<Finished> {
    let window = Window::open();
    drain(Box::new(engine::start(spec)?), stop, window, threshold)
}

/// Drain any source to its end, or until `stop()` says so: then stop it,
/// and still collect what was measured (every worker joined).
pub fn drain(
    source: Box<dyn Source>,
    stop: impl Fn() -> bool,
    window: Window,
    threshold: f64,
) -> Result<Finished> {
    let mut lab = Lab::for_run(source.meta());
    // The channel disconnects once every worker has finished and flushed.
    loop {
        match source
            .events()
            .recv_timeout(std::time::Duration::from_millis(50))
        {
            Ok(batch) => lab.apply(batch),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if stop() {
                    source.control().cancel();
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
    }
    let meta = source.meta().clone();
    let outcome = source.join()?;
    let load = window.close(threshold);
    lab.finish(outcome.end_ns.max(lab.now));
    Ok(Finished {
        meta,
        outcome,
        lab,
        load,
    })
}
