//! A step's words and claim: its templates rendered and its `expect` judged
//! (minijinja) over what was measured: `runs.ID` (each run's JSON exactly
//! as `--json` prints it), `cores` and the lesson's `vars`.

use super::{Lesson, Step};
use anyhow::Result;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use toml::Spanned;

/// What a step's templates may name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Context {
    /// Each run so far, by its step's id.
    pub runs: BTreeMap<String, Value>,
    /// This machine's logical cores.
    pub cores: u32,
    /// The lesson's numbers (scaled).
    pub vars: BTreeMap<String, Value>,
}

impl Context {
    /// `runs`, `cores`, `vars`, and each var by its own name too (`{{ size }}`).
    fn value(&self) -> Value {
        let mut v = json!({ "runs": self.runs, "cores": self.cores, "vars": self.vars });
        for (k, x) in &self.vars {
            v[k] = x.clone();
        }
        v
    }
}

/// The template engine: strict (a misspelt field is an error, not blank),
/// with `minor` ("3.9.18" | minor is 9) for claims that differ by Python
/// and `ms` (994.37 | ms is "994 ms").
fn env() -> &'static Environment<'static> {
    static ENV: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    ENV.get_or_init(made)
}

fn made() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("minor", |v: String| -> i64 {
        v.split('.')
            .nth(1)
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    });
    // Milliseconds as a class reads them: `994 ms`, `4.2 ms`.
    env.add_filter("ms", |v: f64| -> String {
        if v.abs() >= 10.0 {
            format!("{v:.0} ms")
        } else {
            format!("{v:.1} ms")
        }
    });
    env
}

/// Every template and expression of `step` compiles; else the error names
/// the file, the line and the key.
pub fn compile(lesson: &Lesson, step: &Step) -> Result<()> {
    let env = env();
    let templates = [
        ("say", Some(&step.say)),
        ("ask", step.ask.as_ref()),
        ("answer", step.answer.as_ref()),
        ("reveal", step.reveal.as_ref()),
        ("otherwise", step.otherwise.as_ref()),
    ];
    for (key, t) in templates {
        if let Some(t) = t {
            env.template_from_str(t.get_ref())
                .map_err(|e| lesson.error(t.span(), key, &why(&e)))?;
        }
    }
    if let Some(ask) = &step.ask {
        for c in &step.choices {
            env.template_from_str(c)
                .map_err(|e| lesson.error(ask.span(), "choices", &why(&e)))?;
        }
    }
    if let Some((key, args)) = step.command() {
        for a in args.get_ref() {
            env.template_from_str(a)
                .map_err(|e| lesson.error(args.span(), key, &why(&e)))?;
        }
    }
    if let Some(e) = &step.expect {
        env.compile_expression(e.get_ref())
            .map_err(|err| lesson.error(e.span(), "expect", &why(&err)))?;
    }
    Ok(())
}

/// A minijinja error in one line: what, and where in the template.
fn why(e: &minijinja::Error) -> String {
    let mut s = e.kind().to_string();
    if let Some(d) = e.detail() {
        s += &format!(": {d}");
    }
    if let Some(line) = e.line() {
        s += &format!(" (template line {line})");
    }
    s
}

/// Render template `t` (key `key` of the lesson) over `ctx`.
pub fn render(lesson: &Lesson, key: &str, t: &Spanned<String>, ctx: &Context) -> Result<String> {
    env()
        .render_str(t.get_ref(), ctx.value())
        .map_err(|e| lesson.error(t.span(), key, &why(&e)).into())
}

/// A step's choices, each rendered (an error is shown as it is).
pub fn choices(step: &Step, ctx: &Context) -> Vec<String> {
    let env = env();
    step.choices
        .iter()
        .map(|c| {
            env.render_str(c, ctx.value())
                .unwrap_or_else(|e| format!("{c} ({})", why(&e)))
        })
        .collect()
}

