//! A parameter: one row of a table that the command line, the config file,
//! the Settings form, `--help` and the Runs panel all read. A workload or a
//! strategy lists its parameters once; every range and choice is checked
//! here, and every error says where the bad value came from.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What values a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A whole number in `min..=max`.
    Int { min: u64, max: u64 },
    /// A number in `min..=max`; `min` itself excluded when `open` is set.
    Float { min: f64, max: f64, open: bool },
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A comma-separated list of whole numbers, each in `min..=max`.
    IntList { min: u64, max: u64 },
    /// A whole number in `min..=max`, or the word `none` (unbounded).
    IntOrNone { min: u64, max: u64 },
    /// On or off: a flag without a value on the command line.
    Flag,
    /// Free text.
    Text,
    /// A program or script parlab will execute: from a folder's own
    /// `parlab.toml` only once that file is trusted.
    Program,
}

/// A parameter's value, as stored in a spec and sent to worker processes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Flag(bool),
    Int(u64),
    Float(f64),
    List(Vec<u64>),
    Text(String),
}

/// A parameter's default, written in a `const` table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Default {
    Int(u64),
    Float(f64),
    Word(&'static str),
    Flag(bool),
    /// An empty list, whose meaning the help says (`a seeded list`).
    EmptyList(&'static str),
    /// Unset; the word shown for it and accepted to unset it (`auto`, `max`),
    /// and what it means, for `--help`.
    Absent(&'static str, &'static str),
}

/// How the Settings form changes a parameter with ↑/↓.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// Not in the form (set it by flag or config).
    Hidden,
    /// Numbers double or halve.
    Double,
    /// Numbers move by one.
    One,
    /// Numbers move by this much.
    By(f64),
    /// Choices cycle; numbers walk this ladder of values (as typed on the command line).
    Ladder(&'static [&'static str]),
}

/// One parameter of a workload or a strategy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Param {
    /// The config key; the flag is `--` and the key with `-` for `_`.
    pub key: &'static str,
    /// One line for `--help` and the config example.
    pub help: &'static str,
    pub kind: Kind,
    pub default: Default,
    /// Its label in the Settings form.
    pub label: &'static str,
    pub step: Step,
}

/// A registry of descriptors known by their names (workloads, strategies):
/// each is shown and compared by its name, found by it, and listed.
#[macro_export]
macro_rules! named_registry {
    ($desc:ident, $registry:expr, $what:literal) => {
        impl std::fmt::Debug for $desc {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name)
            }
        }

        impl PartialEq for $desc {
            fn eq(&self, other: &Self) -> bool {
                self.name == other.name
            }
        }

        #[doc = concat!("The ", $what, " of this name.")]
        pub fn find(name: &str) -> Option<&'static $desc> {
            $registry.iter().copied().find(|d| d.name == name)
        }

        #[doc = concat!("Every ", $what, "'s name, for errors and choices.")]
        pub fn names() -> Vec<&'static str> {
            $registry.iter().map(|d| d.name).collect()
        }

        #[doc = concat!("A ", $what, " travels by its name (JSON, the worker pipe, recordings).")]
        pub mod by_name {
            use serde::{Deserialize, Deserializer, Serializer};

            #[doc = concat!("Write the ", $what, "'s name.")]
            pub fn serialize<S: Serializer>(
                d: &&'static super::$desc,
                s: S,
            ) -> Result<S::Ok, S::Error> {
                s.serialize_str(d.name)
            }

            #[doc = concat!("Find the ", $what, " by its name.")]
            pub fn deserialize<'de, D: Deserializer<'de>>(
                d: D,
            ) -> Result<&'static super::$desc, D::Error> {
                let name = String::deserialize(d)?;
                super::find(&name).ok_or_else(|| {
                    serde::de::Error::custom(format!(concat!("no ", $what, " named '{}'"), name))
                })
            }
        }
    };
}

/// Where a value came from, for the error that names it.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin<'a> {
    /// A flag on the command line (or in a preset, named there).
    Flag,
    /// A config file, its line, its `[section]`.
    File {
        file: &'a str,
        line: usize,
        section: &'a str,
    },
    /// Set by code or by the Settings form.
    Code,
}

impl Param {
    /// The flag on the command line.
    pub fn flag(&self) -> String {
        format!("--{}", self.key.replace('_', "-"))
    }

