//! The live lab: a TUI over the engine. State in [`app`], one module per
//! panel, the loop generic over the backend so tests drive it headless.

pub mod app;
pub mod panels;
pub mod theme;
pub mod timeline;

use crate::config::Config;
use crate::engine::RunSpec;
use crate::strategy::StrategyKind;
use app::App;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use ratatui::backend::Backend;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::{Frame, Terminal};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use theme::Theme;

/// The smallest terminal the panels fit in.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Draw one frame of the whole app.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let msg = format!("terminal too small (need {}x{})", MIN_SIZE.0, MIN_SIZE.1);
        frame.render_widget(Paragraph::new(Line::styled(msg, theme.error())), area);
        return;
    }
    let strategy = app
        .info
        .as_ref()
        .map(|i| i.spec.strategy)
        .unwrap_or(app.spec.strategy);
    let lanes = app.lab.lanes.len().max(2) as u16;
    let body = area.height - 2;
    let extra = extra_panel(app, strategy);
    let extra_h = if extra.is_some() { 6 } else { 0 };
    // The timeline gets a row per lane, up to most of the screen; the log the rest.
    let timeline_h = (lanes + 2).min(body * 3 / 5 - extra_h).max(4);
    let [top, timeline_area, extra_area, bottom, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(timeline_h),
        Constraint::Length(extra_h),
        Constraint::Min(6),
        Constraint::Length(1),
    ])
    .areas(area);
    panels::settings(frame, top, app, theme);
    timeline::render(frame, timeline_area, app, theme);
    if let Some(panel) = extra {
        panel(frame, extra_area, app, theme);
    }
    let [log, summary] =
        Layout::horizontal([Constraint::Percentage(70), Constraint::Percentage(30)]).areas(bottom);
    panels::log(frame, log, app, theme);
    panels::summary(frame, summary, app, theme);
    panels::status(frame, status, app, theme);
    if app.help {
        panels::help(frame, area, theme);
    }
}

type Panel = fn(&mut Frame, Rect, &App, &Theme);

/// The Queue panel for the queue strategy, the Cache panel for memoised work.
fn extra_panel(app: &App, strategy: StrategyKind) -> Option<Panel> {
    if strategy == StrategyKind::Queue {
        Some(panels::queue)
    } else if app.lab.cache.hits + app.lab.cache.misses > 0
        || app.spec.workload.kind == crate::workload::WorkloadKind::Fib
    {
        Some(panels::cache)
    } else {
        None
    }
}

/// What the loop reacts to besides the clock.
pub enum Input {
    Key(crossterm::event::KeyEvent),
    Resize,
}

/// The app loop: drain events into the lab, draw, wait for input until the
/// next frame's deadline. Data rate and frame rate are independent.
pub fn run_app<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    theme: &Theme,
    input: &Receiver<Input>,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let frame_time = Duration::from_secs_f64(1.0 / app.fps.max(1) as f64);
    while !app.quit {
        let deadline = Instant::now() + frame_time;
        if crate::signals::received().is_some() {
            app.apply(app::Action::Quit);
            break;
        }
        if app.running() && crate::fault::ui_panics() {
            panic!("injected fault: the UI panics");
        }
        app.pump();
        terminal.draw(|f| draw(f, app, theme))?;
        loop {
            match input.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Input::Key(k)) => {
                    if let Some(a) = app::action_for(k) {
                        app.apply(a);
                    }
                }
                Ok(Input::Resize) => break,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    app.quit = true;
                    break;
                }
            }
            if app.quit {
                break;
            }
        }
    }
    app.shut_down();
    Ok(())
}

/// Open the TUI on a real terminal; the terminal is restored on every way out.
pub fn main(config: &Config, spec: RunSpec) -> anyhow::Result<ExitCode> {
    let theme = Theme::new(config.tui.theme);
    let mut app = App::new(spec, config.tui.fps);
    let mut terminal = ratatui::try_init()?;
    let _restore = RestoreOnDrop;
    crate::strategy::silence_worker_panics();
    crate::signals::listen();
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("parlab-input".into())
        .spawn(move || loop {
            let sent = match crossterm::event::read() {
                Ok(crossterm::event::Event::Key(k)) => tx.send(Input::Key(k)),
                Ok(crossterm::event::Event::Resize(..)) => tx.send(Input::Resize),
                Ok(_) => Ok(()),
                Err(_) => return,
            };
            if sent.is_err() {
                return;
            }
        })?;
    let result = run_app(&mut terminal, &mut app, &theme, &rx);
    drop(terminal);
    result?;
    Ok(match crate::signals::received() {
        Some(sig) => ExitCode::from(crate::signals::exit_status(sig)),
        None => ExitCode::SUCCESS,
    })
}

/// Restores the terminal when dropped: on return, on error, on unwinding.
struct RestoreOnDrop;

impl Drop for RestoreOnDrop {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
