//! What the OS says one thread of a program is doing, read from outside at
//! no cost to the program: on a CPU (or ready for one), or blocked in a
//! system call, which one, and on what address.
//!
//! Linux names a blocked thread's call and its arguments in
//! `/proc/PID/task/TID/syscall`: a futex wait inside the GIL's struct is a
//! wait for the GIL ([`super::gil`]); a `select`, `poll` or `epoll` wait is
//! a thread waiting for I/O (asyncio's and `socketserver`'s loops, in
//! whatever selector). Elsewhere every reading is `Unknown` and the probe
//! says what it can from inside.

use super::gil::SPAN;

/// What the OS says one thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OsState {
    /// On a CPU or ready for one.
    OnCpu,
    /// Blocked in system call `nr` whose first argument is `arg` (a futex
    /// wait names the futex); `timed`: its fourth (a futex wait's timeout)
    /// is given.
    Blocked { nr: i64, arg: u64, timed: bool },
    /// Not known (gone, or not readable).
    Unknown,
}

impl OsState {
    /// From `/proc/PID/task/TID/syscall`: `running`, or the call's number
    /// (decimal) and arguments (hex).
    pub fn parse(text: &str) -> Self {
        let mut words = text.split_whitespace();
        match words.next() {
            Some("running") => OsState::OnCpu,
            Some(nr) if nr.starts_with('-') => OsState::OnCpu, // preempted outside a call
            Some(nr) => {
                let mut args = words.map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16));
                match (nr.parse::<i64>(), args.next(), args.nth(2)) {
                    (Ok(nr), Some(Ok(arg)), fourth) => OsState::Blocked {
                        nr,
                        arg,
                        timed: !matches!(fourth, Some(Ok(0))),
                    },
                    _ => OsState::Unknown,
                }
            }
            None => OsState::Unknown,
        }
    }

    /// Blocked on the GIL whose struct starts at `gil`.
    pub fn on_gil(self, gil: u64) -> bool {
        matches!(self, OsState::Blocked { arg, .. } if (gil..gil + SPAN).contains(&arg))
    }

    /// Asleep on a futex other than the GIL's: a lock (a `threading.Lock`,
    /// an `RLock`, a multiprocessing lock), as every CPython waits on one.
    pub fn on_lock(self, gil: Option<u64>) -> bool {
        matches!(self, OsState::Blocked { nr, .. } if FUTEX.contains(&nr))
            && !gil.is_some_and(|g| self.on_gil(g))
    }

    /// Asleep on a futex with no timeout: never the GIL's, which CPython
    /// waits for one switch interval at a time (whatever the version); a
    /// lock or a condition waited on without a timeout.
    pub fn untimed_futex(self) -> bool {
        matches!(self, OsState::Blocked { nr, timed: false, .. } if FUTEX.contains(&nr))
    }

    /// Blocked waiting for I/O on file descriptors: `select`, `poll`,
    /// `epoll` in any of their forms (what every selector and event loop
    /// waits in).
    pub fn polling(self) -> bool {
        matches!(self, OsState::Blocked { nr, .. } if POLLING.contains(&nr))
    }

    /// Waiting outside the program's CPU work: for I/O ([`Self::polling`]),
    /// asleep, or for a child process: what the probe records from inside
    /// where it wraps the call, seen also where it does not (a C extension's).
    pub fn io(self) -> bool {
        self.polling() || matches!(self, OsState::Blocked { nr, .. } if SLEEPING.contains(&nr))
    }
}

/// Sleeps and waits for a child, by number.
#[cfg(target_os = "linux")]
#[allow(clippy::unnecessary_cast)] // c_long is i32 on 32-bit targets
const SLEEPING: &[i64] = &[
    libc::SYS_nanosleep as i64,
    libc::SYS_clock_nanosleep as i64,
    libc::SYS_wait4 as i64,
    libc::SYS_waitid as i64,
];
#[cfg(not(target_os = "linux"))]
const SLEEPING: &[i64] = &[];

/// The futex waits, by number (`futex_waitv`: Linux 5.16).
#[cfg(target_os = "linux")]
#[allow(clippy::unnecessary_cast)] // c_long is i32 on 32-bit targets
const FUTEX: &[i64] = &[libc::SYS_futex as i64, 449];
#[cfg(not(target_os = "linux"))]
const FUTEX: &[i64] = &[];

/// The system calls of the `select` / `poll` / `epoll` family, by number.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
const POLLING: &[i64] = &[
    libc::SYS_select,
    libc::SYS_poll,
    libc::SYS_epoll_wait,
    libc::SYS_pselect6,
    libc::SYS_ppoll,
    libc::SYS_epoll_pwait,
    441, // epoll_pwait2 (Linux 5.11)
];
#[cfg(all(target_os = "linux", not(target_arch = "x86_64")))]
const POLLING: &[i64] = &[
    libc::SYS_pselect6 as i64,
    libc::SYS_ppoll as i64,
    libc::SYS_epoll_pwait as i64,
    441, // epoll_pwait2 (Linux 5.11)
];
#[cfg(not(target_os = "linux"))]
const POLLING: &[i64] = &[];

