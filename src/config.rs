//! Settings: built-in defaults, under a TOML file, under flags.
//!
//! The file is `--config FILE`, else `$PARLAB_CONFIG`, else `parlab.toml` in
//! the current folder, else the platform's config folder
//! (`~/.config/parlab/config.toml` on Linux); `--no-config` ignores files.
//! `config.example.toml` documents every setting with its default.

use crate::cli::RunArgs;
use crate::param::{self, Default, Kind, Origin, Param, Step, Values};
use crate::plan::{RunSpec, SWITCH_INTERVAL_MS, WORKERS};
use crate::strategy::{self, OnError, StrategySpec};
use crate::workload::{self, WorkloadSpec};
use crate::UserError;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `[run]`: what runs, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSection {
    /// A workload's name.
    pub workload: String,
    /// A strategy's name.
    pub strategy: String,
    /// Absent (or `"auto"`): the logical cores (threads, processes: one per task).
    #[serde(deserialize_with = "auto_or_count")]
    pub workers: Option<u32>,
    pub seed: u64,
    pub gil: bool,
    pub switch_interval_ms: f64,
    pub on_error: OnError,
    /// Others using more than this many cores mark a run disturbed.
    pub disturbed_threshold: f64,
}

/// `[run] disturbed_threshold`.
pub const DISTURBED_THRESHOLD: Param = Param {
    key: "disturbed_threshold",
    help: "a run is marked disturbed when other programs used more than this many cores, on average, while it ran",
    kind: Kind::Float {
        min: 0.0,
        max: 4096.0,
        open: false,
    },
    default: Default::Float(crate::sampler::DISTURBED_THRESHOLD),
    label: "disturbed",
    step: Step::Hidden,
};

impl std::default::Default for RunSection {
    fn default() -> Self {
        Self {
            workload: workload::default().name.into(),
            strategy: strategy::default().name.into(),
            workers: None,
            seed: 42,
            gil: false,
            switch_interval_ms: 5.0,
            on_error: OnError::Stop,
            disturbed_threshold: crate::sampler::DISTURBED_THRESHOLD,
        }
    }
}

/// `workers = 4`, or `"auto"` for unset.
fn auto_or_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Count(u32),
        Word(String),
    }
    match Raw::deserialize(d)? {
        Raw::Count(n) => Ok(Some(n)),
        Raw::Word(w) if w == "auto" => Ok(None),
        Raw::Word(w) => Err(serde::de::Error::custom(format!(
            "invalid type: string \"{w}\", expected a whole number or \"auto\""
        ))),
    }
}

/// The TUI's colours.
#[derive(Clone, Copy, Debug, std::default::Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    /// Colour-blind-safe, for dark terminals and projectors.
    #[default]
    Dark,
    /// For bright rooms.
    Light,
}

/// `[tui] fps`.
pub const FPS: Param = Param {
    key: "fps",
    help: "frames per second",
    kind: Kind::Int { min: 1, max: 240 },
    default: Default::Int(30),
    label: "fps",
    step: Step::Hidden,
};

/// `[tui]`: the live lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuiSection {
    /// Frames per second, 1..=240.
    pub fps: u32,
    pub theme: ThemeName,
}

impl std::default::Default for TuiSection {
    fn default() -> Self {
        Self {
            fps: 30,
            theme: ThemeName::Dark,
        }
    }
}

/// The sections with typed fields; every other section belongs to a
/// workload or a strategy and is read through its table.
#[derive(Deserialize, Serialize, std::default::Default)]
#[serde(default)]
struct Typed {
    run: RunSection,
    tui: TuiSection,
}

/// The whole file.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub run: RunSection,
    pub tui: TuiSection,
    /// Each workload's and strategy's section (`[collatz]`, `[queue]`): its
    /// table's defaults with the file's values laid over them.
    pub sections: BTreeMap<&'static str, Values>,
    /// Settings that name a program, in a folder's file the user has not trusted.
    pub refused: Vec<Refused>,
}

/// A setting left out because its file is not trusted.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    pub file: String,
    pub line: usize,
    pub section: &'static str,
    pub key: &'static str,
}

