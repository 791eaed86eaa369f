//! Events as bytes: a few bytes each (lane, kind, time step, fields), every
//! time exact to the nanosecond so a replay rebuilds the lab the run had.

use crate::event::{CacheOp, Event, EventKind};

use crate::wire::event::*;
use crate::wire::{role_code, role_of};

/// Strings inside an event (a log line, a lane name) are at most this long.
const MAX_TEXT: u64 = 1 << 20;

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Append `e`, its time as a step from `prev` (updated).
pub fn put_event(out: &mut Vec<u8>, e: &Event, prev: &mut u64) {
    put_varint(out, e.lane as u64);
    let totals: [u64; 3];
    let (kind, fields): (u8, &[u64]) = match &e.kind {
        EventKind::State(s) => (crate::wire::state_code(*s), &[]),
        EventKind::TaskStart { task } => (TASK_START, &[*task as u64]),
        EventKind::TaskEnd { task, ok: true } => (TASK_OK, &[*task as u64]),
        EventKind::TaskEnd { task, ok: false } => (TASK_FAILED, &[*task as u64]),
        EventKind::Dispatched { task } => (DISPATCHED, &[*task as u64]),
        EventKind::Collected { task } => (COLLECTED, &[*task as u64]),
        EventKind::QueuePut { task, depth } => (QUEUE_PUT, &[*task as u64, *depth as u64]),
        EventKind::QueueGet { task, depth } => (QUEUE_GET, &[*task as u64, *depth as u64]),
        EventKind::Cache { op, currsize } => {
            let k = match op {
                CacheOp::Hit => CACHE_HIT,
                CacheOp::Miss => CACHE_MISS,
                CacheOp::Evict => CACHE_EVICT,
            };
            (k, std::slice::from_ref(currsize))
        }
        EventKind::GilSwitch => (GIL_SWITCH, &[]),
        EventKind::GilDropRequest => (GIL_DROP_REQUEST, &[]),
        EventKind::GilHeld(true) => (GIL_TAKEN, &[]),
        EventKind::GilHeld(false) => (GIL_LET_GO, &[]),
        EventKind::Log { .. } => (LOG, &[]),
        EventKind::Lane { .. } => (LANE, &[]),
        EventKind::Output { .. } => (OUTPUT, &[]),
        EventKind::Task { task, .. } => (TASK, &[*task as u64]),
        EventKind::LaneEnd => (LANE_END, &[]),
        EventKind::QueueBound { capacity } => (QUEUE_BOUND, std::slice::from_ref(capacity)),
        EventKind::CacheTotals {
            hits,
            misses,
            currsize,
        } => {
            totals = [*hits, *misses, *currsize];
            (CACHE_TOTALS, &totals)
        }
        EventKind::Frame { id, line, .. } => {
            totals = [*id as u64, *line as u64, 0];
            (FRAME, &totals[..2])
        }
        EventKind::Sample { held, .. } => (if *held { SAMPLE_HELD } else { SAMPLE }, &[]),
        EventKind::TaskStates {
            queued,
            processing,
            memory,
        } => {
            totals = [*queued, *processing, *memory];
            (TASK_STATES, &totals)
        }
        EventKind::Usage {
            cpu_permille,
            memory,
        } => {
            totals = [*cpu_permille as u64, *memory, 0];
            (USAGE, &totals[..2])
        }
    };
    out.push(kind);
    put_varint(out, zigzag(e.t.wrapping_sub(*prev) as i64));
    *prev = e.t;
    for &f in fields {
        put_varint(out, f);
    }
    match &e.kind {
        EventKind::Log { text } | EventKind::Output { text } => put_text(out, text),
        EventKind::Task { name, .. } => put_text(out, name),
        EventKind::Lane {
            name,
            role,
            pid,
            tid,
            spawned_at,
        } => {
            put_text(out, name);
            out.push(role_code(*role));
            put_varint(out, *pid as u64);
            // 0 is no tid; a tid is stored one up (the OS never gives u64::MAX).
            put_varint(out, tid.map(|t| t.saturating_add(1)).unwrap_or(0));
            put_varint(out, *spawned_at);
        }
        EventKind::Frame { function, file, .. } => {
            put_text(out, function);
            put_text(out, file);
        }
        EventKind::Sample { frames, .. } => {
            put_varint(out, frames.len() as u64);
            for &f in frames {
                put_varint(out, f as u64);
            }
        }
        _ => {}
    }
}

