//! The TUI's state and what keys do to it. Drawing lives in the panel
//! modules and only reads this; the workers never wait for either.

use crate::engine::{self, Outcome, Run, RunInfo, RunSpec};
use crate::model::Lab;
use crate::strategy::StrategyKind;
use crate::workload::WorkloadKind;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::time::SystemTime;

/// The settings the user can change from the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Workload,
    Strategy,
    Workers,
    Gil,
}

impl Field {
    const ALL: [Field; 4] = [Field::Workload, Field::Strategy, Field::Workers, Field::Gil];
}

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Quit,
    NextField,
    PrevField,
    Increase,
    Decrease,
    MoreWorkers,
    FewerWorkers,
    ToggleGil,
    ZoomIn,
    ZoomOut,
    Freeze,
    ScrollBack,
    ScrollForward,
    Help,
    CloseOverlay,
    FasterProducers,
    SlowerProducers,
    MoreConsumers,
    FewerConsumers,
}

/// Map a key press to an action.
pub fn action_for(key: KeyEvent) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    Some(match key.code {
        KeyCode::Enter => Action::Start,
        KeyCode::Char('s') => Action::Stop,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Right | KeyCode::Tab => Action::NextField,
        KeyCode::Left | KeyCode::BackTab => Action::PrevField,
        KeyCode::Up => Action::Increase,
        KeyCode::Down => Action::Decrease,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::MoreWorkers,
        KeyCode::Char('-') => Action::FewerWorkers,
        KeyCode::Char('g') => Action::ToggleGil,
        KeyCode::Char('z') => Action::ZoomIn,
        KeyCode::Char('x') => Action::ZoomOut,
        KeyCode::Char(' ') => Action::Freeze,
        KeyCode::PageUp => Action::ScrollBack,
        KeyCode::PageDown => Action::ScrollForward,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::CloseOverlay,
        KeyCode::Char(']') => Action::FasterProducers,
        KeyCode::Char('[') => Action::SlowerProducers,
        KeyCode::Char('>') => Action::MoreConsumers,
        KeyCode::Char('<') => Action::FewerConsumers,
        _ => return None,
    })
}

/// The timeline's view: zoom, follow or frozen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimelineView {
    /// Nanoseconds per cell; `None`: chosen so the whole run fits.
    pub cell_ns: Option<u64>,
    /// Follow the run live; when frozen, `end_ns` is the right edge.
    pub follow: bool,
    pub end_ns: u64,
}

/// A finished run, for the comparison table.
#[derive(Clone, Debug)]
pub struct RunRow {
    pub workload: WorkloadKind,
    pub strategy: StrategyKind,
    pub gil: bool,
    pub workers: u32,
    pub wall_ms: f64,
    pub events: u64,
    pub ok: bool,
}

/// The whole TUI state.
pub struct App {
    /// The settings for the next run.
    pub spec: RunSpec,
    pub field: Field,
    pub run: Option<Run>,
    pub info: Option<RunInfo>,
    pub outcome: Option<Outcome>,
    pub lab: Lab,
    pub history: Vec<RunRow>,
    pub view: TimelineView,
    pub help: bool,
    pub quit: bool,
    /// The last problem, shown in the status bar.
    pub message: Option<String>,
    pub fps: u32,
}

impl App {
    /// A fresh app on these settings.
    pub fn new(spec: RunSpec, fps: u32) -> Self {
        Self {
            spec,
            field: Field::Workload,
            run: None,
            info: None,
            outcome: None,
            lab: Lab::new(Vec::new(), SystemTime::now()),
            history: Vec::new(),
            view: TimelineView {
                cell_ns: None,
                follow: true,
                end_ns: 0,
            },
            help: false,
            quit: false,
            message: None,
            fps,
        }
    }

    /// Whether a run is going.
    pub fn running(&self) -> bool {
        self.run.is_some()
    }

    /// The time at the timeline's right edge.
    pub fn now_ns(&self) -> u64 {
        match (&self.run, &self.info) {
            (Some(run), _) => run.info.clock.now(),
            _ => self.lab.now,
        }
    }

    /// The timeline's cell width now (zooming starts from it).
    fn current_cell(&self) -> u64 {
        self.view
            .cell_ns
            .unwrap_or_else(|| super::timeline::auto_cell(self.now_ns(), 100))
    }