/// A step's command line, each argument rendered (`{{ cores }}`, `{{ size }}`).
pub fn args(
    lesson: &Lesson,
    step: &Step,
    ctx: &Context,
) -> Result<Option<(&'static str, Vec<String>)>> {
    let Some((key, args)) = step.command() else {
        return Ok(None);
    };
    let env = env();
    let rendered = args
        .get_ref()
        .iter()
        .map(|a| {
            env.render_str(a, ctx.value())
                .map_err(|e| lesson.error(args.span(), key, &why(&e)).into())
        })
        .collect::<Result<Vec<String>>>()?;
    Ok(Some((key, rendered)))
}

/// Whether a claim held on the machine in front of the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Held,
    NotHeld,
    /// Others used the machine during a run it rests on: not a check.
    Disturbed,
    /// The step claims nothing.
    NoClaim,
}

impl Verdict {
    /// As the JSON says it.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::NotHeld => "not_held",
            Verdict::Disturbed => "disturbed",
            Verdict::NoClaim => "no_claim",
        }
    }
}

/// A step judged on its runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judged {
    pub verdict: Verdict,
    /// The claim's own value, disturbed or not.
    pub claim: Option<bool>,
    /// The measured answer: a choice's index.
    pub answer: Option<usize>,
    /// The reveal, and why a claim did not hold where it did not.
    pub caption: String,
    /// A run the claim rests on was disturbed.
    pub disturbed: bool,
}

/// Judge `step` once its run is in `ctx.runs`.
pub fn judge(lesson: &Lesson, step: &Step, ctx: &Context) -> Result<Judged> {
    let claim = match &step.expect {
        Some(e) => Some(
            env()
                .compile_expression(e.get_ref())
                .and_then(|x| x.eval(ctx.value()))
                .map_err(|err| lesson.error(e.span(), "expect", &why(&err)))?
                .is_true(),
        ),
        None => None,
    };
    let answer = match &step.answer {
        Some(a) => {
            let text = render(lesson, "answer", a, ctx)?;
            let i = text
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|&i| i < step.choices.len());
            Some(i.ok_or_else(|| {
                lesson.error(
                    a.span(),
                    "answer",
                    &format!(
                        "rendered '{}', not a choice's index 0..{}",
                        text.trim(),
                        step.choices.len()
                    ),
                )
            })?)
        }
        None => None,
    };
    let disturbed = rests_on(step, ctx)
        .iter()
        .any(|id| ctx.runs.get(*id).is_some_and(disturbed));
    let verdict = match claim {
        None => Verdict::NoClaim,
        Some(_) if disturbed => Verdict::Disturbed,
        Some(true) => Verdict::Held,
        Some(false) => Verdict::NotHeld,
    };
    let mut caption = match &step.reveal {
        Some(r) => render(lesson, "reveal", r, ctx)?,
        None => String::new(),
    };
    let mut add = |s: &str| {
        if !caption.is_empty() {
            caption.push(' ');
        }
        caption += s;
    };
    match verdict {
        Verdict::NotHeld => {
            add("The lecture's claim did not hold on this machine.");
            if let Some(o) = &step.otherwise {
                add(&render(lesson, "otherwise", o, ctx)?);
            }
        }
        Verdict::Disturbed => add(&format!(
            "Other programs used this machine during the run: the claim {} here, but it is no check; run it again when the machine is quiet.",
            if claim == Some(true) { "held" } else { "did not hold" }
        )),
        _ => {}
    }
    Ok(Judged {
        verdict,
        claim,
        answer,
        caption,
        disturbed,
    })
}

/// The runs a step's claim rests on: its own and those its `expect` names.
fn rests_on<'a>(step: &'a Step, ctx: &'a Context) -> Vec<&'a str> {
    let expect = step.expect.as_ref().map_or("", |e| e.get_ref().as_str());
    ctx.runs
        .keys()
        .map(String::as_str)
        .filter(|id| *id == step.id() || mentions(expect, id))
        .collect()
}

