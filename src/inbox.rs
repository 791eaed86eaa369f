//! How batches of events travel from the workers to the model, so that the
//! model never waits for a worker.
//!
//! A queue shared by every worker cannot promise that: a sender that has
//! claimed a slot and is preempted before it fills it holds up the receiver
//! (crossbeam's channels spin on such a slot). With 1024 workers lowered to
//! nice 10 on two cores a preempted worker may wait more than a second for
//! a core, and the UI's frame loop spun with it: the lab froze for a
//! teacher without real-time priority. Here each [`Outbox`] (one per worker
//! thread, see [`crate::event::BatchSink::lane_sink`]) has a box of its own;
//! the receiver only *tries* each box's lock and passes over one whose
//! sender is mid-push, taking its batches on the next pass. One lane's
//! batches keep their order; batches of different lanes arrive in time
//! order within a pass.
//!
//! The receiver never frees what a sender allocated either: it copies a
//! box's batches out (the box's own buffer stays with it) and gives each
//! emptied batch back ([`Inbox::recycle`]) for a sender to fill again
//! ([`Outbox::spare`]). With glibc, freeing another thread's memory takes
//! that thread's arena lock; a lowered worker preempted while holding it
//! held the UI for seconds.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// What the receiver orders a pass by: a batch's first event's time.
pub trait Stamp {
    fn stamp(&self) -> u64;
}

/// A new pair: the first sending end and the receiving end.
pub fn channel<T>() -> (Outbox<T>, Inbox<T>) {
    let shared = Arc::new(Shared::default());
    shared.receiving.store(true, Ordering::Relaxed);
    let outbox = Outbox::open(&shared);
    let inbox = Inbox {
        shared,
        boxes: Vec::new(),
        seen: u64::MAX,
    };
    (outbox, inbox)
}

struct Shared<T> {
    /// Every open box (and closed ones not yet emptied).
    boxes: Mutex<Vec<Arc<Slot<T>>>>,
    /// Bumped when a box is added, so the receiver re-reads the list.
    generation: AtomicU64,
    /// Batches sent and not yet received.
    backlog: AtomicUsize,
    /// Open sending ends.
    senders: AtomicUsize,
    /// The receiving end is still there.
    receiving: AtomicBool,
    /// A receiver parked in [`Inbox::recv_timeout`], for a sender to wake.
    parked: Mutex<Option<Thread>>,
    waiting: AtomicBool,
    /// Emptied batches given back, for senders to fill again.
    spare: Mutex<Vec<T>>,
}

/// Emptied batches kept for reuse; past this the receiver frees them.
const SPARE_MAX: usize = 4096;

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Self {
            boxes: Mutex::default(),
            generation: AtomicU64::default(),
            backlog: AtomicUsize::default(),
            senders: AtomicUsize::default(),
            receiving: AtomicBool::default(),
            parked: Mutex::default(),
            waiting: AtomicBool::default(),
            spare: Mutex::default(),
        }
    }
}

struct Slot<T> {
    batches: Mutex<VecDeque<T>>,
    closed: AtomicBool,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self {
            batches: Mutex::default(),
            closed: AtomicBool::default(),
        }
    }
}

/// A sending end with a box of its own. Cloning opens another box.
pub struct Outbox<T> {
    shared: Arc<Shared<T>>,
    slot: Arc<Slot<T>>,
}

impl<T> Outbox<T> {
    fn open(shared: &Arc<Shared<T>>) -> Self {
        let slot = Arc::new(Slot::default());
        shared.senders.fetch_add(1, Ordering::AcqRel);
        lock(&shared.boxes).push(slot.clone());
        shared.generation.fetch_add(1, Ordering::Release);
        Self {
            shared: shared.clone(),
            slot,
        }
    }

