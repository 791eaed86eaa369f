//! Lessons: the lecture as steps a class predicts, runs and sees revealed,
//! each claim checked on the run just made.
//!
//! A lesson is a TOML file of `[[step]]`s (the format is in the README);
//! the bundled ones live in `assets/lessons/` and are embedded, a user's in
//! `<config folder>/parlab/lessons/`. [`text`] renders a step's templates and
//! judges its claim; [`walk`] is where a class is in a lesson; [`check`]
//! runs every step headless.

pub mod check;
pub mod text;
pub mod walk;

use crate::UserError;
use anyhow::Result;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// The bundled lessons, in the order the lecture takes them.
const BUNDLED: [(&str, &str); 9] = [
    ("timing", include_str!("../../assets/lessons/timing.toml")),
    (
        "seven-tasks",
        include_str!("../../assets/lessons/seven-tasks.toml"),
    ),
    ("gil", include_str!("../../assets/lessons/gil.toml")),
    (
        "start-methods",
        include_str!("../../assets/lessons/start-methods.toml"),
    ),
    ("queue", include_str!("../../assets/lessons/queue.toml")),
    ("races", include_str!("../../assets/lessons/races.toml")),
    ("asyncio", include_str!("../../assets/lessons/asyncio.toml")),
    ("amdahl", include_str!("../../assets/lessons/amdahl.toml")),
    ("cache", include_str!("../../assets/lessons/cache.toml")),
];

/// The panels a step may move focus to.
pub const FOCUS: [&str; 8] = [
    "timeline", "summary", "queue", "cache", "amdahl", "log", "runs", "cpu",
];

/// At most this many choices: `a`–`d` count the hands.
pub const MAX_CHOICES: usize = 4;

/// One lesson, as its file says it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub title: String,
    #[serde(default)]
    pub about: String,
    /// Numbers the steps' templates name (`{{ size }}`); `--scale` shrinks
    /// them for a quick check.
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
    /// Where it came from: `gil` (bundled) or a file's path.
    #[serde(skip)]
    pub file: String,
    /// Its text, for the line of a key in an error.
    #[serde(skip)]
    pub source: String,
}

/// One step: say something, maybe ask, run, reveal, check a claim.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Names this step's run for later steps: `runs.ID`.
    pub id: Spanned<String>,
    /// A short name for the step in lists and reports [default: its id].
    pub title: Option<String>,
    /// Shown before the run (a template).
    pub say: Spanned<String>,
    /// A question the class answers before the run.
    pub ask: Option<Spanned<String>>,
    #[serde(default)]
    pub choices: Vec<String>,
    /// `parlab run`'s arguments (templates: `{{ cores }}`).
    pub run: Option<Spanned<Vec<String>>>,
    /// `parlab py`'s arguments.
    pub py: Option<Spanned<Vec<String>>>,
    /// `parlab sweep`'s arguments (native runs over worker counts): its
    /// JSON, `points` and the fitted `p`, is `runs.ID`.
    pub sweep: Option<Spanned<Vec<String>>>,
    /// A preset's runs (its number as the lab's keys give it, `"2"`, or its
    /// name or file): `runs.ID` is the list of their JSON, in order.
    pub preset: Option<Spanned<String>>,
    /// The measured answer: a template rendering a choice's index (0 = first).
    pub answer: Option<Spanned<String>>,
    /// Shown after the run (a template).
    pub reveal: Option<Spanned<String>>,
    /// The lecture's claim: an expression over `runs`, `cores` and `vars`.
    pub expect: Option<Spanned<String>>,
    /// Why the claim may not hold on this machine (a template), said when it did not.
    pub otherwise: Option<Spanned<String>>,
    /// The panel the reveal points at.
    pub focus: Option<Spanned<String>>,
}

impl Step {
    /// Its id.
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }

    /// Its short name.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(self.id())
    }

    /// `("run" | "py" | "sweep", its arguments as written)`, where it runs something.
    pub fn command(&self) -> Option<(&'static str, &Spanned<Vec<String>>)> {
        [("run", &self.run), ("py", &self.py), ("sweep", &self.sweep)]
            .into_iter()
            .find_map(|(key, args)| Some((key, args.as_ref()?)))
    }
}

