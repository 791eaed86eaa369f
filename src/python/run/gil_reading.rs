//! Each interpreter's GIL read from its memory: found once, then read at the pace asked; reading that fails falls back to inferring it.

use super::*;

impl Driver {
    /// Find the GIL of processes that said where to look.
    pub(super) fn find_gils(&mut self) {
        let pids: Vec<u32> = self
            .interps
            .iter()
            .filter(|(_, i)| {
                i.gil.is_none()
                    && !i.no_gil
                    && !i.ended
                    && i.failed_at.is_none()
                    && i.tries < FIND_TRIES
                    && i.regions.iter().any(|&r| r != 0)
            })
            .map(|(p, _)| *p)
            .collect();
        for pid in pids {
            let tstates: std::collections::HashSet<u64> = self
                .threads
                .iter()
                .filter(|(k, th)| k.0 == pid && th.tstate != 0)
                .map(|(_, th)| th.tstate)
                .collect();
            // A forked child has its parent's addresses: try the GIL found there first.
            let regions = self.interps.get(&pid).map(|i| i.regions);
            let hint = self
                .interps
                .values()
                .find(|o| Some(o.regions) == regions && o.gil.is_some())
                .and_then(|o| o.gil);
            let Some(i) = self.interps.get_mut(&pid) else {
                continue;
            };
            i.tries += 1;
            let found = match hint.filter(|&at| gil::is_gil(pid, at, i.interval_us, &tstates)) {
                Some(at) => Ok(Some(at)),
                None => gil::locate(pid, i.regions, i.interval_us, &tstates),
            };
            i.unread = match &found {
                Ok(Some(_)) => None,
                Ok(None) => Some("not found near _PyRuntime or the interpreter".into()),
                Err(e) => Some(format!("its memory could not be read ({e})")),
            };
            i.gil = found.ok().flatten();
        }
    }

    /// Read each process's GIL, and what every thread not holding it is
    /// doing: on a CPU, asleep on the GIL, or elsewhere.
    pub(super) fn sample_gil(&mut self) {
        let t = self.clock.now();
        self.samples += 1;
        let pids: Vec<(u32, u64)> = self
            .interps
            .iter()
            .filter(|(_, i)| !i.ended)
            .filter_map(|(p, i)| Some((*p, i.gil?)))
            .collect();
        self.read_queues(t);
        let mut read = HashMap::with_capacity(pids.len());
        for (pid, addr) in pids {
            match gil::read_word(pid, addr) {
                Ok(w) if w.valid() => {
                    if let Some(i) = self.interps.get_mut(&pid) {
                        let first = i.switches.map_or(w.switch_number, |s| s.0);
                        i.switches = Some((first, w.switch_number));
                        i.interval_us = w.interval_us;
                    }
                    read.insert(pid, (addr, w.holder()));
                }
                Err(e) if gone(&e) => {
                    if let Some(i) = self.interps.get_mut(&pid) {
                        i.ended = true;
                    }
                }
                other => self.gil_lost(pid, t, other.err()),
            }
        }
        if !read.is_empty() {
            let holders = read.iter().map(|(&pid, &(_, h))| (pid, h)).collect();
            self.pending.push((t, Seen::Holders(holders)));
            self.read_os(&read, t);
        }
    }

    /// Reading `pid`'s GIL failed while it ran: from `t` on it is inferred.
    pub(super) fn gil_lost(&mut self, pid: u32, t: u64, why: Option<std::io::Error>) {
        let Some(i) = self.interps.get_mut(&pid) else {
            return;
        };
        i.gil = None;
        i.failed_at = Some(t);
        let why = why.map_or("it no longer reads as a GIL".to_string(), |e| e.to_string());
        self.pending.push((t, Seen::Holders(vec![(pid, None)])));
        if let Some(lane) = self.threads.get(&(pid, pid as u64)).map(|th| th.lane) {
            self.push(
                t,
                lane,
                EventKind::Log {
                    text: format!(
                        "the GIL of pid {pid} could not be read ({why}): inferred from here on"
                    ),
                },
            );
        }
    }
}
