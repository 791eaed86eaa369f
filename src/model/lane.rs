//! One worker's history: its states over time, its tasks, its totals.

use crate::event::{LaneId, Role, WorkerState};
use std::collections::HashMap;

/// A stretch of time in one state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
    pub state: WorkerState,
}

/// Spans kept per lane before old ones are merged pairwise (bounded memory).
const MAX_SPANS: usize = 20_000;

/// One lane of the timeline.
#[derive(Clone, Debug)]
pub struct Lane {
    pub id: LaneId,
    pub name: String,
    pub role: Role,
    pub pid: u32,
    pub tid: Option<u64>,
    /// From the request to start this worker to its first event.
    pub spawn_ns: Option<u64>,
    pub state: WorkerState,
    /// When the current state began.
    pub since: u64,
    state_ns: [u64; WorkerState::COUNT],
    /// Closed spans, in time order.
    pub spans: Vec<Span>,
    /// Task start times, for task boundaries in the timeline.
    pub task_marks: Vec<u64>,
    pub tasks_done: u32,
    pub busy_ns: u64,
    /// When its thread or process ended, if it did before the run.
    pub end_ns: Option<u64>,
    active: HashMap<u32, u64>,
    busy_since: u64,
    /// Time holding the real GIL (a program's thread, read from its interpreter).
    gil_held_ns: u64,
    /// Since when it holds it, if it does.
    gil_since: Option<u64>,
}

impl Lane {
    /// A lane known only by id (its announcement may arrive later).
    pub fn new(id: LaneId) -> Self {
        Self {
            id,
            name: format!("lane-{id}"),
            role: Role::Thread,
            pid: 0,
            tid: None,
            spawn_ns: None,
            state: WorkerState::Idle,
            since: u64::MAX,
            state_ns: [0; WorkerState::COUNT],
            spans: Vec::new(),
            task_marks: Vec::new(),
            tasks_done: 0,
            busy_ns: 0,
            end_ns: None,
            active: HashMap::new(),
            busy_since: 0,
            gil_held_ns: 0,
            gil_since: None,
        }
    }

    /// Enter `state` at `t`, closing the current span.
    pub fn enter(&mut self, t: u64, state: WorkerState) {
        if self.since == u64::MAX {
            self.since = t;
        }
        self.close(t);
        self.state = state;
    }

    /// When its first state began, if it has had one.
    pub fn born(&self) -> Option<u64> {
        self.spans
            .first()
            .map(|s| s.start)
            .or((self.since != u64::MAX).then_some(self.since))
    }

    /// The thread took (`held`) or let go of the real GIL at `t`.
    pub fn gil_held(&mut self, t: u64, held: bool) {
        match (self.gil_since, held) {
            (None, true) => self.gil_since = Some(t),
            (Some(since), false) => {
                self.gil_held_ns += t.saturating_sub(since);
                self.gil_since = None;
            }
            _ => {}
        }
    }

    /// Time holding the real GIL, counting a hold still open at `now`.
    pub fn gil_held_ns_at(&self, now: u64) -> u64 {
        let open = self.gil_since.map_or(0, |s| now.saturating_sub(s));
        self.gil_held_ns + open
    }

    /// The thread or process ended at `t`: its life ends there, not at the run's end.
    pub fn end(&mut self, t: u64) {
        if self.end_ns.is_none() {
            self.gil_held(t, false);
            self.close(t);
            self.end_ns = Some(t.max(self.since.min(t)));
        }
    }

    /// Close the open span at `t` (events from two processes may be slightly out of order: clamp).
    pub fn close(&mut self, t: u64) {
        if self.since == u64::MAX || self.end_ns.is_some() {
            return;
        }
        let t = t.max(self.since);
        if t > self.since {
            self.state_ns[self.state.index()] += t - self.since;
            match self.spans.last_mut() {
                Some(last) if last.state == self.state && last.end == self.since => last.end = t,
                _ => self.spans.push(Span {
                    start: self.since,
                    end: t,
                    state: self.state,
                }),
            }
            if self.spans.len() > MAX_SPANS {
                self.thin();
            }
        }
        self.since = t;
    }

    /// Merge the older half of the spans pairwise, keeping the longer state of each pair.
    fn thin(&mut self) {
        let half = self.spans.len() / 2;
        let merged: Vec<Span> = self.spans[..half]
            .chunks(2)
            .map(|c| {
                let longest = c.iter().max_by_key(|s| s.end - s.start).expect("non-empty");
                Span {
                    start: c[0].start,
                    end: c[c.len() - 1].end,
                    state: longest.state,
                }
            })
            .collect();
        self.spans.splice(..half, merged);
    }

