//! Which threads' OS state to read at a GIL reading: a budget of reads a
//! second, whatever the number of threads, shared round-robin, with the
//! threads that just changed (the GIL's last and new holder) read first.
//!
//! Reading one thread's `/proc` file costs a system call; reading every
//! thread at every GIL reading (1 kHz) cost 7 % of a core at 8 threads and
//! 15 % at 64. With a budget, each thread is read less often as threads
//! grow; its time in each state stays right in aggregate (the readings are
//! spread evenly over the threads and over time), and the rate achieved is
//! reported (`gil.thread_read_hz`).

/// Reads a second, all threads together. Two CPU-bound threads are still
/// read about a thousand times a second each, as before the budget.
pub const READS_PER_S: f64 = 1000.0;

/// Below this per-thread rate the Summary says how often threads were read.
pub const SAY_BELOW_HZ: f64 = 100.0;

/// The Summary's words on the rate each thread's OS state was read, where
/// it fell below [`SAY_BELOW_HZ`].
pub fn rate_words(thread_hz: f64) -> Option<String> {
    (thread_hz < SAY_BELOW_HZ).then(|| {
        format!(
            "each thread's OS state read {thread_hz:.0} times a second (a budget of {READS_PER_S:.0} reads a second shared by all)"
        )
    })
}

/// Unused reads carried over at most: a reading that came late (a busy
/// machine) catches up a little, never in a burst.
const MAX_CREDIT_S: f64 = 0.005;

/// The rota: whose turn it is, and the reads left to spend.
pub struct Rota<K> {
    per_s: f64,
    credit: f64,
    last_ns: Option<u64>,
    cursor: usize,
    first: Vec<K>,
    /// Threads visited, and the thread-time they were visited over (ns).
    visits: u64,
    thread_ns: f64,
}

impl<K: Copy + PartialEq> Rota<K> {
    /// A rota spending `per_s` reads a second.
    pub fn new(per_s: f64) -> Self {
        Self {
            per_s,
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
        self.credit = (self.credit + self.per_s * dt).min(self.per_s * MAX_CREDIT_S);
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

    /// `reads` system calls were spent on the threads of the last turn.
    pub fn spent(&mut self, reads: u32) {
        self.credit -= reads as f64;
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

    /// A rota driven for a second at 1 kHz over `threads`, each visit one read.
    fn second(threads: u32) -> (Rota<u32>, Vec<u64>) {
        let roster: Vec<u32> = (0..threads).collect();
        let mut rota = Rota::new(READS_PER_S);
        let mut seen = vec![0u64; threads as usize];
        for ms in 0..=1000u64 {
            let chosen = rota.turn(ms * 1_000_000, &roster, |_| true);
            for &k in &chosen {
                seen[k as usize] += 1;
            }
            rota.spent(chosen.len() as u32);
        }
        (rota, seen)
    }

    #[test]
    fn reads_stay_within_the_budget_whatever_the_threads() {
        for threads in [2, 8, 64, 256] {
            let (rota, seen) = second(threads);
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
        let mut rota = Rota::new(READS_PER_S);
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
