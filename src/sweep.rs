//! The Amdahl sweep: one workload and strategy at each worker count, K
//! repeats per point (their median, and their spread as min–max), speedup
//! against 1 worker, the fitted `p` with an interval from the repeats (a
//! bootstrap), and each point marked where other programs disturbed it.

use crate::analysis::fit_amdahl;
use crate::clock::ms;
use crate::headless;
use crate::plan::Plan;
use crate::plan::RunSpec;
use crate::recording::Recorder;
use crate::sampler::{Load, Window};
use crate::workload::SplitMix64;
use crate::UserError;
use anyhow::Result;
use crossbeam_channel::Receiver;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One measured point.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    pub workers: u32,
    /// Median wall time of the repeats.
    pub wall_ms: f64,
    /// The fastest and the slowest repeat: the point's spread.
    pub min_ms: f64,
    pub max_ms: f64,
    /// Median wall time at 1 worker ÷ median at this many.
    pub speedup: f64,
    /// Speedup ÷ workers.
    pub efficiency: f64,
    /// Other programs used more than the threshold during a repeat.
    pub disturbed: bool,
    /// Every repeat's wall time, in the order run (the fit's interval comes from them).
    #[serde(rename = "runs_ms")]
    pub walls: Vec<f64>,
}

impl Point {
    /// A point from its repeats (`speedup` against `base_ms`).
    pub fn of(workers: u32, walls: Vec<f64>, base_ms: f64, disturbed: bool) -> Self {
        let wall_ms = median(&walls);
        let speedup = base_ms / wall_ms.max(1e-9);
        Self {
            workers,
            wall_ms,
            min_ms: walls.iter().copied().fold(f64::INFINITY, f64::min),
            max_ms: walls.iter().copied().fold(0.0, f64::max),
            speedup,
            efficiency: speedup / workers as f64,
            disturbed,
            walls,
        }
    }

    /// The speedup at the point's fastest and slowest repeat: its error bar.
    pub fn speedup_range(&self, base_ms: f64) -> (f64, f64) {
        (
            base_ms / self.max_ms.max(1e-9),
            base_ms / self.min_ms.max(1e-9),
        )
    }
}

/// A finished sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub points: Vec<Point>,
    /// The least-squares fit of Amdahl's law, in [0, 1].
    pub p: f64,
    /// The fit's 95 % interval, from resampling each point's repeats.
    pub p_interval: [f64; 2],
}

impl Sweep {
    /// The sweep of these points: Amdahl's law fitted, with its interval.
    pub fn of(points: Vec<Point>) -> Self {
        let fit: Vec<(f64, f64)> = points
            .iter()
            .map(|p| (p.workers as f64, p.speedup))
            .collect();
        Sweep {
            p: fit_amdahl(&fit),
            p_interval: p_interval(&points),
            points,
        }
    }

    /// Whether a disturbed point is among those fitted.
    pub fn fit_disturbed(&self) -> bool {
        self.points.iter().any(|p| p.disturbed)
    }
}

/// 1..=2×cores when that is at most 16 points, else powers of two up to 2×cores.
pub fn default_grid(cores: u32) -> Vec<u32> {
    let top = (2 * cores).max(2);
    if top <= 16 {
        (1..=top).collect()
    } else {
        std::iter::successors(Some(1u32), |&n| (n * 2 <= top).then_some(n * 2)).collect()
    }
}

use crate::repeat::median;

/// Each repeat's wall time at `workers`, and whether any was disturbed.
fn repeats(
    spec: &RunSpec,
    workers: u32,
    repeat: u32,
    threshold: f64,
    record: Option<&Mutex<Recorder>>,
) -> Result<(Vec<f64>, bool)> {
    let mut s = spec.clone();
    s.workers = Some(workers);
    let (mut walls, mut disturbed) = (Vec::new(), false);
    for _ in 0..repeat.max(1) {
        let mut guard = record.map(|r| r.lock().unwrap_or_else(|p| p.into_inner()));
        let f = headless::run_until(s.clone(), || false, threshold, guard.as_deref_mut())?;
        drop(guard);
        if let Some(x) = f.outcome.failures.first() {
            anyhow::bail!(
                "the run at {workers} workers failed: {} {}",
                x.lane,
                x.reason
            );
        }
        walls.push(ms(f.outcome.wall_ns));
        disturbed |= f.load().is_some_and(Load::disturbed);
    }
    Ok((walls, disturbed))
}

