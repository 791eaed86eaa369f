//! The TUI's state and what input does to it. Drawing lives in the panel
//! modules and only reads this; the workers never wait for either.

use super::form::{self, Field};
use crate::analysis::fit_amdahl;
use crate::config::Config;
use crate::engine;
use crate::model::Lab;
use crate::plan::Plan;
use crate::plan::RunSpec;
use crate::presets::Preset;
use crate::recording::{RecordedRun, Recorder};
use crate::replay::Playback;
use crate::sampler::{CpuSample, Sampler};
use crate::source::{Meta, Outcome, Source};
use crate::sweep::Point;
use crossbeam_channel::Receiver;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

/// The panels, in Tab order; in the small layout each is a tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Settings,
    Timeline,
    Queue,
    Amdahl,
    Cache,
    Cpu,
    Log,
    Runs,
    Summary,
}

impl Panel {
    /// Every panel, in Tab order.
    pub const ALL: [Panel; 9] = [
        Panel::Settings,
        Panel::Timeline,
        Panel::Queue,
        Panel::Amdahl,
        Panel::Cache,
        Panel::Cpu,
        Panel::Log,
        Panel::Runs,
        Panel::Summary,
    ];

    /// The panel's title, exactly as shown.
    pub fn title(self) -> &'static str {
        match self {
            Panel::Settings => "Settings",
            Panel::Timeline => "Timeline",
            Panel::Queue => "Queue",
            Panel::Amdahl => "Amdahl",
            Panel::Cache => "Cache",
            Panel::Cpu => "CPU",
            Panel::Log => "Log",
            Panel::Runs => "Runs",
            Panel::Summary => "Summary",
        }
    }
}

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Fold or unfold a program's helper lanes.
    Helpers,
    Start,
    Stop,
    Pause,
    Quit,
    NextPanel,
    PrevPanel,
    Left,
    Right,
    Up,
    Down,
    MoreWorkers,
    FewerWorkers,
    ToggleGil,
    Sweep,
    ToggleGustafson,
    ZoomIn,
    ZoomOut,
    Freeze,
    ScrollBack,
    ScrollForward,
    Filter,
    Rerun,
    Export,
    Help,
    CloseOverlay,
    /// A key bound to a live knob of the strategy (the queue's `[`, `]`, `<`, `>`).
    Knob(char),
    /// `R`: start or stop recording runs to a file.
    Record,
    /// `E`: export the selected run as a Chrome trace.
    ExportTrace,
    /// `n`: the caption of the moment under the Timeline, on or off.
    Narrate,
    /// `m`: mark or unmark the selected run for comparison.
    Mark,
    /// `c`: show or leave the marked runs stacked on one time axis.
    Compare,
    /// `v`: replay the selected run.
    View,
    /// `o`: the program's source.
    Source,
    /// In a replay: `{` slower, `}` faster.
    Slower,
    Faster,
    /// In a replay: `.` one event forward, `,` one back.
    StepForward,
    StepBack,
    /// In a replay: Home and End.
    ToStart,
    ToEnd,
    /// In a replay: `:` opens a prompt for a time to go to.
    GoTo,
    /// Enter in a prompt.
    Submit,
    /// Load preset number n (0-based).
    Preset(u8),
    /// A character typed into the log filter.
    Type(char),
    Backspace,
}

/// Map a key press to an action; while the log filter is open, keys type into it.
pub fn action_for(key: KeyEvent, typing: bool) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if typing {
        return match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::CloseOverlay),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) => Some(Action::Type(c)),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Enter => Action::Start,
        KeyCode::Char('s') => Action::Stop,
        KeyCode::Char('p') => Action::Pause,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Tab => Action::NextPanel,
        KeyCode::BackTab => Action::PrevPanel,
        KeyCode::Left => Action::Left,
        KeyCode::Right => Action::Right,
        KeyCode::Up => Action::Up,
        KeyCode::Down => Action::Down,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::MoreWorkers,
        KeyCode::Char('-') => Action::FewerWorkers,
        KeyCode::Char('g') => Action::ToggleGil,
        KeyCode::Char('G') => Action::ToggleGustafson,
        KeyCode::Char('w') => Action::Sweep,
        KeyCode::Char('z') => Action::ZoomIn,
        KeyCode::Char('x') => Action::ZoomOut,
        KeyCode::Char(' ') => Action::Freeze,
        KeyCode::PageUp => Action::ScrollBack,
        KeyCode::PageDown => Action::ScrollForward,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char('r') => Action::Rerun,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('E') => Action::ExportTrace,
        KeyCode::Char('R') => Action::Record,
        KeyCode::Char('m') => Action::Mark,
        KeyCode::Char('n') => Action::Narrate,
        KeyCode::Char('c') => Action::Compare,
        KeyCode::Char('v') => Action::View,
        KeyCode::Char('o') => Action::Source,
        KeyCode::Char('h') => Action::Helpers,
        KeyCode::Char('{') => Action::Slower,
        KeyCode::Char('}') => Action::Faster,
        KeyCode::Char('.') => Action::StepForward,
        KeyCode::Char(',') => Action::StepBack,
        KeyCode::Home => Action::ToStart,
        KeyCode::End => Action::ToEnd,
        KeyCode::Char(':') => Action::GoTo,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::CloseOverlay,
        KeyCode::Char(c @ '1'..='9') => Action::Preset(c as u8 - b'1'),
        KeyCode::Char(c) if knob_keys().any(|k| k == c) => Action::Knob(c),
        _ => return None,
    })
}

