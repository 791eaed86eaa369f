//! When a sampler reads next: the GIL's reader and the stack reader share it.
//!
//! A fixed period aliases with a program's own periods (the interpreter's
//! 5 ms switch interval, a loop that alternates two functions every few
//! milliseconds): samples that always land at the same phase give one
//! function the other's time. Each period is drawn uniformly in ±25 % of
//! the mean, so the samples fall at every phase and the shares stay true.

use crate::workload::SplitMix64;
use std::time::{Duration, Instant};

/// The slowest a reader under a budget may be set to: a sample every 10 s.
pub const MIN_HZ: f64 = 0.1;

/// When to read next: `hz` with ±25 % jitter, so the samples never
/// lock step with the interpreter's own 5 ms switch interval. When the
/// program keeps every core busy, wake-ups come late; while the samples
/// taken fall short of the rate asked for, the period shortens by a quarter.
pub struct Pace {
    hz: f64,
    period: Duration,
    /// When the next sample is due.
    pub next: Instant,
    rng: SplitMix64,
    /// Samples taken, and when the first and the last were.
    taken: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Pace {
    /// A pace of `hz` samples a second; none when `hz` is 0.
    pub fn new(hz: u32) -> Option<Self> {
        (hz > 0).then(|| Self {
            hz: hz as f64,
            period: Duration::from_secs_f64(1.0 / hz as f64),
            next: Instant::now(),
            rng: SplitMix64::new(seed()),
            taken: 0,
            first: None,
            last: None,
        })
    }

    /// Sample at `hz` from now on (a reader under a budget); the rate owed
    /// is counted afresh.
    pub fn set_hz(&mut self, hz: f64) {
        self.hz = hz.max(MIN_HZ);
        self.period = Duration::from_secs_f64(1.0 / self.hz);
        self.next = self.next.min(Instant::now() + self.period);
        self.first = None;
        self.taken = 0;
    }

    /// Whether a sample is due at `now`; if so, the next one is drawn.
    pub fn due(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        let first = *self.first.get_or_insert(now);
        self.taken += 1;
        let owed = self.hz * 1.01 * now.duration_since(first).as_secs_f64();
        let scale = if (self.taken as f64) < owed {
            0.75
        } else {
            1.0
        };
        let unit = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let step = self.period.mul_f64(scale * (0.75 + unit * 0.5));
        self.next = (self.next + step).max(now);
        self.last = Some(now);
        true
    }

    /// The rate achieved, samples a second.
    pub fn rate(&self) -> Option<f64> {
        let s = self.last?.duration_since(self.first?).as_secs_f64();
        (self.taken > 1 && s > 0.0).then(|| (self.taken - 1) as f64 / s)
    }
}

/// A seed of its own for each pace, so two samplers never draw the same jitter.
fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (std::process::id() as u64) << 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_vary_around_the_mean_and_keep_the_rate() {
        let mut p = Pace::new(500).unwrap();
        let start = p.next;
        let mut gaps = Vec::new();
        let mut at = start;
        for _ in 0..2000 {
            assert!(p.due(at));
            gaps.push(p.next - at);
            at = p.next;
        }
        let mean = 0.002;
        let (lo, hi) = (mean * 0.75 * 0.75, mean * 1.25);
        assert!(gaps.iter().all(|g| (lo..=hi).contains(&g.as_secs_f64())));
        let distinct: std::collections::HashSet<_> = gaps.iter().collect();
        assert!(distinct.len() > 1000, "a fixed period aliases");
        let rate = p.rate().unwrap();
        assert!((495.0..=510.0).contains(&rate), "{rate}");
    }
}
