//! Work stealing, like `joblib.Parallel(n_jobs=N)`: rayon's pool of N
//! threads, each with its own deque, idle threads stealing from busy ones.

use super::RunCtx;
use crate::event::{Probe, Role};
use rayon::prelude::*;
use std::cell::RefCell;
use std::sync::Arc;

/// The strategy's one description.
pub const DESCRIPTOR: super::Descriptor = super::Descriptor {
    name: "rayon",
    about: "work stealing over N threads, like joblib.Parallel",
    params: &[],
    workers: super::Workers::Pool,
    processes: false,
    gil: true,
    knobs: &[],
    bound: None,
    check: super::no_check,
    run,
};

thread_local! {
    /// Each pool thread's probe and lane name, for the life of the pool.
    static LANE: RefCell<Option<(Probe, String)>> = const { RefCell::new(None) };
}

/// Run each phase as a parallel loop over its tasks.
pub fn run(ctx: &Arc<RunCtx>) -> anyhow::Result<()> {
    let spawned_at = ctx.clock.now();
    let first_lane = ctx.new_lanes(ctx.workers);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(ctx.workers as usize)
        .thread_name(|i| format!("worker-{}", i + 1))
        .build()?;
    // Every thread announces its lane before any work, so all show at once.
    pool.broadcast(|b| {
        let name = format!("worker-{}", b.index() + 1);
        let probe = ctx.worker_probe(
            first_lane + b.index() as u32,
            &name,
            Role::Thread,
            spawned_at,
        );
        LANE.with(|l| *l.borrow_mut() = Some((probe, name)));
    });
    for phase in ctx.phases() {
        pool.install(|| {
            phase.par_iter().for_each(|task| {
                LANE.with(|l| {
                    if let Some((probe, name)) = l.borrow_mut().as_mut() {
                        ctx.execute(task, probe, name);
                        // rayon may put this thread to sleep next, out of our
                        // sight: show what it did before that can happen.
                        probe.flush();
                    }
                })
            })
        });
    }
    // Drop every probe (flushing it) before the pool's threads wind down.
    pool.broadcast(|_| LANE.with(|l| l.borrow_mut().take()));
    Ok(())
}
