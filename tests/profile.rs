//! The live profile of real Python programs: stacks read from outside, the
//! shares they give, the files people open, and `--repeat`.

#[macro_use]
mod common;

use common::{parlab, py, script};
use serde_json::Value;

/// A program whose two functions take about 2/3 and 1/3 of its CPU time,
/// timing each itself to compare against: its CPU time and its wall time.
/// Samples count wall time (a thread that waits for a core stays in its
/// function), so the wall time is what they must match; on a quiet machine
/// the two are the same, and on a loaded one (tests side by side on two
/// cores) the CPU time alone was 10 points off.
const TWO_THIRDS: &str = r#"
import json, time

def two_thirds(n):
    x = 0
    for i in range(2 * n):
        x += i * i
    return x

def one_third(n):
    x = 0
    for i in range(n):
        x += i * i
    return x

cpu = {"two_thirds": 0.0, "one_third": 0.0}
wall = dict(cpu)
stop = time.perf_counter() + 1.5
while time.perf_counter() < stop:
    for f in (two_thirds, one_third):
        t, w = time.thread_time(), time.perf_counter()
        f(20000)
        wall[f.__name__] += time.perf_counter() - w
        cpu[f.__name__] += time.thread_time() - t
print(json.dumps({"cpu_ms": cpu, "wall_ms": wall}))
"#;

/// The self share of `function` among the samples of `two_thirds` and `one_third`.
fn share_of(v: &Value, function: &str) -> f64 {
    let top = v["profile"]["top"].as_array().expect("profile.top");
    let own = |name: &str| {
        top.iter()
            .find(|r| r["function"] == name)
            .and_then(|r| r["self"].as_f64())
            .unwrap_or(0.0)
    };
    own(function) / (own("two_thirds") + own("one_third"))
}

