//! What the lab does in a lesson: Enter and PgDn walk it (run the step,
//! reveal it, go on), PgUp goes back, `a`–`d` count raised hands while a
//! question is open. Every other key of the lab still works. State lives
//! in [`App`] (the walk itself in [`crate::lesson::walk`]); the caption
//! panel reads it.

use super::app::{App, Effect, Panel};
use crate::launch::Launch;
use crate::lesson::walk::{Next, Phase, Walk};
use crate::recording::RecordedRun;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use serde_json::Value;
use std::collections::VecDeque;
use std::path::PathBuf;

/// A lesson open in the lab.
pub struct LessonRun {
    pub walk: Walk,
    /// Runs prepared in advance (`--recorded`), one a step that runs, in order.
    recorded: VecDeque<RecordedRun>,
    /// When it was recorded, said in the caption.
    pub recorded_on: Option<String>,
    /// The Markdown report to keep up to date (`--report`).
    report: Option<PathBuf>,
    /// The step's run: the Runs panel's rows before it, and a replayed
    /// run's JSON, revealed once its replay reaches its end.
    rows_before: usize,
    replayed: Option<Value>,
    /// A sweep measuring for the step: its settings and repeats.
    sweeping: Option<(crate::plan::RunSpec, u32)>,
    /// A preset's runs for the step: how many (0: one run, not a preset).
    preset: usize,
}

impl App {
    /// Open the lab on a lesson at its first step; `recorded`: its runs
    /// prepared in advance; `report`: where to write the class's answers.
    pub fn open_lesson(
        &mut self,
        walk: Walk,
        recorded: Vec<RecordedRun>,
        recorded_on: Option<String>,
        report: Option<PathBuf>,
    ) {
        self.message = Some(format!(
            "lesson: {} ({} steps): Enter or PgDn runs each step, then reveals it; PgUp goes back",
            walk.lesson.title,
            walk.lesson.steps.len()
        ));
        self.focus = Panel::Timeline;
        self.narrate = true;
        self.show_step_settings(&walk);
        self.lesson = Some(LessonRun {
            walk,
            recorded: recorded.into(),
            recorded_on,
            report,
            rows_before: 0,
            replayed: None,
            sweeping: None,
            preset: 0,
        });
    }

    /// A key the lesson takes before the lab does; false if it is the lab's.
    pub fn lesson_key(&mut self, key: KeyEvent) -> bool {
        if key.kind != KeyEventKind::Press || self.typing() || self.help {
            return false;
        }
        let Some(l) = &mut self.lesson else {
            return false;
        };
        match key.code {
            KeyCode::Enter | KeyCode::PageDown => self.lesson_forward(),
            KeyCode::PageUp => l.walk.back(),
            KeyCode::Char(c @ 'a'..='d') if l.walk.phase == Phase::Said => {
                // A question open: the letters count hands; else they are the lab's.
                return l.walk.hand(c as usize - 'a' as usize);
            }
            _ => return false,
        }
        true
    }

    /// Enter or PgDn: run the step, or go on to the next.
    fn lesson_forward(&mut self) {
        if self.running() {
            self.message = Some("the step's run is going: s stops it".into());
            return;
        }
        let Some(l) = &mut self.lesson else { return };
        match l.walk.advance() {
            Ok(Next::Run(launch)) => self.lesson_run(launch),
            Ok(Next::Shown) => {
                self.lesson_revealed();
                if let Some(l) = self.lesson.take() {
                    if l.walk.phase == Phase::Said {
                        self.show_step_settings(&l.walk);
                    }
                    self.lesson = Some(l);
                }
            }
            Ok(Next::Done) => {
                self.message = Some("the lesson is over: q quits, PgUp goes back".into())
            }
            Err(e) => self.message = Some(format!("{e:#}")),
        }
    }

    /// The Settings show what the step is about to run, before it runs.
    fn show_step_settings(&mut self, walk: &Walk) {
        let mut launch = walk.launch();
        while let Some(Launch::Preset(runs)) = launch {
            launch = runs.first();
        }
        match launch {
            Some(Launch::Native(spec) | Launch::Sweep { spec, .. }) => {
                self.spec = spec.clone();
                self.program = None;
            }
            Some(Launch::Py(plan)) => self.set_program(plan.program.clone()),
            _ => {}
        }
    }

    /// Start the step's run: the one prepared in advance, else live.
    fn lesson_run(&mut self, launch: Launch) {
        let Some(l) = &mut self.lesson else { return };
        l.rows_before = self.history.len();
        if !l.recorded.is_empty() {
            return self.lesson_replay(&launch);
        }
        match launch {
            Launch::Preset(runs) => {
                self.pending = runs.iter().map(Launch::plan).collect();
                l.preset = runs.len();
                self.start();
            }
            Launch::Sweep { spec, grid, repeat } => {
                self.spec = spec.clone();
                self.program = None;
                self.sweep = None;
                l.sweeping = Some((spec.clone(), repeat));
                self.effects.push(Effect::Sweep(spec, grid, repeat));
                return;
            }
            Launch::Native(spec) => {
                self.spec = spec.clone();
                self.program = None;
                self.launch(spec);
            }
            Launch::Py(plan) => {
                self.set_program(plan.program.clone());
                self.launch_plan(plan);
            }
        }
        if !self.running() {
            if let Some(l) = &mut self.lesson {
                l.walk.failed();
            }
        }
    }

