//! A run kept: a compact, versioned binary file, written as the run goes, that
//! replays every panel and prints the JSON the run printed.
//!
//! ```text
//! file    = MAGIC (8 bytes) · version (u16 LE) · frame*
//! frame   = tag (u8) · length (varint) · payload · crc32 of tag and payload (u32 LE)
//! RUN     = JSON of RunHeader: the run's Meta and the machine it ran on
//! EVENTS  = count (varint) · first t (varint) · event*   (the run's latest RUN)
//! END     = JSON of the run's Outcome (its machine figures inside)
//! event   = lane (varint) · kind (u8) · t − previous t (zigzag varint) · fields
//! ```
//!
//! A run is RUN, EVENTS..., END; a sweep or a preset is several runs in one
//! file. Frames are written whole, one `write` each, so a crash or a kill
//! leaves a prefix that reads to its last whole frame: the reader stops at the
//! first frame that is cut short or fails its checksum and says where.

mod codec;
pub mod read;
pub mod write;

pub use read::{open, RecordedRun, Recording};
pub use write::Recorder;

use crate::source::Meta;
use serde::{Deserialize, Serialize};

/// The first bytes of every recording.
pub const MAGIC: &[u8; 8] = b"\x89PARLAB\n";
/// The format this parlab writes and the newest it reads (2: a program's
/// output lines, tasks named as they start, lanes that end; 3: the real
/// GIL taken and let go; 4: the `ready` state, waiting for a core; 5:
/// stacks sampled from outside, a profile; 6: a scheduler's tasks by state
/// and its workers' CPU and memory).
pub const VERSION: u16 = 6;
/// The extension recordings are given.
pub const EXTENSION: &str = "parlab";

/// Frame tags.
const RUN: u8 = 1;
const EVENTS: u8 = 2;
const END: u8 = 3;

/// A frame's payload is at most this long (a larger length is corruption).
const MAX_FRAME: u64 = 64 << 20;

/// What a run's first frame says: its settings and the machine.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunHeader {
    pub meta: Meta,
    pub machine: Machine,
    /// The task list is left out because the settings rebuild it exactly
    /// (checked when written): a long task list would otherwise outweigh
    /// the events, and a cut file would hold little but its header.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tasks_from_spec: bool,
}

impl RunHeader {
    /// The header of a run with these settings, its tasks left out where the
    /// settings rebuild them.
    pub fn new(meta: &Meta) -> Self {
        let mut meta = meta.clone();
        let rebuilt = meta
            .native_spec()
            .map(|s| crate::workload::build(&s.workload).map(|w| w.tasks()));
        let tasks_from_spec = rebuilt.is_some_and(|r| r.is_ok_and(|t| t == meta.tasks));
        if tasks_from_spec {
            meta.tasks = Vec::new();
        }
        Self {
            meta,
            machine: Machine::here(),
            tasks_from_spec,
        }
    }

    /// Put back the tasks left out (on reading).
    fn rebuild_tasks(&mut self) -> Result<(), String> {
        if self.tasks_from_spec {
            let spec = self
                .meta
                .native_spec()
                .ok_or("its tasks were left out of a program's run")?;
            let w = crate::workload::build(&spec.workload)
                .map_err(|e| format!("its settings do not rebuild its tasks: {e:#}"))?;
            self.meta.tasks = w.tasks();
            self.tasks_from_spec = false;
        }
        Ok(())
    }
}

/// The machine a recording was made on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Logical cores.
    pub cores: u32,
    /// `linux`, `macos`, `windows`.
    pub os: String,
    pub arch: String,
    /// The parlab that recorded it.
    pub parlab: String,
    /// The Python that ran it, for a Python run.
    pub python: Option<String>,
}

impl Machine {
    /// This machine, now.
    pub fn here() -> Self {
        Self {
            cores: crate::sampler::logical_cores(),
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            parlab: env!("CARGO_PKG_VERSION").into(),
            python: None,
        }
    }

    /// `4 cores, linux x86_64, parlab 0.1.0`.
    pub fn words(&self) -> String {
        let python = self
            .python
            .as_ref()
            .map(|p| format!(", Python {p}"))
            .unwrap_or_default();
        format!(
            "{} cores, {} {}, parlab {}{python}",
            self.cores, self.os, self.arch, self.parlab
        )
    }
}
