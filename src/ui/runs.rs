//! The Runs panel: every finished run of this session side by side, with its
//! speedup against the matching sequential run. `r` reruns the selected row,
//! `v` replays it, `m` marks it for comparison (`*`), `e` exports it as
//! `parlab run --json` would print it, `E` as a Chrome trace.

use super::app::{App, RunRow};
use super::theme::Theme;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use ratatui::Frame;

/// The panel's title; what `!` means once a run is marked with it.
pub fn title(app: &App) -> String {
    match app
        .history
        .iter()
        .find_map(|r| r.load.filter(|l| l.disturbed()))
    {
        Some(l) => format!(
            "Runs  (!: others used over {:.2} core: disturbed, rerun)",
            l.threshold
        ),
        None => "Runs".into(),
    }
}

/// One finished run: its settings, wall time, speedup and efficiency against
/// the matching sequential run (`-` until there is one), events sent.
fn row<'a>(app: &App, i: usize, r: &RunRow, theme: &Theme) -> Row<'a> {
    let speedup = app.baseline_of(&r.plan).map(|b| b / r.wall_ms.max(1e-9));
    let cell = |f: &dyn Fn(f64) -> String| speedup.map(f).unwrap_or_else(|| "-".into());
    let style = if r.ok {
        ratatui::style::Style::new()
    } else {
        theme.error()
    };
    let mark = if app.marked.contains(&i) { "*" } else { "" };
    let from = r
        .file
        .as_ref()
        .map(|f| format!(" · {f}"))
        .unwrap_or_default();
    Row::new(vec![
        format!("{}{mark}", i + 1),
        r.plan.workload_name().to_string(),
        format!("{}{from}", r.plan.params()),
        r.plan.strategy_name(),
        r.gil.clone(),
        r.workers.to_string(),
        format!("{:.0}", r.wall_ms),
        cell(&|s| format!("{s:.2}×")),
        // A program that ran no task on a lane of its own has no efficiency to show.
        match r.workers {
            0 => "-".into(),
            n => cell(&|s| format!("{:.0}%", 100.0 * s / n as f64)),
        },
        r.events_sent.to_string(),
        match r.load {
            Some(l) if l.disturbed() => format!("!{:.1}", l.others),
            Some(l) if l.measured() => format!("{:.1}", l.others),
            // Too short to measure, or not measured at all.
            _ => "-".into(),
        },
    ])
    .style(style)
}

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    if app.history.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "finished runs line up here for comparison",
                theme.dim(),
            ))
            .block(block),
            area,
        );
        return;
    }
    let rows: Vec<Row> = app
        .history
        .iter()
        .enumerate()
        .map(|(i, r)| row(app, i, r, theme))
        .collect();
    let widths = [
        Constraint::Length(3),
        Constraint::Length(8),
        Constraint::Min(10),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(6),
    ];
    let header = Row::new([
        "#", "workload", "params", "strategy", "GIL", "wkrs", "wall ms", "speedup", "eff",
        "events", "others",
    ])
    .style(theme.accent());
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .row_highlight_style(theme.selected());
    let mut state =
        TableState::default().with_selected(Some(app.selected_run.min(app.history.len() - 1)));
    frame.render_stateful_widget(table, area, &mut state);
}
