//! Settings: built-in defaults, under a TOML file, under flags.
//!
//! The file is `--config FILE`, else `$PARLAB_CONFIG`, else `parlab.toml` in
//! the current folder, else the platform's config folder
//! (`~/.config/parlab/config.toml` on Linux); `--no-config` ignores files.
//! `config.example.toml` documents every setting with its default.

use crate::cli::RunArgs;
use crate::engine::RunSpec;
use crate::strategy::{OnError, QueueParams, StrategyKind};
use crate::workload::{
    amdahl, collatz, fib, primes, race, shell, sleep, WorkloadKind, WorkloadParams, WorkloadSpec,
};
use crate::UserError;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `[run]`: what runs, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSection {
    pub workload: WorkloadKind,
    pub strategy: StrategyKind,
    /// Absent: the logical cores (threads, processes: one per task).
    pub workers: Option<u32>,
    pub seed: u64,
    pub gil: bool,
    pub switch_interval_ms: f64,
    pub on_error: OnError,
}

impl Default for RunSection {
    fn default() -> Self {
        Self {
            workload: WorkloadKind::Collatz,
            strategy: StrategyKind::Pool,
            workers: None,
            seed: 42,
            gil: false,
            switch_interval_ms: 5.0,
            on_error: OnError::Stop,
        }
    }
}

/// The TUI's colours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    /// Colour-blind-safe, for dark terminals and projectors.
    #[default]
    Dark,
    /// For bright rooms.
    Light,
}

/// `[tui]`: the live lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuiSection {
    /// Frames per second, 1..=240.
    pub fps: u32,
    pub theme: ThemeName,
}

impl Default for TuiSection {
    fn default() -> Self {
        Self {
            fps: 30,
            theme: ThemeName::Dark,
        }
    }
}

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub run: RunSection,
    pub queue: QueueParams,
    pub tui: TuiSection,
    pub collatz: collatz::Params,
    pub primes: primes::Params,
    pub fib: fib::Params,
    pub sleep: sleep::Params,
    pub shell: shell::Params,
    pub amdahl: amdahl::Params,
    pub race: race::Params,
}

/// Where the config comes from, in order of precedence.
pub fn locate(explicit: Option<&Path>, no_config: bool) -> Result<Option<PathBuf>> {
    if no_config {
        return Ok(None);
    }
    if let Some(p) = explicit {
        if !p.is_file() {
            return Err(
                UserError::new(format!("config file '{}' does not exist", p.display())).into(),
            );
        }
        return Ok(Some(p.to_path_buf()));
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
        return Ok(Some(p));
    }
    let here = PathBuf::from("parlab.toml");
    if here.is_file() {
        return Ok(Some(here));
    }
    Ok(platform_config().filter(|p| p.is_file()))
}

/// `~/.config/parlab/config.toml` (Linux, `$XDG_CONFIG_HOME` honoured),
/// `~/Library/Application Support/parlab/config.toml` (macOS), `%APPDATA%\parlab\config.toml` (Windows).
pub fn platform_config() -> Option<PathBuf> {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    let dir = if cfg!(target_os = "macos") {
        home()?.join("Library/Application Support")
    } else if cfg!(windows) {
        PathBuf::from(std::env::var_os("APPDATA")?)
    } else {
        match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            Some(x) => PathBuf::from(x),
            None => home()?.join(".config"),
        }
    };
    Some(dir.join("parlab").join("config.toml"))
}

/// Load the config in force.
pub fn load(explicit: Option<&Path>, no_config: bool) -> Result<Config> {
    match locate(explicit, no_config)? {
        None => Ok(Config::default()),
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                UserError::new(format!("cannot read config file '{}': {e}", path.display()))
            })?;
            parse(&text, &path.display().to_string())
        }
    }
}

/// Parse and validate a config file's text; errors name the file, line and key.
pub fn parse(text: &str, file: &str) -> Result<Config> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_at(text, s.start)).unwrap_or(1);
        let key = key_on_line(text, line);
        let msg = e.message().replace('\n', " ");
        let key = key.map(|k| format!(" key `{k}`:")).unwrap_or_default();
        UserError::new(format!("{file}, line {line}:{key} {msg}"))
    })?;
    config.validate(text, file)?;
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

/// The line where `key` is set inside `[section]`, for range errors.
fn line_of(text: &str, section: &str, key: &str) -> usize {
    let mut current = String::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        } else if current == section && t.split('=').next().map(str::trim) == Some(key) {
            return i + 1;
        }
    }
    1
}

