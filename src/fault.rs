//! Fault injection for tests, through `PARLAB_FAULT` (read once):
//! `task-panic:NAME` panics inside the task named NAME (on any worker),
//! `ui-panic` panics in the TUI's own loop once a run has started. Unset, it
//! costs one load of a static per task.

use std::sync::OnceLock;

fn fault() -> Option<&'static str> {
    static FAULT: OnceLock<Option<String>> = OnceLock::new();
    FAULT
        .get_or_init(|| std::env::var("PARLAB_FAULT").ok())
        .as_deref()
}

/// Panic if this task was chosen to.
pub fn maybe_panic_in_task(name: &str) {
    if fault().and_then(|f| f.strip_prefix("task-panic:")) == Some(name) {
        panic!("injected fault: task {name} panics");
    }
}

/// Whether the TUI should panic (after a run has started).
pub fn ui_panics() -> bool {
    fault() == Some("ui-panic")
}