/// The sweep that runs make, read back (a recording of `parlab sweep`): one
/// workload and strategy at two or more worker counts, one of them 1, every
/// other setting equal. Each run is (its settings, workers in force, wall
/// time, disturbed). `None` where the runs are not such a sweep.
pub fn from_runs(runs: &[(RunSpec, u32, f64, bool)]) -> Option<(RunSpec, Vec<Point>)> {
    let (first, ..) = runs.first()?;
    let same = |s: &RunSpec| RunSpec {
        workers: None,
        ..s.clone()
    };
    if runs.iter().any(|(s, ..)| same(s) != same(first)) {
        return None;
    }
    let mut grid: Vec<u32> = runs.iter().map(|r| r.1).collect();
    grid.sort_unstable();
    grid.dedup();
    if grid.len() < 2 || grid[0] != 1 {
        return None;
    }
    let at = |n: u32| -> (Vec<f64>, bool) {
        let of_n = runs.iter().filter(|r| r.1 == n);
        (
            of_n.clone().map(|r| r.2).collect(),
            of_n.clone().any(|r| r.3),
        )
    };
    let base = median(&at(1).0);
    let points = grid
        .iter()
        .map(|&n| {
            let (walls, disturbed) = at(n);
            Point::of(n, walls, base, disturbed)
        })
        .collect();
    Some((same(first), points))
}

/// The fit's 95 % interval: refit on 200 resamples of each point's repeats
/// (seeded, so a sweep's interval is reproducible from its walls).
pub fn p_interval(points: &[Point]) -> [f64; 2] {
    let Some(base) = points.iter().find(|p| p.workers == 1) else {
        return [0.0, 1.0];
    };
    let mut rng = SplitMix64::new(0x5eed);
    let mut resample = |walls: &[f64]| -> f64 {
        let drawn: Vec<f64> = (0..walls.len())
            .map(|_| walls[rng.range(0, walls.len() as u64 - 1) as usize])
            .collect();
        median(&drawn)
    };
    let mut fits: Vec<f64> = (0..200)
        .map(|_| {
            let b = resample(&base.walls);
            let pts: Vec<(f64, f64)> = points
                .iter()
                .map(|p| {
                    let w = if p.workers == 1 {
                        b
                    } else {
                        resample(&p.walls)
                    };
                    (p.workers as f64, b / w.max(1e-9))
                })
                .collect();
            fit_amdahl(&pts)
        })
        .collect();
    fits.sort_by(|a, b| a.total_cmp(b));
    [
        fits[fits.len() * 25 / 1000],
        fits[fits.len() * 975 / 1000 - 1],
    ]
}

/// Before timing, wait up to `limit` for other programs to use less than
/// `threshold` cores; the last load measured, and whether it was quiet.
pub fn wait_quiet(limit: Duration, threshold: f64, mut said: impl FnMut(&Load)) -> (Load, bool) {
    let deadline = Instant::now() + limit;
    loop {
        let window = Window::open();
        std::thread::sleep(Duration::from_millis(500));
        let load = window.close(threshold);
        if !load.disturbed() {
            return (load, true);
        }
        if Instant::now() >= deadline {
            return (load, false);
        }
        said(&load);
    }
}