impl Config {
    /// Range checks the types alone cannot make.
    fn validate(&self, text: &str, file: &str) -> Result<()> {
        let err = |section: &str, key: &str, msg: String| -> anyhow::Error {
            let line = line_of(text, section, key);
            UserError::new(format!(
                "{file}, line {line}: key `{key}` in [{section}]: {msg}"
            ))
            .into()
        };
        let max = crate::engine::MAX_WORKERS;
        if let Some(w) = self.run.workers.filter(|&w| w == 0 || w > max) {
            return Err(err(
                "run",
                "workers",
                format!("{w} is out of range: must be 1..={max}"),
            ));
        }
        let si = self.run.switch_interval_ms;
        if !(si > 0.0 && si <= 10_000.0) {
            return Err(err(
                "run",
                "switch_interval_ms",
                format!("{si} is out of range: must be above 0 and at most 10000"),
            ));
        }
        if !(1..=240).contains(&self.tui.fps) {
            return Err(err(
                "tui",
                "fps",
                format!("{} is out of range: must be 1..=240", self.tui.fps),
            ));
        }
        if self.queue.capacity == 0 {
            return Err(err(
                "queue",
                "capacity",
                "0 is out of range: must be at least 1".into(),
            ));
        }
        if self.queue.producers == 0 || self.queue.producers > max {
            return Err(err(
                "queue",
                "producers",
                format!(
                    "{} is out of range: must be 1..={max}",
                    self.queue.producers
                ),
            ));
        }
        if let Some(c) = self.queue.consumers.filter(|&c| c == 0 || c > max) {
            return Err(err(
                "queue",
                "consumers",
                format!("{c} is out of range: must be 1..={max}"),
            ));
        }
        if let Some(r) = self.queue.rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
            return Err(err(
                "queue",
                "rate",
                format!("{r} is out of range: must be a positive number of items per second"),
            ));
        }
        if !(0.0..=1.0).contains(&self.amdahl.serial) {
            return Err(err(
                "amdahl",
                "serial",
                format!("{} is out of range: must be 0..=1", self.amdahl.serial),
            ));
        }
        // Each workload checks the rest of its own parameters.
        for kind in WorkloadKind::ALL {
            let spec = WorkloadSpec {
                kind,
                seed: self.run.seed,
                params: self.workload_params(),
            };
            if let Err(e) = crate::workload::build(&spec) {
                return Err(UserError::new(format!("{file}: [{}]: {e}", kind.name())).into());
            }
        }
        Ok(())
    }

    /// The workload sections, as handed to a workload (and to worker processes).
    pub fn workload_params(&self) -> WorkloadParams {
        WorkloadParams {
            collatz: self.collatz.clone(),
            primes: self.primes.clone(),
            fib: self.fib.clone(),
            sleep: self.sleep.clone(),
            shell: self.shell.clone(),
            amdahl: self.amdahl.clone(),
            race: self.race.clone(),
        }
    }

    /// This config with the flags laid over it, as a run's spec.
    pub fn to_spec(&self, a: &RunArgs) -> Result<RunSpec> {
        let kind = a.workload.unwrap_or(self.run.workload);
        let mut p = self.workload_params();
        apply_workload_flags(kind, a, &mut p)?;
        let mut queue = self.queue.clone();
        if let Some(v) = a.producers {
            queue.producers = v;
        }
        if let Some(v) = a.consumers {
            queue.consumers = Some(v);
        }
        if let Some(v) = a.capacity {
            queue.capacity = v;
        }
        if let Some(v) = a.rate {
            queue.rate = Some(v);
        }
        if let Some(v) = a.discipline {
            queue.discipline = v;
        }
        queue.prefill |= a.prefill;
        Ok(RunSpec {
            workload: WorkloadSpec {
                kind,
                seed: a.seed.unwrap_or(self.run.seed),
                params: p,
            },
            strategy: a.strategy.unwrap_or(self.run.strategy),
            workers: match &a.workers {
                Some(w) => Some(w.single()?),
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
            queue,
            on_error: a.on_error.unwrap_or(self.run.on_error),
            events: !a.no_events,
            worker_exe: a.worker_exe.clone(),
            duration_secs: a.duration,
        })
    }
}

fn not_for(flag: &str, kind: WorkloadKind, fits: &str) -> anyhow::Error {
    UserError::new(format!(
        "{flag} does not apply to the {} workload (it applies to {fits})",
        kind.name()
    ))
    .into()
}

