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
        self.lesson = Some(LessonRun {
            walk,
            recorded: recorded.into(),
            recorded_on,
            report,
            rows_before: 0,
            replayed: None,
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
            Ok(Next::Shown) => self.lesson_revealed(),
            Ok(Next::Done) => {
                self.message = Some("the lesson is over: q quits, PgUp goes back".into())
            }
            Err(e) => self.message = Some(format!("{e:#}")),
        }
    }

    /// Start the step's run: the one prepared in advance, else live.
    fn lesson_run(&mut self, launch: Launch) {
        let Some(l) = &mut self.lesson else { return };
        l.rows_before = self.history.len();
        if let Some(run) = l.recorded.pop_front() {
            let file = l.recorded_on.clone().unwrap_or_default();
            match super::replaying::row_for(run, file) {
                Some(row) => {
                    l.replayed = Some(row.json.clone());
                    self.history.push(row);
                    self.selected_run = self.history.len() - 1;
                    self.play(self.selected_run);
                }
                None => l.walk.failed(),
            }
            return;
        }
        match launch {
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

    /// Called every frame: a step's run that ended is judged and revealed.
    pub fn pump_lesson(&mut self) {
        let Some(l) = &mut self.lesson else { return };
        if l.walk.phase != Phase::Running || self.run.is_some() {
            return;
        }
        let json = match l.replayed.take() {
            Some(json) if self.playback.as_ref().is_some_and(|p| !p.at_end()) => {
                l.replayed = Some(json);
                return;
            }
            Some(json) => Some(json),
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
