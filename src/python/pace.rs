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

/// A reader kept to a share of one core whatever its work costs: the CPU
/// its units of work take (a round of stacks, one thread's OS read) is
/// measured, and the rate of units the share allows follows it. A dearer
/// unit counts at once (threads were started, the machine's reads grew
/// slow); a cheaper one eases the cost down over a few (one can be cheap
/// by chance). The rate is set anew when it moves by more than a tenth.
pub struct Share {
    share: f64,
    most: f64,
    /// A unit's CPU, ns: the dearest lately, eased down.
    unit_ns: Option<f64>,
    rate: f64,
    /// The lowest rate it allowed below `most` (none: never below it).
    slowed_to: Option<f64>,
}

impl Share {
    /// `share` of a core, at up to `most` units a second.
    pub fn new(share: f64, most: f64) -> Self {
        Self {
            share,
            most,
            unit_ns: None,
            rate: most,
            slowed_to: None,
        }
    }

    /// The share of a core kept to.
    pub fn share(&self) -> f64 {
        self.share
    }

    /// The lowest rate it allowed below the most (none: never below it).
    pub fn slowed_to(&self) -> Option<f64> {
        self.slowed_to
    }

    /// The rate to keep from now on, units a second, if it changes, after
    /// `units` took `spent_ns` of CPU (never below [`MIN_HZ`]).
    pub fn after(&mut self, spent_ns: u64, units: u32) -> Option<f64> {
        if units == 0 {
            return None;
        }
        let spent = spent_ns as f64 / units as f64;
        let cost = match self.unit_ns {
            Some(c) if spent < c => c + 0.2 * (spent - c),
            _ => spent,
        };
        self.unit_ns = Some(cost);
        let allowed = (self.share * 1e9 / cost.max(1.0)).clamp(MIN_HZ, self.most);
        ((allowed - self.rate).abs() * 10.0 > self.rate).then(|| {
            self.rate = allowed;
            if allowed < self.most {
                self.slowed_to = Some(self.slowed_to.map_or(allowed, |s| s.min(allowed)));
            }
            allowed
        })
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

    #[test]
    fn a_share_keeps_the_readers_cpu_whatever_a_unit_costs() {
        let mut b = Share::new(0.03, 100.0);
        // Units of 0.1 ms fit 3 % of a core at the full 100 a second.
        assert_eq!(b.after(100_000, 1), None);
        // Units of 1 ms (threads were started): 30 a second, at once.
        let rate = b.after(2_000_000, 2).expect("slowed");
        assert!((rate - 30.0).abs() < 1e-9, "{rate}");
        // One cheap unit eases it back only a little: no change yet.
        assert_eq!(b.after(800_000, 1), None);
        // Cheap units for long: back to within a tenth of the most (it
        // moves in steps of a tenth), never above it.
        let last = (0..40).filter_map(|_| b.after(100_000, 1)).last();
        assert!(
            last.is_some_and(|r| (90.0..=100.0).contains(&r)),
            "{last:?}"
        );
        // A unit of 10 s: the slowest rate, never none; no units, no news.
        assert_eq!(b.after(10_000_000_000, 1), Some(MIN_HZ));
        assert_eq!(b.after(5, 0), None);
        // The lowest it allowed is kept, whatever came after.
        assert_eq!(b.slowed_to(), Some(MIN_HZ));
    }
}
