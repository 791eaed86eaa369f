//! A run named as a command line names it (`parlab run`'s flags, or `parlab
//! py`'s): how presets and lessons say what to run, checked exactly as the
//! command line checks it.

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::plan::Plan;
use crate::plan::RunSpec;
use crate::python::PyPlan;
use clap::Parser;

/// A run ready to start: native settings, a Python program, or a sweep of
/// native runs over worker counts.
#[derive(Clone, Debug)]
pub enum Launch {
    Native(RunSpec),
    Py(PyPlan),
    Sweep {
        spec: RunSpec,
        grid: Vec<u32>,
        repeat: u32,
    },
    /// A preset's runs, one after another.
    Preset(Vec<Launch>),
}

impl Launch {
    /// `sub` (`run`, `py` or `sweep`) with `args`, on top of `config`; a bad flag, a
    /// missing script or an untrusted command is the reason, in one line.
    pub fn parse(config: &Config, sub: &str, args: &[String]) -> Result<Self, String> {
        let argv = ["parlab", sub]
            .into_iter()
            .map(String::from)
            .chain(args.iter().cloned());
        let cli = Cli::try_parse_from(argv).map_err(|e| {
            let first = e.to_string().lines().next().unwrap_or("").to_string();
            first.trim_start_matches("error: ").to_string()
        })?;
        match cli.command {
            Some(Command::Run(cmd)) => {
                let spec = config.to_spec(&cmd.args).map_err(|e| format!("{e:#}"))?;
                config.check_trusted(&spec).map_err(|e| format!("{e:#}"))?;
                Ok(Launch::Native(spec))
            }
            Some(Command::Py(cmd)) => config
                .py_plan(&cmd.program)
                .map(Launch::Py)
                .map_err(|e| format!("{e:#}")),
            Some(Command::Sweep(cmd)) => {
                if cmd.program.is_some() {
                    return Err("a sweep here is of native runs (sweep py is not supported)".into());
                }
                let mut args = cmd.args.clone();
                let grid = match args.workers.take() {
                    Some(w) => w.0,
                    None => crate::sweep::default_grid(crate::sampler::logical_cores()),
                };
                let spec = config.to_spec(&args).map_err(|e| format!("{e:#}"))?;
                config.check_trusted(&spec).map_err(|e| format!("{e:#}"))?;
                if !spec.strategy.desc.takes_workers() {
                    return Err(format!(
                        "a sweep varies the workers, which {} does not take",
                        spec.strategy.name()
                    ));
                }
                Ok(Launch::Sweep {
                    spec,
                    grid,
                    repeat: cmd.repeat,
                })
            }
            _ => Err(format!("'{sub}' is not a run: run, py or sweep")),
        }
    }

    /// Run it (native or a Python program) to its end, or until `stop()`
    /// says so; as [`crate::headless::run_until`]. A sweep is many runs:
    /// [`crate::sweep::run`] measures it.
    pub fn run(
        self,
        stop: impl Fn() -> bool,
        threshold: f64,
        record: Option<&mut crate::recording::Recorder>,
    ) -> anyhow::Result<crate::headless::Finished> {
        match self {
            Launch::Native(spec) => crate::headless::run_until(spec, stop, threshold, record),
            Launch::Py(plan) => {
                let window = crate::sampler::Window::open();
                let source = Box::new(crate::python::start(plan)?);
                crate::headless::drain(source, stop, Some((window, threshold)), record)
            }
            Launch::Sweep { .. } | Launch::Preset(_) => {
                anyhow::bail!(
                    "many runs: sweep::run measures a sweep, each of a preset's runs runs alone"
                )
            }
        }
    }

    /// What runs.
    pub fn plan(&self) -> Plan {
        match self {
            Launch::Native(s) | Launch::Sweep { spec: s, .. } => Plan::Native(s.clone()),
            Launch::Py(p) => Plan::Python(p.program.clone()),
            // A preset file has at least one run (presets::Preset::parse).
            Launch::Preset(runs) => runs.first().expect("a preset has a run").plan(),
        }
    }

    /// How many runs it makes: a sweep's repeats at each worker count (and
    /// at 1, its base, whether or not the grid names it).
    pub fn runs(&self) -> usize {
        match self {
            Launch::Sweep { grid, repeat, .. } => {
                let mut counts = grid.clone();
                counts.push(1);
                counts.sort_unstable();
                counts.dedup();
                counts.len() * *repeat as usize
            }
            Launch::Preset(runs) => runs.iter().map(Launch::runs).sum(),
            _ => 1,
        }
    }
}