impl std::default::Default for Config {
    fn default() -> Self {
        Self {
            run: RunSection::default(),
            tui: TuiSection::default(),
            sections: every_table()
                .map(|(name, params)| (name, Values::defaults(params)))
                .collect(),
            refused: Vec::new(),
        }
    }
}

/// Every workload's and strategy's table, and `[python]`'s, by section name.
fn every_table() -> impl Iterator<Item = (&'static str, &'static [Param])> {
    workload::REGISTRY
        .iter()
        .map(|d| (d.name, d.params))
        .chain(
            strategy::REGISTRY
                .iter()
                .filter(|d| !d.params.is_empty())
                .map(|d| (d.name, d.params)),
        )
        .chain(std::iter::once(("python", &crate::python::SECTION[..])))
}

/// How a config file was found: the user's choice, or the current folder's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// `--config FILE`.
    Flag,
    /// `$PARLAB_CONFIG`.
    Env,
    /// `./parlab.toml`: whoever made the folder wrote it.
    Folder,
    /// The user's own config file.
    User,
}

/// The config file in force and how it was found, in order of precedence.
pub fn find(explicit: Option<&Path>, no_config: bool) -> Result<Option<(PathBuf, Found)>> {
    if no_config {
        return Ok(None);
    }
    if let Some(p) = explicit {
        if !p.is_file() {
            return Err(
                UserError::new(format!("config file '{}' does not exist", p.display())).into(),
            );
        }
        return Ok(Some((p.to_path_buf(), Found::Flag)));
    }
    if let Some(p) = std::env::var_os("PARLAB_CONFIG").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(UserError::new(format!(
                "config file '{}' (from $PARLAB_CONFIG) does not exist",
                p.display()
            ))
            .into());
        }
        return Ok(Some((p, Found::Env)));
    }
    let here = PathBuf::from("parlab.toml");
    if here.is_file() {
        return Ok(Some((here, Found::Folder)));
    }
    Ok(platform_config()
        .filter(|p| p.is_file())
        .map(|p| (p, Found::User)))
}

pub use crate::folders::platform_config;

/// Load the config in force. A folder's own `parlab.toml` that the user has
/// not trusted loads all but its settings that name a program to run.
pub fn load(explicit: Option<&Path>, no_config: bool) -> Result<Config> {
    match find(explicit, no_config)? {
        None => Ok(Config::default()),
        Some((path, found)) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                UserError::new(format!("cannot read config file '{}': {e}", path.display()))
            })?;
            let trusted = found != Found::Folder
                || crate::trust::Store::load()?.trusts(&path, text.as_bytes());
            parse_from(&text, &path.display().to_string(), trusted)
        }
    }
}

/// Parse and validate a config file's text; errors name the file, line and key.
pub fn parse(text: &str, file: &str) -> Result<Config> {
    parse_from(text, file, true)
}

/// Parse a file; an untrusted one keeps its settings that name a program aside.
pub fn parse_from(text: &str, file: &str, trusted: bool) -> Result<Config> {
    let syntax = |e: toml::de::Error| -> anyhow::Error {
        let line = e.span().map(|s| line_at(text, s.start)).unwrap_or(1);
        let key = key_on_line(text, line);
        let msg = e.message().replace('\n', " ");
        let key = key.map(|k| format!(" key `{k}`:")).unwrap_or_default();
        UserError::new(format!("{file}, line {line}:{key} {msg}")).into()
    };
    let typed: Typed = toml::from_str(text).map_err(syntax)?;
    let table: BTreeMap<String, param::Raw> = toml::from_str(text).map_err(syntax)?;
    let mut config = Config {
        run: typed.run,
        tui: typed.tui,
        ..Config::default()
    };
    config.validate(text, file)?;
    for (section, value) in &table {
        if section == "run" || section == "tui" {
            continue;
        }
        config.read_section(section, value, text, file, trusted)?;
    }
    Ok(config)
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn key_on_line(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line - 1)?;
    let (key, _) = l.split_once('=')?;
    Some(key.trim().to_string())
}

