//! A recorded run played back: as a [`Source`] for headless use (its JSON is
//! the original's, field for field), and as a [`Playback`] the TUI steers:
//! at a pace, paused, stepped and seeked.

use crate::control::Control;
use crate::event::Event;
use crate::model::Lab;
use crate::recording::RecordedRun;
use crate::source::{Driven, Outcome};
use std::time::Duration;

/// Frames a replay decodes ahead of its reader.
const REPLAY_AHEAD: usize = 64;

/// A recorded run as a source: every event as fast as the reader takes
/// them, from a thread of its own; its outcome the recorded one.
pub struct Replay;

impl Replay {
    /// Feed `run`'s events from a thread of its own.
    pub fn start(run: &RecordedRun) -> Driven {
        let (tx, rx) = crate::inbox::channel();
        let control = Control::new();
        let (r, c) = (run.clone(), control.clone());
        let outcome = run.outcome();
        let driver = std::thread::spawn(move || {
            for f in r.frames() {
                // A reader that falls behind holds the replay back, so a
                // long recording is not read into memory all at once.
                while tx.backlog() >= REPLAY_AHEAD && !c.is_cancelled() && !tx.is_disconnected() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                if c.is_cancelled() || tx.send(r.frame_events(f)).is_err() {
                    break;
                }
            }
            Ok(outcome)
        });
        Driven {
            meta: run.header.meta.clone(),
            events: rx,
            control,
            driver,
        }
    }
}

/// What an applied event leaves behind in its decoded frame.
const PLACEHOLDER: Event = Event {
    t: 0,
    lane: 0,
    kind: crate::event::EventKind::GilSwitch,
};

/// The speeds a replay steps through.
pub const SPEEDS: [f64; 7] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];

/// A lab kept every so many events, so a seek back rebuilds from the nearest.
#[derive(Clone)]
struct Checkpoint {
    /// The frame it was taken before, and the events before that frame.
    frame: usize,
    events: u64,
    /// The latest time among those events: a seek to at least this keeps them all.
    gate: u64,
    lab: Lab,
}

/// A checkpoint at least every this many events (and at most 64 in all).
const CHECKPOINT_EVENTS: u64 = 250_000;
const MAX_CHECKPOINTS: u64 = 64;

/// A recorded run shown in the lab: its position, pace and checkpoints.
pub struct Playback {
    pub run: RecordedRun,
    /// The file it came from, for the status line.
    pub file: String,
    /// Where the recording ends (its last event, or the run's end).
    pub end_ns: u64,
    /// The lab at the end, for the Runs panel and comparisons.
    pub last: Lab,
    /// How the run ended (or what its recording holds).
    pub outcome: Outcome,
    checkpoints: Vec<Checkpoint>,
    /// The next frame to decode, its events, and the next of them to apply.
    frame: usize,
    pending: Vec<Event>,
    next: usize,
    /// Events applied.
    pub pos: u64,
    /// The time shown: every event applied is at or before it.
    pub at_ns: u64,
    pub speed: f64,
    pub paused: bool,
}

impl Playback {
    /// Read the run once, keeping checkpoints on the way; start at its beginning, playing.
    pub fn new(run: RecordedRun, file: String) -> Self {
        let meta = &run.header.meta;
        let every = (run.events / MAX_CHECKPOINTS).max(CHECKPOINT_EVENTS);
        let mut lab = Lab::for_run(meta);
        let mut checkpoints = vec![Checkpoint {
            frame: 0,
            events: 0,
            gate: 0,
            lab: lab.clone(),
        }];
        let mut since = 0;
        let mut events = Vec::new();
        for (i, f) in run.frames().iter().enumerate() {
            if since >= every {
                checkpoints.push(Checkpoint {
                    frame: i,
                    events: f.first,
                    gate: lab.now,
                    lab: lab.clone(),
                });
                since = 0;
            }
            run.frame_events_into(f, &mut events);
            for e in events.drain(..) {
                lab.apply_event(e);
            }
            since += f.count;
        }
        let outcome = run.outcome();
        let end_ns = outcome.end_ns.max(lab.now);
        lab.finish(end_ns);
        // At the start: before the first frame, no event applied.
        Self {
            run,
            file,
            end_ns,
            last: lab,
            outcome,
            checkpoints,
            frame: 0,
            pending: Vec::new(),
            next: 0,
            pos: 0,
            at_ns: 0,
            speed: 1.0,
            paused: false,
        }
    }

