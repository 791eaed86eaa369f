//! Child processes parlab starts (shell tasks, Python programs): each leads
//! its own process group, so stopping it stops everything it started, and on
//! Linux it is told to die if parlab does.

use std::process::{Child, Command};

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
