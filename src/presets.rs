//! Presets: the lecture's demos one key away. Each is a TOML file listing
//! runs as command-line flags (validated exactly as `parlab run` validates
//! them). The bundled ones live in `assets/presets/` and are embedded; users
//! add their own in `<config folder>/parlab/presets/*.toml`.

use crate::config::Config;
use crate::launch::Launch;
use crate::plan::Plan;
use crate::UserError;
use anyhow::Result;
use serde::Deserialize;
use std::path::Path;

/// The bundled presets, in key order.
const BUNDLED: [(&str, &str); 8] = [
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
    (
        "7-real-threads-vs-processes.toml",
        include_str!("../assets/presets/7-real-threads-vs-processes.toml"),
    ),
    (
        "8-model-vs-cpython.toml",
        include_str!("../assets/presets/8-model-vs-cpython.toml"),
    ),
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

/// One run of a preset: `args` as `parlab run` takes them, or a Python
/// program as `parlab py` takes it (`py = ["lecture:cpu", "--", "--mode",
/// "threads"]`, and `python = "python3.12"` for another interpreter).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetRun {
    #[serde(default)]
    pub args: Vec<String>,
    pub py: Option<Vec<String>>,
    pub python: Option<String>,
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

    /// Each run's plan (native settings on top of the config in force, or a
    /// Python program); a bad flag is named with the preset and its file.
    pub fn plans(&self, config: &Config) -> Result<Vec<Plan>> {
        Ok(self.launches(config)?.iter().map(Launch::plan).collect())
    }

    /// Each run ready to start, as [`Self::plans`] checks them.
    pub fn launches(&self, config: &Config) -> Result<Vec<Launch>> {
        let at =
            |why: String| UserError::new(format!("preset '{}' ({}): {why}", self.name, self.file));
        self.runs
            .iter()
            .map(|r| {
                let (sub, rest) = match &r.py {
                    Some(_) if !r.args.is_empty() => {
                        return Err(at(
                            "a run is `args` (native) or `py` (a program), not both".into()
                        )
                        .into())
                    }
                    Some(py) => ("py", py),
                    None => ("run", &r.args),
                };
                let args: Vec<String> = r
                    .python
                    .iter()
                    .flat_map(|p| ["--python".to_string(), p.clone()])
                    .chain(rest.iter().cloned())
                    .collect();
                Launch::parse(config, sub, &args).map_err(|why| at(why).into())
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
        let python = crate::plan::Interpreter::ask("python3").is_ok();
        for p in &presets {
            let runs_python = p.runs.iter().any(|r| r.py.is_some());
            if runs_python && !python {
                eprintln!("SKIPPED: '{}' runs python3, which is not here", p.name);
                continue;
            }
            let plans = p.plans(&Config::default()).unwrap();
            assert_eq!(plans.len(), p.runs.len(), "{}", p.name);
        }
        assert!(presets[0].name.contains("seven tasks"));
        assert!(presets
            .iter()
            .any(|p| p.name.contains("the model vs CPython")));
    }

    #[test]
    fn a_bad_preset_names_itself() {
        let p = Preset::parse(
            "name = \"x\"\n[[run]]\nargs = [\"--workers\", \"0\"]\n",
            "x.toml",
        )
        .unwrap();
        let err = p.plans(&Config::default()).unwrap_err().to_string();
        assert!(
            err.contains("preset 'x' (x.toml)") && err.contains("0"),
            "{err}"
        );
        let p = Preset::parse(
            "name = \"y\"\n[[run]]\nargs = [\"--capacity\", \"0\", \"-s\", \"queue\"]\n",
            "y.toml",
        )
        .unwrap();
        let err = p.plans(&Config::default()).unwrap_err().to_string();
        assert!(
            err.contains("y.toml") && err.contains("--capacity"),
            "{err}"
        );
    }
}