/// A Python program's sweep: `{workers}` in its arguments becomes each
/// worker count; each repeat's wall is the program's own `wall_ms` where it
/// prints one (its interpreter's start left out), else the whole run's.
pub fn run_python(
    plan: &crate::python::PyPlan,
    grid: &[u32],
    repeat: u32,
    threshold: f64,
    record: Option<&Mutex<Recorder>>,
    on_point: impl FnMut(&Point),
) -> Result<Sweep> {
    let program = &plan.program;
    if !program.args.iter().any(|a| a.contains("{workers}")) {
        return Err(UserError::new(
            "a sweep varies the workers: put {workers} in the script's arguments (-- --workers {workers})",
        )
        .into());
    }
    points_of(grid, on_point, |n| {
        let mut p = plan.clone();
        p.program.args = program
            .args
            .iter()
            .map(|a| a.replace("{workers}", &n.to_string()))
            .collect();
        let (mut walls, mut disturbed) = (Vec::new(), false);
        for _ in 0..repeat.max(1) {
            let mut guard = record.map(|r| r.lock().unwrap_or_else(|p| p.into_inner()));
            let window = Window::open();
            let source = Box::new(crate::python::start(p.clone())?);
            let f = headless::drain(
                source,
                || false,
                Some((window, threshold)),
                guard.as_deref_mut(),
            )?;
            drop(guard);
            if let Some(x) = f.outcome.failures.first() {
                anyhow::bail!("the run at {n} workers failed: {} {}", x.lane, x.reason);
            }
            let own = f
                .outcome
                .result
                .as_ref()
                .and_then(|r| r["wall_ms"].as_f64());
            walls.push(own.unwrap_or_else(|| ms(f.outcome.wall_ns)));
            disturbed |= f.load().is_some_and(Load::disturbed);
        }
        Ok((walls, disturbed))
    })
}

/// Measure a sweep on a thread of its own; each point (or the error that
/// ended it) arrives on the receiver, which disconnects when it is done.
pub fn spawn(
    spec: RunSpec,
    grid: Vec<u32>,
    repeat: u32,
    threshold: f64,
    record: Option<Arc<Mutex<Recorder>>>,
) -> Receiver<Result<Point, String>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let started = std::thread::Builder::new()
        .name("parlab-sweep".into())
        .spawn({
            let tx = tx.clone();
            move || {
                let out = run(&spec, &grid, repeat, threshold, record.as_deref(), |p| {
                    let _ = tx.send(Ok(p.clone()));
                });
                if let Err(e) = out {
                    let _ = tx.send(Err(format!("{e:#}")));
                }
            }
        });
    if let Err(e) = started {
        let _ = tx.send(Err(format!("cannot start the sweep: {e}")));
    }
    rx
}

/// Measure every point of `grid`, calling `on_point` as each one lands.
pub fn run(
    spec: &RunSpec,
    grid: &[u32],
    repeat: u32,
    threshold: f64,
    record: Option<&Mutex<Recorder>>,
    on_point: impl FnMut(&Point),
) -> Result<Sweep> {
    if !spec.strategy.desc.takes_workers() {
        let takers = crate::strategy::names_where(|s| s.takes_workers());
        return Err(UserError::new(format!(
            "a sweep varies the workers, which {} does not take: use {}",
            spec.strategy.name(),
            takers.join(", ")
        ))
        .into());
    }
    points_of(grid, on_point, |n| {
        repeats(spec, n, repeat, threshold, record)
    })
}

/// A sweep from a measure of each worker count (its repeats' walls, and
/// whether any was disturbed): 1 worker first, the base of every speedup.
pub fn points_of(
    grid: &[u32],
    mut on_point: impl FnMut(&Point),
    mut measure: impl FnMut(u32) -> Result<(Vec<f64>, bool)>,
) -> Result<Sweep> {
    let (base_walls, base_disturbed) = measure(1)?;
    let base = median(&base_walls);
    let mut points = Vec::new();
    for &n in grid {
        let (walls, disturbed) = if n == 1 {
            (base_walls.clone(), base_disturbed)
        } else {
            measure(n)?
        };
        let point = Point::of(n, walls, base, disturbed);
        on_point(&point);
        points.push(point);
    }
    Ok(Sweep::of(points))
}

/// The sweep as one JSON object.
pub fn to_json(plan: &Plan, repeat: u32, s: &Sweep) -> Value {
    json!({
        "schema_version": crate::report::SCHEMA_VERSION,
        "workload": plan.workload_name(),
        "strategy": plan.strategy_name(),
        "gil": plan.native().is_some_and(|s| s.gil),
        "repeat": repeat,
        "points": s.points,
        "p": s.p,
        "p_interval": s.p_interval,
        "fit_disturbed": s.fit_disturbed(),
    })
}

