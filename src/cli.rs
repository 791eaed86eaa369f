//! The command line: `parlab [tui|run|sweep|list]`, every flag with its default.

use crate::param::{Kind, Param, Value};
use crate::plan::{DURATION, SWITCH_INTERVAL_MS, WORKERS};
use crate::strategy::OnError;
use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// parlab: a live terminal laboratory for concurrency.
#[derive(Debug, Parser)]
#[command(
    name = "parlab",
    version,
    about = "A live terminal laboratory for concurrency: threads, processes, pools, queues, the GIL and Amdahl's law.",
    long_about = None
)]
pub struct Cli {
    /// Read settings from FILE [default: $PARLAB_CONFIG, else ./parlab.toml, else the platform's config folder]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Ignore every config file: built-in defaults and flags only
    #[arg(long, global = true)]
    pub no_config: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the live lab (the default) with these settings preselected, or on a Python program (tui py)
    Tui(TuiCmd),
    /// Run once without the TUI and print a summary (or JSON)
    Run(RunCmd),
    /// List the workloads and strategies
    List,
    /// Run at each worker count and fit Amdahl's law to the speedups
    Sweep(SweepCmd),
    /// Measure the lab itself, and the lesson's figures beside CPython's
    Bench(BenchArgs),
    /// Trust a folder's parlab.toml to name programs to run (its script, its interpreter)
    Trust(TrustArgs),
    /// Open the lab on recordings: replay, step, seek, compare; or print a run's JSON
    Replay(ReplayArgs),
    /// Run a real Python program under parlab's probe: its threads, processes, tasks and waits
    Py(PyCmd),
    /// List the lecture's Python programs, or print one (python3 runs each as it is)
    Lecture {
        /// The program to print [default: list them all]
        name: Option<String>,
    },
    /// Write a recording for another tool: Perfetto / chrome://tracing, or the run JSON
    Export(ExportArgs),
    /// List the lessons, or open the lab on one: steps a class predicts, runs and sees revealed
    Lesson(LessonArgs),
    /// A worker process, started by parlab itself
    #[command(hide = true)]
    Worker,
}

/// `parlab sweep`. Its own flags (`--json`, `--repeat`, `--wait-quiet`)
/// and `--record` are global: `sweep py` takes them after `py` too.
#[derive(Debug, Args)]
pub struct SweepCmd {
    #[command(flatten)]
    pub args: RunArgs,
    /// Sweep a Python program instead: {workers} in its arguments becomes each count
    #[command(subcommand)]
    pub program: Option<SweepProgram>,
    /// Runs per point; each point is their median
    #[arg(long, global = true, default_value_t = 3, value_parser = parse_positive_u32)]
    pub repeat: u32,
    /// Print exactly one JSON object instead of the table
    #[arg(long, global = true)]
    pub json: bool,
    /// Before timing, wait up to this long for other programs to use less than the config's disturbed_threshold; 0 waits not
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 3.0, value_parser = parse_wait)]
    pub wait_quiet: f64,
}

fn parse_wait(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(w) if (0.0..=3600.0).contains(&w) => Ok(w),
        _ => Err("must be 0..=3600 (seconds)".into()),
    }
}

/// `parlab tui`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = false)]
pub struct TuiCmd {
    #[command(flatten)]
    pub args: RunArgs,
    #[command(subcommand)]
    pub program: Option<TuiProgram>,
}

/// What `parlab tui` opens on besides native settings.
#[derive(Debug, Subcommand)]
pub enum TuiProgram {
    /// Open the lab on a real Python program: Enter runs it under the probe
    Py(TuiPyArgs),
}

/// `parlab tui py`: the program, and how many times Enter runs it.
#[derive(Debug, Args, Clone)]
pub struct TuiPyArgs {
    /// Enter runs the program N times, a row each in Runs; the Summary shows their spread
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_positive_u32)]
    pub repeat: u32,
    #[command(flatten)]
    pub program: PyArgs,
}