/// A key set above every section: where it belongs, if it is a known one.
fn top_level_key(key: &str, text: &str, file: &str) -> String {
    // [run] and [tui] are typed: their keys are what they serialise to
    // (every one set, so none is left out).
    let mut every = Typed::default();
    every.run.workers = Some(1);
    let typed = toml::Table::try_from(every).unwrap_or_default();
    let homes: Vec<String> = typed
        .iter()
        .filter(|(_, keys)| keys.as_table().is_some_and(|t| t.contains_key(key)))
        .map(|(section, _)| section.clone())
        .chain(
            every_table()
                .filter(|(_, ps)| ps.iter().any(|p| p.key == key))
                .map(|(n, _)| n.to_string()),
        )
        .map(|s| format!("[{s}]"))
        .collect();
    let hint = if homes.is_empty() {
        "settings live in sections such as [run] (workload, strategy, workers) and [tui]".into()
    } else {
        format!("it belongs in a section: {}", homes.join(", "))
    };
    format!(
        "{file}, line {}: unknown key `{key}` at the top of the file: {hint}",
        line_of(text, "", key)
    )
}

/// The line where `key` is set inside `[section]` (or the section's own
/// line, for `key` empty), for errors found after parsing.
fn line_of(text: &str, section: &str, key: &str) -> usize {
    let mut current = String::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            if key.is_empty() && current == section {
                return i + 1;
            }
        } else if current == section && t.split('=').next().map(str::trim) == Some(key) {
            return i + 1;
        }
    }
    1
}

