//! Headless runs: drain the events into the lab, then report.

use crate::engine::{self, Outcome, RunInfo, RunSpec};
use crate::model::Lab;
use anyhow::Result;

/// A finished run: what was known at the start, how it ended, and the lab.
pub struct Finished {
    pub info: RunInfo,
    pub outcome: Outcome,
    pub lab: Lab,
}

/// Run to the end on this thread, applying every event to a lab.
pub fn run(spec: RunSpec) -> Result<Finished> {
    run_until(spec, || false)
}

/// Run to the end, or until `stop()` says so (a signal): then cancel, and
/// still join every worker and collect what was measured.
pub fn run_until(spec: RunSpec, stop: impl Fn() -> bool) -> Result<Finished> {
    let run = engine::start(spec)?;
    let mut lab = Lab::new(run.info.tasks.clone(), run.info.started);
    // The channel disconnects once every worker has finished and flushed.
    loop {
        match run
            .events
            .recv_timeout(std::time::Duration::from_millis(50))
        {
            Ok(batch) => lab.apply(batch),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if stop() {
                    run.cancel();
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
    }
    let info = run.info.clone();
    let outcome = run.join()?;
    lab.finish(outcome.end_ns.max(lab.now));
    Ok(Finished { info, outcome, lab })
}