/// What `parlab sweep` sweeps besides native settings.
#[derive(Debug, Subcommand)]
pub enum SweepProgram {
    /// Sweep a real Python program: parlab sweep py SCRIPT --workers 1..4 -- --workers {workers}
    Py(SweepPyArgs),
}

/// `parlab sweep py`: the program, and the worker counts (here or before `py`).
#[derive(Debug, Args, Clone)]
pub struct SweepPyArgs {
    /// Worker counts: a range 1..8 or a list 1,2,4,8 [default: 1..=2×cores]
    #[arg(long, short = 'w', value_parser = parse_worker_grid)]
    pub workers: Option<Workers>,
    #[command(flatten)]
    pub program: PyArgs,
}

/// A Python program and how to run it: one group of flags that `py`,
/// `tui py` and `sweep py` all take, so a command line carries over.
#[derive(Debug, Args, Clone)]
pub struct PyArgs {
    /// The interpreter [default: the config's [python] executable, else python3]
    #[arg(long, value_name = "EXE")]
    pub python: Option<String>,
    /// Stop the program, with every process it started, after this many seconds [default: no limit]
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<f64>,
    /// Read each process's real GIL this many times a second (Linux, CPython 3.9 and later); 0 infers it from the threads' states
    #[arg(long, value_name = "HZ", default_value_t = crate::python::gil::DEFAULT_HZ, value_parser = parse_gil_hz)]
    pub gil_sample_hz: u32,
    /// Read each thread's Python call stack this many times a second, from outside (up to 1000); 0 turns the profile off
    #[arg(long, value_name = "HZ", default_value_t = crate::python::stacks::DEFAULT_HZ, value_parser = parse_profile_hz)]
    pub profile_hz: u32,
    /// The script: a path, or lecture:NAME for a bundled program (parlab lecture lists them)
    #[arg(value_name = "SCRIPT")]
    pub script: String,
    /// The script's own arguments, after --
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// `parlab py`.
#[derive(Debug, Args)]
pub struct PyCmd {
    #[command(flatten)]
    pub program: PyArgs,
    /// Print exactly one JSON object on stdout instead of the human summary
    #[arg(long)]
    pub json: bool,
    /// Keep the run in FILE (parlab replay FILE --json prints its JSON again) [default: not recorded]
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Write the program's profile to FILE: .speedscope.json (speedscope), .folded (inferno, flamegraph.pl) or .prof (snakeviz, python -m pstats) [default: none]
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// The profile file's format, whatever its name says
    #[arg(long, value_enum, value_name = "FORMAT", requires = "profile")]
    pub profile_format: Option<crate::profile_files::Format>,
    /// Run the program N times and report the distribution of its own wall time (timeit, for real)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_positive_u32)]
    pub repeat: u32,
    /// Runs before the N that are shown but not counted
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub warmup: u32,
}

/// `parlab WORD …` for a source in [`crate::source::REGISTERED`]: the
/// same flags for each, then the source's own words.
#[derive(Debug, Parser)]
pub struct SourceCmd {
    /// Read settings from FILE
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore every config file
    #[arg(long)]
    pub no_config: bool,
    /// Print exactly one JSON object on stdout instead of the human summary
    #[arg(long, conflicts_with = "tui")]
    pub json: bool,
    /// Keep the run in FILE (parlab replay FILE --json prints its JSON again) [default: not recorded]
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Open the lab on the run instead of running it headless
    #[arg(long)]
    pub tui: bool,
    /// The source's own arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// The registered source a command line names (its first word that is
/// neither a flag nor `--config`'s value, if `registry` has it), with the
/// command line parsed as a [`SourceCmd`].
pub fn source_cmd<'a>(
    args: &[std::ffi::OsString],
    registry: &'a [crate::source::Registered],
) -> Option<(
    &'a crate::source::Registered,
    Result<SourceCmd, clap::Error>,
)> {
    use clap::{CommandFactory, FromArgMatches};
    let word_from = |mut i: usize| loop {
        let w = args.get(i)?.to_string_lossy();
        match w.as_ref() {
            "--config" => i += 1,
            w if w.starts_with('-') => {}
            _ => break Some(i),
        }
        i += 1;
    };
    let first = word_from(1)?;
    // `parlab tui WORD …` is `parlab WORD --tui …`.
    let tui = (args[first] == "tui")
        .then(|| word_from(first + 1))
        .flatten();
    let at = tui.unwrap_or(first);
    let r = crate::source::registered(registry, &args[at].to_string_lossy())?;
    let tui_flag = std::ffi::OsString::from("--tui");
    let rest = args[..1].iter().chain(tui.map(|_| &tui_flag)).chain(
        args.iter()
            .enumerate()
            .skip(1)
            .filter(|(i, _)| *i != at && (tui.is_none() || *i != first))
            .map(|(_, a)| a),
    );
    let parsed = SourceCmd::command()
        .name(format!("parlab {}", r.word))
        .about(r.about)
        .try_get_matches_from(rest)
        .and_then(|m| SourceCmd::from_arg_matches(&m));
    Some((r, parsed))
}

/// The whole command line, the registered sources listed beside the
/// built-in commands (each parsed by [`source_cmd`]).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().subcommands(
        crate::source::REGISTERED
            .iter()
            .map(|r| clap::Command::new(r.word).about(r.about)),
    )
}