impl Config {
    /// The `[run]` and `[tui]` checks the types alone cannot make, each
    /// against its one table row.
    fn validate(&self, text: &str, file: &str) -> Result<()> {
        let at = |section: &'static str, p: &Param, v: param::Value| -> Result<()> {
            if let Err(why) = p.check(&v) {
                let origin = Origin::File {
                    file,
                    line: line_of(text, section, p.key),
                    section,
                };
                let shown = format!("{} is out of range: {why}", param::show_value(&v));
                return Err(param::error_at(p, "", &origin, &shown).into());
            }
            Ok(())
        };
        let name = |section: &str, key: &str, value: &str, what: &str, valid: Vec<&str>| {
            UserError::new(format!(
                "{file}, line {}: key `{key}` in [{section}]: '{value}' is not a {what}: valid values are {}",
                line_of(text, section, key),
                valid.join(", ")
            ))
        };
        if workload::find(&self.run.workload).is_none() {
            let w = &self.run.workload;
            return Err(name("run", "workload", w, "workload", workload::names()).into());
        }
        if strategy::find(&self.run.strategy).is_none() {
            let s = &self.run.strategy;
            return Err(name("run", "strategy", s, "strategy", strategy::names()).into());
        }
        if let Some(w) = self.run.workers {
            at("run", &WORKERS, w.into())?;
        }
        at(
            "run",
            &SWITCH_INTERVAL_MS,
            self.run.switch_interval_ms.into(),
        )?;
        at(
            "run",
            &DISTURBED_THRESHOLD,
            self.run.disturbed_threshold.into(),
        )?;
        at("tui", &FPS, self.tui.fps.into())
    }

    /// A workload's or strategy's section, each key checked against its table.
    fn read_section(
        &mut self,
        section: &str,
        value: &param::Raw,
        text: &str,
        file: &str,
        trusted: bool,
    ) -> Result<()> {
        let table = every_table().find(|(n, _)| *n == section);
        if table.is_none() && !matches!(value, param::Raw::Table(_)) {
            return Err(UserError::new(top_level_key(section, text, file)).into());
        }
        let Some((name, params)) = table else {
            let valid: Vec<&str> = ["run", "tui"]
                .into_iter()
                .chain(every_table().map(|(n, _)| n))
                .collect();
            return Err(UserError::new(format!(
                "{file}, line {}: unknown section [{section}]: valid sections are {}",
                line_of(text, section, ""),
                valid.join(", ")
            ))
            .into());
        };
        let param::Raw::Table(table) = value else {
            return Err(UserError::new(format!(
                "{file}, line {}: `{section}` must be a [section]",
                line_of(text, "", section)
            ))
            .into());
        };
        let values = self.sections.entry(name).or_default();
        for (key, v) in table {
            let line = line_of(text, section, key);
            let Some(p) = params.iter().find(|p| p.key == key) else {
                let valid: Vec<&str> = params.iter().map(|p| p.key).collect();
                return Err(UserError::new(format!(
                    "{file}, line {line}: unknown key `{key}` in [{section}]: expected one of {}",
                    valid.join(", ")
                ))
                .into());
            };
            let got = p.from_file(v).map_err(|why| {
                UserError::new(format!(
                    "{file}, line {line}: key `{key}` in [{section}]: {why}"
                ))
            })?;
            if p.kind == Kind::Program && !trusted {
                self.refused.push(Refused {
                    file: file.to_string(),
                    line,
                    section: name,
                    key: p.key,
                });
            } else {
                values.put(key, got);
            }
        }
        Ok(())
    }

    /// `[python] executable`, where the file sets it; a folder's file not
    /// trusted is refused here, in the words `check_trusted` uses.
    pub fn python_executable(&self) -> Result<Option<String>, UserError> {
        if let Some(r) = self.refused.iter().find(|r| r.section == "python") {
            return Err(UserError::new(format!(
                "{}, line {}: key `{}` in [{}] names a program to run, and this folder's parlab.toml is not trusted: read it, then run `parlab trust`",
                r.file, r.line, r.key, r.section
            )));
        }
        Ok(self
            .sections
            .get("python")
            .and_then(|v| v.text("executable"))
            .map(str::to_string))
    }

    /// Refuse a run that would need a program setting of an untrusted
    /// folder file: one line naming the file, the line, the key and
    /// `parlab trust`. (The setting was never applied, so nothing else could run it.)
    pub fn check_trusted(&self, spec: &RunSpec) -> Result<(), UserError> {
        let w = &spec.workload;
        let s = &spec.strategy;
        // Refused where the run would have used it: its section, and no flag
        // (the user's own choice) set the key since.
        let still_default = |values: &Values, p: Option<&Param>| {
            p.is_some_and(|p| values.get(p.key).cloned() == p.default_value())
        };
        let needed = |r: &&Refused| {
            (r.section == w.name() && still_default(&w.params, w.desc.param(r.key)))
                || (r.section == s.name() && still_default(&s.params, s.desc.param(r.key)))
        };
        match self.refused.iter().find(needed) {
            None => Ok(()),
            Some(r) => Err(UserError::new(format!(
                "{}, line {}: key `{}` in [{}] names a program to run, and this folder's parlab.toml is not trusted: read it, then run `parlab trust`",
                r.file, r.line, r.key, r.section
            ))),
        }
    }

    /// A workload with this file's values.
    pub fn workload(&self, desc: &'static workload::Descriptor) -> WorkloadSpec {
        WorkloadSpec {
            desc,
            seed: self.run.seed,
            params: self.sections.get(desc.name).cloned().unwrap_or_default(),
        }
    }

    /// A strategy with this file's values.
    pub fn strategy(&self, desc: &'static strategy::Descriptor) -> StrategySpec {
        StrategySpec {
            desc,
            params: self.sections.get(desc.name).cloned().unwrap_or_default(),
        }
    }
    /// A Python program's plan from its flags: `--python`, else `[python]
    /// executable`, else `python3`; `--timeout`, `--gil-sample-hz` and
    /// `--profile-hz` as given.
    pub fn py_plan(&self, p: &crate::cli::PyArgs) -> Result<crate::python::PyPlan> {
        let python = match &p.python {
            Some(exe) => exe.clone(),
            None => self
                .python_executable()?
                .unwrap_or_else(|| "python3".into()),
        };
        let mut plan = crate::python::PyPlan::new(&python, &p.script, p.args.clone())?;
        plan.timeout = p.timeout.map(std::time::Duration::from_secs_f64);
        plan.gil_hz = p.gil_sample_hz;
        plan.profile_hz = p.profile_hz;
        Ok(plan)
    }

    /// This config with the flags laid over it, as a run's spec. Every flag
    /// is checked here, once, and a bad one is named as typed.
    pub fn to_spec(&self, a: &RunArgs) -> Result<RunSpec> {
        let wname = a.workload.as_deref().unwrap_or(&self.run.workload);
        let sname = a.strategy.as_deref().unwrap_or(&self.run.strategy);
        let wdesc = workload::find(wname)
            .ok_or_else(|| UserError::new(format!("no workload named '{wname}'")))?;
        let sdesc = strategy::find(sname)
            .ok_or_else(|| UserError::new(format!("no strategy named '{sname}'")))?;
        let mut workload = self.workload(wdesc);
        if let Some(seed) = a.seed {
            workload.seed = seed;
        }
        let mut strategy = self.strategy(sdesc);
        for (key, raw) in &a.params.0 {
            let (p, values) = if let Some(p) = wdesc.param(key) {
                (p, &mut workload.params)
            } else if let Some(p) = sdesc.param(key) {
                (p, &mut strategy.params)
            } else {
                return Err(not_for(key, wname, sname).into());
            };
            values.put(key, p.parse_at(raw, &Origin::Flag)?);
        }
        let spec = RunSpec {
            workload,
            strategy,
            workers: match &a.workers {
                Some(w) => w.single()?,
                None => self.run.workers,
            },
            gil: if a.gil {
                true
            } else if a.no_gil {
                false
            } else {
                self.run.gil
            },
            switch_interval_ms: a.switch_interval_ms.unwrap_or(self.run.switch_interval_ms),
            on_error: a.on_error.unwrap_or(self.run.on_error),
            record_events: !a.no_events,
            worker_exe: a.worker_exe.clone(),
            duration_secs: a.duration,
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// `config.example.toml`, written from the tables: every setting with its
/// help, its valid values and its default. A test keeps the file equal to it.
pub fn example() -> String {
    let names = |v: Vec<&str>| v.join(" | ");
    let d = RunSection::default();
    let mut out = String::from(
        "# parlab's settings, every one with its default. Written from the tables in the code\n\
         # (`PARLAB_BLESS=1 cargo test --lib config` rewrites it).\n\
         # parlab reads --config FILE, else $PARLAB_CONFIG, else ./parlab.toml, else\n\
         # ~/.config/parlab/config.toml (Linux; macOS: ~/Library/Application Support/parlab/config.toml).\n\
         # Flags on the command line override this file; --no-config ignores it.\n\n[run]\n",
    );
    out += &format!(
        "# {}\nworkload = \"{}\"\n",
        names(workload::names()),
        d.workload
    );
    out += &format!(
        "# {}\nstrategy = \"{}\"\n",
        names(strategy::names()),
        d.strategy
    );
    out += &format!(
        "# {}; {}.\n# Unset: {}.\n# workers = 4\n",
        WORKERS.help,
        WORKERS.valid(),
        WORKERS.default_text()
    );
    out += &format!(
        "# Seed for a workload's seeded units or inputs.\nseed = {}\n",
        d.seed
    );
    out += &format!(
        "# Run thread strategies under a simulated GIL.\ngil = {}\n",
        d.gil
    );
    out += &setting(&SWITCH_INTERVAL_MS);
    out += "# When a task fails: \"stop\" the run, or \"continue\" with the other tasks.\non_error = \"stop\"\n";
    out += &setting(&DISTURBED_THRESHOLD);
    out += "\n[tui]\n";
    out += &setting(&FPS);
    out += "# \"dark\" (colour-blind-safe, for projectors) | \"light\" (for bright rooms). NO_COLOR is honoured.\ntheme = \"dark\"\n";
    for (name, params) in every_table() {
        out += &format!("\n[{name}]\n");
        for p in params {
            out += &setting(p);
        }
    }
    out
}

/// One setting of the example: its help and valid values, then `key = default`
/// (commented out, with the word that means unset, when it has no default).
fn setting(p: &Param) -> String {
    let help = format!("# {}; {}.\n", p.help, p.valid());
    match p.default {
        Default::Absent(word, meaning) => {
            format!("{help}# Unset: {meaning}.\n# {} = \"{word}\"\n", p.key)
        }
        Default::Int(n) => format!("{help}{} = {n}\n", p.key),
        Default::Float(f) => format!("{help}{} = {f:?}\n", p.key),
        Default::Word(w) => format!("{help}{} = \"{w}\"\n", p.key),
        Default::Flag(b) => format!("{help}{} = {b}\n", p.key),
        Default::EmptyList(meaning) => format!("{help}# Empty: {meaning}.\n{} = []\n", p.key),
    }
}

/// A flag for another workload's or strategy's parameter.
fn not_for(key: &str, workload: &str, strategy: &str) -> UserError {
    let owners: Vec<&str> = crate::cli::every_param()
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, rows)| rows.iter().map(|(o, _)| *o).collect())
        .unwrap_or_default();
    let of_a_workload = owners.iter().any(|o| workload::find(o).is_some());
    let to = if of_a_workload {
        format!("the {workload} workload")
    } else {
        format!("the {strategy} strategy")
    };
    UserError::new(format!(
        "--{} does not apply to {to} (it applies to {})",
        key.replace('_', "-"),
        owners.join(", ")
    ))
}

