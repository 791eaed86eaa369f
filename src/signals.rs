//! SIGINT, SIGTERM and SIGHUP: noted, never fatal mid-run. The TUI and
//! headless runs poll [`received`], stop their run, reap every worker,
//! restore the terminal, and exit with status 128 + the signal.

use std::sync::atomic::{AtomicI32, Ordering};

static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Start listening (once per process).
pub fn listen() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            let _ = std::thread::Builder::new()
                .name("parlab-signals".into())
                .spawn(move || {
                    for sig in signals.forever() {
                        RECEIVED.store(sig, Ordering::SeqCst);
                    }
                });
        }
    }
    #[cfg(not(unix))]
    {
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])
        {
            let _ = std::thread::spawn(move || {
                for sig in signals.forever() {
                    RECEIVED.store(sig, Ordering::SeqCst);
                }
            });
        }
    }
}

/// The last signal received, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The conventional exit status after a signal.
pub fn exit_status(sig: i32) -> u8 {
    (128 + sig).clamp(0, 255) as u8
}