fn parse_gil_hz(s: &str) -> Result<u32, String> {
    parse_rate(s, crate::python::gil::MAX_HZ, "samples")
}

fn parse_profile_hz(s: &str) -> Result<u32, String> {
    parse_rate(s, crate::python::stacks::MAX_HZ, "stacks")
}

/// A rate of `what` a second, 0 (off) up to `max`.
fn parse_rate(s: &str, max: u32, what: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(hz) if hz <= max => Ok(hz),
        _ => Err(format!(
            "must be a whole number of {what} a second in 0..={max}"
        )),
    }
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t > 0.0 && t <= 86_400.0 => Ok(t),
        _ => Err("must be a number of seconds above 0, at most 86400".into()),
    }
}

/// `parlab replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Recordings made with --record; two to four runs open stacked for comparison
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Print each run's JSON, as the original run printed it, instead of opening the lab
    #[arg(long)]
    pub json: bool,
    /// Print each run's human summary instead of opening the lab
    #[arg(long, conflicts_with = "json")]
    pub summary: bool,
    /// Playback speed, 0.25 to 16
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let valid = || {
        let speeds: Vec<String> = crate::replay::SPEEDS
            .iter()
            .map(|s| s.to_string())
            .collect();
        format!("must be one of {}", speeds.join(", "))
    };
    match s.parse::<f64>() {
        Ok(x) if crate::replay::SPEEDS.contains(&x) => Ok(x),
        _ => Err(valid()),
    }
}

/// What `parlab export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Trace Event Format JSON, for Perfetto's UI and chrome://tracing
    ChromeTrace,
    /// The run JSON of `parlab run --json`, one line per run
    Json,
    /// A program's profile as speedscope JSON (its first run's)
    Speedscope,
    /// A program's profile as collapsed stacks, for inferno or flamegraph.pl
    Folded,
    /// A program's profile as a pstats file, for snakeviz and python -m pstats
    Pstats,
}

/// `parlab export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A recording made with --record
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// What to write
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Where to write it [default: FILE with .json or .trace.json beside it; - for stdout]
    #[arg(long, short = 'o', value_name = "OUT")]
    pub out: Option<PathBuf>,
}

/// `parlab trust`.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The file to trust, as it is now [default: ./parlab.toml]
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Show every trusted file and whether it still matches [default: off]
    #[arg(long, conflicts_with_all = ["file", "revoke"])]
    pub list: bool,
    /// Forget a trusted file [default: none]
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    pub revoke: Option<PathBuf>,
}

