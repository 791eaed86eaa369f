//! Colours: a colour-blind-safe palette (Okabe-Ito) that reads on a
//! projector, a light variant, and `NO_COLOR` honoured. Every state also has
//! its own glyph, so the timeline reads without colour.

use crate::config::ThemeName;
use crate::event::WorkerState;
use ratatui::style::{Color, Modifier, Style};

/// The colours in force.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Theme {
    pub color: bool,
    pub light: bool,
}

impl Theme {
    /// The configured theme, without colour when `NO_COLOR` is set.
    pub fn new(name: ThemeName) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: !no_color,
            light: name == ThemeName::Light,
        }
    }

    /// A state's colour.
    pub fn state(&self, s: WorkerState) -> Style {
        if !self.color {
            return match s {
                WorkerState::Failed => Style::new().add_modifier(Modifier::BOLD),
                _ => Style::new(),
            };
        }
        let c = match s {
            WorkerState::Running => Color::Rgb(0, 114, 178),
            WorkerState::Ready => Color::Rgb(0, 158, 115),
            WorkerState::GilWait => Color::Rgb(213, 94, 0),
            WorkerState::LockWait => Color::Rgb(204, 121, 167),
            WorkerState::Io => Color::Rgb(86, 180, 233),
            WorkerState::QueueFull => Color::Rgb(230, 159, 0),
            WorkerState::QueueEmpty => Color::Rgb(240, 228, 66),
            WorkerState::Idle if self.light => Color::Rgb(170, 170, 170),
            WorkerState::Idle => Color::Rgb(110, 110, 110),
            WorkerState::Failed => Color::Rgb(255, 40, 40),
        };
        let style = Style::new().fg(c);
        if s == WorkerState::Failed {
            style.add_modifier(Modifier::BOLD)
        } else {
            style
        }
    }

    /// Titles and highlights.
    pub fn accent(&self) -> Style {
        if self.color {
            Style::new()
                .fg(if self.light {
                    Color::Rgb(0, 90, 140)
                } else {
                    Color::Rgb(86, 180, 233)
                })
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Rgb(128, 128, 128))
        } else {
            Style::new()
        }
    }

    /// The selected setting.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Errors.
    pub fn error(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Rgb(255, 60, 60))
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
}
