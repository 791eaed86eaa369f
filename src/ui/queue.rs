//! The Queue panel: depth over time against the capacity line, put and get
//! rates, and who is blocked right now.

use super::app::App;
use super::chart;
use super::theme::Theme;
use crate::clock::ms;
use crate::event::{Role, WorkerState};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Block, Chart, Paragraph};
use ratatui::Frame;

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lab = &app.lab;
    if !lab.queue.states.is_empty() {
        return states(frame, inner, app, theme);
    }
    let has_queue = lab.queue.capacity.is_some() || lab.queue.puts > 0;
    if !has_queue {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "the queue strategy shows its queue here",
                theme.dim(),
            )),
            inner,
        );
        return;
    }
    // A queue without a known bound (none told us) is drawn to its deepest point.
    let deepest = lab.queue.depth.iter().map(|&(_, d)| d as u64).max();
    let cap = lab.queue.capacity.or(deepest).unwrap_or(1).max(1);
    let now = app.now_ns();
    let (puts, gets) = lab.queue.rates(now);
    // A lane blocked on a full queue is a producer, on an empty one a
    // consumer, whatever its role (a program's threads are just threads).
    let blocked = |state| lab.lanes.iter().filter(|l| l.state == state).count();
    let depth_now = lab.queue.depth_now();
    let mut text = format!("depth {depth_now}/{cap} · puts {puts:.1}/s · gets {gets:.1}/s");
    // Who is blocked, where a queue can block anyone (a cluster's
    // scheduler blocks no one: nothing to say).
    let (full, empty) = (
        blocked(WorkerState::QueueFull),
        blocked(WorkerState::QueueEmpty),
    );
    let roles = lab
        .lanes
        .iter()
        .any(|l| matches!(l.role, Role::Producer | Role::Consumer));
    if roles || full + empty > 0 {
        text += &format!(" · blocked now: {full} producers (full), {empty} consumers (empty)");
    }
    let [top, chart] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(Line::raw(text)), top);
    let points: Vec<(f64, f64)> = lab
        .depth_series(chart.width.max(1) as usize * 2)
        .iter()
        .map(|&(t, d)| (ms(t), d as f64))
        .collect();
    let end = ms(now).max(1.0);
    let capacity = [(0.0, cap as f64), (end, cap as f64)];
    let data = vec![
        chart::line("capacity", theme.state(WorkerState::QueueFull), &capacity),
        chart::line("depth", theme.state(WorkerState::Running), &points),
    ];
    frame.render_widget(over_time(data, end, cap, theme), chart);
}

/// Counts over the run's time, 0 to `end` ms across and 0 to `top` up.
fn over_time<'a>(
    data: Vec<ratatui::widgets::Dataset<'a>>,
    end: f64,
    top: u64,
    theme: &Theme,
) -> Chart<'a> {
    Chart::new(data)
        .x_axis(chart::axis(
            [0.0, end],
            ["0".into(), format!("{end:.0} ms")],
            theme.dim(),
        ))
        .y_axis(chart::axis(
            [0.0, top as f64 * 1.1],
            ["0".into(), top.to_string()],
            theme.dim(),
        ))
}

/// The three states a scheduler's tasks are in, as drawn: a colour and a
/// mark each, so they stay apart without colour.
const STATES: [(&str, WorkerState, Marker); 3] = [
    ("queued", WorkerState::Ready, Marker::Dot),
    ("processing", WorkerState::Running, Marker::Braille),
    ("in memory", WorkerState::Io, Marker::HalfBlock),
];

/// A scheduler's tasks by state over time (a Dask cluster): its census,
/// one line a state.
fn states(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let lab = &app.lab;
    let series = lab.states_series(area.width.max(1) as usize * 2);
    let now = series.last().map(|p| p.1).unwrap_or_default();
    let words: Vec<String> = STATES
        .iter()
        .zip(now)
        .map(|((name, ..), n)| format!("{name} {n}"))
        .collect();
    let text = format!("scheduler's tasks: {}", words.join(" · "));
    let [top, chart] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    frame.render_widget(Paragraph::new(Line::raw(text)), top);
    let lines: Vec<Vec<(f64, f64)>> = (0..STATES.len())
        .map(|i| series.iter().map(|&(t, n)| (ms(t), n[i] as f64)).collect())
        .collect();
    let top_n = series.iter().flat_map(|p| p.1).max().unwrap_or(1).max(1);
    let data = STATES
        .iter()
        .zip(&lines)
        .map(|((name, state, mark), points)| {
            let glyph = match mark {
                Marker::Dot => "•",
                Marker::HalfBlock => "▀",
                _ => "⠒",
            };
            chart::line(format!("{glyph} {name}"), theme.state(*state), points).marker(*mark)
        })
        .collect();
    let end = ms(app.now_ns()).max(1.0);
    let chart_widget = over_time(data, end, top_n, theme)
        .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(3, 4)));
    frame.render_widget(chart_widget, chart);
}
