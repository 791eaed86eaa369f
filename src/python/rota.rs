//! Which threads' OS state to read at a GIL reading: a budget of reads,
//! whatever the number of threads, shared round-robin, with the threads
//! that just changed (the GIL's last and new holder) read first.
//!
//! Reading one thread's `/proc` file costs a system call; reading every
//! thread at every GIL reading (1 kHz) cost 7 % of a core at 8 threads and
//! 15 % at 64. With a budget, each thread is read less often as threads
//! grow; its time in each state stays right in aggregate (the readings are
//! spread evenly over the threads and over time), and the rate achieved is
//! reported (`gil.thread_read_hz`). The budget is a share of a core, each
//! turn's reads timed (the same reads cost 10 µs on one day of a VM and
//! five times that on another), up to [`READS_PER_S`].

use super::pace::Share;

/// Reads a second at most, all threads together. Two CPU-bound threads are
/// read about a thousand times a second each where reads are cheap.
pub const READS_PER_S: f64 = 1000.0;

/// The share of one core the reads may take (measured: each turn's CPU).
pub const CORE_SHARE: f64 = 0.02;

/// Below this per-thread rate the Summary says how often threads were read.
pub const SAY_BELOW_HZ: f64 = 100.0;

/// The Summary's words on the rate each thread's OS state was read, where
/// it fell below [`SAY_BELOW_HZ`].
pub fn rate_words(thread_hz: f64) -> Option<String> {
    (thread_hz < SAY_BELOW_HZ).then(|| {
        format!(
            "each thread's OS state read {thread_hz:.0} times a second (at most {READS_PER_S:.0} reads a second, within {:.0} % of a core, shared by all)",
            CORE_SHARE * 100.0
        )
    })
}

/// Unused reads carried over at most: a reading that came late (a busy
/// machine) catches up a little, never in a burst.
const MAX_CREDIT_S: f64 = 0.005;

/// The rota: whose turn it is, and the reads left to spend.
pub struct Rota<K> {
    per_s: f64,
    share: Share,
    credit: f64,
    last_ns: Option<u64>,
    cursor: usize,
    first: Vec<K>,
    /// Threads visited, and the thread-time they were visited over (ns).
    visits: u64,
    thread_ns: f64,
}

impl<K: Copy + PartialEq> Rota<K> {
    /// A rota spending up to `per_s` reads a second, within `share` of a core.
    pub fn new(per_s: f64, share: f64) -> Self {
        Self {
            per_s,
            share: Share::new(share, per_s),
            credit: 0.0,
            last_ns: None,
            cursor: 0,
            first: Vec::new(),
            visits: 0,
            thread_ns: 0.0,
        }
    }

    /// Read `key` at the next turn, before the round-robin (it just changed).
    pub fn soon(&mut self, key: K) {
        if !self.first.contains(&key) {
            self.first.push(key);
        }
    }

    /// The threads to read now (`now_ns` on any clock), chosen from
    /// `roster` (the live threads, in a stable order) among those `eligible`:
    /// those that just changed first, then the next in turn, as many as the
    /// budget allows. Report what reading them cost with [`Self::spent`].
    pub fn turn(&mut self, now_ns: u64, roster: &[K], eligible: impl Fn(&K) -> bool) -> Vec<K> {
        let dt = self.last_ns.map_or(0, |l| now_ns.saturating_sub(l)) as f64 / 1e9;
        self.last_ns = Some(now_ns);
        let live = roster.iter().filter(|k| eligible(k)).count();
        self.thread_ns += live as f64 * dt * 1e9;
        // At least one read's credit builds up, however few a second.
        let most = (self.per_s * MAX_CREDIT_S).max(1.0);
        self.credit = (self.credit + self.per_s * dt).min(most);
        let want = (self.credit.max(0.0) as usize).min(live);
        // The just-changed first, within the budget too: the rest wait for
        // the next turn (unbudgeted, they would starve everyone else).
        let (mut chosen, mut later) = (Vec::new(), Vec::new());
        for k in std::mem::take(&mut self.first) {
            if !(roster.contains(&k) && eligible(&k)) {
                continue;
            }
            if chosen.len() < want {
                chosen.push(k);
            } else {
                later.push(k);
            }
        }
        self.first = later;
        let mut looked = 0;
        while chosen.len() < want && looked < roster.len() {
            let k = roster[self.cursor % roster.len()];
            self.cursor = (self.cursor + 1) % roster.len();
            looked += 1;
            if eligible(&k) && !chosen.contains(&k) {
                chosen.push(k);
            }
        }
        self.visits += chosen.len() as u64;
        chosen
    }

