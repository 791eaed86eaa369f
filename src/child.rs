//! Child processes parlab starts (shell tasks, Python programs): each leads
//! its own process group, so stopping it stops everything it started, and on
//! Linux it is told to die if parlab does. A program's group also has a
//! [`Watch`]: the program's own children (multiprocessing's) are not
//! parlab's, so nothing tells them parlab died; the watch does.

use std::process::{Child, Command, Stdio};

/// Start `cmd` as the leader of a process group of its own; on Linux it gets
/// `signal` when the thread that started it (or parlab) dies unannounced,
/// and the timer slack parlab was started with, whatever its starter's: a
/// child of the lab's real-time UI thread inherited none, and CPython's
/// 1 µs GIL waits (`races`, which sets that switch interval) then spun
/// instead of sleeping: `races --lock` took 3.5-9 s in the lab against
/// 0.3 s headless.
pub fn in_own_group(cmd: &mut Command, signal: i32) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    #[cfg(target_os = "linux")]
    let slack = crate::priority::timer_slack_ns() as libc::c_ulong;
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; these only set this child's death
    // signal and its timer slack.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(cmd, move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, signal);
            libc::prctl(libc::PR_SET_TIMERSLACK, slack);
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

/// Make parlab the parent of orphans of the programs it starts (Linux: a
/// child subreaper). A program's helpers that outlive their parent
/// (multiprocessing's forkserver, its resource tracker) are then reaped by
/// parlab, so the CPU they used counts as the program's (`getrusage`'s
/// children), not as other programs' that disturbed the run. Elsewhere
/// they go to init as before.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
    }
}

/// Reap every process of group `pgid` that is parlab's child (orphans it
/// adopted, see [`adopt_orphans`]), once the group was killed.
pub fn reap_group(pgid: u32) {
    #[cfg(unix)]
    for _ in 0..10 {
        // SAFETY: waitpid on a negative pid waits for this process's
        // children in that group; ECHILD (-1) ends it when none is left.
        while unsafe { libc::waitpid(-(pgid as i32), std::ptr::null_mut(), 0) } > 0 {}
        // SAFETY: signal 0 only asks whether any process of the group is
        // left. None: done at once (a run's end waits for nothing).
        if unsafe { libc::kill(-(pgid as i32), 0) } != 0 {
            break;
        }
        // One still dying as the last returned is adopted a moment later.
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    #[cfg(not(unix))]
    let _ = pgid;
}

/// Kill the child and everything in its process group.
pub fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    signal_group(child, libc::SIGKILL);
    let _ = child.kill();
}

/// A small process (`sh`, waiting on `cat`) that kills a process group if
/// parlab dies without stopping it, however it dies (SIGKILL included): it
/// waits for its stdin, whose other end only parlab holds, to close. Deaf
/// to the terminal's signals (they are parlab's to handle). When a run ends
/// normally parlab stops the watch first (dropping it), so the watch never
/// signals a group id that may since have been reused.
pub struct Watch(Child);

/// The watch's script: `$1` is the group. Only the shell's builtins (`read`,
/// `kill`): the watch is one process, which parlab kills and reaps; a `cat`
/// of its own would outlive it as a zombie nobody waits for.
const WATCH: &str =
    r#"trap "" INT HUP TERM QUIT; while read -r _; do :; done; kill -s KILL -- "-$1""#;

impl Watch {
    /// Watch the group `pgid` (Unix; elsewhere there is no `sh` to watch with).
    pub fn start(pgid: u32) -> Option<Self> {
        if !cfg!(unix) || pgid <= 1 {
            return None;
        }
        Command::new("sh")
            .args(["-c", WATCH, "parlab-watch", &pgid.to_string()])
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
        // The watch is killed before its pipe closes: nobody is left to
        // signal the group.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
/// Each line of a child's pipe, as `wrap` makes it, sent on `tx` by a
/// thread of its own until the pipe or the receiver closes.
pub fn each_line<R, T, F>(
    pipe: Option<R>,
    tx: crossbeam_channel::Sender<T>,
    wrap: F,
) -> std::thread::JoinHandle<()>
where
    R: std::io::Read + Send + 'static,
    T: Send + 'static,
    F: Fn(String) -> T + Send + 'static,
{
    use std::io::BufRead;
    std::thread::spawn(move || {
        let Some(p) = pipe else { return };
        for line in std::io::BufReader::new(p).lines() {
            let Ok(text) = line else { return };
            if tx.send(wrap(text)).is_err() {
                return;
            }
        }
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_child_gets_parlabs_timer_slack_whatever_its_starters() {
        let want = crate::priority::timer_slack_ns();
        // A starter with next to no slack, as a real-time thread has.
        let got = std::thread::spawn(|| {
            // SAFETY: sets the calling thread's own timer slack.
            unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
            let mut cmd = Command::new("cat");
            cmd.arg("/proc/self/timerslack_ns");
            in_own_group(&mut cmd, libc::SIGKILL);
            let out = cmd.output().expect("cat");
            String::from_utf8_lossy(&out.stdout).trim().parse::<u64>()
        })
        .join()
        .unwrap();
        assert_eq!(got, Ok(want));
    }
}
