//! `parlab lesson NAME --check`: every step run headless and its claim
//! judged on this machine, as a teacher checks a laptop before class.

use super::text::Verdict;
use super::walk::{Next, Walk};
use crate::headless::Finished;
use crate::launch::Launch;
use anyhow::Result;
use serde_json::{json, Value};

/// Walk `walk` to its end: `start` runs each step's run to its end (live,
/// or from a recording) and gives its JSON; `said` hears each step as it is
/// judged.
pub fn run(
    walk: &mut Walk,
    mut start: impl FnMut(Launch) -> Result<Value>,
    mut said: impl FnMut(&Walk),
) -> Result<()> {
    loop {
        match walk.advance()? {
            Next::Run(launch) => {
                let json = start(launch)?;
                walk.ran(json)?;
                said(walk);
            }
            Next::Shown if walk.judged().is_some() => said(walk),
            Next::Shown => {}
            Next::Done => return Ok(()),
        }
    }
}

/// Run `launch` to its end and give its JSON: a run's as `--json` prints
/// it, a sweep's as `parlab sweep --json` does. Every run is kept in
/// `record`, where there is one.
pub fn live(
    launch: Launch,
    stop: &dyn Fn() -> bool,
    threshold: f64,
    record: Option<&std::sync::Mutex<crate::recording::Recorder>>,
) -> Result<Value> {
    match launch {
        Launch::Sweep { spec, grid, repeat } => {
            let sweep = crate::sweep::run(&spec, &grid, repeat, threshold, record, |_| {})?;
            Ok(crate::sweep::to_json(
                &Launch::plan(&Launch::Native(spec)),
                repeat,
                &sweep,
            ))
        }
        Launch::Preset(runs) => runs
            .into_iter()
            .map(|l| live(l, stop, threshold, record))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        one => {
            let mut guard = record.map(|r| r.lock().unwrap_or_else(|p| p.into_inner()));
            let f = one.run(stop, threshold, guard.as_deref_mut())?;
            Ok(crate::report::to_json(&f))
        }
    }
}

/// The JSON `launch` gave when it ran, from the runs it recorded (taken
/// from `runs`, in order): a sweep's from its repeats.
pub fn replayed(launch: &Launch, runs: &mut impl Iterator<Item = Finished>) -> Result<Value> {
    if let Launch::Preset(each) = launch {
        return each
            .iter()
            .map(|l| replayed(l, runs))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array);
    }
    let mut next = || {
        runs.next()
            .ok_or_else(|| anyhow::anyhow!("the recording holds too few runs"))
    };
    match launch {
        Launch::Sweep { repeat, .. } => {
            let mut made = Vec::new();
            for _ in 0..launch.runs() {
                let f = next()?;
                let spec = f.meta.native_spec().cloned();
                let spec = spec.ok_or_else(|| anyhow::anyhow!("a sweep's run is native"))?;
                made.push((
                    spec,
                    f.meta.workers,
                    crate::clock::ms(f.outcome.wall_ns),
                    f.load().is_some_and(crate::sampler::Load::disturbed),
                ));
            }
            let (spec, points) = crate::sweep::from_runs(&made)
                .ok_or_else(|| anyhow::anyhow!("the recorded runs are not this sweep"))?;
            let sweep = crate::sweep::Sweep::of(points);
            Ok(crate::sweep::to_json(
                &crate::plan::Plan::Native(spec),
                *repeat,
                &sweep,
            ))
        }
        _ => Ok(crate::report::to_json(&next()?)),
    }
}

/// The counts of each verdict: `(held, not_held, disturbed)`.
fn counts(walk: &Walk) -> (usize, usize, usize) {
    let n = |v: Verdict| {
        walk.judged
            .iter()
            .flatten()
            .filter(|j| j.verdict == v)
            .count()
    };
    (n(Verdict::Held), n(Verdict::NotHeld), n(Verdict::Disturbed))
}

/// No claim failed: exit 0, else 1.
pub fn passed(walk: &Walk) -> bool {
    counts(walk).1 == 0
}

/// The check as one JSON object.
pub fn to_json(walk: &Walk) -> Value {
    let steps: Vec<Value> = walk
        .lesson
        .steps
        .iter()
        .zip(&walk.judged)
        .map(|(step, judged)| {
            let run = walk.ctx.runs.get(step.id());
            json!({
                "id": step.id(),
                "title": step.title(),
                "verdict": judged.as_ref().map(|j| j.verdict.word()),
                "claim": judged.as_ref().and_then(|j| j.claim),
                "caption": judged.as_ref().map(|j| j.caption.clone()),
                "answer": judged.as_ref().and_then(|j| j.answer),
                "answer_text": judged.as_ref().and_then(|j| j.answer).map(|i| super::text::choices(step, &walk.ctx)[i].clone()),
                "disturbed": judged.as_ref().is_some_and(|j| j.disturbed),
                "runs": run.into_iter().collect::<Vec<_>>(),
            })
        })
        .collect();
    let (held, not_held, disturbed) = counts(walk);
    json!({
        "schema_version": crate::report::SCHEMA_VERSION,
        "lesson": walk.lesson.name(),
        "title": walk.lesson.title,
        "cores": walk.ctx.cores,
        "vars": walk.ctx.vars,
        "steps": steps,
        "held": held,
        "not_held": not_held,
        "disturbed": disturbed,
    })
}

