//! Presets: the lecture's demos one key away. Each is a TOML file listing
//! runs as command-line flags (validated exactly as `parlab run` validates
//! them). The bundled ones live in `assets/presets/` and are embedded; users
//! add their own in `<config folder>/parlab/presets/*.toml`.

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::engine::RunSpec;
use crate::UserError;
use anyhow::Result;
use clap::Parser;
use serde::Deserialize;
use std::path::Path;

/// The bundled presets, in key order.
const BUNDLED: [(&str, &str); 6] = [
    (
        "1-seven-tasks.toml",
        include_str!("../assets/presets/1-seven-tasks.toml"),
    ),
    (
        "2-cpu-gil.toml",
        include_str!("../assets/presets/2-cpu-gil.toml"),
    ),
    (
        "3-producer-consumer.toml",
        include_str!("../assets/presets/3-producer-consumer.toml"),
    ),
    (
        "4-amdahl.toml",
        include_str!("../assets/presets/4-amdahl.toml"),
    ),
    (
        "5-lru-cache.toml",
        include_str!("../assets/presets/5-lru-cache.toml"),
    ),
    ("6-race.toml", include_str!("../assets/presets/6-race.toml")),
];

/// One preset: a name and its runs, as `parlab run` flags.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub name: String,
    /// The file it came from, for its errors.
    #[serde(skip)]
    pub file: String,
    #[serde(rename = "run")]
    pub runs: Vec<PresetRun>,
}

/// One run of a preset.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetRun {
    pub args: Vec<String>,
}

impl Preset {
    /// Parse a preset file's text.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let mut p: Preset = toml::from_str(text)
            .map_err(|e| UserError::new(format!("preset {file}: {}", e.message())))?;
        if p.runs.is_empty() {
            return Err(UserError::new(format!("preset {file}: no [[run]]")).into());
        }
        p.file = file.to_string();
        Ok(p)
    }

    /// Each run as a spec, on top of the config in force; a bad flag is
    /// named with the preset and its file.
    pub fn specs(&self, config: &Config) -> Result<Vec<RunSpec>> {
        let at =
            |why: String| UserError::new(format!("preset '{}' ({}): {why}", self.name, self.file));
        self.runs
            .iter()
            .map(|r| {
                let argv = ["parlab", "run"]
                    .into_iter()
                    .map(String::from)
                    .chain(r.args.iter().cloned());
                let cli = Cli::try_parse_from(argv).map_err(|e| {
                    let first = e.to_string().lines().next().unwrap_or("").to_string();
                    at(first.trim_start_matches("error: ").to_string())
                })?;
                match cli.command {
                    Some(Command::Run(cmd)) => config
                        .to_spec(&cmd.args)
                        .map_err(|e| at(format!("{e:#}")).into()),
                    _ => unreachable!("parsed as run"),
                }
            })
            .collect()
    }
}

/// The bundled presets, then the user's (sorted by file name); a user
/// preset that does not parse is reported, not dropped silently.
pub fn load_all() -> (Vec<Preset>, Vec<String>) {
    let mut presets: Vec<Preset> = BUNDLED
        .iter()
        .map(|(file, text)| Preset::parse(text, file).expect("bundled presets parse"))
        .collect();
    let mut problems = Vec::new();
    if let Some(dir) =
        crate::config::platform_config().and_then(|p| p.parent().map(|d| d.join("presets")))
    {
        load_dir(&dir, &mut presets, &mut problems);
    }
    (presets, problems)
}

fn load_dir(dir: &Path, presets: &mut Vec<Preset>, problems: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for f in files {
        match std::fs::read_to_string(&f)
            .map_err(anyhow::Error::from)
            .and_then(|t| Preset::parse(&t, &f.display().to_string()))
        {
            Ok(p) => presets.push(p),
            Err(e) => problems.push(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_preset_parses_into_valid_runs() {
        let (presets, problems) = load_all();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(presets.len() >= 6);
        for p in &presets[..6] {
            let specs = p.specs(&Config::default()).unwrap();
            assert!(!specs.is_empty(), "{}", p.name);
        }
        assert!(presets[0].name.contains("seven tasks"));
    }

    #[test]
    fn a_bad_preset_names_itself() {
        let p = Preset::parse(
            "name = \"x\"\n[[run]]\nargs = [\"--workers\", \"0\"]\n",
            "x.toml",
        )
        .unwrap();
        let err = p.specs(&Config::default()).unwrap_err().to_string();
        assert!(
            err.contains("preset 'x' (x.toml)") && err.contains("0"),
            "{err}"
        );
        let p = Preset::parse(
            "name = \"y\"\n[[run]]\nargs = [\"--capacity\", \"0\", \"-s\", \"queue\"]\n",
            "y.toml",
        )
        .unwrap();
        let err = p.specs(&Config::default()).unwrap_err().to_string();
        assert!(
            err.contains("y.toml") && err.contains("--capacity"),
            "{err}"
        );
    }
}