    /// A fresh lab at the start of the run.
    pub fn start_lab(&self) -> Lab {
        self.checkpoints[0].lab.clone()
    }

    /// Whether the whole recording has been applied.
    pub fn at_end(&self) -> bool {
        self.pos >= self.run.events && self.at_ns >= self.end_ns
    }

    /// Move on by `elapsed` of wall time at the current speed.
    pub fn tick(&mut self, lab: &mut Lab, elapsed: Duration) {
        if self.paused || self.at_end() {
            return;
        }
        let step = (elapsed.as_nanos() as f64 * self.speed) as u64;
        let to = self.at_ns.saturating_add(step).min(self.end_ns);
        self.seek(lab, to);
    }

    /// Show the run at time `t` (clamped to the recording).
    pub fn seek(&mut self, lab: &mut Lab, t: u64) {
        let t = t.min(self.end_ns);
        let k = self
            .checkpoints
            .iter()
            .rposition(|c| c.gate <= t)
            .unwrap_or(0);
        // Back: from the nearest checkpoint before. Far on: jump to one ahead.
        if t < self.at_ns || self.checkpoints[k].events > self.pos {
            *lab = self.checkpoints[k].lab.clone();
            self.restore(k, lab);
        }
        self.apply_while(lab, |e, _| e.t <= t);
        self.at_ns = t;
        self.close_at_end(lab);
    }

    /// One event forward (`forward`) or back.
    pub fn step(&mut self, lab: &mut Lab, forward: bool) {
        self.paused = true;
        let target = if forward {
            self.pos + 1
        } else {
            self.pos.saturating_sub(1)
        };
        if target < self.pos {
            let k = self
                .checkpoints
                .iter()
                .rposition(|c| c.events <= target)
                .unwrap_or(0);
            *lab = self.checkpoints[k].lab.clone();
            self.restore(k, lab);
        }
        self.apply_while(lab, |_, pos| pos < target);
        self.at_ns = lab.now;
        self.close_at_end(lab);
    }

    /// Slower (`faster` false) or faster, through [`SPEEDS`].
    pub fn change_speed(&mut self, faster: bool) {
        let i = SPEEDS
            .iter()
            .position(|&s| s >= self.speed)
            .unwrap_or(SPEEDS.len() - 1);
        let j = if faster {
            (i + 1).min(SPEEDS.len() - 1)
        } else {
            i.saturating_sub(1)
        };
        self.speed = SPEEDS[j];
    }

    /// `playing 1.250 s / 3.000 s at 2×, event 40/120`: the status line's words.
    pub fn position_words(&self) -> String {
        format!(
            "{} {:.3} s / {:.3} s at {}×, event {}/{}",
            if self.at_end() {
                "at the end,"
            } else if self.paused {
                "paused"
            } else {
                "playing"
            },
            self.at_ns as f64 / 1e9,
            self.end_ns as f64 / 1e9,
            self.speed,
            self.pos,
            self.run.events
        )
    }

    /// Continue from checkpoint `k`, whose lab is `lab` now.
    fn restore(&mut self, k: usize, lab: &Lab) {
        let c = &self.checkpoints[k];
        self.frame = c.frame;
        self.pos = c.events;
        self.pending.clear();
        self.next = 0;
        self.at_ns = lab.now;
    }

    /// Apply events in recorded order while `go(event, pos)` says so.
    fn apply_while(&mut self, lab: &mut Lab, go: impl Fn(&Event, u64) -> bool) {
        loop {
            if self.next >= self.pending.len() {
                let Some(f) = self.run.frames().get(self.frame) else {
                    return;
                };
                self.run.frame_events_into(f, &mut self.pending);
                self.next = 0;
                self.frame += 1;
                continue;
            }
            if !go(&self.pending[self.next], self.pos) {
                return;
            }
            // Each decoded event is applied once, then the frame is dropped: move it.
            let e = std::mem::replace(&mut self.pending[self.next], PLACEHOLDER);
            lab.apply_event(e);
            self.next += 1;
            self.pos += 1;
        }
    }

    /// At the very end, the lab closes every lane as the run did.
    fn close_at_end(&self, lab: &mut Lab) {
        if self.at_end() {
            lab.finish(self.end_ns);
        }
    }
}
