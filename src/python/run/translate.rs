//! Records and readings as the lab's events: the probe's records (threads, tasks, waits, queues, caches) and the GIL and OS readings between them, in time order. Pure: it reads no file.

use super::*;

/// Conditions whose waiters a process keeps read: a queue has two, so the
/// newest eight queues' (a thread asleep on a futex costs a read of each).
const WAITERS_KEPT: usize = 16;

impl Driver {
    /// A reading, applied at `t`.
    pub(super) fn apply(&mut self, seen: Seen, t: u64) {
        match seen {
            Seen::Holders(holders) => {
                // One pass over the threads, however many processes were read.
                let holders: HashMap<u32, Option<u64>> = holders.into_iter().collect();
                let mut changed = Vec::new();
                for (key, th) in self.threads.iter_mut().filter(|(_, th)| !th.ended) {
                    let Some(&tstate) = holders.get(&key.0) else {
                        continue;
                    };
                    let holds = th.tstate != 0 && tstate == Some(th.tstate);
                    if holds != th.holds {
                        th.holds = holds;
                        changed.push((*key, th.lane, holds));
                    }
                }
                for (key, lane, holds) in changed {
                    self.push(t, lane, EventKind::GilHeld(holds));
                    self.show(key, t);
                }
            }
            Seen::Os {
                key,
                on_cpu,
                on_gil,
                io,
                locked,
                untimed,
            } => {
                if let Some(th) = self.threads.get_mut(&key) {
                    (th.on_cpu, th.on_gil, th.io, th.locked) = (on_cpu, on_gil, io, locked);
                    th.untimed = untimed;
                }
                self.show(key, t);
            }
            Seen::Queue {
                lane,
                puts,
                gets,
                depth,
            } => {
                let depth = depth.min(u32::MAX as u64) as u32;
                let q = &mut self.queue_stats;
                (q.puts, q.gets) = (q.puts + puts, q.gets + gets);
                q.max_depth = q.max_depth.max(depth);
                // The model counts one event an operation, as recorded ones.
                for _ in 0..puts {
                    self.push(t, lane, EventKind::QueuePut { task: 0, depth });
                }
                for _ in 0..gets {
                    self.push(t, lane, EventKind::QueueGet { task: 0, depth });
                }
            }
            Seen::Ready { key, ready } => {
                if let Some(th) = self.threads.get_mut(&key) {
                    th.ready = ready;
                }
                self.show(key, t);
            }
            Seen::Stack { key, frames, held } => self.stack_seen(key, frames, held, t),
            Seen::Infer { pid } => {
                // One thread running Python code while another is off the
                // CPU in no wait the probe or the OS names (a futex wait
                // with no timeout is a lock's): that one is taken to wait
                // for the GIL.
                let keys = self.live_threads(pid);
                let python = |th: &Thread| th.on_cpu && th.waits.is_empty();
                let busy = keys
                    .iter()
                    .filter(|k| self.threads.get(k).is_some_and(python))
                    .count();
                for key in keys {
                    if let Some(th) = self.threads.get_mut(&key) {
                        th.on_gil = busy > 0 && !th.on_cpu && th.waits.is_empty() && !th.untimed;
                    }
                    self.show(key, t);
                }
            }
        }
    }

    /// A runnable thread's wait for a core since its last reading (`waited`
    /// ns, counted by the OS once the wait ends): `ready` for that long,
    /// ending at this reading `t`.
    pub(super) fn waited(&mut self, key: (u32, u64), t: u64, waited: Option<u64>) {
        if let Some(w) = waited.filter(|&w| w >= crate::runqueue::NOISE_NS) {
            let from = t.saturating_sub(w).max(self.applied_to);
            self.pending.push((from, Seen::Ready { key, ready: true }));
            self.pending.push((t, Seen::Ready { key, ready: false }));
        }
    }

    pub(super) fn push(&mut self, t: u64, lane: LaneId, kind: EventKind) {
        self.batch.push(Event { t, lane, kind });
    }

