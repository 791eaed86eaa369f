//! Headless runs: drain a source's events into the lab, then report.

use crate::engine;
use crate::model::Lab;
use crate::plan::RunSpec;
use crate::recording::Recorder;
use crate::sampler::{Load, Window, DISTURBED_THRESHOLD};
use crate::session::Session;
use crate::source::{Meta, Outcome, Source};
use anyhow::Result;

/// A finished run: what was known at the start, how it ended, and the lab.
pub struct Finished {
    pub meta: Meta,
    /// Its `machine` is the machine over the run: how much of it others used.
    pub outcome: Outcome,
    pub lab: Lab,
    /// Each run's time where the program was run several times (`--repeat`);
    /// this is the last of them.
    pub repeats: Vec<crate::repeat::Timed>,
}

impl Finished {
    /// The machine over the run, where it was measured (a recording cut
    /// short before its end holds none).
    pub fn load(&self) -> Option<&Load> {
        self.outcome.machine.as_ref()
    }

    /// This run's time, as `--repeat` counts it.
    pub fn timed(&self, warmup: bool) -> crate::repeat::Timed {
        crate::repeat::Timed::new(
            self.outcome.result.as_ref(),
            self.outcome.wall_ns,
            self.load().is_some_and(|l| l.disturbed()),
            warmup,
        )
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
    source: Box<dyn Source>,
    stop: impl Fn() -> bool,
    measure: Option<(Window, f64)>,
    mut record: Option<&mut Recorder>,
) -> Result<Finished> {
    let mut lab = Lab::for_run(source.meta());
    if let Some(r) = record.as_deref_mut() {
        r.begin(source.meta());
    }
    let mut session = Session::new(source, measure);
    // A signal is heard between receipts, not only when nothing came: a
    // steady stream of batches never leaves the inbox empty for 50 ms.
    let wait = Some(std::time::Duration::from_millis(50));
    let mut stopping = false;
    let keep = |record: &mut Option<&mut Recorder>, b: &crate::event::Batch| {
        if let Some(r) = record.as_deref_mut() {
            r.events(b);
        }
    };
    while session.pump(&mut lab, wait, |b| keep(&mut record, b)) {
        if let Some(r) = record.as_deref_mut() {
            r.flush_if_old();
        }
        if !stopping && stop() {
            stopping = true;
            session.control().cancel();
        }
    }
    let (meta, outcome) = session.end(&mut lab, |b| keep(&mut record, b))?;
    if let Some(r) = record {
        r.end(&outcome);
    }
    Ok(Finished {
        meta,
        outcome,
        lab,
        repeats: Vec::new(),
    })
}
