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
/// its text needs, at least two lines of it, at most a third of `height`.
pub fn height(app: &App, width: u16, height: u16) -> u16 {
    let Some(l) = &app.lesson else { return 0 };
    let inner = width.saturating_sub(2).max(1) as usize;
    let needed: usize = texts(&l.walk)
        .iter()
        .map(|(_, t)| t.chars().count().div_ceil(inner).max(1))
        .sum();
    (needed as u16 + 2).clamp(4, (height / 3).max(4))
}

/// The caption's text, line by line, each with what it is (for its style).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Say,
    Ask,
    Choice { measured: bool },
    Reveal,
    Verdict(Verdict),
    Note,
}

fn texts(w: &Walk) -> Vec<(Kind, String)> {
    let mut out = vec![(Kind::Say, w.words("say").unwrap_or_default())];
    let judged = w.judged().filter(|_| w.phase == Phase::Revealed);
    if let Some(ask) = w.words("ask") {
        out.push((Kind::Ask, ask));
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
    match (w.phase, judged) {
        (Phase::Said, _) if w.step().ask.is_some() => out.push((
            Kind::Note,
            "a–d count raised hands; Enter runs the step".into(),
        )),
        (Phase::Said, _) => out.push((Kind::Note, "Enter runs the step".into())),
        (Phase::Running, _) => out.push((Kind::Note, "running…".into())),
        (Phase::Revealed, Some(j)) => {
            if !j.caption.is_empty() {
                out.push((Kind::Reveal, j.caption.clone()));
            }
            let said = match j.verdict {
                Verdict::Held => "✓ the lecture's claim held on this machine",
                Verdict::NotHeld => "✗ the lecture's claim did not hold on this machine",
                Verdict::Disturbed => "~ the machine was busy with other work: no check",
                Verdict::NoClaim => "",
            };
            if !said.is_empty() {
                out.push((Kind::Verdict(j.verdict), said.into()));
            }
        }
        (Phase::Revealed, None) => {}
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
                Kind::Verdict(Verdict::Held) => theme.accent(),
                Kind::Verdict(Verdict::NotHeld) => theme.error(),
                Kind::Verdict(_) | Kind::Note => theme.dim(),
            };
            Line::from(Span::styled(t, style))
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_style(theme.accent())
                .title(Span::styled(title, theme.accent())),
        ),
        area,
    );
}
