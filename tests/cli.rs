//! The binary as a user meets it: headless runs, JSON, bad input, list, help.

mod common;
use common::{parlab, run_json, validate};
use serde_json::Value;

/// Every `*_ms` field is written as a float, even when whole.
fn assert_ms_fields_are_floats(text: &str) {
    let re_ms = text.match_indices("_ms\":");
    for (i, _) in re_ms {
        let rest = &text[i + 5..];
        let end = rest.find([',', '}']).unwrap();
        let v = &rest[..end];
        if v.starts_with('{') || v.starts_with('[') {
            continue;
        }
        assert!(
            v.contains('.') || v.contains('e'),
            "a *_ms field is not a float: {v}"
        );
    }
}

#[test]
fn collatz_9999_on_a_pool_of_2_gives_the_reference_numbers_and_matches_the_schema() {
    let out = parlab(&[
        "run",
        "--workload",
        "collatz",
        "--size",
        "9999",
        "--strategy",
        "pool",
        "--workers",
        "2",
        "--json",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "exactly one JSON object");
    let v: Value = serde_json::from_str(&text).unwrap();
    validate(&v);
    assert_ms_fields_are_floats(&text);
    assert_eq!(v["result"]["sum_len"], 859636);
    assert_eq!(v["result"]["max_len"], 262);
    assert_eq!(v["result"]["argmax"], 6171);
    assert_eq!(v["workers"], 2);
    assert_eq!(v["lanes"].as_array().unwrap().len(), 2);
    assert_eq!(v["events"]["sent"], v["events"]["received"]);
    assert!(v["events"]["sent"].as_u64().unwrap() > 0);
    let tasks: u64 = v["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["tasks"].as_u64().unwrap())
        .sum();
    assert_eq!(tasks, v["tasks"].as_u64().unwrap());
    assert!(
        v.get("gil").is_none() && v.get("queue").is_none() && v.get("cache").is_none(),
        "absent when they do not apply"
    );
}

#[test]
fn every_strategy_gives_the_sequential_result() {
    let cases: [&[&str]; 5] = [
        &["--workload", "collatz", "--size", "20000", "--tasks", "9"],
        &[
            "--workload",
            "collatz",
            "--size",
            "3000",
            "--mode",
            "first",
            "--tasks",
            "5",
        ],
        &[
            "--workload",
            "primes",
            "--size",
            "30000",
            "--method",
            "sieve",
        ],
        &["--workload", "fib", "--inputs", "30,25,32,10"],
        &["--workload", "sleep", "--unit-ms", "1"],
    ];
    for case in cases {
        let mut seq = case.to_vec();
        seq.extend(["--strategy", "sequential"]);
        let reference = run_json(&seq)["result"].clone();
        assert!(reference.is_object());
        for s in [
            "threads",
            "pool",
            "processes",
            "process-pool",
            "rayon",
            "queue",
            "async",
        ] {
            let mut args = case.to_vec();
            args.extend(["--strategy", s, "--workers", "2"]);
            let v = run_json(&args);
            assert_eq!(v["result"], reference, "{s} on {case:?}");
            assert_eq!(v["events"]["sent"], v["events"]["received"], "{s}");
            validate(&v);
        }
    }
}

#[test]
fn workers_do_not_apply_to_sequential_and_async() {
    for s in ["sequential", "async"] {
        let v = run_json(&[
            "--workload",
            "sleep",
            "--unit-ms",
            "1",
            "--strategy",
            s,
            "--workers",
            "4",
        ]);
        assert_eq!(v["workers"], 1);
        assert_eq!(v["lanes"].as_array().unwrap().len(), 1);
        let out = parlab(&[
            "run",
            "--workload",
            "sleep",
            "--unit-ms",
            "1",
            "--strategy",
            s,
            "--workers",
            "4",
        ]);
        let human = String::from_utf8(out.stdout).unwrap();
        assert!(human.contains("--workers does not apply"), "{human}");
    }
    let v = run_json(&[
        "--workload",
        "sleep",
        "--unit-ms",
        "1",
        "--strategy",
        "threads",
    ]);
    assert_eq!(v["workers"], 7, "threads uncapped: one per task");
}

#[test]
fn bad_input_is_one_line_on_stderr_with_status_2() {
    let cases: [(&[&str], &[&str]); 15] = [
        (
            &["run", "--strategy", "threads", "--tasks", "5000"],
            &["5000", "1024", "pool"],
        ),
        (&["run", "--workload", "nope"], &["nope", "collatz", "race"]),
        (&["run", "--strategy", "fork"], &["fork", "process-pool"]),
        (&["run", "--workers", "0"], &["0", "1..=1024"]),
        (&["run", "--size", "0"], &["0", "1..=1000000000"]),
        (
            &["run", "--workload", "collatz", "--mode", "bogus"],
            &["bogus", "lengths, first"],
        ),
        (
            &["run", "--workload", "race", "--mode", "bogus"],
            &["bogus", "unsynchronized"],
        ),
        (
            &["run", "--workload", "fib", "--cache-size", "lots"],
            &["lots", "none"],
        ),
        (
            &["run", "--workload", "race", "--strategy", "processes"],
            &["race", "shared memory", "threads"],
        ),
        (
            &["run", "--workload", "sleep", "--size", "5"],
            &["--size", "sleep"],
        ),
        (&["export", "x.parlab"], &["missing", "--format"]),
        (
            &["export", "x.parlab", "--format", "svg"],
            &["svg", "chrome-trace", "json"],
        ),
        (
            &["replay", "x.parlab", "--speed", "3"],
            &["3", "0.25", "16"],
        ),
        (&["replay"], &["missing", "FILE"]),
        (&["lecture", "nope"], &["nope", "seven_tasks"]),
    ];
    for (args, needles) in cases {
        let out = parlab(args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line: {err}"
        );
        assert!(err.starts_with("parlab: "), "{err}");
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{err}"
        );
        for n in needles {
            assert!(err.contains(n), "{args:?}: '{n}' missing from: {err}");
        }
    }
}

#[test]
fn list_names_every_workload_and_strategy() {
    let out = parlab(&["list"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "collatz", "primes", "fib", "sleep", "shell", "amdahl", "race",
    ] {
        assert!(text.contains(&format!("  {name} ")), "{name}");
    }
    for name in [
        "sequential",
        "threads",
        "pool",
        "processes",
        "process-pool",
        "rayon",
        "queue",
        "async",
    ] {
        assert!(text.contains(&format!("  {name} ")), "{name}");
    }
}

#[test]
fn help_documents_every_flag_with_its_default() {
    let out = parlab(&["run", "--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut flags = 0;
    // Each option is a block: the flag line, its description, a blank line.
    for block in text
        .split("\n\n")
        .filter(|b| b.trim_start().starts_with('-'))
    {
        let flag = block.trim();
        let skip = [
            "-h,",
            "-V,",
            "--json",
            "--config",
            "--no-config",
            "--no-gil",
        ];
        if skip.iter().any(|s| flag.starts_with(s)) {
            continue;
        }
        flags += 1;
        assert!(
            block.contains("[default:"),
            "no default documented: {block}"
        );
    }
    assert!(flags > 20, "{text}");
}

#[test]
fn config_errors_name_the_file_line_and_key() {
    let dir = std::env::temp_dir().join(format!("parlab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "[run]\nworkload = \"sleep\"\nworkerz = 3\n").unwrap();
    let out = std::process::Command::new(common::BIN)
        .args(["run", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml")
            && err.contains("line 3")
            && err.contains("workerz")
            && err.contains("workers"),
        "{err}"
    );
    // A good file is used, and flags override it.
    std::fs::write(
        &file,
        "[run]\nworkload = \"sleep\"\nstrategy = \"sequential\"\n[sleep]\nunit_ms = 1\n",
    )
    .unwrap();
    let out = std::process::Command::new(common::BIN)
        .args(["run", "--json", "--strategy", "async", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["workload"], "sleep");
    assert_eq!(v["strategy"], "async");
    assert_eq!(v["result"]["unit_ms"], 1);
}

#[test]
fn a_sweep_measures_each_worker_count_and_fits_p() {
    let out = parlab(&[
        "sweep",
        "--workload",
        "collatz",
        "--size",
        "200000",
        "--strategy",
        "pool",
        "--workers",
        "1..3",
        "--repeat",
        "1",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = v["points"].as_array().unwrap();
    assert_eq!(
        points
            .iter()
            .map(|p| p["workers"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(points[0]["speedup"], 1.0);
    for p in points {
        let (s, e, n) = (
            p["speedup"].as_f64().unwrap(),
            p["efficiency"].as_f64().unwrap(),
            p["workers"].as_f64().unwrap(),
        );
        assert!((e - s / n).abs() < 1e-9);
        assert!(p["wall_ms"].as_f64().unwrap() > 0.0);
    }
    let fitted = v["p"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&fitted));
    let out = parlab(&["sweep", "--strategy", "sequential", "--workers", "1,2"]);
    assert_eq!(out.status.code(), Some(2), "sequential takes no workers");
    let out = parlab(&["run", "--workers", "1..4"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Every subcommand's help prints each default once, and a program's flags
/// are the same wherever a program runs: `py`, `tui py`, `sweep py`.
#[test]
fn every_help_prints_each_default_once_and_a_programs_flags_carry_over() {
    let help = |args: &[&str]| {
        let out = parlab(&[args, &["--help"]].concat());
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let subcommands: Vec<&[&str]> = vec![
        &[],
        &["tui"],
        &["tui", "py"],
        &["run"],
        &["list"],
        &["sweep"],
        &["sweep", "py"],
        &["bench"],
        &["trust"],
        &["replay"],
        &["py"],
        &["lecture"],
        &["export"],
    ];
    for sub in &subcommands {
        let text = help(sub);
        for line in text.lines() {
            assert!(
                line.matches("[default:").count() <= 1,
                "{sub:?} prints a default twice: {line}"
            );
        }
    }
    let flags = |text: &str| -> Vec<String> {
        text.split_whitespace()
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(|w| w.trim_end_matches(',').to_string())
            .collect()
    };
    let py = help(&["py"]);
    let (tui_py, sweep_py) = (help(&["tui", "py"]), help(&["sweep", "py"]));
    // What the headless run writes (JSON, a profile file) and its warm-ups
    // are its own; how the program runs carries over.
    let own = ["--json", "--profile", "--profile-format", "--warmup"];
    for flag in flags(&py).iter().filter(|f| !own.contains(&f.as_str())) {
        assert!(tui_py.contains(flag.as_str()), "tui py lacks {flag}");
        assert!(sweep_py.contains(flag.as_str()), "sweep py lacks {flag}");
    }
    for flag in [
        "--json",
        "--repeat",
        "--wait-quiet",
        "--record",
        "--workers",
    ] {
        assert!(sweep_py.contains(flag), "sweep py lacks {flag}");
    }
}

/// A sweep's own flags after `py`, as `parlab py` takes `--json` after `py`:
/// one JSON object, two points of two repeats each.
#[test]
fn a_program_sweep_takes_its_flags_after_py() {
    if !common::python3_ok() {
        eprintln!("SKIPPED: no python3 of 3.9 or later");
        return;
    }
    let out = parlab(&[
        "sweep",
        "py",
        "lecture:cpu",
        "--workers",
        "1..2",
        "--json",
        "--repeat",
        "2",
        "--wait-quiet",
        "0",
        "--timeout",
        "60",
        "--",
        "--mode",
        "processes",
        "--workers",
        "{workers}",
        "--size",
        "20000",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON object");
    assert_eq!(v["repeat"], 2, "{v}");
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{v}");
    for p in points {
        assert_eq!(p["runs_ms"].as_array().map(Vec::len), Some(2), "{p}");
    }
}