/// `parlab bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Small and fast: proves the benchmarks work, figures not meaningful
    #[arg(long)]
    pub quick: bool,
    /// Print one JSON object instead of the table
    #[arg(long)]
    pub json: bool,
    /// Measure only these sections, like frame_under_load,overhead [default: every section]
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Before timing, wait up to this long for other programs to use less than the config's disturbed_threshold; 0 waits not
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0, value_parser = parse_wait)]
    pub wait_quiet: f64,
}

/// `parlab lesson`.
#[derive(Debug, Args)]
pub struct LessonArgs {
    /// A bundled lesson, one in the config folder's lessons/, or a lesson file [default: list them]
    #[arg(value_name = "NAME|FILE")]
    pub name: Option<String>,
    /// Run every step without the TUI and say whether each claim held on this machine (exit 1 if one did not)
    #[arg(long)]
    pub check: bool,
    /// With --check: print one JSON object instead of a line a step
    #[arg(long, requires = "check")]
    pub json: bool,
    /// The interpreter of its Python steps [default: the config's [python] executable, else python3]
    #[arg(long, value_name = "EXE")]
    pub python: Option<String>,
    /// Multiply the lesson's sizes ([vars]) by this: 0.1 for a quick look
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub scale: f64,
    /// Run every step now and keep their runs in one recording, to play the lesson later with --recorded
    #[arg(long, value_name = "FILE", conflicts_with_all = ["check", "recorded"])]
    pub prepare: Option<std::path::PathBuf>,
    /// Walk the lesson on the runs of a recording made with --prepare, not live runs
    #[arg(long, value_name = "FILE")]
    pub recorded: Option<std::path::PathBuf>,
    /// After the lesson in the lab, write each step with the class's hands, the measured answer and the caption (Markdown)
    #[arg(long, value_name = "FILE.md", conflicts_with = "check")]
    pub report: Option<std::path::PathBuf>,
}

fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 10.0 => Ok(x),
        _ => Err("must be a number above 0 and at most 10".into()),
    }
}

/// `parlab run`.
#[derive(Debug, Args)]
pub struct RunCmd {
    #[command(flatten)]
    pub args: RunArgs,
    /// Print exactly one JSON object on stdout instead of the human summary
    #[arg(long)]
    pub json: bool,
}

fn parse_workers(s: &str) -> Result<u32, String> {
    match WORKERS.parse(s)? {
        Some(Value::Int(n)) => Ok(n as u32),
        _ => Err(WORKERS.valid()),
    }
}

fn parse_float(p: &'static Param) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |s: &str| match p.parse(s)? {
        Some(Value::Float(f)) => Ok(f),
        _ => Err(p.valid()),
    }
}

/// `--workers`: one count, or for a sweep a range `1..8` (inclusive) or a list `1,2,4,8`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workers(pub Vec<u32>);

impl Workers {
    /// The one count a run takes (`None`: auto).
    pub fn single(&self) -> Result<Option<u32>, crate::UserError> {
        match self.0.as_slice() {
            [] => Ok(None),
            [n] => Ok(Some(*n)),
            _ => Err(crate::UserError::new(
                "--workers takes one number here; a range or a list is for parlab sweep",
            )),
        }
    }
}

fn parse_worker_grid(s: &str) -> Result<Workers, String> {
    let bad = || {
        format!(
            "{}, a range like 1..8, or a list like 1,2,4,8",
            WORKERS.valid()
        )
    };
    if s.trim() == "auto" {
        return Ok(Workers(Vec::new()));
    }
    if let Some((a, b)) = s.split_once("..") {
        let a = parse_workers(a).map_err(|_| bad())?;
        let b = parse_workers(b.trim_start_matches('=')).map_err(|_| bad())?;
        if a > b {
            return Err(bad());
        }
        return Ok(Workers((a..=b).collect()));
    }
    let list: Vec<u32> = s
        .split(',')
        .map(parse_workers)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    Ok(Workers(list))
}

