//! The status bar (always visible) and the Help overlay (`?`).

use super::app::App;
use super::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

/// Every key, as the Help overlay lists it.
pub const KEYS: [(&str, &str); 22] = [
    ("Enter", "start a run (or the loaded preset's runs)"),
    ("s", "stop the run"),
    ("p", "pause / resume the run itself"),
    ("Space", "freeze the view (the run goes on)"),
    ("1-9", "load a preset: the lecture's demos"),
    ("Tab / Shift-Tab", "move between panels (tabs when small)"),
    ("arrows", "inside a panel: settings, scroll, select"),
    ("+ / -", "more or fewer workers"),
    ("g", "simulated GIL on or off"),
    ("w", "sweep 1..2×cores workers, fit Amdahl's law"),
    ("G", "Gustafson's line on the Amdahl panel"),
    ("z / x", "zoom the timeline in or out"),
    ("PgUp / PgDn", "scroll the timeline back or forward"),
    ("/", "filter the log by worker"),
    ("r", "rerun the selected run (Runs panel)"),
    ("e", "export the run as JSON"),
    ("mouse", "click a panel to focus it, a lane to filter"),
    ("", "the log by it, a tab to switch"),
    ("?", "this help"),
    ("Esc", "close an overlay or prompt"),
    ("q, Ctrl-C", "quit: stops the run, reaps every worker"),
    ("", "NO_COLOR is honoured; glyphs mark every state"),
];

/// The main keys and the run's state.
pub fn status(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let state = if app.paused() {
        "⏸ paused"
    } else if app.running() {
        "● running"
    } else if app.sweep.as_ref().is_some_and(|s| s.running()) {
        "◌ sweeping"
    } else {
        "○ idle"
    };
    let mut keys = String::from(" Enter start · s stop · p pause · Tab panel · arrows · +/- workers · g GIL · w sweep · 1-6 presets");
    for k in app.run.iter().flat_map(|r| r.control().knobs()) {
        keys += &format!(" · {}/{} {}", k.down, k.up, k.what);
    }
    keys += " · ? help · q quit";
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" {state} "), theme.selected()),
            Span::raw(keys),
        ])),
        area,
    );
}

/// Every key, in an overlay titled Help.
pub fn overlay(frame: &mut Frame, area: Rect, theme: &Theme) {
    let w = 66.min(area.width);
    let knobs = knob_lines();
    let h = ((KEYS.len() + knobs.len()) as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(knobs)
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:>16}  "), theme.accent()),
                Span::raw(v),
            ])
        })
        .collect();
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(" Help ", theme.accent()))),
        r,
    );
}

/// Each strategy's live knobs: `[ / ]  queue: producer rate down / up`.
fn knob_lines() -> Vec<(String, String)> {
    crate::strategy::REGISTRY
        .iter()
        .flat_map(|s| {
            s.knobs.iter().map(move |k| {
                (
                    format!("{} / {}", k.down, k.up),
                    format!("{}: {} down / up", s.name, k.what),
                )
            })
        })
        .collect()
}