    /// A probe record, on parlab's clock, as the lab's events.
    pub(super) fn record(&mut self, pid: u32, r: Record) {
        let t = r.t.saturating_sub(self.clock.origin());
        let key = (pid, r.tid);
        match r.kind {
            kind::HELLO => self.hello(pid, &r),
            kind::THREAD_START => self.thread_start(key, r, t),
            kind::PROCESS_NAME => {
                self.names.insert(pid, r.text.clone());
                if self.threads.contains_key(&(pid, pid as u64)) {
                    self.announce((pid, pid as u64), r.text, Role::Process, t);
                }
            }
            kind::THREAD_END => self.thread_end(key, t),
            kind::THREAD_IDENT => {
                self.idents.insert((pid, r.b), key);
            }
            kind::SWITCH_INTERVAL => {
                if let Some(i) = self.interps.get_mut(&pid) {
                    i.interval_us = u64::from(r.a);
                }
            }
            kind::TASK_START | kind::TASK_END => self.task_record(key, r, t),
            kind::ENTER | kind::LEAVE => {
                let Some(th) = self.threads.get_mut(&key) else {
                    return;
                };
                let state = u8::try_from(r.state)
                    .ok()
                    .and_then(crate::wire::state_of)
                    .unwrap_or(WorkerState::Idle);
                if r.kind == kind::ENTER {
                    th.waits.push(state);
                } else if let Some(at) = th.waits.iter().rposition(|&w| w == state) {
                    th.waits.remove(at);
                }
                self.show(key, t);
            }
            kind::QUEUE_NEW | kind::QUEUE_AT | kind::QUEUE_DEPTH => self.queue_record(key, &r, t),
            kind::WAITERS_AT => self.waiters_at(pid, &r),
            kind::CACHE => {
                let Some(lane) = self.threads.get(&key).map(|th| th.lane) else {
                    return;
                };
                let (misses, currsize) = (r.raw_u64(0), r.raw_u64(1));
                let totals = EventKind::CacheTotals {
                    hits: r.b,
                    misses,
                    currsize,
                };
                self.push(t, lane, totals);
            }
            _ => {}
        }
    }

    /// A process's first record: where its interpreter lies, its switch
    /// interval, whether it has a GIL.
    fn hello(&mut self, pid: u32, r: &Record) {
        let (interp, interval_us, has_gil) = (r.raw_u64(0), r.raw_u64(1), r.raw_u64(2));
        let unread = (self.pace.is_some() && has_gil != 0 && interp == 0 && r.b == 0)
            .then(|| "the probe could not say where the interpreter is (no ctypes?)".into());
        let interp = Interp {
            regions: [interp, r.b],
            interval_us,
            no_gil: has_gil == 0,
            unread,
            ..Interp::default()
        };
        self.interps.insert(pid, interp);
        if let Some(stacks) = &self.stacks {
            stacks.watch(pid);
        }
    }

    /// A thread (or a process's main thread) starts: a lane of its own.
    fn thread_start(&mut self, key: (u32, u64), r: Record, t: u64) {
        let pid = key.0;
        let lane = self.next_lane;
        self.next_lane += 1;
        let role = if pid != self.root && r.tid == pid as u64 {
            Role::Process
        } else {
            Role::Thread
        };
        let name = match (role, self.names.get(&pid)) {
            (Role::Process, Some(n)) => n.clone(),
            _ => r.text,
        };
        let mut thread = Thread::new(lane, r.b);
        thread.main = key == (self.root, self.root as u64);
        thread.slot = r.a.checked_sub(1);
        self.threads.insert(key, thread);
        self.roster = None;
        self.announce(key, name, role, t);
    }

    /// A thread ends (its files closed); a main thread's end is its interpreter's.
    fn thread_end(&mut self, key: (u32, u64), t: u64) {
        if let Some(th) = self.threads.get_mut(&key).filter(|th| !th.ended) {
            th.ended = true;
            self.roster = None;
            self.open_files -= [th.os.take(), th.stat.take(), th.sched.take()]
                .iter()
                .filter(|f| f.is_some())
                .count();
            let lane = th.lane;
            self.push(t, lane, EventKind::LaneEnd);
        }
        if key.1 == key.0 as u64 {
            // The main thread's end is the interpreter's: nothing more to read.
            if let Some(i) = self.interps.get_mut(&key.0) {
                i.ended = true;
            }
        }
    }

