//! The engine through its library API: cancellation, event accounting,
//! causal order across processes, the GIL's invariants, the queue's.

use parlab::engine::{self, RunSpec};
use parlab::event::{Event, EventKind, LaneId, WorkerState};
use parlab::headless;
use parlab::param::Value;
use parlab::source::{Outcome, Source};
use parlab::strategy::{self, OnError};
use parlab::workload;
use std::collections::HashMap;
use std::time::Duration;

/// A run of `workload` with `strategy` on `workers`, with these parameters
/// set (each belongs to the workload's or the strategy's table).
fn spec(workload: &str, strategy: &str, workers: u32, set: &[(&str, Value)]) -> RunSpec {
    let w = workload::find(workload).unwrap();
    let st = strategy::find(strategy).unwrap();
    let mut s = RunSpec::new(w, st);
    s.workers = Some(workers);
    s.worker_exe = Some(env!("CARGO_BIN_EXE_parlab").into());
    for (key, v) in set {
        if w.param(key).is_some() {
            s.workload.set(key, v.clone());
        } else {
            s.strategy.set(key, v.clone());
        }
    }
    s
}

fn collatz(size: u64) -> Vec<(&'static str, Value)> {
    vec![("size", size.into())]
}

/// Run to the end, keeping every event.
fn events_of(spec: RunSpec) -> (Vec<Event>, Outcome) {
    let mut run = Box::new(engine::start(spec).unwrap());
    let events: Vec<Event> = run.events().iter().flatten().collect();
    let outcome = run.join().unwrap();
    (events, outcome)
}

#[test]
fn every_strategy_can_be_cancelled_at_any_moment() {
    for s in strategy::names() {
        let mut run =
            Box::new(engine::start(spec("collatz", s, 2, &collatz(500_000_000))).unwrap());
        std::thread::sleep(Duration::from_millis(30));
        run.control().cancel();
        let events: Vec<_> = run.events().iter().collect();
        let outcome = run.join().unwrap();
        assert!(outcome.cancelled, "{s:?}");
        assert!(outcome.result.is_none(), "{s:?}");
        let received: usize = events.iter().map(|b| b.len()).sum();
        assert_eq!(
            received as u64, outcome.events_sent,
            "{s:?}: sent == received"
        );
    }
}

#[test]
fn sent_equals_received_under_a_flood_of_events() {
    let p = [
        ("inputs", vec![25u64, 24, 23].into()),
        ("cache_size", 0.into()),
    ];
    let f = headless::run(spec("fib", "pool", 2, &p)).unwrap();
    assert!(f.outcome.events_sent > 400_000);
    assert_eq!(f.outcome.events_sent, f.lab.received);
    assert_eq!(
        f.lab.cache.misses,
        f.outcome
            .extension(parlab::strategy::Figures::Cache)
            .unwrap()["misses"]
    );
}

#[test]
fn timestamps_are_causal_across_processes() {
    for s in ["process-pool", "processes"] {
        let (events, outcome) = events_of(spec("collatz", s, 2, &collatz(50_000)));
        assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
        let mut seen = HashMap::new();
        for e in &events {
            let (name, task) = match e.kind {
                EventKind::Dispatched { task } => ("dispatched", task),
                EventKind::TaskStart { task } => ("start", task),
                EventKind::TaskEnd { task, .. } => ("end", task),
                EventKind::Collected { task } => ("collected", task),
                _ => continue,
            };
            seen.insert((name, task), e.t);
        }
        for task in 0..32u32 {
            let t = |n: &str| seen[&(n, task)];
            assert!(
                t("dispatched") < t("start"),
                "{s:?} task {task}: sent before started in the child"
            );
            assert!(t("start") <= t("end"));
            assert!(
                t("end") < t("collected"),
                "{s:?} task {task}: ended in the child before parlab received it"
            );
        }
    }
}

/// Each lane's `running` intervals, from the event stream.
fn running_intervals(events: &[Event], end: u64) -> HashMap<LaneId, Vec<(u64, u64)>> {
    let mut open: HashMap<LaneId, u64> = HashMap::new();
    let mut out: HashMap<LaneId, Vec<(u64, u64)>> = HashMap::new();
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| e.t);
    for e in sorted {
        if let EventKind::State(s) = e.kind {
            if let Some(start) = open.remove(&e.lane) {
                out.entry(e.lane).or_default().push((start, e.t));
            }
            if s == WorkerState::Running {
                open.insert(e.lane, e.t);
            }
        }
    }
    for (lane, start) in open {
        out.entry(lane).or_default().push((start, end));
    }
    out
}

