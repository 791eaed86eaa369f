//! The UI above its workers: while the live lab is open, 1024 busy workers
//! on two cores must not starve the frame loop or the keyboard.
//!
//! First choice: the UI's threads (drawing and input) ask for a real-time
//! round-robin priority (Linux `SCHED_RR` 1, allowed for root, with
//! `CAP_SYS_NICE` or an `rtprio` limit) or the `user-interactive` QoS class
//! (macOS, always allowed). They sleep between frames, so the workers keep
//! every cycle the UI does not use, at their normal priority: the experiment
//! is undisturbed; threads and processes the UI starts are born normal
//! (`SCHED_RESET_ON_FORK`), and every worker-side thread sets itself normal.
//!
//! Fallback, where the UI cannot be raised (a normal user's laptop): every
//! worker thread and worker process runs under `SCHED_IDLE` (Linux; nice 19
//! where that is refused) or the `utility` QoS class (macOS). A waking UI
//! thread then preempts a worker at once (under nice 19 it waited for the
//! next tick of each of 1024 workers: 100 ms to 2.5 s on two cores). It
//! lowers the workers against other programs too: they get only the cores
//! nothing else wants, which the run's "disturbed" check reports. Elsewhere
//! (Windows) nothing changes. A headless run changes no priority at all.

use std::sync::atomic::{AtomicBool, Ordering};

/// How far below normal a worker runs in the fallback, in nice steps (Linux),
/// where `SCHED_IDLE` is refused.
pub const WORKER_NICE: i32 = 19;

/// Set in a worker process's environment when its parent lowers its workers.
pub const ENV: &str = "PARLAB_WORKERS_YIELD";

static YIELD: AtomicBool = AtomicBool::new(false);

/// Set (to anything) to make raising fail as it does without privileges:
/// to see and test the fallback as root.
pub const NO_RAISE_ENV: &str = "PARLAB_NO_RAISE";

/// Raise the calling thread (one of the UI's) above normal, where the OS
/// allows it; whether it was raised.
pub fn raise_this_thread() -> bool {
    timer_slack_ns(); // kept before any thread loses it by being raised
    std::env::var_os(NO_RAISE_ENV).is_none() && raise()
}

/// The timer slack parlab was started with, ns (Linux; it was kept before
/// any thread was raised, or is read now): what threads and processes
/// started from a raised thread are given back, since a real-time thread
/// has none and passes none on.
pub fn timer_slack_ns() -> u64 {
    static SLACK: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SLACK.get_or_init(|| {
        #[cfg(target_os = "linux")]
        // SAFETY: PR_GET_TIMERSLACK only reads the calling thread's slack.
        let slack = unsafe { libc::prctl(libc::PR_GET_TIMERSLACK) };
        #[cfg(not(target_os = "linux"))]
        let slack = 0;
        // A thread already without any (parlab started by a real-time
        // parent): Linux's default.
        if slack > 0 {
            slack as u64
        } else {
            50_000
        }
    })
}

/// Whether workers started from now on run below normal (the fallback).
pub fn set_workers_yield(on: bool) {
    YIELD.store(on, Ordering::Relaxed);
}

/// Whether workers yield to a UI (for worker processes: their environment says so).
pub fn yielding() -> bool {
    YIELD.load(Ordering::Relaxed)
}

/// A worker-side thread's priority: normal (never a UI's raised one, which a
/// thread would otherwise inherit from the thread that started it), or
/// lowered if workers yield to a UI. Called first thing on every worker
/// thread and by the run's driver before it starts any worker, so each is
/// born right.
pub fn lower_this_thread() {
    normal();
    if yielding() {
        lower();
    }
}

#[cfg(target_os = "linux")]
fn raise() -> bool {
    let param = libc::sched_param { sched_priority: 1 };
    // Reset on fork: threads and processes it starts are born normal.
    let policy = libc::SCHED_RR | libc::SCHED_RESET_ON_FORK;
    // SAFETY: pid 0 is the calling thread; the parameter lives across the call.
    unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
}

#[cfg(target_os = "linux")]
fn normal() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 is the calling thread; the parameter lives across the
    // call. A real-time thread has no timer slack and passes none to the
    // threads it starts, not even as their default: a worker's sleeps would
    // end sooner than a normal program's, so parlab's own is set back.
    unsafe {
        if libc::sched_getscheduler(0) & !libc::SCHED_RESET_ON_FORK != libc::SCHED_OTHER {
            libc::sched_setscheduler(0, libc::SCHED_OTHER, &param);
        }
        libc::prctl(libc::PR_SET_TIMERSLACK, timer_slack_ns() as libc::c_ulong);
    }
}

#[cfg(target_os = "linux")]
fn lower() {
    // SAFETY: plain syscalls on the calling thread's own id.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, WORKER_NICE);
        // Below every normal thread: a UI thread that wakes takes the core
        // at once (a nice-19 worker keeps it to the next tick, and with
        // 1024 of them the UI waited 100 ms to seconds).
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}

#[cfg(target_os = "macos")]
fn raise() -> bool {
    // SAFETY: sets the QoS class of the calling thread only.
    unsafe {
        libc::pthread_set_qos_class_self_np(libc::qos_class_t::QOS_CLASS_USER_INTERACTIVE, 0) == 0
    }
}

#[cfg(target_os = "macos")]
fn normal() {
    // SAFETY: sets the QoS class of the calling thread only.
    unsafe {
        libc::pthread_set_qos_class_self_np(libc::qos_class_t::QOS_CLASS_DEFAULT, 0);
    }
}

#[cfg(target_os = "macos")]
fn lower() {
    // SAFETY: sets the QoS class of the calling thread only.
    unsafe {
        libc::pthread_set_qos_class_self_np(libc::qos_class_t::QOS_CLASS_UTILITY, 0);
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn raise() -> bool {
    false
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn lower() {}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn normal() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn a_yielding_worker_thread_runs_below_normal() {
        set_workers_yield(true);
        let (nice, policy) = std::thread::spawn(|| {
            lower_this_thread();
            // SAFETY: reads the calling thread's own priority and policy.
            unsafe {
                let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                (
                    libc::getpriority(libc::PRIO_PROCESS, tid),
                    libc::sched_getscheduler(0),
                )
            }
        })
        .join()
        .unwrap();
        set_workers_yield(false);
        assert!(nice >= WORKER_NICE, "nice {nice}");
        assert_eq!(policy, libc::SCHED_IDLE);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_worker_started_by_a_thread_without_timer_slack_gets_parlabs_back() {
        let want = timer_slack_ns();
        let got = std::thread::spawn(|| {
            // SAFETY: sets and reads the calling thread's own timer slack.
            unsafe {
                libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
                lower_this_thread();
                libc::prctl(libc::PR_GET_TIMERSLACK)
            }
        })
        .join()
        .unwrap();
        assert_eq!(got as u64, want);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_raised_thread_is_round_robin_or_says_it_could_not() {
        let policy = std::thread::spawn(|| {
            let raised = raise_this_thread();
            // SAFETY: reads the calling thread's own policy.
            (raised, unsafe { libc::sched_getscheduler(0) })
        })
        .join()
        .unwrap();
        match policy {
            (true, p) => assert_eq!(p & !libc::SCHED_RESET_ON_FORK, libc::SCHED_RR),
            (false, p) => assert_eq!(p, libc::SCHED_OTHER),
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_thread_started_by_a_raised_one_is_born_normal() {
        let child = std::thread::spawn(|| {
            raise_this_thread();
            std::thread::spawn(|| unsafe { libc::sched_getscheduler(0) })
                .join()
                .unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(child, libc::SCHED_OTHER);
    }
}