/// Every key any strategy binds to a knob.
pub fn knob_keys() -> impl Iterator<Item = char> {
    crate::strategy::REGISTRY
        .iter()
        .flat_map(|s| s.knobs.iter().flat_map(|k| [k.up, k.down]))
}

/// The timeline's view: zoom, follow or frozen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimelineView {
    /// Nanoseconds per cell; `None`: chosen so the whole run fits.
    pub cell_ns: Option<u64>,
    /// Follow the run live; when frozen, `end_ns` is the right edge.
    pub follow: bool,
    pub end_ns: u64,
    /// The first row shown (rows scroll when there are more than fit).
    pub first_lane: usize,
    /// A program's helpers each on a row of their own (`h`), not folded.
    pub unfold_helpers: bool,
}

impl TimelineView {
    /// The cell width that fits `span` nanoseconds in `width` cells, rounded
    /// to 1, 2 or 5 times a power of ten (at least 1 ms).
    pub fn auto_cell(span: u64, width: u16) -> u64 {
        let need = span / width.max(1) as u64 + 1;
        let mut unit = 1_000_000u64;
        loop {
            for m in [1, 2, 5] {
                if unit * m >= need {
                    return unit * m;
                }
            }
            unit *= 10;
        }
    }
}

/// A driven source as any source.
fn boxed(run: crate::source::Driven) -> Box<dyn Source> {
    Box::new(run)
}

/// A finished run, for the Runs panel.
#[derive(Clone, Debug)]
pub struct RunRow {
    /// What it was, whichever source made it.
    pub about: crate::plan::About,
    /// What to run to run it again (`None`: a source that cannot rerun).
    pub plan: Option<Plan>,
    pub workers: u32,
    pub wall_ms: f64,
    /// Events sent by its workers.
    pub events_sent: u64,
    pub ok: bool,
    /// The run as `parlab run --json` prints it, for export.
    pub json: Value,
    /// The machine over the run: how much of it others used.
    pub load: Option<crate::sampler::Load>,
    /// The Runs panel's GIL cell, made once (see [`gil_cell`]).
    pub gil: String,
    /// Its lab at the end, for comparisons.
    pub lab: Arc<Lab>,
    /// The run kept whole (in memory, or read from a file), to replay and export.
    pub recorded: Option<Arc<RecordedRun>>,
    /// The file it was replayed from.
    pub file: Option<String>,
}

impl RunRow {
    /// The GIL was on and applied.
    pub fn gil(&self) -> bool {
        self.about.gil == crate::plan::GilKind::Model
    }

    /// A native run's settings.
    pub fn spec(&self) -> Option<&RunSpec> {
        self.plan.as_ref()?.native()
    }
}

/// The Runs panel's GIL cell for a run's JSON and lab: its workers' mean
/// share holding the GIL and how that is known (`49% measured`, `50%
/// model`: the number first, so a narrow column cuts the word, never the
/// number), `off`, or `none` for a free-threaded Python.
pub fn gil_cell(json: &Value, lab: &Lab) -> String {
    let Some(method) = Some(&json["gil"])
        .filter(|g| g.is_object())
        .and_then(crate::source::GilMethod::of)
    else {
        let free = json["python"]["gil_enabled"] == false;
        return if free { "none" } else { "off" }.into();
    };
    let shares: Vec<f64> = lab
        .gil_shares(method == crate::source::GilMethod::Measured)
        .iter()
        .filter(|s| s.worker && s.life_ns > 0)
        .map(|s| s.held())
        .collect();
    if shares.is_empty() {
        return method.name().into();
    }
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    format!("{:.0}% {}", mean * 100.0, method.name())
}

/// A sweep under way or done.
pub struct SweepState {
    pub spec: RunSpec,
    pub grid: Vec<u32>,
    pub points: Vec<Point>,
    /// The fitted p, once at least two points are in.
    pub p: Option<f64>,
    /// Its 95 % interval from the repeats.
    pub p_interval: Option<[f64; 2]>,
    rx: Option<Receiver<Result<Point, String>>>,
}

