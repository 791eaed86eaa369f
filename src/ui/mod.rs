//! The live lab.
use crate::config::Config;
use crate::engine::RunSpec;
use std::process::ExitCode;

/// Open the TUI.
pub fn main(_config: &Config, _spec: RunSpec) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