impl Lesson {
    /// Parse a lesson's text; `file` names it in errors. Checks the shape,
    /// the ids, the choices and every template, not the runs (see
    /// [`check::plans`]).
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let mut lesson: Lesson = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            UserError::new(format!(
                "lesson {}: {}",
                at(file, line),
                e.message().trim_end()
            ))
        })?;
        lesson.file = file.to_string();
        lesson.source = text.to_string();
        lesson.validate()?;
        Ok(lesson)
    }

    /// A user error naming this lesson's file, the line of `span` and `key`.
    pub fn error(&self, span: std::ops::Range<usize>, key: &str, why: &str) -> UserError {
        let line = line_of(&self.source, span.start);
        UserError::new(format!(
            "lesson {}: `{key}`: {why}",
            at(&self.file, Some(line))
        ))
    }

    fn validate(&self) -> Result<()> {
        if self.steps.is_empty() {
            return Err(UserError::new(format!("lesson {}: no [[step]]", self.file)).into());
        }
        for (name, v) in &self.vars {
            if !(v.is_integer() || v.is_float()) {
                return Err(UserError::new(format!(
                    "lesson {}: [vars] {name} must be a number, not {v}",
                    self.file
                ))
                .into());
            }
        }
        let mut seen = Vec::new();
        for step in &self.steps {
            let id = step.id();
            let ident = id.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ident {
                return Err(self
                    .error(
                        step.id.span(),
                        "id",
                        &format!("'{id}' must be lower-case letters, digits and _ (it is named as runs.{id})"),
                    )
                    .into());
            }
            if seen.contains(&id) {
                return Err(self
                    .error(step.id.span(), "id", &format!("'{id}' names two steps"))
                    .into());
            }
            seen.push(id);
            self.validate_step(step)?;
        }
        Ok(())
    }

    fn validate_step(&self, step: &Step) -> Result<()> {
        let commands = [
            ("run", step.run.as_ref().map(Spanned::span)),
            ("py", step.py.as_ref().map(Spanned::span)),
            ("sweep", step.sweep.as_ref().map(Spanned::span)),
            ("preset", step.preset.as_ref().map(Spanned::span)),
        ];
        let mut given = commands.iter().filter_map(|(k, a)| Some((*k, a.clone()?)));
        if let (Some(_), Some((key, second))) = (given.next(), given.next()) {
            return Err(self
                .error(
                    second,
                    key,
                    "a step runs one of `run` (native), `py` (a program), `sweep` or `preset`, not two",
                )
                .into());
        }
        match &step.ask {
            Some(ask) if !(2..=MAX_CHOICES).contains(&step.choices.len()) => {
                return Err(self
                    .error(
                        ask.span(),
                        "choices",
                        &format!(
                            "a question needs 2 to {MAX_CHOICES} choices, not {}",
                            step.choices.len()
                        ),
                    )
                    .into());
            }
            None if !step.choices.is_empty() || step.answer.is_some() => {
                return Err(self
                    .error(
                        step.id.span(),
                        "ask",
                        "`choices` and `answer` need a question (`ask`)",
                    )
                    .into());
            }
            _ => {}
        }
        if let Some(f) = &step.focus {
            if !FOCUS.contains(&f.get_ref().as_str()) {
                return Err(self
                    .error(
                        f.span(),
                        "focus",
                        &format!("'{}' is not a panel: {}", f.get_ref(), FOCUS.join(", ")),
                    )
                    .into());
            }
        }
        text::compile(self, step)
    }

    /// A short name: `gil`, or the file's stem.
    pub fn name(&self) -> String {
        Path::new(&self.file)
            .file_stem()
            .map_or(self.file.clone(), |s| s.to_string_lossy().into_owned())
    }

    /// The lesson's numbers, each scaled by `scale` (integers stay whole, at least 1).
    pub fn vars_scaled(&self, scale: f64) -> BTreeMap<String, serde_json::Value> {
        self.vars
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    toml::Value::Integer(i) => {
                        serde_json::json!(((*i as f64 * scale).round() as i64).max(1))
                    }
                    toml::Value::Float(f) => serde_json::json!(f * scale),
                    other => serde_json::json!(other.to_string()),
                };
                (k.clone(), v)
            })
            .collect()
    }
}

