//! The live lab: a TUI over the engine. State in [`app`], one module per
//! panel, the layout computed by one pure function (drawing and mouse
//! clicks share it), the loop generic over the backend so tests drive it.

pub mod amdahl;
pub mod app;
pub mod cache;
pub mod caption;
pub mod chart;
pub mod compare;
pub mod cpu;
pub mod form;
pub mod help;
pub mod history;
pub mod keys;
pub mod lesson;
pub mod log;
pub mod profile;
pub mod queue;
pub mod replaying;
mod running;
pub mod runs;
pub mod settings;
pub mod source;
pub mod summary;
pub mod theme;
pub mod timeline;

use crate::config::Config;
use crate::plan::RunSpec;
use app::{App, Panel};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use ratatui::backend::Backend;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use ratatui::{Frame, Terminal};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use theme::Theme;

/// The smallest terminal the panels fit in (as tabs).
pub const MIN_SIZE: (u16, u16) = (80, 24);
/// From this size on, every panel shows at once.
pub const FULL_SIZE: (u16, u16) = (160, 48);

/// Where everything goes on a screen of a given size.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Screen {
    /// The panels shown and their areas.
    pub panels: Vec<(Panel, Rect)>,
    /// In the small layout: the tab bar's tabs.
    pub tabs: Vec<(Panel, Rect)>,
    pub status: Rect,
    /// A lesson's caption, at the top.
    pub caption: Option<Rect>,
    /// Too small for anything but a message.
    pub too_small: bool,
}

/// Rows of the settings form.
const SETTINGS_H: u16 = 4;

/// The layout: every panel at once on a large screen, tabs on a small one;
/// a lesson's caption above them.
pub fn layout(area: Rect, app: &App) -> Screen {
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        return Screen {
            too_small: true,
            ..Screen::default()
        };
    }
    if app.lesson.is_some() {
        let h = caption::height(app, area.width, area.height);
        let [cap, rest] = Layout::vertical([Constraint::Length(h), Constraint::Min(0)]).areas(area);
        return Screen {
            caption: Some(cap),
            ..panels_layout(rest, app)
        };
    }
    panels_layout(area, app)
}

/// The panels' layout in `area`: all at once if it is large enough.
fn panels_layout(area: Rect, app: &App) -> Screen {
    if area.width >= FULL_SIZE.0 && area.height >= FULL_SIZE.1 {
        let rows = if app.compare {
            compare::rows(app)
        } else {
            timeline::rows(app).len() + usize::from(app.narrate)
        };
        full_layout(area, rows, app.profiled())
    } else {
        tab_layout(area, app)
    }
}

/// The Log's fewest rows on a full screen, its borders included.
const LOG_MIN_H: u16 = 5;

/// Every panel at once. The Timeline is what a class looks at: it takes the
/// rows its lanes need, up to all but the Log's fewest; the Log the rest.
fn full_layout(area: Rect, lanes: usize, profiled: bool) -> Screen {
    let (row_a_h, row_b_h) = (11, 12);
    let spare = area
        .height
        .saturating_sub(SETTINGS_H + row_a_h + row_b_h + 1 + LOG_MIN_H);
    let wanted = (lanes.clamp(2, 1000) as u16).saturating_add(2);
    let [settings, timeline, row_a, row_b, log, status] = Layout::vertical([
        Constraint::Length(SETTINGS_H),
        Constraint::Length(wanted.min(spare).max(5)),
        Constraint::Length(row_a_h),
        Constraint::Length(row_b_h),
        Constraint::Min(LOG_MIN_H),
        Constraint::Length(1),
    ])
    .areas(area);
    let [q, c, cpu] = Layout::horizontal([Constraint::Ratio(1, 3); 3]).areas(row_a);
    // The Profile shares the Log's row where there are stacks to show.
    let share = if profiled { 50 } else { 100 };
    let [log, profile] = Layout::horizontal([
        Constraint::Percentage(share),
        Constraint::Percentage(100 - share),
    ])
    .areas(log);
    let profile = profiled.then_some((Panel::Profile, profile));
    let [a, runs, summary] = Layout::horizontal([
        Constraint::Percentage(27),
        Constraint::Percentage(46),
        Constraint::Percentage(27),
    ])
    .areas(row_b);
    Screen {
        panels: vec![
            (Panel::Settings, settings),
            (Panel::Timeline, timeline),
            (Panel::Queue, q),
            (Panel::Cache, c),
            (Panel::Cpu, cpu),
            (Panel::Amdahl, a),
            (Panel::Runs, runs),
            (Panel::Summary, summary),
            (Panel::Log, log),
        ]
        .into_iter()
        .chain(profile)
        .collect(),
        tabs: Vec::new(),
        status,
        caption: None,
        too_small: false,
    }
}

