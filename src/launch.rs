//! A run named as a command line names it (`parlab run`'s flags, or `parlab
//! py`'s): how presets and lessons say what to run, checked exactly as the
//! command line checks it.

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::engine::RunSpec;
use crate::python::PyPlan;
use crate::source::Plan;
use clap::Parser;

/// A run ready to start: native settings, or a Python program.
#[derive(Clone, Debug)]
pub enum Launch {
    Native(RunSpec),
    Py(PyPlan),
}

impl Launch {
    /// `sub` (`run` or `py`) with `args`, on top of `config`; a bad flag, a
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
            _ => Err(format!("'{sub}' is not a run: run or py")),
        }
    }

    /// What runs.
    pub fn plan(&self) -> Plan {
        match self {
            Launch::Native(s) => Plan::Native(s.clone()),
            Launch::Py(p) => Plan::Python(p.program.clone()),
        }
    }
}
