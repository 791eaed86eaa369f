//! Where a class is in a lesson: the step, whether its question is open,
//! its run going or its claim revealed, and the hands raised. The lab and
//! `--check` walk a lesson the same way; the lab draws it, `--check`
//! prints it.

use super::text::{self, Context, Judged};
use super::{Lesson, Step, MAX_CHOICES};
use crate::config::Config;
use crate::launch::Launch;
use anyhow::Result;
use serde_json::Value;

/// What the current step is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Said (and asked): the class predicts.
    Said,
    /// Its run is going.
    Running,
    /// Its run is done and judged: the reveal.
    Revealed,
}

/// What the walker must do after a step forward.
#[derive(Debug, Clone)]
pub enum Next {
    /// Start this run; call [`Walk::ran`] with its JSON when it ends.
    Run(Launch),
    /// Nothing to start: draw the new state.
    Shown,
    /// The last step was revealed: the lesson is over.
    Done,
}

/// A lesson being walked.
pub struct Walk {
    pub lesson: Lesson,
    pub ctx: Context,
    /// The current step's index.
    pub at: usize,
    pub phase: Phase,
    /// Hands raised for each choice, per step.
    pub hands: Vec<[u32; MAX_CHOICES]>,
    /// Each step's verdict, once revealed.
    pub judged: Vec<Option<Judged>>,
    /// Each step's run, checked before anything runs.
    launches: Vec<Option<Launch>>,
    /// The current step's words as last rendered: drawn every frame,
    /// rendered only when the step or the runs change.
    shown: Shown,
}

/// A step's `say`, `ask` and `choices`, rendered.
#[derive(Default)]
struct Shown {
    say: String,
    ask: Option<String>,
    choices: Vec<String>,
}

impl Walk {
    /// Start at the first step. Every step's command line is checked now
    /// (flags, scripts, trust): a bad one is refused with its file, line and
    /// key before anything runs. `scale` shrinks the lesson's `vars`;
    /// `python` runs its Python steps that name no interpreter of their own.
    pub fn new(lesson: Lesson, config: &Config, scale: f64, python: Option<&str>) -> Result<Self> {
        let ctx = Context {
            cores: crate::sampler::logical_cores(),
            vars: lesson.vars_scaled(scale),
            ..Context::default()
        };
        let launches = lesson
            .steps
            .iter()
            .map(|step| launch_of(&lesson, step, &ctx, config, python))
            .collect::<Result<Vec<_>>>()?;
        let n = lesson.steps.len();
        let mut walk = Self {
            lesson,
            ctx,
            at: 0,
            phase: Phase::Said,
            hands: vec![[0; MAX_CHOICES]; n],
            judged: vec![None; n],
            launches,
            shown: Shown::default(),
        };
        walk.render();
        Ok(walk)
    }

    /// Render the current step's words again (its step or the runs changed);
    /// an error is shown as it is, for the teacher to fix.
    fn render(&mut self) {
        let step = &self.lesson.steps[self.at];
        let words = |key: &str, t: &toml::Spanned<String>| {
            text::render(&self.lesson, key, t, &self.ctx).unwrap_or_else(|e| e.to_string())
        };
        self.shown = Shown {
            say: words("say", &step.say),
            ask: step.ask.as_ref().map(|t| words("ask", t)),
            choices: text::choices(step, &self.ctx),
        };
    }

    /// How many of its steps run something.
    pub fn runs_wanted(&self) -> usize {
        self.launches.iter().flatten().map(Launch::runs).sum()
    }

    /// The current step's choices, rendered (`about {{ cores }}×`).
    pub fn choices(&self) -> &[String] {
        &self.shown.choices
    }

    /// The current step's `say`, rendered.
    pub fn said(&self) -> &str {
        &self.shown.say
    }

    /// The current step's question, rendered.
    pub fn asked(&self) -> Option<&str> {
        self.shown.ask.as_deref()
    }

    /// What the current step runs, if it runs something.
    pub fn launch(&self) -> Option<&Launch> {
        self.launches[self.at].as_ref()
    }

    /// The current step.
    pub fn step(&self) -> &Step {
        &self.lesson.steps[self.at]
    }

    /// `3/7`.
    pub fn position(&self) -> String {
        format!("{}/{}", self.at + 1, self.lesson.steps.len())
    }

    /// The current step's verdict, once revealed.
    pub fn judged(&self) -> Option<&Judged> {
        self.judged[self.at].as_ref()
    }

    /// One step forward: start the run, reveal, or go on to the next step.
    pub fn advance(&mut self) -> Result<Next> {
        match self.phase {
            Phase::Said => match self.launches[self.at].clone() {
                Some(launch) => {
                    self.phase = Phase::Running;
                    Ok(Next::Run(launch))
                }
                None => {
                    self.reveal()?;
                    Ok(Next::Shown)
                }
            },
            Phase::Running => Ok(Next::Shown),
            Phase::Revealed if self.at + 1 < self.lesson.steps.len() => {
                self.at += 1;
                self.phase = Phase::Said;
                self.render();
                Ok(Next::Shown)
            }
            Phase::Revealed => Ok(Next::Done),
        }
    }

    /// The current step's run ended: keep its JSON as `runs.ID`, judge it.
    pub fn ran(&mut self, json: Value) -> Result<()> {
        self.ctx.runs.insert(self.step().id().to_string(), json);
        self.reveal()
    }