/// One step's line as it is judged: `3/7 thr  held  Two threads took …`.
pub fn line(walk: &Walk) -> String {
    let step = walk.step();
    let Some(j) = walk.judged() else {
        return String::new();
    };
    let mut s = format!(
        "{:>5} {:<12} {:<9}",
        walk.position(),
        step.id(),
        j.verdict.word()
    );
    if let Some(i) = j.answer {
        s += &format!(" answer: {}.", walk.choices()[i]);
    }
    if !j.caption.is_empty() {
        s += &format!(" {}", j.caption);
    }
    s
}

/// The closing line: `gil: 3 held, 0 not held, 1 disturbed`.
pub fn tally(walk: &Walk) -> String {
    let (held, not_held, disturbed) = counts(walk);
    format!(
        "lesson {}: {held} held, {not_held} not held, {disturbed} disturbed (of {} steps)",
        walk.lesson.name(),
        walk.lesson.steps.len()
    )
}

/// The lesson as the class walked it, in Markdown: each step with its
/// question, the class's hands, the measured answer and the caption.
pub fn markdown(walk: &Walk) -> String {
    let mut out = format!("# {}\n\n", walk.lesson.title);
    if !walk.lesson.about.is_empty() {
        out += &format!("{}\n\n", walk.lesson.about);
    }
    for (i, (step, judged)) in walk.lesson.steps.iter().zip(&walk.judged).enumerate() {
        out += &format!(
            "## {}/{} {}\n\n",
            i + 1,
            walk.lesson.steps.len(),
            step.title()
        );
        let ctx = &walk.ctx;
        if let Ok(say) = super::text::render(&walk.lesson, "say", &step.say, ctx) {
            out += &format!("{say}\n\n");
        }
        if let Some(ask) = &step.ask {
            let ask = super::text::render(&walk.lesson, "ask", ask, ctx).unwrap_or_default();
            out += &format!("**{ask}**\n\n| choice | hands | measured |\n|---|---|---|\n");
            let choices = super::text::choices(step, ctx);
            for (c, text) in choices.iter().enumerate() {
                let measured = judged.as_ref().and_then(|j| j.answer) == Some(c);
                out += &format!(
                    "| {}) {text} | {} | {} |\n",
                    (b'a' + c as u8) as char,
                    walk.hands[i][c],
                    if measured { "✓" } else { "" }
                );
            }
            out += "\n";
        }
        match judged {
            Some(j) => {
                if !j.caption.is_empty() {
                    out += &format!("{}\n\n", j.caption);
                }
                out += &format!("Claim: {}\n\n", j.verdict.word());
            }
            None => out += "Not run.\n\n",
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{bundled, walk::Walk};
    use super::*;
    use crate::config::Config;

    /// Every bundled lesson's templates render, and its claims judge, on
    /// runs as recorded: here the JSON a real run printed, made to fit.
    #[test]
    fn every_bundled_lesson_renders_on_runs_of_the_right_shape() {
        for lesson in bundled() {
            let name = lesson.name();
            let Ok(mut walk) = Walk::new(lesson, &Config::default(), 0.05, None) else {
                eprintln!("SKIPPED: {name} needs python3, which is not here");
                continue;
            };
            let fake = |launch: Launch| -> Result<Value> { Ok(shaped(&launch)) };
            run(&mut walk, fake, |_| {}).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            for (step, j) in walk.lesson.steps.iter().zip(&walk.judged) {
                let j = j
                    .as_ref()
                    .unwrap_or_else(|| panic!("{name}/{}: judged", step.id()));
                assert!(
                    step.ask.is_none() || j.answer.is_some(),
                    "{name}/{}",
                    step.id()
                );
            }
            let md = markdown(&walk);
            assert!(md.starts_with("# ") && md.contains("Claim: "), "{md}");
            assert!(to_json(&walk)["steps"].as_array().unwrap().len() == walk.lesson.steps.len());
        }
    }

    /// A run's JSON with every field a bundled lesson names, its numbers
    /// plausible: the shape `--json` prints.
    fn shaped(launch: &Launch) -> Value {
        let script = match launch {
            Launch::Py(p) => p.program.script.clone(),
            Launch::Native(_) | Launch::Sweep { .. } | Launch::Preset(_) => String::new(),
        };
        let mut v = json!({
            "wall_ms": 100.0,
            "machine": {"disturbed": false, "others_cpu": 0.01},
            "gil": {"method": "measured", "lanes": [{"name": "Thread-1", "held_ms": 40.0, "wait_ms": 50.0}]},
            "python": {"version": "3.11.7", "gil_enabled": true},
            "queue": {"capacity": 4, "max_depth": 4, "producer_blocked_ms": 30.0, "consumer_blocked_ms": 5.0},
            "result": {"wall_ms": 100.0, "sum_units": 30, "longest_units": 9, "lost": 0, "counter": 4, "expected": 4,
                       "misses": 26, "hits": 23, "longest_tick_gap_ms": 400.0, "ticker_period_ms": 10,
                       "default": "fork",
                       "fork": {"to_first_line_ms_median": 2.0}, "spawn": {"to_first_line_ms_median": 40.0},
                       "forkserver": {"to_first_line_ms_median": 3.0}},
        });
        if let Launch::Sweep { .. } = launch {
            v = json!({"p": 0.5, "p_interval": [0.45, 0.55], "fit_disturbed": false,
                       "points": [{"workers": 1, "speedup": 1.0}, {"workers": 2, "speedup": 1.33}]});
        }
        if script.ends_with("races") {
            v["result"]["lost"] = json!(0);
        }
        v
    }
}
