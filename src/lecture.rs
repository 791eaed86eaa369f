//! The lecture's own Python programs, bundled in the binary: `parlab
//! lecture` lists them, `parlab lecture NAME` prints one. Each runs with
//! plain `python3` (standard library only, CPython 3.9 and later), takes
//! `--help`, and prints its result as one JSON object on its last line;
//! `joblib_dask`, about a third-party engine, names what to install.

/// A bundled program.
#[derive(Debug)]
pub struct Script {
    pub name: &'static str,
    /// One line: what it shows.
    pub about: &'static str,
    pub source: &'static str,
    /// Argument sets the lab's Settings form offers, the first by default.
    pub examples: &'static [&'static str],
}

macro_rules! script {
    ($name:literal, $about:literal, [$($ex:literal),* $(,)?]) => {
        Script {
            name: $name,
            about: $about,
            source: include_str!(concat!("../assets/lecture/", $name, ".py")),
            examples: &[$($ex),*],
        }
    };
}

/// Every bundled program, in the lecture's order.
pub const SCRIPTS: [Script; 10] = [
    script!(
        "seven_tasks",
        "the seven named tasks, sleeping 1-10 units: sequential, threads, processes, pools, asyncio",
        [
            "--mode threads",
            "--mode sequential",
            "--mode processes",
            "--mode thread-pool",
            "--mode process-pool",
            "--mode asyncio",
        ]
    ),
    script!(
        "cpu",
        "CPU-bound: Collatz (pure Python, the GIL serialises threads) or SHA-256 (releases it), every mode",
        [
            "--mode threads --workers 2",
            "--mode sequential",
            "--mode processes --workers 2",
            "--mode process-pool --workers 2",
            "--mode pool --workers 2",
            "--work hash --mode threads --workers 2",
            "--work hash --mode sequential",
        ]
    ),
    script!(
        "start_methods",
        "what starting a process costs with fork, spawn and forkserver",
        [
            "",
        ]
    ),
    script!(
        "producer_consumer",
        "a bounded queue.Queue / LifoQueue / PriorityQueue between producers and consumers",
        [
            "",
            "--maxsize 1 --rate 0",
            "--consumers 1 --work-ms 50",
            "--queue lifo",
            "--queue priority --producers 2",
        ]
    ),
    script!(
        "locks",
        "Lock, RLock, Semaphore, Event, Condition, Barrier, Timer, and a deadlock from two locks",
        [
            "--demo deadlock",
            "--demo lock",
            "--demo rlock",
            "--demo semaphore",
            "--demo event",
            "--demo condition",
            "--demo barrier",
            "--demo timer",
        ]
    ),
    script!(
        "races",
        "lost updates on a shared counter without a lock; a dict changed during iteration",
        [
            "",
            "--lock",
            "--demo dict",
        ]
    ),
    script!(
        "lru_fib",
        "fib under functools.lru_cache(maxsize): cache_info() hits and misses",
        [
            "--n 30 --maxsize 16",
            "--n 30 --maxsize 0",
            "--n 300 --maxsize none",
        ]
    ),
    script!(
        "subprocess_tasks",
        "shell tasks with subprocess.run on a ThreadPoolExecutor(4)",
        [
            "",
            "--workers 1 --tasks 5",
        ]
    ),
    script!(
        "joblib_dask",
        "joblib's Parallel on a Dask cluster of N worker processes, or on loky and threading (needs dask, joblib)",
        [
            "--workers 2",
            "--backend loky --workers 2",
            "--backend threading --workers 2",
        ]
    ),
    script!(
        "asyncio_tasks",
        "asyncio.gather of sleeps, and a CPU-bound coroutine blocking the loop",
        [
            "",
            "--demo blocking",
        ]
    ),
];

/// The program of this name.
pub fn find(name: &str) -> Option<&'static Script> {
    SCRIPTS.iter().find(|s| s.name == name)
}

/// `parlab lecture`: one line each.
pub fn list() -> String {
    let mut out = String::from(
        "the lecture's programs (parlab lecture NAME prints one; each runs with python3):\n",
    );
    for s in &SCRIPTS {
        out += &format!("  {:<18} {}\n", s.name, s.about);
    }
    out
}

/// `parlab lecture NAME`: its source, or a user error naming the valid names.
pub fn show(name: &str) -> Result<&'static str, crate::UserError> {
    find(name).map(|s| s.source).ok_or_else(|| {
        let names: Vec<&str> = SCRIPTS.iter().map(|s| s.name).collect();
        crate::UserError::new(format!(
            "no lecture program named '{name}': valid ones are {}",
            names.join(", ")
        ))
    })
}
