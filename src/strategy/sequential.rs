//! One task after another on one thread: the baseline every speedup is measured against.

use super::RunCtx;
use crate::event::Role;
use std::sync::Arc;

/// The strategy's one description.
pub const DESCRIPTOR: super::Descriptor = super::Descriptor {
    name: "sequential",
    about: "one task after another on one thread",
    params: &[],
    workers: super::Workers::One,
    processes: false,
    gil: false,
    knobs: &[],
    bound: None,
    check: super::no_check,
    run,
};

/// Run every task in order on one lane.
pub fn run(ctx: &Arc<RunCtx>) -> anyhow::Result<()> {
    let name = "worker-1";
    let mut probe = ctx.worker_probe(ctx.new_lane(), name, Role::Thread, ctx.clock.now());
    for task in ctx.phases().flatten() {
        ctx.execute(&task, &mut probe, name);
    }
    Ok(())
}
