//! Stacks read from outside ([`crate::python::stacks`]) put in the event
//! stream: a frame defined once, then each sample on its thread's lane, in
//! time order with the probe's records and the GIL's readings.

use super::*;
use crate::python::stacks::{Stacks, Taken};

impl Driver {
    /// Read every process's stacks `hz` times a second (0: not at all).
    pub(super) fn profile(&mut self, hz: u32) {
        self.profile_hz = hz;
        if hz > 0 {
            self.stacks = crate::python::stacks::Stacks::start(hz, self.clock).ok();
        }
    }

    /// Take what the stack reader has read since the last tick.
    pub(super) fn take_stacks(&mut self) {
        if let Some(stacks) = self.stacks.take() {
            self.take_stacks_from(&stacks);
            self.stacks = Some(stacks);
        }
    }

    fn take_stacks_from(&mut self, stacks: &Stacks) {
        let taken: Vec<Taken> = stacks.taken.try_iter().collect();
        for x in taken {
            match x {
                Taken::Frame {
                    id,
                    function,
                    file,
                    line,
                } => {
                    // Defined before any sample names it (samples wait in `pending`).
                    let t = self.applied_to;
                    self.push(
                        t,
                        0,
                        EventKind::Frame {
                            id,
                            function,
                            file,
                            line,
                        },
                    );
                }
                Taken::Sample {
                    t,
                    pid,
                    ident,
                    held,
                    frames,
                } => {
                    if let Some(&key) = self.idents.get(&(pid, ident)) {
                        self.pending.push((t, Seen::Stack { key, frames, held }));
                    }
                }
                Taken::Unread { pid, why } => self.stacks_unread(pid, why),
            }
        }
    }

    fn stacks_unread(&mut self, pid: u32, why: String) {
        let t = self.applied_to;
        if let Some(lane) = self.threads.get(&(pid, pid as u64)).map(|th| th.lane) {
            let text = format!("the stacks of pid {pid} could not be read: {why}");
            self.push(t, lane, EventKind::Log { text });
        }
        self.stacks_unread.push((pid, why));
    }

    /// A sample, on its thread's lane, while the lane lives.
    pub(super) fn stack_seen(&mut self, key: (u32, u64), frames: Vec<u32>, held: bool, t: u64) {
        if let Some(lane) = self
            .threads
            .get(&key)
            .filter(|th| !th.ended)
            .map(|th| th.lane)
        {
            self.push(t, lane, EventKind::Sample { frames, held });
        }
    }

    /// Stop reading stacks (the program has ended); what it achieved stays.
    pub(super) fn stop_stacks(&mut self) {
        if let Some(stacks) = self.stacks.take() {
            self.take_stacks_from(&stacks);
            self.stack_tally = Some(stacks.stop());
        }
    }

    /// The profile's figures for the outcome: what was asked, achieved and
    /// cost (the samples' own figures are the lab's).
    pub(super) fn profile_extension(&self) -> Option<Extension> {
        let tally = self.stack_tally?;
        let unread: Vec<Value> = self
            .stacks_unread
            .iter()
            .map(|(pid, why)| json!({ "pid": pid, "why": why }))
            .collect();
        let hz = tally.hz().map(|h| (h * 10.0).round() / 10.0);
        let mut summary = vec![match hz {
            Some(h) if tally.slowed_to.is_some() => format!(
                "stacks read {h:.0} times a second (asked {}; slowed so reading {} threads takes at most {:.0} % of a core)",
                self.profile_hz,
                tally.most_threads,
                100.0 * crate::python::stacks::core_share(self.profile_hz)
            ),
            Some(h) => format!(
                "stacks read {h:.0} times a second (asked {})",
                self.profile_hz
            ),
            None => "no stacks read".into(),
        }];
        summary.extend(
            self.stacks_unread
                .iter()
                .map(|(pid, why)| format!("pid {pid}: stacks not read ({why})")),
        );
        Some(Extension::new(
            crate::strategy::Figures::Profile,
            json!({
                "hz": self.profile_hz,
                "hz_achieved": hz,
                "most_threads": tally.most_threads,
                "core_share_percent": 100.0 * crate::python::stacks::core_share(self.profile_hz),
                "slowed_to_hz": tally.slowed_to.map(|h| (h * 10.0).round() / 10.0),
                "reader_cpu_ms": crate::clock::ms(tally.cpu_ns),
                "torn": tally.torn,
                "unread": unread,
            }),
            summary,
        ))
    }
}