impl SweepState {
    /// A sweep already measured (a record, or a test), with its fit.
    pub fn finished(spec: RunSpec, grid: Vec<u32>, points: Vec<Point>) -> Self {
        let mut s = Self {
            spec,
            grid,
            points,
            p: None,
            p_interval: None,
            rx: None,
        };
        s.refit();
        s
    }

    /// Fit Amdahl's law to the points in, once there are two.
    fn refit(&mut self) {
        let pts: Vec<(f64, f64)> = self
            .points
            .iter()
            .map(|p| (p.workers as f64, p.speedup))
            .collect();
        self.p = (pts.len() >= 2).then(|| fit_amdahl(&pts));
        self.p_interval = self.p.map(|_| crate::sweep::p_interval(&self.points));
    }

    /// The 1-worker point's median, which every speedup divides.
    pub fn base_ms(&self) -> Option<f64> {
        self.points
            .iter()
            .find(|p| p.workers == 1)
            .map(|p| p.wall_ms)
    }

    /// Whether a disturbed point is among those fitted.
    pub fn fit_disturbed(&self) -> bool {
        self.points.iter().any(|p| p.disturbed)
    }

    /// Whether points are still coming.
    pub fn running(&self) -> bool {
        self.rx.is_some()
    }
}

/// The whole TUI state.
pub struct App {
    pub config: Config,
    /// The settings for the next run.
    pub spec: RunSpec,
    /// A Python program Enter runs instead of the native settings (`parlab tui py`).
    pub program: Option<crate::plan::Program>,
    /// Its text, when it is a file (read as the lab opened on it).
    pub program_text: Option<String>,
    /// How every program the lab runs is run: `tui py --timeout`, `--gil-sample-hz`.
    pub program_timeout: Option<std::time::Duration>,
    pub gil_hz: u32,
    /// The Source view (`o`) is open, scrolled to this line.
    pub source_view: Option<usize>,
    /// The Pythons found as the lab opened (3.9 or later), for the Settings form.
    pub interpreters: Vec<crate::plan::Interpreter>,
    /// The selected field of the settings form.
    pub field: usize,
    pub focus: Panel,
    /// The run under way, whatever its source.
    pub run: Option<Box<dyn Source>>,
    /// The machine's load, measured over the run under way.
    window: Option<crate::sampler::Window>,
    pub info: Option<Meta>,
    pub outcome: Option<Outcome>,
    pub lab: Lab,
    pub history: Vec<RunRow>,
    pub selected_run: usize,
    pub view: TimelineView,
    pub help: bool,
    pub quit: bool,
    /// The last problem or notice, shown in the Summary.
    pub message: Option<String>,
    pub fps: u32,
    pub presets: Vec<Preset>,
    /// The preset whose runs are queued, and the runs still to go.
    pub preset: Option<String>,
    pub pending: VecDeque<Plan>,
    pub sweep: Option<SweepState>,
    pub gustafson: bool,
    /// Lines scrolled back from the newest in the Log.
    pub log_scroll: usize,
    pub log_filter: Option<String>,
    /// The filter being typed, while the prompt is open.
    pub filter_input: Option<String>,
    pub cpu: Option<CpuSample>,
    pub sampler: Option<Sampler>,
    /// What the app asks its loop to do outside its state (files, threads).
    pub effects: Vec<Effect>,
    /// The live run under way kept in memory, to replay and export once it ends.
    pub(crate) keeping: Option<Recorder>,
    /// The file runs are recorded to (`--record`, `R`), shared with a sweep.
    pub recorder: Option<Arc<Mutex<Recorder>>>,
    /// A recorded run on show instead of a live one.
    pub playback: Option<Playback>,
    pub(crate) played_at: Option<Instant>,
    /// Rows marked for comparison (`m`), and whether they are shown stacked (`c`).
    pub marked: Vec<usize>,
    pub compare: bool,
    /// The time being typed after `:` in a replay.
    pub time_input: Option<String>,
    /// The lesson being walked, if the lab opened on one.
    pub lesson: Option<super::lesson::LessonRun>,
    /// The caption of the moment under the Timeline (`n`; on in a lesson).
    pub narrate: bool,
}

/// Work with effects outside the app's state, done by its loop.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Write a run's JSON to a new file in the current folder.
    Export(Value),
    /// Measure a sweep (these worker counts, this many repeats a point) in
    /// the background; its points come back through `App::sweep_started`.
    Sweep(RunSpec, Vec<u32>, u32),
    /// Write a run as a Chrome trace to a new file in the current folder.
    ExportTrace(Arc<RecordedRun>),
    /// Start recording to a new file in the current folder (the run under way first).
    StartRecording,
    /// Read a program's script from its file, for the Source view.
    ReadScript(String),
    /// Write this text to this file (a lesson's report), saying so only if it fails.
    Write(std::path::PathBuf, String),
}

