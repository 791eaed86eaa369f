//! Reading one process's probe ring (see `assets/probe/_parlab_probe.py`):
//! 64-byte records, `seq` last; a slot whose `seq` is the one expected is
//! new, one ahead was overwritten (the reader fell a lap behind: counted),
//! one behind is not written yet.

use std::fs::File;
use std::path::Path;

const MAGIC: &[u8; 8] = b"PLPROBE1";
const HEADER: u64 = 64;
const REC: usize = 64;
/// Slots read per system call.
const CHUNK: u64 = 512;

/// Record kinds, as the probe numbers them.
pub use crate::wire::record as kind;

/// One record.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub t: u64,
    pub tid: u64,
    pub kind: u16,
    pub state: u16,
    pub a: u32,
    pub b: u64,
    pub text: String,
    /// The text field's bytes, for records that carry numbers there.
    pub raw: [u8; 24],
}

impl Record {
    /// The `i`th little-endian u64 of the text field.
    pub fn raw_u64(&self, i: usize) -> u64 {
        u64_at(&self.raw, i * 8)
    }
}

/// A process's ring, read from where the last read stopped.
pub struct Ring {
    file: File,
    pub pid: u32,
    cap: u64,
    /// Thread slots after the records.
    slots: u32,
    next: u64,
    /// Records overwritten before they were read.
    pub dropped: u64,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, at)
}

#[cfg(windows)]
fn read_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, at)
}

impl Ring {
    /// The ring at `path`, once its header is complete (the probe renames it into place then).
    pub fn open(path: &Path) -> Option<Self> {
        let file = File::open(path).ok()?;
        let mut h = [0u8; 28];
        if read_at(&file, &mut h, 0).ok()? < 28 || &h[..8] != MAGIC {
            return None;
        }
        let (pid, rec, cap) = (u32_at(&h, 12), u32_at(&h, 16), u32_at(&h, 20));
        (rec as usize == REC && cap > 0).then_some(Self {
            file,
            pid,
            cap: cap as u64,
            slots: u32_at(&h, 24),
            next: 0,
            dropped: 0,
        })
    }

    /// What thread slot `i` says it waits in, as the probe numbers states
    /// (0: none): a byte after the records, written as a wait the OS sees
    /// only as a futex (a queue's condition) begins and cleared as it ends.
    pub fn slot(&self, i: u32) -> Option<u8> {
        if i >= self.slots {
            return None;
        }
        let mut b = [0u8; 1];
        let at = HEADER + self.cap * REC as u64 + i as u64;
        (read_at(&self.file, &mut b, at).ok()? == 1).then_some(b[0])
    }

    /// Every record written since the last read, in order.
    pub fn read(&mut self, out: &mut Vec<Record>) {
        let mut buf = vec![0u8; (CHUNK as usize) * REC];
        loop {
            let slot = self.next % self.cap;
            let n = CHUNK.min(self.cap - slot);
            let want = &mut buf[..n as usize * REC];
            let Ok(got) = read_at(&self.file, want, HEADER + slot * REC as u64) else {
                return;
            };
            let whole = got / REC;
            let mut taken = 0;
            for r in want[..whole * REC].chunks_exact(REC) {
                let seq = u64_at(r, 56);
                if seq == self.next + 1 {
                    out.push(parse(r));
                } else if seq > self.next + 1 && (seq - 1) % self.cap == self.next % self.cap {
                    // Lapped: the records between were overwritten.
                    self.dropped += seq - 1 - self.next;
                    self.next = seq - 1;
                    out.push(parse(r));
                } else {
                    return;
                }
                self.next += 1;
                taken += 1;
            }
            if taken < n as usize {
                return;
            }
        }
    }
}

fn parse(r: &[u8]) -> Record {
    let text = &r[32..56];
    let end = text.iter().position(|&c| c == 0).unwrap_or(text.len());
    Record {
        t: u64_at(r, 0),
        tid: u64_at(r, 8),
        kind: u16::from_le_bytes([r[16], r[17]]),
        state: u16::from_le_bytes([r[18], r[19]]),
        a: u32_at(r, 20),
        b: u64_at(r, 24),
        text: String::from_utf8_lossy(&text[..end]).into_owned(),
        raw: text.try_into().expect("24 bytes"),
    }
}