/// Lay the workload flags over the selected workload's section.
fn apply_workload_flags(kind: WorkloadKind, a: &RunArgs, p: &mut WorkloadParams) -> Result<()> {
    use WorkloadKind as K;
    if let Some(size) = a.size {
        match kind {
            K::Collatz => p.collatz.size = size,
            K::Primes => p.primes.size = size,
            K::Race => p.race.size = size,
            _ => return Err(not_for("--size", kind, "collatz, primes, race")),
        }
    }
    if let Some(tasks) = a.tasks {
        match kind {
            K::Collatz => p.collatz.tasks = tasks,
            K::Primes => p.primes.tasks = tasks,
            K::Amdahl => p.amdahl.tasks = tasks,
            K::Race => p.race.tasks = tasks,
            _ => return Err(not_for("--tasks", kind, "collatz, primes, amdahl, race")),
        }
    }
    if let Some(mode) = &a.mode {
        let bad = |valid: &str| -> anyhow::Error {
            UserError::new(format!(
                "invalid value '{mode}' for --mode with the {} workload: valid modes are {valid}",
                kind.name()
            ))
            .into()
        };
        match kind {
            K::Collatz => {
                p.collatz.mode = match mode.as_str() {
                    "lengths" => collatz::Mode::Lengths,
                    "first" => collatz::Mode::First,
                    _ => return Err(bad("lengths, first")),
                }
            }
            K::Race => {
                p.race.mode = match mode.as_str() {
                    "unsynchronized" => race::Mode::Unsynchronized,
                    "mutex" => race::Mode::Mutex,
                    "atomic" => race::Mode::Atomic,
                    _ => return Err(bad("unsynchronized, mutex, atomic")),
                }
            }
            _ => return Err(not_for("--mode", kind, "collatz, race")),
        }
    }
    if let Some(m) = a.method {
        match kind {
            K::Primes => p.primes.method = m,
            _ => return Err(not_for("--method", kind, "primes")),
        }
    }
    if kind == K::Shell {
        if let Some(c) = a.count {
            p.shell.count = Some(c);
        }
    }
    if let Some(u) = a.units {
        match kind {
            K::Shell => p.shell.units = Some(u),
            _ => return Err(not_for("--units", kind, "shell")),
        }
    }
    let fib_only = [
        ("--inputs", a.inputs.is_some()),
        ("--count", a.count.is_some() && kind != K::Shell),
        ("--max-input", a.max_input.is_some()),
        ("--cache-size", a.cache_size.is_some()),
    ];
    if kind != K::Fib {
        if let Some((flag, _)) = fib_only.iter().find(|(_, set)| *set) {
            return Err(not_for(flag, kind, "fib"));
        }
    }
    if let Some(v) = &a.inputs {
        p.fib.inputs = v.0.clone();
    }
    if let Some(v) = a.count.filter(|_| kind == K::Fib) {
        p.fib.count = v;
    }
    if let Some(v) = a.max_input {
        p.fib.max_input = v;
    }
    if let Some(v) = a.cache_size {
        p.fib.cache_size = v;
    }
    if let Some(u) = a.unit_ms {
        match kind {
            K::Sleep => p.sleep.unit_ms = u,
            K::Shell => p.shell.unit_ms = u,
            _ => return Err(not_for("--unit-ms", kind, "sleep, shell")),
        }
    }
    if a.task_timeout_ms.is_some() || a.script.is_some() {
        if kind != K::Shell {
            let flag = if a.script.is_some() {
                "--script"
            } else {
                "--task-timeout-ms"
            };
            return Err(not_for(flag, kind, "shell"));
        }
        if let Some(v) = a.task_timeout_ms {
            p.shell.task_timeout_ms = v;
        }
        if let Some(v) = &a.script {
            p.shell.script = Some(v.clone());
        }
    }
    if a.serial.is_some() || a.work.is_some() {
        if kind != K::Amdahl {
            let flag = if a.serial.is_some() {
                "--serial"
            } else {
                "--work"
            };
            return Err(not_for(flag, kind, "amdahl"));
        }
        if let Some(v) = a.serial {
            p.amdahl.serial = v;
        }
        if let Some(v) = a.work {
            p.amdahl.work = v;
        }
    }
    Ok(())
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
        let a = RunArgs {
            size: Some(99),
            ..Default::default()
        };
        let spec = c.to_spec(&a).unwrap();
        assert_eq!(spec.strategy, StrategyKind::Rayon);
        assert_eq!(spec.workload.params.collatz.size, 99);
        let err = c
            .to_spec(&RunArgs {
                unit_ms: Some(5),
                ..Default::default()
            })
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("--unit-ms does not apply to the collatz workload"));
    }
}
