//! The Summary panel: the current run's wall time, speedup, efficiency,
//! events sent and received, and failures.

use super::app::App;
use super::theme::Theme;
use crate::clock::ms;
use crate::sampler::Load;
use crate::source::{Meta, Outcome};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

fn short_result(r: &serde_json::Value) -> String {
    let Some(m) = r.as_object() else {
        return r.to_string();
    };
    m.iter()
        .filter(|(_, v)| !v.is_array() && !v.is_object())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    let mut lines = match &app.info {
        None => vec![Line::styled(
            "no run yet: Enter starts one, 1-8 load a preset",
            theme.dim(),
        )],
        Some(info) => run_lines(app, info, theme),
    };
    if let Some(detail) = selected_row(app) {
        lines.insert(0, Line::styled(detail, theme.accent()));
    }
    lines.extend(
        repeats(app)
            .into_iter()
            .map(|l| Line::styled(l, theme.dim())),
    );
    if let Some(preset) = &app.preset {
        if !app.pending.is_empty() {
            lines.push(Line::styled(
                format!("preset {preset}: {} runs to go", app.pending.len()),
                theme.accent(),
            ));
        }
    }
    if let Some(m) = &app.message {
        lines.push(Line::styled(m.clone(), theme.error()));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        area,
    );
}

/// The latest runs of one program, as `timeit` would report them: min,
/// median and max of its own wall time and their histogram (the first run
/// apart). Nothing until a program has run twice in a row.
fn repeats(app: &App) -> Vec<String> {
    let Some(last) = app.history.last().and_then(|r| r.plan.as_ref()) else {
        return Vec::new();
    };
    if last.native().is_some() {
        return Vec::new();
    }
    let streak: Vec<crate::repeat::Timed> = app
        .history
        .iter()
        .rev()
        .take_while(|r| r.plan.as_ref() == Some(last))
        .map(|r| {
            let wall_ns = (r.wall_ms * 1e6) as u64;
            let disturbed = r.load.is_some_and(|l| l.disturbed());
            crate::repeat::Timed::new(r.json.get("result"), wall_ns, disturbed, false)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if streak.len() < 2 {
        return Vec::new();
    }
    let words = crate::repeat::words(&streak, 24);
    let first = streak[0].wall_ms;
    let mut out = vec![format!(
        "its last {} runs (the first {first:.1} ms):",
        streak.len()
    )];
    out.extend(words.into_iter().rev().take(2).rev());
    out
}

/// With Runs focused, the selected row whole: the label its narrow column cuts.
fn selected_row(app: &App) -> Option<String> {
    if app.focus != super::app::Panel::Runs {
        return None;
    }
    let i = app.selected_run.min(app.history.len().checked_sub(1)?);
    let r = &app.history[i];
    Some(format!(
        "run {}: {} {} · {} · {} workers · {:.0} ms",
        i + 1,
        r.about.workload,
        r.about.params.join(" "),
        r.about.runner,
        r.workers,
        r.wall_ms
    ))
}

/// The run's state in one word.
fn state(app: &App) -> &'static str {
    let outcome = app.outcome.as_ref();
    if let Some(p) = app.playback.as_ref().filter(|p| !p.at_end()) {
        return if p.paused {
            "replay paused"
        } else {
            "replaying"
        };
    }
    if app.paused() {
        "paused"
    } else if app.running() {
        "running"
    } else if outcome.is_some_and(|o| !o.failures.is_empty()) {
        "failed"
    } else if outcome.is_some_and(|o| o.cancelled) {
        "stopped"
    } else {
        "finished"
    }
}

/// What the run is, how long it has taken, its speedup, its events, its end.
fn run_lines<'a>(app: &App, info: &Meta, theme: &Theme) -> Vec<Line<'a>> {
    let wall = app
        .outcome
        .as_ref()
        .map(|o| ms(o.wall_ns))
        .unwrap_or_else(|| ms(app.now_ns()));
    let mut lines = match info.about.program_threads {
        // A program: what it is, its lanes with tasks, the tasks seen so far.
        true => {
            let pids: Vec<u32> = app
                .lab
                .lanes
                .iter()
                .filter(|l| !l.task_marks.is_empty())
                .map(|l| l.pid)
                .collect();
            let workers = match pids.len() {
                0 => "no lane ran a task".to_string(),
                _ => format!("{} ran tasks", crate::report::counted(&pids)),
            };
            vec![
                Line::from(format!("{} · {}", info.headline(), state(app))),
                Line::from(format!(
                    "wall {wall:.1} ms · {workers} · {}",
                    tasks_seen(&app.lab)
                )),
            ]
        }
        false => native_lines(app, info, wall, theme),
    };
    if let Some(line) = gil_line(app, info, theme) {
        lines.push(line);
    }
    let read_hz = app
        .outcome
        .as_ref()
        .and_then(|o| o.extension(crate::strategy::Figures::Gil)?["thread_read_hz"].as_f64());
    if let Some(words) = read_hz.and_then(crate::python::rota::rate_words) {
        lines.push(Line::styled(words, theme.dim()));
    }
    let cores = crate::sampler::logical_cores();
    if let Some(words) = crate::report::core_words(&app.lab, cores, app.running()) {
        lines.push(Line::from(words));
    }
    let sent = app
        .outcome
        .as_ref()
        .map(|o| o.events_sent.to_string())
        .unwrap_or_else(|| "…".into());
    lines.push(Line::from(format!(
        "events sent {sent} · received {}",
        app.lab.received
    )));
    if let Some(o) = &app.outcome {
        lines.extend(outcome_lines(o, theme));
        if let Some(load) = &o.machine {
            lines.push(load_line(load, theme));
        }
    }
    if let Some(p) = &app.playback {
        // A replay says it is one here, and where it was made.
        lines.push(Line::styled(
            format!(
                "replay of {}, recorded on {}",
                p.file,
                p.run.header.machine.words()
            ),
            theme.accent(),
        ));
    }
    lines
}

/// Who held the GIL and who waited, saying how that is known: a measured
/// GIL reads plainly, an inferred or modelled one is dimmed and says so.
fn gil_line<'a>(app: &App, info: &Meta, theme: &Theme) -> Option<Line<'a>> {
    use crate::source::GilMethod as Method;
    if info.about.gil == crate::plan::GilKind::Free {
        return Some(Line::from("free-threaded: no GIL"));
    }
    let method = info.gil_method(app.lab.gil_read, app.outcome.as_ref())?;
    let per_s = app
        .outcome
        .as_ref()
        .and_then(|o| o.extension(crate::strategy::Figures::Gil)?["switches_per_s"].as_f64());
    let words = crate::report::gil_words(&app.lab, method == Method::Measured, per_s);
    let text = format!("GIL {}: {words}", method.name());
    Some(match method {
        Method::Measured => Line::from(text),
        _ => Line::styled(text, theme.dim()),
    })
}

/// A native run's heading, its tasks and its speedup.
fn native_lines<'a>(app: &App, info: &Meta, wall: f64, theme: &Theme) -> Vec<Line<'a>> {
    let gil = if info.gil_applies() { " · GIL" } else { "" };
    vec![
        Line::from(format!(
            "{} · {} · {} worker{}{gil} · {}",
            info.workload_name(),
            info.strategy_name(),
            info.workers,
            if info.workers == 1 { "" } else { "s" },
            state(app)
        )),
        Line::from(match info.native_spec().and_then(|s| s.duration_secs) {
            // A soak repeats the task list: done counts every round.
            Some(_) => format!(
                "wall {wall:.1} ms · tasks done {} ({} a round)",
                app.lab.tasks_done,
                info.tasks.len()
            ),
            // A source that learns its tasks as they come (a cluster).
            None if info.tasks.is_empty() => {
                format!("wall {wall:.1} ms · {}", tasks_seen(&app.lab))
            }
            None => format!(
                "wall {wall:.1} ms · tasks {}/{}",
                app.lab.tasks_done,
                info.tasks.len()
            ),
        }),
        speedup_line(app, info, wall, theme),
    ]
}

/// How much of the machine others used during the run; loud when too much.
fn load_line<'a>(load: &Load, theme: &Theme) -> Line<'a> {
    if load.disturbed() {
        Line::styled(
            format!(
                "disturbed: {} (over {:.2}); rerun when the machine is quieter",
                load.words(),
                load.threshold
            ),
            theme.error(),
        )
    } else if load.measured() {
        Line::styled(format!("quiet: {}", load.words()), theme.dim())
    } else {
        Line::styled(load.words(), theme.dim())
    }
}

/// Speedup and efficiency against this session's sequential run, once both exist.
fn speedup_line<'a>(app: &App, info: &Meta, wall: f64, theme: &Theme) -> Line<'a> {
    match (
        info.native_spec().and_then(|s| app.baseline_ms(s)),
        &app.outcome,
    ) {
        (Some(base), Some(_)) => {
            let speedup = base / wall.max(1e-9);
            Line::from(format!(
                "speedup {speedup:.2}× · efficiency {:.0}% (against sequential {base:.0} ms)",
                100.0 * speedup / info.workers as f64
            ))
        }
        _ if info.native_spec().is_some() => {
            Line::styled("speedup: run this workload sequentially too", theme.dim())
        }
        // A source that cannot run again has no sequential run to set beside it.
        _ => Line::styled("speedup: no sequential run to compare", theme.dim()),
    }
}

/// The result, and every failure.
fn outcome_lines<'a>(o: &Outcome, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    if let Some(r) = &o.result {
        lines.push(Line::styled(
            format!("result {}", short_result(r)),
            theme.dim(),
        ));
    }
    for f in &o.failures {
        lines.push(Line::styled(
            format!(
                "FAILED {} (pid {}) {}: {}",
                f.lane,
                f.pid,
                f.task.clone().unwrap_or_default(),
                f.reason
            ),
            theme.error(),
        ));
    }
    lines
}

