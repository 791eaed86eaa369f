//! The caption of the moment: what is happening at one time of a run, in
//! the lecture's words ("Thread-1 holds the GIL; Thread-2 waits for it",
//! "8 threads, 2 cores: 6 wait for a core", "the queue is full: 1 producer
//! blocked"), read from the lab's lanes as the Timeline draws them.

use super::Lab;
use crate::event::{Role, WorkerState};

/// The lanes' names as a class reads them: `Thread-1`, `Thread-1 and
/// Thread-2`, or `5 threads`.
fn names(lab: &Lab, lanes: &[usize]) -> String {
    match lanes {
        [a] => lab.lanes[*a].name.clone(),
        [a, b] => format!("{} and {}", lab.lanes[*a].name, lab.lanes[*b].name),
        _ => {
            let processes = lanes.iter().all(|&i| lab.lanes[i].role == Role::Process);
            format!(
                "{} {}",
                lanes.len(),
                if processes { "processes" } else { "threads" }
            )
        }
    }
}

/// `waits` or `wait` after `n` names.
fn verb(n: usize, one: &str, many: &str) -> String {
    if n == 1 { one } else { many }.to_string()
}

/// What the run is doing in `[t0, t1)` (each lane by the state that filled
/// most of it), on a machine of `cores`; `helpers[i]`: lane `i` is a
/// program's helper, left out. `None` before any lane is alive in it.
pub fn words(
    lab: &Lab,
    t0: u64,
    t1: u64,
    now: u64,
    cores: u32,
    helpers: &[bool],
) -> Option<String> {
    let helper = |i: usize| helpers.get(i).copied().unwrap_or(false);
    let mut by_state: [Vec<usize>; WorkerState::COUNT] = Default::default();
    for (i, lane) in lab.lanes.iter().enumerate().filter(|(i, _)| !helper(*i)) {
        if let Some(s) = lane.dominant_state(t0, t1, now) {
            by_state[s.index()].push(i);
        }
    }
    let ended = lab
        .lanes
        .iter()
        .enumerate()
        .filter(|(i, l)| !helper(*i) && l.end_ns.is_some_and(|e| e <= t0))
        .count();
    if by_state.iter().all(Vec::is_empty) {
        return (ended > 0).then(|| format!("all {ended} done"));
    }
    let of = |s: WorkerState| by_state[s.index()].as_slice();
    let waiting = |s: WorkerState, what: &str| {
        let lanes = of(s);
        (!lanes.is_empty()).then(|| {
            format!(
                "{} {} {what}",
                names(lab, lanes),
                verb(lanes.len(), "waits", "wait")
            )
        })
    };
    let said: Vec<String> = [
        computing(
            lab,
            of(WorkerState::Running),
            of(WorkerState::GilWait),
            cores,
        ),
        for_a_core(
            of(WorkerState::Running).len(),
            of(WorkerState::Ready).len(),
            cores,
        ),
        queue_full(of(WorkerState::QueueFull).len()),
        waiting(WorkerState::QueueEmpty, "for an item: the queue is empty"),
        waiting(WorkerState::LockWait, "for a lock"),
        waiting(WorkerState::Io, "on I/O or asleep"),
        (!of(WorkerState::Failed).is_empty())
            .then(|| format!("{} failed", names(lab, of(WorkerState::Failed)))),
        (ended > 0).then(|| format!("{ended} done")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if said.is_empty() {
        return Some(format!("{} idle", names(lab, of(WorkerState::Idle))));
    }
    Some(said.join("; "))
}

/// Who holds the GIL and who waits for it; else who runs, and on how many cores.
fn computing(lab: &Lab, running: &[usize], gil: &[usize], cores: u32) -> Option<String> {
    if !gil.is_empty() {
        let holder = if running.is_empty() {
            "no thread shown".to_string()
        } else {
            names(lab, running)
        };
        return Some(format!(
            "{holder} {} the GIL; {} {} for it",
            verb(running.len(), "holds", "hold"),
            names(lab, gil),
            verb(gil.len(), "waits", "wait")
        ));
    }
    match running {
        [] => None,
        [one] => Some(format!("{} runs", lab.lanes[*one].name)),
        _ => Some(format!(
            "{} run on {} cores at once",
            names(lab, running),
            running.len().min(cores as usize)
        )),
    }
}

/// `8 threads want a core, 2 cores: 6 wait for one`.
fn for_a_core(running: usize, ready: usize, cores: u32) -> Option<String> {
    let runnable = running + ready;
    (ready > 0).then(|| {
        format!(
            "{runnable} {} want a core, {cores} {}: {ready} {} for one",
            if runnable == 1 { "thread" } else { "threads" },
            if cores == 1 { "core" } else { "cores" },
            verb(ready, "waits", "wait")
        )
    })
}

/// `the queue is full: 2 producers blocked`.
fn queue_full(blocked: usize) -> Option<String> {
    (blocked > 0).then(|| {
        format!(
            "the queue is full: {blocked} {} blocked",
            if blocked == 1 {
                "producer"
            } else {
                "producers"
            }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventKind};
    use std::time::SystemTime;

    fn lab(states: &[(&str, WorkerState)]) -> Lab {
        let mut lab = Lab::new(Vec::new(), SystemTime::now());
        for (i, (name, s)) in states.iter().enumerate() {
            let lane = i as u32;
            lab.apply_event(Event {
                t: 0,
                lane,
                kind: EventKind::Lane {
                    name: name.to_string(),
                    role: Role::Thread,
                    pid: 1,
                    tid: None,
                    spawned_at: 0,
                },
            });
            lab.apply_event(Event {
                t: 0,
                lane,
                kind: EventKind::State(*s),
            });
        }
        lab
    }

    #[test]
    fn the_moment_in_the_lectures_words() {
        use WorkerState::*;
        let l = lab(&[("Thread-1", Running), ("Thread-2", GilWait)]);
        assert_eq!(
            words(&l, 0, 100, 100, 2, &[]).unwrap(),
            "Thread-1 holds the GIL; Thread-2 waits for it"
        );
        let eight: Vec<(String, WorkerState)> = (0..8)
            .map(|i| (format!("Thread-{i}"), if i < 2 { Running } else { Ready }))
            .collect();
        let refs: Vec<(&str, WorkerState)> = eight.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        assert_eq!(
            words(&lab(&refs), 0, 100, 100, 2, &[]).unwrap(),
            "Thread-0 and Thread-1 run on 2 cores at once; 8 threads want a core, 2 cores: 6 wait for one"
        );
        let l = lab(&[("producer-1", QueueFull), ("consumer-1", Running)]);
        assert_eq!(
            words(&l, 0, 100, 100, 2, &[]).unwrap(),
            "consumer-1 runs; the queue is full: 1 producer blocked"
        );
        let l = lab(&[("Happy", Io), ("Sleepy", Io), ("Doc", Io)]);
        assert_eq!(
            words(&l, 0, 100, 100, 2, &[]).unwrap(),
            "3 threads wait on I/O or asleep"
        );
        assert_eq!(
            words(&l, 0, 100, 100, 2, &[true, true, true]),
            None,
            "helpers left out"
        );
    }
}
