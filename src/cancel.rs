//! Cancellation and pausing of a run: flags every worker checks at its check
//! points, and sleeps a cancel cuts short. A pause holds workers at their
//! next check point; I/O already under way (a sleep, a child process) goes on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Shared by every thread of a run; cancelling wakes every sleeper at once.
#[derive(Clone, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Default)]
struct Inner {
    flag: AtomicBool,
    paused: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

/// The error a task returns when its run was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

impl Cancel {
    /// A fresh, uncancelled token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancel the run and wake every sleeper.
    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        let _guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.0.wake.notify_all();
    }

    /// Pause or resume the run.
    pub fn set_paused(&self, paused: bool) {
        self.0.paused.store(paused, Ordering::SeqCst);
        let _guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.0.wake.notify_all();
    }

    /// Whether the run is paused.
    #[inline]
    pub fn is_paused(&self) -> bool {
        self.0.paused.load(Ordering::Relaxed)
    }

    /// Block while paused (a cancel ends the wait).
    pub fn wait_while_paused(&self) {
        let mut guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        while self.is_paused() && !self.is_cancelled() {
            guard = self.0.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Whether the run was cancelled.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::Relaxed)
    }

    /// Sleep for `d` unless cancelled first; `Err(Cancelled)` if cancelled.
    pub fn sleep(&self, d: Duration) -> Result<(), Cancelled> {
        let deadline = Instant::now() + d;
        let mut guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.is_cancelled() {
                return Err(Cancelled);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            guard = self
                .0
                .wake
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// `Err(Cancelled)` if cancelled.
    #[inline]
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_cuts_a_sleep_short() {
        let c = Cancel::new();
        let c2 = c.clone();
        let t = std::thread::spawn(move || c2.sleep(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(20));
        c.cancel();
        assert_eq!(t.join().unwrap(), Err(Cancelled));
    }

    #[test]
    fn a_pause_holds_until_resumed_or_cancelled() {
        let c = Cancel::new();
        c.set_paused(true);
        let c2 = c.clone();
        let t = std::thread::spawn(move || c2.wait_while_paused());
        std::thread::sleep(Duration::from_millis(20));
        assert!(!t.is_finished());
        c.set_paused(false);
        t.join().unwrap();
        c.set_paused(true);
        let c3 = c.clone();
        let t = std::thread::spawn(move || c3.wait_while_paused());
        c.cancel();
        t.join().unwrap();
    }

    #[test]
    fn an_uncancelled_sleep_completes() {
        assert_eq!(Cancel::new().sleep(Duration::from_millis(1)), Ok(()));
    }
}
