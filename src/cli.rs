//! The command line: `parlab [tui|run|sweep|list]`, every flag with its default.

use crate::strategy::queue::Discipline;
use crate::strategy::{OnError, StrategyKind};
use crate::workload::fib::CacheSize;
use crate::workload::{primes, WorkloadKind};
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
    /// Open the live lab (the default) with these settings preselected
    Tui(RunArgs),
    /// Run once without the TUI and print a summary (or JSON)
    Run(RunCmd),
    /// List the workloads and strategies
    List,
    /// Run at each worker count and fit Amdahl's law to the speedups
    Sweep(SweepCmd),
    /// Measure the lab itself, and the lesson's figures beside CPython's
    Bench(BenchArgs),
    /// A worker process, started by parlab itself
    #[command(hide = true)]
    Worker,
}

/// `parlab sweep`.
#[derive(Debug, Args)]
pub struct SweepCmd {
    #[command(flatten)]
    pub args: RunArgs,
    /// Runs per point; each point is their median [default: 3]
    #[arg(long, default_value_t = 3, value_parser = parse_positive_u32)]
    pub repeat: u32,
    /// Print exactly one JSON object instead of the table
    #[arg(long)]
    pub json: bool,
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
    let max = crate::engine::MAX_WORKERS;
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be 1..={max}")),
    }
}

/// `--workers`: one count, or for a sweep a range `1..8` (inclusive) or a list `1,2,4,8`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workers(pub Vec<u32>);

impl Workers {
    /// The one count a run takes.
    pub fn single(&self) -> Result<u32, crate::UserError> {
        match self.0.as_slice() {
            [n] => Ok(*n),
            _ => Err(crate::UserError::new(
                "--workers takes one number here; a range or a list is for parlab sweep",
            )),
        }
    }
}

fn parse_worker_grid(s: &str) -> Result<Workers, String> {
    let max = crate::engine::MAX_WORKERS;
    let bad = || format!("must be 1..={max}, a range like 1..8, or a list like 1,2,4,8");
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

fn parse_positive_u64(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("must be a whole number of at least 1".into()),
    }
}

fn parse_positive_u32(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("must be a whole number of at least 1".into()),
    }
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err("must be a number in 0..=1".into()),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err("must be a positive number of items per second".into()),
    }
}

fn parse_duration(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(d) if d > 0.0 && d <= 86_400.0 => Ok(d),
        _ => Err("must be above 0 and at most 86400 (seconds)".into()),
    }
}

fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r > 0.0 && r <= 10_000.0 => Ok(r),
        _ => Err("must be above 0 and at most 10000 (milliseconds)".into()),
    }
}

/// fib's `--inputs`: a list in one value, `30,25,32`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inputs(pub Vec<u32>);