    /// What the valid values are, in words.
    pub fn valid(&self) -> String {
        let unset = match self.default {
            Default::Absent(word, _) => format!(", or {word}"),
            _ => String::new(),
        };
        let core = match self.kind {
            Kind::Int { min, max } if max == u64::MAX => {
                format!("must be a whole number of at least {min}")
            }
            Kind::Int { min, max } => format!("must be a whole number in {min}..={max}"),
            Kind::Float { min, max, .. } if max.is_infinite() => {
                format!("must be a number above {min}")
            }
            Kind::Float { min, max, open } => {
                if open {
                    format!("must be above {min} and at most {max}")
                } else {
                    format!("must be {min}..={max}")
                }
            }
            Kind::Choice(words) => format!("valid values are {}", words.join(", ")),
            Kind::IntList { min, max } => {
                format!("must be a comma-separated list of {min}..={max}, like 30,25,32")
            }
            Kind::IntOrNone { min, max } if max == u64::MAX => {
                format!("must be a whole number of at least {min}, or none (unbounded)")
            }
            Kind::IntOrNone { min, max } => {
                format!("must be a whole number in {min}..={max}, or none (unbounded)")
            }
            Kind::Flag => "must be true or false".into(),
            Kind::Text | Kind::Program => "must be text".into(),
        };
        core + &unset
    }

    /// The default as a value (`None`: unset).
    pub fn default_value(&self) -> Option<Value> {
        match self.default {
            Default::Int(n) => Some(Value::Int(n)),
            Default::Float(f) => Some(Value::Float(f)),
            Default::Word(w) => Some(Value::Text(w.into())),
            Default::Flag(b) => Some(Value::Flag(b)),
            Default::EmptyList(_) => Some(Value::List(Vec::new())),
            Default::Absent(..) => None,
        }
    }

    /// The default as `--help` says it.
    pub fn default_text(&self) -> String {
        match self.default {
            Default::Int(n) => n.to_string(),
            Default::Float(f) => f.to_string(),
            Default::Word(w) => w.into(),
            Default::Flag(b) => if b { "on" } else { "off" }.into(),
            Default::EmptyList(meaning) => meaning.into(),
            Default::Absent(_, meaning) => meaning.into(),
        }
    }

    /// Parse a value typed on the command line (or in the Settings ladder).
    pub fn parse(&self, raw: &str) -> Result<Option<Value>, String> {
        let raw = raw.trim();
        if let Default::Absent(word, _) = self.default {
            if raw == word {
                return Ok(None);
            }
        }
        let v = match self.kind {
            Kind::Int { .. } => raw.parse::<u64>().ok().map(Value::Int),
            Kind::Float { .. } => raw.parse::<f64>().ok().map(Value::Float),
            Kind::Choice(_) | Kind::Text | Kind::Program => Some(Value::Text(raw.into())),
            Kind::IntList { .. } => raw
                .split(',')
                .map(|k| k.trim().parse::<u64>().ok())
                .collect::<Option<Vec<u64>>>()
                .map(Value::List),
            Kind::IntOrNone { .. } if raw.eq_ignore_ascii_case("none") => {
                Some(Value::Text("none".into()))
            }
            Kind::IntOrNone { .. } => raw.parse::<u64>().ok().map(Value::Int),
            Kind::Flag => match raw {
                "true" | "on" | "1" => Some(Value::Flag(true)),
                "false" | "off" | "0" => Some(Value::Flag(false)),
                _ => None,
            },
        };
        let v = v.ok_or_else(|| self.valid())?;
        self.check(&v)?;
        Ok(Some(v))
    }

    /// Parse a typed value, or say in one line what is wrong with it and where it came from.
    pub fn parse_at(&self, raw: &str, origin: &Origin) -> Result<Option<Value>, crate::UserError> {
        self.parse(raw)
            .map_err(|why| error_at(self, raw, origin, &why))
    }

    /// Take a value from a config file.
    pub fn from_file(&self, raw: &Raw) -> Result<Option<Value>, String> {
        let v = match (self.kind, raw) {
            (_, Raw::Text(s)) if matches!(self.default, Default::Absent(w, _) if w == s) => {
                return Ok(None)
            }
            (Kind::Int { .. } | Kind::IntOrNone { .. }, Raw::Int(n)) => Value::Int(*n),
            (Kind::Float { .. }, Raw::Float(f)) => Value::Float(*f),
            (Kind::Float { .. }, Raw::Int(n)) => Value::Float(*n as f64),
            (Kind::Choice(_) | Kind::Text | Kind::Program, Raw::Text(s)) => Value::Text(s.clone()),
            (Kind::IntList { .. }, Raw::List(a)) => Value::List(
                a.iter()
                    .map(|x| match x {
                        Raw::Int(n) => Some(*n),
                        _ => None,
                    })
                    .collect::<Option<Vec<u64>>>()
                    .ok_or_else(|| self.valid())?,
            ),
            (Kind::IntOrNone { .. }, Raw::Text(s)) if s.eq_ignore_ascii_case("none") => {
                Value::Text("none".into())
            }
            (Kind::Flag, Raw::Flag(b)) => Value::Flag(*b),
            (_, other) => return Err(format!("{other} is not valid: {}", self.valid())),
        };
        self.check(&v)
            .map_err(|why| format!("{} is out of range: {why}", show_value(&v)))?;
        Ok(Some(v))
    }