    /// Do what the user asked.
    pub fn apply(&mut self, action: Action) {
        use Action::*;
        match action {
            Start => self.start(),
            Stop => {
                if let Some(run) = &self.run {
                    run.cancel();
                    self.lab.note("run stopped by the user");
                }
            }
            Quit => {
                if let Some(run) = &self.run {
                    run.cancel();
                }
                self.quit = true;
            }
            NextField | PrevField => {
                let i = Field::ALL
                    .iter()
                    .position(|&f| f == self.field)
                    .unwrap_or(0);
                let n = Field::ALL.len();
                let j = if action == NextField {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.field = Field::ALL[j];
            }
            Increase | Decrease => self.change_field(action == Increase),
            MoreWorkers => self.step_workers(1),
            FewerWorkers => self.step_workers(-1),
            ToggleGil => self.spec.gil = !self.spec.gil,
            ZoomIn => self.view.cell_ns = Some((self.current_cell() / 2).max(100_000)),
            ZoomOut => self.view.cell_ns = Some((self.current_cell() * 2).min(60_000_000_000)),
            Freeze => {
                self.view.follow = !self.view.follow;
                self.view.end_ns = self.now_ns();
            }
            ScrollBack | ScrollForward => {
                if self.view.follow {
                    self.view.follow = false;
                    self.view.end_ns = self.now_ns();
                }
                let step = self.current_cell() * 20;
                self.view.end_ns = if action == ScrollBack {
                    self.view.end_ns.saturating_sub(step)
                } else {
                    (self.view.end_ns + step).min(self.now_ns())
                };
            }
            Help => self.help = !self.help,
            CloseOverlay => self.help = false,
            FasterProducers | SlowerProducers => self.change_rate(action == FasterProducers),
            MoreConsumers | FewerConsumers => self.change_consumers(action == MoreConsumers),
        }
    }

    fn change_field(&mut self, up: bool) {
        match self.field {
            Field::Workload => {
                self.spec.workload.kind = cycle(&WorkloadKind::ALL, self.spec.workload.kind, up)
            }
            Field::Strategy => {
                self.spec.strategy = cycle(&StrategyKind::ALL, self.spec.strategy, up)
            }
            Field::Workers => self.step_workers(if up { 1 } else { -1 }),
            Field::Gil => self.spec.gil = !self.spec.gil,
        }
    }

    fn step_workers(&mut self, by: i64) {
        let now = self.spec.workers.unwrap_or_else(engine::logical_cores) as i64;
        self.spec.workers = Some((now + by).clamp(1, engine::MAX_WORKERS as i64) as u32);
    }

    fn change_rate(&mut self, faster: bool) {
        let Some(run) = &self.run else { return };
        let c = run.queue_control();
        let rate = c.rate().unwrap_or(100.0);
        let next = if faster { rate * 1.5 } else { rate / 1.5 };
        c.set_rate(Some(next));
        self.lab
            .note(format!("producer rate set to {next:.1} items/s"));
    }

    fn change_consumers(&mut self, more: bool) {
        let Some(run) = &self.run else { return };
        let c = run.queue_control();
        let n = if more {
            c.consumers() + 1
        } else {
            c.consumers().saturating_sub(1).max(1)
        };
        c.set_consumers(n);
        self.lab.note(format!("consumers set to {n}"));
    }

    /// Start a run on the current settings (stopping any run under way).
    pub fn start(&mut self) {
        if self.run.is_some() {
            self.message = Some("a run is going: s stops it".into());
            return;
        }
        match engine::start(self.spec.clone()) {
            Ok(run) => {
                self.lab = Lab::new(run.info.tasks.clone(), run.info.started);
                self.lab.note(format!(
                    "{} with {}, {} workers{}",
                    run.info.spec.workload.kind.name(),
                    run.info.spec.strategy.name(),
                    run.info.workers,
                    if run.info.spec.gil && run.info.spec.strategy.gil_applies() {
                        ", GIL on"
                    } else {
                        ""
                    }
                ));
                self.info = Some(run.info.clone());
                self.outcome = None;
                self.message = None;
                self.view.follow = true;
                self.run = Some(run);
            }
            Err(e) => self.message = Some(format!("{e:#}")),
        }
    }

    /// Drain every pending event into the lab; collect the run once it ends.
    pub fn pump(&mut self) {
        let Some(run) = &self.run else { return };
        for batch in run.events.try_iter() {
            self.lab.apply(batch);
        }
        if !run.is_finished() {
            return;
        }
        let run = self.run.take().expect("checked above");
        // The driver has ended: whatever is left is already in the channel.
        for batch in run.events.try_iter() {
            self.lab.apply(batch);
        }
        let info = run.info.clone();
        match run.join() {
            Ok(outcome) => {
                self.lab.finish(outcome.end_ns.max(self.lab.now));
                let ok = outcome.failures.is_empty() && !outcome.cancelled;
                self.lab.note(format!(
                    "run {} in {:.1} ms",
                    if ok {
                        "finished"
                    } else if outcome.cancelled && outcome.failures.is_empty() {
                        "stopped"
                    } else {
                        "failed"
                    },
                    crate::clock::ms(outcome.wall_ns)
                ));
                self.history.push(RunRow {
                    workload: info.spec.workload.kind,
                    strategy: info.spec.strategy,
                    gil: info.spec.gil && info.spec.strategy.gil_applies(),
                    workers: info.workers,
                    wall_ms: crate::clock::ms(outcome.wall_ns),
                    events: outcome.events_sent,
                    ok,
                });
                self.outcome = Some(outcome);
            }
            Err(e) => self.message = Some(format!("{e:#}")),
        }
    }

    /// Wall time of the matching sequential run of this session, for the speedup.
    pub fn baseline_ms(&self, workload: WorkloadKind) -> Option<f64> {
        self.history
            .iter()
            .rev()
            .find(|r| r.ok && r.workload == workload && r.strategy == StrategyKind::Sequential)
            .map(|r| r.wall_ms)
    }

    /// Stop and join any run: every worker thread and process ends.
    pub fn shut_down(&mut self) {
        if let Some(run) = self.run.take() {
            run.cancel();
            let _ = run.join();
        }
    }
}

impl Drop for App {
    /// However the app ends (a panic unwinding included), its run is stopped
    /// and every worker thread and process reaped.
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], now: T, up: bool) -> T {
    let i = all.iter().position(|&x| x == now).unwrap_or(0);
    let n = all.len();
    all[if up { (i + 1) % n } else { (i + n - 1) % n }]
}