    /// A task starts (numbered in the order seen) or ends on a thread.
    fn task_record(&mut self, key: (u32, u64), r: Record, t: u64) {
        let Some(lane) = self.threads.get(&key).map(|th| th.lane) else {
            return;
        };
        let th = self.threads.get_mut(&key).expect("looked up above");
        if r.kind == kind::TASK_START {
            th.tasks += 1;
            let task = self.next_task;
            self.next_task += 1;
            self.tasks.insert((key.0, r.a), task);
            self.push(t, lane, EventKind::Task { task, name: r.text });
            self.push(t, lane, EventKind::TaskStart { task });
        } else {
            th.tasks = th.tasks.saturating_sub(1);
            if let Some(task) = self.tasks.remove(&(key.0, r.a)) {
                self.push(t, lane, EventKind::TaskEnd { task, ok: r.b == 1 });
            }
        }
    }

    /// Where a queue's condition keeps its waiters. A process keeps its
    /// newest [`WAITERS_KEPT`] (each is read when one of its threads sleeps
    /// on a futex): a wait on an older queue's condition shows as a lock wait.
    fn waiters_at(&mut self, pid: u32, r: &Record) {
        let Some(w) = queues::Waiters::from_record(pid, r) else {
            return;
        };
        let kept = self.waiters.iter().filter(|w| w.pid == pid).count();
        if kept >= WAITERS_KEPT {
            if let Some(at) = self.waiters.iter().position(|w| w.pid == pid) {
                self.waiters.remove(at);
            }
        }
        self.waiters.push(w);
    }

    /// A record about a queue: made (its bound), where to read it from
    /// outside, or one recorded put or get.
    pub(super) fn queue_record(&mut self, key: (u32, u64), r: &Record, t: u64) {
        let pid = key.0;
        let Some(lane) = self.threads.get(&key).map(|th| th.lane) else {
            return;
        };
        let first = self.first_queue == Some((pid, r.a));
        match r.kind {
            kind::QUEUE_NEW if self.first_queue.is_none() => {
                self.first_queue = Some((pid, r.a));
                self.push(t, lane, EventKind::QueueBound { capacity: r.b });
            }
            // Only the first queue is shown: only it is read.
            kind::QUEUE_AT if first => {
                self.queue_stats.watched = true;
                self.watched
                    .push(queues::Watched::from_record(pid, r, lane));
            }
            kind::QUEUE_DEPTH if first => {
                let depth = r.b.min(u32::MAX as u64) as u32;
                let q = &mut self.queue_stats;
                q.max_depth = q.max_depth.max(depth);
                let kind = if r.state == 2 {
                    q.gets += 1;
                    q.getters.insert(lane);
                    EventKind::QueueGet { task: 0, depth }
                } else {
                    q.puts += 1;
                    q.putters.insert(lane);
                    EventKind::QueuePut { task: 0, depth }
                };
                self.push(t, lane, kind);
            }
            _ => {}
        }
    }

    pub(super) fn announce(&mut self, key: (u32, u64), name: String, role: Role, t: u64) {
        let Some(th) = self.threads.get(&key) else {
            return;
        };
        let (lane, shown) = (th.lane, th.shown);
        self.push(
            t,
            lane,
            EventKind::Lane {
                name,
                role,
                pid: key.0,
                tid: Some(key.1),
                // When it was asked to start is not known: no start cost shown.
                spawned_at: crate::event::SPAWN_UNKNOWN,
            },
        );
        self.push(t, lane, EventKind::State(shown));
    }

    /// The thread's state as shown, if it changed.
    pub(super) fn show(&mut self, key: (u32, u64), t: u64) {
        let Some(th) = self.threads.get_mut(&key) else {
            return;
        };
        let now = th.state();
        if now != th.shown && !th.ended {
            th.shown = now;
            let lane = th.lane;
            self.push(t, lane, EventKind::State(now));
        }
    }
}
