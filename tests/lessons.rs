//! `parlab lesson`: the list, `--check` on every bundled lesson, a user's
//! lesson, bad lesson files, and lessons prepared in advance.

mod common;
use common::parlab;
use serde_json::Value;

const NINE: [&str; 9] = [
    "timing",
    "seven-tasks",
    "gil",
    "start-methods",
    "queue",
    "races",
    "asyncio",
    "amdahl",
    "cache",
];

/// A lesson of native runs only (no Python needed), small and quick.
const NATIVE: &str = r#"
title = "Threads under the simulated GIL"
[vars]
size = 400000
[[step]]
id = "seq"
say = "One worker: Collatz of 1..{{ size }}."
run = ["--workload", "collatz", "--size", "{{ size }}", "--tasks", "4", "--strategy", "sequential"]
reveal = "{{ runs.seq.wall_ms | ms }}"
[[step]]
id = "gil"
say = "Two threads under the simulated GIL."
ask = "How long?"
choices = ["half", "about the same", "longer"]
run = ["--workload", "collatz", "--size", "{{ size }}", "--tasks", "4", "--strategy", "threads", "--workers", "2", "--gil"]
answer = "{{ 0 if runs.gil.wall_ms < 0.75 * runs.seq.wall_ms else (1 if runs.gil.wall_ms < 1.25 * runs.seq.wall_ms else 2) }}"
reveal = "{{ (runs.gil.wall_ms / runs.seq.wall_ms) | round(2) }}× one worker."
expect = "runs.gil.tasks == 4 and runs.seq.tasks == 4"
"#;

fn lesson_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-lessons-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn check_json(args: &[&str]) -> (Value, Option<i32>) {
    let out = parlab(&[&["lesson"], args, &["--check", "--json"]].concat());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "lesson {args:?}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code())
}

/// The check's JSON has its documented shape and its counts add up.
fn well_formed(v: &Value) {
    let steps = v["steps"].as_array().expect("steps");
    let verdicts = ["held", "not_held", "disturbed", "no_claim"];
    for s in steps {
        let verdict = s["verdict"].as_str().unwrap_or_else(|| panic!("{s}"));
        assert!(verdicts.contains(&verdict), "{s}");
        assert!(s["id"].is_string() && s["title"].is_string() && s["caption"].is_string());
        assert!(s["runs"].is_array(), "{s}");
    }
    let n = |w: &str| steps.iter().filter(|s| s["verdict"] == w).count() as u64;
    assert_eq!(v["held"], n("held"));
    assert_eq!(v["not_held"], n("not_held"));
    assert_eq!(v["disturbed"], n("disturbed"));
}