fn shares_match_cpu_time(python: &str) {
    let path = script("two_thirds.py", TWO_THIRDS);
    let (v, code) = py(&[
        "--python",
        python,
        "--profile-hz",
        "500",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{v:#}");
    let share = |of: &str| {
        let t = &v["result"][of];
        let (two, one) = (t["two_thirds"].as_f64(), t["one_third"].as_f64());
        two.unwrap() / (two.unwrap() + one.unwrap())
    };
    let (wall, cpu) = (share("wall_ms"), share("cpu_ms"));
    let got = share_of(&v, "two_thirds");
    assert!(
        (got - wall).abs() <= 0.05,
        "{python}: two_thirds has {got:.3} of the samples, {wall:.3} of the wall time \
         ({cpu:.3} of the CPU time)"
    );
    // The rate achieved is a benchmark's figure (parlab bench --only
    // profile), not a test's: tests run side by side on two cores.
    let p = &v["profile"];
    assert!(p["hz_achieved"].as_f64().unwrap() > 0.0, "{python}");
    assert_eq!(p["unread"], serde_json::json!([]), "{python}");
}

on_pythons!(
    self_shares_match_each_functions_cpu_time,
    self_shares_match_each_functions_cpu_time_on_every_cpython,
    shares_match_cpu_time
);

#[test]
fn two_threads_under_the_gil_hold_it_half_their_samples_in_collatz_len() {
    if !common::python3_ok() {
        return;
    }
    let (v, code) = py(&[
        "lecture:cpu",
        "--",
        "--mode",
        "threads",
        "--workers",
        "2",
        "--size",
        "300000",
    ]);
    assert_eq!(code, Some(0));
    let lanes = v["profile"]["lanes"].as_object().unwrap();
    let workers: Vec<&Value> = lanes
        .values()
        .filter(|l| l["name"].as_str().unwrap().starts_with("Thread-"))
        .collect();
    assert_eq!(workers.len(), 2, "{lanes:#?}");
    for l in workers {
        let top = &l["top"][0];
        assert_eq!(top["function"], "collatz_len", "{l:#}");
        let held = top["held"].as_f64().unwrap();
        let wait = top["gil_wait"].as_f64().unwrap();
        assert!((0.3..=0.7).contains(&held), "held {held}: {l:#}");
        // Alone, each waits about half its samples (0.39-0.54 measured);
        // beside other tests on two cores part of its waiting is for a
        // core, which is not the GIL's (0.18 seen): it waits, clearly.
        assert!(wait >= 0.1, "waited {wait}: {l:#}");
    }
}

#[test]
fn the_files_open_in_pstats_and_speedscope_and_export_makes_them_again() {
    if !common::python3_ok() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("parlab-profile-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = script("two_thirds.py", TWO_THIRDS);
    let (prof, rec) = (dir.join("run.prof"), dir.join("run.parlab"));
    let out = parlab(&[
        "py",
        "--profile",
        prof.to_str().unwrap(),
        "--record",
        rec.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("call counts are 0"), "{said}");
    // python -m pstats opens it: the top function by self time is two_thirds.
    let read = std::process::Command::new("python3")
        .args([
            "-c",
            "import pstats, sys; s = pstats.Stats(sys.argv[1]); \
             top = max(s.stats.items(), key=lambda kv: kv[1][2]); print(top[0][2])",
            prof.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&read.stdout).trim(),
        "two_thirds",
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    // From the recording: speedscope JSON that speedscope's documented format allows.
    let ss = dir.join("run.speedscope.json");
    let out = parlab(&[
        "export",
        rec.to_str().unwrap(),
        "--format",
        "speedscope",
        "-o",
        ss.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&ss).unwrap()).unwrap();
    validate_speedscope(&v);
    let frames = v["shared"]["frames"].as_array().unwrap();
    assert!(frames.iter().any(|f| f["name"] == "two_thirds"));
    // Collapsed stacks: one line per stack, its count last.
    let out = parlab(&[
        "export",
        rec.to_str().unwrap(),
        "--format",
        "folded",
        "-o",
        "-",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.contains(";two_thirds (")), "{text}");
    assert!(text
        .lines()
        .all(|l| l.rsplit(' ').next().unwrap().parse::<u64>().is_ok()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tests/speedscope.schema.json`: speedscope's file format as its
/// `file-format-spec.ts` documents it.
fn validate_speedscope(v: &Value) {
    common::validate_with(
        include_str!("speedscope.schema.json"),
        "speedscope.schema.json",
        v,
    );
}

#[test]
fn a_bad_profile_name_or_a_profile_without_stacks_is_one_line_and_exit_2() {
    for args in [
        &["py", "--profile", "out.xyz", "lecture:cpu"][..],
        &[
            "py",
            "--profile",
            "out.prof",
            "--profile-hz",
            "0",
            "lecture:cpu",
        ],
        &["py", "--profile-hz", "5000", "lecture:cpu"],
    ] {
        let out = parlab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn worker_processes_are_profiled_and_their_ends_end_their_samples() {
    if !common::python3_ok() {
        return;
    }
    let (v, code) = py(&[
        "lecture:cpu",
        "--",
        "--mode",
        "processes",
        "--workers",
        "2",
        "--size",
        "200000",
    ]);
    assert_eq!(code, Some(0));
    let p = &v["profile"];
    assert_eq!(p["unread"], serde_json::json!([]), "{p:#}");
    let pids: std::collections::BTreeSet<u64> = v["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| {
            p["lanes"][l["id"].to_string()]["top"]
                .as_array()
                .is_some_and(|t| t.iter().any(|r| r["function"] == "collatz_len"))
        })
        .map(|l| l["pid"].as_u64().unwrap())
        .collect();
    assert!(
        pids.len() >= 2,
        "collatz_len sampled in each worker: {pids:?}"
    );
}

#[test]
fn repeat_runs_the_program_n_times_and_marks_the_first() {
    if !common::python3_ok() {
        return;
    }
    let (v, code) = py(&[
        "--repeat",
        "5",
        "--warmup",
        "1",
        "lecture:cpu",
        "--",
        "--size",
        "20000",
    ]);
    assert_eq!(code, Some(0));
    let runs = v["repeats"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    assert_eq!(runs[0]["warmup"], true);
    let firsts: Vec<usize> = (0..6).filter(|&i| runs[i]["first"] == true).collect();
    assert_eq!(firsts, [1]);
    let walls: Vec<f64> = runs[1..]
        .iter()
        .map(|r| {
            assert_eq!(r["own"], true, "cpu.py prints its wall_ms");
            r["wall_ms"].as_f64().unwrap()
        })
        .collect();
    let min = walls.iter().copied().fold(f64::MAX, f64::min);
    let max = walls.iter().copied().fold(0.0, f64::max);
    assert_eq!(v["min_ms"].as_f64(), Some(min));
    assert_eq!(v["max_ms"].as_f64(), Some(max));
    let median = v["median_ms"].as_f64().unwrap();
    assert!(walls.contains(&median) && (min..=max).contains(&median));
}
