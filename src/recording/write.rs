//! Writing a recording as runs go. Whoever drains a run's events (headless,
//! the TUI, a sweep) hands them here: the workers never see the file. Each
//! batch is a frame, so a cut loses at most one batch; frames reach the file
//! in chunks, so a busy run costs few writes. A write that fails (a full
//! disk) ends the recording with a message, not the run.

use super::codec::{put_event, put_varint};
use super::{RunHeader, END, EVENTS, MAGIC, RUN, VERSION};
use crate::event::Event;
use crate::source::{Meta, Outcome};
use crate::UserError;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A batch longer than this is split into frames of this many events.
const FRAME_EVENTS: usize = 8192;
/// Frames are written once this many bytes wait...
const CHUNK_BYTES: usize = 64 << 10;
/// ...or the oldest has waited this long, so a kill loses at most this much.
const CHUNK_AGE: Duration = Duration::from_millis(50);

/// A run kept in memory (the lab's own, for export and comparison) stops
/// being kept past this size.
const MAX_MEMORY: usize = 256 << 20;

/// Where a recording goes.
enum Sink {
    File(File),
    Memory(Vec<u8>),
}

/// A recording being written.
pub struct Recorder {
    path: PathBuf,
    sink: Option<Sink>,
    /// Whole frames not yet written, and since when the first has waited.
    chunk: Vec<u8>,
    since: Instant,
    /// Inside a run (between `begin` and `end`).
    open_run: bool,
    /// Events and bytes written.
    events: u64,
    bytes: u64,
    /// Events in the chunk waiting.
    waiting: u64,
    problem: Option<String>,
}

impl Recorder {
    /// Start a recording at `path` (replaced if it exists). Only a file that
    /// cannot be opened is an error; a failed write later is a [`problem`](Self::problem).
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let mut r = Self::on(path.to_path_buf(), Sink::File(open_file(path)?));
        r.chunk = file_header();
        r.write_out();
        Ok(r)
    }

    /// A file recording that begins with everything `kept` (a recording in
    /// memory) holds so far, and goes on from there: `R` pressed mid-run.
    pub fn create_from(path: &Path, kept: &mut Recorder) -> anyhow::Result<Self> {
        let mut r = Self::on(path.to_path_buf(), Sink::File(open_file(path)?));
        kept.write_out();
        r.chunk = match &kept.sink {
            Some(Sink::Memory(v)) => {
                r.open_run = kept.open_run;
                v.clone()
            }
            _ => file_header(),
        };
        r.write_out();
        Ok(r)
    }

    /// A recording kept in memory ([`into_bytes`](Self::into_bytes) gives it back).
    pub fn memory() -> Self {
        let mut r = Self::on(PathBuf::from("memory"), Sink::Memory(Vec::new()));
        r.chunk = file_header();
        r.write_out();
        r
    }

    /// The bytes of a recording kept in memory (`None` for a file, or one that failed).
    pub fn into_bytes(mut self) -> Option<Vec<u8>> {
        self.write_out();
        match self.sink.take()? {
            Sink::Memory(v) => Some(v),
            Sink::File(_) => None,
        }
    }

    fn on(path: PathBuf, sink: Sink) -> Self {
        Self {
            path,
            sink: Some(sink),
            chunk: Vec::with_capacity(CHUNK_BYTES + 4096),
            since: Instant::now(),
            open_run: false,
            events: 0,
            bytes: 0,
            waiting: 0,
            problem: None,
        }
    }

    /// Where it is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A run begins: its settings and this machine.
    pub fn begin(&mut self, meta: &Meta) {
        self.frame_json(RUN, &RunHeader::new(meta));
        self.open_run = true;
        self.write_out();
    }

    /// A batch of the run begun, in the order the lab applied it: one frame.
    pub fn events(&mut self, batch: &[Event]) {
        if !self.open_run || self.sink.is_none() {
            return;
        }
        for part in batch.chunks(FRAME_EVENTS) {
            let mut payload = Vec::with_capacity(part.len() * 6 + 16);
            put_varint(&mut payload, part.len() as u64);
            let mut prev = part[0].t;
            put_varint(&mut payload, prev);
            for e in part {
                put_event(&mut payload, e, &mut prev);
            }
            self.frame(EVENTS, &payload);
            self.waiting += part.len() as u64;
        }
        self.flush_if_old();
    }

    /// Write the frames waiting if the oldest is old (called between
    /// batches too), so a kill loses at most [`CHUNK_AGE`] of the run.
    pub fn flush_if_old(&mut self) {
        if self.chunk.len() >= CHUNK_BYTES
            || (!self.chunk.is_empty() && self.since.elapsed() >= CHUNK_AGE)
        {
            self.write_out();
        }
    }

    /// The run ended so: its outcome, the machine's figures inside.
    pub fn end(&mut self, outcome: &Outcome) {
        if !self.open_run {
            return;
        }
        self.frame_json(END, outcome);
        self.open_run = false;
        self.write_out();
    }

    /// Why the recording stopped early, if it did (said once by whoever shows it).
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Events written so far.
    pub fn events_written(&self) -> u64 {
        self.events
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    fn frame_json<T: serde::Serialize>(&mut self, tag: u8, value: &T) {
        match serde_json::to_vec(value) {
            Ok(payload) => self.frame(tag, &payload),
            Err(e) => self.fail(format!("cannot encode a frame: {e}")),
        }
    }

    /// One whole frame into the chunk: tag, length, payload, checksum.
    fn frame(&mut self, tag: u8, payload: &[u8]) {
        if self.chunk.is_empty() {
            self.since = Instant::now();
        }
        self.chunk.push(tag);
        put_varint(&mut self.chunk, payload.len() as u64);
        self.chunk.extend_from_slice(payload);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&[tag]);
        crc.update(payload);
        self.chunk.extend_from_slice(&crc.finalize().to_le_bytes());
    }

    /// The chunk to the sink, in one write.
    fn write_out(&mut self) {
        if self.chunk.is_empty() {
            return;
        }
        let written = match &mut self.sink {
            None => Ok(()),
            Some(Sink::File(f)) => f.write_all(&self.chunk),
            Some(Sink::Memory(v)) if v.len() + self.chunk.len() > MAX_MEMORY => {
                Err(std::io::Error::other("too long to keep in memory"))
            }
            Some(Sink::Memory(v)) => {
                v.extend_from_slice(&self.chunk);
                Ok(())
            }
        };
        match written {
            Ok(()) if self.sink.is_some() => {
                self.bytes += self.chunk.len() as u64;
                self.events += self.waiting;
            }
            Ok(()) => {}
            Err(e) => self.fail(e.to_string()),
        }
        self.chunk.clear();
        self.waiting = 0;
    }

    fn fail(&mut self, why: String) {
        self.sink = None;
        self.problem = Some(format!(
            "recording to {} ended after {} events: {why}; the run goes on",
            self.path.display(),
            self.events
        ));
    }
}

fn open_file(path: &Path) -> anyhow::Result<File> {
    File::create(path).map_err(|e| {
        UserError::new(format!("--record {}: cannot write it: {e}", path.display())).into()
    })
}

/// The magic bytes and the format version.
fn file_header() -> Vec<u8> {
    let mut head = MAGIC.to_vec();
    head.extend_from_slice(&VERSION.to_le_bytes());
    head
}

impl Drop for Recorder {
    /// A recording dropped mid-run keeps every event it was given.
    fn drop(&mut self) {
        self.write_out();
    }
}
