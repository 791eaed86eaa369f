//! The Amdahl sweep: one workload and strategy at each worker count, the
//! median of K repeats per point, speedup against 1 worker, and the fitted `p`.

use crate::analysis::fit_amdahl;
use crate::clock::ms;
use crate::engine::RunSpec;
use crate::headless;
use crate::UserError;
use anyhow::Result;
use crossbeam_channel::Receiver;
use serde::Serialize;
use serde_json::{json, Value};

/// One measured point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Point {
    pub workers: u32,
    /// Median wall time of the repeats.
    pub wall_ms: f64,
    /// Median wall time at 1 worker ÷ median at this many.
    pub speedup: f64,
    /// Speedup ÷ workers.
    pub efficiency: f64,
}

/// A finished sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub points: Vec<Point>,
    /// The least-squares fit of Amdahl's law, in [0, 1].
    pub p: f64,
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

fn median_wall(spec: &RunSpec, workers: u32, repeat: u32) -> Result<f64> {
    let mut s = spec.clone();
    s.workers = Some(workers);
    let mut walls = Vec::new();
    for _ in 0..repeat.max(1) {
        let f = headless::run(s.clone())?;
        if let Some(x) = f.outcome.failures.first() {
            anyhow::bail!(
                "the run at {workers} workers failed: {} {}",
                x.lane,
                x.reason
            );
        }
        walls.push(ms(f.outcome.wall_ns));
    }
    walls.sort_by(|a, b| a.total_cmp(b));
    Ok(walls[walls.len() / 2])
}

/// Measure a sweep on a thread of its own; each point (or the error that
/// ended it) arrives on the receiver, which disconnects when it is done.
pub fn spawn(spec: RunSpec, grid: Vec<u32>, repeat: u32) -> Receiver<Result<Point, String>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let started = std::thread::Builder::new()
        .name("parlab-sweep".into())
        .spawn({
            let tx = tx.clone();
            move || {
                let out = run(&spec, &grid, repeat, |p| {
                    let _ = tx.send(Ok(*p));
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
    mut on_point: impl FnMut(&Point),
) -> Result<Sweep> {
    if !spec.strategy.desc.takes_workers() {
        let takers: Vec<&str> = crate::strategy::REGISTRY
            .iter()
            .filter(|s| s.takes_workers())
            .map(|s| s.name)
            .collect();
        return Err(UserError::new(format!(
            "a sweep varies the workers, which {} does not take: use {}",
            spec.strategy.name(),
            takers.join(", ")
        ))
        .into());
    }
    let base = median_wall(spec, 1, repeat)?;
    let mut points = Vec::new();
    for &n in grid {
        let wall = if n == 1 {
            base
        } else {
            median_wall(spec, n, repeat)?
        };
        let speedup = base / wall.max(1e-9);
        let point = Point {
            workers: n,
            wall_ms: wall,
            speedup,
            efficiency: speedup / n as f64,
        };
        on_point(&point);
        points.push(point);
    }
    let fit: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.workers as f64, p.speedup))
        .collect();
    Ok(Sweep {
        p: fit_amdahl(&fit),
        points,
    })
}

/// The sweep as one JSON object.
pub fn to_json(spec: &RunSpec, repeat: u32, s: &Sweep) -> Value {
    json!({
        "schema_version": crate::report::SCHEMA_VERSION,
        "workload": spec.workload.name(),
        "strategy": spec.strategy.name(),
        "gil": spec.gil,
        "repeat": repeat,
        "points": s.points,
        "p": s.p,
    })
}

/// The sweep as a table.
pub fn human(spec: &RunSpec, s: &Sweep) -> String {
    let mut out = format!(
        "parlab sweep: {} with {}\n",
        spec.workload.name(),
        spec.strategy.name()
    );
    out += "workers    wall ms   speedup  efficiency  amdahl(p)\n";
    for pt in &s.points {
        out += &format!(
            "{:>7} {:>10.1} {:>9.2} {:>10.0}% {:>10.2}\n",
            pt.workers,
            pt.wall_ms,
            pt.speedup,
            100.0 * pt.efficiency,
            crate::analysis::amdahl(s.p, pt.workers as f64)
        );
    }
    out += &format!("p = {:.2} (least-squares fit of Amdahl's law)\n", s.p);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_grids() {
        assert_eq!(default_grid(2), vec![1, 2, 3, 4]);
        assert_eq!(default_grid(8), (1..=16).collect::<Vec<_>>());
        assert_eq!(default_grid(64), vec![1, 2, 4, 8, 16, 32, 64, 128]);
    }
}
