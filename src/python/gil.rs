//! The real GIL, read from outside the interpreter.
//!
//! Every CPython from 3.9 to 3.14 keeps its GIL in one struct whose first
//! words are `interval` (the switch interval, µs), `last_holder` (a
//! `PyThreadState *`), `locked` (an int) and `switch_number` (hand-offs so
//! far). 3.9–3.11 keep it in `_PyRuntime.ceval.gil`, 3.12 and later in the
//! interpreter (`interp->_gil`). Rather than a table of offsets per version,
//! parlab finds it by what it holds: the probe says where `_PyRuntime` and
//! the interpreter are, the switch interval, and each thread's
//! `PyThreadState`; the GIL is the place where the interval is followed by
//! one of those thread states and a 0 or 1. Each sample is then one read of
//! 32 bytes (`process_vm_readv`: no stop, no stack walk, no ptrace attach).
//!
//! A thread waiting for the GIL sleeps on the GIL's own condition variable,
//! which lies in the same struct: the OS says which address a blocked thread
//! waits on ([`super::os`]), so a wait for the GIL is seen as such, not
//! guessed. Linux only; elsewhere the GIL is inferred.

use std::collections::HashSet;

/// How often the GIL is read by default, per second.
pub const DEFAULT_HZ: u32 = 1000;
/// The fastest rate accepted.
pub const MAX_HZ: u32 = 10_000;
/// The GIL struct's span: its words, then its condition variables and
/// mutexes (208 bytes on glibc); a futex wait inside it is a wait for the GIL.
pub const SPAN: u64 = 256;
/// How far from `_PyRuntime` and from the interpreter the GIL may lie.
const REACH: [usize; 2] = [64 * 1024, 256 * 1024];

/// The GIL's first words, as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word {
    pub interval_us: u64,
    pub last_holder: u64,
    pub locked: u32,
    pub switch_number: u64,
}

impl Word {
    /// From the struct's first 32 bytes (native endianness: the reader is on
    /// the same machine as the interpreter).
    pub fn parse(b: &[u8; 32]) -> Self {
        let u64_at = |at: usize| u64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        Self {
            interval_us: u64_at(0),
            last_holder: u64_at(8),
            locked: u32::from_ne_bytes(b[16..20].try_into().expect("4 bytes")),
            switch_number: u64_at(24),
        }
    }

    /// The thread state holding the GIL now, if one does.
    pub fn holder(&self) -> Option<u64> {
        (self.locked == 1 && self.last_holder != 0).then_some(self.last_holder)
    }

    /// Still a GIL: `locked` is 0 or 1 and the interval is one Python
    /// accepts (a program may change it; memory reused is unlikely to pass).
    pub fn valid(&self) -> bool {
        self.locked <= 1 && (1..=100_000_000).contains(&self.interval_us)
    }
}

/// Where, in `mem` (read from `base`), the GIL is: the first 8-aligned
/// place holding `interval_us`, then one of `tstates`, then 0 or 1.
pub fn find(mem: &[u8], base: u64, interval_us: u64, tstates: &HashSet<u64>) -> Option<u64> {
    let word = |at: usize| u64::from_ne_bytes(mem[at..at + 8].try_into().expect("8 bytes"));
    (0..mem.len().saturating_sub(19))
        .step_by(8)
        .find(|&at| {
            word(at) == interval_us
                && tstates.contains(&word(at + 8))
                && matches!(
                    u32::from_ne_bytes(mem[at + 16..at + 20].try_into().expect("4 bytes")),
                    0 | 1
                )
        })
        .map(|at| base + at as u64)
}

/// Find the GIL of process `pid`, near `regions` (the interpreter's and
/// `_PyRuntime`'s addresses, as the probe said them): where it is, not
/// found (`Ok(None)`), or why its memory cannot be read.
pub fn locate(
    pid: u32,
    regions: [u64; 2],
    interval_us: u64,
    tstates: &HashSet<u64>,
) -> std::io::Result<Option<u64>> {
    if interval_us == 0 || tstates.is_empty() {
        return Ok(None);
    }
    for (&base, reach) in regions.iter().zip(REACH).filter(|(b, _)| **b != 0) {
        let mem = read_pages(pid, base, reach)?;
        if let Some(at) = find(&mem, base, interval_us, tstates) {
            return Ok(Some(at));
        }
    }
    Ok(None)
}

/// Whether the GIL of `pid` is at `at` (as in the process it was forked from).
pub fn is_gil(pid: u32, at: u64, interval_us: u64, tstates: &HashSet<u64>) -> bool {
    let mut b = [0u8; 32];
    matches!(read_memory(pid, at, &mut b), Ok(32)) && find(&b, at, interval_us, tstates) == Some(at)
}

/// Up to `len` bytes from `addr` on, a page at a time, stopping at the
/// first page that cannot be read (the end of a mapping); an error if not
/// even the first can.
fn read_pages(pid: u32, addr: u64, len: usize) -> std::io::Result<Vec<u8>> {
    const PAGE: usize = 4096;
    let mut out = Vec::with_capacity(len);
    let mut at = addr;
    while out.len() < len {
        // The first read ends at a page edge, so later ones are whole pages.
        let n = PAGE - (at as usize % PAGE);
        let mut buf = vec![0u8; n.min(len - out.len())];
        match read_memory(pid, at, &mut buf) {
            Ok(got) if got == buf.len() => out.extend_from_slice(&buf),
            Ok(got) => {
                out.extend_from_slice(&buf[..got]);
                break;
            }
            Err(e) if out.is_empty() => return Err(e),
            Err(_) => break,
        }
        at += buf.len() as u64;
    }
    Ok(out)
}

