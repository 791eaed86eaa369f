//! Starting, watching and finishing runs: the lab's side of a source, from
//! the first event to the Runs row (and a sweep's points).

use super::app::{gil_cell, lock, App, Effect, Panel, RunRow, SweepState};
use crate::engine;
use crate::model::Lab;
use crate::plan::Plan;
use crate::plan::RunSpec;
use crate::recording::{RecordedRun, Recorder};
use crate::session::Session;
use crate::source::{Meta, Outcome, Source};
use crate::sweep::Point;
use crossbeam_channel::Receiver;
use std::sync::{Arc, Mutex};

/// Keep a batch of the live run: in memory, and in the file when recording.
fn keep(
    keeping: &mut Option<Recorder>,
    recorder: &Option<Arc<Mutex<Recorder>>>,
    batch: &crate::event::Batch,
) {
    if let Some(k) = keeping {
        k.events(batch);
    }
    if let Some(r) = recorder {
        lock(r).events(batch);
    }
}

/// A driven source as any source.
fn boxed(run: crate::source::Driven) -> Box<dyn Source> {
    Box::new(run)
}

impl App {
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
        // A run asked for anew (not the next of those waiting).
        let fresh = self.pending.is_empty();
        match self.pending.pop_front() {
            Some(Plan::Native(spec)) => {
                self.spec = spec;
                self.program = None;
            }
            Some(Plan::Python(p)) => self.set_program(p),
            None => {}
        }
        match self.program.clone() {
            Some(program) => {
                // `--repeat N`: the other N - 1 runs wait their turn, as a preset's do.
                if fresh {
                    let more = self.program_repeat.saturating_sub(1) as usize;
                    self.pending
                        .extend(std::iter::repeat_n(Plan::Python(program.clone()), more));
                }
                self.launch_program(program)
            }
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
    pub(super) fn launch_program(&mut self, program: crate::plan::Program) {
        self.launch_plan(crate::python::PyPlan {
            timeout: self.program_timeout,
            gil_hz: self.gil_hz,
            profile_hz: self.profile_hz,
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
    pub(super) fn begin(
        &mut self,
        window: crate::sampler::Window,
        started: anyhow::Result<Box<dyn Source>>,
    ) {
        match started {
            Ok(run) => {
                let threshold = self.config.run.disturbed_threshold;
                self.watch(Session::new(run, Some((window, threshold))));
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
    fn watch(&mut self, source: Session) {
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

    pub(super) fn load_preset(&mut self, n: usize) {
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

    pub(super) fn rerun(&mut self) {
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
    pub(super) fn export(&mut self) {
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
    pub(super) fn start_sweep(&mut self) {
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
        let (keeping, recorder) = (&mut self.keeping, &self.recorder);
        run.pump(&mut self.lab, None, |b| keep(keeping, recorder, b));
        if let Some(r) = &self.recorder {
            lock(r).flush_if_old();
        }
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
        let run = self.run.take().expect("checked above");
        // The source has ended: whatever is left is already in the inbox.
        let (keeping, recorder) = (&mut self.keeping, &self.recorder);
        match run.end(&mut self.lab, |b| keep(keeping, recorder, b)) {
            Ok((info, outcome)) => self.finish(info, outcome),
            Err(e) => self.message = Some(format!("{e:#}")),
        }
        // A preset's next run starts as soon as the last one ends.
        if !self.pending.is_empty() {
            self.start();
        }
    }

    pub(super) fn finish(&mut self, info: Meta, outcome: Outcome) {
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
        let load = outcome.machine;
        if let Some(l) = load.filter(|l| l.disturbed()) {
            self.lab.note(format!(
                "disturbed: {}; rerun on a quieter machine",
                l.words()
            ));
        }
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

    pub(super) fn pump_sweep(&mut self) {
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
    pub(super) fn end_keeping(&mut self, outcome: &Outcome) -> Option<Arc<RecordedRun>> {
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
            let (keeping, recorder) = (&mut self.keeping, &self.recorder);
            if let Ok((_, outcome)) = run.end(&mut self.lab, |b| keep(keeping, recorder, b)) {
                self.end_keeping(&outcome);
            }
        }
        // A sweep may hold it still: the last holder closes the file.
        self.recorder = None;
    }
}
