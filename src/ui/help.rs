//! The status bar (always visible) and the Help overlay (`?`).

use super::app::App;
use super::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

/// Every key, as the Help overlay lists it.
pub const KEYS: [(&str, &str); 27] = [
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
    ("v", "replay the selected run (Runs panel)"),
    ("m / c", "mark 2-4 runs (Runs panel) / compare them"),
    (
        "n",
        "the caption of the moment under the Timeline, in words",
    ),
    ("e / E", "export the run as JSON / as a Chrome trace"),
    ("R", "record every run to a file; R again stops"),
    ("o", "the Python program's source (parlab tui py)"),
    (
        "h",
        "a program's helper threads and processes (no task of their own): unfold or fold",
    ),
    ("mouse", "click a panel, a lane (filters the log), a tab"),
    ("?", "this help"),
    ("Esc", "close an overlay, a prompt or the comparison"),
    ("q, Ctrl-C", "quit: stops the run, reaps every worker"),
    ("", "NO_COLOR is honoured; glyphs mark every state"),
];

/// The keys of a replay, listed first in its help.
pub const REPLAY_KEYS: [(&str, &str); 6] = [
    ("Space / p", "replay: play or pause"),
    ("{ / }", "replay: slower / faster (0.25× to 16×)"),
    (", / .", "replay: one event back / forward"),
    ("← / →", "replay: seek 1 s back / on (Timeline)"),
    ("Home / End", "replay: go to the start / the end"),
    (":", "replay: go to a time typed (2.5, 1500ms, 1:02)"),
];

/// The keys of a lesson, listed first in its help.
pub const LESSON_KEYS: [(&str, &str); 4] = [
    (
        "Enter / PgDn",
        "lesson: run the step, then reveal it, then the next",
    ),
    ("PgUp", "lesson: back a step"),
    (
        "a-d",
        "lesson: count a raised hand for a choice (question open)",
    ),
    (
        "v / m / c / z",
        "every key of the lab still works in a lesson",
    ),
];

/// The main keys and the run's state.
pub fn status(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if let Some(t) = &app.time_input {
        let line = Line::from(vec![
            Span::styled(" go to ", theme.selected()),
            Span::raw(format!(
                " time: {t}▏ (2.5, 1500ms, 1:02; Enter goes, Esc cancels)"
            )),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    if let Some(p) = &app.playback {
        let state = if p.paused { "⏸ replay" } else { "⏵ replay" };
        let line = Line::from(vec![
            Span::styled(format!(" {state} "), theme.selected()),
            Span::raw(format!(
                " {} · Space play/pause · {{/}} speed · ,/. step · ←/→ seek · Home/End · : go to · Enter live run · ? help · q quit",
                p.position_words()
            )),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let state = if app.paused() {
        "⏸ paused"
    } else if app.running() {
        "● running"
    } else if app.sweep.as_ref().is_some_and(|s| s.running()) {
        "◌ sweeping"
    } else {
        "○ idle"
    };
    let rec = if app.recorder.is_some() {
        "● REC "
    } else {
        ""
    };
    let mut keys = String::from(if app.lesson.is_some() {
        " lesson: Enter/PgDn next · PgUp back · a-d hands ·"
    } else {
        ""
    });
    keys += " Enter start · s stop · p pause · Tab panel · arrows · +/- workers · g GIL · w sweep · 1-8 presets";
    for k in app.run.iter().flat_map(|r| r.control().knobs()) {
        keys += &format!(" · {}/{} {}", k.down, k.up, k.what);
    }
    keys += " · R record · ? help · q quit";
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" {rec}{state} "), theme.selected()),
            Span::raw(keys),
        ])),
        area,
    );
}

/// Every key, in an overlay titled Help; in a replay its keys come first.
pub fn overlay(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = 66.min(area.width);
    let knobs = knob_lines();
    let replay: &[(&str, &str)] = if app.playback.is_some() {
        &REPLAY_KEYS
    } else {
        &[]
    };
    let lesson: &[(&str, &str)] = if app.lesson.is_some() {
        &LESSON_KEYS
    } else {
        &[]
    };
    let h = ((lesson.len() + replay.len() + KEYS.len() + knobs.len()) as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let lines: Vec<Line> = lesson
        .iter()
        .chain(replay)
        .chain(KEYS.iter())
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