/// Tasks learnt as they come: done of seen, or, where some ran again (a
/// cluster recomputes what a worker that left held), how many did.
fn tasks_seen(lab: &crate::model::Lab) -> String {
    let (done, seen) = (lab.tasks_done, lab.tasks.len() as u64);
    match done.checked_sub(seen).filter(|&again| again > 0) {
        Some(again) => format!("tasks {seen} seen · {done} ran to the end ({again} ran again)"),
        None => format!("tasks {done} done of {seen} seen"),
    }
}

#[cfg(test)]
mod tests {
    use super::tasks_seen;
    use crate::event::{Event, EventKind};
    use crate::model::Lab;

    #[test]
    fn tasks_that_ran_again_are_counted_apart() {
        let mut lab = Lab::new(Vec::new(), std::time::SystemTime::now());
        for task in 0..2 {
            let name = format!("f-{task}");
            lab.apply_event(Event {
                t: 1,
                lane: 0,
                kind: EventKind::Task { task, name },
            });
        }
        lab.tasks_done = 1;
        assert_eq!(tasks_seen(&lab), "tasks 1 done of 2 seen");
        lab.tasks_done = 3; // a worker left: a result it held was computed again
        assert_eq!(
            tasks_seen(&lab),
            "tasks 2 seen · 3 ran to the end (1 ran again)"
        );
    }
}