fn parse_positive_u32(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("must be a whole number of at least 1".into()),
    }
}

fn workload_names() -> PossibleValuesParser {
    PossibleValuesParser::new(crate::workload::names())
}

fn strategy_names() -> PossibleValuesParser {
    PossibleValuesParser::new(crate::strategy::names())
}

/// Everything a run takes; shared by `run`, `tui` and `sweep`.
/// Unset flags fall back to the config file, then to the defaults shown.
#[derive(Debug, Args, Default, Clone)]
pub struct RunArgs {
    #[arg(long, short = 'W', value_parser = workload_names(),
          help = format!("What to compute [default: {}]", crate::workload::default().name))]
    pub workload: Option<String>,
    #[arg(long, short = 's', value_parser = strategy_names(),
          help = format!("How to run it [default: {}]", crate::strategy::default().name))]
    pub strategy: Option<String>,
    /// Worker threads or processes, 1..=1024; sweep: a range 1..8 or a list 1,2,4,8 [default: the logical cores; threads and processes: one per task; sweep: 1..=2×cores]
    #[arg(long, short = 'w', value_parser = parse_worker_grid)]
    pub workers: Option<Workers>,
    /// Seed for a workload's seeded units or inputs [default: 42]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run thread strategies under a simulated GIL [default: off]
    #[arg(long, overrides_with = "no_gil")]
    pub gil: bool,
    /// No simulated GIL (the default)
    #[arg(long)]
    pub no_gil: bool,
    /// GIL switch interval in ms, like sys.setswitchinterval [default: 5]
    #[arg(long, value_parser = parse_float(&SWITCH_INTERVAL_MS))]
    pub switch_interval_ms: Option<f64>,
    /// When a task fails: stop the run, or continue with the others [default: stop]
    #[arg(long, value_enum)]
    pub on_error: Option<OnError>,

    /// Every workload's and strategy's own parameters, from their tables.
    #[command(flatten)]
    pub params: ParamFlags,

    /// Repeat the workload for this many seconds, a soak [default: run it once]
    #[arg(long, value_name = "SECONDS", value_parser = parse_float(&DURATION))]
    pub duration: Option<f64>,
    /// Record no events (to measure what recording costs) [default: events on]
    #[arg(long)]
    pub no_events: bool,
    /// The executable to start as a worker process [default: this one]
    #[arg(long, hide = true)]
    pub worker_exe: Option<PathBuf>,
    /// Keep every run in FILE, to replay, compare and export (`parlab replay FILE`) [default: not recorded; R in the lab starts and stops]
    #[arg(long, global = true, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

/// The flags of every workload's and strategy's parameters, generated from
/// their tables: `(key, value as typed)` for each flag given.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ParamFlags(pub Vec<(&'static str, String)>);

impl ParamFlags {
    /// The value typed for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Set `key` as if typed.
    pub fn set(&mut self, key: &'static str, value: impl Into<String>) {
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value.into()));
    }
}

