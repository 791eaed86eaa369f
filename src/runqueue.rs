//! Ready, waiting for a core: the time a thread that could compute spent on
//! the OS's run queue instead (more runnable threads than cores, or a busy
//! neighbour). Measured, never guessed: Linux keeps it per thread in
//! `/proc/PID/task/TID/schedstat` (time on a CPU, time waiting on a run
//! queue, in ns); elsewhere a thread that is computing and not on a CPU is
//! waiting for one, so its wall time less its CPU clock is that wait.

/// `schedstat`'s first two fields: time on a CPU and time waiting on a run
/// queue, in nanoseconds.
pub fn parse_schedstat(text: &str) -> Option<(u64, u64)> {
    let mut f = text.split_whitespace().map(|w| w.parse::<u64>().ok());
    Some((f.next()??, f.next()??))
}

/// Waits shorter than this within one check are clock noise, not a wait.
pub const NOISE_NS: u64 = 20_000;

/// The calling thread's own account, read by the thread itself (a worker's
/// probe, while it computes). Open it on the thread it measures.
pub struct OwnThread {
    #[cfg(target_os = "linux")]
    file: Option<std::fs::File>,
}

impl OwnThread {
    /// The calling thread's account.
    pub fn open() -> Self {
        Self {
            #[cfg(target_os = "linux")]
            file: std::fs::File::open("/proc/thread-self/schedstat").ok(),
        }
    }

    /// Whether the OS counts this thread's run-queue time (Linux), so a
    /// wait for a core is seen whatever the thread was doing; elsewhere it is
    /// seen only while the thread computes.
    pub fn precise(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.file.is_some();
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// Two counters, in ns: this thread's time on a CPU and its time
    /// waiting for one. Compare two readings: what the wall clock adds
    /// beyond both, the thread spent blocked in the OS (asleep in the
    /// kernel: a page fault, the memory map's lock). `wall_ns` is now on any
    /// clock that counts nanoseconds (used where the OS keeps no account:
    /// there all time off the CPU counts as a wait).
    pub fn account(&mut self, wall_ns: u64) -> Account {
        // The CPU clock, not schedstat's first field: the OS brings that up
        // to date only at its ticks, milliseconds stale for a running thread.
        let cpu = crate::clock::thread_cpu_ns();
        #[cfg(target_os = "linux")]
        if let Some(f) = &self.file {
            use std::os::unix::fs::FileExt;
            let mut buf = [0u8; 96];
            if let Ok(n) = f.read_at(&mut buf, 0) {
                if let Some((_, wait)) = std::str::from_utf8(&buf[..n])
                    .ok()
                    .and_then(parse_schedstat)
                {
                    return Account { cpu, wait };
                }
            }
        }
        Account {
            cpu,
            wait: wall_ns.saturating_sub(cpu),
        }
    }
}

/// Make room in the process's table of open files for `threads` more, before
/// starting that many workers that each open their account. Otherwise the
/// table grows while they start (64, 128, ... 2048 slots), each time by
/// whichever worker opened one file too many: every thread that opens a file
/// meanwhile (the UI reading `/proc`) sleeps until that worker, lowered below
/// the UI and one of 1024, gets a core again. Seconds, on two cores. The
/// table never shrinks, so one duplicate to a high slot, closed at once,
/// grows it here, on the starting thread. Capped by the open-files limit.
pub fn reserve_files(threads: u32) {
    #[cfg(unix)]
    // SAFETY: plain descriptor calls; the slot is closed before anyone can use it.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        let probe = libc::dup(2);
        if probe < 0 {
            return;
        }
        let want = (probe as u64 + u64::from(threads) + 64).min(limit.rlim_cur.saturating_sub(1));
        if want > probe as u64 {
            // F_DUPFD takes the lowest free slot from `want` up: it never
            // closes a file the process has open there, as dup2 would.
            let slot = libc::fcntl(probe, libc::F_DUPFD, want as libc::c_int);
            if slot >= 0 {
                libc::close(slot);
            }
        }
        libc::close(probe);
    }
    #[cfg(not(unix))]
    let _ = threads;
}

/// A thread's counters at one reading (see [`OwnThread::account`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Time on a CPU so far, ns.
    pub cpu: u64,
    /// Time waiting for a CPU so far, ns.
    pub wait: u64,
}

impl Account {
    /// Over `elapsed` ns since `before`: (time waiting for a core, time
    /// blocked in the OS).
    pub fn since(self, before: Account, elapsed: u64) -> (u64, u64) {
        let cpu = self.cpu.saturating_sub(before.cpu);
        let wait = self.wait.saturating_sub(before.wait);
        (wait, elapsed.saturating_sub(cpu + wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn reserving_files_closes_none_the_process_has_open() {
        // SAFETY: descriptors of this test's own, closed at its end.
        unsafe {
            let probe = libc::dup(2);
            // Open files at every slot reserve_files might aim at.
            let high: Vec<i32> = (0..200)
                .map(|k| libc::fcntl(probe, libc::F_DUPFD, probe + 60 + k))
                .collect();
            reserve_files(100);
            for fd in high.iter().copied().filter(|&fd| fd >= 0) {
                assert_ne!(libc::fcntl(fd, libc::F_GETFD), -1, "fd {fd} was closed");
                libc::close(fd);
            }
            libc::close(probe);
        }
    }

    #[test]
    fn schedstat_gives_cpu_then_wait() {
        assert_eq!(
            parse_schedstat("605683989 140953468 1341\n"),
            Some((605683989, 140953468))
        );
        assert_eq!(parse_schedstat("oops"), None);
        assert_eq!(parse_schedstat(""), None);
    }

    #[test]
    fn time_off_the_cpu_is_a_wait_or_blocked() {
        let before = Account { cpu: 10, wait: 5 };
        let after = Account { cpu: 40, wait: 25 };
        assert_eq!(after.since(before, 100), (20, 50));
        // Clock skew never makes a negative block.
        assert_eq!(after.since(before, 30), (20, 0));
    }

    /// Three spinning threads on fewer cores wait for one; a lone thread
    /// on an idle machine hardly does (the wait is not made up).
    #[test]
    fn threads_that_outnumber_the_cores_wait_for_one() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let spin = |ms: u64| {
            let mut me = OwnThread::open();
            let t0 = std::time::Instant::now();
            let w0 = me.account(crate::clock::monotonic_ns()).wait;
            let mut x = 0u64;
            while t0.elapsed() < std::time::Duration::from_millis(ms) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            std::hint::black_box(x);
            me.account(crate::clock::monotonic_ns()).wait - w0
        };
        let threads: Vec<_> = (0..cores * 3)
            .map(|_| std::thread::spawn(move || spin(300)))
            .collect();
        let waited: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        // 3 threads a core for 300 ms: about 2/3 of 900 ms a core waited.
        assert!(
            waited as f64 >= 0.3 * (cores as f64 * 3.0 * 300e6),
            "waited {waited} ns in all"
        );
    }
}
