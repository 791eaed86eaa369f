//! The TUI's state and what input does to it. Drawing lives in the panel
//! modules and only reads this; the workers never wait for either.

use super::form::{self, Field};
use crate::config::Config;
use crate::model::Lab;
use crate::plan::Plan;
use crate::plan::RunSpec;
use crate::presets::Preset;
use crate::recording::{RecordedRun, Recorder};
use crate::replay::Playback;
use crate::sampler::{CpuSample, Sampler};
use crate::source::{Meta, Outcome};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

pub use super::history::{gil_cell, RunRow, SweepState};
pub use super::keys::{action_for, knob_keys, Action, Panel};

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

/// What the Profile panel shows: whose samples (none: every lane), by
/// function or line, sorted by what, scrolled how far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProfileView {
    pub lane: Option<crate::event::LaneId>,
    pub grain: crate::model::profile::Grain,
    pub key: crate::model::profile::SortKey,
    pub scroll: usize,
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
    /// Stacks read a second for a program's profile (`--profile-hz`).
    pub profile_hz: u32,
    /// What the Profile panel shows.
    pub profile_view: ProfileView,
    /// Enter runs a program this many times (`tui py --repeat`).
    pub program_repeat: u32,
    /// The Source view (`o`) is open, scrolled to this line.
    pub source_view: Option<usize>,
    /// The Pythons found as the lab opened (3.9 or later), for the Settings form.
    pub interpreters: Vec<crate::plan::Interpreter>,
    /// The selected field of the settings form.
    pub field: usize,
    pub focus: Panel,
    /// The run under way, whatever its source.
    pub run: Option<crate::session::Session>,
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
            profile_hz: crate::python::stacks::DEFAULT_HZ,
            profile_view: ProfileView::default(),
            program_repeat: 1,
            source_view: None,
            interpreters: Vec::new(),
            field: 0,
            focus: Panel::Settings,
            run: None,
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
            Lines => self.profile_view.grain = self.profile_view.grain.other(),
            SortKey => self.profile_view.key = self.profile_view.key.next(),
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
        let shown: Vec<Panel> = Panel::ALL
            .into_iter()
            .filter(|&p| p != Panel::Profile || self.profiled())
            .collect();
        let i = shown.iter().position(|&p| p == self.focus).unwrap_or(0);
        let n = shown.len();
        self.focus = shown[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    /// Whether the Profile panel is on screen: the lab is on a program, or
    /// holds stacks (a replay's, a compare's).
    pub fn profiled(&self) -> bool {
        self.program.is_some()
            || !self.lab.profile.is_empty()
            || self.marked.iter().any(|&i| {
                self.history
                    .get(i)
                    .is_some_and(|r| !r.lab.profile.is_empty())
            })
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
            Panel::Profile => match a {
                Action::Up => self.profile_view.scroll = self.profile_view.scroll.saturating_sub(1),
                Action::Down => self.profile_view.scroll += 1,
                _ => {
                    let lane = self.profile_view.lane;
                    self.profile_view.lane =
                        super::profile::step_lane(self, lane, a == Action::Right);
                    self.profile_view.scroll = 0;
                }
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
