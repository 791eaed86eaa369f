//! The Amdahl panel: the sweep's measured speedups, the ideal line, the fitted
//! curve with its `p`, and Gustafson's line on a toggle (`G`).

use super::app::App;
use super::theme::Theme;
use crate::analysis::{amdahl, gustafson};
use crate::event::WorkerState;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition, Paragraph};
use ratatui::Frame;

/// The panel's title line: `Amdahl  p = 0.93` once fitted.
pub fn title(app: &App) -> String {
    match app.sweep.as_ref() {
        Some(s) => {
            let p =
                s.p.map(|p| format!("p = {p:.2}"))
                    .unwrap_or_else(|| "p = …".into());
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
    let measured: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|p| (p.workers as f64, p.speedup))
        .collect();
    let curve = |f: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
        (0..=40)
            .map(|i| 1.0 + (max_n - 1.0) * i as f64 / 40.0)
            .map(|n| (n, f(n)))
            .collect()
    };
    let ideal = curve(&|n| n);
    let fitted =
        s.p.map(|p| curve(&move |n| amdahl(p, n)))
            .unwrap_or_default();
    let gus = match (app.gustafson, s.p) {
        (true, Some(p)) => curve(&move |n| gustafson(p, n)),
        _ => Vec::new(),
    };
    let mut data = vec![
        Dataset::default()
            .name("ideal")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.dim())
            .data(&ideal),
        Dataset::default()
            .name(
                s.p.map(|p| format!("Amdahl p={p:.2}"))
                    .unwrap_or_else(|| "Amdahl".into()),
            )
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.state(WorkerState::Running))
            .data(&fitted),
        Dataset::default()
            .name("measured")
            .marker(Marker::Block)
            .graph_type(GraphType::Scatter)
            .style(theme.state(WorkerState::GilWait))
            .data(&measured),
    ];
    if !gus.is_empty() {
        data.push(
            Dataset::default()
                .name("Gustafson")
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.state(WorkerState::QueueEmpty))
                .data(&gus),
        );
    }
    let chart = Chart::new(data)
        .block(block)
        .legend_position(Some(LegendPosition::TopLeft))
        .hidden_legend_constraints((
            ratatui::layout::Constraint::Ratio(1, 2),
            ratatui::layout::Constraint::Ratio(1, 2),
        ))
        .x_axis(
            Axis::default()
                .title("workers")
                .bounds([1.0, max_n])
                .labels(["1".to_string(), format!("{max_n:.0}")])
                .style(theme.dim()),
        )
        .y_axis(
            Axis::default()
                .title("speedup")
                .bounds([0.0, max_n])
                .labels(["0".to_string(), format!("{max_n:.0}")])
                .style(theme.dim()),
        );
    frame.render_widget(chart, area);
}
