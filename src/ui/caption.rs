//! The lesson's caption, at the top of the lab and readable from the back
//! of a room: the step (`3/7`), what it says, its question with the hands
//! raised for each choice, then the measured answer and the reveal.

use super::app::App;
use super::theme::Theme;
use crate::lesson::text::Verdict;
use crate::lesson::walk::{Phase, Walk};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

/// The caption's rows for a screen `width` wide, borders included: what
/// its text needs, at least two lines of it, at most two fifths of `height`.
pub fn height(app: &App, width: u16, height: u16) -> u16 {
    let Some(l) = &app.lesson else { return 0 };
    let inner = width.saturating_sub(2).max(1) as usize;
    let needed: usize = texts(&l.walk)
        .iter()
        .map(|(_, t)| t.chars().count().div_ceil(inner).max(1))
        .sum();
    (needed as u16 + 2).clamp(4, (height * 2 / 5).max(4))
}

/// The caption's text, line by line, each with what it is (for its style).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Say,
    Ask,
    Choice { measured: bool },
    Reveal,
}

/// The caption's bottom line: what the keys do now, or the verdict.
fn footer(w: &Walk) -> (Option<Verdict>, &'static str) {
    match (w.phase, w.judged()) {
        (Phase::Said, _) if w.step().ask.is_some() => {
            (None, " a–d count raised hands · Enter runs the step ")
        }
        (Phase::Said, _) => (None, " Enter runs the step "),
        (Phase::Running, _) => (None, " running… "),
        (Phase::Revealed, Some(j)) => (
            Some(j.verdict),
            match j.verdict {
                Verdict::Held => " ✓ the lecture's claim held on this machine · PgDn next ",
                Verdict::NotHeld => {
                    " ✗ the lecture's claim did not hold on this machine · PgDn next "
                }
                Verdict::Disturbed => {
                    " ~ the machine was busy with other work: no check · PgDn next "
                }
                Verdict::NoClaim => " PgDn next ",
            },
        ),
        (Phase::Revealed, None) => (None, " PgDn next "),
    }
}

fn texts(w: &Walk) -> Vec<(Kind, String)> {
    let mut out = vec![(Kind::Say, w.said().to_string())];
    let judged = w.judged().filter(|_| w.phase == Phase::Revealed);
    if let Some(ask) = w.asked() {
        out.push((Kind::Ask, ask.to_string()));
        let hands = w.hands[w.at];
        let most = hands.iter().copied().max().unwrap_or(0).max(1);
        for (i, c) in w.choices().iter().enumerate() {
            let bar = "█".repeat((hands[i] * 12 / most) as usize);
            let measured = judged.is_some_and(|j| j.answer == Some(i));
            let mark = if measured { "  ← measured" } else { "" };
            out.push((
                Kind::Choice { measured },
                format!(
                    "{}) {c}  {bar} {}{mark}",
                    (b'a' + i as u8) as char,
                    hands[i]
                ),
            ));
        }
    }
    if let Some(j) = judged.filter(|j| !j.caption.is_empty()) {
        out.push((Kind::Reveal, j.caption.clone()));
    }
    out
}

/// Draw the caption into `area`.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(l) = &app.lesson else { return };
    let w = &l.walk;
    let mut title = format!(
        " {} · {} · {} ",
        w.position(),
        w.step().title(),
        w.lesson.title
    );
    if let Some(on) = &l.recorded_on {
        title += &format!("· recorded: {on} ");
    }
    let lines: Vec<Line> = texts(w)
        .into_iter()
        .map(|(kind, t)| {
            let style = match kind {
                Kind::Say | Kind::Choice { measured: false } | Kind::Reveal => Style::new(),
                Kind::Ask | Kind::Choice { measured: true } => theme.accent(),
            };
            Line::from(Span::styled(t, style))
        })
        .collect();
    let (verdict, said) = footer(w);
    let said_style = match verdict {
        Some(Verdict::Held) => theme.accent(),
        Some(Verdict::NotHeld) => theme.error(),
        _ => theme.dim(),
    };
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_style(theme.accent())
                .title(Span::styled(title, theme.accent()))
                .title_bottom(Span::styled(said, said_style)),
        ),
        area,
    );
}