/// Every parameter of every workload and strategy, grouped by key, with
/// the name of whoever owns each row.
pub fn every_param() -> Vec<(&'static str, Vec<(&'static str, &'static Param)>)> {
    let rows = crate::workload::REGISTRY
        .iter()
        .flat_map(|d| d.params.iter().map(move |p| (d.name, p)))
        .chain(
            crate::strategy::REGISTRY
                .iter()
                .flat_map(|d| d.params.iter().map(move |p| (d.name, p))),
        );
    let mut out: Vec<(&'static str, Vec<(&'static str, &'static Param)>)> = Vec::new();
    for (owner, p) in rows {
        match out.iter_mut().find(|(k, _)| *k == p.key) {
            Some((_, v)) => v.push((owner, p)),
            None => out.push((p.key, vec![(owner, p)])),
        }
    }
    out
}

/// One flag's help: each owner's line, then each owner's default.
fn help_of(rows: &[(&str, &Param)]) -> String {
    let (_, first) = rows[0];
    if rows.len() == 1 || rows.iter().all(|(_, p)| p == &first) {
        let owners: Vec<&str> = rows.iter().map(|(o, _)| *o).collect();
        return format!(
            "{}: {} [default: {}]",
            owners.join(", "),
            first.help,
            first.default_text()
        );
    }
    let helps: Vec<String> = rows
        .iter()
        .map(|(o, p)| format!("{o}: {}", p.help))
        .collect();
    let defaults: Vec<String> = rows
        .iter()
        .map(|(o, p)| format!("{o} {}", p.default_text()))
        .collect();
    format!("{} [default: {}]", helps.join("; "), defaults.join(", "))
}

impl clap::FromArgMatches for ParamFlags {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut out = Vec::new();
        for (key, rows) in every_param() {
            if rows[0].1.kind == Kind::Flag {
                if m.get_flag(key) {
                    out.push((key, "true".to_string()));
                }
            } else if let Some(v) = m.get_one::<String>(key) {
                out.push((key, v.clone()));
            }
        }
        Ok(Self(out))
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for ParamFlags {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        for (key, rows) in every_param() {
            let p = rows[0].1;
            let arg = clap::Arg::new(key)
                .long(p.flag()[2..].to_string())
                .help(help_of(&rows));
            cmd = cmd.arg(if p.kind == Kind::Flag {
                arg.action(clap::ArgAction::SetTrue)
            } else {
                arg.value_name(key.to_uppercase())
                    .value_parser(clap::value_parser!(String))
            });
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Registered, Source};
    use std::ffi::OsString;

    fn never(_: &[String]) -> anyhow::Result<Box<dyn Source>> {
        anyhow::bail!("not started in a test")
    }

    const FEED: [Registered; 1] = [Registered {
        word: "feed",
        about: "a test source",
        start: never,
    }];

    fn argv(words: &str) -> Vec<OsString> {
        words.split_whitespace().map(OsString::from).collect()
    }

    /// The first plain word names the source, after global flags and
    /// `--config`'s value; its own words keep their order, even its name.
    #[test]
    fn a_registered_word_parses_as_a_source_command() {
        let args = argv("parlab --config feed feed --json --record r.bin a.json --x feed");
        let (r, cmd) = source_cmd(&args, &FEED).expect("feed is registered");
        let cmd = cmd.unwrap();
        assert_eq!(r.word, "feed");
        assert_eq!(cmd.config, Some(PathBuf::from("feed")));
        assert!(cmd.json && !cmd.tui);
        assert_eq!(cmd.record, Some(PathBuf::from("r.bin")));
        assert_eq!(cmd.args, ["a.json", "--x", "feed"]);
    }

    /// `parlab tui WORD …` opens the lab on the source, as `--tui` does.
    #[test]
    fn tui_before_a_registered_word_is_its_tui_flag() {
        let (r, cmd) = source_cmd(&argv("parlab --no-config tui feed a.json --x"), &FEED).unwrap();
        let cmd = cmd.unwrap();
        assert_eq!(r.word, "feed");
        assert!(cmd.tui && cmd.no_config && !cmd.json);
        assert_eq!(cmd.args, ["a.json", "--x"]);
        assert!(source_cmd(&argv("parlab tui --workload fib"), &FEED).is_none());
        assert!(source_cmd(&argv("parlab tui py lecture:cpu"), &FEED).is_none());
    }

    /// Built-in commands and unknown words are left to the main parser.
    #[test]
    fn other_words_are_not_a_source() {
        for line in [
            "parlab run --json",
            "parlab",
            "parlab --no-config fed",
            "parlab --json",
        ] {
            assert!(source_cmd(&argv(line), &FEED).is_none(), "{line}");
        }
        let (_, bad) = source_cmd(&argv("parlab feed --json --tui"), &FEED).unwrap();
        assert!(bad.is_err(), "--json and --tui conflict");
    }
}