impl App {
    /// A fresh app on these settings (defaults for the rest; no presets:
    /// the caller reads them and hands them in).
    pub fn new(spec: RunSpec, fps: u32) -> Self {
        Self {
            config: Config::default(),
            spec,
            program: None,
            program_text: None,
            program_timeout: None,
            gil_hz: crate::python::gil::DEFAULT_HZ,
            source_view: None,
            interpreters: Vec::new(),
            field: 0,
            focus: Panel::Settings,
            run: None,
            window: None,
            info: None,
            outcome: None,
            lab: Lab::new(Vec::new(), SystemTime::now()),
            history: Vec::new(),
            selected_run: 0,
            view: TimelineView {
                cell_ns: None,
                follow: true,
                end_ns: 0,
                first_lane: 0,
                unfold_helpers: false,
            },
            help: false,
            quit: false,
            message: None,
            fps,
            presets: Vec::new(),
            preset: None,
            pending: VecDeque::new(),
            sweep: None,
            gustafson: false,
            log_scroll: 0,
            log_filter: None,
            filter_input: None,
            cpu: None,
            sampler: None,
            effects: Vec::new(),
            keeping: None,
            recorder: None,
            playback: None,
            played_at: None,
            marked: Vec::new(),
            compare: false,
            time_input: None,
            lesson: None,
            narrate: false,
        }
    }

    /// Whether a run is going.
    pub fn running(&self) -> bool {
        self.run.is_some()
    }

    /// Whether anything on screen moves by itself: a run, a replay playing,
    /// a sweep, a preset's runs to go. An idle lab redraws only on input
    /// (and slowly, for the CPU panel).
    pub fn animating(&self) -> bool {
        self.running()
            || self
                .playback
                .as_ref()
                .is_some_and(|p| !p.paused && !p.at_end())
            || self.sweep.as_ref().is_some_and(|s| s.running())
            || !self.pending.is_empty()
    }