    /// Show the step's runs prepared in advance: each a row of the Runs
    /// panel; one run replays, a sweep's runs fill the Amdahl panel.
    fn lesson_replay(&mut self, launch: &Launch) {
        let Some(l) = &mut self.lesson else { return };
        let file = l.recorded_on.clone().unwrap_or_default();
        let n = launch.runs().min(l.recorded.len());
        let rows: Vec<_> = l
            .recorded
            .drain(..n)
            .filter_map(|run| super::replaying::row_for(run, file.clone()))
            .collect();
        if rows.len() != launch.runs() {
            l.walk.failed();
            self.message = Some("the recording does not hold this step's runs".into());
            return;
        }
        if let Launch::Sweep { repeat, .. } = launch {
            if let Some((spec, points)) = super::replaying::sweep_of(&rows) {
                let sweep = crate::sweep::Sweep::of(points.clone());
                l.replayed = Some(crate::sweep::to_json(
                    &crate::plan::Plan::Native(spec.clone()),
                    *repeat,
                    &sweep,
                ));
                let grid = points.iter().map(|p| p.workers).collect();
                self.sweep = Some(super::app::SweepState::finished(spec, grid, points));
            }
            self.history.extend(rows);
            self.selected_run = self.history.len() - 1;
            return;
        }
        l.replayed = match launch {
            Launch::Preset(_) => Some(Value::Array(rows.iter().map(|r| r.json.clone()).collect())),
            _ => rows.first().map(|r| r.json.clone()),
        };
        self.history.extend(rows);
        self.selected_run = self.history.len() - 1;
        self.play(self.selected_run);
    }

    /// The JSON of the step's sweep, once it has measured every point.
    fn swept(&self) -> Option<Option<Value>> {
        let (spec, repeat) = self.lesson.as_ref()?.sweeping.clone()?;
        let s = match &self.sweep {
            Some(s) if !s.running() => s,
            _ => return Some(None),
        };
        let sweep = crate::sweep::Sweep::of(s.points.clone());
        Some(Some(crate::sweep::to_json(
            &crate::plan::Plan::Native(spec),
            repeat,
            &sweep,
        )))
    }

    /// Called every frame: a step's run that ended is judged and revealed.
    pub fn pump_lesson(&mut self) {
        let swept = self.swept();
        let Some(l) = &mut self.lesson else { return };
        if l.walk.phase != Phase::Running || self.run.is_some() || !self.pending.is_empty() {
            return;
        }
        if let Some(sweep) = swept {
            let Some(json) = sweep else { return };
            l.sweeping = None;
            match l.walk.ran(json) {
                Ok(()) => self.lesson_revealed(),
                Err(e) => {
                    l.walk.failed();
                    self.message = Some(format!("{e:#}"));
                }
            }
            return;
        }
        let json = match l.replayed.take() {
            Some(json) if self.playback.as_ref().is_some_and(|p| !p.at_end()) => {
                l.replayed = Some(json);
                return;
            }
            Some(json) => Some(json),
            None if l.preset > 0 => {
                let rows = self.history.get(l.rows_before..).unwrap_or_default();
                (rows.len() == std::mem::take(&mut l.preset))
                    .then(|| Value::Array(rows.iter().map(|r| r.json.clone()).collect()))
            }
            None => self.history.get(l.rows_before).map(|r| r.json.clone()),
        };
        let Some(json) = json else {
            // It did not start, or ended without a result: Enter tries again.
            l.walk.failed();
            return;
        };
        match l.walk.ran(json) {
            Ok(()) => self.lesson_revealed(),
            Err(e) => {
                l.walk.failed();
                self.message = Some(format!("{e:#}"));
            }
        }
    }

    /// A step revealed: focus its panel, keep the report up to date.
    fn lesson_revealed(&mut self) {
        let Some(l) = &self.lesson else { return };
        if l.walk.phase != Phase::Revealed {
            return;
        }
        if let Some(p) = l
            .walk
            .step()
            .focus
            .as_ref()
            .and_then(|f| panel(f.get_ref()))
        {
            self.focus = p;
        }
        if let Some(path) = &l.report {
            let text = crate::lesson::check::markdown(&l.walk);
            self.effects.push(Effect::Write(path.clone(), text));
        }
    }
}

/// The lab's panel a lesson's `focus` names.
fn panel(name: &str) -> Option<Panel> {
    Panel::ALL
        .into_iter()
        .find(|p| p.title().eq_ignore_ascii_case(name))
}
