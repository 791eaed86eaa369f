//! The fib workload's cache against CPython's own `functools.lru_cache`:
//! the same calls give the same hits, misses and currsize.

mod common;
use common::run_json;
use serde_json::Value;

fn check(fixtures: &Value) {
    for case in fixtures.as_array().unwrap() {
        let inputs: Vec<String> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.to_string())
            .collect();
        let size = match &case["maxsize"] {
            Value::Null => "none".to_string(),
            n => n.to_string(),
        };
        let inputs = inputs.join(",");
        let v = run_json(&[
            "--workload",
            "fib",
            "--inputs",
            &inputs,
            "--cache-size",
            &size,
            "--strategy",
            "sequential",
        ]);
        let cache = &v["cache"];
        assert_eq!(
            v["result"]["values"], case["values"],
            "{inputs} maxsize {size}"
        );
        assert_eq!(
            cache["hits"], case["hits"],
            "hits for {inputs} maxsize {size}"
        );
        assert_eq!(
            cache["misses"], case["misses"],
            "misses for {inputs} maxsize {size}"
        );
        assert_eq!(
            cache["currsize"], case["currsize"],
            "currsize for {inputs} maxsize {size}"
        );
        assert_eq!(cache["maxsize"], case["maxsize"]);
    }
}

#[test]
fn the_cache_matches_the_committed_cpython_fixtures() {
    check(&serde_json::from_str(include_str!("fixtures/lru_cache.json")).unwrap());
}

#[test]
fn the_cache_matches_cpython_live_when_python3_is_present() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lru_gen.py");
    let Ok(out) = std::process::Command::new("python3").arg(script).output() else {
        eprintln!("python3 not found: the committed fixtures stand in");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live: Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: Value = serde_json::from_str(include_str!("fixtures/lru_cache.json")).unwrap();
    assert_eq!(live, committed, "the fixtures are what CPython says today");
    check(&live);
}