fn at(file: &str, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{file}:{l}"),
        None => file.to_string(),
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The bundled lessons, parsed.
pub fn bundled() -> Vec<Lesson> {
    BUNDLED
        .iter()
        .map(|(name, text)| Lesson::parse(text, name).expect("bundled lessons parse"))
        .collect()
}

/// The user's lessons folder: `<config folder>/parlab/lessons`.
fn user_dir() -> Option<std::path::PathBuf> {
    crate::config::platform_config().and_then(|p| p.parent().map(|d| d.join("lessons")))
}

/// The user's lessons (their files' names, sorted).
fn user_files() -> Vec<std::path::PathBuf> {
    let Some(Ok(entries)) = user_dir().map(std::fs::read_dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// A lesson by bundled name, by a name in the user's lessons folder, or a file.
pub fn find(name: &str) -> Result<Lesson> {
    if let Some((n, text)) = BUNDLED.iter().find(|(n, _)| *n == name) {
        return Lesson::parse(text, n);
    }
    let path = user_files()
        .into_iter()
        .find(|p| p.file_stem().is_some_and(|s| s == name))
        .unwrap_or_else(|| Path::new(name).to_path_buf());
    match std::fs::read_to_string(&path) {
        Ok(text) => Lesson::parse(&text, &path.display().to_string()),
        Err(_) => {
            let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
            Err(UserError::new(format!(
                "lesson '{name}': no such lesson or file; the lessons are {} (parlab lesson lists them)",
                names.join(", ")
            ))
            .into())
        }
    }
}

/// `parlab lesson`: the bundled lessons and the user's, one a line.
pub fn list() -> String {
    let mut out = String::from(
        "the lessons (parlab lesson NAME opens one; --check runs every step and checks its claims):\n",
    );
    let line =
        |name: &str, l: &Lesson| format!("  {name:<14} {:>2} steps  {}\n", l.steps.len(), l.title);
    for l in bundled() {
        out += &line(&l.name(), &l);
    }
    for f in user_files() {
        let stem = f
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        match std::fs::read_to_string(&f)
            .map_err(anyhow::Error::from)
            .and_then(|t| Lesson::parse(&t, &f.display().to_string()))
        {
            Ok(l) => out += &line(&stem, &l),
            Err(e) => out += &format!("  {stem:<14} (does not load: {e})\n"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title = "t"
[vars]
size = 1000
[[step]]
id = "seq"
say = "One thread: {{ size }}."
run = ["--workload", "collatz", "--size", "{{ size }}"]
[[step]]
id = "thr"
say = "Two."
ask = "How long?"
choices = ["shorter", "longer"]
answer = "{{ 0 if runs.thr.wall_ms < runs.seq.wall_ms else 1 }}"
expect = "runs.thr.wall_ms > 0"
"#;

    #[test]
    fn a_good_lesson_parses_and_every_bundled_one_does() {
        let l = Lesson::parse(GOOD, "good.toml").unwrap();
        assert_eq!(l.steps.len(), 2);
        assert_eq!(l.steps[1].choices.len(), 2);
        assert_eq!(l.vars_scaled(0.01)["size"], serde_json::json!(10));
        assert_eq!(bundled().len(), 9);
        for l in bundled() {
            assert!(
                l.steps.iter().any(|s| s.ask.is_some()),
                "{}: a prediction",
                l.file
            );
            assert!(
                l.steps.iter().any(|s| s.expect.is_some()),
                "{}: a claim",
                l.file
            );
        }
    }

    fn refused(text: &str) -> String {
        Lesson::parse(text, "bad.toml").unwrap_err().to_string()
    }

    #[test]
    fn a_bad_lesson_names_its_file_line_and_key() {
        let e = refused(&GOOD.replace("ask = ", "asked = "));
        assert!(
            e.starts_with("lesson bad.toml:12: ") && e.contains("asked"),
            "{e}"
        );
        let e = refused(&GOOD.replace("runs.thr.wall_ms > 0", "runs.thr.wall_ms >"));
        assert!(e.contains("bad.toml:15") && e.contains("`expect`"), "{e}");
        let e = refused(&GOOD.replace("{{ size }}.", "{{ size }."));
        assert!(e.contains("bad.toml:7") && e.contains("`say`"), "{e}");
        let e = refused(&GOOD.replace("\"thr\"", "\"seq\""));
        assert!(
            e.contains("bad.toml:10") && e.contains("names two steps"),
            "{e}"
        );
        let e = refused(&GOOD.replace("\"shorter\", ", ""));
        assert!(e.contains("`choices`") && e.contains("2 to 4"), "{e}");
        let e = refused(&format!("{GOOD}focus = \"gauge\"\n"));
        assert!(
            e.contains("'gauge' is not a panel") && e.contains("timeline"),
            "{e}"
        );
        let e = refused("title = \"x\"\n");
        assert!(e.contains("bad.toml") && e.contains("step"), "{e}");
    }
}
