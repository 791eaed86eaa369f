//! Property tests: no input makes the config parser, the command line or the
//! worker pipe panic, and frames round-trip.

use clap::Parser;
use parlab::cli::Cli;
use parlab::event::{CacheOp, Event, EventKind, Role, WorkerState};
use parlab::ipc::{read_frame, write_frame, FromWorker, ToWorker};
use proptest::prelude::*;

/// Found by the near-miss property: a huge `lru_cache` maxsize once
/// preallocated its table and panicked.
#[test]
fn a_huge_cache_size_in_the_config_is_fine() {
    let c = parlab::config::parse("[fib]\ncache_size = 18446744073709551615\n", "x.toml").unwrap();
    let fib = parlab::workload::find("fib").unwrap();
    assert_eq!(c.workload(fib).params.opt_int("cache_size"), Some(u64::MAX));
}

/// Every section × key × awkward value, exhaustively: an error names the file, nothing panics.
#[test]
fn the_config_parser_never_panics_on_near_misses() {
    let sections = [
        "run", "queue", "tui", "collatz", "primes", "fib", "sleep", "shell", "amdahl", "race",
        "bogus",
    ];
    let keys = [
        "workers",
        "size",
        "tasks",
        "capacity",
        "rate",
        "serial",
        "cache_size",
        "fps",
        "mode",
        "strategy",
        "inputs",
        "count",
        "max_input",
        "units",
        "unit_ms",
        "work",
        "producers",
        "consumers",
        "switch_interval_ms",
        "x",
    ];
    let values = [
        "0",
        "-1",
        "1",
        "1.5",
        "1e308",
        "\"none\"",
        "\"abc\"",
        "[]",
        "[1, 99]",
        "[91]",
        "true",
        "18446744073709551615",
        "nan",
        "4294967296",
        "-0.0",
        "inf",
    ];
    for section in sections {
        for key in keys {
            for value in values {
                let text = format!("[{section}]\n{key} = {value}\n");
                if let Err(e) = parlab::config::parse(&text, "fuzz.toml") {
                    assert!(e.to_string().contains("fuzz.toml"), "{text}: {e}");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_config_parser_never_panics(text in "\\PC{0,200}") {
        let _ = parlab::config::parse(&text, "fuzz.toml");
    }

    #[test]
    fn command_line_values_never_panic(
        flag in prop::sample::select(vec!["--workers", "--size", "--tasks", "--serial", "--rate", "--inputs", "--cache-size", "--capacity", "--unit-ms", "--switch-interval-ms", "--mode", "--producers", "--max-input", "--work"]),
        value in "\\PC{0,12}",
    ) {
        if let Ok(cli) = Cli::try_parse_from(["parlab", "--no-config", "run", flag, &value]) {
            if let Some(parlab::cli::Command::Run(cmd)) = cli.command {
                let _ = parlab::config::Config::default().to_spec(&cmd.args);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_on_the_pipe_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut r = bytes.as_slice();
        while let Ok(Some(_)) = read_frame::<_, FromWorker>(&mut r) {}
        let mut r = bytes.as_slice();
        while let Ok(Some(_)) = read_frame::<_, ToWorker>(&mut r) {}
    }

    #[test]
    fn event_batches_round_trip(events in prop::collection::vec((any::<u64>(), any::<u32>(), 0u8..6, any::<u32>(), any::<u64>()), 0..64)) {
        let batch: Vec<Event> = events
            .into_iter()
            .map(|(t, lane, k, a, b)| Event {
                t,
                lane,
                kind: match k {
                    0 => EventKind::State(WorkerState::ALL[a as usize % WorkerState::COUNT]),
                    1 => EventKind::TaskStart { task: a },
                    2 => EventKind::TaskEnd { task: a, ok: b % 2 == 0 },
                    3 => EventKind::Cache { op: CacheOp::Miss, currsize: b },
                    4 => EventKind::Lane { name: format!("w{a}"), role: Role::Process, pid: a, tid: Some(b), spawned_at: b },
                    _ => EventKind::Log { text: format!("{a} {b}") },
                },
            })
            .collect();
        let msg = FromWorker::Events(batch);
        let mut buf = Vec::new();
        write_frame(&mut buf, &msg).unwrap();
        let back: Option<FromWorker> = read_frame(&mut buf.as_slice()).unwrap();
        prop_assert_eq!(back, Some(msg));
    }
}