    /// Post a batch; it comes back if the receiving end has gone.
    pub fn send(&self, batch: T) -> Result<(), T> {
        if !self.shared.receiving.load(Ordering::Relaxed) {
            return Err(batch);
        }
        lock(&self.slot.batches).push_back(batch);
        self.shared.backlog.fetch_add(1, Ordering::Relaxed);
        self.shared.wake();
        Ok(())
    }

    /// Batches sent by every end and not yet received.
    pub fn backlog(&self) -> usize {
        self.shared.backlog.load(Ordering::Relaxed)
    }

    /// An emptied batch the receiver gave back, if one is free right now.
    pub fn spare(&self) -> Option<T> {
        self.shared.spare.try_lock().ok()?.pop()
    }

    /// Whether the receiving end has gone.
    pub fn is_disconnected(&self) -> bool {
        !self.shared.receiving.load(Ordering::Relaxed)
    }
}

impl<T> Clone for Outbox<T> {
    fn clone(&self) -> Self {
        Self::open(&self.shared)
    }
}

impl<T> Drop for Outbox<T> {
    fn drop(&mut self) {
        self.slot.closed.store(true, Ordering::Release);
        self.shared.senders.fetch_sub(1, Ordering::AcqRel);
        self.shared.wake();
    }
}

impl<T> Shared<T> {
    /// Unpark a receiver waiting for batches, never waiting for it.
    fn wake(&self) {
        if self.waiting.load(Ordering::Acquire) {
            if let Ok(parked) = self.parked.try_lock() {
                if let Some(t) = parked.as_ref() {
                    t.unpark();
                }
            }
        }
    }
}

/// Why [`Inbox::recv_timeout`] returned without batches.
#[derive(Debug, PartialEq, Eq)]
pub enum Empty {
    /// Nothing arrived in time; senders remain.
    Timeout,
    /// Every sender has gone and every batch was received.
    Disconnected,
}

/// The receiving end: it never blocks on a sender.
pub struct Inbox<T> {
    shared: Arc<Shared<T>>,
    /// The boxes as last read, and the generation they were read at.
    boxes: Vec<Arc<Slot<T>>>,
    seen: u64,
}

impl<T: Stamp> Inbox<T> {
    /// Every batch that can be taken now without waiting for a sender, in
    /// time order across lanes (each lane's own order kept).
    pub fn try_recv_all(&mut self) -> Vec<T> {
        self.refresh();
        let mut runs = Vec::new();
        self.boxes.retain(|slot| {
            // Read before draining: a box closed by then holds nothing more after.
            let closed = slot.closed.load(Ordering::Acquire);
            match slot.batches.try_lock() {
                Ok(mut q) => {
                    runs.push(q.drain(..).collect());
                    !closed
                }
                Err(_) => true,
            }
        });
        self.taken(runs)
    }

    /// Every batch left, waiting for a box whose sender is mid-push: for the
    /// end of a run, when no sender is left to wait for long.
    pub fn drain(&mut self) -> Vec<T> {
        self.seen = u64::MAX;
        self.refresh_blocking();
        let mut runs = Vec::new();
        self.boxes.retain(|slot| {
            let closed = slot.closed.load(Ordering::Acquire);
            runs.push(lock(&slot.batches).drain(..).collect());
            !closed
        });
        self.taken(runs)
    }

