//! The Timeline panel: one lane per worker, time flowing left to right,
//! each state its own colour and glyph, task starts marked.

use super::app::{App, TimelineView};
use super::theme::Theme;
use crate::clock::ms;
use crate::event::WorkerState;
use crate::model::lane::Lane;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// Width of the lane titles.
pub const LABEL: u16 = 30;

/// The time window shown: `(start, cell)` for a strip `width` cells wide.
pub fn window(app: &App, width: u16) -> (u64, u64) {
    // A replay fits its whole recording, so the picture fills in from the left.
    let fit = app.playback.as_ref().map_or(app.now_ns(), |p| p.end_ns);
    let cell = app
        .view
        .cell_ns
        .unwrap_or_else(|| TimelineView::auto_cell(fit, width))
        .max(1);
    let end = if app.view.follow {
        app.now_ns()
    } else {
        app.view.end_ns
    };
    let span = cell * width as u64;
    (end.saturating_sub(span), cell)
}

/// The panel's title: its scale, whether it follows the run, and which
/// lanes it shows when they do not all fit.
pub fn title(app: &App, area: Rect) -> String {
    if app.compare {
        return super::compare::title(app, area);
    }
    let mode = match (&app.playback, app.view.follow) {
        (Some(p), _) => format!("replay of {}", p.file),
        (None, true) => "live".into(),
        (None, false) => "frozen".into(),
    };
    let (_, cell_ns) = window(app, area.width.saturating_sub(LABEL + 3).max(1));
    let zoom = if app.view.cell_ns.is_some() {
        ""
    } else {
        " (fit)"
    };
    let lanes = app.lab.lanes.len();
    let shown = visible(app, Block::bordered().inner(area).height as usize);
    let which = if shown.len() < lanes {
        format!(
            ", lanes {}–{} of {lanes} (↑↓ scroll)",
            shown.start + 1,
            shown.end
        )
    } else {
        String::new()
    };
    let gil = app
        .info
        .as_ref()
        .and_then(|m| m.gil_method(&app.lab, app.outcome.as_ref()))
        .map(|m| format!(", GIL {}", m.name()))
        .unwrap_or_default();
    format!(
        "Timeline  {} ms/cell{zoom}, {mode}{which}{gil}",
        ms(cell_ns)
    )
}

/// The lanes shown in `rows` rows: from the view's first lane, as many as fit.
pub fn visible(app: &App, rows: usize) -> std::ops::Range<usize> {
    let lanes = app.lab.lanes.len();
    let first = app.view.first_lane.min(lanes.saturating_sub(rows));
    first..(first + rows).min(lanes)
}

/// The lane shown on row `y` of a timeline drawn in `area`, for mouse clicks.
pub fn lane_at(app: &App, area: Rect, y: u16) -> Option<usize> {
    let inner = Block::bordered().inner(area);
    if y < inner.y || y >= inner.y + inner.height {
        return None;
    }
    let i = visible(app, inner.height as usize).start + (y - inner.y) as usize;
    (i < app.lab.lanes.len()).then_some(i)
}

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    let block = block.title_bottom(legend(theme));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width <= LABEL + 2 || inner.height == 0 {
        return;
    }
    if app.compare {
        return super::compare::render(frame, inner, app, theme);
    }
    let strip = inner.width - LABEL - 1;
    let (start, cell) = window(app, strip);
    let now = app.now_ns();
    let lab = &app.lab;
    if lab.lanes.is_empty() {
        let hint = if app.running() {
            "starting workers…"
        } else {
            "Enter starts a run"
        };
        frame.render_widget(Paragraph::new(Span::styled(hint, theme.dim())), inner);
        return;
    }
    let shown = visible(app, inner.height as usize);
    for (row, lane) in lab.lanes[shown].iter().enumerate() {
        let y = inner.y + row as u16;
        let strip_at = Rect::new(inner.x, y, inner.width, 1);
        draw_lane(frame, strip_at, lane, (start, cell, now), theme);
    }
}

/// One lane on one row: its title, then a cell per `cell` ns from `start`
/// up to `now`, each the state that filled most of it.
pub fn draw_lane(
    frame: &mut Frame,
    row: Rect,
    lane: &Lane,
    (start, cell, now): (u64, u64, u64),
    theme: &Theme,
) {
    // How long the worker took to start: a thread in microseconds, a process in milliseconds.
    let spawn = lane
        .spawn_ns
        .map(|s| format!(" +{:.2}ms", ms(s)))
        .unwrap_or_default();
    let label = format!("{} pid {}{spawn}", lane.name, lane.pid);
    let label: String = label.chars().take(LABEL as usize).collect();
    frame.render_widget(
        Paragraph::new(Span::styled(label, theme.state(lane.state))),
        Rect::new(row.x, row.y, LABEL.min(row.width), 1),
    );
    let strip = row.width.saturating_sub(LABEL + 1);
    let buf = frame.buffer_mut();
    for c in 0..strip {
        let t0 = start + c as u64 * cell;
        let t1 = t0 + cell;
        if t0 > now {
            break;
        }
        let Some(state) = lane.dominant_state(t0, t1, now) else {
            continue;
        };
        let glyph = if lane.task_began_in(t0, t1) && state != WorkerState::Idle {
            '▌'
        } else {
            state.glyph()
        };
        if let Some(cellref) = buf.cell_mut((row.x + LABEL + 1 + c, row.y)) {
            cellref.set_char(glyph).set_style(theme.state(state));
        }
    }
}

/// Every state's glyph and name, so the lanes read without colour.
fn legend(theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for s in WorkerState::ALL {
        spans.push(Span::styled(
            format!("{} {}", s.glyph(), s.name()),
            theme.state(s),
        ));
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled("▌ task start ", theme.dim()));
    Line::from(spans)
}
