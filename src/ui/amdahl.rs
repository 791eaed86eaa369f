//! The Amdahl panel: the sweep's measured speedups, the ideal line, the fitted
//! curve with its `p`, and Gustafson's line on a toggle (`G`).

use super::app::{App, SweepState};
use super::chart;
use super::theme::Theme;
use crate::analysis::{amdahl, gustafson};
use crate::event::WorkerState;
use crate::sweep::Point;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Chart, LegendPosition, Paragraph};
use ratatui::Frame;

/// The panel's title line: `Amdahl  p = 0.93` once fitted.
pub fn title(app: &App) -> String {
    match app.sweep.as_ref() {
        Some(s) => {
            let p = match (s.p, s.p_interval) {
                (Some(p), Some([lo, hi])) => format!("p = {p:.2} [{lo:.2}, {hi:.2}]"),
                (Some(p), None) => format!("p = {p:.2}"),
                _ => "p = …".into(),
            };
            let p = if s.fit_disturbed() {
                format!("{p} on disturbed points")
            } else {
                p
            };
            let state = if s.running() {
                format!(", measuring {}/{}", s.points.len(), s.grid.len())
            } else {
                String::new()
            };
            format!("Amdahl  {p}{state}")
        }
        None => "Amdahl".into(),
    }
}

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    let Some(s) = &app.sweep else {
        let hint = "w sweeps the current settings over 1..2×cores workers and fits Amdahl's law";
        let para = Paragraph::new(Line::styled(hint, theme.dim()))
            .wrap(ratatui::widgets::Wrap { trim: true });
        frame.render_widget(para.block(block), area);
        return;
    };
    let max_n = s.grid.iter().copied().max().unwrap_or(1).max(2) as f64;
    let c = Curves::of(s, app.gustafson, max_n);
    let fit_name =
        s.p.map(|p| format!("Amdahl p={p:.2}"))
            .unwrap_or_else(|| "Amdahl".into());
    // Each point's spread, fastest to slowest repeat: an error bar, drawn
    // first so the points stay on top.
    let mut data: Vec<_> = c
        .bars
        .iter()
        .map(|bar| chart::segment(theme.state(WorkerState::GilWait), bar))
        .collect();
    data.extend([
        chart::line("ideal", theme.dim(), &c.ideal),
        chart::line(fit_name, theme.state(WorkerState::Running), &c.fitted),
        chart::points("measured", theme.state(WorkerState::GilWait), &c.measured),
    ]);
    if !c.disturbed.is_empty() {
        data.push(chart::points("disturbed", theme.error(), &c.disturbed));
    }
    if !c.gustafson.is_empty() {
        let style = theme.state(WorkerState::QueueEmpty);
        data.push(chart::line("Gustafson", style, &c.gustafson));
    }
    let top = [format!("{max_n:.0}"), format!("{max_n:.0}")];
    let chart = Chart::new(data)
        .block(block)
        .legend_position(Some(LegendPosition::TopLeft))
        .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(3, 4)))
        .x_axis(
            chart::axis([1.0, max_n], ["1".into(), top[0].clone()], theme.dim()).title("workers"),
        )
        .y_axis(
            chart::axis([0.0, max_n], ["0".into(), top[1].clone()], theme.dim()).title("speedup"),
        );
    frame.render_widget(chart, area);
}

/// The panel's data: measured points, and the ideal, fitted and Gustafson curves up to `max_n`.
struct Curves {
    measured: Vec<(f64, f64)>,
    /// The points measured while other programs used the machine.
    disturbed: Vec<(f64, f64)>,
    /// Per point, its speedup at its slowest and fastest repeat.
    bars: Vec<[(f64, f64); 2]>,
    ideal: Vec<(f64, f64)>,
    fitted: Vec<(f64, f64)>,
    gustafson: Vec<(f64, f64)>,
}

impl Curves {
    fn of(s: &SweepState, with_gustafson: bool, max_n: f64) -> Self {
        let curve = |f: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
            (0..=40)
                .map(|i| 1.0 + (max_n - 1.0) * i as f64 / 40.0)
                .map(|n| (n, f(n)))
                .collect()
        };
        let base = s.base_ms().unwrap_or(1.0);
        let at = |p: &&Point| (p.workers as f64, p.speedup);
        Self {
            measured: s
                .points
                .iter()
                .filter(|p| !p.disturbed)
                .map(|p| at(&p))
                .collect(),
            disturbed: s
                .points
                .iter()
                .filter(|p| p.disturbed)
                .map(|p| at(&p))
                .collect(),
            bars: s
                .points
                .iter()
                .filter(|p| p.min_ms < p.max_ms)
                .map(|p| {
                    let (lo, hi) = p.speedup_range(base);
                    [(p.workers as f64, lo), (p.workers as f64, hi)]
                })
                .collect(),
            ideal: curve(&|n| n),
            fitted: s
                .p
                .map(|p| curve(&move |n| amdahl(p, n)))
                .unwrap_or_default(),
            gustafson: match (with_gustafson, s.p) {
                (true, Some(p)) => curve(&move |n| gustafson(p, n)),
                _ => Vec::new(),
            },
        }
    }
}