fn parse_inputs(s: &str) -> Result<Inputs, String> {
    let bad = || "must be a comma-separated list of k in 0..=90, like 30,25,32".to_string();
    let ks: Vec<u32> = s
        .split(',')
        .map(|k| k.trim().parse::<u32>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if ks.is_empty() || ks.iter().any(|&k| k > crate::workload::fib::MAX_INPUT) {
        return Err(bad());
    }
    Ok(Inputs(ks))
}

/// Everything a run takes; shared by `run`, `tui` (and later `sweep`).
/// Unset flags fall back to the config file, then to the defaults shown.
#[derive(Debug, Args, Default, Clone)]
pub struct RunArgs {
    /// What to compute [default: collatz]
    #[arg(long, short = 'W', value_enum)]
    pub workload: Option<WorkloadKind>,
    /// How to run it [default: pool]
    #[arg(long, short = 's', value_enum)]
    pub strategy: Option<StrategyKind>,
    /// Worker threads or processes, 1..=1024; sweep: a range 1..8 or a list 1,2,4,8 [default: the logical cores; threads and processes: one per task; sweep: 1..=2×cores]
    #[arg(long, short = 'w', value_parser = parse_worker_grid)]
    pub workers: Option<Workers>,
    /// Seed for seeded inputs (sleep units, fib inputs) [default: 42]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run thread strategies under a simulated GIL [default: off]
    #[arg(long, overrides_with = "no_gil")]
    pub gil: bool,
    /// No simulated GIL (the default)
    #[arg(long)]
    pub no_gil: bool,
    /// GIL switch interval in ms, like sys.setswitchinterval [default: 5]
    #[arg(long, value_parser = parse_interval)]
    pub switch_interval_ms: Option<f64>,
    /// When a task fails: stop the run, or continue with the others [default: stop]
    #[arg(long, value_enum)]
    pub on_error: Option<OnError>,

    /// Problem size: collatz and primes range 1..=size; race increments [default: collatz 20000000, primes 12000000, race 1000000]
    #[arg(long, value_parser = parse_positive_u64)]
    pub size: Option<u64>,
    /// Number of tasks the work is split into [default: collatz 32, primes 32, amdahl 32, race 8]
    #[arg(long, value_parser = parse_positive_u32)]
    pub tasks: Option<u32>,
    /// collatz: lengths|first; race: unsynchronized|mutex|atomic [default: lengths, unsynchronized]
    #[arg(long)]
    pub mode: Option<String>,
    /// primes: trial division or segmented sieve [default: trial]
    #[arg(long, value_enum)]
    pub method: Option<primes::Method>,
    /// fib: the inputs k, like 30,25,32 [default: a seeded list]
    #[arg(long, value_parser = parse_inputs)]
    pub inputs: Option<Inputs>,
    /// fib: how many seeded inputs; shell: how many tasks [default: fib 12, shell 7]
    #[arg(long, value_parser = parse_positive_u32)]
    pub count: Option<u32>,
    /// fib: the largest seeded input, at most 90 [default: 32]
    #[arg(long)]
    pub max_input: Option<u32>,
    /// fib: lru_cache maxsize, a number or none (unbounded); 0 caches nothing [default: 128]
    #[arg(long, value_parser = CacheSize::parse)]
    pub cache_size: Option<CacheSize>,
    /// sleep, shell: milliseconds in one time unit [default: 100]
    #[arg(long, value_parser = parse_positive_u64)]
    pub unit_ms: Option<u64>,
    /// shell: every task sleeps this many units [default: a seeded 1-10 each]
    #[arg(long, value_parser = parse_positive_u32)]
    pub units: Option<u32>,
    /// shell: kill a command running longer than this [default: 30000]
    #[arg(long, value_parser = parse_positive_u64)]
    pub task_timeout_ms: Option<u64>,
    /// shell: run this script instead of the bundled one (sh SCRIPT NAME UNITS UNIT_MS) [default: bundled]
    #[arg(long, value_name = "FILE")]
    pub script: Option<String>,
    /// amdahl: the serial fraction, 0..=1 [default: 0.1]
    #[arg(long, value_parser = parse_fraction)]
    pub serial: Option<f64>,
    /// amdahl: total kernel iterations [default: 2000000000]
    #[arg(long, value_parser = parse_positive_u64)]
    pub work: Option<u64>,

    /// queue: producer threads [default: 1]
    #[arg(long, value_parser = parse_workers)]
    pub producers: Option<u32>,
    /// queue: consumer threads [default: --workers, else the logical cores]
    #[arg(long, value_parser = parse_workers)]
    pub consumers: Option<u32>,
    /// queue: capacity (maxsize) [default: 8]
    #[arg(long, value_parser = parse_positive_u32)]
    pub capacity: Option<u32>,
    /// queue: items per second, all producers together [default: as fast as they can]
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// queue: fifo (Queue), lifo (LifoQueue) or priority (PriorityQueue, smallest cost first) [default: fifo]
    #[arg(long, value_enum)]
    pub discipline: Option<Discipline>,
    /// queue: producers fill the queue before any consumer starts [default: off]
    #[arg(long)]
    pub prefill: bool,

    /// Repeat the workload for this many seconds, a soak [default: run it once]
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    pub duration: Option<f64>,
    /// Record no events (to measure what recording costs) [default: events on]
    #[arg(long)]
    pub no_events: bool,
    /// The executable to start as a worker process [default: this one]
    #[arg(long, hide = true)]
    pub worker_exe: Option<PathBuf>,
}