#[test]
fn the_nine_lessons_are_listed() {
    let out = parlab(&["lesson"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in NINE {
        assert!(text.contains(&format!("  {name} ")), "{name}: {text}");
    }
}

/// Every bundled lesson runs headless on small sizes: each step judged,
/// each run's JSON kept, exit 0 or 1 (small sizes may not show a claim).
#[test]
fn every_bundled_lesson_checks_on_small_sizes() {
    if !common::python3_ok() {
        return;
    }
    for name in NINE {
        let (v, code) = check_json(&[name, "--scale", "0.05"]);
        assert!(matches!(code, Some(0) | Some(1)), "{name}: {code:?} {v}");
        assert_eq!(v["lesson"], name);
        well_formed(&v);
        for s in v["steps"].as_array().unwrap() {
            assert_ne!(s["verdict"], Value::Null, "{name}: every step judged: {s}");
        }
        assert_eq!(code == Some(0), v["not_held"] == 0, "{name}: {v}");
    }
}

/// Every bundled lesson's templates render on runs as recorded: prepared
/// at small sizes, then checked from the recording alone.
#[test]
fn every_bundled_lesson_renders_on_its_recorded_runs() {
    if !common::python3_ok() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("parlab-lessons-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in NINE {
        let rec = dir.join(format!("{name}.parlab"));
        let out = parlab(&[
            "lesson",
            name,
            "--scale",
            "0.05",
            "--prepare",
            rec.to_str().unwrap(),
        ]);
        assert!(
            out.status.success() || out.status.code() == Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (v, code) = check_json(&[name, "--scale", "0.05", "--recorded", rec.to_str().unwrap()]);
        assert!(matches!(code, Some(0) | Some(1)), "{name}: {code:?} {v}");
        well_formed(&v);
        for s in v["steps"].as_array().unwrap() {
            assert!(
                s["caption"].is_string() && s["verdict"].is_string(),
                "{name}: {s}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_users_lesson_runs_under_check_and_says_each_step() {
    let file = lesson_file("native.toml", NATIVE);
    let (v, code) = check_json(&[file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{v}");
    well_formed(&v);
    assert_eq!(v["steps"][0]["verdict"], "no_claim");
    // Held; or no check, where the tests beside it made the machine busy.
    let verdict = &v["steps"][1]["verdict"];
    assert!(verdict == "held" || verdict == "disturbed", "{v}");
    let answer = v["steps"][1]["answer"].as_u64().expect("a measured answer");
    let run = &v["steps"][1]["runs"][0];
    let ratio =
        run["wall_ms"].as_f64().unwrap() / v["steps"][0]["runs"][0]["wall_ms"].as_f64().unwrap();
    let want = if ratio < 0.75 {
        0
    } else if ratio < 1.25 {
        1
    } else {
        2
    };
    assert_eq!(answer, want, "the answer is the measured one: {ratio}");
    assert_eq!(run["gil"]["method"], "model", "runs.ID is the run's JSON");
    // The human form: a line a step, then the tally.
    let out = parlab(&["lesson", file.to_str().unwrap(), "--check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2/2 gil") && text.contains(", 0 not held"),
        "{text}"
    );
}

/// A bad lesson: one line naming the file, the line and the key; exit 2;
/// nothing run.
#[test]
fn a_bad_lesson_is_refused_with_its_file_line_and_key() {
    let cases = [
        (
            NATIVE.replace("reveal = \"{{ runs.seq", "revealed = \"{{ runs.seq"),
            ":9:",
            "revealed",
        ),
        (
            NATIVE.replace("| round(2) }}", "| round(2) }"),
            ":17:",
            "`reveal`",
        ),
        (
            NATIVE.replace(
                "\"--tasks\", \"4\", \"--strategy\", \"sequential\"",
                "\"--tasks\", \"4\", \"--strategy\", \"sequentially\"",
            ),
            ":8:",
            "sequentially",
        ),
        (
            format!("{NATIVE}[[step]]\nid = \"py\"\nsay = \"x\"\npy = [\"no-such-script.py\"]\n"),
            ":22:",
            "no-such-script.py",
        ),
    ];
    for (i, (text, line, key)) in cases.iter().enumerate() {
        let file = lesson_file(&format!("bad{i}.toml"), text);
        let out = parlab(&["lesson", file.to_str().unwrap(), "--check"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains(&format!("bad{i}.toml{line}")) && err.contains(key),
            "case {i}: {err}"
        );
        assert!(
            out.stdout.is_empty(),
            "nothing ran: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = parlab(&["lesson", "no-such-lesson"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("no-such-lesson") && err.contains("gil"),
        "{err}"
    );
}

/// `--prepare` records every step's run; `--recorded` checks the lesson on
/// them without running anything: the same answers and verdicts.
#[test]
fn a_lesson_prepared_in_advance_checks_the_same_from_its_recording() {
    let file = lesson_file("prepared.toml", NATIVE);
    let rec = file.with_extension("parlab");
    let out = parlab(&[
        "lesson",
        file.to_str().unwrap(),
        "--prepare",
        rec.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (live, _) = check_json(&[file.to_str().unwrap(), "--recorded", rec.to_str().unwrap()]);
    let (again, _) = check_json(&[file.to_str().unwrap(), "--recorded", rec.to_str().unwrap()]);
    well_formed(&live);
    for (a, b) in live["steps"]
        .as_array()
        .unwrap()
        .iter()
        .zip(again["steps"].as_array().unwrap())
    {
        assert_eq!(
            a["runs"][0]["wall_ms"], b["runs"][0]["wall_ms"],
            "the recorded runs, not new ones"
        );
        assert_eq!((&a["verdict"], &a["answer"]), (&b["verdict"], &b["answer"]));
    }
    // A recording of another lesson does not fit.
    let other = lesson_file(
        "other.toml",
        &format!("{NATIVE}[[step]]\nid = \"x\"\nsay = \"x\"\nrun = [\"--size\", \"1000\"]\n"),
    );
    let out = parlab(&[
        "lesson",
        other.to_str().unwrap(),
        "--check",
        "--recorded",
        rec.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("holds 2 runs") && err.contains("runs 3"),
        "{err}"
    );
}

/// On a quiet machine every bundled lesson's claims hold at full size; a
/// lesson with a disturbed step, or a claim that did not hold, is checked
/// once more (a shared VM's host can slow one run by a third with nothing
/// on this machine to show for it: the timing lesson's three sequential runs
/// took 1285, 1735 and 1336 ms here with others using 1-2 % of a core and no
/// steal time). A claim that fails twice fails the test.
#[test]
#[ignore = "timing: run alone with the ignored suite"]
fn every_bundled_lesson_holds_on_this_machine_when_quiet() {
    if !common::python3_ok() {
        return;
    }
    for name in NINE {
        let (mut v, mut code) = check_json(&[name]);
        if v["disturbed"] != 0 || v["not_held"] != 0 {
            eprintln!(
                "{name}: checked again ({} disturbed, {} not held)",
                v["disturbed"], v["not_held"]
            );
            (v, code) = check_json(&[name]);
        }
        well_formed(&v);
        assert_eq!(code, Some(0), "{name}: a claim did not hold: {v:#}");
        assert_eq!(v["not_held"], 0, "{name}");
    }
}

/// With a CPU hog beside it, steps are marked disturbed, and no claim is
/// called not held only because of the neighbour.
#[test]
#[ignore = "timing: run alone with the ignored suite"]
fn a_neighbour_marks_steps_disturbed_never_not_held() {
    if !common::python3_ok() {
        return;
    }
    let _hog = common::Hog::start();
    let _hog2 = common::Hog::start();
    let (v, _) = check_json(&["gil"]);
    well_formed(&v);
    assert!(v["disturbed"].as_u64().unwrap() >= 1, "{v:#}");
    assert_eq!(v["not_held"], 0, "{v:#}");
}

/// The races lesson holds on every installed CPython: 3.9 loses plain
/// `+= 1` updates, 3.10 and later do not.
#[test]
#[ignore = "long: every installed CPython, in the ignored suite"]
fn the_races_lesson_holds_on_every_installed_cpython() {
    for exe in common::installed_cpythons() {
        let (v, code) = check_json(&["races", "--python", &exe]);
        assert_eq!(code, Some(0), "{exe}: {v:#}");
        let lost = v["steps"][0]["runs"][0]["result"]["lost"].as_u64().unwrap();
        assert_eq!(lost > 0, exe.contains("/3.9."), "{exe}: {lost} lost");
    }
}

/// A step may run a preset: `runs.ID` is the list of its runs' JSON.
#[test]
fn a_step_runs_a_preset_and_names_its_runs_as_a_list() {
    let text = "title = \"p\"\n[[step]]\nid = \"seven\"\nsay = \"Preset 1.\"\npreset = \"1\"\n\
                reveal = \"{{ runs.seven | length }} runs\"\n\
                expect = \"runs.seven[2].wall_ms < runs.seven[0].wall_ms\"\n";
    let file = lesson_file("preset.toml", text);
    let (v, code) = check_json(&[file.to_str().unwrap()]);
    well_formed(&v);
    let runs = &v["steps"][0]["runs"][0];
    let strategies: Vec<&str> = runs
        .as_array()
        .expect("a list of the preset's runs")
        .iter()
        .map(|r| r["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(strategies, ["sequential", "threads", "processes"], "{v}");
    assert_eq!(v["steps"][0]["caption"], "3 runs");
    assert!(code == Some(0) || v["disturbed"] == 1, "{v}");
    let bad = lesson_file("badpreset.toml", &text.replace("\"1\"", "\"99\""));
    let out = parlab(&["lesson", bad.to_str().unwrap(), "--check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("badpreset.toml:5: `preset`") && err.contains("'99'"),
        "{err}"
    );
}
