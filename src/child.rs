//! Child processes parlab starts (shell tasks, Python programs): each leads
//! its own process group, so stopping it stops everything it started, and on
//! Linux it is told to die if parlab does. A program's group also has a
//! [`Watch`]: the program's own children (multiprocessing's) are not
//! parlab's, so nothing tells them parlab died; the watch does.

use std::process::{Child, Command, Stdio};

/// Start `cmd` as the leader of a process group of its own; on Linux it gets
/// `signal` when the thread that started it (or parlab) dies unannounced.
pub fn in_own_group(cmd: &mut Command, signal: i32) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; it only sets this child's death signal.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(cmd, move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, signal);
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = signal;
}

/// Send `signal` to the child's whole process group (Unix); elsewhere kill the child.
pub fn signal_group(child: &Child, signal: i32) {
    #[cfg(unix)]
    // SAFETY: kill(2) with a negative pid signals the group the child leads.
    unsafe {
        libc::kill(-(child.id() as i32), signal);
    }
    #[cfg(not(unix))]
    let _ = (child, signal);
}

/// Kill the child and everything in its process group.
pub fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    signal_group(child, libc::SIGKILL);
    let _ = child.kill();
}

/// A small process (`parlab watch PGID`) that kills a process group if
/// parlab dies without stopping it, however it dies (SIGKILL included): it
/// waits for its stdin, whose other end only parlab holds, to close. When a
/// run ends normally parlab stops the watch first (dropping it), so the
/// watch never signals a group id that may since have been reused.
pub struct Watch(Child);

impl Watch {
    /// Watch the group `pgid` (Unix; elsewhere nothing to watch with).
    pub fn start(pgid: u32) -> Option<Self> {
        if !cfg!(unix) {
            return None;
        }
        let exe = std::env::current_exe().ok()?;
        Command::new(exe)
            .args(["watch", &pgid.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
            .map(Self)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The watch itself: deaf to the terminal's signals (they are parlab's to
/// handle), it blocks until its stdin closes, then kills the group.
pub fn watch(pgid: u32) {
    #[cfg(unix)]
    {
        use std::io::Read;
        // SAFETY: setting signal dispositions to ignore, before any thread exists.
        unsafe {
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::signal(s, libc::SIG_IGN);
            }
        }
        let mut buf = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        if pgid > 1 {
            // SAFETY: kill(2) with a negative pid signals that process group.
            unsafe {
                libc::kill(-(pgid as i32), libc::SIGKILL);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = pgid;
}
