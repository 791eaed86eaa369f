//! `concurrent.futures.ThreadPoolExecutor(max_workers=N)`: N threads pulling
//! tasks from one channel; a phase's tasks are all done before the next is submitted.

use super::{spawn_named, RunCtx};
use crate::event::{Role, WorkerState};
use crate::workload::TaskSpec;
use crossbeam_channel::{unbounded, TryRecvError};
use std::sync::Arc;

/// The strategy's one description.
pub const DESCRIPTOR: super::Descriptor = super::Descriptor {
    name: "pool",
    about: "N threads pulling tasks, like concurrent.futures.ThreadPoolExecutor",
    params: &[],
    workers: super::Workers::Pool,
    processes: false,
    gil: true,
    knobs: &[],
    bound: None,
    check: super::no_check,
    run,
};

/// Start N workers, submit each phase, wait for it, then shut the pool down.
pub fn run(ctx: &Arc<RunCtx>) -> anyhow::Result<()> {
    let (task_tx, task_rx) = unbounded::<TaskSpec>();
    let (done_tx, done_rx) = unbounded::<()>();
    let mut handles = Vec::new();
    for i in 1..=ctx.workers {
        let (ctx, task_rx, done_tx) = (ctx.clone(), task_rx.clone(), done_tx.clone());
        let spawned_at = ctx.clock.now();
        let lane = ctx.new_lane();
        let name = format!("worker-{i}");
        handles.push(spawn_named(name.clone(), move || {
            let mut probe = ctx.worker_probe(lane, &name, Role::Thread, spawned_at);
            loop {
                let task = match task_rx.try_recv() {
                    Ok(task) => task,
                    Err(TryRecvError::Disconnected) => break,
                    Err(TryRecvError::Empty) => {
                        probe.state(WorkerState::Idle);
                        probe.flush();
                        match task_rx.recv() {
                            Ok(task) => task,
                            Err(_) => break,
                        }
                    }
                };
                ctx.execute(&task, &mut probe, &name);
                let _ = done_tx.send(());
            }
        })?);
    }
    drop(done_tx);
    for phase in ctx.phases() {
        let n = phase.len();
        for task in phase {
            let _ = task_tx.send(task);
        }
        // Every submitted task reports back, run or skipped after a cancel.
        for _ in 0..n {
            if done_rx.recv().is_err() {
                break;
            }
        }
    }
    drop(task_tx);
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}