#[test]
fn under_the_gil_at_most_one_thread_runs_at_any_instant() {
    for s in ["pool", "threads", "rayon", "queue"] {
        let mut sp = spec("collatz", s, 2, &collatz(1_500_000));
        sp.gil = true;
        sp.switch_interval_ms = 1.0;
        let (events, outcome) = events_of(sp);
        assert!(
            outcome.extension(parlab::strategy::Figures::Gil).unwrap()["switches"]
                .as_u64()
                .unwrap()
                > 2,
            "{s:?}: the GIL changed hands"
        );
        let mut all: Vec<(u64, u64, LaneId)> = running_intervals(&events, outcome.end_ns)
            .into_iter()
            .flat_map(|(lane, v)| v.into_iter().map(move |(a, b)| (a, b, lane)))
            .collect();
        all.sort();
        for w in all.windows(2) {
            assert!(
                w[1].0 >= w[0].1,
                "{s:?}: lanes {} and {} both running at {}",
                w[0].2,
                w[1].2,
                w[1].0
            );
        }
    }
}

/// 256 threads on the cores there are: the lanes drawn running at once
/// exceed the cores (+1, for where in a check a wait fell) in no more than
/// a sliver of the run (0.5-5 % measured here; 70-90 % before waits were
/// settled at a task's end and after the reading).
#[test]
fn many_threads_are_drawn_running_no_more_than_the_cores_allow() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sp = spec(
        "collatz",
        "threads",
        256,
        &[("size", 4_000_000.into()), ("tasks", 256.into())],
    );
    let (events, outcome) = events_of(sp);
    let mut edges: Vec<(u64, i32)> = running_intervals(&events, outcome.end_ns)
        .into_values()
        .flatten()
        .flat_map(|(a, b)| [(a, 1), (b, -1)])
        .collect();
    edges.sort();
    let (mut now, mut last, mut over, mut total) = (0i32, 0u64, 0u64, 0u64);
    for (t, step) in edges {
        let span = t - last;
        total += span;
        if now > cores as i32 + 1 {
            over += span;
        }
        now += step;
        last = t;
    }
    assert!(
        (over as f64) <= 0.15 * total as f64,
        "more than {} lanes running for {over} of {total} ns",
        cores + 1
    );
}

#[test]
fn the_switch_interval_is_honoured() {
    let mut sp = spec("collatz", "pool", 2, &collatz(1_500_000));
    sp.gil = true;
    sp.switch_interval_ms = 3.0;
    let (mut events, _) = events_of(sp);
    events.sort_by_key(|e| e.t);
    let mut waiting_since: HashMap<LaneId, u64> = HashMap::new();
    let mut requests = 0;
    for e in &events {
        match e.kind {
            EventKind::State(WorkerState::GilWait) => {
                waiting_since.insert(e.lane, e.t);
            }
            EventKind::State(_) => {
                waiting_since.remove(&e.lane);
            }
            EventKind::GilDropRequest => {
                requests += 1;
                let since = waiting_since[&e.lane];
                assert!(
                    e.t - since >= 3_000_000,
                    "a drop requested after {} ns of waiting",
                    e.t - since
                );
            }
            _ => {}
        }
    }
    assert!(requests > 0);
}

#[test]
fn an_io_wait_releases_the_gil() {
    let mut sp = spec("sleep", "threads", 7, &[("unit_ms", 10.into())]);
    sp.gil = true;
    let f = headless::run(sp).unwrap();
    // Seven threads sleep at once: if a sleeper held the GIL, the others would wait for it.
    let io: f64 = f
        .lab
        .lanes
        .iter()
        .map(|l| l.state_ns_at(WorkerState::Io, f.lab.now) as f64)
        .sum();
    let gil: f64 = f
        .lab
        .lanes
        .iter()
        .map(|l| l.state_ns_at(WorkerState::GilWait, f.lab.now) as f64)
        .sum();
    assert!(gil < io / 10.0, "gil_wait {gil} ns against io {io} ns");
}

/// A queue run: the workload's parameters and the queue's, together.
fn queue_spec(workload: &str, set: &[(&str, Value)], consumers: u32) -> RunSpec {
    spec(workload, "queue", consumers, set)
}