/// The settings, a bar of tabs, and the one panel `shown`.
fn tab_layout(area: Rect, app: &App) -> Screen {
    let shown = tab_shown(app);
    let [settings, bar, content, status] = Layout::vertical([
        Constraint::Length(SETTINGS_H),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let mut tabs = Vec::new();
    let mut x = bar.x;
    let profiled = app.profiled();
    for p in Panel::ALL
        .iter()
        .filter(|&&p| p != Panel::Settings && (p != Panel::Profile || profiled))
    {
        let w = p.title().len() as u16 + 2;
        if x + w > bar.x + bar.width {
            break;
        }
        tabs.push((*p, Rect::new(x, bar.y, w, 1)));
        x += w + 1;
    }
    Screen {
        panels: vec![(Panel::Settings, settings), (shown, content)],
        tabs,
        status,
        caption: None,
        too_small: false,
    }
}

/// The tab on show in the small layout: the focused panel, or the Timeline
/// while the settings have focus.
pub fn tab_shown(app: &App) -> Panel {
    if app.focus == Panel::Settings {
        Panel::Timeline
    } else {
        app.focus
    }
}

fn title_of(p: Panel, app: &App, area: Rect) -> String {
    match p {
        Panel::Timeline => timeline::title(app, area),
        Panel::Amdahl => amdahl::title(app),
        Panel::Log => log::title(app),
        Panel::Runs => runs::title(app),
        Panel::Profile => profile::title(app),
        other => other.title().to_string(),
    }
}

/// Draw one frame of the whole app.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    let screen = layout(area, app);
    if screen.too_small {
        let msg = format!("terminal too small (need {}x{})", MIN_SIZE.0, MIN_SIZE.1);
        frame.render_widget(Paragraph::new(Line::styled(msg, theme.error())), area);
        return;
    }
    for &(p, r) in &screen.panels {
        let focused = app.focus == p;
        let style = if focused { theme.accent() } else { theme.dim() };
        let block = Block::bordered()
            .border_type(if focused {
                BorderType::Thick
            } else {
                BorderType::Plain
            })
            .border_style(style)
            .title(Span::styled(
                format!(" {} ", title_of(p, app, r)),
                theme.accent(),
            ));
        match p {
            Panel::Settings => settings::render(frame, r, app, theme, block),
            Panel::Timeline => timeline::render(frame, r, app, theme, block),
            Panel::Queue => queue::render(frame, r, app, theme, block),
            Panel::Amdahl => amdahl::render(frame, r, app, theme, block),
            Panel::Cache => cache::render(frame, r, app, theme, block),
            Panel::Cpu => cpu::render(frame, r, app, theme, block),
            Panel::Log => log::render(frame, r, app, theme, block),
            Panel::Runs => runs::render(frame, r, app, theme, block),
            Panel::Summary => summary::render(frame, r, app, theme, block),
            Panel::Profile => profile::render(frame, r, app, theme, block),
        }
    }
    let shown = tab_shown(app);
    for &(p, r) in &screen.tabs {
        let style = if p == shown {
            theme.selected()
        } else {
            theme.dim()
        };
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {} ", p.title()), style)),
            r,
        );
    }
    if let Some(r) = screen.caption {
        caption::render(frame, r, app, theme);
    }
    help::status(frame, screen.status, app, theme);
    source::overlay(frame, area, app, theme);
    if app.help {
        help::overlay(frame, area, app, theme);
    }
}

/// A mouse click at (x, y) on a screen of `area`: focus the panel, switch
/// the tab, or filter the log by the lane clicked.
pub fn click(app: &mut App, area: Rect, x: u16, y: u16) {
    let screen = layout(area, app);
    let hit = |r: &Rect| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
    if let Some(&(p, _)) = screen.tabs.iter().find(|(_, r)| hit(r)) {
        app.focus = p;
        return;
    }
    if let Some(&(p, r)) = screen.panels.iter().find(|(_, r)| hit(r)) {
        app.focus = p;
        if p == Panel::Timeline {
            let lane = timeline::lane_at(app, r, y).map(|i| &app.lab.lanes[i]);
            app.profile_view.lane = lane.map(|l| l.id);
            app.filter_lane(lane.map(|l| l.name.clone()));
        }
    }
}

/// A new file's name in the current folder: `parlab-run-<ms>.json`.
fn stamped(what: &str, ext: &str) -> std::path::PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    std::path::PathBuf::from(format!("parlab-{what}-{stamp}.{ext}"))
}

/// Write `text` to `path`; what happened, for the status.
fn write_out(path: &std::path::Path, text: String) -> String {
    match std::fs::write(path, text) {
        Ok(()) => format!("exported to {}", path.display()),
        Err(e) => format!("cannot export to {}: {e}", path.display()),
    }
}

