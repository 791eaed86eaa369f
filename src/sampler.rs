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

/// One sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuSample {
    /// Utilisation of each logical core, 0..=100.
    pub cores: Vec<f32>,
    /// Worker processes: (pid, CPU % of one core, resident bytes).
    pub processes: Vec<(u32, f32, u64)>,
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
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(interval);
        sys.refresh_cpu_usage();
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
        let sample = CpuSample {
            cores: sys.cpus().iter().map(|c| c.cpu_usage()).collect(),
            processes: watched
                .iter()
                .filter_map(|pid| {
                    sys.process(*pid)
                        .map(|p| (pid.as_u32(), p.cpu_usage(), p.memory()))
                })
                .collect(),
        };
        // A full channel means the UI is behind: drop this sample, keep the newest next time.
        let _ = tx.try_send(sample);
    }
}
