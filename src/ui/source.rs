//! The Source view (`o`): the Python program being run, as it is, with line
//! numbers, over the lab. Lecture programs are read from the binary; a
//! script from a file is read as it is loaded (the lab opening on it, a
//! preset, a rerun, a replay).

use super::app::App;
use super::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

/// The text of the program Enter runs, where it is known.
pub fn text(app: &App) -> Option<&str> {
    let p = app.program.as_ref()?;
    match p.script.strip_prefix("lecture:") {
        Some(name) => crate::lecture::find(name).map(|s| s.source),
        None => app.program_text.as_deref(),
    }
}

/// Draw the view: as many lines as fit from the scroll offset.
pub fn overlay(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(first) = app.source_view else { return };
    let r = Rect::new(
        area.x + 2,
        area.y + 1,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    let title = match &app.program {
        Some(p) => format!(" Source: {}  (↑↓ PgUp PgDn scroll, Esc closes) ", p.script),
        None => " Source ".into(),
    };
    let lines: Vec<Line> = match text(app) {
        Some(t) => t
            .lines()
            .enumerate()
            .skip(first)
            .take(r.height.saturating_sub(2) as usize)
            .map(|(i, l)| {
                Line::from(vec![
                    Span::styled(format!("{:>4} ", i + 1), theme.dim()),
                    Span::raw(l.to_string()),
                ])
            })
            .collect(),
        None => vec![Line::styled(
            match &app.program {
                Some(p) => format!("{}: its text could not be read", p.script),
                None => "no program loaded: parlab tui py SCRIPT opens the lab on one".into(),
            },
            theme.dim(),
        )],
    };
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(Span::styled(title, theme.accent()))),
        r,
    );
}
