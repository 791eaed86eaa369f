//! A run under way, drained into a lab: the one loop that headless runs,
//! sweeps and the live lab share. It owns the source and the window over
//! which the machine is measured; the caller owns the lab (the lab's view
//! also shows replays) and sees each batch first, to keep it.

use crate::control::Control;
use crate::event::Batch;
use crate::inbox::Empty;
use crate::model::Lab;
use crate::sampler::Window;
use crate::source::{Meta, Outcome, Source};
use anyhow::Result;
use std::time::Duration;

/// A source being drained.
pub struct Session {
    source: Box<dyn Source>,
    /// Where this process measures the machine, with the disturbed
    /// threshold, for a source that does not bring its own figures.
    measure: Option<(Window, f64)>,
}

impl Session {
    /// Drain `source`; the machine measured from `measure`'s window on.
    pub fn new(source: Box<dyn Source>, measure: Option<(Window, f64)>) -> Self {
        Self { source, measure }
    }

    /// What is known of the run as it started.
    pub fn meta(&self) -> &Meta {
        self.source.meta()
    }

    /// Stop, pause and the live knobs.
    pub fn control(&self) -> &Control {
        self.source.control()
    }

    /// The source has ended: every event is in its inbox.
    pub fn is_finished(&self) -> bool {
        self.source.is_finished()
    }

    /// Apply what has arrived to `lab`, each batch shown to `keep` first;
    /// with `wait`, wait that long for the first. False once the source
    /// has disconnected (every event taken).
    pub fn pump(
        &mut self,
        lab: &mut Lab,
        wait: Option<Duration>,
        keep: impl FnMut(&Batch),
    ) -> bool {
        let events = self.source.events();
        let batches = match wait {
            None => events.try_recv_all(),
            Some(d) => match events.recv_timeout(d) {
                Ok(batches) => batches,
                Err(Empty::Timeout) => Vec::new(),
                Err(Empty::Disconnected) => return false,
            },
        };
        self.apply(lab, batches, keep);
        true
    }

    /// The end: what is left applied to `lab`, the source joined, the
    /// machine over the run set where the source did not measure it.
    pub fn end(mut self, lab: &mut Lab, keep: impl FnMut(&Batch)) -> Result<(Meta, Outcome)> {
        let rest = self.source.events().drain();
        self.apply(lab, rest, keep);
        let meta = self.source.meta().clone();
        let mut outcome = self.source.join()?;
        if outcome.machine.is_none() {
            outcome.machine = self.measure.map(|(w, threshold)| w.close(threshold));
        }
        lab.finish(outcome.end_ns.max(lab.now));
        Ok((meta, outcome))
    }

    fn apply(&mut self, lab: &mut Lab, batches: Vec<Batch>, mut keep: impl FnMut(&Batch)) {
        for mut batch in batches {
            keep(&batch);
            lab.apply_from(&mut batch);
            self.source.events().recycle(batch);
        }
    }
}