    /// Whether the run going is paused.
    pub fn paused(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.control().is_paused())
    }

    /// The time at the timeline's right edge.
    pub fn now_ns(&self) -> u64 {
        match (&self.run, &self.playback) {
            (Some(run), _) => run.meta().clock.now(),
            (None, Some(p)) => p.at_ns,
            (None, None) => self.lab.now,
        }
    }

    /// Whether a prompt (the log filter, a replay's time) takes the keys.
    pub fn typing(&self) -> bool {
        self.filter_input.is_some() || self.time_input.is_some()
    }

    /// The settings form's fields for the current settings.
    pub fn fields(&self) -> Vec<Field> {
        form::fields(&self.spec, self.program.as_ref())
    }

    /// The timeline's cell width now (zooming starts from it).
    fn current_cell(&self) -> u64 {
        self.view
            .cell_ns
            .unwrap_or_else(|| TimelineView::auto_cell(self.now_ns(), 100))
    }

    /// Do what the user asked.
    pub fn apply(&mut self, action: Action) {
        use Action::*;
        match action {
            Start => self.start(),
            Stop => self.stop(),
            Pause => self.toggle_pause(),
            Quit => {
                self.stop();
                self.quit = true;
            }
            Up | Down | ScrollBack | ScrollForward if self.source_view.is_some() => {
                let lines = super::source::text(self).map_or(0, |t| t.lines().count());
                let at = self.source_view.unwrap_or(0);
                self.source_view = Some(match action {
                    Up => at.saturating_sub(1),
                    Down => (at + 1).min(lines.saturating_sub(1)),
                    ScrollBack => at.saturating_sub(20),
                    _ => (at + 20).min(lines.saturating_sub(1)),
                });
            }
            Source => {
                self.source_view = match self.source_view {
                    Some(_) => None,
                    None => Some(0),
                }
            }
            NextPanel | PrevPanel => self.cycle_focus(action == NextPanel),
            Left | Right if self.playback.is_some() && self.focus == Panel::Timeline => {
                self.seek_by(if action == Left { -1.0 } else { 1.0 })
            }
            Left | Right | Up | Down => self.arrow(action),
            MoreWorkers => self.step_workers(true),
            FewerWorkers => self.step_workers(false),
            ToggleGil => self.spec.gil = !self.spec.gil,
            Sweep => self.start_sweep(),
            ToggleGustafson => self.gustafson = !self.gustafson,
            ZoomIn => self.view.cell_ns = Some((self.current_cell() / 2).max(100_000)),
            ZoomOut => self.view.cell_ns = Some((self.current_cell() * 2).min(60_000_000_000)),
            Freeze if self.playback.is_some() => self.toggle_pause(),
            Freeze => {
                self.view.follow = !self.view.follow;
                self.view.end_ns = self.now_ns();
            }
            ScrollBack | ScrollForward => self.scroll_timeline(action == ScrollBack),
            Filter => self.filter(),
            Submit if self.time_input.is_some() => self.go_to_typed(),
            Submit => self.filter(),
            Rerun => self.rerun(),
            Export => self.export(),
            ExportTrace => self.export_trace(),
            Record => self.toggle_recording(),
            Mark => self.mark(),
            Narrate => self.narrate = !self.narrate,
            Compare => self.toggle_compare(),
            View => self.view_selected(),
            Slower | Faster | StepForward | StepBack | ToStart | ToEnd | GoTo => self.steer(action),
            Help => self.help = !self.help,
            Helpers => self.view.unfold_helpers = !self.view.unfold_helpers,
            CloseOverlay => {
                self.help = false;
                self.source_view = None;
                self.filter_input = None;
                self.time_input = None;
                self.compare = false;
            }
            Knob(key) => self.turn(key),
            Preset(n) => self.load_preset(n as usize),
            Type(c) => {
                if let Some(f) = self.time_input.as_mut().or(self.filter_input.as_mut()) {
                    f.push(c);
                }
            }
            Backspace => {
                if let Some(f) = self.time_input.as_mut().or(self.filter_input.as_mut()) {
                    f.pop();
                }
            }
        }
    }

    /// Pause or resume the run itself (or the replay).
    fn toggle_pause(&mut self) {
        if let Some(p) = &mut self.playback {
            if p.at_end() {
                // Play again from the start.
                p.seek(&mut self.lab, 0);
                p.paused = false;
            } else {
                p.paused = !p.paused;
            }
            return;
        }
        if let Some(run) = &self.run {
            let p = !run.control().is_paused();
            run.control().set_paused(p);
            self.lab.note(if p { "run paused" } else { "run resumed" });
        }
    }

    /// Tab and Shift-Tab: the next or the previous panel.
    fn cycle_focus(&mut self, forward: bool) {
        let i = Panel::ALL
            .iter()
            .position(|&p| p == self.focus)
            .unwrap_or(0);
        let n = Panel::ALL.len();
        self.focus = Panel::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    /// Arrows act inside the focused panel.
    fn arrow(&mut self, a: Action) {
        match self.focus {
            Panel::Settings => {
                let fields = self.fields();
                let n = fields.len();
                self.field = self.field.min(n - 1);
                match (a, fields[self.field]) {
                    (Action::Left, _) => self.field = (self.field + n - 1) % n,
                    (Action::Right, _) => self.field = (self.field + 1) % n,
                    (_, Field::Source) => self.toggle_source(),
                    (_, f @ (Field::Script | Field::Args | Field::Python)) => {
                        if let Some(p) = &mut self.program {
                            form::change_program(f, p, a == Action::Up, &self.interpreters);
                            self.program_text = None;
                        }
                    }
                    (_, f) => form::change(f, &mut self.spec, a == Action::Up, &self.config),
                }
            }
            Panel::Timeline => match a {
                Action::Left => self.scroll_timeline(true),
                Action::Right => self.scroll_timeline(false),
                // ↑/↓ scroll the lanes when they do not all fit; z/x zoom.
                Action::Up => self.view.first_lane = self.view.first_lane.saturating_sub(1),
                _ => {
                    let last = super::timeline::rows(self).len().saturating_sub(1);
                    self.view.first_lane = (self.view.first_lane + 1).min(last);
                }
            },
            Panel::Log => match a {
                Action::Up | Action::Left => {
                    self.log_scroll = (self.log_scroll + 1).min(self.lab.log.len())
                }
                _ => self.log_scroll = self.log_scroll.saturating_sub(1),
            },
            Panel::Runs => match a {
                Action::Up | Action::Left => {
                    self.selected_run = self.selected_run.saturating_sub(1)
                }
                _ => {
                    self.selected_run =
                        (self.selected_run + 1).min(self.history.len().saturating_sub(1))
                }
            },
            _ => {}
        }
    }

    /// The Settings form's source: native workers, or a real Python program.
    fn toggle_source(&mut self) {
        if self.program.take().is_some() {
            return;
        }
        match self.interpreters.first() {
            Some(python) => self.program = Some(form::first_program(python)),
            None => {
                self.message = Some(
                    "no Python 3.9 or later found: parlab tui py --python EXE SCRIPT opens the lab on one"
                        .into(),
                )
            }
        }
    }

    fn scroll_timeline(&mut self, back: bool) {
        if self.view.follow {
            self.view.follow = false;
            self.view.end_ns = self.now_ns();
        }
        let step = self.current_cell() * 20;
        self.view.end_ns = if back {
            self.view.end_ns.saturating_sub(step)
        } else {
            (self.view.end_ns + step).min(self.now_ns())
        };
    }

    fn step_workers(&mut self, up: bool) {
        form::change(Field::Workers, &mut self.spec, up, &self.config);
    }

    /// Turn a live knob of the run's strategy.
    fn turn(&mut self, key: char) {
        let Some(run) = &self.run else { return };
        if let Some(said) = run.control().turn(key) {
            self.lab.note(said);
        }
    }

    /// `/`: open the filter prompt; Enter in it applies (an empty filter clears).
    fn filter(&mut self) {
        match self.filter_input.take() {
            None => self.filter_input = Some(self.log_filter.clone().unwrap_or_default()),
            Some(f) => {
                self.log_filter = (!f.is_empty()).then_some(f);
                self.log_scroll = 0;
            }
        }
    }

    /// Filter the log by one lane (a click on it), or clear the filter.
    pub fn filter_lane(&mut self, name: Option<String>) {
        self.log_filter = name;
        self.log_scroll = 0;
    }

    fn stop(&mut self) {
        self.pending.clear();
        if let Some(run) = &self.run {
            run.control().cancel();
            self.lab.note("run stopped by the user");
        }
    }

    /// Start a run: the next of a loaded preset, else the settings shown.
    pub fn start(&mut self) {
        if self.run.is_some() {
            self.message = Some("a run is going: s stops it".into());
            return;
        }
        if self.sweep.as_ref().is_some_and(|s| s.running()) {
            self.message = Some("a sweep is measuring: wait for it to end".into());
            return;
        }
        match self.pending.pop_front() {
            Some(Plan::Native(spec)) => {
                self.spec = spec;
                self.program = None;
            }
            Some(Plan::Python(p)) => self.set_program(p),
            None => {}
        }
        match self.program.clone() {
            Some(program) => self.launch_program(program),
            None => self.launch(self.spec.clone()),
        }
    }

    /// Load `p` as the program Enter runs. A script from a file is read by
    /// the loop (the app does no I/O), for the Source view.
    pub fn set_program(&mut self, p: crate::plan::Program) {
        if self.program.as_ref().map(|q| &q.script) != Some(&p.script) {
            self.program_text = None;
            if !p.script.starts_with("lecture:") {
                self.effects.push(Effect::ReadScript(p.script.clone()));
            }
        }
        self.program = Some(p);
    }

    /// Run a Python program in the lab: no stdin (the lab has the terminal).
    fn launch_program(&mut self, program: crate::plan::Program) {
        self.launch_plan(crate::python::PyPlan {
            timeout: self.program_timeout,
            gil_hz: self.gil_hz,
            ..crate::python::PyPlan::of(program)
        });
    }

    /// Run a Python program as `plan` says, with no stdin (the lab has the terminal).
    pub(crate) fn launch_plan(&mut self, mut plan: crate::python::PyPlan) {
        plan.stdin_null = true;
        let window = crate::sampler::Window::open();
        self.begin(window, crate::python::start(plan).map(boxed));
    }

    /// Run natively with `spec`, unless the config's trust refuses it.
    pub(crate) fn launch(&mut self, spec: RunSpec) {
        if let Err(refused) = self.config.check_trusted(&spec) {
            self.pending.clear();
            self.message = Some(refused.to_string());
            return;
        }
        let window = crate::sampler::Window::open();
        self.begin(window, engine::start(spec).map(boxed));
    }

    /// Watch a run that started, measuring the machine from `window`; or
    /// say why it did not (and drop the rest of a preset).
    fn begin(&mut self, window: crate::sampler::Window, started: anyhow::Result<Box<dyn Source>>) {
        match started {
            Ok(run) => {
                self.watch(run);
                self.window = Some(window);
            }
            Err(e) => {
                self.pending.clear();
                self.message = Some(format!("{e:#}"));
            }
        }
    }

    /// Show a run any source started, live, measuring the machine from now.
    pub fn adopt(&mut self, started: anyhow::Result<Box<dyn Source>>) {
        self.begin(crate::sampler::Window::open(), started);
    }

    /// Show a run from any source, live.
    fn watch(&mut self, source: Box<dyn Source>) {
        let meta = source.meta().clone();
        self.lab = Lab::for_run(&meta);
        self.lab.note(meta.headline());
        self.info = Some(meta.clone());
        self.outcome = None;
        self.message = None;
        self.view.follow = true;
        self.view.first_lane = 0;
        self.playback = None;
        let mut keep = Recorder::memory();
        keep.begin(&meta);
        self.keeping = Some(keep);
        if let Some(r) = &self.recorder {
            lock(r).begin(&meta);
        }
        self.run = Some(source);
    }

    /// Keep a batch of the live run: in memory, and in the file when recording.
    fn keep(&mut self, batch: &crate::event::Batch) {
        if let Some(k) = &mut self.keeping {
            k.events(batch);
        }
        if let Some(r) = &self.recorder {
            lock(r).events(batch);
        }
    }

    fn load_preset(&mut self, n: usize) {
        let Some(preset) = self.presets.get(n).cloned() else {
            self.message = Some(format!("no preset {}", n + 1));
            return;
        };
        match preset.plans(&self.config) {
            Ok(plans) => {
                self.pending = plans.into();
                match self.pending.front() {
                    Some(Plan::Native(first)) => {
                        self.spec = first.clone();
                        self.program = None;
                    }
                    Some(Plan::Python(p)) => self.set_program(p.clone()),
                    None => {}
                }
                self.message = Some(format!(
                    "preset: {} ({} runs): Enter runs them",
                    preset.name,
                    self.pending.len()
                ));
                self.preset = Some(preset.name);
            }
            Err(e) => self.message = Some(format!("{e:#}")),
        }
    }

    fn rerun(&mut self) {
        if self.run.is_some() {
            return;
        }
        let Some(row) = self.history.get(self.selected_run) else {
            return;
        };
        match row.plan.clone() {
            Some(Plan::Native(spec)) => {
                self.spec = spec.clone();
                self.program = None;
                self.launch(spec);
            }
            Some(Plan::Python(program)) => {
                self.set_program(program);
                self.start();
            }
            None => self.message = Some("this run's source cannot run it again".into()),
        }
    }

    /// Write the selected run (else the last), as `parlab run --json` would
    /// print it, to `parlab-run-<ms>.json` in the current folder.
    fn export(&mut self) {
        let row = if self.focus == Panel::Runs {
            self.history.get(self.selected_run)
        } else {
            self.history.last()
        };
        let Some(row) = row else {
            self.message = Some("no finished run to export".into());
            return;
        };
        self.effects.push(Effect::Export(row.json.clone()));
    }

    /// Run a sweep of the current settings in the background; points land as measured.
    fn start_sweep(&mut self) {
        if self.sweep.as_ref().is_some_and(|s| s.running()) || self.run.is_some() {
            self.message = Some("wait for the run or sweep under way to end".into());
            return;
        }
        if !self.spec.strategy.desc.takes_workers() {
            self.message = Some(format!(
                "a sweep varies the workers: {} takes none",
                self.spec.strategy.name()
            ));
            return;
        }
        let grid = crate::sweep::default_grid(crate::sampler::logical_cores());
        self.effects
            .push(Effect::Sweep(self.spec.clone(), grid.clone(), 3));
        self.lab.note(format!(
            "sweep: {} workers",
            grid.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ));
    }

    /// The loop started the sweep asked for: its points arrive on `rx`.
    pub fn sweep_started(
        &mut self,
        spec: RunSpec,
        grid: Vec<u32>,
        rx: Receiver<Result<Point, String>>,
    ) {
        self.sweep = Some(SweepState {
            spec,
            grid,
            points: Vec::new(),
            p: None,
            p_interval: None,
            rx: Some(rx),
        });
    }

    /// Drain every pending event into the lab; collect the run once it ends.
    pub fn pump(&mut self) {
        self.pump_lesson();
        self.pump_sweep();
        self.pump_playback();
        if let Some(s) = &self.sampler {
            if let Some(sample) = s.latest() {
                self.cpu = Some(sample);
            }
        }
        let Some(run) = &mut self.run else { return };
        let batches = run.events().try_recv_all();
        let mut emptied = Vec::with_capacity(batches.len());
        for mut batch in batches {
            self.keep(&batch);
            self.lab.apply_from(&mut batch);
            emptied.push(batch);
        }
        if let Some(run) = &mut self.run {
            for batch in emptied {
                run.events().recycle(batch);
            }
        }
        if let Some(r) = &self.recorder {
            lock(r).flush_if_old();
        }
        let Some(run) = &self.run else { return };
        if let Some(s) = &self.sampler {
            let pids: Vec<u32> = self
                .lab
                .lanes
                .iter()
                .filter(|l| l.role == crate::event::Role::Process)
                .map(|l| l.pid)
                .collect();
            s.watch(pids);
        }
        if !run.is_finished() {
            return;
        }
        let mut run = self.run.take().expect("checked above");
        // The source has ended: whatever is left is already in the inbox.
        let batches = run.events().drain();
        for batch in batches {
            self.keep(&batch);
            self.lab.apply(batch);
        }
        let info = run.meta().clone();
        match run.join() {
            Ok(outcome) => self.finish(info, outcome),
            Err(e) => self.message = Some(format!("{e:#}")),
        }
        // A preset's next run starts as soon as the last one ends.
        if !self.pending.is_empty() {
            self.start();
        }
    }

    fn finish(&mut self, info: Meta, mut outcome: Outcome) {
        self.lab.finish(outcome.end_ns.max(self.lab.now));
        let ok = outcome.ok();
        let word = if ok {
            "finished"
        } else if outcome.cancelled && outcome.failures.is_empty() {
            "stopped"
        } else {
            "failed"
        };
        self.lab.note(format!(
            "run {word} in {:.1} ms",
            crate::clock::ms(outcome.wall_ns)
        ));
        let load = self
            .window
            .take()
            .map(|w| w.close(self.config.run.disturbed_threshold));
        if let Some(l) = load.filter(|l| l.disturbed()) {
            self.lab.note(format!(
                "disturbed: {}; rerun on a quieter machine",
                l.words()
            ));
        }
        outcome.machine = load;
        let recorded = self.end_keeping(&outcome);
        let json = crate::report::run_json(&info, &outcome, &self.lab, load.as_ref());
        self.history.push(RunRow {
            gil: gil_cell(&json, &self.lab),
            about: info.about.clone(),
            plan: info.plan(),
            // A program's workers are the lanes that ran a task, as its JSON says.
            workers: json["workers"].as_u64().unwrap_or(info.workers as u64) as u32,
            wall_ms: crate::clock::ms(outcome.wall_ns),
            events_sent: outcome.events_sent,
            ok,
            json,
            load,
            lab: Arc::new(self.lab.clone()),
            recorded,
            file: None,
        });
        self.selected_run = self.history.len() - 1;
        self.outcome = Some(outcome);
    }

    fn pump_sweep(&mut self) {
        let Some(s) = &mut self.sweep else { return };
        let Some(rx) = &s.rx else { return };
        let mut done = false;
        let mut error = None;
        loop {
            match rx.try_recv() {
                Ok(Ok(p)) => s.points.push(p),
                Ok(Err(e)) => error = Some(e),
                Err(crossbeam_channel::TryRecvError::Empty) => break,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    done = true;
                    break;
                }
            }
        }
        s.refit();
        if done {
            s.rx = None;
            let p = s.p;
            if let Some(e) = error {
                self.message = Some(e);
            }
            if let Some(p) = p {
                self.lab.note(format!("sweep done: p = {p:.2}"));
            }
        }
    }

    /// Wall time of the sequential run of this session with the same workload
    /// and parameters, for speedups.
    pub fn baseline_ms(&self, spec: &RunSpec) -> Option<f64> {
        self.history
            .iter()
            .rev()
            .find(|r| {
                r.ok && r.spec().is_some_and(|s| {
                    s.workload == spec.workload && s.strategy.desc == crate::strategy::baseline()
                })
            })
            .map(|r| r.wall_ms)
    }

    /// The baseline of any run: a native run's sequential run; a program's,
    /// the same script under the same interpreter run with `--mode sequential`.
    pub fn baseline_of(&self, plan: Option<&Plan>) -> Option<f64> {
        let Plan::Python(p) = plan? else {
            return self.baseline_ms(plan?.native()?);
        };
        let sequential = |args: &[String]| {
            args.windows(2)
                .any(|w| w[0] == "--mode" && w[1] == "sequential")
        };
        self.history
            .iter()
            .rev()
            .find(|r| match &r.plan {
                Some(Plan::Python(q)) => {
                    r.ok && q.script == p.script && q.python == p.python && sequential(&q.args)
                }
                _ => false,
            })
            .map(|r| r.wall_ms)
    }

    /// End the live run's recordings: the file's, and the one kept in memory (returned).
    fn end_keeping(&mut self, outcome: &Outcome) -> Option<Arc<RecordedRun>> {
        if let Some(r) = &self.recorder {
            let mut r = lock(r);
            r.end(outcome);
            if let Some(p) = r.problem() {
                self.message = Some(p.to_string());
            }
        }
        let mut keep = self.keeping.take()?;
        keep.end(outcome);
        let bytes = keep.into_bytes()?;
        let rec =
            crate::recording::read::parse(std::path::Path::new("memory"), bytes.into()).ok()?;
        rec.runs.into_iter().next().map(Arc::new)
    }

    /// Stop and join any run: every worker thread and process ends (and a
    /// recording under way gets the run's end).
    pub fn shut_down(&mut self) {
        self.pending.clear();
        if let Some(run) = self.run.take() {
            run.control().cancel();
            if let Ok(outcome) = run.join() {
                self.end_keeping(&outcome);
            }
        }
        // A sweep may hold it still: the last holder closes the file.
        self.recorder = None;
    }
}

/// The recorder, even if a thread that held it panicked (what it wrote stays readable).
pub(crate) fn lock(r: &Mutex<Recorder>) -> std::sync::MutexGuard<'_, Recorder> {
    r.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for App {
    /// However the app ends (a panic unwinding included), its run is stopped
    /// and every worker thread and process reaped.
    fn drop(&mut self) {
        self.shut_down();
    }
}