#[test]
fn queue_invariants_hold_for_every_discipline() {
    let reference = headless::run(spec("collatz", "sequential", 1, &collatz(40_000))).unwrap();
    for discipline in ["fifo", "lifo", "priority"] {
        let mut p = collatz(40_000);
        p.extend([
            ("producers", 2.into()),
            ("capacity", 3.into()),
            ("discipline", discipline.into()),
        ]);
        let (events, outcome) = events_of(queue_spec("collatz", &p, 2));
        let report = outcome
            .extension(parlab::strategy::Figures::Queue)
            .unwrap()
            .clone();
        assert_eq!(report["produced"], 32);
        assert_eq!(report["produced"], report["consumed"], "{discipline:?}");
        assert!(report["max_depth"].as_u64().unwrap() <= 3);
        for e in &events {
            if let EventKind::QueuePut { depth, .. } | EventKind::QueueGet { depth, .. } = e.kind {
                assert!(depth <= 3, "{discipline:?}: depth {depth} above capacity");
            }
        }
        let gets: Vec<u32> = events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::QueueGet { task, .. } => Some(task),
                _ => None,
            })
            .collect();
        let mut sorted = gets.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            (0..32).collect::<Vec<_>>(),
            "each item consumed exactly once"
        );
        assert_eq!(outcome.result, reference.outcome.result, "{discipline:?}");
    }
}

#[test]
fn with_a_paused_start_lifo_is_newest_first_and_priority_smallest_first() {
    for (discipline, expect) in [
        ("fifo", vec![0, 1, 2, 3, 4]),
        ("lifo", vec![4, 3, 2, 1, 0]),
        ("priority", vec![3, 1, 4, 0, 2]),
    ] {
        let p = [
            ("inputs", vec![30u64, 25, 32, 20, 28].into()),
            ("capacity", 8.into()),
            ("discipline", discipline.into()),
            ("prefill", true.into()),
        ];
        let (events, _) = events_of(queue_spec("fib", &p, 1));
        let gets: Vec<u32> = events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::QueueGet { task, .. } => Some(task),
                _ => None,
            })
            .collect();
        assert_eq!(gets, expect, "{discipline:?}");
    }
}

#[test]
fn a_fast_producer_blocks_on_a_full_queue_and_a_slow_one_starves_consumers() {
    let p = [("unit_ms", 2.into()), ("capacity", 1.into())];
    let f = headless::run(queue_spec("sleep", &p, 1)).unwrap();
    let json = parlab::report::to_json(&f);
    assert!(
        json["queue"]["producer_blocked_ms"].as_f64().unwrap() > 0.0,
        "{}",
        json["queue"]
    );
    assert_eq!(json["queue"]["max_depth"], 1);

    let mut p = collatz(3200);
    p.extend([("capacity", 4.into()), ("rate", 200.0.into())]);
    let f = headless::run(queue_spec("collatz", &p, 2)).unwrap();
    let json = parlab::report::to_json(&f);
    assert!(
        json["queue"]["consumer_blocked_ms"].as_f64().unwrap() > 0.0,
        "{}",
        json["queue"]
    );
    assert_eq!(json["queue"]["producer_blocked_ms"].as_f64().unwrap(), 0.0);
}

#[test]
fn unsynchronized_increments_lose_updates_and_mutex_and_atomic_never_do() {
    for (mode, loses) in [
        ("unsynchronized", true),
        ("mutex", false),
        ("atomic", false),
    ] {
        let p = [
            ("mode", mode.into()),
            ("size", 200_000.into()),
            ("tasks", 2.into()),
        ];
        let f = headless::run(spec("race", "threads", 2, &p)).unwrap();
        let r = f.outcome.result.unwrap();
        assert_eq!(r["expected"], 200_000);
        if loses {
            assert!(r["lost"].as_u64().unwrap() > 0, "{mode:?}: {r}");
        } else {
            assert_eq!(r["lost"], 0, "{mode:?}");
        }
    }
}

#[test]
fn a_panicking_or_failing_task_fails_the_run_and_names_it() {
    let dir = std::env::temp_dir().join(format!("parlab-engine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("fail.sh");
    std::fs::write(
        &script,
        "[ \"$1\" = Dopey ] && { echo no dwarves >&2; exit 4; }; echo ok\n",
    )
    .unwrap();
    for on_error in [OnError::Stop, OnError::Continue] {
        let p = [
            ("unit_ms", 1.into()),
            ("script", script.display().to_string().as_str().into()),
        ];
        let mut sp = spec("shell", "pool", 2, &p);
        sp.on_error = on_error;
        let f = headless::run(sp).unwrap();
        assert_eq!(f.outcome.failures.len(), 1, "{on_error:?}");
        let fail = &f.outcome.failures[0];
        assert_eq!(fail.task.as_deref(), Some("Dopey"));
        assert!(fail.reason.contains("no dwarves"), "{}", fail.reason);
        assert!(f.outcome.result.is_none());
        if on_error == OnError::Continue {
            assert_eq!(f.lab.tasks_done, 6, "the other six finished");
        }
    }
}
