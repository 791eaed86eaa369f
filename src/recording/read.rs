//! Reading a recording: every whole, checked frame up to the first that is
//! cut short or damaged, which is said (where, and why), never a panic.

use super::codec::Cursor;
use super::{RunHeader, END, EVENTS, MAGIC, MAX_FRAME, RUN, VERSION};
use crate::event::Event;
use crate::source::Outcome;
use crate::UserError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A recording, read.
#[derive(Clone, Debug)]
pub struct Recording {
    pub path: PathBuf,
    /// Its format version.
    pub version: u16,
    pub runs: Vec<RecordedRun>,
    /// Where and why it ends early (a crash, a kill, a cut, damage).
    pub cut: Option<Cut>,
    /// Its size in bytes.
    pub size: u64,
}

/// Where a recording stops being readable.
#[derive(Clone, Debug, PartialEq)]
pub struct Cut {
    /// The byte offset of the first frame that does not read.
    pub at: u64,
    pub why: String,
}

/// One run of a recording.
#[derive(Clone, Debug)]
pub struct RecordedRun {
    pub header: RunHeader,
    frames: Vec<Frame>,
    /// Events held.
    pub events: u64,
    /// How it ended; `None`: the recording stops before the run did.
    pub end: Option<Outcome>,
    data: Arc<[u8]>,
}

/// An events frame: where its events are in the file.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Byte range of its events.
    start: usize,
    end: usize,
    /// Events in it, and the index of its first in the run.
    pub count: u64,
    pub first: u64,
    first_t: u64,
}

impl RecordedRun {
    /// The events frames, in order.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The events of one frame.
    pub fn frame_events(&self, f: &Frame) -> Vec<Event> {
        let mut out = Vec::new();
        self.frame_events_into(f, &mut out);
        out
    }

    /// The events of one frame, into `out` (cleared first; its room reused).
    /// A frame that does not decode, its checksum notwithstanding, holds none.
    pub fn frame_events_into(&self, f: &Frame, out: &mut Vec<Event>) {
        out.clear();
        if decode_into(&self.data[f.start..f.end], f.count, f.first_t, out).is_err() {
            out.clear();
        }
    }

    /// Every event, in the order the run's lab applied them.
    pub fn events(&self) -> impl Iterator<Item = Event> + '_ {
        self.frames.iter().flat_map(|f| self.frame_events(f))
    }

    /// How it ended, or, for a run the recording stops inside, what it holds:
    /// no result, its last event the end, marked `truncated`.
    pub fn outcome(&self) -> Outcome {
        if let Some(o) = &self.end {
            return o.clone();
        }
        let last = self.events().map(|e| e.t).max().unwrap_or(0);
        Outcome {
            result: None,
            wall_ns: last,
            end_ns: last,
            failures: Vec::new(),
            cancelled: false,
            events_sent: self.events,
            events_dropped: 0,
            machine: None,
            extensions: Vec::new(),
            rounds: 1,
            truncated: true,
        }
    }

    /// `collatz with pool, 4 workers`: what the run was.
    pub fn title(&self) -> String {
        self.header.meta.headline().to_string()
    }
}

fn decode_into(bytes: &[u8], count: u64, first_t: u64, out: &mut Vec<Event>) -> Result<(), String> {
    let mut c = Cursor::new(bytes);
    let mut prev = first_t;
    out.reserve(count.min(1 << 16) as usize);
    for _ in 0..count {
        out.push(c.event(&mut prev)?);
    }
    if !c.is_empty() {
        return Err("bytes after its last event".into());
    }
    Ok(())
}

/// Read the recording at `path`. Not a recording, or a newer format: a
/// [`UserError`] naming the file and the versions.
pub fn open(path: &Path) -> anyhow::Result<Recording> {
    let data = std::fs::read(path)
        .map_err(|e| UserError::new(format!("{}: cannot read it: {e}", path.display())))?;
    parse(path, data.into())
}

/// Read a recording held in memory.
pub fn parse(path: &Path, data: Arc<[u8]>) -> anyhow::Result<Recording> {
    let name = path.display();
    if data.len() < MAGIC.len() + 2 || &data[..MAGIC.len()] != MAGIC {
        return Err(UserError::new(format!(
            "{name}: not a parlab recording (it does not begin with parlab's header)"
        ))
        .into());
    }
    let version = u16::from_le_bytes([data[8], data[9]]);
    if version == 0 || version > VERSION {
        return Err(UserError::new(format!(
            "{name}: a recording of format version {version}; this parlab reads versions 1 to {VERSION}: upgrade parlab to replay it"
        ))
        .into());
    }
    let mut rec = Recording {
        path: path.to_path_buf(),
        version,
        runs: Vec::new(),
        cut: None,
        size: data.len() as u64,
    };
    let mut c = Cursor::new(&data);
    c.pos = MAGIC.len() + 2;
    while !c.is_empty() {
        let at = c.pos;
        if let Err(why) = read_frame(&mut c, &mut rec.runs, &data) {
            rec.cut = Some(Cut { at: at as u64, why });
            break;
        }
    }
    if rec.cut.is_none() && rec.runs.last().is_some_and(|r| r.end.is_none()) {
        // Cut on a frame's edge: whole, but its last run never ended.
        rec.cut = Some(Cut {
            at: data.len() as u64,
            why: "it stops before its last run ended".into(),
        });
    }
    if rec.runs.is_empty() {
        let why = rec
            .cut
            .as_ref()
            .map(|c| format!(": it ends at byte {}, {}", c.at, c.why))
            .unwrap_or_default();
        return Err(UserError::new(format!("{name}: the recording holds no run{why}")).into());
    }
    Ok(rec)
}

fn read_frame(c: &mut Cursor, runs: &mut Vec<RecordedRun>, data: &Arc<[u8]>) -> Result<(), String> {
    let tag = c.u8()?;
    let len = c.varint()?;
    if len > MAX_FRAME {
        return Err(format!("a frame of {len} bytes"));
    }
    let start = c.pos;
    let payload = c.take(len as usize)?;
    let sum = c.take(4)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[tag]);
    crc.update(payload);
    if crc.finalize().to_le_bytes() != sum {
        return Err("a frame fails its checksum".into());
    }
    let json = |what: &str| format!("its {what} frame does not read");
    match tag {
        RUN => {
            let mut header: RunHeader = serde_json::from_slice(payload).map_err(|_| json("run"))?;
            header.meta.settle();
            header.rebuild_tasks()?;
            runs.push(RecordedRun {
                header,
                frames: Vec::new(),
                events: 0,
                end: None,
                data: data.clone(),
            });
        }
        EVENTS => {
            let run = runs
                .last_mut()
                .filter(|r| r.end.is_none())
                .ok_or("events outside a run")?;
            let mut p = Cursor::new(payload);
            let count = p.varint()?;
            let first_t = p.varint()?;
            let events_at = start + p.pos;
            // The checksum vouches for the bytes; they are decoded when replayed
            // (a frame that still fails to decode replays as no events).
            if count > payload.len() as u64 {
                return Err(format!(
                    "a frame claims {count} events in {} bytes",
                    payload.len()
                ));
            }
            run.frames.push(Frame {
                start: events_at,
                end: start + payload.len(),
                count,
                first: run.events,
                first_t,
            });
            run.events += count;
        }
        END => {
            let run = runs
                .last_mut()
                .filter(|r| r.end.is_none())
                .ok_or("an end outside a run")?;
            run.end = Some(serde_json::from_slice(payload).map_err(|_| json("end"))?);
        }
        other => return Err(format!("an unknown frame {other}")),
    }
    Ok(())
}