/// `runs.ID` appears in `text` as a whole name.
fn mentions(text: &str, id: &str) -> bool {
    let needle = format!("runs.{id}");
    text.match_indices(&needle).any(|(i, _)| {
        !text[i + needle.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A run's machine was measured busy with others' work (a sweep: a point
/// it fitted).
fn disturbed(run: &Value) -> bool {
    run["machine"]["disturbed"].as_bool() == Some(true) || run["fit_disturbed"] == true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson() -> Lesson {
        Lesson::parse(
            r#"
title = "t"
[[step]]
id = "seq"
say = "One."
run = ["--workers", "{{ cores }}"]
[[step]]
id = "thr"
say = "Two."
ask = "How long?"
choices = ["shorter", "about the same", "longer"]
answer = "{{ 0 if runs.thr.wall_ms < 0.75 * runs.seq.wall_ms else (1 if runs.thr.wall_ms < 1.25 * runs.seq.wall_ms else 2) }}"
reveal = "{{ (runs.thr.wall_ms / runs.seq.wall_ms) | round(2) }}× on {{ runs.thr.python.version | minor }}"
expect = "runs.thr.wall_ms > 0.75 * runs.seq.wall_ms"
otherwise = "{{ cores }} cores"
"#,
            "t.toml",
        )
        .unwrap()
    }

    fn run(wall: f64, disturbed: bool) -> Value {
        json!({"wall_ms": wall, "machine": {"disturbed": disturbed}, "python": {"version": "3.11.7"}})
    }

    #[test]
    fn a_claim_is_judged_on_what_was_measured() {
        let l = lesson();
        let mut ctx = Context {
            cores: 2,
            ..Context::default()
        };
        assert_eq!(
            args(&l, &l.steps[0], &ctx).unwrap(),
            Some(("run", vec!["--workers".to_string(), "2".to_string()]))
        );
        ctx.runs.insert("seq".into(), run(100.0, false));
        ctx.runs.insert("thr".into(), run(104.0, false));
        let j = judge(&l, &l.steps[1], &ctx).unwrap();
        assert_eq!((j.verdict, j.answer), (Verdict::Held, Some(1)));
        assert_eq!(j.caption, "1.04× on 11");
        ctx.runs.insert("thr".into(), run(50.0, false));
        let j = judge(&l, &l.steps[1], &ctx).unwrap();
        assert_eq!((j.verdict, j.answer), (Verdict::NotHeld, Some(0)));
        assert!(
            j.caption.ends_with("did not hold on this machine. 2 cores"),
            "{}",
            j.caption
        );
        // A neighbour on the machine: never not_held because of it.
        ctx.runs.insert("seq".into(), run(100.0, true));
        let j = judge(&l, &l.steps[1], &ctx).unwrap();
        assert_eq!(j.verdict, Verdict::Disturbed);
        assert!(j.disturbed && j.claim == Some(false));
        assert_eq!(
            judge(&l, &l.steps[0], &ctx).unwrap().verdict,
            Verdict::NoClaim
        );
    }

    #[test]
    fn a_misspelt_field_is_an_error_naming_the_key() {
        let l = lesson();
        let mut ctx = Context::default();
        ctx.runs.insert("seq".into(), json!({"wall_ms": 1.0}));
        ctx.runs.insert("thr".into(), json!({"wal_ms": 1.0}));
        let e = judge(&l, &l.steps[1], &ctx).unwrap_err().to_string();
        assert!(e.starts_with("lesson t.toml:"), "{e}");
        assert!(e.contains("`expect`") || e.contains("`answer`"), "{e}");
    }

    #[test]
    fn mentions_only_whole_names() {
        assert!(mentions("runs.seq.wall_ms > 1", "seq"));
        assert!(!mentions("runs.seq2.wall_ms > 1", "seq"));
    }
}
