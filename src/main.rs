//! The `parlab` binary: parse, load the config, dispatch. Errors: a user
//! mistake is one line and exit status 2; anything else exit status 1.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Parser;
use parlab::cli::{Cli, Command, RunArgs};
use parlab::{config, headless, report, UserError};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(u) = e.downcast_ref::<UserError>() {
                eprintln!("parlab: {u}");
                ExitCode::from(2)
            } else {
                eprintln!("parlab: {e:#}");
                ExitCode::from(1)
            }
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Some(Command::Worker) => {
            parlab::worker::main()?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Trust(t)) => {
            let said = parlab::trust::command(t.file.as_deref(), t.list, t.revoke.as_deref())?;
            print!("{said}");
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let config = config::load(cli.config.as_deref(), cli.no_config)?;
    match cli.command {
        None => parlab::ui::main(
            &config,
            config.to_spec(&RunArgs::default())?,
            parlab::presets::load_all(),
        ),
        Some(Command::Tui(args)) => {
            parlab::ui::main(&config, config.to_spec(&args)?, parlab::presets::load_all())
        }
        Some(Command::Run(cmd)) => {
            let spec = config.to_spec(&cmd.args)?;
            config.check_trusted(&spec)?;
            parlab::signals::listen();
            parlab::strategy::silence_worker_panics();
            let finished = headless::run_until(
                spec,
                || parlab::signals::received().is_some(),
                config.run.disturbed_threshold,
            )?;
            if cmd.json {
                println!("{}", report::to_json(&finished));
            } else {
                print!("{}", report::human(&finished));
            }
            for f in &finished.outcome.failures {
                let task = f
                    .task
                    .as_ref()
                    .map(|t| format!(", task {t}"))
                    .unwrap_or_default();
                eprintln!(
                    "parlab: {} (pid {}){task} failed: {}",
                    f.lane, f.pid, f.reason
                );
            }
            if let Some(sig) = parlab::signals::received() {
                eprintln!("parlab: stopped by signal {sig}; every worker was stopped and reaped");
                return Ok(ExitCode::from(parlab::signals::exit_status(sig)));
            }
            Ok(if finished.outcome.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Some(Command::Sweep(cmd)) => {
            let mut args = cmd.args.clone();
            let grid = match args.workers.take() {
                Some(w) => w.0,
                None => parlab::sweep::default_grid(parlab::sampler::logical_cores()),
            };
            let spec = config.to_spec(&args)?;
            config.check_trusted(&spec)?;
            let threshold = config.run.disturbed_threshold;
            let quiet = wait_quiet(cmd.wait_quiet, threshold);
            let sweep = parlab::sweep::run(&spec, &grid, cmd.repeat, threshold, |p| {
                if !cmd.json {
                    eprintln!(
                        "  {} workers: {:.1} ms ({:.1}–{:.1}), speedup {:.2}{}",
                        p.workers,
                        p.wall_ms,
                        p.min_ms,
                        p.max_ms,
                        p.speedup,
                        if p.disturbed { ", disturbed" } else { "" }
                    );
                }
            })?;
            if cmd.json {
                let mut v = parlab::sweep::to_json(&spec, cmd.repeat, &sweep);
                v["quiet_before"] = serde_json::json!(quiet);
                println!("{v}");
            } else {
                print!("{}", parlab::sweep::human(&spec, &sweep));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Bench(b)) => {
            let quiet = wait_quiet(b.wait_quiet, config.run.disturbed_threshold);
            let mut v = parlab::bench::measure(parlab::bench::Scale { quick: b.quick }, &b.only)?;
            v["quiet_before"] = serde_json::json!(quiet);
            if b.json {
                println!("{v}");
            } else {
                print!("{}", parlab::bench::table(&v));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::List) => {
            print!("{}", list());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Worker | Command::Trust(_)) => unreachable!("handled above"),
    }
}

/// Wait up to `seconds` for other programs to quiet down before timing;
/// whether they did (said on stderr either way it matters).
fn wait_quiet(seconds: f64, threshold: f64) -> bool {
    if seconds <= 0.0 {
        return true;
    }
    let limit = std::time::Duration::from_secs_f64(seconds);
    let (load, quiet) = parlab::sweep::wait_quiet(limit, threshold, |l| {
        eprintln!("parlab: waiting for a quiet machine: {}", l.words());
    });
    if !quiet {
        eprintln!(
            "parlab: not quiet after {seconds} s ({}): timing anyway; the results are marked",
            load.words()
        );
    }
    quiet
}

/// `parlab list`: every workload and strategy, one line each, with its
/// parameters and, for a workload, the fields of its result.
fn list() -> String {
    use parlab::param::Param;
    let params = |ps: &[Param]| -> String {
        ps.iter()
            .map(|p| {
                format!(
                    "      {:<20} {}; {} [default: {}]\n",
                    p.flag(),
                    p.help,
                    p.valid(),
                    p.default_text()
                )
            })
            .collect()
    };
    let mut out = String::from("workloads\n");
    for w in parlab::workload::REGISTRY {
        out += &format!("  {:<13} {}\n", w.name, w.about);
        out += &params(w.params);
        out += &format!("      result: {}\n", w.result.join(", "));
    }
    out += "strategies\n";
    for s in parlab::strategy::REGISTRY {
        out += &format!("  {:<13} {}\n", s.name, s.about);
        out += &params(s.params);
    }
    out
}

/// clap's errors, as one line naming the bad value and the valid ones.
fn clap_error(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let rendered = e.kind().as_str().unwrap_or("invalid arguments").to_string();
    let first = e
        .to_string()
        .lines()
        .next()
        .map(|l| l.trim_start_matches("error: ").to_string())
        .unwrap_or(rendered);
    let valid = match e.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(v)) if !first.contains("possible values") => {
            format!(" (valid: {})", v.join(", "))
        }
        _ => String::new(),
    };
    let suggestion = match e.get(ContextKind::SuggestedArg) {
        Some(ContextValue::String(s)) => format!(" (did you mean '{s}'?)"),
        _ => String::new(),
    };
    eprintln!("parlab: {first}{valid}{suggestion}");
    ExitCode::from(2)
}