    /// Check a value against the kind: the one place ranges are checked.
    pub fn check(&self, v: &Value) -> Result<(), String> {
        let ok = match (self.kind, v) {
            (Kind::Int { min, max }, Value::Int(n)) => (min..=max).contains(n),
            (Kind::Float { min, max, open }, Value::Float(f)) => {
                f.is_finite() && *f <= max && if open { *f > min } else { *f >= min }
            }
            (Kind::Float { .. }, Value::Int(n)) => {
                return self.check(&Value::Float(*n as f64));
            }
            (Kind::Choice(words), Value::Text(s)) => words.contains(&s.as_str()),
            (Kind::IntList { min, max }, Value::List(l)) => {
                l.iter().all(|k| (min..=max).contains(k))
            }
            (Kind::IntOrNone { .. }, Value::Text(s)) => s == "none",
            (Kind::IntOrNone { min, max }, Value::Int(n)) => (min..=max).contains(n),
            (Kind::Flag, Value::Flag(_)) | (Kind::Text | Kind::Program, Value::Text(_)) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.valid())
        }
    }

    /// The value as the form and the Runs table show it.
    pub fn show(&self, v: Option<&Value>) -> String {
        match (v, self.default) {
            (None, Default::Absent(word, _)) => word.into(),
            (None, _) => "-".into(),
            (Some(Value::Flag(b)), _) => if *b { "on" } else { "off" }.into(),
            (Some(v), _) => show_value(v),
        }
    }

    /// One ↑/↓ step in the Settings form; stays within the valid values.
    pub fn step(&self, v: Option<&Value>, up: bool) -> Option<Value> {
        let now = v.cloned().or_else(|| self.default_value());
        match (self.step, self.kind, now) {
            (Step::Ladder(rungs), ..) => {
                let shown = self.show(v);
                let i = rungs.iter().position(|r| *r == shown);
                let n = rungs.len();
                let next = match i {
                    Some(i) if up => (i + 1).min(n - 1),
                    Some(i) => i.saturating_sub(1),
                    None => 0,
                };
                self.parse(rungs[next]).ok().flatten()
            }
            (_, Kind::Choice(words), Some(Value::Text(s))) => {
                let i = words.iter().position(|w| *w == s).unwrap_or(0);
                let n = words.len();
                Some(Value::Text(
                    words[if up { (i + 1) % n } else { (i + n - 1) % n }].into(),
                ))
            }
            (_, Kind::Flag, Some(Value::Flag(b))) => Some(Value::Flag(!b)),
            (step, Kind::Int { min, max }, Some(Value::Int(n))) => {
                let next = match (step, up) {
                    (Step::Double, true) => n.saturating_mul(2),
                    (Step::Double, false) => n / 2,
                    (_, true) => n.saturating_add(1),
                    (_, false) => n.saturating_sub(1),
                };
                Some(Value::Int(next.clamp(min, max)))
            }
            (step, Kind::Float { min, max, open }, Some(Value::Float(f))) => {
                let next = match (step, up) {
                    (Step::By(d), true) => ((f + d) * 1e6).round() / 1e6,
                    (Step::By(d), false) => ((f - d) * 1e6).round() / 1e6,
                    (_, true) => f * 2.0,
                    (_, false) => f / 2.0,
                };
                let floor = if open {
                    min.max(f / 2.0).max(1e-3)
                } else {
                    min
                };
                Some(Value::Float(next.clamp(floor, max)))
            }
            (_, _, now) => now,
        }
    }
}

/// A value as a config file has it, before its table reads it (whole
/// numbers up to u64, which TOML's own value type cannot hold).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Raw {
    Flag(bool),
    Int(u64),
    Negative(i64),
    Float(f64),
    Text(String),
    List(Vec<Raw>),
    Table(BTreeMap<String, Raw>),
}

impl std::fmt::Display for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Raw::Flag(b) => write!(f, "{b}"),
            Raw::Int(n) => write!(f, "{n}"),
            Raw::Negative(n) => write!(f, "{n}"),
            Raw::Float(x) => write!(f, "{x}"),
            Raw::Text(s) => write!(f, "\"{s}\""),
            Raw::List(l) => {
                let items: Vec<String> = l.iter().map(|r| r.to_string()).collect();
                write!(f, "[{}]", items.join(", "))
            }
            Raw::Table(_) => f.write_str("a table"),
        }
    }
}

/// A value in the words of the command line.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::Flag(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => {
            let s = format!("{f}");
            if s.len() > 8 {
                format!("{f:.3}")
            } else {
                s
            }
        }
        Value::List(l) => l.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
        Value::Text(s) => s.clone(),
    }
}

