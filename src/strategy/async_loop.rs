//! asyncio: one OS thread, one event loop, every task a coroutine on it.
//!
//! I/O-bound tasks await (a timer, a child process) and overlap; CPU-bound
//! tasks have no await point, so they run one after another and block the
//! loop, exactly as in asyncio. One lane: `running` while the loop polls a
//! task, `io` while it waits for any of them.

use super::RunCtx;
use crate::event::{EventKind, Probe, Role, WorkerState};
use crate::workload::{TaskCtx, TaskSpec};
use futures_lite::FutureExt;
use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

const NAME: &str = "event-loop";

/// The strategy's one description.
pub const DESCRIPTOR: super::Descriptor = super::Descriptor {
    name: "async",
    about: "one thread, one event loop, tasks interleaved, like asyncio",
    params: &[],
    workers: super::Workers::One,
    processes: false,
    gil: false,
    knobs: &[],
    bound: None,
    check: super::no_check,
    run,
};

/// Run each phase's tasks concurrently on one event loop (`asyncio.gather`).
pub fn run(ctx: &Arc<RunCtx>) -> anyhow::Result<()> {
    let probe = Rc::new(RefCell::new(ctx.worker_probe(
        ctx.new_lane(),
        NAME,
        Role::EventLoop,
        ctx.clock.now(),
    )));
    for phase in ctx.phases() {
        let ex = async_executor::LocalExecutor::new();
        let handles: Vec<_> = phase
            .iter()
            .map(|task| ex.spawn(coroutine(ctx, task, probe.clone())))
            .collect();
        futures_lite::future::block_on(ex.run(async {
            for h in handles {
                h.await;
            }
        }));
    }
    Ok(())
}

/// One task as a coroutine on the loop.
async fn coroutine(ctx: &RunCtx, task: &TaskSpec, probe: Rc<RefCell<Probe>>) {
    if ctx.control.is_cancelled() {
        return;
    }
    probe
        .borrow_mut()
        .record(EventKind::TaskStart { task: task.id });
    let result = match ctx.workload.run_async(task, &ctx.control) {
        Some(fut) => {
            AssertUnwindSafe(Polled {
                fut,
                probe: probe.clone(),
            })
            .catch_unwind()
            .await
        }
        None => {
            // No await point: the loop is blocked for the whole task.
            let mut p = probe.borrow_mut();
            p.state(WorkerState::Running);
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                let mut tctx = TaskCtx::new(&mut p, None, &ctx.control);
                ctx.workload.run(task, &mut tctx)
            }))
        }
    };
    ctx.settle(task, result, &mut probe.borrow_mut(), NAME);
}

/// A future whose polls show on the lane: `running` inside, `io` between.
struct Polled<F> {
    fut: F,
    probe: Rc<RefCell<Probe>>,
}

impl<F: Future + Unpin> Future for Polled<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.probe.borrow_mut().state(WorkerState::Running);
        let out = Pin::new(&mut self.fut).poll(cx);
        if out.is_pending() {
            let mut p = self.probe.borrow_mut();
            p.state(WorkerState::Io);
            p.flush();
        }
        out
    }
}