    /// The current step's run did not start or was stopped: ask again.
    pub fn failed(&mut self) {
        self.phase = Phase::Said;
    }

    fn reveal(&mut self) -> Result<()> {
        self.render();
        let judged = text::judge(&self.lesson, self.step(), &self.ctx)?;
        self.judged[self.at] = Some(judged);
        self.phase = Phase::Revealed;
        Ok(())
    }

    /// Back a step: to its reveal where it was revealed.
    pub fn back(&mut self) {
        if self.phase == Phase::Running {
            return;
        }
        if self.at > 0 {
            self.at -= 1;
            self.render();
        }
        self.phase = if self.judged().is_some() {
            Phase::Revealed
        } else {
            Phase::Said
        };
    }

    /// A hand raised for choice `c` (0 = `a`) while the question is open.
    pub fn hand(&mut self, c: usize) -> bool {
        let open = self.phase == Phase::Said && c < self.step().choices.len();
        if open {
            self.hands[self.at][c] += 1;
        }
        open
    }
}

/// A step's run, its arguments rendered and checked as the command line is.
fn launch_of(
    lesson: &Lesson,
    step: &Step,
    ctx: &Context,
    config: &Config,
    python: Option<&str>,
) -> Result<Option<Launch>> {
    if let Some(name) = &step.preset {
        return preset(name.get_ref(), config)
            .map(Some)
            .map_err(|why| lesson.error(name.span(), "preset", &why).into());
    }
    let Some((sub, mut args)) = text::args(lesson, step, ctx)? else {
        return Ok(None);
    };
    if let Some(exe) = python.filter(|_| sub == "py" && !args.iter().any(|a| a == "--python")) {
        args.splice(0..0, ["--python".to_string(), exe.to_string()]);
    }
    let (_, spanned) = step.command().expect("a step with arguments runs");
    Launch::parse(config, sub, &args)
        .map(Some)
        .map_err(|why| lesson.error(spanned.span(), sub, &why).into())
}

/// A preset's runs: by its number (as the lab's keys 1-9 load it), its
/// name, or its file's name.
fn preset(name: &str, config: &Config) -> Result<Launch, String> {
    let (presets, _) = crate::presets::load_all();
    let found = match name.parse::<usize>() {
        Ok(n) => n.checked_sub(1).and_then(|i| presets.get(i)),
        Err(_) => presets.iter().find(|p| {
            p.name == name
                || std::path::Path::new(&p.file).file_stem().is_some_and(|s| {
                    s.to_string_lossy()
                        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '-')
                        == name
                })
        }),
    };
    let Some(p) = found else {
        return Err(format!(
            "no preset '{name}': presets are 1 to {} (parlab's lab lists them)",
            presets.len()
        ));
    };
    p.launches(config)
        .map(Launch::Preset)
        .map_err(|e| format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn walk() -> Walk {
        let l = Lesson::parse(
            r#"
title = "t"
[[step]]
id = "a"
say = "A {{ cores }}."
run = ["--workload", "collatz", "--size", "1000"]
[[step]]
id = "b"
say = "B."
ask = "?"
choices = ["x", "y"]
answer = "{{ 1 if runs.a.wall_ms > 0 else 0 }}"
expect = "runs.a.wall_ms > 0"
"#,
            "t.toml",
        )
        .unwrap();
        Walk::new(l, &Config::default(), 1.0, None).unwrap()
    }

    #[test]
    fn a_lesson_is_walked_said_run_revealed_then_next() {
        let mut w = walk();
        assert_eq!((w.position().as_str(), w.phase), ("1/2", Phase::Said));
        assert!(!w.hand(0), "no question on step 1");
        assert!(matches!(w.advance().unwrap(), Next::Run(Launch::Native(_))));
        assert_eq!(w.phase, Phase::Running);
        w.ran(json!({"wall_ms": 5.0})).unwrap();
        assert_eq!(w.phase, Phase::Revealed);
        assert!(matches!(w.advance().unwrap(), Next::Shown));
        assert_eq!((w.at, w.phase), (1, Phase::Said));
        assert!(w.hand(1) && w.hand(1) && !w.hand(2));
        assert_eq!(w.hands[1], [0, 2, 0, 0]);
        // A step with no run is judged on the runs before it.
        assert!(matches!(w.advance().unwrap(), Next::Shown));
        let j = w.judged().unwrap();
        assert_eq!((j.verdict, j.answer), (text::Verdict::Held, Some(1)));
        assert!(matches!(w.advance().unwrap(), Next::Done));
        w.back();
        assert_eq!((w.at, w.phase), (0, Phase::Revealed));
        assert!(w.said().starts_with("A "));
    }

    #[test]
    fn a_step_naming_a_bad_flag_is_refused_before_anything_runs() {
        let l = Lesson::parse(
            "title = \"t\"\n[[step]]\nid = \"a\"\nsay = \"x\"\nrun = [\"--workers\", \"0\"]\n",
            "t.toml",
        )
        .unwrap();
        let e = Walk::new(l, &Config::default(), 1.0, None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("lesson t.toml:5: `run`:") && e.contains("0"),
            "{e}"
        );
        let l = Lesson::parse(
            "title = \"t\"\n[[step]]\nid = \"a\"\nsay = \"x\"\npy = [\"lecture:nope\"]\n",
            "t.toml",
        )
        .unwrap();
        let e = Walk::new(l, &Config::default(), 1.0, None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("t.toml:5: `py`:") && e.contains("nope"), "{e}");
    }
}