    /// A task began.
    pub fn task_start(&mut self, t: u64, task: u32) {
        if self.active.is_empty() {
            self.busy_since = t;
        }
        self.active.insert(task, t);
        self.task_marks.push(t);
        if self.task_marks.len() > MAX_SPANS {
            self.task_marks.drain(..MAX_SPANS / 2);
        }
    }

    /// A task ended; returns how long it took.
    pub fn task_end(&mut self, t: u64, task: u32, ok: bool) -> u64 {
        let began = self.active.remove(&task).unwrap_or(t);
        if self.active.is_empty() {
            self.busy_ns += t.saturating_sub(self.busy_since);
        }
        if ok {
            self.tasks_done += 1;
        }
        t.saturating_sub(began)
    }

    /// Time spent in `state`, counting the open span up to `now`.
    pub fn state_ns_at(&self, state: WorkerState, now: u64) -> u64 {
        let open = if self.state == state && self.since != u64::MAX && self.end_ns.is_none() {
            now.saturating_sub(self.since)
        } else {
            0
        };
        self.state_ns[state.index()] + open
    }

    /// Busy time, counting a task still running at `now`.
    pub fn busy_ns_at(&self, now: u64) -> u64 {
        let open = if self.active.is_empty() {
            0
        } else {
            now.saturating_sub(self.busy_since)
        };
        self.busy_ns + open
    }

    /// The state that filled most of `[t0, t1)`, or `None` before the lane existed.
    pub fn dominant_state(&self, t0: u64, t1: u64, now: u64) -> Option<WorkerState> {
        let time = self.mix(t0, t1, now);
        let most = WorkerState::ALL
            .into_iter()
            .max_by_key(|s| time[s.index()])?;
        (time[most.index()] > 0).then_some(most)
    }

    /// Time in each state within `[t0, t1)` (by [`WorkerState::index`]); all
    /// zero before the lane existed and after it ended.
    pub fn mix(&self, t0: u64, t1: u64, now: u64) -> [u64; WorkerState::COUNT] {
        let mut time = [0u64; WorkerState::COUNT];
        let from = self.spans.partition_point(|s| s.end <= t0);
        for s in &self.spans[from..] {
            if s.start >= t1 {
                break;
            }
            time[s.state.index()] += s.end.min(t1).saturating_sub(s.start.max(t0));
        }
        // A lane that ended has no open span: nothing is drawn after its end.
        let now = self.end_ns.map_or(now, |e| e.min(now));
        if self.since != u64::MAX && self.since < t1 && now > t0 {
            let (a, b) = (self.since.max(t0), now.min(t1));
            if b > a {
                time[self.state.index()] += b - a;
            } else if self.since <= t0 && now >= t0 {
                time[self.state.index()] += 1;
            }
        }
        time
    }

    /// Whether a task began in `[t0, t1)`.
    pub fn task_began_in(&self, t0: u64, t1: u64) -> bool {
        let i = self.task_marks.partition_point(|&m| m < t0);
        self.task_marks.get(i).is_some_and(|&m| m < t1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominant_state_weighs_overlap() {
        let mut lane = Lane::new(0);
        lane.enter(0, WorkerState::Running);
        lane.enter(70, WorkerState::GilWait);
        lane.enter(100, WorkerState::Idle);
        assert_eq!(lane.dominant_state(0, 100, 100), Some(WorkerState::Running));
        assert_eq!(
            lane.dominant_state(60, 100, 100),
            Some(WorkerState::GilWait)
        );
        assert_eq!(lane.dominant_state(100, 200, 150), Some(WorkerState::Idle));
        assert!(lane.dominant_state(0, 10, 0).is_some());
    }

    #[test]
    fn spans_stay_bounded() {
        let mut lane = Lane::new(0);
        for i in 0..100_000u64 {
            let s = if i % 2 == 0 {
                WorkerState::Running
            } else {
                WorkerState::GilWait
            };
            lane.enter(i * 10, s);
        }
        assert!(lane.spans.len() <= MAX_SPANS);
        assert_eq!(
            lane.state_ns_at(WorkerState::Running, 1_000_000)
                + lane.state_ns_at(WorkerState::GilWait, 1_000_000),
            1_000_000
        );
    }
}
