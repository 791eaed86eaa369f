//! `parlab bench` as a table: a line a figure, its budget beside it where it has one.

use serde_json::Value;

/// The GIL's lines: the model beside CPython's measured GIL, and the cost of reading it.
fn gil_lines(v: &Value) -> String {
    if let Some(n) = v.pointer("/gil/note").and_then(Value::as_str) {
        return format!("gil               {n}\n");
    }
    let Some(g) = v.get("gil") else {
        return String::new();
    };
    let pct = |x: &Value| {
        x.as_array()
            .map(|a| {
                a.iter()
                    .map(|s| format!("{:.0}", s.as_f64().unwrap_or(f64::NAN) * 100.0))
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
    };
    let f = |p: &str| g.pointer(p).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let mut s = format!(
        "gil, 2 threads    model: {:.2}x, held {} %, waited {} %, {:.0} hand-offs/s\n",
        f("/model/speedup_2_threads"),
        pct(&g["model"]["held"]),
        pct(&g["model"]["waited"]),
        f("/model/switches_per_s")
    );
    s += &format!(
        "                  CPython {} ({} at {:.0} Hz): {:.2}x, held {} %, waited {} %, {:.0} hand-offs/s\n",
        g["python"].as_str().unwrap_or("?"),
        g["cpython"]["method"].as_str().unwrap_or("?"),
        f("/cpython/sample_hz"),
        f("/cpython/speedup_2_threads"),
        pct(&g["cpython"]["held"]),
        pct(&g["cpython"]["waited"]),
        f("/cpython/switches_per_s")
    );
    s += &format!(
        "gil reading       2 processes x 2 threads at {:.0} Hz: parlab's reader thread {:.2}% of one core reading, {:.2}% not\n",
        f("/reader/sample_hz"),
        f("/reader/reader_on_percent_of_one_core"),
        f("/reader/reader_off_percent_of_one_core")
    );
    for m in g["reader_many_threads"].as_array().into_iter().flatten() {
        let n = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
        s += &format!(
            "                  {} x {} threads: reader {:.2}% of one core ({:.2}-{:.2}; budget {:.0}%), each thread read {:.0} Hz\n",
            m["processes"],
            m["threads_each"],
            n("reader_percent_of_one_core"),
            m["min_max"][0].as_f64().unwrap_or(f64::NAN),
            m["min_max"][1].as_f64().unwrap_or(f64::NAN),
            n("budget_percent"),
            n("thread_read_hz"),
        );
    }
    s += &format!(
        "                  program's wall, reading on / off (medians of {} pairs): cpu threads {:.3} ({:.3}-{:.3}), processes {:.3} ({:.3}-{:.3})\n",
        g["pairs"],
        f("/wall_ratio_reading_on_off/cpu_threads/median"),
        f("/wall_ratio_reading_on_off/cpu_threads/min_max/0"),
        f("/wall_ratio_reading_on_off/cpu_threads/min_max/1"),
        f("/wall_ratio_reading_on_off/cpu_processes/median"),
        f("/wall_ratio_reading_on_off/cpu_processes/min_max/0"),
        f("/wall_ratio_reading_on_off/cpu_processes/min_max/1")
    );
    s
}

/// The python section's lines: the probe's cost on the program and around it.
fn python_lines(v: &Value) -> String {
    let f = |p: &str| v.pointer(p).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let mut s = String::new();
    if let Some(Value::Object(ratios)) = v.pointer("/python/wall_ratio") {
        // A row with a budget says it, its spread and its pairs.
        let each: Vec<String> = ratios
            .iter()
            .map(|(k, r)| {
                let m = |p: &str| r.pointer(p).and_then(Value::as_f64).unwrap_or(f64::NAN);
                match r["budget"].as_f64() {
                    Some(b) => format!(
                        "{k} {:.3} ({:.3}-{:.3}, {} pairs; budget {b:.2}: {}; plain alone {:.2}-{:.2} of its median)",
                        m("/median"),
                        m("/min_max/0"),
                        m("/min_max/1"),
                        r["pairs"],
                        if r["median_interval"].is_null() {
                            "too few pairs to tell".to_string()
                        } else {
                            format!(
                                "{}, the median in {:.3}-{:.3} at {:.0}%",
                                r["verdict"].as_str().unwrap_or("?"),
                                m("/median_interval/0"),
                                m("/median_interval/1"),
                                100.0 * super::python::CONFIDENCE
                            )
                        },
                        m("/plain_spread/0"),
                        m("/plain_spread/1"),
                    ),
                    None => format!("{k} {:.3}", m("/median")),
                }
            })
            .collect();
        s += &format!(
            "python probe      wall under parlab py / plain python3 {} (medians): {}\n",
            v["python"]["python"].as_str().unwrap_or("?"),
            each.join(", ")
        );
        s += &format!(
            "                  an empty script: parlab py adds {:.1} ms ({:.1}-{:.1}; budget {:.0} ms) to python's {:.1} ms (medians of {} pairs)\n",
            f("/python/empty_script/added_ms"),
            f("/python/empty_script/min_max/0"),
            f("/python/empty_script/min_max/1"),
            f("/python/empty_script/budget_ms"),
            f("/python/empty_script/plain_ms"),
            v["python"]["empty_script"]["pairs"],
        );
        s += &format!(
            "                  one record {:.0} ns in CPython; reading the program {:.2}% of one core (the /proc sampler {:.2}%)\n",
            f("/python/event_ns"),
            f("/python/reader/reader_percent_of_one_core"),
            f("/python/reader/sampler_percent_of_one_core")
        );
    } else if let Some(n) = v.pointer("/python/note").and_then(Value::as_str) {
        s += &format!("python probe      {n}\n");
    }
    s
}

/// Watching a Dask cluster: from a task's end to its event in parlab.
fn dask_lines(v: &Value) -> String {
    if let Some(n) = v.pointer("/dask/note").and_then(Value::as_str) {
        return format!("dask              {n}\n");
    }
    format!(
        "dask watch        a task's end to its event in parlab, {:.0} tasks: median {:.2} ms (min {:.2}, p95 {:.2}, max {:.2}; budget {:.0} ms); {:.0} read below zero: the clocks agree only to about that\n",
        fig(v, "/dask/end_latency_ms/tasks"),
        fig(v, "/dask/end_latency_ms/median"),
        fig(v, "/dask/end_latency_ms/min"),
        fig(v, "/dask/end_latency_ms/p95"),
        fig(v, "/dask/end_latency_ms/max"),
        fig(v, "/dask/budget_ms"),
        fig(v, "/dask/end_latency_ms/below_zero"),
    )
}

fn profile_lines(v: &Value) -> String {
    if let Some(n) = v.pointer("/profile/note").and_then(Value::as_str) {
        return format!("profile           {n}\n");
    }
    let mut s = format!(
        "profile           cpu threads' own wall, profiled / not: {:.3} at 100 Hz (budget {:.2}), {:.3} at 1000 Hz (budget {:.2}); {:.0} pairs\n",
        fig(v, "/profile/wall_ratio_profiled/100_hz/median"),
        fig(v, "/profile/budgets/wall_ratio_100_hz"),
        fig(v, "/profile/wall_ratio_profiled/1000_hz/median"),
        fig(v, "/profile/budgets/wall_ratio_1000_hz"),
        fig(v, "/profile/pairs"),
    );
    for n in [8, 64, 256] {
        let at = |k: &str| fig(v, &format!("/profile/readers/{n}_threads/{k}"));
        s += &format!(
            "                  {n} threads at 100 Hz: stack reader {:.2}% of one core (budget {:.0}%), {:.1} Hz achieved\n",
            at("reader_percent_of_one_core"),
            fig(v, "/profile/budgets/reader_percent"),
            at("hz_achieved"),
        );
    }
    s
}

/// The human table.
pub fn table(v: &Value) -> String {
    let s = [speedup_lines(v), lab_lines(v), recording_lines(v)].concat()
        + &python_lines(v)
        + &gil_lines(v)
        + &profile_lines(v)
        + &dask_lines(v)
        + &fidelity_lines(v);
    // A section not measured (`--only`) has no figures: its lines are left out.
    s.lines()
        .filter(|l| !l.contains("NaN"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The figure at JSON pointer `p`, NaN where it was not measured.
fn fig(v: &Value, p: &str) -> f64 {
    v.pointer(p).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// The machine, start costs, speedups at 2 workers and CPython beside them.
fn speedup_lines(v: &Value) -> String {
    let f = |p: &str| fig(v, p);
    let mut s = String::new();
    s += &format!(
        "parlab bench ({} logical cores{})\n",
        v["machine"]["logical_cores"],
        if v["quick"] == true {
            ", quick: figures not meaningful"
        } else {
            ""
        }
    );
    s += &format!(
        "start cost        thread {:.3} ms, process {:.3} ms ({:.0}x)\n",
        f("/start_cost/thread_ms"),
        f("/start_cost/process_ms"),
        f("/start_cost/ratio")
    );
    s += &format!(
        "speedup, 2 workers on collatz {} (sequential {:.0} ms)\n",
        v["speedup_2_workers"]["size"],
        f("/speedup_2_workers/sequential_ms")
    );
    for k in [
        "threads",
        "pool",
        "rayon",
        "processes",
        "process_pool",
        "pool_gil",
        "threads_gil",
    ] {
        s += &format!("  {k:<14} {:.2}x\n", f(&format!("/speedup_2_workers/{k}")));
    }
    s += &format!(
        "  {:<14} {:.2}x  (rayon's bare loop, no lab: the reference)\n",
        "bare rayon",
        f("/bare_rayon_2_workers/speedup")
    );
    if v.get("cpython").is_some() {
        s += &format!(
            "CPython           2 threads {:.2}x (parlab threads+GIL {:.2}x), ProcessPoolExecutor(2) {:.2}x (parlab process-pool {:.2}x)\n",
            f("/cpython/threads_speedup"),
            f("/speedup_2_workers/threads_gil"),
            f("/cpython/processes_speedup"),
            f("/speedup_2_workers/process_pool")
        );
        s += &format!(
            "native speed      parlab collatz is {:.0}x CPython's, one thread\n",
            f("/native_speed_vs_cpython")
        );
    } else {
        if v.get("speedup_2_workers").is_some() {
            s += "CPython           python3 not found: no comparison\n";
        }
    }
    s
}

/// The lab's own costs: pipes, the event pipeline, instrumentation, frames, memory.
fn lab_lines(v: &Value) -> String {
    let f = |p: &str| fig(v, p);
    let mut s = String::new();
    s += &format!(
        "worker pipe       postcard {:.1} M events/s ({:.1} B/event), JSON lines {:.1} M events/s ({:.1} B/event)\n",
        f("/ipc/postcard_events_per_s") / 1e6,
        f("/ipc/postcard_bytes_per_event"),
        f("/ipc/json_lines_events_per_s") / 1e6,
        f("/ipc/json_bytes_per_event")
    );
    s += &format!(
        "event pipeline    {:.1} M events/s, 2 workers into the model (sent {} = received {})\n",
        f("/pipeline/events_per_s") / 1e6,
        v["pipeline"]["sent"],
        v["pipeline"]["received"]
    );
    s += &format!(
        "worker pipe, one  {:.1} M events/s through one worker process\n",
        f("/worker_pipe/events_per_s") / 1e6
    );
    s += &format!(
        "instrumentation   events on/off wall ratio: {:.3} for 100 us tasks, {:.3} for 10 us tasks\n",
        f("/overhead/ratio_100us"),
        f("/overhead/ratio_10us")
    );
    s += &format!(
        "frame             {:.2} ms median at 200x60\n",
        f("/frame/median_ms")
    );
    s += &format!(
        "UI thread         {:.1}% of one core at 30 fps during a run\n",
        f("/ui_cpu/percent_of_one_core")
    );
    s += &format!(
        "idle lab          {:.2}% of one core, the whole process, no run (budget 0.5%)\n",
        f("/idle_lab/percent_of_one_core")
    );
    s += &format!(
        "frame, 1024 busy threads: median {:.1} ms, p99 {:.1} ms (UI {}); workers lowered instead: {:.1} / {:.1} ms; priorities unchanged: {:.1} / {:.1} ms\n",
        f("/frame_under_load/median_ms"),
        f("/frame_under_load/p99_ms"),
        v["frame_under_load"]["ui"].as_str().unwrap_or("?"),
        f("/frame_under_load/workers_lowered/median_ms"),
        f("/frame_under_load/workers_lowered/p99_ms"),
        f("/frame_under_load/unchanged_priorities/median_ms"),
        f("/frame_under_load/unchanged_priorities/p99_ms")
    );
    s += &format!(
        "memory            {:.0} MB resident after a {:.0} s soak at full event rate ({} events)\n",
        f("/soak/rss_mb_after"),
        f("/soak/seconds"),
        v["soak"]["events"]
    );
    s
}

/// What recording costs, and reading a big recording back.
fn recording_lines(v: &Value) -> String {
    let f = |p: &str| fig(v, p);
    let mut s = String::new();
    s += &format!(
        "recording         on/off wall ratio {:.3} (pairs min–max {:.3}–{:.3}) for 100 us tasks, {:.1} B/event\n",
        f("/recording/overhead/ratio_median"),
        f("/recording/overhead/ratio_min_max/0"),
        f("/recording/overhead/ratio_min_max/1"),
        f("/recording/overhead/bytes_per_event")
    );
    s += &format!(
        "recording, big    {} events ({:.1} B/event): opens in {:.0} ms, seeks median {:.1} ms, worst {:.1} ms, a step back {:.1} ms\n",
        v["recording"]["big_file"]["events"],
        f("/recording/big_file/bytes_per_event"),
        f("/recording/big_file/open_ms"),
        f("/recording/big_file/seek_median_ms"),
        f("/recording/big_file/seek_max_ms"),
        f("/recording/big_file/step_back_ms")
    );
    s += &format!(
        "replay UI         % of one core at 30 fps, 200x60, medians of rounds: live {:.2}, replay 1x {:.2}, 16x {:.2} ({:.2}–{:.2})\n",
        f("/recording/ui/live_percent_of_one_core"),
        f("/recording/ui/replay_1x_percent_of_one_core"),
        f("/recording/ui/replay_16x_percent_of_one_core"),
        f("/recording/ui/replay_16x_min_max/0"),
        f("/recording/ui/replay_16x_min_max/1")
    );
    s += &format!(
        "                  taking events in, per frame: live {:.0} us, replay 1x {:.0} us, 16x {:.0} us (the rest is drawing)\n",
        f("/recording/ui/pump_us/live"),
        f("/recording/ui/pump_us/replay_1x"),
        f("/recording/ui/pump_us/replay_16x")
    );
    s
}

/// The lecture's own figures, beside what parlab shows of them.
fn fidelity_lines(v: &Value) -> String {
    let f = |p: &str| fig(v, p);
    let mut s = String::new();
    s += &format!(
        "lecture           7 tasks (sum {:.0} ms, longest {:.0} ms): sequential {:.0} ms, threads {:.0} ms\n",
        f("/fidelity/seven_tasks/sum_ms"),
        f("/fidelity/seven_tasks/longest_ms"),
        f("/fidelity/seven_tasks/sequential_ms"),
        f("/fidelity/seven_tasks/threads_ms")
    );
    s += &format!(
        "lecture           shell, {:.0} ms units: pool of 4 on three tasks {:.0} ms, five in a row {:.0} ms\n",
        f("/fidelity/shell/unit_ms"),
        f("/fidelity/shell/pool_of_4_three_tasks_ms"),
        f("/fidelity/shell/five_in_a_row_ms")
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every figure the table names, set: no line is left out, and none
    /// says NaN.
    #[test]
    fn every_figure_measured_is_a_line() {
        let text = include_str!("table.rs");
        let mut v = serde_json::json!({ "machine": { "logical_cores": 2 } });
        for (n, p) in text.split("f(\"/").skip(1).enumerate() {
            let path: Vec<&str> = p[..p.find('"').unwrap()].split('/').collect();
            let mut at = &mut v;
            for (i, key) in path.iter().enumerate() {
                if i + 1 == path.len() {
                    at[*key] = serde_json::json!(n as f64 + 0.5);
                } else {
                    at = &mut at[*key];
                }
            }
        }
        let table = table(&v);
        assert!(!table.contains("NaN"));
        for start in [
            "start cost",
            "worker pipe",
            "recording, big",
            "lecture           shell",
        ] {
            assert!(table.contains(start), "{start} missing:\n{table}");
        }
    }
}
