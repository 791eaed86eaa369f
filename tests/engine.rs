//! The engine through its library API: cancellation, event accounting,
//! causal order across processes, the GIL's invariants, the queue's.

use parlab::engine::{self, RunSpec};
use parlab::event::{Event, EventKind, LaneId, WorkerState};
use parlab::headless;
use parlab::strategy::queue::Discipline;
use parlab::strategy::{OnError, QueueParams, StrategyKind};
use parlab::workload::{WorkloadKind, WorkloadParams, WorkloadSpec};
use std::collections::HashMap;
use std::time::Duration;

fn spec(
    kind: WorkloadKind,
    strategy: StrategyKind,
    workers: u32,
    params: WorkloadParams,
) -> RunSpec {
    RunSpec {
        workload: WorkloadSpec {
            kind,
            seed: 42,
            params,
        },
        strategy,
        workers: Some(workers),
        gil: false,
        switch_interval_ms: 5.0,
        queue: QueueParams::default(),
        on_error: OnError::Stop,
        events: true,
        worker_exe: Some(env!("CARGO_BIN_EXE_parlab").into()),
        duration_secs: None,
    }
}

fn collatz(size: u64) -> WorkloadParams {
    let mut p = WorkloadParams::default();
    p.collatz.size = size;
    p
}

/// Run to the end, keeping every event.
fn events_of(spec: RunSpec) -> (Vec<Event>, engine::Outcome) {
    let run = engine::start(spec).unwrap();
    let events: Vec<Event> = run.events.iter().flatten().collect();
    let outcome = run.join().unwrap();
    (events, outcome)
}

#[test]
fn every_strategy_can_be_cancelled_at_any_moment() {
    for s in StrategyKind::ALL {
        let run = engine::start(spec(WorkloadKind::Collatz, s, 2, collatz(500_000_000))).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        run.cancel();
        let events = run.events.clone();
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
    let mut p = WorkloadParams::default();
    p.fib.inputs = vec![25, 24, 23];
    p.fib.cache_size = parlab::workload::fib::CacheSize::Bounded(0);
    let f = headless::run(spec(WorkloadKind::Fib, StrategyKind::Pool, 2, p)).unwrap();
    assert!(f.outcome.events_sent > 400_000);
    assert_eq!(f.outcome.events_sent, f.lab.received);
    assert_eq!(f.lab.cache.misses, f.outcome.cache.unwrap().total.misses);
}

#[test]
fn timestamps_are_causal_across_processes() {
    for s in [StrategyKind::ProcessPool, StrategyKind::Processes] {
        let (events, outcome) = events_of(spec(WorkloadKind::Collatz, s, 2, collatz(50_000)));
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
    for s in [
        StrategyKind::Pool,
        StrategyKind::Threads,
        StrategyKind::Rayon,
        StrategyKind::Queue,
    ] {
        let mut sp = spec(WorkloadKind::Collatz, s, 2, collatz(1_500_000));
        sp.gil = true;
        sp.switch_interval_ms = 1.0;
        let (events, outcome) = events_of(sp);
        assert!(
            outcome.gil_switches.unwrap() > 2,
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

#[test]
fn the_switch_interval_is_honoured() {
    let mut sp = spec(
        WorkloadKind::Collatz,
        StrategyKind::Pool,
        2,
        collatz(1_500_000),
    );
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
    let mut p = WorkloadParams::default();
    p.sleep.unit_ms = 10;
    let mut sp = spec(WorkloadKind::Sleep, StrategyKind::Threads, 7, p);
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

fn queue_spec(kind: WorkloadKind, p: WorkloadParams, q: QueueParams, consumers: u32) -> RunSpec {
    let mut s = spec(kind, StrategyKind::Queue, consumers, p);
    s.queue = q;
    s
}

#[test]
fn queue_invariants_hold_for_every_discipline() {
    let reference = headless::run(spec(
        WorkloadKind::Collatz,
        StrategyKind::Sequential,
        1,
        collatz(40_000),
    ))
    .unwrap();
    for discipline in [Discipline::Fifo, Discipline::Lifo, Discipline::Priority] {
        let q = QueueParams {
            producers: 2,
            capacity: 3,
            discipline,
            ..QueueParams::default()
        };
        let (events, outcome) = events_of(queue_spec(WorkloadKind::Collatz, collatz(40_000), q, 2));
        let report = outcome.queue.clone().unwrap();
        assert_eq!(report.produced, 32);
        assert_eq!(report.produced, report.consumed, "{discipline:?}");
        assert!(report.max_depth <= 3);
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
    let mut p = WorkloadParams::default();
    p.fib.inputs = vec![30, 25, 32, 20, 28];
    for (discipline, expect) in [
        (Discipline::Fifo, vec![0, 1, 2, 3, 4]),
        (Discipline::Lifo, vec![4, 3, 2, 1, 0]),
        (Discipline::Priority, vec![3, 1, 4, 0, 2]),
    ] {
        let q = QueueParams {
            capacity: 8,
            discipline,
            prefill: true,
            ..QueueParams::default()
        };
        let (events, _) = events_of(queue_spec(WorkloadKind::Fib, p.clone(), q, 1));
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
    let mut p = WorkloadParams::default();
    p.sleep.unit_ms = 2;
    let q = QueueParams {
        capacity: 1,
        ..QueueParams::default()
    };
    let f = headless::run(queue_spec(WorkloadKind::Sleep, p, q, 1)).unwrap();
    let json = parlab::report::to_json(&f);
    assert!(
        json["queue"]["producer_blocked_ms"].as_f64().unwrap() > 0.0,
        "{}",
        json["queue"]
    );
    assert_eq!(json["queue"]["max_depth"], 1);

    let q = QueueParams {
        capacity: 4,
        rate: Some(200.0),
        ..QueueParams::default()
    };
    let f = headless::run(queue_spec(WorkloadKind::Collatz, collatz(3200), q, 2)).unwrap();
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
    use parlab::workload::race::Mode;
    for (mode, loses) in [
        (Mode::Unsynchronized, true),
        (Mode::Mutex, false),
        (Mode::Atomic, false),
    ] {
        let mut p = WorkloadParams::default();
        p.race.mode = mode;
        p.race.size = 200_000;
        p.race.tasks = 2;
        let f = headless::run(spec(WorkloadKind::Race, StrategyKind::Threads, 2, p)).unwrap();
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
        let mut p = WorkloadParams::default();
        p.shell.unit_ms = 1;
        p.shell.script = Some(script.display().to_string());
        let mut sp = spec(WorkloadKind::Shell, StrategyKind::Pool, 2, p);
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