    /// The batches available, waiting up to `timeout` for the first.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Vec<T>, Empty> {
        let deadline = Instant::now() + timeout;
        *lock(&self.shared.parked) = Some(std::thread::current());
        loop {
            self.shared.waiting.store(true, Ordering::Release);
            let gone = self.shared.senders.load(Ordering::Acquire) == 0;
            let batches = if gone {
                self.drain()
            } else {
                self.try_recv_all()
            };
            if !batches.is_empty() {
                self.shared.waiting.store(false, Ordering::Release);
                return Ok(batches);
            }
            if gone {
                self.shared.waiting.store(false, Ordering::Release);
                return Err(Empty::Disconnected);
            }
            let now = Instant::now();
            if now >= deadline {
                self.shared.waiting.store(false, Ordering::Release);
                return Err(Empty::Timeout);
            }
            // A box busy now, or a send after the pass: look again soon.
            std::thread::park_timeout((deadline - now).min(Duration::from_millis(5)));
        }
    }

    /// The batches available, waiting for the first; `None` once every
    /// sender has gone and every batch was received.
    pub fn recv(&mut self) -> Option<Vec<T>> {
        loop {
            match self.recv_timeout(Duration::from_secs(1)) {
                Ok(batches) => return Some(batches),
                Err(Empty::Disconnected) => return None,
                Err(Empty::Timeout) => {}
            }
        }
    }

    /// Every batch until every sender has gone, waiting as it goes.
    pub fn iter(&mut self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.recv()).flatten()
    }

    /// Batches sent and not yet received.
    pub fn backlog(&self) -> usize {
        self.shared.backlog.load(Ordering::Relaxed)
    }

    /// Give an emptied batch back for a sender to fill again, unless a
    /// sender holds the spares right now or enough are kept (then it is
    /// freed here).
    pub fn recycle(&self, batch: T) {
        if let Ok(mut spare) = self.shared.spare.try_lock() {
            if spare.len() < SPARE_MAX {
                spare.push(batch);
            }
        }
    }

    /// Whether every sender has gone.
    pub fn is_disconnected(&self) -> bool {
        self.shared.senders.load(Ordering::Acquire) == 0
    }

    /// One box's batches after another's, merged by stamp: each box keeps
    /// its own order (a box's stamps need not rise: one sender may post
    /// for many lanes).
    fn taken(&self, runs: Vec<VecDeque<T>>) -> Vec<T> {
        let n = runs.iter().map(VecDeque::len).sum();
        self.shared.backlog.fetch_sub(n, Ordering::Relaxed);
        let mut runs: Vec<VecDeque<T>> = runs.into_iter().filter(|r| !r.is_empty()).collect();
        let mut heads: BinaryHeap<Reverse<(u64, usize)>> = (runs.iter().enumerate())
            .map(|(i, r)| Reverse((r[0].stamp(), i)))
            .collect();
        let mut out = Vec::with_capacity(n);
        while let Some(Reverse((_, i))) = heads.pop() {
            out.extend(runs[i].pop_front());
            if let Some(next) = runs[i].front() {
                heads.push(Reverse((next.stamp(), i)));
            }
        }
        out
    }

    /// Re-read the list of boxes if one was added, unless a sender holds
    /// it right now (then the next pass will).
    fn refresh(&mut self) {
        let generation = self.shared.generation.load(Ordering::Acquire);
        if generation == self.seen {
            return;
        }
        if let Ok(mut boxes) = self.shared.boxes.try_lock() {
            self.boxes = open_boxes(&mut boxes);
            self.seen = generation;
        }
    }

    fn refresh_blocking(&mut self) {
        let generation = self.shared.generation.load(Ordering::Acquire);
        self.boxes = open_boxes(&mut lock(&self.shared.boxes));
        self.seen = generation;
    }
}

/// The shared list without the boxes closed and emptied, and a copy of it.
fn open_boxes<T>(boxes: &mut Vec<Arc<Slot<T>>>) -> Vec<Arc<Slot<T>>> {
    boxes.retain(|slot| {
        !slot.closed.load(Ordering::Acquire)
            || slot.batches.try_lock().map_or(true, |q| !q.is_empty())
    });
    boxes.clone()
}

impl<T> Drop for Inbox<T> {
    fn drop(&mut self) {
        self.shared.receiving.store(false, Ordering::Relaxed);
    }
}