/// The values of one table's parameters: every key present but the unset ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Values(BTreeMap<String, Value>);

impl Values {
    /// Every parameter at its default.
    pub fn defaults(params: &[Param]) -> Self {
        Self(
            params
                .iter()
                .filter_map(|p| Some((p.key.to_string(), p.default_value()?)))
                .collect(),
        )
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Set or unset `key` (checked when the spec is validated).
    pub fn put(&mut self, key: &str, v: Option<Value>) {
        match v {
            Some(v) => self.0.insert(key.to_string(), v),
            None => self.0.remove(key),
        };
    }

    /// Set `key` to a value: for code and tests, `values.set("size", 1000)`.
    pub fn set(&mut self, key: &str, v: impl Into<Value>) -> &mut Self {
        self.0.insert(key.to_string(), v.into());
        self
    }

    /// A whole number (a set `Int` parameter).
    pub fn int(&self, key: &str) -> u64 {
        match self.0.get(key) {
            Some(Value::Int(n)) => *n,
            Some(Value::Float(f)) => *f as u64,
            _ => 0,
        }
    }

    /// A whole number, if set.
    pub fn opt_int(&self, key: &str) -> Option<u64> {
        match self.0.get(key) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// A number.
    pub fn float(&self, key: &str) -> f64 {
        self.opt_float(key).unwrap_or(0.0)
    }

    /// A number, if set.
    pub fn opt_float(&self, key: &str) -> Option<f64> {
        match self.0.get(key) {
            Some(Value::Float(f)) => Some(*f),
            Some(Value::Int(n)) => Some(*n as f64),
            _ => None,
        }
    }

    /// A word or text, if set.
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.0.get(key) {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// A list (empty if unset).
    pub fn list(&self, key: &str) -> &[u64] {
        match self.0.get(key) {
            Some(Value::List(l)) => l,
            _ => &[],
        }
    }

    /// A flag.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.0.get(key), Some(Value::Flag(true)))
    }

    /// Check every value against its parameter; a key no parameter names is a bug.
    pub fn check(&self, params: &[Param], owner: &str) -> Result<(), crate::UserError> {
        for (key, v) in &self.0 {
            let p = params.iter().find(|p| p.key == key).ok_or_else(|| {
                crate::UserError::new(format!("{owner} takes no parameter '{key}'"))
            })?;
            p.check(v)
                .map_err(|why| error_at(p, &show_value(v), &Origin::Code, &why))?;
        }
        Ok(())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Int(n)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(n as u64)
    }
}

impl From<i32> for Value {
    /// For literals in code and tests; a negative number is out of every range.
    fn from(n: i32) -> Self {
        match u64::try_from(n) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Float(n as f64),
        }
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Flag(b)
    }
}

impl From<Vec<u64>> for Value {
    fn from(l: Vec<u64>) -> Self {
        Value::List(l)
    }
}

/// An error about a value, in the words of where it came from.
pub fn error_at(p: &Param, raw: &str, origin: &Origin, why: &str) -> crate::UserError {
    crate::UserError::new(match origin {
        Origin::Flag | Origin::Code => format!("invalid value '{raw}' for {}: {why}", p.flag()),
        Origin::File {
            file,
            line,
            section,
        } => format!("{file}, line {line}: key `{}` in [{section}]: {why}", p.key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: Param = Param {
        key: "size",
        help: "",
        kind: Kind::Int { min: 1, max: 100 },
        default: Default::Int(10),
        label: "size",
        step: Step::Double,
    };
    /// The queue's producer rate: a number, unset as `max`, a ladder in the form.
    fn rate() -> &'static Param {
        crate::strategy::queue::DESCRIPTOR.param("rate").unwrap()
    }

    #[test]
    fn parse_checks_the_range_and_names_it() {
        assert_eq!(SIZE.parse("5"), Ok(Some(Value::Int(5))));
        assert!(SIZE.parse("0").unwrap_err().contains("1..=100"));
        assert!(SIZE.parse("x").unwrap_err().contains("1..=100"));
        assert_eq!(rate().parse("max"), Ok(None));
        assert!(rate().parse("0").is_err());
        assert!(rate().parse("nan").is_err());
    }

    #[test]
    fn steps_stay_in_range() {
        let mut v = SIZE.default_value();
        for _ in 0..10 {
            v = SIZE.step(v.as_ref(), true);
        }
        assert_eq!(v, Some(Value::Int(100)));
        let mut r = None;
        r = rate().step(r.as_ref(), false);
        assert_eq!(r, Some(Value::Float(1000.0)));
        r = rate().step(r.as_ref(), true);
        assert_eq!(r, None);
    }
}
