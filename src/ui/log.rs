//! The Log panel: the lecture-style log, scrollable (↑/↓ when focused) and
//! filterable by worker (`/`, or a click on a lane).

use super::app::App;
use super::theme::Theme;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lab = &app.lab;
    let filter = app.log_filter.as_deref();
    let lane_name = |id| lab.lane(id).map(|l| l.name.as_str()).unwrap_or("");
    let matching: Vec<&crate::model::LogLine> = lab
        .log
        .iter()
        .filter(|l| filter.is_none_or(|f| l.lane.is_some_and(|id| lane_name(id).contains(f))))
        .collect();
    let prompt = app
        .filter_input
        .as_ref()
        .map(|f| format!("filter by worker: {f}▏ (Enter applies, Esc cancels)"));
    let rows = inner.height as usize - usize::from(prompt.is_some()).min(inner.height as usize);
    let end = matching
        .len()
        .saturating_sub(app.log_scroll.min(matching.len()));
    let mut lines: Vec<Line> = matching[end.saturating_sub(rows)..end]
        .iter()
        .map(|l| {
            let text = lab.log_text(l);
            let style = if text.contains("failed") {
                theme.error()
            } else {
                Style::new()
            };
            Line::styled(text, style)
        })
        .collect();
    if let Some(p) = prompt {
        lines.push(Line::styled(p, theme.selected()));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The Log's title, with its filter and scroll position.
pub fn title(app: &App) -> String {
    let mut t = String::from("Log");
    if let Some(f) = &app.log_filter {
        t += &format!("  worker ~ {f}");
    }
    if app.log_scroll > 0 {
        t += &format!("  ↑{}", app.log_scroll);
    }
    t
}
