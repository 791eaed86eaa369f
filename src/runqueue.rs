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

    /// A counter that grows by the time this thread waited for a core:
    /// compare two readings taken while it computed. `wall_ns` is now on
    /// any clock that counts nanoseconds (used where the OS keeps no account).
    pub fn waited_ns(&mut self, wall_ns: u64) -> u64 {
        #[cfg(target_os = "linux")]
        if let Some(f) = &self.file {
            use std::os::unix::fs::FileExt;
            let mut buf = [0u8; 96];
            if let Ok(n) = f.read_at(&mut buf, 0) {
                if let Some((_, wait)) = std::str::from_utf8(&buf[..n])
                    .ok()
                    .and_then(parse_schedstat)
                {
                    return wait;
                }
            }
        }
        wall_ns.saturating_sub(crate::clock::thread_cpu_ns())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_gives_cpu_then_wait() {
        assert_eq!(
            parse_schedstat("605683989 140953468 1341\n"),
            Some((605683989, 140953468))
        );
        assert_eq!(parse_schedstat("oops"), None);
        assert_eq!(parse_schedstat(""), None);
    }

    /// Three spinning threads on fewer cores wait for one; a lone thread
    /// on an idle machine hardly does (the wait is not made up).
    #[test]
    fn threads_that_outnumber_the_cores_wait_for_one() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let spin = |ms: u64| {
            let mut me = OwnThread::open();
            let t0 = std::time::Instant::now();
            let w0 = me.waited_ns(crate::clock::monotonic_ns());
            let mut x = 0u64;
            while t0.elapsed() < std::time::Duration::from_millis(ms) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            std::hint::black_box(x);
            me.waited_ns(crate::clock::monotonic_ns()) - w0
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
