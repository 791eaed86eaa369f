//! parlab: a live terminal laboratory for concurrency.
//!
//! Data flows one way: workers → events → model → view.
//! - [`workload`]: what is computed; [`strategy`]: how it is run (threads,
//!   processes, pools, a queue, an event loop, under a simulated GIL).
//! - [`param`]: one table row per parameter, which every layer reads.
//! - [`event`]: the instrumentation stream; [`source`]: what produces a run's
//!   events (the native [`engine`] today); [`control`]: stop, pause, knobs.
//! - [`model`]: the lab every panel reads; [`report`]: summaries and JSON.
//! - [`ui`]: the live TUI; [`config`] and [`cli`]: settings.

pub mod analysis;
pub mod bench;
pub mod child;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod engine;
pub mod event;
pub mod export;
pub mod fault;
pub mod folders;
pub mod headless;
pub mod inbox;
pub mod ipc;
pub mod launch;
pub mod lecture;
pub mod lesson;
pub mod model;
pub mod param;
pub mod plan;
pub mod presets;
pub mod priority;
pub mod profile_files;
pub mod python;
pub mod recording;
pub mod repeat;
pub mod replay;
pub mod report;
pub mod runqueue;
pub mod sampler;
pub mod session;
pub mod signals;
pub mod simulated_gil;
pub mod source;
pub mod strategy;
pub mod sweep;
pub mod trust;
pub mod ui;
pub mod wire;
pub mod worker;
pub mod workload;

/// A user mistake (a bad flag, a bad config value): one clear line on
/// stderr and exit status 2. Anything else is exit status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError(pub String);

impl UserError {
    /// A user error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}
