//! The simulated GIL, modelled on CPython's since 3.2 (Python/ceval_gil.c).
//!
//! - CPU work runs only while holding it ([`Gil::take`]).
//! - A blocking wait (sleep, subprocess, pipe, lock) releases it ([`Gil::release`]).
//! - A thread that has waited a whole switch interval without any hand-off
//!   sets the "drop request" (CPython's `gil_drop_request`).
//! - The holder checks the request at its next check point ([`Gil::check`],
//!   CPython's eval-loop breaker), drops the GIL, and then waits until another
//!   thread has taken it before it asks again (CPython's FORCE_SWITCHING).
//!
//! Each process has its own `Gil`, as each CPython process has its own interpreter.

use crate::event::{EventKind, LaneId, Probe, WorkerState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// One interpreter's global lock.
pub struct Gil {
    inner: Mutex<Inner>,
    /// Signalled when the GIL is released (CPython's `gil->cond`).
    released: Condvar,
    /// Signalled when a thread takes the GIL (CPython's `gil->switch_cond`).
    switched: Condvar,
    drop_request: AtomicBool,
    interval: Duration,
    switches: AtomicU64,
}

struct Inner {
    locked: bool,
    last_holder: Option<LaneId>,
    /// Counts hand-offs; a waiter only asks for a drop if none happened while it waited.
    switch_number: u64,
}

impl Gil {
    /// A free GIL with CPython's `sys.setswitchinterval` equivalent.
    pub fn new(switch_interval: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                locked: false,
                last_holder: None,
                switch_number: 0,
            }),
            released: Condvar::new(),
            switched: Condvar::new(),
            drop_request: AtomicBool::new(false),
            interval: switch_interval.max(Duration::from_micros(1)),
            switches: AtomicU64::new(0),
        }
    }

    /// Hand-offs from one thread to another so far.
    pub fn switches(&self) -> u64 {
        self.switches.load(Ordering::Relaxed)
    }

    /// The switch interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take the GIL, waiting (state `gil_wait`) while another thread holds it.
    pub fn take(&self, probe: &mut Probe) {
        let me = probe.lane();
        let mut g = self.lock();
        if g.locked {
            probe.state(WorkerState::GilWait);
            probe.flush();
        }
        while g.locked {
            let seen = g.switch_number;
            let (guard, wait) = self
                .released
                .wait_timeout(g, self.interval)
                .unwrap_or_else(|e| e.into_inner());
            g = guard;
            if wait.timed_out() && g.locked && g.switch_number == seen {
                self.drop_request.store(true, Ordering::Release);
                probe.record(EventKind::GilDropRequest);
            }
        }
        g.locked = true;
        if g.last_holder != Some(me) {
            g.last_holder = Some(me);
            g.switch_number += 1;
            self.switches.fetch_add(1, Ordering::Relaxed);
            probe.record(EventKind::GilSwitch);
        }
        // The request, if any, is answered: the GIL changed hands.
        self.drop_request.store(false, Ordering::Release);
        self.switched.notify_all();
        drop(g);
        probe.state(WorkerState::Running);
    }

    /// Release the GIL before a blocking wait.
    pub fn release(&self) {
        let mut g = self.lock();
        g.locked = false;
        self.released.notify_one();
    }

    /// The holder's periodic check (CPython's eval breaker): if another thread
    /// asked, drop the GIL, wait until someone else has taken it, then queue
    /// for it again.
    #[inline]
    pub fn check(&self, probe: &mut Probe) {
        if self.drop_request.load(Ordering::Acquire) {
            self.yield_to_waiter(probe);
        }
    }

    #[cold]
    fn yield_to_waiter(&self, probe: &mut Probe) {
        let me = probe.lane();
        // Stamped before the release, so no two lanes ever overlap in `running`.
        probe.state(WorkerState::GilWait);
        probe.flush();
        let mut g = self.lock();
        g.locked = false;
        self.released.notify_one();
        // Forced switching: do not race the waiter for the GIL just dropped.
        while g.last_holder == Some(me) && self.drop_request.load(Ordering::Acquire) {
            let (guard, wait) = self
                .switched
                .wait_timeout(g, self.interval)
                .unwrap_or_else(|e| e.into_inner());
            g = guard;
            if wait.timed_out() && !g.locked {
                break; // the asker went away: nobody to hand over to
            }
        }
        drop(g);
        self.take(probe);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::event::{Batch, ChannelSink};
    use std::sync::Arc;

    #[test]
    fn an_uncontended_gil_never_waits() {
        let (tx, mut rx) = crate::inbox::channel::<Batch>();
        let sink = Arc::new(ChannelSink::new(tx, Default::default()));
        let mut probe = Probe::new(0, Clock::start(), sink, true);
        let gil = Gil::new(Duration::from_millis(5));
        for _ in 0..3 {
            gil.take(&mut probe);
            gil.check(&mut probe);
            gil.release();
        }
        drop(probe);
        let events: Vec<_> = rx.try_recv_all().into_iter().flatten().collect();
        assert!(!events
            .iter()
            .any(|e| e.kind == EventKind::State(WorkerState::GilWait)));
        assert_eq!(
            gil.switches(),
            1,
            "one holder, one hand-off: the first take"
        );
    }
}
