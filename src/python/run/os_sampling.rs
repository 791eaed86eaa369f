//! Each thread's run state as the OS keeps it (on a CPU, waiting for one, asleep on a lock or the GIL, in a selector): read from `/proc` under a budget of reads (at most 1000 a second, within a share of a core).

use super::*;

impl Driver {
    /// The threads of `pid` still running.
    pub(super) fn live_threads(&self, pid: u32) -> Vec<(u32, u64)> {
        self.threads
            .iter()
            .filter(|(k, th)| k.0 == pid && !th.ended)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The OS's word on threads of the processes just `read` (their GIL's
    /// address and holder), as many as the rota's budget allows: those
    /// that just took or lost a GIL first, then the next in turn. A holder
    /// is asked only whether it waited for a core; any other thread what it
    /// is doing (on a CPU, asleep on the GIL, in a selector).
    pub(super) fn read_os(&mut self, read: &HashMap<u32, (u64, Option<u64>)>, t: u64) {
        for (&pid, &(_, holder)) in read {
            let before = self.holders.insert(pid, holder).flatten();
            if before != holder {
                for tstate in [before, holder].into_iter().flatten() {
                    if let Some(key) = self.thread_of(pid, tstate) {
                        self.rota.soon(key);
                    }
                }
            }
        }
        let roster = self.roster.get_or_insert_with(|| {
            let mut live: Vec<_> = self
                .threads
                .iter()
                .filter(|(_, th)| !th.ended)
                .map(|(k, _)| *k)
                .collect();
            live.sort_unstable();
            live
        });
        let turn = self.rota.turn(t, roster, |k| read.contains_key(&k.0));
        if turn.is_empty() {
            return;
        }
        // Timed: the reads keep to a share of a core (two clock reads a
        // turn against one read of /proc or more).
        let cpu = crate::clock::thread_cpu_ns();
        let (mut reads, mut waits) = (0, Vec::new());
        for key in turn {
            let Some(th) = self.threads.get_mut(&key).filter(|th| !th.ended) else {
                continue;
            };
            let (gil, holder) = read[&key.0];
            let files = &mut self.open_files;
            reads += 1;
            if th.tstate != 0 && holder == Some(th.tstate) {
                // The holder computes: on a core, or waiting for one.
                waits.push((key, th.waited_for_a_core(key, files)));
                continue;
            }
            let os = th.syscall(key, files);
            if os != OsState::Unknown {
                let on_cpu = os == OsState::OnCpu;
                if on_cpu {
                    // On a CPU without the GIL is mostly a moment on the way
                    // to waiting for it: read it again soon, not in a turn.
                    self.rota.soon(key);
                    reads += 1;
                    waits.push((key, th.waited_for_a_core(key, files)));
                }
                self.pending.push((
                    t,
                    Seen::Os {
                        key,
                        on_cpu,
                        on_gil: os.on_gil(gil),
                        io: os.io(),
                        locked: lock_wait(
                            &self.rings,
                            &self.waiters,
                            key.0,
                            th.slot,
                            os,
                            Some(gil),
                        ),
                        untimed: os.untimed_futex(),
                    },
                ));
            }
        }
        self.rota
            .spent(reads, crate::clock::thread_cpu_ns().saturating_sub(cpu));
        for (key, w) in waits {
            self.waited(key, t, w);
        }
    }

    /// The first queue's traffic since its last reading, where it is read
    /// from outside. A queue that can no longer be read (its process ended,
    /// or it was freed) is read no more.
    pub(super) fn read_queues(&mut self, t: u64) {
        let mut traffic = Vec::new();
        self.watched.retain_mut(|q| {
            match q.read() {
                // Counts only grow: anything else is no longer its deque.
                Ok(now) if now.puts < q.last.puts || now.gets < q.last.gets => false,
                Ok(now) => {
                    if now != q.last {
                        traffic.push(Seen::Queue {
                            lane: q.lane,
                            puts: now.puts.saturating_sub(q.last.puts),
                            gets: now.gets.saturating_sub(q.last.gets),
                            depth: now.depth,
                        });
                        q.last = now;
                    }
                    true
                }
                Err(_) => false,
            }
        });
        self.pending.extend(traffic.into_iter().map(|s| (t, s)));
    }

    /// The live thread of `pid` whose thread state is `tstate`.
    pub(super) fn thread_of(&self, pid: u32, tstate: u64) -> Option<(u32, u64)> {
        self.threads
            .iter()
            .find(|(k, th)| k.0 == pid && th.tstate == tstate && !th.ended)
            .map(|(k, _)| *k)
    }

    /// Each live thread on a CPU or not, from the OS (Linux: /proc); one
    /// asleep outside any wait the probe knows is asked which call it is in
    /// (a selector's: io).
    pub(super) fn sample(&mut self) {
        if !cfg!(target_os = "linux") {
            return;
        }
        let t = self.clock.now();
        if self.pace.is_none() {
            // Not reading the GIL: the queues are read at this pace instead.
            self.read_queues(t);
        }
        // Where the GIL is read, its readings say more, and more often.
        let measured = |pid: &u32| self.interps.get(pid).is_some_and(|i| i.gil.is_some());
        let mut keys: Vec<(u32, u64)> = self
            .threads
            .iter()
            .filter(|(k, th)| !th.ended && !measured(&k.0))
            .map(|(k, _)| *k)
            .collect();
        keys.sort_unstable();
        for &key in &keys {
            let files = &mut self.open_files;
            let Some(th) = self.threads.get_mut(&key) else {
                continue;
            };
            let Some(on_cpu) = th.runnable(key, files) else {
                continue;
            };
            let os = if !on_cpu && th.waits.is_empty() {
                th.syscall(key, files)
            } else {
                OsState::Unknown
            };
            let waited = on_cpu.then(|| th.waited_for_a_core(key, files)).flatten();
            self.pending.push((
                t,
                Seen::Os {
                    key,
                    on_cpu,
                    on_gil: false,
                    io: os.io(),
                    locked: lock_wait(&self.rings, &self.waiters, key.0, th.slot, os, None),
                    untimed: os.untimed_futex(),
                },
            ));
            self.waited(key, t, waited);
        }
        keys.dedup_by_key(|k| k.0);
        for (pid, _) in keys {
            if self.interps.get(&pid).is_some_and(|i| !i.no_gil) {
                self.pending.push((t, Seen::Infer { pid }));
            }
        }
    }
}

/// What a thread the OS finds asleep on a futex (not the GIL's) waits in:
/// the wait its ring slot names (where the probe marks a queue's waits
/// itself: no memory to read), or a queue's condition whose waiters hold
/// that futex, else a lock.
pub(super) fn lock_wait(
    rings: &HashMap<u32, Ring>,
    waiters: &[queues::Waiters],
    pid: u32,
    slot: Option<u32>,
    os: OsState,
    gil: Option<u64>,
) -> Option<WorkerState> {
    if !os.on_lock(gil) {
        return None;
    }
    let OsState::Blocked { arg: futex, .. } = os else {
        return None;
    };
    let on_queue = || {
        waiters
            .iter()
            .filter(|w| w.pid == pid)
            .find(|w| w.has(futex).unwrap_or(false))
            .map(|w| w.state)
    };
    let named = || {
        slot.and_then(|i| rings.get(&pid)?.slot(i))
            .filter(|&b| b != 0)
            .and_then(crate::wire::state_of)
    };
    Some(named().or_else(on_queue).unwrap_or(WorkerState::LockWait))
}

/// Read a thread's `/proc` file `name` with `read`: the file kept open in
/// `slot` while fewer than `MAX_OPEN` are (`open_files` counts them); past
/// that, opened for this one read.
pub(super) fn kept<R>(
    slot: &mut Option<TaskFile>,
    key: (u32, u64),
    name: &str,
    open_files: &mut usize,
    read: impl FnOnce(&TaskFile) -> R,
) -> R {
    if slot.is_none() && *open_files < MAX_OPEN {
        *slot = Some(TaskFile::open(key.0, key.1, name));
        *open_files += 1;
    }
    match slot {
        Some(f) => read(f),
        None => read(&TaskFile::open(key.0, key.1, name)),
    }
}