/// Do what the app asked for outside its state: write an export, start a
/// sweep, make a recording's file.
pub fn perform_effects(app: &mut App) {
    for effect in std::mem::take(&mut app.effects) {
        match effect {
            app::Effect::Export(json) => {
                app.message = Some(write_out(&stamped("run", "json"), format!("{json}\n")));
            }
            app::Effect::ExportTrace(run) => {
                let trace = crate::export::trace(&[&*run], "the lab");
                app.message = Some(write_out(&stamped("trace", "json"), format!("{trace}\n")));
            }
            app::Effect::Write(path, text) => {
                if let Err(e) = std::fs::write(&path, text) {
                    app.message = Some(format!("{}: cannot write it: {e}", path.display()));
                }
            }
            app::Effect::ReadScript(path) => {
                // Only if it is still the program loaded.
                if app.program.as_ref().is_some_and(|p| p.script == path) {
                    app.program_text = std::fs::read_to_string(&path).ok();
                }
            }
            app::Effect::StartRecording => {
                app.start_recording(&stamped("recording", crate::recording::EXTENSION));
            }
            app::Effect::Sweep(spec, grid, repeat) => {
                let threshold = app.config.run.disturbed_threshold;
                let rx = crate::sweep::spawn(
                    spec.clone(),
                    grid.clone(),
                    repeat,
                    threshold,
                    app.recorder.clone(),
                );
                app.sweep_started(spec, grid, rx);
            }
        }
    }
}

/// What the loop reacts to besides the clock.
pub enum Input {
    Key(crossterm::event::KeyEvent),
    Click(u16, u16),
    Resize,
}

/// An idle lab's frame: the CPU panel's samples come every 500 ms.
pub const IDLE_FRAME: Duration = Duration::from_millis(500);

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
        // Idle, nothing moves but the CPU panel (sampled twice a second):
        // redraw for it, or at once on input.
        let idle = !app.animating();
        let deadline = Instant::now() + if idle { IDLE_FRAME } else { frame_time };
        if crate::signals::received().is_some() {
            app.apply(app::Action::Quit);
            break;
        }
        if app.running() && crate::fault::ui_panics() {
            panic!("injected fault: the UI panics");
        }
        perform_effects(app);
        app.pump();
        terminal.draw(|f| draw(f, app, theme))?;
        loop {
            match input.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Input::Key(k)) => {
                    if !app.lesson_key(k) {
                        if let Some(a) = app::action_for(k, app.typing()) {
                            app.apply(a);
                        }
                    }
                    if idle {
                        break;
                    }
                }
                Ok(Input::Click(x, y)) => {
                    let size = terminal.size()?;
                    click(app, Rect::new(0, 0, size.width, size.height), x, y);
                    if idle {
                        break;
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
/// The config and the presets are read once, by the caller, and handed in;
/// `setup` readies the app before the terminal is taken (a recording to
/// write, recordings to replay), so its errors print as any other.
pub fn main(
    config: &Config,
    spec: RunSpec,
    (presets, problems): (Vec<crate::presets::Preset>, Vec<String>),
    setup: impl FnOnce(&mut App) -> anyhow::Result<()>,
) -> anyhow::Result<ExitCode> {
    let theme = Theme::new(config.tui.theme);
    let mut app = App::new(spec, config.tui.fps);
    app.config = config.clone();
    app.presets = presets;
    if let Some(p) = problems.first() {
        app.message = Some(p.clone());
    }
    setup(&mut app)?;
    app.sampler = Some(crate::sampler::Sampler::start(Duration::from_millis(500)));
    let mut terminal = ratatui::try_init()?;
    let _restore = RestoreOnDrop;
    crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
    // ratatui's hook restores the terminal before the message; mouse capture first.
    let restore = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        restore(info);
    }));
    crate::strategy::silence_worker_panics();
    // The frame loop above the workers; where it cannot be, the workers below it.
    if !crate::priority::raise_this_thread() {
        crate::priority::set_workers_yield(true);
    }
    crate::signals::listen();
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("parlab-input".into())
        .spawn(move || {
            crate::priority::raise_this_thread();
            read_input(&tx)
        })?;
    let result = run_app(&mut terminal, &mut app, &theme, &rx);
    drop(terminal);
    result?;
    Ok(match crate::signals::received() {
        Some(sig) => ExitCode::from(crate::signals::exit_status(sig)),
        None => ExitCode::SUCCESS,
    })
}

/// The input thread: keys, clicks and resizes to the frame loop, until the
/// terminal or the loop is gone.
fn read_input(tx: &crossbeam_channel::Sender<Input>) {
    use crossterm::event::{Event, MouseEventKind};
    loop {
        let sent = match crossterm::event::read() {
            Ok(Event::Key(k)) => tx.send(Input::Key(k)),
            Ok(Event::Mouse(m)) if matches!(m.kind, MouseEventKind::Down(_)) => {
                tx.send(Input::Click(m.column, m.row))
            }
            Ok(Event::Resize(..)) => tx.send(Input::Resize),
            Ok(_) => Ok(()),
            Err(_) => return,
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Restores the terminal when dropped: on return, on error, on unwinding.
struct RestoreOnDrop;

impl Drop for RestoreOnDrop {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        ratatui::restore();
    }
}