/// A lock that a panicking holder leaves usable: a box holds plain batches.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch as the tests see it: its lane and time.
    #[derive(Debug, PartialEq)]
    struct B {
        lane: u32,
        t: u64,
    }

    impl Stamp for B {
        fn stamp(&self) -> u64 {
            self.t
        }
    }

    fn batch(lane: u32, t: u64) -> B {
        B { lane, t }
    }

    /// The receiver keeps nothing a sender allocated: a box's own buffer
    /// stays with the box, and an emptied batch goes back to the senders.
    #[test]
    fn the_receiver_gives_back_what_the_senders_allocated() {
        let (out, mut inbox) = channel::<B>();
        for t in 0..10 {
            out.send(batch(0, t)).unwrap();
        }
        let cap = |inbox: &Inbox<B>| lock(&inbox.boxes[0].batches).capacity();
        let got = inbox.try_recv_all();
        assert_eq!(got.len(), 10);
        assert!(cap(&inbox) >= 10, "the box keeps its buffer");
        assert!(out.spare().is_none());
        for b in got {
            inbox.recycle(b);
        }
        assert_eq!(out.spare(), Some(batch(0, 9)));
        // A sender holding the spares: the receiver frees, never waits.
        let held = lock(&inbox.shared.spare);
        inbox.recycle(batch(1, 1));
        drop(held);
        assert_eq!((0..20).filter_map(|_| out.spare()).count(), 9);
    }

    #[test]
    fn every_batch_arrives_once_in_each_lanes_order() {
        let (first, mut inbox) = channel::<B>();
        let senders: Vec<_> = (0..8u32)
            .map(|lane| {
                let out = first.clone();
                std::thread::spawn(move || {
                    for t in 0..500 {
                        out.send(batch(lane, t)).unwrap();
                    }
                })
            })
            .collect();
        drop(first);
        let mut got = Vec::new();
        loop {
            match inbox.recv_timeout(Duration::from_secs(5)) {
                Ok(b) => got.extend(b),
                Err(e) => {
                    assert_eq!(e, Empty::Disconnected);
                    break;
                }
            }
        }
        for s in senders {
            s.join().unwrap();
        }
        assert_eq!(got.len(), 8 * 500);
        for lane in 0..8 {
            let ts: Vec<u64> = got.iter().filter(|b| b.lane == lane).map(|b| b.t).collect();
            assert_eq!(ts, (0..500).collect::<Vec<_>>());
        }
        assert_eq!(inbox.backlog(), 0);
    }

    #[test]
    fn a_box_held_by_its_sender_does_not_hold_up_the_others() {
        let (a, mut inbox) = channel::<B>();
        let b = a.clone();
        a.send(batch(0, 1)).unwrap();
        b.send(batch(1, 2)).unwrap();
        // As if `a`'s sender were preempted mid-push.
        let held = a.slot.batches.lock().unwrap();
        let got = inbox.try_recv_all();
        assert_eq!(got, vec![batch(1, 2)]);
        drop(held);
        assert_eq!(inbox.try_recv_all(), vec![batch(0, 1)]);
    }

    #[test]
    fn a_pass_returns_batches_in_time_order_across_lanes() {
        let (a, mut inbox) = channel::<B>();
        let b = a.clone();
        b.send(batch(1, 5)).unwrap();
        a.send(batch(0, 3)).unwrap();
        a.send(batch(0, 9)).unwrap();
        // One box's own order stands even where its stamps fall.
        a.send(batch(0, 1)).unwrap();
        let ts: Vec<u64> = inbox.try_recv_all().iter().map(|b| b.t).collect();
        assert_eq!(ts, vec![3, 5, 9, 1]);
    }

    #[test]
    fn closed_boxes_are_let_go_and_a_gone_receiver_refuses_batches() {
        let (a, mut inbox) = channel::<B>();
        for _ in 0..100 {
            let b = a.clone();
            b.send(batch(1, 0)).unwrap();
        }
        assert_eq!(inbox.try_recv_all().len(), 100);
        inbox.try_recv_all();
        assert_eq!(inbox.boxes.len(), 1, "only the open box is kept");
        assert!(!inbox.is_disconnected());
        drop(inbox);
        assert!(a.is_disconnected());
        assert!(a.send(batch(0, 0)).is_err());
    }
}
