//! The real binary in a pseudo-terminal: open, press keys, read the screen, quit.
#![cfg(unix)]

mod common;
use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Session {
    /// First, so it is dropped first: its drop writes a newline and EOF to
    /// its pty, which must still be this session's (once the master is
    /// closed, its descriptor number can belong to the next session's pty).
    writer: Box<dyn Write + Send>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Session {
    fn start(args: &[&str], rows: u16, cols: u16) -> Self {
        Self::start_env(args, rows, cols, &[])
    }

    fn start_env(args: &[&str], rows: u16, cols: u16, env: &[(&str, &str)]) -> Self {
        Self::open(args, rows, cols, env, None)
    }

    /// In folder `dir` (where `e` exports a run).
    fn start_in(dir: &std::path::Path, args: &[&str], rows: u16, cols: u16) -> Self {
        Self::open(args, rows, cols, &[], Some(dir))
    }

    fn open(
        args: &[&str],
        rows: u16,
        cols: u16,
        env: &[(&str, &str)],
        cwd: Option<&std::path::Path>,
    ) -> Self {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_parlab"));
        cmd.arg("--no-config");
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        if let Some(dir) = cwd {
            cmd.cwd(dir);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("parlab starts");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().process(&buf[..n]);
                r.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Self {
            master: pty.master,
            screen,
            raw,
            writer,
            child,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.contents().contains(text) {
            assert!(
                Instant::now() < deadline,
                "'{text}' never appeared:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until the screen holds what `check` looks for (`what`, said if not).
    fn wait_until(&self, what: &str, check: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !check(&self.contents()) {
            assert!(
                Instant::now() < deadline,
                "{what} never appeared:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until one of `texts` is on screen.
    fn wait_for_any(&self, texts: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !texts.iter().any(|t| self.contents().contains(t)) {
            assert!(
                Instant::now() < deadline,
                "none of {texts:?} appeared:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "parlab did not quit:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The parser is resized first and stays locked until the pty is: output
    /// drawn for the new size must never be parsed at the old one (it would
    /// wrap, and the app's later frames only patch what changed).
    fn resize(&mut self, rows: u16, cols: u16) {
        let mut screen = self.screen.lock().unwrap();
        screen.screen_mut().set_size(rows, cols);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    fn pid(&self) -> i32 {
        self.child.process_id().expect("a pid") as i32
    }

    /// Worker pids shown in the process lanes.
    fn lane_pids(&self) -> Vec<i32> {
        // A lane's label reads `process-N pid PID`; the log may name them too.
        let mut pids: Vec<i32> = self
            .contents()
            .lines()
            .filter_map(|l| l.split("process-").nth(1))
            .filter_map(|rest| {
                let w: Vec<&str> = rest.split_whitespace().collect();
                (w.get(1) == Some(&"pid")).then(|| w.get(2)?.parse().ok())?
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// The terminal was handed back: raw mode off (the tty echoes and
    /// cooks again), alternate screen left, cursor shown.
    fn assert_restored(&self) {
        let raw = self.raw();
        let left = raw.rfind("\x1b[?1049l").expect("left the alternate screen");
        assert!(raw.find("\x1b[?1049h").expect("entered it") < left);
        assert!(
            raw[left..].contains("\x1b[?25h")
                || raw[..left].rfind("\x1b[?25h") > raw.rfind("\x1b[?25l"),
            "cursor shown"
        );
    }

    /// parlab running a long CPU job on a pool of two worker processes, and their pids.
    fn with_process_pool() -> (Self, Vec<i32>) {
        let args = [&["tui"][..], &common::LONG_PROCESS_POOL_RUN].concat();
        let mut s = Session::start(&args, 40, 150);
        s.wait_for("Timeline");
        s.press("\r");
        // The two workers start side by side; either lane may come first.
        let deadline = Instant::now() + Duration::from_secs(20);
        while s.lane_pids().len() < 2 {
            assert!(Instant::now() < deadline, "two lanes:\n{}", s.contents());
            std::thread::sleep(Duration::from_millis(20));
        }
        let pids = s.lane_pids();
        (s, pids)
    }

    fn raw(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }
}

#[test]
fn open_run_watch_lanes_fill_and_quit_with_the_terminal_restored() {
    let mut s = Session::start(
        &[
            "tui",
            "--workload",
            "sleep",
            "--strategy",
            "threads",
            "--unit-ms",
            "40",
        ],
        40,
        150,
    );
    s.wait_for("Timeline");
    s.wait_for("Enter starts a run");
    s.press("\r");
    s.wait_for("Thread-7 pid");
    s.wait_for("~");
    s.press("?");
    s.wait_for("Help");
    // A lone Esc at a person's pace: bytes right behind it would read as Alt+key.
    std::thread::sleep(Duration::from_millis(100));
    s.press("\x1b");
    std::thread::sleep(Duration::from_millis(100));
    s.press("q");
    let status = s.wait_exit();
    assert!(status.success(), "{status:?}");
    std::thread::sleep(Duration::from_millis(100));
    s.assert_restored();
}

#[test]
fn the_live_lab_preset_sweep_help_tabs_and_quit() {
    let mut s = Session::start(
        &[
            "tui",
            "--workload",
            "collatz",
            "--size",
            "300000",
            "--strategy",
            "pool",
        ],
        60,
        200,
    );
    s.wait_for("Queue");
    for title in [
        "Settings", "Timeline", "Amdahl", "Cache", "CPU", "Log", "Runs", "Summary",
    ] {
        s.wait_for(title);
    }
    // A sweep: points land one by one, then the fitted p.
    s.press("w");
    s.wait_for("p = 0.");
    s.wait_for("sweep done");
    // A preset: the race demo, three runs one after another.
    s.press("6");
    s.wait_for("preset: race: lost updates (3 runs)");
    s.press("\r");
    s.wait_for("Thread-2 pid");
    s.wait_for("atomic");
    s.wait_for("completed in");
    s.press("?");
    s.wait_for("Help");
    // A lone Esc at a person's pace: bytes right behind it would read as Alt+key.
    std::thread::sleep(Duration::from_millis(100));
    s.press("\x1b");
    std::thread::sleep(Duration::from_millis(100));
    // Small: the panels become tabs.
    s.resize(24, 80);
    s.wait_for(" Summary ");
    let screen = s.contents();
    assert!(!screen.contains("terminal too small"), "{screen}");
    s.press("\t");
    s.press("\t");
    s.wait_for("the queue strategy shows its queue here");
    s.press("q");
    assert!(s.wait_exit().success());
    std::thread::sleep(Duration::from_millis(100));
    s.assert_restored();
}

#[test]
fn ctrl_c_mid_run_quits_and_reaps_worker_processes() {
    let (mut s, pids) = Session::with_process_pool();
    s.press("\x03");
    let status = s.wait_exit();
    assert!(status.success());
    for pid in pids {
        assert!(common::gone(pid as u32), "worker {pid} outlived parlab");
    }
}

#[test]
fn a_small_terminal_says_so() {
    let mut s = Session::start(&["tui"], 20, 60);
    s.wait_for("terminal too small (need 80x24)");
    s.press("q");
    assert!(s.wait_exit().success());
}

#[test]
fn sigterm_and_sighup_restore_the_terminal_and_leave_no_child() {
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        let (mut s, pids) = Session::with_process_pool();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(s.pid(), sig) };
        let status = s.wait_exit();
        assert_eq!(status.exit_code(), 128 + sig as u32, "signal {sig}");
        std::thread::sleep(Duration::from_millis(100));
        s.assert_restored();
        for pid in pids {
            assert!(
                common::gone(pid as u32),
                "worker {pid} outlived parlab after signal {sig}"
            );
        }
    }
}

#[test]
fn a_panic_restores_the_terminal_before_its_message() {
    let args = [&["tui"][..], &common::LONG_PROCESS_POOL_RUN].concat();
    let mut s = Session::start_env(&args, 40, 150, &[("PARLAB_FAULT", "ui-panic")]);
    s.wait_for("Timeline");
    s.press("\r");
    let status = s.wait_exit();
    assert!(!status.success());
    std::thread::sleep(Duration::from_millis(100));
    s.assert_restored();
    let raw = s.raw();
    let message = raw
        .find("injected fault: the UI panics")
        .expect("the panic message is printed");
    assert!(
        raw.find("\x1b[?1049l").unwrap() < message,
        "restored first, then the message"
    );
}

/// Record two runs, then `parlab replay a b`: two labelled timelines stacked
/// on one axis; Space pauses, `.` steps, Home and `:` seek, the help lists
/// the replay's keys, and it quits with the terminal restored.
#[test]
fn a_replay_of_two_recordings_compares_pauses_steps_and_seeks() {
    let dir = std::env::temp_dir().join(format!("parlab-e2e-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.parlab"), dir.join("b.parlab"));
    for (file, strategy) in [(&a, "sequential"), (&b, "threads")] {
        let out = common::parlab(&[
            "run",
            "--workload",
            "sleep",
            "--unit-ms",
            "20",
            "--strategy",
            strategy,
            "--record",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success());
    }
    let mut s = Session::start(
        &["replay", a.to_str().unwrap(), b.to_str().unwrap()],
        48,
        160,
    );
    s.wait_for("Compare  2 runs on one time axis");
    s.wait_for("1  sleep unit ms 20 · sequential · 1 worker");
    s.wait_for("2  sleep unit ms 20 · threads · 7 workers");
    s.press("c");
    s.wait_for("replay of a.parlab");
    s.press(" ");
    s.wait_for("⏸ replay");
    s.press("\x1b[H"); // Home
    s.wait_for("paused 0.000 s");
    s.press(".");
    s.wait_for("event 1/");
    s.press(":");
    s.wait_for("go to");
    s.press("0.1\r");
    s.wait_for("paused 0.100 s");
    s.press("}");
    s.wait_for("at 2×");
    s.press("?");
    s.wait_for("replay: one event back / forward");
    std::thread::sleep(Duration::from_millis(100));
    s.press("\x1b");
    std::thread::sleep(Duration::from_millis(100));
    s.press("q");
    assert!(s.wait_exit().success());
    std::thread::sleep(Duration::from_millis(100));
    s.assert_restored();
}

/// `parlab tui py --record FILE --timeout 30 lecture:seven_tasks -- --mode
/// threads`: Enter runs the real program; seven thread lanes sleep and its
/// own log lines show; the program's flags after `py` hold (it is recorded).
#[test]
fn the_lab_runs_a_real_python_program() {
    let python_ok = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.version_info >= (3, 9))"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "True");
    if !python_ok {
        eprintln!("SKIPPED: no python3 of 3.9 or later");
        return;
    }
    let record = std::env::temp_dir().join(format!("parlab-tui-py-{}.parlab", std::process::id()));
    let _ = std::fs::remove_file(&record);
    let mut s = Session::start(
        &[
            "tui",
            "py",
            "--record",
            record.to_str().unwrap(),
            "--timeout",
            "30",
            "lecture:seven_tasks",
            "--",
            "--mode",
            "threads",
            "--unit-ms",
            "200",
        ],
        48,
        160,
    );
    s.wait_for("script ‹lecture:seven_tasks› args ‹--mode threads --unit-ms 200›");
    s.press("\r");
    s.wait_for("Thread-7 (one) pid");
    s.wait_for("~~~");
    s.wait_for("INFO:execute_task: Doc (thread Thread-");
    s.wait_for("INFO:execute_task: Grumpy (thread Thread-");
    s.wait_for("seven_task");
    s.wait_for("measured");
    s.press("q");
    assert!(s.wait_exit().success());
    std::thread::sleep(Duration::from_millis(100));
    s.assert_restored();
    let replayed = common::parlab(&["replay", "--json", record.to_str().unwrap()]);
    let run: serde_json::Value =
        serde_json::from_slice(&replayed.stdout).expect("the recording replays");
    assert_eq!(run["source"], "python", "{run}");
    assert_eq!(run["tasks"], 7, "{run}");
    let _ = std::fs::remove_file(&record);
}

/// Preset 7 (real threads vs real processes): its three rows in Runs say
/// which is which at 200, 120 and 80 columns (the params column puts what
/// differs first), and the Summary gives the selected row whole.
#[test]
fn the_runs_rows_of_preset_7_tell_sequential_threads_and_processes_apart() {
    if !common::python3_ok() {
        return;
    }
    let mut s = Session::start(&[], 60, 200);
    s.wait_for("Settings");
    s.press("7");
    s.press("\r");
    // Within one panel: at 200 columns the Summary beside Runs names the
    // run under way on the same screen line.
    let runs_row = |screen: &str, mode: &str| {
        screen
            .lines()
            .flat_map(|l| l.split(['│', '┃']))
            .any(|cell| cell.contains('×') && cell.contains(&format!("--mode {mode}")))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !runs_row(&s.contents(), "pro") {
        assert!(Instant::now() < deadline, "no third row:\n{}", s.contents());
        std::thread::sleep(Duration::from_millis(50));
    }
    for (rows, cols) in [(60, 200), (40, 120), (24, 80)] {
        s.resize(rows, cols);
        std::thread::sleep(Duration::from_millis(300));
        // At 80x24 the panels are tabs: Tab to Runs.
        for _ in 0..12 {
            if s.contents().contains("wall ms") {
                break;
            }
            s.press("\t");
            std::thread::sleep(Duration::from_millis(150));
        }
        let screen = s.contents();
        for mode in ["seq", "thr", "pro"] {
            assert!(runs_row(&screen, mode), "{cols} columns, {mode}:\n{screen}");
        }
    }
    // Runs focused: the Summary (a tab away at 80x24, beside it when large) says the row whole.
    s.resize(60, 200);
    for _ in 0..12 {
        if s.contents().contains("run 3: python cpu --mode") {
            break;
        }
        s.press("\t");
        std::thread::sleep(Duration::from_millis(150));
    }
    // The Summary wraps: its words, in order, across its lines.
    s.wait_for("run 3: python cpu --mode");
    let joined: String = s
        .contents()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains("processes"), "{joined}");
    s.press("q");
    assert!(s.wait_exit().success());
}

/// The lanes named `prefix…` as drawn: each one's cells, after its title.
fn drawn_lanes(screen: &str, prefix: &str) -> Vec<(String, Vec<char>)> {
    screen
        .lines()
        .filter_map(|l| {
            let chars: Vec<char> = l.chars().collect();
            let title: String = chars.get(1..31)?.iter().collect();
            title.starts_with(prefix).then(|| {
                let name = title.split(" pid").next().unwrap_or("").to_string();
                let end = chars.len().saturating_sub(1);
                (name, chars[32.min(end)..end].to_vec())
            })
        })
        .collect()
}

/// Run to the end, export the run (`e`), and hold what is drawn to what was
/// measured: each lane's share of cells drawn running within 10 points of
/// its running share of life, and no column with more lanes running than
/// the cores (+1 for sampling), at 200x60 and at 80x24.
fn cells_tell_the_truth(tag: &str, args: &[&str], prefix: &str) {
    let dir = std::env::temp_dir().join(format!("parlab-cells-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = Session::start_in(&dir, args, 60, 200);
    s.wait_for("Settings");
    s.press("\r");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !s.contents().contains("run finished in") {
        assert!(
            Instant::now() < deadline,
            "never finished:\n{}",
            s.contents()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    s.press("e");
    let json = loop {
        let found = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .find(|f| f.file_name().to_string_lossy().starts_with("parlab-run-"));
        if let Some(f) = found {
            std::thread::sleep(Duration::from_millis(100));
            let text = std::fs::read_to_string(f.path()).unwrap();
            break serde_json::from_str::<serde_json::Value>(&text).unwrap();
        }
        assert!(Instant::now() < deadline, "no export");
        std::thread::sleep(Duration::from_millis(50));
    };
    let share = |name: &str| {
        let lane = json["lanes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {json}"));
        let states = lane["state_ms"].as_object().unwrap();
        let life: f64 = states.values().map(|v| v.as_f64().unwrap()).sum();
        states["running"].as_f64().unwrap() / life
    };
    let cores = common::cores() as usize;
    for (rows, cols) in [(60, 200), (24, 80)] {
        s.resize(rows, cols);
        std::thread::sleep(Duration::from_millis(400));
        let screen = s.contents();
        let lanes = drawn_lanes(&screen, prefix);
        assert!(
            !lanes.is_empty(),
            "{cols} columns: no {prefix} lanes:\n{screen}"
        );
        for (name, cells) in &lanes {
            let drawn = cells.iter().filter(|c| **c != ' ').count();
            let running = cells.iter().filter(|c| **c == '█').count();
            let drawn_share = running as f64 / drawn.max(1) as f64;
            eprintln!(
                "{tag} {cols}x{rows} {name}: ran {:.2} of its life, {drawn_share:.2} of its cells drawn running",
                share(name)
            );
            assert!(
                (drawn_share - share(name)).abs() <= 0.10,
                "{cols} columns, {name}: {drawn_share:.2} of cells drawn running, ran {:.2}:\n{screen}",
                share(name)
            );
        }
        let width = lanes.iter().map(|(_, c)| c.len()).min().unwrap();
        for c in 0..width {
            let running = lanes.iter().filter(|(_, cells)| cells[c] == '█').count();
            assert!(
                running <= cores + 1,
                "{cols} columns, column {c}: {running} running:\n{screen}"
            );
        }
    }
    s.press("q");
    assert!(s.wait_exit().success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Summary's wall time, as drawn.
fn drawn_wall(screen: &str) -> Option<f64> {
    let rest = screen.split("wall ").nth(1)?;
    rest.split(" ms").next()?.trim().parse().ok()
}

/// Without real-time priority (as a teacher runs it), beside 1024 busy
/// threads the lab stays live: the Summary's wall, read every half second
/// for 8 s, moves at least once a second (the issue saw it stand at its
/// first value for a whole 19 s run), `q` is heard and the terminal
/// restored. A timing check, alone on the machine: the ignored suite. The
/// frames' delays are `parlab bench --only frame_under_load`'s figures.
#[test]
#[ignore = "timing: run alone with the ignored suite"]
fn the_lab_stays_live_beside_1024_threads_without_raised_priority() {
    let args = [
        "tui",
        "--workload",
        "collatz",
        "--size",
        "200000000",
        "--tasks",
        "1024",
        "--strategy",
        "threads",
        "--workers",
        "1024",
    ];
    // Large enough that the Summary stands beside the Timeline.
    let mut s = Session::start_env(&args, 50, 200, &[("PARLAB_NO_RAISE", "1")]);
    s.wait_for("Timeline");
    s.press("\r");
    s.wait_for("wall ");
    let mut last = drawn_wall(&s.contents());
    // Half seconds in a row the wall has not moved, and the most seen.
    let (mut still, mut longest) = (0, 0);
    for _ in 0..16 {
        std::thread::sleep(Duration::from_millis(500));
        let now = drawn_wall(&s.contents());
        still = if now > last { 0 } else { still + 1 };
        longest = longest.max(still);
        last = now;
    }
    assert!(
        longest < 2,
        "the wall stood still for {} ms:\n{}",
        longest * 500,
        s.contents()
    );
    s.press("q");
    s.wait_exit();
    s.assert_restored();
}

/// Eight threads on the cores there are: at most the cores run at once.
#[test]
fn eight_threads_are_drawn_running_no_more_than_the_cores_allow() {
    cells_tell_the_truth(
        "native",
        &[
            "tui",
            "--workload",
            "collatz",
            "--size",
            "12000000",
            "--tasks",
            "8",
            "--strategy",
            "threads",
            "--workers",
            "8",
        ],
        "Thread-",
    );
}

/// Two CPython threads taking turns on the GIL are drawn taking turns.
#[test]
fn python_threads_taking_turns_are_drawn_taking_turns() {
    if !common::python3_ok() {
        return;
    }
    cells_tell_the_truth(
        "python",
        &[
            "tui",
            "py",
            "lecture:cpu",
            "--",
            "--mode",
            "threads",
            "--workers",
            "2",
            "--size",
            "200000",
        ],
        "Thread-",
    );
}

/// A program's helpers (a pool's handler and feeder threads: no task of
/// their own) fold into one row per process; h unfolds and folds them.
#[test]
fn a_programs_helpers_fold_into_one_row_that_h_unfolds() {
    if !common::python3_ok() {
        return;
    }
    for (rows, cols) in [(60, 200), (24, 80)] {
        let mut s = Session::start(
            &[
                "tui",
                "py",
                "lecture:cpu",
                "--",
                "--mode",
                "process-pool",
                "--workers",
                "2",
                "--size",
                "150000",
            ],
            rows,
            cols,
        );
        s.wait_for("Settings");
        s.press("\r");
        s.wait_for("helpers pid");
        // A helper folds once it has lived half a second without a task:
        // one just started shows on its own row until then.
        let deadline = Instant::now() + Duration::from_secs(20);
        while s.contents().contains("QueueFeederThread") {
            assert!(Instant::now() < deadline, "{}", s.contents());
            std::thread::sleep(Duration::from_millis(20));
        }
        s.press("h");
        s.wait_for("QueueFeederThread");
        s.press("h");
        s.wait_for("helpers pid");
        s.press("q");
        assert!(s.wait_exit().success());
    }
}

/// A lesson of two native steps, for walking in the lab.
const LESSON: &str = r#"
title = "Threads under the simulated GIL"
[[step]]
id = "seq"
title = "one worker"
say = "One worker computes Collatz lengths."
run = ["--workload", "collatz", "--size", "300000", "--tasks", "4", "--strategy", "sequential"]
reveal = "One worker took {{ runs.seq.wall_ms | ms }}."
[[step]]
id = "gil"
title = "two threads"
say = "Two threads under the simulated GIL."
ask = "How long will two threads take?"
choices = ["half as long", "about as long", "longer"]
run = ["--workload", "collatz", "--size", "300000", "--tasks", "4", "--strategy", "threads", "--workers", "2", "--gil"]
answer = "{{ 0 if runs.gil.wall_ms < 0.75 * runs.seq.wall_ms else (1 if runs.gil.wall_ms < 1.25 * runs.seq.wall_ms else 2) }}"
reveal = "Two threads took {{ (runs.gil.wall_ms / runs.seq.wall_ms) | round(2) }}x one."
expect = "runs.gil.tasks == 4"
focus = "summary"
"#;

/// Walk a lesson in the lab at 80x24 and 200x60: Enter runs a step and
/// reveals it, PgDn goes on, `a`-`d` count hands, PgUp goes back; the
/// report holds the hands; the same lesson from its prepared recording.
#[test]
fn a_lesson_is_walked_in_the_lab_with_hands_reveal_and_back() {
    let dir = std::env::temp_dir().join(format!("parlab-e2e-lesson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lesson.toml");
    std::fs::write(&file, LESSON).unwrap();
    let rec = dir.join("lesson.parlab");
    let prepared = common::parlab(&[
        "lesson",
        file.to_str().unwrap(),
        "--prepare",
        rec.to_str().unwrap(),
    ]);
    assert!(
        prepared.status.success(),
        "{}",
        String::from_utf8_lossy(&prepared.stderr)
    );
    for (rows, cols) in [(24, 80), (60, 200)] {
        for recorded in [false, true] {
            let report = dir.join(format!("report-{cols}-{recorded}.md"));
            let mut args = vec![
                "lesson",
                file.to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ];
            if recorded {
                args.extend(["--recorded", rec.to_str().unwrap()]);
            }
            let mut s = Session::start(&args, rows, cols);
            s.wait_for("1/2");
            s.wait_for("One worker computes Collatz lengths.");
            if recorded {
                s.wait_for("recorded: lesson.parlab");
            }
            s.press("\r");
            s.wait_for("One worker took");
            s.press("\x1b[6~"); // PgDn: the next step, its question open
            s.wait_for("2/2");
            s.wait_for("How long will two threads take?");
            s.press("bba");
            s.wait_for("b) about as long  ████████████ 2");
            s.press("\x1b[6~"); // PgDn runs it
            s.wait_for("Two threads took");
            s.wait_for("← measured");
            // Held, or no check where the machine was busy (tests run side by side).
            s.wait_for_any(&["the lecture's claim held", "no check"]);
            s.press("\x1b[5~"); // PgUp: back to step 1's reveal
            s.wait_for("1/2");
            s.wait_for("One worker took");
            s.press("q");
            assert!(s.wait_exit().success());
            std::thread::sleep(Duration::from_millis(100));
            s.assert_restored();
            let md = std::fs::read_to_string(&report).expect("the report is written");
            assert!(md.contains("| b) about as long | 2 |"), "{md}");
            assert!(md.contains("| a) half as long | 1 |"), "{md}");
            assert!(
                md.contains("Claim: held") || md.contains("Claim: disturbed"),
                "{md}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Profile panel, live and replayed: a tab at 80x24 naming the threads'
/// hot function, `l` for its lines; beside the Log at 200x60 with the icicle.
#[test]
fn the_profile_panel_live_at_80x24_then_at_200x60_and_in_a_replay() {
    if !common::python3_ok() {
        return;
    }
    let file =
        std::env::temp_dir().join(format!("parlab-e2e-profile-{}.parlab", std::process::id()));
    let program = [
        "lecture:cpu",
        "--",
        "--mode",
        "threads",
        "--workers",
        "2",
        "--size",
        "400000",
    ];
    let args = [
        &["tui", "--record", file.to_str().unwrap(), "py"][..],
        &program,
    ]
    .concat();
    let mut s = Session::start(&args, 24, 80);
    s.wait_for("Timeline");
    s.press("\r");
    for _ in 0..9 {
        s.press("\t"); // Settings → … → Profile, the last tab
    }
    s.wait_for("Profile  all lanes");
    s.wait_for("collatz_len");
    s.press("l");
    s.wait_for("lines by self");
    s.wait_for("cpu.py:2"); // collatz_len's loop, line 2x
    s.press("\x1b[C"); // →: the first lane with stacks
    s.wait_for_any(&["Profile  MainThread", "Profile  Thread-"]);
    s.resize(60, 200);
    s.wait_for("┌ Log");
    s.wait_for("· finished");
    // The icicle: a row of names with no file beside them, the callee under its caller.
    s.press("l");
    s.wait_for("functions by self");
    s.press("q");
    assert!(s.wait_exit().success());
    // The recording replays its stacks.
    let mut r = Session::start(&["replay", file.to_str().unwrap()], 60, 200);
    r.wait_for("Profile  all lanes");
    r.wait_for("collatz_len");
    // The replay plays on: the threads' boxes widen as their samples come.
    r.wait_until("collatz_chunk in the icicle", |screen| {
        screen
            .lines()
            .any(|l| l.contains("collatz_chunk ") && !l.contains("cpu.py"))
    });
    r.press("q");
    assert!(r.wait_exit().success());
    let _ = std::fs::remove_file(&file);
}