    /// `reads` system calls were spent on the threads of the last turn,
    /// taking `cpu_ns` of the reading thread's CPU.
    pub fn spent(&mut self, reads: u32, cpu_ns: u64) {
        self.credit -= reads as f64;
        if let Some(rate) = self.share.after(cpu_ns, reads) {
            self.per_s = rate;
        }
    }

    /// The share of a core the reads keep to, and the lowest reads a
    /// second it allowed (none: never below the most).
    pub fn share(&self) -> (f64, Option<f64>) {
        (self.share.share(), self.share.slowed_to())
    }

    /// Each thread's OS state was read this many times a second, on average
    /// over the threads' lives; none before a second turn.
    pub fn thread_hz(&self) -> Option<f64> {
        (self.thread_ns > 0.0).then(|| self.visits as f64 / (self.thread_ns / 1e9))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rota driven for a second at 1 kHz over `threads`, each visit one
    /// read costing `read_ns` of CPU.
    fn second(threads: u32, read_ns: u64) -> (Rota<u32>, Vec<u64>) {
        let roster: Vec<u32> = (0..threads).collect();
        let mut rota = Rota::new(READS_PER_S, CORE_SHARE);
        let mut seen = vec![0u64; threads as usize];
        for ms in 0..=1000u64 {
            let chosen = rota.turn(ms * 1_000_000, &roster, |_| true);
            for &k in &chosen {
                seen[k as usize] += 1;
            }
            rota.spent(chosen.len() as u32, chosen.len() as u64 * read_ns);
        }
        (rota, seen)
    }

    /// Reads of 50 µs (a slow day): the share, 2 % of a core, allows 400
    /// a second, whatever the threads; shared evenly still.
    #[test]
    fn dear_reads_are_kept_to_the_share_of_a_core() {
        for threads in [2, 8, 64] {
            let (rota, seen) = second(threads, 50_000);
            let reads: u64 = seen.iter().sum();
            assert!(
                (385..=415).contains(&reads),
                "{threads} threads: {reads} reads"
            );
            let (lo, hi) = (seen.iter().min().unwrap(), seen.iter().max().unwrap());
            assert!(hi - lo <= 1, "{threads} threads: {lo}..{hi}");
            let slowed = rota.share().1.expect("slowed");
            assert!((slowed - 400.0).abs() < 1.0, "{slowed}");
        }
    }

    #[test]
    fn reads_stay_within_the_budget_whatever_the_threads() {
        for threads in [2, 8, 64, 256] {
            // Reads of 10 µs: the share allows more than the most.
            let (rota, seen) = second(threads, 10_000);
            assert_eq!(rota.share().1, None);
            let reads: u64 = seen.iter().sum();
            assert!(
                reads as f64 <= READS_PER_S * 1.01,
                "{threads} threads: {reads} reads"
            );
            // Shared evenly: no thread read twice as often as another.
            let (lo, hi) = (seen.iter().min().unwrap(), seen.iter().max().unwrap());
            assert!(hi - lo <= 1, "{threads} threads: {lo}..{hi}");
            let hz = rota.thread_hz().unwrap();
            let want = (READS_PER_S / threads as f64).min(1000.0);
            assert!((hz - want).abs() / want < 0.05, "{threads}: {hz} Hz");
        }
    }

    #[test]
    fn a_thread_that_just_changed_is_read_first() {
        let roster = [1u32, 2, 3, 4];
        let mut rota = Rota::new(READS_PER_S, CORE_SHARE);
        rota.turn(0, &roster, |_| true);
        rota.soon(4);
        let chosen = rota.turn(1_000_000, &roster, |_| true);
        assert_eq!(chosen.first(), Some(&4));
        // Ended threads and threads not eligible are never chosen.
        rota.soon(9);
        let chosen = rota.turn(2_000_000, &roster, |k| *k != 1);
        assert!(!chosen.contains(&9) && !chosen.contains(&1), "{chosen:?}");
    }
}
