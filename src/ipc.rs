//! Frames between parlab and its worker processes, over the child's stdin and
//! stdout: a little-endian u32 length, then a postcard-encoded message.
//!
//! Binary frames rather than JSON lines: an event batch is a few bytes per
//! event, and decoding needs no text parsing (see `parlab bench` for the figures).

use crate::event::Batch;
use crate::workload::{CacheInfo, TaskSpec};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

/// The largest frame accepted: a corrupt length must not allocate the machine away.
pub const MAX_FRAME: usize = 256 << 20;

/// The first message to a worker: who it is and what it computes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The run's clock origin on the machine-wide monotonic clock.
    pub origin: u64,
    pub lane: u32,
    pub name: String,
    /// When parlab began starting this process (on the run's clock).
    pub spawned_at: u64,
    /// The workload's spec as JSON.
    pub workload: String,
    pub record_events: bool,
}

/// parlab → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    Hello(Hello),
    Task(TaskSpec),
    /// Pause (`true`) or resume the worker at its next check point.
    Pause(bool),
    /// No more tasks: say goodbye and exit.
    Finish,
}

/// worker → parlab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    Events(Batch),
    /// A task ended: its output as JSON, or why it failed (`None`: cancelled).
    Done {
        task: u32,
        output: Result<String, Option<String>>,
    },
    /// The worker's last word: how many events it sent, and its cache.
    Bye {
        sent: u64,
        cache: Option<CacheInfo>,
    },
}

/// Write one frame.
pub fn write_frame<W: Write, T: Serialize>(w: &mut W, msg: &T) -> io::Result<()> {
    let body =
        postcard::to_stdvec(msg).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    w.write_all(&(body.len() as u32).to_le_bytes())?;
    w.write_all(&body)?;
    w.flush()
}

/// Read one frame; `Ok(None)` at a clean end of stream.
pub fn read_frame<R: Read, T: DeserializeOwned>(r: &mut R) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes is over the limit"),
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    postcard::from_bytes(&body)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventKind, Role, WorkerState};

    #[test]
    fn frames_round_trip() {
        let msgs = vec![
            FromWorker::Events(vec![
                Event {
                    t: 1,
                    lane: 2,
                    kind: EventKind::State(WorkerState::Running),
                },
                Event {
                    t: 3,
                    lane: 2,
                    kind: EventKind::Lane {
                        name: "process-1".into(),
                        role: Role::Process,
                        pid: 9,
                        tid: None,
                        spawned_at: 0,
                    },
                },
            ]),
            FromWorker::Done {
                task: 4,
                output: Ok("{\"a\":1}".into()),
            },
            FromWorker::Done {
                task: 5,
                output: Err(None),
            },
            FromWorker::Bye {
                sent: 7,
                cache: Some(CacheInfo {
                    hits: 1,
                    misses: 2,
                    maxsize: None,
                    currsize: 3,
                }),
            },
        ];
        let mut buf = Vec::new();
        for m in &msgs {
            write_frame(&mut buf, m).unwrap();
        }
        let mut r = buf.as_slice();
        let mut back = Vec::new();
        while let Some(m) = read_frame::<_, FromWorker>(&mut r).unwrap() {
            back.push(m);
        }
        assert_eq!(back, msgs);
    }

    #[test]
    fn a_truncated_or_huge_frame_is_an_error_not_a_panic() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &ToWorker::Finish).unwrap();
        buf.truncate(buf.len() - 1);
        buf.push(0xff);
        buf.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        let mut r = &buf[..];
        let _ = read_frame::<_, ToWorker>(&mut r);
        let mut huge = &[0xff, 0xff, 0xff, 0x7f, 0][..];
        assert!(read_frame::<_, ToWorker>(&mut huge).is_err());
    }
}
