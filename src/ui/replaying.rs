//! What the lab does with recorded runs: replay one (play, pause, step,
//! seek, change the pace), mark and compare runs, record to a file, export a
//! trace. State lives in [`App`]; drawing reads it.

use super::app::{lock, Action, App, Effect, Panel, RunRow};
use crate::plan::Plan;
use crate::recording::{RecordedRun, Recorder, Recording};
use crate::replay::Playback;
use std::sync::Arc;
use std::time::Instant;

/// The most runs shown stacked at once.
pub const MAX_COMPARED: usize = 4;

/// Said where a replay key is pressed with no replay on show.
const NO_REPLAY: &str =
    "not replaying: v replays the selected run, or open files with parlab replay";

impl App {
    /// Open the lab on recordings: every run a row of the Runs panel; the
    /// first plays; two to four runs open stacked for comparison.
    pub fn open_recordings(&mut self, recordings: Vec<Recording>, speed: f64) {
        let first = self.history.len();
        for rec in recordings {
            let file = rec
                .path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| rec.path.display().to_string());
            if let Some(cut) = &rec.cut {
                self.message = Some(format!(
                    "{file} ends at byte {} of {} ({}): replaying what it holds",
                    cut.at, rec.size, cut.why
                ));
            }
            for run in rec.runs {
                let pb = Playback::new(run, file.clone());
                if let Some(row) = row_of(&pb) {
                    self.history.push(row);
                }
            }
        }
        // A recorded sweep: its points and fit on the Amdahl panel, from its runs' walls.
        if let Some((spec, points)) = sweep_of(&self.history[first..]) {
            let grid = points.iter().map(|p| p.workers).collect();
            self.sweep = Some(super::app::SweepState::finished(spec, grid, points));
        }
        self.selected_run = first;
        self.play(first);
        if let Some(p) = &mut self.playback {
            p.speed = speed;
        }
        let n = self.history.len() - first;
        if n == 0 {
            return;
        }
        if n >= 2 {
            self.marked = (first..first + n.min(MAX_COMPARED)).collect();
            self.compare = true;
        }
    }

    /// Replay row `i` from its start, playing.
    pub fn play(&mut self, i: usize) {
        let Some(row) = self.history.get(i) else {
            return;
        };
        let Some(run) = row.recorded.clone() else {
            self.message = Some(format!(
                "run {} was too long to keep in memory: record it with --record",
                i + 1
            ));
            return;
        };
        if self.run.is_some() {
            self.message = Some("a run is going: s stops it, then v replays".into());
            return;
        }
        let file = row.file.clone().unwrap_or_else(|| format!("run {}", i + 1));
        let pb = Playback::new((*run).clone(), file);
        self.lab = pb.start_lab();
        self.info = Some(pb.run.header.meta.clone());
        // Enter runs the same settings (or program) live, beside the recording.
        match pb.run.header.meta.plan() {
            Some(Plan::Native(spec)) => {
                self.spec = spec;
                self.program = None;
            }
            Some(Plan::Python(p)) => self.set_program(p),
            None => {}
        }
        self.outcome = None;
        self.view.follow = true;
        self.view.first_lane = 0;
        self.played_at = None;
        self.compare = false;
        self.playback = Some(pb);
    }

    /// `v`: replay the selected run.
    pub(super) fn view_selected(&mut self) {
        self.play(self.selected_run);
    }

    /// Move a replay on by the wall time since the last frame.
    pub(super) fn pump_playback(&mut self) {
        let Some(pb) = &mut self.playback else {
            return;
        };
        let now = Instant::now();
        let elapsed = self.played_at.map(|t| now - t).unwrap_or_default();
        self.played_at = Some(now);
        pb.tick(&mut self.lab, elapsed);
        // The outcome shows once the replay reaches the end, as a live run's does.
        if pb.at_end() != self.outcome.is_some() {
            self.outcome = pb.at_end().then(|| pb.outcome.clone());
        }
    }

    /// ←/→ on the Timeline in a replay: a second back or on.
    pub(super) fn seek_by(&mut self, seconds: f64) {
        let Some(pb) = &mut self.playback else {
            return;
        };
        let to = (pb.at_ns as f64 + seconds * 1e9).max(0.0) as u64;
        pb.seek(&mut self.lab, to);
        self.view.follow = true;
    }

    /// The replay keys: pace, steps, Home/End, `:`.
    pub(super) fn steer(&mut self, action: Action) {
        let Some(pb) = &mut self.playback else {
            self.message = Some(NO_REPLAY.into());
            return;
        };
        match action {
            Action::Slower => pb.change_speed(false),
            Action::Faster => pb.change_speed(true),
            Action::StepForward => pb.step(&mut self.lab, true),
            Action::StepBack => pb.step(&mut self.lab, false),
            Action::ToStart => pb.seek(&mut self.lab, 0),
            Action::ToEnd => pb.seek(&mut self.lab, u64::MAX),
            Action::GoTo => self.time_input = Some(String::new()),
            _ => {}
        }
        self.view.follow = true;
    }

    /// Enter after `:`: go to the time typed.
    pub(super) fn go_to_typed(&mut self) {
        let typed = self.time_input.take().unwrap_or_default();
        let Some(pb) = &mut self.playback else {
            return;
        };
        match parse_time(&typed) {
            Some(t) => pb.seek(&mut self.lab, t),
            None => {
                self.message = Some(format!(
                    "not a time: '{typed}' (seconds like 2.5, 1500ms, or 1:02.5)"
                ))
            }
        }
    }

    /// `m`: mark or unmark the selected run for comparison.
    pub(super) fn mark(&mut self) {
        if self.history.is_empty() {
            self.message = Some("no finished run to mark".into());
            return;
        }
        let i = self.selected_run.min(self.history.len() - 1);
        if let Some(at) = self.marked.iter().position(|&m| m == i) {
            self.marked.remove(at);
        } else if self.marked.len() >= MAX_COMPARED {
            self.message = Some(format!(
                "{MAX_COMPARED} runs are marked, the most compared at once: m on one unmarks it"
            ));
            return;
        } else {
            self.marked.push(i);
            // Stacked in the Runs panel's order.
            self.marked.sort_unstable();
        }
        let list: Vec<String> = self.marked.iter().map(|m| (m + 1).to_string()).collect();
        self.message = Some(match self.marked.len() {
            0 => "no run marked".into(),
            1 => format!(
                "run {} marked: mark one to three more, then c compares",
                list[0]
            ),
            _ => format!("runs {} marked: c compares them", list.join(", ")),
        });
    }

    /// `c`: the marked runs stacked on one time axis, or back.
    pub(super) fn toggle_compare(&mut self) {
        if self.compare {
            self.compare = false;
        } else if (2..=MAX_COMPARED).contains(&self.marked.len()) {
            self.compare = true;
        } else {
            self.message = Some(format!(
                "mark two to {MAX_COMPARED} runs with m in the Runs panel, then c compares them"
            ));
        }
    }

    /// The runs compared, in the Runs panel's order.
    pub fn compared(&self) -> Vec<&RunRow> {
        self.marked
            .iter()
            .filter_map(|&i| self.history.get(i))
            .collect()
    }

    /// `E`: the selected run (else the last) as a Chrome trace.
    pub(super) fn export_trace(&mut self) {
        let row = if self.focus == Panel::Runs {
            self.history.get(self.selected_run)
        } else {
            self.history.last()
        };
        match row.map(|r| r.recorded.clone()) {
            None => self.message = Some("no finished run to export".into()),
            Some(None) => {
                self.message = Some("that run was too long to keep in memory: record it with --record, then parlab export".into())
            }
            Some(Some(run)) => self.effects.push(Effect::ExportTrace(run)),
        }
    }

    /// `R`: start recording to a new file (the run under way from its
    /// start), or stop and say where it went.
    pub(super) fn toggle_recording(&mut self) {
        match self.recorder.take() {
            Some(r) => {
                let r = lock(&r);
                self.message = Some(match r.problem() {
                    Some(p) => p.to_string(),
                    None => format!(
                        "recording stopped: {} ({} events): parlab replay it",
                        r.path().display(),
                        r.events_written()
                    ),
                });
            }
            None => self.effects.push(Effect::StartRecording),
        }
    }

    /// The loop made the file for `R`: record to it from now, the run under
    /// way from its start.
    pub fn start_recording(&mut self, path: &std::path::Path) {
        let made = match self.keeping.as_mut() {
            Some(kept) => Recorder::create_from(path, kept),
            None => Recorder::create(path),
        };
        match made {
            Ok(r) => {
                self.message = Some(format!(
                    "recording every run to {}: R stops",
                    path.display()
                ));
                self.recorder = Some(Arc::new(std::sync::Mutex::new(r)));
            }
            Err(e) => self.message = Some(format!("{e:#}")),
        }
    }
}

