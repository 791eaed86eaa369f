//! The `parlab` binary: parse, load the config, dispatch. Errors: a user
//! mistake is one line and exit status 2; anything else exit status 1.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::FromArgMatches;
use parlab::cli::{Cli, Command, ExportFormat, RunArgs};
use parlab::headless::Finished;
use parlab::plan::Plan;
use parlab::recording::{self, Recorder, Recording};
use parlab::source::Source;
use parlab::{config, headless, report, UserError};
use std::path::Path;
use std::process::ExitCode;

/// Per-thread heaps and no lock shared between threads: with glibc's malloc,
/// 1024 workers share its few arenas (and the UI's), so a UI frame could wait
/// seconds on an arena lock held by a worker that the fallback scheduling
/// (`priority`: workers under `SCHED_IDLE`) keeps off the cores.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Print to stdout; a reader that has gone (`parlab run --json | head`) ends
/// the printing quietly, never a panic.
macro_rules! out {
    ($($arg:tt)*) => {
        emit(&format!($($arg)*))
    };
}

macro_rules! outln {
    ($($arg:tt)*) => {
        emit(&format!("{}\n", format!($($arg)*)))
    };
}

fn emit(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (EPIPE) leaves nothing more to say there: not an error.
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

fn main() -> ExitCode {
    // Kept before any thread changes its own (a reader's finer slack, a
    // raised UI's none): what children are given.
    parlab::priority::timer_slack_ns();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some((r, parsed)) = parlab::cli::source_cmd(&argv, parlab::source::REGISTERED) {
        return match parsed {
            Ok(cmd) => exit_status(registered(r, cmd)),
            Err(e) => clap_error(e),
        };
    }
    let parsed = parlab::cli::command()
        .try_get_matches_from(&argv)
        .and_then(|m| Cli::from_arg_matches(&m));
    match parsed {
        Ok(cli) => exit_status(dispatch(cli)),
        Err(e) => clap_error(e),
    }
}

/// A command's exit status: a user mistake is one line and 2, anything else 1.
fn exit_status(done: anyhow::Result<ExitCode>) -> ExitCode {
    match done {
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
        Some(Command::Lecture { name }) => {
            match name {
                Some(n) => out!("{}", parlab::lecture::show(n)?),
                None => out!("{}", parlab::lecture::list()),
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Trust(t)) => {
            let said =
                parlab::config::trust_command(t.file.as_deref(), t.list, t.revoke.as_deref())?;
            out!("{said}");
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
            |app| {
                app.interpreters = interpreters(&config, None);
                Ok(())
            },
        ),
        Some(Command::Tui(cmd)) => tui(&config, cmd),
        Some(Command::Replay(r)) => replay(&config, r),
        Some(Command::Export(e)) => export(e),
        Some(Command::Py(cmd)) => py(&config, cmd),
        Some(Command::Run(cmd)) => run(&config, cmd),
        Some(Command::Sweep(cmd)) => sweep(&config, cmd),
        Some(Command::Bench(b)) => {
            let quiet = wait_quiet(b.wait_quiet, config.run.disturbed_threshold);
            let mut v = parlab::bench::measure(parlab::bench::Scale { quick: b.quick }, &b.only)?;
            v["quiet_before"] = serde_json::json!(quiet);
            if b.json {
                outln!("{v}");
            } else {
                out!("{}", parlab::bench::table(&v));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::List) => {
            out!("{}", list());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Lesson(l)) => lesson(&config, l),
        Some(Command::Worker | Command::Trust(_) | Command::Lecture { .. }) => {
            unreachable!("handled above")
        }
    }
}

/// `parlab replay`: print each recorded run's JSON or summary, or open the lab on them.
fn replay(config: &config::Config, r: parlab::cli::ReplayArgs) -> anyhow::Result<ExitCode> {
    let recordings = open_all(&r.files)?;
    if r.json || r.summary {
        for run in recordings.iter().flat_map(|rec| &rec.runs) {
            let f = replayed(run)?;
            if r.json {
                outln!("{}", report::to_json(&f));
            } else {
                out!("{}", report::human(&f));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    parlab::ui::main(
        config,
        config.to_spec(&RunArgs::default())?,
        parlab::presets::load_all(),
        |app| {
            app.open_recordings(recordings, r.speed);
            Ok(())
        },
    )
}

/// `parlab run`: natively, headless, to the end or a signal.
fn run(config: &config::Config, cmd: parlab::cli::RunCmd) -> anyhow::Result<ExitCode> {
    let spec = config.to_spec(&cmd.args)?;
    config.check_trusted(&spec)?;
    let mut record = cmd
        .args
        .record
        .as_deref()
        .map(Recorder::create)
        .transpose()?;
    parlab::signals::listen();
    parlab::strategy::silence_worker_panics();
    let finished = headless::run_until(
        spec,
        || parlab::signals::received().is_some(),
        config.run.disturbed_threshold,
        record.as_mut(),
    )?;
    said_recording(record.as_ref());
    finish_run(&finished, cmd.json)
}

/// `parlab WORD …`: a registered source's run, headless or in the lab.
fn registered(
    r: &parlab::source::Registered,
    cmd: parlab::cli::SourceCmd,
) -> anyhow::Result<ExitCode> {
    let config = config::load(cmd.config.as_deref(), cmd.no_config)?;
    let record = cmd.record.as_deref().map(Recorder::create).transpose()?;
    if !cmd.tui {
        parlab::signals::listen();
        return headless_source(|| (r.start)(&cmd.args), &config, record, cmd.json);
    }
    let started = (r.start)(&cmd.args)?;
    parlab::ui::main(
        &config,
        config.to_spec(&RunArgs::default())?,
        parlab::presets::load_all(),
        |app| {
            app.recorder = record.map(|r| std::sync::Arc::new(std::sync::Mutex::new(r)));
            app.adopt(Ok(started));
            Ok(())
        },
    )
}

/// Start a source and drain it to its end (or a signal), recording it
/// where asked, then print its summary or JSON. The machine is measured
/// from before it starts.
/// `parlab py`: the program run headless, its profile written where asked.
fn py(config: &config::Config, cmd: parlab::cli::PyCmd) -> anyhow::Result<ExitCode> {
    use parlab::profile_files::Format;
    let plan = config.py_plan(&cmd.program)?;
    // A bad profile file name is said before the program runs.
    let profile = match (&cmd.profile, cmd.profile_format) {
        (Some(path), Some(f)) => Some((path, f)),
        (Some(path), None) => Some((path, Format::of_path(path)?)),
        (None, _) => None,
    };
    if profile.is_some() && plan.profile_hz == 0 {
        return Err(UserError::new("--profile needs stacks: --profile-hz 0 reads none").into());
    }
    let mut record = cmd.record.as_deref().map(Recorder::create).transpose()?;
    parlab::signals::listen();
    let mut runs = Vec::new();
    let mut last = None;
    for i in 0..cmd.warmup + cmd.repeat {
        let finished = headless::drain(
            Box::new(parlab::python::start(plan.clone())?),
            || parlab::signals::received().is_some(),
            Some((
                parlab::sampler::Window::open(),
                config.run.disturbed_threshold,
            )),
            record.as_mut(),
        )?;
        runs.push(finished.timed(i < cmd.warmup));
        let failed = !finished.outcome.failures.is_empty();
        last = Some(finished);
        if failed || parlab::signals::received().is_some() {
            break; // a failing program is not timed again
        }
    }
    let mut finished = last.expect("at least one run");
    said_recording(record.as_ref());
    if let Some((path, format)) = profile {
        eprintln!(
            "parlab: {}",
            parlab::profile_files::save(&finished, path, format)?
        );
    }
    if runs.len() > 1 {
        finished.repeats = runs;
    }
    finish_run(&finished, cmd.json)
}

fn headless_source(
    start: impl FnOnce() -> anyhow::Result<Box<dyn Source>>,
    config: &config::Config,
    mut record: Option<Recorder>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let window = parlab::sampler::Window::open();
    let finished = headless::drain(
        start()?,
        || parlab::signals::received().is_some(),
        Some((window, config.run.disturbed_threshold)),
        record.as_mut(),
    )?;
    said_recording(record.as_ref());
    finish_run(&finished, json)
}

/// `parlab lesson`: list them; check one headless; prepare its recording;
/// or open the lab on it.
fn lesson(config: &config::Config, l: parlab::cli::LessonArgs) -> anyhow::Result<ExitCode> {
    use parlab::lesson::{check, walk::Walk};
    let Some(name) = &l.name else {
        out!("{}", parlab::lesson::list());
        return Ok(ExitCode::SUCCESS);
    };
    let mut walk = Walk::new(
        parlab::lesson::find(name)?,
        config,
        l.scale,
        l.python.as_deref(),
    )?;
    let recorded = match &l.recorded {
        Some(file) => lesson_runs(file, &walk)?,
        None => Vec::new(),
    };
    if !l.check && l.prepare.is_none() {
        let on = l.recorded.as_ref().map(|f| {
            let when = recorded.first().map(|r| r.header.meta.started);
            recorded_on(f, when)
        });
        return parlab::ui::main(
            config,
            config.to_spec(&RunArgs::default())?,
            parlab::presets::load_all(),
            |app| {
                app.open_lesson(walk, recorded, on, l.report.clone());
                Ok(())
            },
        );
    }
    let mut recorded = recorded
        .iter()
        .map(replayed)
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter();
    let record = l
        .prepare
        .as_deref()
        .map(Recorder::create)
        .transpose()?
        .map(std::sync::Mutex::new);
    parlab::signals::listen();
    parlab::strategy::silence_worker_panics();
    let threshold = config.run.disturbed_threshold;
    let from_file = l.recorded.is_some();
    let stop = || parlab::signals::received().is_some();
    let start = |launch| -> anyhow::Result<serde_json::Value> {
        let json = if from_file {
            check::replayed(&launch, &mut recorded)?
        } else {
            check::live(launch, &stop, threshold, record.as_ref())?
        };
        if let Some(sig) = parlab::signals::received() {
            anyhow::bail!(UserError::new(format!("lesson stopped by signal {sig}")));
        }
        Ok(json)
    };
    let json = l.json;
    check::run(&mut walk, start, |w| {
        if !json {
            outln!("{}", check::line(w));
        }
    })?;
    said_recording(
        record
            .map(|r| r.into_inner().unwrap_or_else(|p| p.into_inner()))
            .as_ref(),
    );
    if json {
        outln!("{}", check::to_json(&walk));
    } else {
        outln!("{}", check::tally(&walk));
    }
    Ok(if check::passed(&walk) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The runs of a recording made with `parlab lesson --prepare`, one a step
/// that runs, in order.
fn lesson_runs(
    file: &Path,
    walk: &parlab::lesson::walk::Walk,
) -> anyhow::Result<Vec<recording::RecordedRun>> {
    let rec = open_all(&[file.to_path_buf()])?.remove(0);
    let wanted = walk.runs_wanted();
    if rec.runs.len() != wanted {
        return Err(UserError::new(format!(
            "--recorded {}: it holds {} runs, lesson '{}' runs {wanted} (record it with parlab lesson {} --prepare FILE)",
            file.display(),
            rec.runs.len(),
            walk.lesson.name(),
            walk.lesson.name(),
        ))
        .into());
    }
    Ok(rec.runs)
}

/// `file, 2026-12-05 14:03 UTC`: where and when a lesson's runs were recorded.
fn recorded_on(file: &Path, when: Option<std::time::SystemTime>) -> String {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    match when.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()) {
        Some(d) => format!("{name}, {}", parlab::clock::utc_minute(d.as_secs())),
        None => name.into_owned(),
    }
}

/// `parlab sweep`: a native run's or a program's, at each worker count.
fn sweep(config: &config::Config, cmd: parlab::cli::SweepCmd) -> anyhow::Result<ExitCode> {
    let mut args = cmd.args.clone();
    let grid = match args.workers.take() {
        Some(w) => w.0,
        None => parlab::sweep::default_grid(parlab::sampler::logical_cores()),
    };
    let threshold = config.run.disturbed_threshold;
    let record = args
        .record
        .as_deref()
        .map(Recorder::create)
        .transpose()?
        .map(std::sync::Mutex::new);
    let said = |p: &parlab::sweep::Point| {
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
    };
    // What to sweep, checked before the machine is waited on.
    let (py, plan, grid) = match &cmd.program {
        Some(parlab::cli::SweepProgram::Py(p)) => {
            let py = config.py_plan(&p.program)?;
            let plan = Plan::Python(py.program.clone());
            (
                Some(py),
                plan,
                p.workers.clone().map(|w| w.0).unwrap_or(grid),
            )
        }
        None => {
            let spec = config.to_spec(&args)?;
            config.check_trusted(&spec)?;
            (None, Plan::Native(spec), grid)
        }
    };
    let quiet = wait_quiet(cmd.wait_quiet, threshold);
    let (repeat, record_to) = (cmd.repeat, record.as_ref());
    let sweep = match (&py, &plan) {
        (Some(p), _) => parlab::sweep::run_python(p, &grid, repeat, threshold, record_to, said)?,
        (None, Plan::Native(s)) => {
            parlab::sweep::run(s, &grid, repeat, threshold, record_to, said)?
        }
        (None, Plan::Python(_)) => unreachable!("a program's sweep has its plan"),
    };
    said_recording(
        record
            .map(|r| r.into_inner().unwrap_or_else(|p| p.into_inner()))
            .as_ref(),
    );
    if cmd.json {
        let mut v = parlab::sweep::to_json(&plan, cmd.repeat, &sweep);
        v["quiet_before"] = serde_json::json!(quiet);
        outln!("{v}");
    } else {
        out!("{}", parlab::sweep::human(&plan, &sweep));
    }
    Ok(ExitCode::SUCCESS)
}

/// `parlab export`: a recording for another tool.
fn export(e: parlab::cli::ExportArgs) -> anyhow::Result<ExitCode> {
    let rec = open_all(std::slice::from_ref(&e.file))?.remove(0);
    let (text, ext) = match e.format {
        ExportFormat::ChromeTrace => (
            format!("{}\n", parlab::export::chrome_trace(&rec)),
            "trace.json",
        ),
        ExportFormat::Speedscope | ExportFormat::Folded | ExportFormat::Pstats => {
            return export_profile(&e, &rec);
        }
        ExportFormat::Json => {
            let mut text = String::new();
            for run in &rec.runs {
                text += &format!("{}\n", report::to_json(&replayed(run)?));
            }
            (text, "json")
        }
    };
    let out = e.out.clone().unwrap_or_else(|| e.file.with_extension(ext));
    if out == Path::new("-") {
        out!("{text}");
    } else {
        std::fs::write(&out, &text).map_err(|err| {
            UserError::new(format!("-o {}: cannot write it: {err}", out.display()))
        })?;
        eprintln!(
            "parlab: wrote {} ({} run{}, {} bytes)",
            out.display(),
            rec.runs.len(),
            if rec.runs.len() == 1 { "" } else { "s" },
            text.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `parlab tui`: the lab on these settings, or on a Python program.
fn tui(config: &config::Config, cmd: parlab::cli::TuiCmd) -> anyhow::Result<ExitCode> {
    let args = &cmd.args;
    let record = args.record.as_deref().map(Recorder::create).transpose()?;
    let plan = match &cmd.program {
        Some(parlab::cli::TuiProgram::Py(p)) => Some((config.py_plan(&p.program)?, p.repeat)),
        None => None,
    };
    let program = plan.as_ref().map(|(p, _)| p.program.clone());
    // A script from a file, read now for the Source view (o).
    let text = program
        .as_ref()
        .filter(|p| !p.script.starts_with("lecture:"))
        .and_then(|p| std::fs::read_to_string(&p.script).ok());
    parlab::ui::main(
        config,
        config.to_spec(args)?,
        parlab::presets::load_all(),
        |app| {
            app.recorder = record.map(|r| std::sync::Arc::new(std::sync::Mutex::new(r)));
            app.interpreters = interpreters(config, program.as_ref());
            if let Some((plan, repeat)) = &plan {
                app.program_timeout = plan.timeout;
                app.gil_hz = plan.gil_hz;
                app.profile_hz = plan.profile_hz;
                app.program_repeat = *repeat;
            }
            app.program = program;
            app.program_text = text;
            Ok(())
        },
    )
}

/// The Pythons the lab's Settings form offers: the program's, the config's,
/// `python3`; each asked once as the lab opens, those of 3.9 or later kept.
fn interpreters(
    config: &config::Config,
    program: Option<&parlab::plan::Program>,
) -> Vec<parlab::plan::Interpreter> {
    let mut found: Vec<parlab::plan::Interpreter> =
        program.map(|p| p.python.clone()).into_iter().collect();
    let configured = config.python_executable().ok().flatten();
    for command in configured.into_iter().chain(["python3".to_string()]) {
        if found.iter().any(|i| i.command == command) {
            continue;
        }
        if let Ok(i) = parlab::plan::Interpreter::ask(&command) {
            if !found.iter().any(|f| f.executable == i.executable) {
                found.push(i);
            }
        }
    }
    found
}

/// Print a finished run (JSON or the summary), its failures on stderr;
/// the exit status: 1 if anything failed, the signal's if one stopped it.
fn finish_run(finished: &Finished, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        outln!("{}", report::to_json(finished));
    } else {
        // A program's own output first, as it printed it (the lab keeps its last lines).
        for line in &finished.lab.log {
            if let parlab::model::LogBody::Verbatim(text) = &line.body {
                outln!("{text}");
            }
        }
        out!("{}", report::human(finished));
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

/// Read recordings; a file cut short is replayed as far as it reads, and said.
fn open_all(files: &[std::path::PathBuf]) -> anyhow::Result<Vec<Recording>> {
    let recordings: Vec<Recording> = files
        .iter()
        .map(|f| recording::open(f))
        .collect::<anyhow::Result<_>>()?;
    for rec in &recordings {
        if let Some(cut) = &rec.cut {
            eprintln!(
                "parlab: {}: the recording ends at byte {} of {} ({}): what it holds is {} run{}, {} events",
                rec.path.display(),
                cut.at,
                rec.size,
                cut.why,
                rec.runs.len(),
                if rec.runs.len() == 1 { "" } else { "s" },
                rec.runs.iter().map(|r| r.events).sum::<u64>()
            );
        }
    }
    Ok(recordings)
}

/// A recorded run played through the lab at full speed.
/// `parlab export --format speedscope|folded|pstats`: the first profiled
/// run's stacks.
fn export_profile(
    e: &parlab::cli::ExportArgs,
    rec: &recording::Recording,
) -> anyhow::Result<ExitCode> {
    use parlab::profile_files::Format;
    let format = match e.format {
        ExportFormat::Folded => Format::Folded,
        ExportFormat::Pstats => Format::Pstats,
        _ => Format::Speedscope,
    };
    for run in &rec.runs {
        let finished = replayed(run)?;
        if finished.lab.profile.is_empty() {
            continue;
        }
        let out = e
            .out
            .clone()
            .unwrap_or_else(|| e.file.with_extension(format.extension()));
        eprintln!(
            "parlab: {}",
            parlab::profile_files::save(&finished, &out, format)?
        );
        return Ok(ExitCode::SUCCESS);
    }
    Err(UserError::new(format!(
        "{}: no run in it has stacks (a program run by parlab py with --profile-hz above 0 has)",
        e.file.display()
    ))
    .into())
}

fn replayed(run: &recording::RecordedRun) -> anyhow::Result<Finished> {
    let source = Box::new(parlab::replay::Replay::start(run));
    headless::drain(source, || false, None, None)
}

/// Where a recording went, or why it stopped early (on stderr).
fn said_recording(record: Option<&Recorder>) {
    let Some(r) = record else { return };
    match r.problem() {
        Some(p) => eprintln!("parlab: {p}"),
        None => eprintln!(
            "parlab: recorded {} events in {} bytes to {}",
            r.events_written(),
            r.bytes_written(),
            r.path().display()
        ),
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
    if e.kind() == ErrorKind::MissingRequiredArgument {
        if let Some(ContextValue::Strings(missing)) = e.get(ContextKind::InvalidArg) {
            eprintln!("parlab: missing {}", missing.join(", "));
            return ExitCode::from(2);
        }
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