/// `parlab trust [FILE] [--list] [--revoke FILE]`: what it prints.
pub fn trust_command(file: Option<&Path>, list: bool, revoke: Option<&Path>) -> Result<String> {
    let mut store = crate::trust::Store::load()?;
    if list {
        return Ok(store.list());
    }
    if let Some(path) = revoke {
        return Ok(if store.revoke(path)? {
            format!("no longer trusted: {}\n", path.display())
        } else {
            return Err(UserError::new(format!(
                "'{}' is not trusted: `parlab trust --list` shows what is",
                path.display()
            ))
            .into());
        });
    }
    let path = file.unwrap_or(Path::new("parlab.toml"));
    if !path.is_file() {
        return Err(UserError::new(format!(
            "no file '{}' to trust (parlab trust [FILE], default ./parlab.toml)",
            path.display()
        ))
        .into());
    }
    // Only a config that parses is worth trusting.
    let text = std::fs::read(path).map_err(|e| {
        UserError::new(format!("cannot read config file '{}': {e}", path.display()))
    })?;
    parse(&String::from_utf8_lossy(&text), &path.display().to_string())?;
    let e = store.trust(path)?;
    Ok(format!(
        "trusted {} (sha256 {}); it must be trusted again after any change\n",
        e.path.display(),
        &e.sha256[..12]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_equals_the_defaults() {
        let text = include_str!("../config.example.toml");
        assert_eq!(
            parse(text, "config.example.toml").unwrap(),
            Config::default()
        );
    }

    #[test]
    fn the_example_file_is_written_from_the_tables() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
        if std::env::var_os("PARLAB_BLESS").is_some() {
            std::fs::write(path, example()).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap();
        assert!(
            committed == example(),
            "config.example.toml has drifted from the tables: PARLAB_BLESS=1 cargo test --lib config rewrites it"
        );
    }

    #[test]
    fn an_unknown_key_names_file_line_and_key() {
        let err = parse("[run]\nworkload = \"collatz\"\nbogus = 1\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.toml, line 3"), "{err}");
        assert!(err.contains("bogus"), "{err}");
        assert!(err.contains("workload"), "names the valid keys: {err}");
    }

    #[test]
    fn a_wrong_type_and_an_out_of_range_value_name_the_key() {
        let err = parse("[run]\nworkers = \"many\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("workers"), "{err}");
        let err = parse("[queue]\n\ncapacity = 0\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3") && err.contains("capacity"), "{err}");
        let err = parse("[run]\nstrategy = \"fork\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sequential") && err.contains("process-pool"),
            "lists the valid values: {err}"
        );
    }

    #[test]
    fn flags_override_the_file() {
        let c = parse(
            "[run]\nstrategy = \"rayon\"\n[collatz]\nsize = 10\n",
            "x.toml",
        )
        .unwrap();
        let mut a = RunArgs::default();
        a.params.set("size", "99");
        let spec = c.to_spec(&a).unwrap();
        assert_eq!(spec.strategy.name(), "rayon");
        assert_eq!(spec.workload.params.int("size"), 99);
        let mut a = RunArgs::default();
        a.params.set("unit_ms", "5");
        let err = c.to_spec(&a).unwrap_err();
        assert!(err
            .to_string()
            .contains("--unit-ms does not apply to the collatz workload"));
    }

    #[test]
    fn a_bad_strategy_section_fails_at_load_whatever_the_strategy() {
        let text = "[run]\nstrategy = \"sequential\"\n\n[queue]\ncapacity = 2000000\n";
        let err = parse(text, "x.toml").unwrap_err().to_string();
        for needle in ["x.toml", "line 5", "capacity", "1..=1000000"] {
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn an_unknown_section_names_the_valid_ones() {
        let err = parse("[colatz]\nsize = 5\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1") && err.contains("collatz"), "{err}");
    }
}
