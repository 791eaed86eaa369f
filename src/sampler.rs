//! The CPU collector: a thread sampling per-core utilisation and the worker
//! processes' CPU and memory (sysinfo), feeding the draw loop over a channel,
//! as a dashboard's collection thread does. The workers never see it.

use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The machine's logical cores.
pub fn logical_cores() -> u32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1)
}

/// How busy the machine was over a stretch of time, and how much of that
/// was parlab's own process tree: a run's neighbours, measured.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Load {
    /// The machine's logical cores.
    pub cores: u32,
    /// Mean cores busy, every process together.
    pub busy: f64,
    /// Mean cores used by parlab and its worker processes.
    pub own: f64,
    /// Mean cores used by everything else: `busy - own`.
    pub others: f64,
    /// `others` above this many cores marks the run as disturbed.
    pub threshold: f64,
    /// How long it was measured over.
    pub window_ms: f64,
}

/// The shortest window the OS's CPU totals can say anything about (they
/// count in 10 ms ticks per core): a shorter run's load is not measured.
pub const MIN_WINDOW_MS: f64 = 250.0;

/// Others using more than this many cores (on average) disturb a run.
pub const DISTURBED_THRESHOLD: f64 = 0.25;

impl Load {
    /// Whether the window was long enough for the figures to mean anything.
    pub fn measured(&self) -> bool {
        self.window_ms >= MIN_WINDOW_MS
    }

    /// Whether others used enough of the machine to distort the figures
    /// (never said of a window too short to measure).
    pub fn disturbed(&self) -> bool {
        self.measured() && self.others > self.threshold
    }

    /// `others used 0.9 core`: the words the Summary and the Runs panel use.
    pub fn words(&self) -> String {
        if self.measured() {
            format!("others used {:.1} core", self.others)
        } else {
            format!(
                "too short ({:.0} ms) to measure what others used (needs {MIN_WINDOW_MS:.0} ms)",
                self.window_ms
            )
        }
    }
}

/// A stretch of time over which the machine's load is measured: opened as a
/// run starts, closed once every worker is joined (so the CPU of every
/// worker process is in parlab's own account, reaped children included).
pub struct Window {
    sys: sysinfo::System,
    t0: std::time::Instant,
    own0: Duration,
}

impl Window {
    /// Start measuring.
    pub fn open() -> Self {
        let mut sys = sysinfo::System::new();
        sys.refresh_cpu_usage();
        Self {
            sys,
            t0: std::time::Instant::now(),
            own0: own_cpu_time(),
        }
    }

    /// The load since `open`.
    pub fn close(mut self, threshold: f64) -> Load {
        self.sys.refresh_cpu_usage();
        let secs = self.t0.elapsed().as_secs_f64().max(1e-6);
        let cores = logical_cores();
        let busy = self.sys.global_cpu_usage() as f64 / 100.0 * cores as f64;
        let own = (own_cpu_time().saturating_sub(self.own0)).as_secs_f64() / secs;
        Load {
            cores,
            busy,
            own,
            others: (busy - own).max(0.0),
            threshold,
            window_ms: secs * 1e3,
        }
    }
}

/// CPU time of this process and of every child it has reaped (their own
/// reaped children included): parlab's tree, once its workers are joined.
#[cfg(unix)]
pub fn own_cpu_time() -> Duration {
    let used = |who| {
        // SAFETY: getrusage fills the struct it is given.
        let mut r: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut r) };
        let t = |tv: libc::timeval| Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
        t(r.ru_utime) + t(r.ru_stime)
    };
    used(libc::RUSAGE_SELF) + used(libc::RUSAGE_CHILDREN)
}

/// CPU time of this process (elsewhere, worker processes are not counted in).
#[cfg(not(unix))]
pub fn own_cpu_time() -> Duration {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let pid = Pid::from_u32(std::process::id());
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing().with_cpu(),
    );
    Duration::from_millis(
        sys.process(pid)
            .map(|p| p.accumulated_cpu_time())
            .unwrap_or(0),
    )
}

/// One sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuSample {
    /// Utilisation of each logical core, 0..=100.
    pub cores: Vec<f32>,
    /// Worker processes: (pid, CPU % of one core, resident bytes).
    pub processes: Vec<(u32, f32, u64)>,
    /// Cores used by parlab's own tree since the last sample (live workers included).
    pub own: f32,
    /// Cores used by everything else.
    pub others: f32,
}

/// The collection thread and what it shares with the UI.
pub struct Sampler {
    rx: Receiver<CpuSample>,
    pids: Arc<Mutex<Vec<u32>>>,
    stop: Arc<AtomicBool>,
}

impl Sampler {
    /// Start sampling every `interval` (at least sysinfo's minimum).
    pub fn start(interval: Duration) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(4);
        let pids = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (pids.clone(), stop.clone());
        let _ = std::thread::Builder::new()
            .name("parlab-cpu".into())
            .spawn(move || collect(tx, p, s, interval.max(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL)));
        Self { rx, pids, stop }
    }

    /// The worker processes to watch.
    pub fn watch(&self, pids: Vec<u32>) {
        *self.pids.lock().unwrap_or_else(|e| e.into_inner()) = pids;
    }

    /// The newest sample, if one arrived since the last call.
    pub fn latest(&self) -> Option<CpuSample> {
        self.rx.try_iter().last()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn collect(
    tx: Sender<CpuSample>,
    pids: Arc<Mutex<Vec<u32>>>,
    stop: Arc<AtomicBool>,
    interval: Duration,
) {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let mut sys = System::new();
    sys.refresh_cpu_usage();
    let (mut own0, mut t0) = (own_cpu_time(), std::time::Instant::now());
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(interval);
        sys.refresh_cpu_usage();
        let (own1, t1) = (own_cpu_time(), std::time::Instant::now());
        let own_reaped = own1.saturating_sub(own0).as_secs_f64() / (t1 - t0).as_secs_f64();
        (own0, t0) = (own1, t1);
        let watched: Vec<Pid> = pids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|&p| Pid::from_u32(p))
            .collect();
        if !watched.is_empty() {
            sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&watched),
                true,
                ProcessRefreshKind::nothing().with_cpu().with_memory(),
            );
        }
        let cores: Vec<f32> = sys.cpus().iter().map(|c| c.cpu_usage()).collect();
        let busy = cores.iter().sum::<f32>() / 100.0;
        let processes: Vec<(u32, f32, u64)> = watched
            .iter()
            .filter_map(|pid| {
                sys.process(*pid)
                    .map(|p| (pid.as_u32(), p.cpu_usage(), p.memory()))
            })
            .collect();
        // parlab's tree: itself and reaped children, plus the live workers watched.
        let own = own_reaped as f32 + processes.iter().map(|p| p.1).sum::<f32>() / 100.0;
        let sample = CpuSample {
            cores,
            processes,
            own: own.min(busy),
            others: (busy - own).max(0.0),
        };
        // A full channel means the UI is behind: drop this sample, keep the newest next time.
        let _ = tx.try_send(sample);
    }
}
