//! `threading.Thread(target=...)` for every task: start them all, join them
//! all. `--workers` caps how many run at once with a semaphore, as
//! `threading.Semaphore` would; a thread waiting for it is in `lock_wait`.

use super::{spawn_named, RunCtx};
use crate::event::{Role, WorkerState};
use std::sync::{Arc, Condvar, Mutex};

/// The strategy's one description.
pub const DESCRIPTOR: super::Descriptor = super::Descriptor {
    name: "threads",
    about: "one OS thread per task, like threading.Thread(...).start()/join()",
    params: &[],
    workers: super::Workers::PerTask("thread"),
    processes: false,
    gil: true,
    knobs: &[],
    bound: None,
    check: super::no_check,
    run,
};

/// `threading.Semaphore`: a count of permits.
pub struct Semaphore {
    permits: Mutex<u32>,
    freed: Condvar,
}

impl Semaphore {
    /// A semaphore with `n` permits.
    pub fn new(n: u32) -> Self {
        Self {
            permits: Mutex::new(n),
            freed: Condvar::new(),
        }
    }

    /// Take a permit without waiting, if one is free.
    pub fn try_acquire(&self) -> bool {
        let mut p = super::lock(&self.permits);
        if *p > 0 {
            *p -= 1;
            true
        } else {
            false
        }
    }

    /// Take a permit, waiting for one.
    pub fn acquire(&self) {
        let mut p = super::lock(&self.permits);
        while *p == 0 {
            p = self.freed.wait(p).unwrap_or_else(|e| e.into_inner());
        }
        *p -= 1;
    }

    /// Give a permit back.
    pub fn release(&self) {
        *super::lock(&self.permits) += 1;
        self.freed.notify_one();
    }
}

/// One thread per task, phase by phase.
pub fn run(ctx: &Arc<RunCtx>) -> anyhow::Result<()> {
    let permits = Arc::new(Semaphore::new(ctx.workers));
    let mut index = 0;
    for phase in ctx.phases() {
        let mut handles = Vec::new();
        for task in phase {
            index += 1;
            let (ctx, permits) = (ctx.clone(), permits.clone());
            let name = format!("Thread-{index}");
            let spawned_at = ctx.clock.now();
            let lane = ctx.new_lane();
            handles.push(spawn_named(name.clone(), move || {
                let mut probe = ctx.worker_probe(lane, &name, Role::Thread, spawned_at);
                if !permits.try_acquire() {
                    probe.state(WorkerState::LockWait);
                    probe.flush();
                    permits.acquire();
                }
                ctx.execute(&task, &mut probe, &name);
                permits.release();
            })?);
        }
        for h in handles {
            let _ = h.join();
        }
    }
    Ok(())
}
