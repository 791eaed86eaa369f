//! Real Python programs under the probe, through the real binary: their
//! threads and processes as lanes, their tasks, waits, caches and queues in
//! the JSON, failures and timeouts, nothing left behind. Skipped, with a
//! message, where there is no python3 of 3.9 or later.

mod common;

use common::{parlab, py, python3_ok};
use serde_json::Value;

fn lanes(v: &Value) -> &Vec<Value> {
    v["lanes"].as_array().unwrap()
}

#[test]
fn a_process_pool_gives_the_reference_numbers_and_a_lane_per_worker_process() {
    if !python3_ok() {
        return;
    }
    let (v, code) = py(&[
        "lecture:cpu",
        "--",
        "--mode",
        "process-pool",
        "--workers",
        "2",
        "--size",
        "9999",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(
        (
            v["source"].as_str(),
            v["workload"].as_str(),
            v["strategy"].as_str()
        ),
        (Some("python"), Some("python"), Some("script"))
    );
    assert_eq!(v["script"], "lecture:cpu");
    assert_eq!(v["exit_code"], 0);
    let r = &v["result"];
    assert_eq!(
        (
            r["sum_len"].as_u64(),
            r["max_len"].as_u64(),
            r["argmax"].as_u64()
        ),
        (Some(859636), Some(262), Some(6171))
    );
    let workers: Vec<&Value> = lanes(&v)
        .iter()
        .filter(|l| l["role"] == "process" && l["tasks"].as_u64() > Some(0))
        .collect();
    assert_eq!(
        workers.len(),
        2,
        "a lane per worker process: {:?}",
        lanes(&v)
    );
    let pids: std::collections::BTreeSet<u64> =
        workers.iter().map(|l| l["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids.len(), 2);
    assert!(!pids.contains(&v["pid"].as_u64().unwrap()));
    assert_eq!(v["workers"], 2);
    assert_eq!(v["tasks"], 4, "four chunks, each a task");
    assert_eq!(v["python"]["implementation"], "cpython");
    assert!(v["python"]["start_method"].is_string());
    // Each lane's states add up to its life.
    for l in lanes(&v) {
        let states: f64 = l["state_ms"]
            .as_object()
            .unwrap()
            .values()
            .map(|x| x.as_f64().unwrap())
            .sum();
        assert!(states > 0.0, "{l}");
    }
    // Every lane is kept and says whether it is a helper: the pool's
    // handler and feeder threads are; its worker processes and the main
    // thread are not.
    for l in lanes(&v) {
        let tasks = l["tasks"].as_u64().unwrap();
        let main = l["name"] == "MainThread" && l["pid"] == v["pid"];
        assert_eq!(l["helper"], tasks == 0 && !main, "{l}");
    }
    assert!(lanes(&v).iter().any(|l| l["helper"] == true), "{v}");
}

#[test]
fn threads_are_two_lanes_with_tasks_in_one_process() {
    if !python3_ok() {
        return;
    }
    let (v, _) = py(&[
        "lecture:cpu",
        "--",
        "--mode",
        "threads",
        "--workers",
        "2",
        "--size",
        "9999",
    ]);
    let pid = v["pid"].as_u64();
    let workers: Vec<&Value> = lanes(&v)
        .iter()
        .filter(|l| l["tasks"].as_u64() > Some(0))
        .collect();
    assert_eq!(workers.len(), 2, "{:?}", lanes(&v));
    assert!(workers
        .iter()
        .all(|l| l["role"] == "thread" && l["pid"].as_u64() == pid));
    assert!(workers
        .iter()
        .all(|l| l["name"].as_str().unwrap().starts_with("Thread-")));
    assert_eq!(v["result"]["sum_len"], 859636);
}

#[test]
fn lru_cache_counters_are_cache_info_exactly() {
    if !python3_ok() {
        return;
    }
    let (v, _) = py(&["lecture:lru_fib", "--", "--n", "30", "--maxsize", "16"]);
    let c = &v["cache"];
    assert_eq!(
        (
            c["hits"].as_u64(),
            c["misses"].as_u64(),
            c["currsize"].as_u64(),
            c["maxsize"].as_u64()
        ),
        (Some(28), Some(31), Some(16), Some(16))
    );
    assert_eq!(c["functions"][0]["function"], "make_fib.<locals>.fib");
    assert_eq!(
        v["result"]["hits"], 28,
        "the script's own cache_info() says the same"
    );
}

/// `lecture:producer_consumer` of 10 items, one each 20 ms, under `parlab
/// py FLAGS` (a consumer waits on the empty queue ~35 ms an item: seen by
/// the 100 Hz sampler where the GIL is not read).
fn small_producer_consumer(flags: &[&str]) -> Value {
    let mut all = flags.to_vec();
    all.extend([
        "lecture:producer_consumer",
        "--",
        "--items",
        "10",
        "--work-ms",
        "2",
        "--rate",
        "50",
    ]);
    py(&all).0
}

#[test]
fn producer_consumer_fills_queue_and_shows_who_waits() {
    if !python3_ok() {
        return;
    }
    // The GIL read or inferred, the queue is the same.
    for gil in [&[][..], &["--gil-sample-hz", "0"]] {
        producer_consumer_shown(small_producer_consumer(gil));
    }
}

fn producer_consumer_shown(v: Value) {
    let q = &v["queue"];
    assert_eq!(q["capacity"], 4);
    assert_eq!(q["kind"], "Queue");
    assert_eq!(
        (q["produced"].as_u64(), q["consumed"].as_u64()),
        (Some(12), Some(12)),
        "10 items and 2 stops: {q}"
    );
    // Read from outside (Linux): who put and who got is not known.
    let outside = cfg!(target_os = "linux");
    assert_eq!(
        (q["producers"].is_null(), q["consumers"].is_null()),
        (outside, outside),
        "{q}"
    );
    assert!(!q["depth"].as_array().unwrap().is_empty());
    assert_eq!(v["queues"].as_array().map(Vec::len), Some(1));
    let consumer = lanes(&v)
        .iter()
        .find(|l| l["name"] == "consumer-1")
        .expect("a consumer lane");
    assert!(
        consumer["state_ms"]["queue_empty"].as_f64() > Some(0.0),
        "{consumer}"
    );
    let producer = lanes(&v)
        .iter()
        .find(|l| l["name"] == "producer-1")
        .expect("a producer lane");
    assert!(
        producer["state_ms"]["io"].as_f64() > Some(0.0),
        "its rate is a sleep: {producer}"
    );
}

#[test]
fn a_failure_in_a_thread_and_a_non_zero_exit_are_failures_and_status_1() {
    if !python3_ok() {
        return;
    }
    let script = common::script(
        "fails.py",
        "import threading\ndef boom():\n    raise ValueError('boom')\nt = threading.Thread(target=boom)\nt.start(); t.join()\nraise SystemExit(3)\n",
    );
    let (v, code) = py(&[script.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert_eq!(v["exit_code"], 3);
    let reasons: Vec<&str> = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"ValueError: boom"), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("exited with status 3")),
        "{reasons:?}"
    );
    assert_eq!(v["failures"][0]["task"], "boom");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    for (args, needles) in [
        (
            &["py", "/no/such/script.py"][..],
            &["/no/such/script.py", "no such script"][..],
        ),
        (&["py", "lecture:nope"], &["nope", "seven_tasks"]),
        (
            &["py", "--python", "/no/python", "x.py"],
            &["--python", "[python] executable"],
        ),
        (&["py", "--timeout", "0", "x.py"], &["--timeout", "above 0"]),
    ] {
        let out = parlab(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: '{n}' missing from {err}");
        }
    }
}

#[cfg(unix)]
#[test]
fn a_parlab_killed_outright_leaves_no_program_behind() {
    if !python3_ok() {
        return;
    }
    // It says when its two processes have started, in a file beside it.
    let script = common::script(
        "orphans.py",
        "import multiprocessing, os, sys, time\n\ndef forever():\n    time.sleep(3600)\n\nif __name__ == '__main__':\n    ps = [multiprocessing.Process(target=forever) for _ in range(2)]\n    for p in ps: p.start()\n    open(os.path.join(os.path.dirname(sys.argv[0]), 'started'), 'w').close()\n    time.sleep(3600)\n",
    );
    let started = script.with_file_name("started");
    let _ = std::fs::remove_file(&started);
    let mut parlab = std::process::Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(["py", script.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !started.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let tree = common::descendants(parlab.id());
    // SIGKILL: parlab cleans nothing up; the program's processes are not
    // its children, so only its watch can stop them.
    parlab.kill().unwrap();
    parlab.wait().unwrap();
    assert!(started.exists(), "the program never started its processes");
    assert!(
        tree.len() >= 3,
        "the program and its two processes: {tree:?}"
    );
    for pid in tree {
        assert!(common::gone(pid), "pid {pid} outlived parlab");
    }
}

#[cfg(unix)]
#[test]
fn a_timeout_stops_the_whole_tree_and_leaves_nothing_behind() {
    if !python3_ok() {
        return;
    }
    let script = common::script(
        "hangs.py",
        "import multiprocessing, time\n\ndef forever():\n    time.sleep(3600)\n\nif __name__ == '__main__':\n    ps = [multiprocessing.Process(target=forever) for _ in range(2)]\n    for p in ps: p.start()\n    print('started', flush=True)\n    time.sleep(3600)\n",
    );
    let started = std::time::Instant::now();
    let (v, code) = py(&["--timeout", "1", script.to_str().unwrap()]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(code, Some(1));
    assert!(v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["reason"].as_str().unwrap().contains("--timeout")));
    let pids: Vec<u32> = lanes(&v)
        .iter()
        .map(|l| l["pid"].as_u64().unwrap() as u32)
        .collect();
    assert!(
        pids.len() >= 3,
        "the program and its two processes: {pids:?}"
    );
    for pid in pids {
        assert!(common::gone(pid), "pid {pid} outlived the timeout");
    }
}

#[test]
fn a_python_run_replays_its_json() {
    if !python3_ok() {
        return;
    }
    let file = std::env::temp_dir().join(format!("parlab-py-rec-{}.parlab", std::process::id()));
    let out = parlab(&[
        "py",
        "--json",
        "--record",
        file.to_str().unwrap(),
        "lecture:cpu",
        "--",
        "--mode",
        "threads",
        "--size",
        "3000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replayed = parlab(&["replay", file.to_str().unwrap(), "--json"]);
    assert!(replayed.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&replayed.stdout)
    );
}

#[test]
fn the_seven_tasks_log_in_the_lectures_words_into_the_lab() {
    if !python3_ok() {
        return;
    }
    let plan = parlab::python::PyPlan::new(
        "python3",
        "lecture:seven_tasks",
        vec![
            "--mode".into(),
            "threads".into(),
            "--unit-ms".into(),
            "5".into(),
        ],
    )
    .unwrap();
    let source = Box::new(parlab::python::start(plan).unwrap());
    let f = parlab::headless::drain(source, || false, None, None).unwrap();
    let log: Vec<String> = f.lab.log.iter().map(|l| f.lab.log_text(l)).collect();
    assert_eq!(
        log.iter()
            .filter(|l| l.contains("INFO:execute_task: "))
            .count(),
        7,
        "{log:?}"
    );
    let sleepers: Vec<_> = f.lab.lanes.iter().filter(|l| l.tasks_done == 1).collect();
    assert_eq!(sleepers.len(), 7);
    for l in sleepers {
        assert!(
            l.state_ns_at(parlab::event::WorkerState::Io, f.lab.now) > 0,
            "{} sleeps",
            l.name
        );
    }
}

/// Each bundled program, quick, with the arguments that make it short.
const EVERY_PROGRAM: [(&str, &[&str]); 13] = [
    ("seven_tasks", &["--unit-ms", "2", "--mode", "threads"]),
    ("seven_tasks", &["--unit-ms", "2", "--mode", "process-pool"]),
    ("seven_tasks", &["--unit-ms", "2", "--mode", "asyncio"]),
    ("cpu", &["--mode", "pool", "--size", "3000"]),
    (
        "cpu",
        &[
            "--mode",
            "processes",
            "--start-method",
            "spawn",
            "--size",
            "3000",
        ],
    ),
    (
        "cpu",
        &["--work", "hash", "--size", "2", "--mode", "thread-pool"],
    ),
    ("start_methods", &["--processes", "1"]),
    (
        "producer_consumer",
        &["--items", "5", "--work-ms", "1", "--queue", "priority"],
    ),
    ("locks", &["--demo", "deadlock", "--timeout", "0.2"]),
    ("races", &["--increments", "2000"]),
    ("lru_fib", &["--n", "20"]),
    ("subprocess_tasks", &["--seconds", "0.05"]),
    ("asyncio_tasks", &["--demo", "blocking", "--size", "5000"]),
];

/// Every bundled program under the probe with `python`: it runs to its end,
/// its JSON keeps to the schema, its result is its last line.
fn every_program_under_the_probe(python: &str) {
    for (name, args) in EVERY_PROGRAM {
        let script = format!("lecture:{name}");
        let mut all = vec!["--python", python, script.as_str(), "--"];
        all.extend_from_slice(args);
        let (v, code) = py(&all);
        assert_eq!(code, Some(0), "{python} {name} {args:?}: {}", v["failures"]);
        assert!(v["result"].is_object(), "{name}: {v}");
        assert!(!lanes(&v).is_empty(), "{name}");
    }
}

/// Where each put and get is recorded (a priority queue keeps a list, whose
/// traffic cannot be read from outside; and everywhere off Linux), the
/// queue says who put and who got.
#[test]
fn a_recorded_queue_says_who_put_and_who_got() {
    if !python3_ok() {
        return;
    }
    let v = py(&[
        "lecture:producer_consumer",
        "--",
        "--queue",
        "priority",
        "--items",
        "10",
        "--work-ms",
        "2",
        "--rate",
        "200",
    ])
    .0;
    let q = &v["queue"];
    assert_eq!(
        (q["produced"].as_u64(), q["consumed"].as_u64()),
        (Some(12), Some(12)),
        "{q}"
    );
    assert_eq!(
        (q["producers"].as_u64(), q["consumers"].as_u64()),
        (Some(2), Some(2)),
        "the main thread puts the stops: {q}"
    );
}

/// A lock the program takes is CPython's own (no Python frame on `with
/// lock:`), yet a thread that waits on one is shown waiting: the deadlock
/// demo's two threads each wait about --timeout on the other's lock.
/// Whether the GIL is read or inferred, the OS says who sleeps on a lock.
fn lock_waits_are_seen_from_outside(python: &str) {
    for gil in [&[][..], &["--gil-sample-hz", "0"]] {
        let run = [
            "lecture:locks",
            "--",
            "--demo",
            "deadlock",
            "--timeout",
            "0.4",
        ];
        let (v, code) = py(&[&["--python", python], gil, &run].concat());
        assert_eq!(code, Some(0), "{}", v["failures"]);
        for name in ["a-then-b", "b-then-a"] {
            let lane = lanes(&v)
                .iter()
                .find(|l| l["name"] == name)
                .unwrap_or_else(|| panic!("a lane {name}"));
            let waited = lane["state_ms"]["lock_wait"].as_f64().unwrap_or(0.0);
            assert!(
                waited >= 200.0,
                "{python} {gil:?} {name}: {waited} ms lock_wait: {lane}"
            );
        }
        if cfg!(target_os = "linux") {
            let script =
                std::env::temp_dir().join(format!("parlab-lock-{}.py", std::process::id()));
            std::fs::write(
                &script,
                "import json, threading\nprint(json.dumps({'lock': type(threading.Lock()).__module__}))\n",
            )
            .unwrap();
            let (v, _) = py(&[&["--python", python], gil, &[script.to_str().unwrap()]].concat());
            let _ = std::fs::remove_file(&script);
            assert_eq!(v["result"]["lock"], "_thread", "{python} {gil:?}: {v}");
        }
    }
}

common::on_pythons!(
    lock_waits_are_seen_from_outside_on_python3,
    lock_waits_are_seen_from_outside_on_every_installed_cpython,
    lock_waits_are_seen_from_outside
);

/// A producer faster than its consumer waits on a full queue, a consumer
/// on an empty one: each shown in its state, read from outside on Linux
/// (the queue's conditions keep CPython's own `wait`, no Python of parlab's
/// on the path), recorded by the probe elsewhere.
fn queue_waits_are_seen_from_outside(python: &str) {
    let script = std::env::temp_dir().join(format!(
        "parlab-qwait-{}-{}.py",
        std::process::id(),
        python.len()
    ));
    std::fs::write(
        &script,
        "import json, queue, threading, time\n\
         q = queue.Queue(maxsize=1)\n\
         def producer():\n    for i in range(40):\n        q.put(i)\n\
         def consumer():\n    for i in range(40):\n        time.sleep(0.004)\n        q.get()\n    time.sleep(0.02)\n    q.get()\n\
         def late():\n    time.sleep(0.3)\n    q.put(None)\n\
         ts = [threading.Thread(target=f, name=f.__name__) for f in (producer, consumer, late)]\n\
         [t.start() for t in ts]\n[t.join() for t in ts]\n\
         own = [n for n in ('not_full', 'not_empty') if 'wait' in vars(getattr(q, n))]\n\
         print(json.dumps({'wrapped': own}))\n",
    )
    .unwrap();
    let (v, code) = py(&["--python", python, script.to_str().unwrap()]);
    let _ = std::fs::remove_file(&script);
    assert_eq!(code, Some(0), "{python}: {}", v["failures"]);
    let state_ms = |name: &str, state: &str| {
        let lane = lanes(&v).iter().find(|l| l["name"] == name).cloned();
        let lane = lane.unwrap_or_else(|| panic!("{python}: a lane {name}"));
        lane["state_ms"][state].as_f64().unwrap_or(0.0)
    };
    // 40 puts a consumer's 4 ms apart: the producer is blocked most of 160 ms.
    let full = state_ms("producer", "queue_full");
    assert!(full >= 40.0, "{python}: {full} ms queue_full: {v}");
    // The consumer's last get waits for `late`, about 100 ms.
    let empty = state_ms("consumer", "queue_empty");
    assert!(empty >= 30.0, "{python}: {empty} ms queue_empty: {v}");
    if cfg!(target_os = "linux") {
        assert_eq!(v["result"]["wrapped"], serde_json::json!([]), "{python}");
    }
}

common::on_pythons!(
    queue_waits_are_seen_from_outside_on_python3,
    queue_waits_are_seen_from_outside_on_every_installed_cpython,
    queue_waits_are_seen_from_outside
);

common::on_pythons!(
    every_bundled_program_runs_under_the_probe,
    every_bundled_program_runs_under_the_probe_on_every_installed_cpython,
    every_program_under_the_probe
);

#[test]
fn a_sweep_of_a_real_program_fits_amdahl_to_its_own_walls() {
    if !python3_ok() {
        return;
    }
    let out = parlab(&[
        "sweep",
        "--wait-quiet",
        "0",
        "--repeat",
        "1",
        "--json",
        "py",
        "lecture:cpu",
        "--workers",
        "1..2",
        "--",
        "--mode",
        "processes",
        "--workers",
        "{workers}",
        "--size",
        "20000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["workload"], "python");
    let workers: Vec<u64> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(workers, [1, 2]);
    assert!(v["p"].as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)));
    let out = parlab(&[
        "sweep",
        "--wait-quiet",
        "0",
        "py",
        "lecture:cpu",
        "--",
        "--mode",
        "threads",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("{workers}"));
}

#[test]
fn the_cache_and_queue_panels_get_a_programs_figures() {
    if !python3_ok() {
        return;
    }
    let run = |script: &str, args: &[&str]| {
        let plan = parlab::python::PyPlan::new(
            "python3",
            script,
            args.iter().map(|s| s.to_string()).collect(),
        )
        .unwrap();
        parlab::headless::drain(
            Box::new(parlab::python::start(plan).unwrap()),
            || false,
            None,
            None,
        )
        .unwrap()
    };
    let f = run("lecture:lru_fib", &["--n", "30", "--maxsize", "16"]);
    assert_eq!(
        (f.lab.cache.hits, f.lab.cache.misses),
        (28, 31),
        "cache_info() at the end, in the lab"
    );
    let f = run(
        "lecture:producer_consumer",
        &["--items", "6", "--work-ms", "1"],
    );
    assert_eq!(
        f.lab.queue.capacity,
        Some(4),
        "the queue's bound, as it was made"
    );
    assert!(f.lab.queue.puts >= 6 && f.lab.queue.gets >= 6);
}

/// An event loop waiting for its sleeps is io, not idle: within 10 % of
/// the sleeps' overlap (the longest sleep; 15 % where sampled at 100 Hz); a CPU-bound coroutine's stall
/// is running. Reading the GIL on (1 kHz) or off (the 100 Hz OS sample).
fn an_event_loop_waits_as_io(python: &str) {
    let loop_lane = |v: &serde_json::Value| {
        let lanes = lanes(v);
        assert_eq!(lanes.len(), 1, "one thread, one loop: {v}");
        lanes[0]["state_ms"].clone()
    };
    for hz in ["1000", "0"] {
        let runs: [&[&str]; 2] = [
            &[
                "lecture:seven_tasks",
                "--",
                "--mode",
                "asyncio",
                "--unit-ms",
                "40",
            ],
            &["lecture:asyncio_tasks", "--", "--unit-ms", "40"],
        ];
        for run in runs {
            let script = run[0];
            let (v, code) = py(&[&["--python", python, "--gil-sample-hz", hz], run].concat());
            assert_eq!(code, Some(0), "{v}");
            let overlap = v["result"]["longest_units"].as_f64().unwrap() * 40.0;
            let io = loop_lane(&v)["io"].as_f64().unwrap();
            // Read at 1 kHz the grain is 1 ms; sampled at 100 Hz it is
            // 10 ms, and the ~36 samples of the overlap each catch the
            // loop's callbacks running with their share: ±15 %.
            let within = if hz == "0" { 0.15 } else { 0.1 };
            assert!(
                (io - overlap).abs() <= within * overlap,
                "{python} {script} at {hz} Hz: io {io} ms against {overlap} ms of sleeps: {v}"
            );
        }
        let (v, code) = py(&[
            "--python",
            python,
            "--gil-sample-hz",
            hz,
            "lecture:asyncio_tasks",
            "--",
            "--demo",
            "blocking",
            "--size",
            "60000",
        ]);
        assert_eq!(code, Some(0), "{v}");
        let blocked = v["result"]["blocked_ms"].as_f64().unwrap();
        let states = loop_lane(&v);
        // Computing: on a core, or waiting for one on a busy machine.
        let computing = states["running"].as_f64().unwrap() + states["ready"].as_f64().unwrap();
        assert!(
            computing >= 0.9 * blocked,
            "{python} at {hz} Hz: the stall ({blocked} ms) is running: {states}"
        );
        assert!(
            states["io"].as_f64().unwrap() > 50.0,
            "its two sleeps: {states}"
        );
    }
}

common::on_pythons!(
    an_event_loop_waiting_for_io_shows_io_not_idle,
    an_event_loop_waiting_for_io_shows_io_on_every_installed_cpython,
    an_event_loop_waits_as_io
);

/// The lecture's processes need no Manager for their results: the run is
/// the main thread and its worker processes, no server threads around them.
#[test]
fn the_lectures_processes_bring_no_helper_lanes() {
    if !python3_ok() {
        return;
    }
    let (v, code) = py(&["lecture:cpu", "--", "--mode", "processes", "--workers", "2"]);
    assert_eq!(code, Some(0), "{v}");
    let names: Vec<&str> = lanes(&v)
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert!(names.len() <= 5, "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.contains("Manager") || n.contains("handle_request")),
        "{names:?}"
    );
    let (seq, _) = py(&[
        "lecture:cpu",
        "--",
        "--mode",
        "sequential",
        "--workers",
        "2",
    ]);
    assert_eq!(v["result"]["sum_len"], seq["result"]["sum_len"]);
}

/// Nothing of parlab's outlives `parlab py`, not even a zombie: every
/// process it started beside the program (its watch) is gone at its end.
#[cfg(unix)]
#[test]
fn parlab_py_leaves_no_process_of_its_own_behind() {
    if !python3_ok() {
        return;
    }
    let script = common::script("naps.py", "import time\ntime.sleep(1.0)\n");
    let mut parlab = std::process::Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(["py", script.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let tree = common::descendants(parlab.id());
    assert!(tree.len() >= 2, "the program and the watch: {tree:?}");
    assert!(parlab.wait().unwrap().success());
    // At once: each was reaped by parlab itself, none left for init to reap.
    for pid in tree {
        assert!(!common::exists(pid), "pid {pid} outlived parlab py");
    }
}

/// Programs that lock and queue a lot under `parlab py` against plain
/// `python`, 11 alternating pairs, the program's own wall, on every
/// installed CPython. Each case's median, the interval where its median lies
/// (90 %, whatever the distribution) and its verdict against the budget of
/// `parlab bench --only python` (1.05 uncontended, 1.10 otherwise) are
/// printed: met, over, or not told apart. Not every budget is met yet (issue
/// #27: `races --lock` and `producer_consumer` were shown 10-20 % over on
/// CPython 3.11 here), so a case fails only past a guard against the old
/// probe's cost (3-9x): its interval entirely above 2x, or 4x where two
/// threads contend for one lock (a lock convoy's own wall varies 2-4x from
/// run to run on CPython 3.9).
#[test]
#[ignore = "long: timing on every installed CPython, in the ignored suite"]
fn locks_and_queues_cost_the_program_little_on_every_installed_cpython() {
    let dir = std::env::temp_dir().join(format!("parlab-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, &[&str], f64, f64); 5] = [
        ("races", &["--lock", "--increments", "100000"], 1.10, 4.0),
        (
            "locks",
            &["--demo", "lock", "--threads", "2", "--rounds", "300000"],
            1.10,
            4.0,
        ),
        (
            "locks",
            &["--demo", "lock", "--threads", "1", "--rounds", "600000"],
            1.05,
            2.0,
        ),
        (
            "locks",
            &["--demo", "queue", "--threads", "1", "--rounds", "100000"],
            1.10,
            2.0,
        ),
        (
            "producer_consumer",
            &["--rate", "0", "--work-ms", "0", "--items", "20000"],
            1.10,
            2.0,
        ),
    ];
    let wall = |v: &Value| v["wall_ms"].as_f64().expect("wall_ms");
    let mut over = Vec::new();
    for exe in common::installed_cpythons() {
        for (name, args, budget, guard) in cases {
            let path = dir.join(format!("{name}.py"));
            std::fs::write(&path, parlab::lecture::find(name).unwrap().source).unwrap();
            let plain = || {
                let out = std::process::Command::new(&exe)
                    .arg(&path)
                    .args(args)
                    .output()
                    .unwrap();
                let last = String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .to_string();
                wall(&serde_json::from_str(&last).unwrap())
            };
            let probed = || {
                let script = format!("lecture:{name}");
                let mut all = vec!["--python", exe.as_str(), script.as_str(), "--"];
                all.extend_from_slice(args);
                wall(&py(&all).0["result"])
            };
            let mut ratios: Vec<f64> = (0..11)
                .map(|i| {
                    if i % 2 == 0 {
                        let p = probed();
                        p / plain()
                    } else {
                        let b = plain();
                        probed() / b
                    }
                })
                .collect();
            ratios.sort_by(f64::total_cmp);
            let median = parlab::repeat::median(&ratios);
            let interval =
                parlab::repeat::median_interval(&ratios, parlab::bench::CONFIDENCE).unwrap();
            eprintln!(
                "{exe} {name} {args:?}: median {median:.3}, 90% in {:.3}-{:.3}, budget {budget}: {} (of {ratios:.3?})",
                interval[0],
                interval[1],
                parlab::bench::verdict(Some(interval), budget)
            );
            if interval[0] > guard {
                over.push(format!("{exe} {name} {args:?}: {ratios:.3?}"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(over.is_empty(), "{over:#?}");
}

/// The program does what it does without parlab: a locked counter is
/// exact; the updates a race loses are as many, within noise (10 runs each
/// way, alternating; they spread from none to 165,000 of 200,000 on this
/// VM, so the two are compared by rank: a Mann-Whitney test that a shift
/// would fail at 0.1 %); a `PriorityQueue` serves smallest first and a
/// `LifoQueue` newest first, as plain.
fn the_program_behaves_as_it_does_without_parlab(python: &str) {
    let dir = std::env::temp_dir().join(format!(
        "parlab-same-{}-{}",
        std::process::id(),
        python.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let races = dir.join("races.py");
    std::fs::write(&races, parlab::lecture::find("races").unwrap().source).unwrap();
    let plain = |script: &std::path::Path, args: &[&str]| -> Value {
        let out = std::process::Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.lines().last().unwrap_or_default()).unwrap()
    };
    let probed = |script: &std::path::Path, args: &[&str]| -> Value {
        let all = [&["--python", python, script.to_str().unwrap(), "--"], args].concat();
        py(&all).0["result"].clone()
    };
    let locked = ["--lock", "--increments", "20000"];
    let r = probed(&races, &locked);
    assert_eq!(
        (r["lost"].as_u64(), r["counter"].as_u64()),
        (Some(0), Some(80_000)),
        "{r}"
    );
    let race = ["--update", "call", "--increments", "50000"];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        a.push(plain(&races, &race)["lost"].as_f64().unwrap());
        b.push(probed(&races, &race)["lost"].as_f64().unwrap());
    }
    let z = mann_whitney_z(&a, &b);
    assert!(
        z.abs() < 3.29,
        "{python}: lost plain {a:?}, under parlab {b:?}: z {z:.2}"
    );
    let queues = dir.join("queues.py");
    std::fs::write(
        &queues,
        "import json, queue, random\n\
         random.seed(7)\n\
         items = random.sample(range(1000), 50)\n\
         out = {}\n\
         for name in ('PriorityQueue', 'LifoQueue', 'Queue'):\n    q = getattr(queue, name)()\n    for i in items:\n        q.put(i)\n    out[name] = [q.get() for _ in items]\n\
         print(json.dumps(out))\n",
    )
    .unwrap();
    let (p, q) = (plain(&queues, &[]), probed(&queues, &[]));
    assert_eq!(p, q, "{python}");
    let served: Vec<u64> = q["PriorityQueue"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(served.windows(2).all(|w| w[0] < w[1]), "{served:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// How far apart two samples' ranks are, in standard deviations (the
/// normal approximation of Mann-Whitney's U, ties counted half): beyond
/// ±3.29, one is shifted from the other at 0.1 %.
fn mann_whitney_z(a: &[f64], b: &[f64]) -> f64 {
    let u: f64 = a
        .iter()
        .flat_map(|x| b.iter().map(move |y| (x, y)))
        .map(|(x, y)| match x.total_cmp(y) {
            std::cmp::Ordering::Greater => 1.0,
            std::cmp::Ordering::Equal => 0.5,
            std::cmp::Ordering::Less => 0.0,
        })
        .sum();
    let (n, m) = (a.len() as f64, b.len() as f64);
    (u - n * m / 2.0) / (n * m * (n + m + 1.0) / 12.0).sqrt()
}

#[test]
fn a_shifted_sample_is_told_apart_by_rank_and_a_shuffled_one_is_not() {
    let a: Vec<f64> = (0..10).map(f64::from).collect();
    let shifted: Vec<f64> = a.iter().map(|x| x + 10.0).collect();
    let mixed: Vec<f64> = a.iter().map(|x| x + 0.5).collect();
    assert!(mann_whitney_z(&a, &shifted) < -3.29);
    assert!(mann_whitney_z(&a, &mixed).abs() < 1.0);
}

common::on_pythons!(
    the_program_behaves_as_it_does_without_parlab_on_python3,
    the_program_behaves_as_it_does_without_parlab_on_every_installed_cpython,
    the_program_behaves_as_it_does_without_parlab
);