/// The sweep as a table.
pub fn human(plan: &Plan, s: &Sweep) -> String {
    let mut out = match plan {
        Plan::Native(spec) => format!(
            "parlab sweep: {} with {}\n",
            spec.workload.name(),
            spec.strategy.name()
        ),
        Plan::Python(p) => format!("parlab sweep: {}\n", p.label()),
    };
    out += "workers    wall ms       min–max ms   speedup  efficiency  amdahl(p)\n";
    for pt in &s.points {
        out += &format!(
            "{:>7} {:>10.1} {:>16} {:>9.2} {:>10.0}% {:>10.2}{}\n",
            pt.workers,
            pt.wall_ms,
            format!("{:.1}–{:.1}", pt.min_ms, pt.max_ms),
            pt.speedup,
            100.0 * pt.efficiency,
            crate::analysis::amdahl(s.p, pt.workers as f64),
            if pt.disturbed { "  disturbed" } else { "" }
        );
    }
    out += &format!(
        "p = {:.2}, 95% interval {:.2}–{:.2} (least-squares fit of Amdahl's law; interval from the repeats)\n",
        s.p, s.p_interval[0], s.p_interval[1]
    );
    if s.fit_disturbed() {
        out += "the fit includes disturbed points: other programs used the machine; rerun when it is quieter\n";
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_make_a_sweep_only_with_one_setting_apart_and_a_1_worker_point() {
        let s = RunSpec::new(crate::workload::default(), crate::strategy::default());
        let at = |n: u32, wall: f64| {
            let mut x = s.clone();
            x.workers = Some(n);
            (x, n, wall, false)
        };
        let (_, points) =
            from_runs(&[at(1, 100.0), at(1, 110.0), at(2, 60.0), at(2, 50.0)]).unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!(points[1].workers, 2);
        assert!(
            (points[1].speedup - 110.0 / 60.0).abs() < 1e-9,
            "medians: {points:?}"
        );
        assert!(
            from_runs(&[at(2, 1.0), at(4, 1.0)]).is_none(),
            "no 1-worker point"
        );
        assert!(
            from_runs(&[at(1, 1.0), at(1, 1.0)]).is_none(),
            "one worker count"
        );
        let mut other = at(2, 1.0);
        other.0.gil = true;
        assert!(
            from_runs(&[at(1, 1.0), other]).is_none(),
            "another setting differs"
        );
    }

    use super::*;

    #[test]
    fn the_interval_holds_the_fit_and_narrows_with_agreeing_repeats() {
        let pt = |n: u32, walls: Vec<f64>| Point::of(n, walls, 100.0, false);
        let tight = vec![
            pt(1, vec![100.0, 100.5, 99.5]),
            pt(2, vec![55.0, 55.2, 54.8]),
            pt(4, vec![32.5, 32.6, 32.4]),
        ];
        let loose = vec![
            pt(1, vec![100.0, 140.0, 70.0]),
            pt(2, vec![55.0, 90.0, 40.0]),
            pt(4, vec![32.5, 60.0, 25.0]),
        ];
        let fit = |pts: &[Point]| {
            let v: Vec<(f64, f64)> = pts.iter().map(|p| (p.workers as f64, p.speedup)).collect();
            fit_amdahl(&v)
        };
        let [lo, hi] = p_interval(&tight);
        assert!(lo <= fit(&tight) && fit(&tight) <= hi, "{lo} {hi}");
        let [llo, lhi] = p_interval(&loose);
        assert!(lhi - llo > hi - lo, "loose {llo}-{lhi} vs tight {lo}-{hi}");
        assert_eq!(
            pt(2, vec![50.0, 70.0, 60.0]).speedup_range(100.0),
            (100.0 / 70.0, 2.0)
        );
    }

    #[test]
    fn default_grids() {
        assert_eq!(default_grid(2), vec![1, 2, 3, 4]);
        assert_eq!(default_grid(8), (1..=16).collect::<Vec<_>>());
        assert_eq!(default_grid(64), vec![1, 2, 4, 8, 16, 32, 64, 128]);
    }
}
