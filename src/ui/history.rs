//! The runs the lab has seen (the Runs panel's rows) and a sweep under way.

use crate::analysis::fit_amdahl;
use crate::model::Lab;
use crate::plan::Plan;
use crate::plan::RunSpec;
use crate::recording::RecordedRun;
use crate::sweep::Point;
use crossbeam_channel::Receiver;
use serde_json::Value;
use std::sync::Arc;

/// A finished run, for the Runs panel.
#[derive(Clone, Debug)]
pub struct RunRow {
    /// What it was, whichever source made it.
    pub about: crate::plan::About,
    /// What to run to run it again (`None`: a source that cannot rerun).
    pub plan: Option<Plan>,
    pub workers: u32,
    pub wall_ms: f64,
    /// Events sent by its workers.
    pub events_sent: u64,
    pub ok: bool,
    /// The run as `parlab run --json` prints it, for export.
    pub json: Value,
    /// The machine over the run: how much of it others used.
    pub load: Option<crate::sampler::Load>,
    /// The Runs panel's GIL cell, made once (see [`gil_cell`]).
    pub gil: String,
    /// Its lab at the end, for comparisons.
    pub lab: Arc<Lab>,
    /// The run kept whole (in memory, or read from a file), to replay and export.
    pub recorded: Option<Arc<RecordedRun>>,
    /// The file it was replayed from.
    pub file: Option<String>,
}

impl RunRow {
    /// The GIL was on and applied.
    pub fn gil(&self) -> bool {
        self.about.simulated_gil()
    }

    /// A native run's settings.
    pub fn spec(&self) -> Option<&RunSpec> {
        self.plan.as_ref()?.native()
    }
}

/// The Runs panel's GIL cell for a run's JSON and lab: its workers' mean
/// share holding the GIL and how that is known (`49% measured`, `50%
/// model`: the number first, so a narrow column cuts the word, never the
/// number), `off`, or `none` for a free-threaded Python.
pub fn gil_cell(json: &Value, lab: &Lab) -> String {
    let Some(method) = Some(&json["gil"])
        .filter(|g| g.is_object())
        .and_then(crate::source::GilMethod::of)
    else {
        let free = json["python"]["gil_enabled"] == false;
        return if free { "none" } else { "off" }.into();
    };
    let shares: Vec<f64> = lab
        .gil_shares(method == crate::source::GilMethod::Measured)
        .iter()
        .filter(|s| s.worker && s.life_ns > 0)
        .map(|s| s.held())
        .collect();
    if shares.is_empty() {
        return method.name().into();
    }
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    format!("{:.0}% {}", mean * 100.0, method.name())
}

/// A sweep under way or done.
pub struct SweepState {
    pub spec: RunSpec,
    pub grid: Vec<u32>,
    pub points: Vec<Point>,
    /// The fitted p, once at least two points are in.
    pub p: Option<f64>,
    /// Its 95 % interval from the repeats.
    pub p_interval: Option<[f64; 2]>,
    pub(super) rx: Option<Receiver<Result<Point, String>>>,
}

impl SweepState {
    /// A sweep already measured (a record, or a test), with its fit.
    pub fn finished(spec: RunSpec, grid: Vec<u32>, points: Vec<Point>) -> Self {
        let mut s = Self {
            spec,
            grid,
            points,
            p: None,
            p_interval: None,
            rx: None,
        };
        s.refit();
        s
    }

    /// Fit Amdahl's law to the points in, once there are two.
    pub(super) fn refit(&mut self) {
        let pts: Vec<(f64, f64)> = self
            .points
            .iter()
            .map(|p| (p.workers as f64, p.speedup))
            .collect();
        self.p = (pts.len() >= 2).then(|| fit_amdahl(&pts));
        self.p_interval = self.p.map(|_| crate::sweep::p_interval(&self.points));
    }

    /// The 1-worker point's median, which every speedup divides.
    pub fn base_ms(&self) -> Option<f64> {
        self.points
            .iter()
            .find(|p| p.workers == 1)
            .map(|p| p.wall_ms)
    }

    /// Whether a disturbed point is among those fitted.
    pub fn fit_disturbed(&self) -> bool {
        self.points.iter().any(|p| p.disturbed)
    }

    /// Whether points are still coming.
    pub fn running(&self) -> bool {
        self.rx.is_some()
    }
}