/// A row of the Runs panel for a replayed run.
/// The sweep finished rows make, where they are one (see [`crate::sweep::from_runs`]).
pub(super) fn sweep_of(
    rows: &[RunRow],
) -> Option<(crate::plan::RunSpec, Vec<crate::sweep::Point>)> {
    let runs: Vec<_> = rows
        .iter()
        .filter_map(|r| {
            Some((
                r.spec()?.clone(),
                r.workers,
                r.wall_ms,
                r.load.is_some_and(|l| l.disturbed()),
            ))
        })
        .collect();
    crate::sweep::from_runs(&runs)
}

/// A recorded run as a row of the Runs panel (`file`: where it came from).
pub(super) fn row_for(run: RecordedRun, file: String) -> Option<RunRow> {
    row_of(&Playback::new(run, file))
}

fn row_of(pb: &Playback) -> Option<RunRow> {
    let meta = &pb.run.header.meta;
    let outcome = pb.outcome.clone();
    let json = crate::report::run_json(meta, &outcome, &pb.last, outcome.machine.as_ref());
    Some(RunRow {
        gil: super::app::gil_cell(&json, &pb.last),
        about: meta.about.clone(),
        plan: meta.plan(),
        workers: json["workers"].as_u64().unwrap_or(meta.workers as u64) as u32,
        wall_ms: crate::clock::ms(outcome.wall_ns),
        events_sent: outcome.events_sent,
        ok: outcome.ok() && !outcome.truncated,
        json,
        load: outcome.machine,
        lab: Arc::new(pb.last.clone()),
        recorded: Some(Arc::new(pb.run.clone()) as Arc<RecordedRun>),
        file: Some(pb.file.clone()),
    })
}

/// A time typed after `:`: `2.5` or `2.5s` (seconds), `1500ms`, `1:02.5`.
pub fn parse_time(s: &str) -> Option<u64> {
    let s = s.trim();
    let secs = if let Some(ms) = s.strip_suffix("ms") {
        ms.trim().parse::<f64>().ok()? / 1000.0
    } else if let Some((m, sec)) = s.split_once(':') {
        m.trim().parse::<u64>().ok()? as f64 * 60.0 + sec.trim().parse::<f64>().ok()?
    } else {
        s.trim_end_matches('s').trim().parse::<f64>().ok()?
    };
    (secs.is_finite() && secs >= 0.0).then_some((secs * 1e9) as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_are_typed_in_seconds_milliseconds_or_minutes() {
        assert_eq!(parse_time("2.5"), Some(2_500_000_000));
        assert_eq!(parse_time("2.5s"), Some(2_500_000_000));
        assert_eq!(parse_time(" 1500ms"), Some(1_500_000_000));
        assert_eq!(parse_time("1:02.5"), Some(62_500_000_000));
        assert_eq!(parse_time("0"), Some(0));
        for bad in ["", "x", "-1", "1:x", "nan", "inf"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