/// A reader over bytes that never reads past them: every failure is an `Err`.
pub struct Cursor<'a> {
    bytes: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub fn u8(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.pos).ok_or("cut short")?;
        self.pos += 1;
        Ok(b)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).ok_or("a length overflows")?;
        let s = self.bytes.get(self.pos..end).ok_or("cut short")?;
        self.pos = end;
        Ok(s)
    }

    pub fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number runs over 64 bits".into())
    }

    fn u32(&mut self) -> Result<u32, String> {
        u32::try_from(self.varint()?).map_err(|_| "a field is out of range".into())
    }

    fn text(&mut self) -> Result<String, String> {
        let n = self.varint()?;
        if n > MAX_TEXT {
            return Err(format!("a text of {n} bytes"));
        }
        String::from_utf8(self.take(n as usize)?.to_vec()).map_err(|_| "a text is not UTF-8".into())
    }

    /// The next event, its time a step from `prev` (updated).
    pub fn event(&mut self, prev: &mut u64) -> Result<Event, String> {
        let lane = self.u32()?;
        let kind = self.u8()?;
        let t = prev.wrapping_add(unzigzag(self.varint()?) as u64);
        *prev = t;
        if let Some(state) = crate::wire::state_of(kind) {
            return Ok(Event {
                t,
                lane,
                kind: EventKind::State(state),
            });
        }
        let kind = match kind {
            TASK_START => EventKind::TaskStart { task: self.u32()? },
            TASK_OK | TASK_FAILED => EventKind::TaskEnd {
                task: self.u32()?,
                ok: kind == TASK_OK,
            },
            DISPATCHED => EventKind::Dispatched { task: self.u32()? },
            COLLECTED => EventKind::Collected { task: self.u32()? },
            QUEUE_PUT => EventKind::QueuePut {
                task: self.u32()?,
                depth: self.u32()?,
            },
            QUEUE_GET => EventKind::QueueGet {
                task: self.u32()?,
                depth: self.u32()?,
            },
            CACHE_HIT | CACHE_MISS | CACHE_EVICT => EventKind::Cache {
                op: [CacheOp::Hit, CacheOp::Miss, CacheOp::Evict][(kind - CACHE_HIT) as usize],
                currsize: self.varint()?,
            },
            GIL_SWITCH => EventKind::GilSwitch,
            GIL_DROP_REQUEST => EventKind::GilDropRequest,
            GIL_TAKEN | GIL_LET_GO => EventKind::GilHeld(kind == GIL_TAKEN),
            LOG => EventKind::Log { text: self.text()? },
            OUTPUT => EventKind::Output { text: self.text()? },
            TASK => EventKind::Task {
                task: self.u32()?,
                name: self.text()?,
            },
            LANE_END => EventKind::LaneEnd,
            QUEUE_BOUND => EventKind::QueueBound {
                capacity: self.varint()?,
            },
            CACHE_TOTALS => EventKind::CacheTotals {
                hits: self.varint()?,
                misses: self.varint()?,
                currsize: self.varint()?,
            },
            TASK_STATES => EventKind::TaskStates {
                queued: self.varint()?,
                processing: self.varint()?,
                memory: self.varint()?,
            },
            USAGE => EventKind::Usage {
                cpu_permille: self.u32()?,
                memory: self.varint()?,
            },
            LANE => EventKind::Lane {
                name: self.text()?,
                role: role_of(self.u8()?).ok_or("an unknown lane role")?,
                pid: self.u32()?,
                tid: self.varint()?.checked_sub(1),
                spawned_at: self.varint()?,
            },
            FRAME => EventKind::Frame {
                id: self.u32()?,
                line: self.u32()?,
                function: self.text()?,
                file: self.text()?,
            },
            SAMPLE | SAMPLE_HELD => {
                let n = self.varint()?;
                if n > MAX_TEXT {
                    return Err(format!("a stack of {n} frames"));
                }
                let frames = (0..n).map(|_| self.u32()).collect::<Result<_, _>>()?;
                EventKind::Sample {
                    frames,
                    held: kind == SAMPLE_HELD,
                }
            }
            other => return Err(format!("an unknown event kind {other}")),
        };
        Ok(Event { t, lane, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::WorkerState;

    fn every_kind() -> Vec<Event> {
        let mut kinds: Vec<EventKind> = WorkerState::ALL
            .iter()
            .map(|&s| EventKind::State(s))
            .collect();
        kinds.extend([
            EventKind::TaskStart { task: 7 },
            EventKind::TaskEnd { task: 7, ok: true },
            EventKind::TaskEnd {
                task: u32::MAX,
                ok: false,
            },
            EventKind::Dispatched { task: 300 },
            EventKind::Collected { task: 300 },
            EventKind::Log {
                text: "héllo, wörld".into(),
            },
            EventKind::QueuePut { task: 1, depth: 9 },
            EventKind::QueueGet { task: 1, depth: 0 },
            EventKind::Cache {
                op: CacheOp::Hit,
                currsize: 5,
            },
            EventKind::Cache {
                op: CacheOp::Miss,
                currsize: u64::MAX,
            },
            EventKind::Cache {
                op: CacheOp::Evict,
                currsize: 0,
            },
            EventKind::GilSwitch,
            EventKind::GilDropRequest,
            EventKind::GilHeld(true),
            EventKind::GilHeld(false),
            EventKind::Output {
                text: "a line, as printed".into(),
            },
            EventKind::Task {
                task: 12,
                name: "make_fib.<locals>.fib".into(),
            },
            EventKind::LaneEnd,
            EventKind::QueueBound { capacity: 4 },
            EventKind::CacheTotals {
                hits: 28,
                misses: 31,
                currsize: 16,
            },
            EventKind::TaskStates {
                queued: 40,
                processing: 2,
                memory: u64::MAX,
            },
            EventKind::Usage {
                cpu_permille: 1000,
                memory: 123_456_789,
            },
            EventKind::Frame {
                id: 3,
                function: "collatz_len".into(),
                file: "/tmp/cpu.py".into(),
                line: 41,
            },
            EventKind::Sample {
                frames: vec![0, 1, 3],
                held: true,
            },
            EventKind::Sample {
                frames: vec![],
                held: false,
            },
        ]);
        for (i, (role, _)) in crate::wire::ROLES.iter().enumerate() {
            kinds.push(EventKind::Lane {
                name: format!("worker-{i}"),
                role: *role,
                pid: 4242,
                tid: [None, Some(0), Some(u64::MAX - 1)][i % 3],
                spawned_at: 17,
            });
        }
        // Times go back as well as forward: batches of lanes interleave.
        kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Event {
                t: [5, 1_000_000_000_000, 3, u64::MAX - 1, 0][i % 5] + i as u64 % 2,
                lane: (i as u32 * 977) % 70_000,
                kind,
            })
            .collect()
    }

    #[test]
    fn every_kind_of_event_reads_back_as_written() {
        let events = every_kind();
        let mut bytes = Vec::new();
        let mut prev = 0;
        for e in &events {
            put_event(&mut bytes, e, &mut prev);
        }
        let mut c = Cursor::new(&bytes);
        let mut prev = 0;
        let back: Vec<Event> = events.iter().map(|_| c.event(&mut prev).unwrap()).collect();
        assert_eq!(back, events);
        assert!(c.is_empty());
    }

    #[test]
    fn a_state_change_takes_a_few_bytes() {
        let mut bytes = Vec::new();
        let mut prev = 1_000_000;
        let e = Event {
            t: 1_050_000,
            lane: 3,
            kind: EventKind::State(WorkerState::Running),
        };
        put_event(&mut bytes, &e, &mut prev);
        assert_eq!(bytes.len(), 5, "lane, kind, a 50 µs step in 3 bytes");
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        for bytes in [
            &[][..],
            &[0],
            &[0, 200],
            &[0, 13, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255],
        ] {
            let mut prev = 0;
            assert!(Cursor::new(bytes).event(&mut prev).is_err());
        }
    }
}
