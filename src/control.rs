//! A run's one control handle: cancelling, pausing, and the live knobs a
//! strategy offers (the queue's producer rate and consumers). Workers check
//! it at their check points; a cancel cuts every sleep short. A pause holds
//! workers at their next check point; I/O already under way (a sleep, a
//! child process) goes on.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Shared by every thread of a run; cancelling wakes every sleeper at once.
#[derive(Clone, Default)]
pub struct Control(Arc<Inner>);

#[derive(Default)]
struct Inner {
    flag: AtomicBool,
    paused: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
    /// Each knob and its value now (f64 bits; 0: unset, as fast as possible).
    knobs: Vec<(&'static Knob, AtomicU64)>,
}

/// A live control a strategy offers, turned by a key while its run goes.
#[derive(Debug, PartialEq)]
pub struct Knob {
    /// The strategy parameter it starts from and changes.
    pub key: &'static str,
    /// What it is, for the log and the help: `producer rate`.
    pub what: &'static str,
    /// The keys that turn it up and down.
    pub up: char,
    pub down: char,
    /// One turn: multiply (`Times`) or add (`Plus`).
    pub change: Change,
    /// Its bounds once set.
    pub min: f64,
    pub max: f64,
    /// Where a turn starts when it is unset (0).
    pub from_unset: f64,
}

/// How a knob moves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    Times(f64),
    Plus(f64),
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

impl Control {
    /// A fresh, uncancelled handle without knobs.
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle with these knobs at these starting values (0: unset).
    pub fn with_knobs(knobs: impl IntoIterator<Item = (&'static Knob, f64)>) -> Self {
        Self(Arc::new(Inner {
            knobs: knobs
                .into_iter()
                .map(|(k, v)| (k, AtomicU64::new(v.to_bits())))
                .collect(),
            ..Inner::default()
        }))
    }

    /// A knob's value now; `None` when unset (or no such knob).
    pub fn knob(&self, key: &str) -> Option<f64> {
        let (_, v) = self.0.knobs.iter().find(|(k, _)| k.key == key)?;
        let v = f64::from_bits(v.load(Ordering::Relaxed));
        (v > 0.0).then_some(v)
    }

    /// The knobs this run offers.
    pub fn knobs(&self) -> impl Iterator<Item = &'static Knob> + '_ {
        self.0.knobs.iter().map(|(k, _)| *k)
    }

    /// Turn the knob bound to `key` one step; what it is now, for the log.
    pub fn turn(&self, key: char) -> Option<String> {
        let (knob, v) = self
            .0
            .knobs
            .iter()
            .find(|(k, _)| k.up == key || k.down == key)?;
        let now = f64::from_bits(v.load(Ordering::Relaxed));
        let now = if now > 0.0 { now } else { knob.from_unset };
        let up = knob.up == key;
        let next = match (knob.change, up) {
            (Change::Times(f), true) => now * f,
            (Change::Times(f), false) => now / f,
            (Change::Plus(d), true) => now + d,
            (Change::Plus(d), false) => now - d,
        }
        .clamp(knob.min, knob.max);
        v.store(next.to_bits(), Ordering::Relaxed);
        let shown = if next.fract() == 0.0 {
            format!("{next:.0}")
        } else {
            format!("{next:.1}")
        };
        Some(format!("{} set to {shown}", knob.what))
    }

    /// Control the run and wake every sleeper.
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
        let c = Control::new();
        let c2 = c.clone();
        let t = std::thread::spawn(move || c2.sleep(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(20));
        c.cancel();
        assert_eq!(t.join().unwrap(), Err(Cancelled));
    }

    #[test]
    fn a_pause_holds_until_resumed_or_cancelled() {
        let c = Control::new();
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
    fn knobs_turn_within_their_bounds() {
        static RATE: Knob = Knob {
            key: "rate",
            what: "rate",
            up: ']',
            down: '[',
            change: Change::Times(2.0),
            min: 0.5,
            max: 8.0,
            from_unset: 2.0,
        };
        let c = Control::with_knobs([(&RATE, 0.0)]);
        assert_eq!(c.knob("rate"), None);
        assert_eq!(c.turn(']').as_deref(), Some("rate set to 4"));
        c.turn(']');
        c.turn(']');
        assert_eq!(c.knob("rate"), Some(8.0));
        assert_eq!(c.turn('x'), None);
    }

    #[test]
    fn an_uncancelled_sleep_completes() {
        assert_eq!(Control::new().sleep(Duration::from_millis(1)), Ok(()));
    }
}