/// Read the GIL's first words in `pid` at `addr`.
pub fn read_word(pid: u32, addr: u64) -> std::io::Result<Word> {
    let mut b = [0u8; 32];
    let n = read_memory(pid, addr, &mut b)?;
    if n < b.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "short read of the GIL",
        ));
    }
    Ok(Word::parse(&b))
}

/// Copy `buf.len()` bytes of another process's memory from `addr`.
#[cfg(target_os = "linux")]
pub fn read_memory(pid: u32, addr: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    let len = buf.len();
    vm_readv(pid, buf, &[remote(addr, len)])
}

/// One word (8 bytes, native order) at each of `addrs` in process `pid`, in
/// one system call; fewer than asked where the reading stopped.
#[cfg(target_os = "linux")]
pub fn read_words(pid: u32, addrs: &[u64]) -> std::io::Result<Vec<u64>> {
    let mut bytes = vec![0u8; addrs.len() * 8];
    let remotes: Vec<libc::iovec> = addrs.iter().map(|&a| remote(a, 8)).collect();
    let n = vm_readv(pid, &mut bytes, &remotes)?;
    let words = bytes[..n - n % 8].chunks_exact(8);
    Ok(words
        .map(|w| u64::from_ne_bytes(w.try_into().expect("8 bytes")))
        .collect())
}

#[cfg(target_os = "linux")]
fn remote(addr: u64, len: usize) -> libc::iovec {
    libc::iovec {
        iov_base: addr as usize as *mut libc::c_void,
        iov_len: len,
    }
}

/// Fill `local` from the `remotes` ranges of process `pid`, in order: the
/// bytes copied (fewer where a range could not be read).
#[cfg(target_os = "linux")]
fn vm_readv(pid: u32, local: &mut [u8], remotes: &[libc::iovec]) -> std::io::Result<usize> {
    let local = libc::iovec {
        iov_base: local.as_mut_ptr().cast(),
        iov_len: local.len(),
    };
    // SAFETY: `local` covers the caller's buffer, which lives across the
    // call; the remote ranges are only read by the kernel, which checks them
    // against the other process. Callers pass few ranges (IOV_MAX is 1024).
    let n = unsafe {
        libc::process_vm_readv(
            pid as libc::pid_t,
            &local,
            1,
            remotes.as_ptr(),
            remotes.len() as libc::c_ulong,
            0,
        )
    };
    if n < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Elsewhere, another process's memory is not read.
#[cfg(not(target_os = "linux"))]
pub fn read_words(_pid: u32, _addrs: &[u64]) -> std::io::Result<Vec<u64>> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Elsewhere, another process's memory is not read (macOS needs an
/// entitlement): the GIL is inferred.
#[cfg(not(target_os = "linux"))]
pub fn read_memory(_pid: u32, _addr: u64, _buf: &mut [u8]) -> std::io::Result<usize> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "reading another process's memory is Linux-only here",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gil_bytes(interval: u64, holder: u64, locked: u32, switches: u64) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&interval.to_ne_bytes());
        b.extend_from_slice(&holder.to_ne_bytes());
        b.extend_from_slice(&locked.to_ne_bytes());
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&switches.to_ne_bytes());
        b
    }

    #[test]
    fn the_gil_is_found_by_its_interval_and_a_known_thread_state() {
        let tstates: HashSet<u64> = [0x5000_1000].into();
        let mut mem = vec![0u8; 64];
        // A decoy: the interval, then a pointer that is no thread state.
        mem.extend(gil_bytes(5000, 0xdead_beef, 1, 3));
        mem.extend(gil_bytes(5000, 0x5000_1000, 1, 7));
        mem.extend([0u8; 64]);
        let at = find(&mem, 0x1000, 5000, &tstates).expect("found");
        assert_eq!(at, 0x1000 + 64 + 32);
        let word = Word::parse(mem[96..128].try_into().unwrap());
        assert_eq!(word.holder(), Some(0x5000_1000));
        assert_eq!(word.switch_number, 7);
        assert_eq!(find(&mem, 0, 4000, &tstates), None, "another interval");
    }

    #[test]
    fn a_process_that_cannot_be_read_says_why() {
        let tstates: HashSet<u64> = [0x10].into();
        // No such process (pids are below 2^22 on Linux).
        let err = locate(u32::MAX / 2, [0x1000, 0], 5000, &tstates).unwrap_err();
        assert!(!err.to_string().is_empty());
    }

    #[test]
    fn an_unlocked_gil_has_no_holder() {
        let b = gil_bytes(5000, 0x77, 0, 1);
        assert_eq!(Word::parse(b[..32].try_into().unwrap()).holder(), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_reads_its_own_memory_as_another_would() {
        let data: [u64; 4] = [5000, 42, 1, 9];
        let word = read_word(std::process::id(), data.as_ptr() as u64).expect("readable");
        assert_eq!(word.holder(), Some(42));
        assert_eq!(word.switch_number, 9);
    }
}