/// One of a thread's files under `/proc/PID/task/TID/`, kept open: a
/// sample is one read (Linux; elsewhere every read finds nothing).
pub struct TaskFile {
    #[cfg(target_os = "linux")]
    file: Option<std::fs::File>,
}

impl TaskFile {
    /// Open `name` (`syscall`, `schedstat`) of thread `tid` of `pid`.
    pub fn open(pid: u32, tid: u64, name: &str) -> Self {
        #[cfg(target_os = "linux")]
        {
            let path = format!("/proc/{pid}/task/{tid}/{name}");
            Self {
                file: std::fs::File::open(path).ok(),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (pid, tid, name);
            Self {}
        }
    }

    /// Its text now, into `buf`.
    fn read<'b>(&self, buf: &'b mut [u8; 256]) -> Option<&'b str> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::FileExt;
            let n = self.file.as_ref()?.read_at(buf, 0).ok()?;
            std::str::from_utf8(&buf[..n])
                .ok()
                .filter(|t| !t.is_empty())
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = buf;
            None
        }
    }

    /// What the thread is doing now (its `syscall` file).
    pub fn state(&self) -> OsState {
        self.read(&mut [0u8; 256])
            .map_or(OsState::Unknown, OsState::parse)
    }

    /// Whether it is runnable, on a CPU or waiting for one (its `stat` file:
    /// the state follows the command's closing parenthesis; the first 256
    /// bytes hold it, a command being at most 16).
    pub fn runnable(&self) -> Option<bool> {
        let mut buf = [0u8; 256];
        let (_, rest) = self.read(&mut buf)?.rsplit_once(')')?;
        Some(rest.trim_start().starts_with('R'))
    }

    /// Its time on a CPU and waiting for one so far, ns (its `schedstat` file).
    pub fn schedstat(&self) -> Option<(u64, u64)> {
        self.read(&mut [0u8; 256])
            .and_then(crate::runqueue::parse_schedstat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_state_names_the_futex_a_thread_waits_on() {
        assert_eq!(OsState::parse("running\n"), OsState::OnCpu);
        let s = OsState::parse("202 0x7f0a10 0x189 0x0 0x0 0x0 0xffffffff 0x7ffd 0x7f00\n");
        assert_eq!(
            s,
            OsState::Blocked {
                nr: 202,
                arg: 0x7f0a10,
                timed: false
            }
        );
        assert_eq!(s.untimed_futex(), cfg!(target_os = "linux"));
        // A timed wait (a GIL's, an `acquire(timeout=…)`) names its timeout.
        let timed =
            OsState::parse("202 0x7f0a10 0x189 0x0 0x7ffd10 0x0 0xffffffff 0x7ffd 0x7f00\n");
        assert!(!timed.untimed_futex());
        assert!(s.on_gil(0x7f0a00));
        assert!(!s.on_gil(0x7f0b00));
        assert!(!s.polling());
        assert_eq!(OsState::parse("-1 0x7ffd 0x7f00\n"), OsState::OnCpu);
        assert_eq!(OsState::parse(""), OsState::Unknown);
    }

    /// A thread of this process blocked in `poll` is named polling by the
    /// OS, the way a program's event loop waiting in `epoll_wait` is.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_thread_blocked_in_poll_is_polling() {
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            tx.send(unsafe { libc::gettid() } as u64).unwrap();
            unsafe { libc::poll(std::ptr::null_mut(), 0, 300) };
        });
        let tid = rx.recv().unwrap();
        let file = TaskFile::open(std::process::id(), tid, "syscall");
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(250);
        let mut seen = OsState::Unknown;
        while std::time::Instant::now() < deadline && !seen.polling() {
            seen = file.state();
        }
        waiter.join().unwrap();
        assert!(seen.polling(), "{seen:?}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_thread_reading_its_own_stat_is_runnable_and_a_sleeper_is_not() {
        // SAFETY: gettid only returns the calling thread's id.
        let own = unsafe { libc::gettid() } as u64;
        let file = TaskFile::open(std::process::id(), own, "stat");
        assert_eq!(file.runnable(), Some(true));
        let (tx, rx) = std::sync::mpsc::channel();
        let sleeper = std::thread::spawn(move || {
            tx.send(unsafe { libc::gettid() } as u64).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
        });
        let file = TaskFile::open(std::process::id(), rx.recv().unwrap(), "stat");
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(250);
        let mut seen = file.runnable();
        while std::time::Instant::now() < deadline && seen != Some(false) {
            seen = file.runnable();
        }
        sleeper.join().unwrap();
        assert_eq!(seen, Some(false));
    }
}
