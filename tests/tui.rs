//! The TUI rendered into ratatui's TestBackend: whole sessions driven by
//! actions, panels checked by content and by snapshot.

mod common;
use common::{plain_theme, screen};
use parlab::config::{Config, ThemeName};
use parlab::event::{Event, EventKind, Role, WorkerState};
use parlab::model::Lab;
use parlab::ui::app::{Action, App};
use parlab::ui::theme::Theme;
use parlab::ui::{draw, timeline};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::time::{Duration, Instant};

fn app(args: &[&str]) -> App {
    use clap::Parser;
    let mut argv = vec!["parlab", "--no-config", "run"];
    argv.extend_from_slice(args);
    let cli = parlab::cli::Cli::parse_from(argv);
    let Some(parlab::cli::Command::Run(cmd)) = cli.command else {
        unreachable!()
    };
    let mut spec = Config::default().to_spec(&cmd.args).unwrap();
    spec.worker_exe = Some(env!("CARGO_BIN_EXE_parlab").into());
    App::new(spec, 30)
}

/// Pump and draw until `done` or a generous bound.
fn run_until(terminal: &mut Terminal<TestBackend>, app: &mut App, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(app) && Instant::now() < deadline {
        parlab::ui::perform_effects(app);
        app.pump();
        terminal.draw(|f| draw(f, app, &plain_theme())).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(done(app), "timed out:\n{}", screen(terminal));
    terminal.draw(|f| draw(f, app, &plain_theme())).unwrap();
}

#[test]
fn a_session_starts_a_run_fills_lanes_and_logs_in_the_lectures_words() {
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut app = app(&[
        "--workload",
        "sleep",
        "--strategy",
        "threads",
        "--unit-ms",
        "5",
    ]);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let s = screen(&terminal);
    assert!(
        s.contains("Timeline") && s.contains("Log") && s.contains("Summary"),
        "{s}"
    );
    assert!(s.contains("Enter starts a run"));
    app.apply(Action::Start);
    run_until(&mut terminal, &mut app, |a| {
        !a.running() && a.outcome.is_some()
    });
    let s = screen(&terminal);
    for t in 1..=7 {
        assert!(
            s.contains(&format!("Thread-{t} pid")),
            "lane Thread-{t}:\n{s}"
        );
    }
    assert!(s.contains(") completed in "), "{s}");
    assert!(s.contains("INFO:execute_task:"), "{s}");
    assert!(s.contains("finished"), "{s}");
    assert!(s.contains("~"), "io glyphs in the lanes:\n{s}");
}

#[test]
fn keys_change_the_settings_and_help_opens_and_closes() {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut app = app(&[]);
    app.apply(Action::Right); // past the source (native)
    app.apply(Action::Up); // workload: collatz -> primes
    app.apply(Action::Right);
    app.apply(Action::Down); // strategy: pool -> threads
    app.apply(Action::ToggleGil);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let s = screen(&terminal);
    assert!(
        s.contains("‹primes›") && s.contains("‹threads›") && s.contains("GIL ‹on›"),
        "{s}"
    );
    app.apply(Action::Help);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let s = screen(&terminal);
    assert!(s.contains("Help") && s.contains("Ctrl-C"), "{s}");
    app.apply(Action::CloseOverlay);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    assert!(!screen(&terminal).contains("this help"));
}

#[test]
fn every_size_from_1x1_to_300x100_renders_without_a_panic() {
    let mut app = app(&["--workload", "fib", "--strategy", "queue"]);
    app.help = true;
    let mut sizes: Vec<(u16, u16)> = Vec::new();
    for w in 1..=300 {
        sizes.extend([(w, 1), (w, 23), (w, 24), (w, 60), (w, 100)]);
    }
    for h in 1..=100 {
        sizes.extend([(1, h), (79, h), (80, h), (200, h), (300, h)]);
    }
    for (w, h) in sizes {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    }
    // A resize mid-run: the same terminal, smaller then larger.
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    for (w, h) in [(200, 60), (80, 24), (20, 5), (1, 1), (120, 40)] {
        terminal.backend_mut().resize(w, h);
        terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    }
}

#[test]
fn small_terminals_get_a_message_and_no_size_panics() {
    let app = app(&[]);
    for (w, h) in [
        (1, 1),
        (2, 1),
        (10, 3),
        (79, 24),
        (80, 23),
        (80, 24),
        (200, 60),
        (300, 100),
    ] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
        if w >= 40 && (w < 80 || h < 24) {
            assert!(screen(&terminal).contains("terminal too small (need 80x24)"));
        }
    }
}

#[test]
fn the_timeline_panel_snapshot() {
    // A synthetic lab: two lanes, fixed times, so the picture is stable.
    let mut app = app(&[]);
    let mut lab = Lab::new(Vec::new(), std::time::UNIX_EPOCH);
    let ms = 1_000_000u64;
    let lane = |id, name: &str| Event {
        t: 0,
        lane: id,
        kind: EventKind::Lane {
            name: name.into(),
            role: Role::Thread,
            pid: 4242,
            tid: Some(7),
            spawned_at: 0,
        },
    };
    let st = |t, id, s| Event {
        t: t * ms,
        lane: id,
        kind: EventKind::State(s),
    };
    lab.apply(vec![
        lane(0, "worker-1"),
        lane(1, "worker-2"),
        st(0, 0, WorkerState::Running),
        st(0, 1, WorkerState::GilWait),
        Event {
            t: 0,
            lane: 0,
            kind: EventKind::TaskStart { task: 0 },
        },
        st(400, 0, WorkerState::GilWait),
        st(400, 1, WorkerState::Running),
        st(800, 0, WorkerState::Io),
        st(800, 1, WorkerState::LockWait),
        st(1200, 0, WorkerState::Idle),
        st(1200, 1, WorkerState::Failed),
    ]);
    lab.finish(1500 * ms);
    app.lab = lab;
    let mut terminal = Terminal::new(TestBackend::new(90, 5)).unwrap();
    terminal
        .draw(|f| {
            let block = ratatui::widgets::Block::bordered().title(" Timeline ");
            timeline::render(f, Rect::new(0, 0, 90, 5), &app, &plain_theme(), block)
        })
        .unwrap();
    insta::assert_snapshot!(screen(&terminal));
}

#[test]
fn the_themes_colour_every_state_differently() {
    let t = Theme::new(ThemeName::Dark);
    if t.color {
        let styles: Vec<_> = WorkerState::ALL.iter().map(|&s| t.state(s).fg).collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}

/// Mask the wall-clock `[HH:MM:SS.mmm]` of log lines, so snapshots are stable.
fn mask_times(s: &str) -> String {
    let b: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let is_stamp = i + 14 <= b.len()
            && b[i] == '['
            && b[i + 13] == ']'
            && b[i + 3] == ':'
            && b[i + 6] == ':'
            && b[i + 9] == '.';
        if is_stamp {
            out.push_str("[hh:mm:ss.mmm]");
            i += 14;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// An app with a synthetic finished queue run, a sweep, a cache and a CPU
/// sample: every panel populated, nothing depending on the clock or the machine.
fn populated() -> App {
    use parlab::event::CacheOp;
    use parlab::sampler::CpuSample;
    use parlab::workload::TaskSpec;
    let mut app = app(&[
        "--workload",
        "fib",
        "--strategy",
        "queue",
        "--capacity",
        "4",
    ]);
    let tasks: Vec<TaskSpec> = (0..4)
        .map(|i| TaskSpec {
            id: i,
            name: format!("fib({})", 20 + i),
            cost: 20,
            units: None,
            phase: 0,
        })
        .collect();
    let mut lab = Lab::new(tasks, std::time::UNIX_EPOCH);
    // What the run's meta tells a lab as it starts.
    lab.queue.capacity = Some(4);
    lab.cache.maxsize = Some(Some(128));
    let ms = 1_000_000u64;
    let lane = |id, name: &str, role| Event {
        t: 0,
        lane: id,
        kind: EventKind::Lane {
            name: name.into(),
            role,
            pid: 4242,
            tid: Some(7),
            spawned_at: 0,
        },
    };
    let mut evs = vec![
        lane(0, "producer-1", Role::Producer),
        lane(1, "consumer-1", Role::Consumer),
        lane(2, "consumer-2", Role::Consumer),
    ];
    for i in 0..4u32 {
        let t = i as u64 * 100;
        evs.push(Event {
            t: t * ms,
            lane: 0,
            kind: EventKind::QueuePut {
                task: i,
                depth: 1 + i % 3,
            },
        });
        evs.push(Event {
            t: (t + 20) * ms,
            lane: 1 + i % 2,
            kind: EventKind::QueueGet {
                task: i,
                depth: i % 3,
            },
        });
        evs.push(Event {
            t: (t + 20) * ms,
            lane: 1 + i % 2,
            kind: EventKind::TaskStart { task: i },
        });
        evs.push(Event {
            t: (t + 20) * ms,
            lane: 1 + i % 2,
            kind: EventKind::State(WorkerState::Running),
        });
        for k in 0..10 {
            let op = if k % 3 == 0 {
                CacheOp::Hit
            } else {
                CacheOp::Miss
            };
            evs.push(Event {
                t: (t + 20 + k * 6) * ms,
                lane: 1 + i % 2,
                kind: EventKind::Cache { op, currsize: 2 },
            });
        }
        evs.push(Event {
            t: (t + 90) * ms,
            lane: 1 + i % 2,
            kind: EventKind::TaskEnd { task: i, ok: true },
        });
        evs.push(Event {
            t: (t + 90) * ms,
            lane: 1 + i % 2,
            kind: EventKind::State(WorkerState::QueueEmpty),
        });
    }
    evs.push(Event {
        t: 0,
        lane: 0,
        kind: EventKind::State(WorkerState::QueueFull),
    });
    lab.apply(evs);
    lab.finish(400 * ms);
    app.lab = lab;
    app.cpu = Some(CpuSample {
        cores: vec![12.0, 97.0],
        processes: vec![(4243, 99.0, 3_200_000)],
        own: 0.99,
        others: 0.1,
    });
    app
}

fn render_panel(app: &App, panel: parlab::ui::app::Panel, w: u16, h: u16) -> String {
    use parlab::ui::app::Panel;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| {
            let area = f.area();
            let block = ratatui::widgets::Block::bordered().title(format!(" {} ", panel.title()));
            match panel {
                Panel::Settings => {
                    parlab::ui::settings::render(f, area, app, &plain_theme(), block)
                }
                Panel::Timeline => timeline::render(f, area, app, &plain_theme(), block),
                Panel::Queue => parlab::ui::queue::render(f, area, app, &plain_theme(), block),
                Panel::Amdahl => parlab::ui::amdahl::render(f, area, app, &plain_theme(), block),
                Panel::Cache => parlab::ui::cache::render(f, area, app, &plain_theme(), block),
                Panel::Cpu => parlab::ui::cpu::render(f, area, app, &plain_theme(), block),
                Panel::Log => parlab::ui::log::render(f, area, app, &plain_theme(), block),
                Panel::Runs => parlab::ui::runs::render(f, area, app, &plain_theme(), block),
                Panel::Summary => parlab::ui::summary::render(f, area, app, &plain_theme(), block),
                Panel::Profile => parlab::ui::profile::render(f, area, app, &plain_theme(), block),
            }
        })
        .unwrap();
    mask_times(&screen(&terminal))
}

/// A lab with two threads' stacks: `main → work` (3 samples holding the
/// GIL, 1 waiting) on lane 1, `main → wait` (io) on lane 2.
fn profiled() -> App {
    use parlab::model::profile::Frame;
    let mut app = populated();
    let p = &mut app.lab.profile;
    for (id, (function, line)) in [("main", 3), ("work", 7), ("work", 8), ("wait", 20)]
        .into_iter()
        .enumerate()
    {
        let file = format!("/home/class/{function}.py");
        p.define(
            id as u32,
            Frame {
                function: function.into(),
                file,
                line,
            },
        );
    }
    for _ in 0..3 {
        p.sample(1, 1, vec![0, 1], true, WorkerState::Running);
    }
    p.sample(2, 1, vec![0, 2], false, WorkerState::GilWait);
    p.sample(3, 2, vec![0, 3], false, WorkerState::Io);
    app
}

#[test]
fn the_profile_panel_shows_functions_lines_and_the_icicle() {
    use parlab::model::profile::Grain;
    use parlab::ui::app::Panel;
    let mut app = profiled();
    let s = render_panel(&app, Panel::Profile, 100, 16);
    let row = |name: &str| {
        s.lines()
            .find(|l| l.contains(name))
            .unwrap_or("")
            .to_string()
    };
    // work: 4 of 5 samples its own, 3 of its 4 holding the GIL, 1 waiting.
    let work = row("work.py:7");
    assert!(work.contains(" 80.0  80.0  75.0  25.0   0.0   0.0"), "{s}");
    assert!(
        row("wait.py:20").contains(" 20.0  20.0   0.0   0.0   0.0 100.0"),
        "{s}"
    );
    // The icicle: main as wide as the panel, work four fifths of it under it.
    let icicle: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("main ") && !l.contains(".py"))
        .collect();
    assert_eq!(icicle.len(), 1, "{s}");
    assert!(
        s.lines()
            .any(|l| l.contains("work") && l.contains("wait") && !l.contains(".py")),
        "{s}"
    );
    // Lines: work's two lines apart; the lane selected: its samples only.
    app.profile_view.grain = Grain::Line;
    app.profile_view.lane = Some(1);
    let s = render_panel(&app, Panel::Profile, 100, 16);
    assert!(s.contains("work.py:7") && s.contains("work.py:8"), "{s}");
    assert!(!s.contains("wait.py"), "{s}");
    // Narrow: the file is its name, the io column goes.
    let s = render_panel(&app, Panel::Profile, 60, 12);
    assert!(s.contains("work.py:7") && !s.contains("   io"), "{s}");
}

#[test]
fn the_profile_panel_says_what_it_is_for_before_any_stack() {
    let s = render_panel(&populated(), parlab::ui::app::Panel::Profile, 80, 8);
    assert!(s.contains("where its time goes"), "{s}");
}

#[test]
fn every_panel_snapshot() {
    use parlab::ui::app::Panel;
    let app = populated();
    for panel in [
        Panel::Settings,
        Panel::Timeline,
        Panel::Cache,
        Panel::Cpu,
        Panel::Log,
    ] {
        insta::assert_snapshot!(
            format!("panel_{}", panel.title().to_lowercase()),
            render_panel(&app, panel, 100, 12)
        );
    }
}

/// The populated app with a finished run, a sweep and two rows of history.
fn populated_session() -> App {
    use parlab::analysis::amdahl;
    use parlab::source::{Meta, Outcome};
    use parlab::sweep::Point;
    use parlab::ui::app::{RunRow, SweepState};
    let mut app = populated();
    let spec = app.spec.clone();
    app.info = Some(Meta {
        source: "native".into(),
        pid: 4242,
        spec: Some(spec.clone()),
        program: None,
        about: parlab::plan::Plan::Native(spec.clone()).about(2),
        tasks: app.lab.tasks.clone(),
        workers: 2,
        capacity: Some(4),
        cache_maxsize: Some(Some(128)),
        clock: parlab::clock::Clock::from_origin(0),
        started: std::time::UNIX_EPOCH,
    });
    app.outcome = Some(Outcome {
        result: Some(serde_json::json!({ "inputs": [20, 21, 22, 23], "cache_size": "128" })),
        wall_ns: 400_000_000,
        end_ns: 400_000_000,
        failures: Vec::new(),
        cancelled: false,
        events_sent: app.lab.received,
        events_dropped: 0,
        machine: None,
        extensions: Vec::new(),
        rounds: 1,
        truncated: false,
    });
    let mut seq = spec.clone();
    seq.strategy = parlab::strategy::StrategySpec::new(parlab::strategy::baseline());
    let row = |spec: parlab::plan::RunSpec, workers, wall_ms| RunRow {
        about: parlab::plan::Plan::Native(spec.clone()).about(workers),
        plan: Some(parlab::plan::Plan::Native(spec)),
        workers,
        wall_ms,
        events_sent: 120,
        ok: true,
        json: serde_json::Value::Null,
        load: None,
        gil: "off".into(),
        lab: std::sync::Arc::new(parlab::model::Lab::new(Vec::new(), std::time::UNIX_EPOCH)),
        recorded: None,
        file: None,
    };
    app.history = vec![row(seq, 1, 760.0), row(spec.clone(), 2, 400.0)];
    let points: Vec<Point> = [1u32, 2, 3, 4]
        .iter()
        .map(|&n| {
            // Three repeats around the ideal: a spread of ±5 %; the 3-worker point disturbed.
            let wall = 1000.0 / amdahl(0.9, n as f64);
            Point::of(n, vec![wall * 0.95, wall, wall * 1.05], 1000.0, n == 3)
        })
        .collect();
    app.sweep = Some(SweepState::finished(spec, vec![1, 2, 3, 4], points));
    app
}

#[test]
fn every_other_panel_snapshot_on_a_finished_session() {
    use parlab::ui::app::Panel;
    let app = populated_session();
    for panel in [Panel::Queue, Panel::Amdahl, Panel::Runs, Panel::Summary] {
        insta::assert_snapshot!(
            format!("panel_{}", panel.title().to_lowercase()),
            render_panel(&app, panel, 100, 14)
        );
    }
    // The fit, its interval from the repeats, and a word that a disturbed point is in it.
    assert_eq!(
        parlab::ui::amdahl::title(&app),
        "Amdahl  p = 0.90 [0.86, 0.93] on disturbed points"
    );
}

#[test]
#[ignore = "exhaustive: every size from 1x1 to 300x100 (run with --ignored, in release)"]
fn every_single_size_from_1x1_to_300x100() {
    let app = populated_session();
    for w in 1..=300 {
        for h in 1..=100 {
            let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
            terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
        }
    }
}

#[test]
fn the_queue_runs_amdahl_and_summary_panels_with_a_finished_session() {
    use parlab::ui::app::Panel;
    // A real session: a sequential run and a queue run of the same work, then a sweep.
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut app = app(&[
        "--workload",
        "collatz",
        "--size",
        "20000",
        "--strategy",
        "sequential",
    ]);
    app.apply(Action::Start);
    run_until(&mut terminal, &mut app, |a| {
        !a.running() && a.history.len() == 1
    });
    app.spec.strategy =
        parlab::strategy::StrategySpec::new(parlab::strategy::find("queue").unwrap());
    app.spec.strategy.set("capacity", 2);
    app.spec.workers = Some(2);
    app.apply(Action::Start);
    run_until(&mut terminal, &mut app, |a| {
        !a.running() && a.history.len() == 2
    });
    app.apply(Action::Sweep);
    run_until(&mut terminal, &mut app, |a| {
        a.sweep.as_ref().is_some_and(|s| !s.running())
    });
    let queue = render_panel(&app, Panel::Queue, 100, 12);
    assert!(
        queue.contains("depth") && queue.contains("/2") && queue.contains("gets"),
        "{queue}"
    );
    let runs = render_panel(&app, Panel::Runs, 110, 8);
    assert!(
        runs.contains("sequential") && runs.contains("queue") && runs.contains("×"),
        "speedup against the sequential run:\n{runs}"
    );
    let amdahl = render_panel(&app, Panel::Amdahl, 80, 16);
    assert!(
        amdahl.contains("workers") && amdahl.contains("speedup"),
        "{amdahl}"
    );
    let title = parlab::ui::amdahl::title(&app);
    assert!(
        title.starts_with("Amdahl  p = 0.") || title == "Amdahl  p = 1.00",
        "{title}"
    );
    let summary = render_panel(&app, Panel::Summary, 100, 10);
    assert!(
        summary.contains("speedup")
            && summary.contains("efficiency")
            && summary.contains("events sent"),
        "{summary}"
    );
    // The whole screen shows every panel at 200x60.
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let s = screen(&terminal);
    for title in [
        "Settings", "Timeline", "Queue", "Amdahl", "Cache", "CPU", "Log", "Runs", "Summary",
    ] {
        assert!(s.contains(&format!(" {title}")), "{title} missing:\n{s}");
    }
}

#[test]
fn a_whole_session_through_the_app_loop_with_injected_input() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use parlab::ui::Input;
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut app = app(&[
        "--workload",
        "sleep",
        "--unit-ms",
        "2",
        "--strategy",
        "pool",
        "--workers",
        "2",
    ]);
    let (tx, rx) = crossbeam_channel::unbounded();
    let key = |c| Input::Key(KeyEvent::new(c, KeyModifiers::NONE));
    std::thread::spawn(move || {
        tx.send(key(KeyCode::Enter)).unwrap();
        std::thread::sleep(Duration::from_millis(600));
        tx.send(key(KeyCode::Tab)).unwrap();
        tx.send(key(KeyCode::Char('?'))).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        tx.send(key(KeyCode::Esc)).unwrap();
        tx.send(Input::Click(50, 10)).unwrap();
        tx.send(key(KeyCode::Char('q'))).unwrap();
    });
    parlab::ui::run_app(&mut terminal, &mut app, &plain_theme(), &rx).unwrap();
    assert!(app.quit);
    assert_eq!(app.history.len(), 1, "the run finished and was recorded");
    assert!(app.history[0].ok);
    assert_eq!(
        app.history[0].json["result"]["tasks"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
}

#[test]
fn an_untrusted_folder_files_script_is_a_message_and_no_run() {
    let config = parlab::config::parse_from(
        "[shell]\nscript = \"x.sh\"\nunit_ms = 1\n",
        "./parlab.toml",
        false,
    )
    .unwrap();
    let mut args = parlab::cli::RunArgs {
        workload: Some("shell".into()),
        ..Default::default()
    };
    args.params.set("count", "1");
    let spec = config.to_spec(&args).unwrap();
    assert_eq!(spec.workload.params.text("script"), None, "never applied");
    let mut app = App::new(spec, 30);
    app.config = config;
    app.apply(Action::Start);
    assert!(!app.running(), "the run does not start");
    let said = app.message.clone().unwrap_or_default();
    assert!(
        said.contains("script") && said.contains("parlab trust"),
        "{said}"
    );
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    assert!(
        screen(&terminal).contains("parlab trust"),
        "shown on screen"
    );
}

#[test]
fn the_source_view_shows_the_program_and_scrolls() {
    let mut app = app(&[]);
    app.program = Some(parlab::plan::Program {
        script: "lecture:cpu".into(),
        args: vec!["--mode".into(), "threads".into()],
        python: parlab::plan::Interpreter {
            command: "python3".into(),
            executable: "/usr/bin/python3".into(),
            version: "3.11.7".into(),
            implementation: "cpython".into(),
            gil_enabled: true,
        },
    });
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    assert!(screen(&terminal).contains(
        "source ‹python› script ‹lecture:cpu› args ‹--mode threads› python ‹CPython 3.11.7›"
    ));
    app.apply(Action::Source);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let s = screen(&terminal);
    assert!(
        s.contains("Source: lecture:cpu") && s.contains("   1 \"\"\"CPU-bound work"),
        "{s}"
    );
    app.apply(Action::ScrollForward);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    assert!(screen(&terminal).contains("  21 "), "PgDn scrolls 20 lines");
    app.apply(Action::CloseOverlay);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    assert!(!screen(&terminal).contains("Source: lecture:cpu"));
}

#[test]
fn a_script_from_a_file_is_read_for_the_source_view_as_it_is_loaded() {
    let script = std::env::temp_dir().join(format!("parlab-tui-src-{}.py", std::process::id()));
    std::fs::write(&script, "print('from a preset')\n").unwrap();
    let mut app = app(&[]);
    let program = parlab::plan::Program {
        script: script.to_string_lossy().into_owned(),
        args: Vec::new(),
        python: parlab::plan::Interpreter {
            command: "python3".into(),
            executable: "/usr/bin/python3".into(),
            version: "3.11.7".into(),
            implementation: "cpython".into(),
            gil_enabled: true,
        },
    };
    // As a preset, a rerun or a replay loads it: the loop reads the file.
    app.set_program(program);
    parlab::ui::perform_effects(&mut app);
    app.apply(Action::Source);
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let _ = std::fs::remove_file(&script);
    assert!(
        screen(&terminal).contains("   1 print('from a preset')"),
        "{}",
        screen(&terminal)
    );
}

/// Each lane's share of cells drawn running against its running share of
/// life, at 1, 5, 20, 50 and 200 ms a cell, for real runs: native threads
/// (eight on the cores there are, with and without the simulated GIL) and
/// CPython threads taking turns on the real GIL. Prints the figures.
fn cells_match_at_every_zoom(label: &str, lab: &Lab) {
    let end = lab.now;
    for zoom_ms in [1u64, 5, 20, 50, 200] {
        let cell = zoom_ms * 1_000_000;
        let n = (end / cell + 1).min(u16::MAX as u64) as u16;
        let sets: Vec<Vec<&parlab::model::lane::Lane>> =
            lab.lanes.iter().map(|l| vec![l]).collect();
        let drawn = timeline::grid(&sets, 0, cell, n, end);
        for (lane, row) in lab.lanes.iter().zip(&drawn) {
            let life: u64 = WorkerState::ALL
                .iter()
                .map(|&s| lane.state_ns_at(s, end))
                .sum();
            let ran = lane.state_ns_at(WorkerState::Running, end) as f64 / life.max(1) as f64;
            let shown = row.iter().flatten().count();
            let running = row
                .iter()
                .filter(|s| **s == Some(WorkerState::Running))
                .count();
            let share = running as f64 / shown.max(1) as f64;
            eprintln!(
                "{label} {zoom_ms} ms/cell {}: ran {ran:.2}, drawn {share:.2} of {shown} cells",
                lane.name
            );
            // A lane of a few cells cannot show a share finer than a cell:
            // error diffusion keeps each lane within one cell of what it
            // ran, and its first and last cells are partly outside its life
            // yet count whole, so half a cell more.
            let slack = 0.10_f64.max(1.5 / shown.max(1) as f64);
            assert!(
                (share - ran).abs() <= slack,
                "{label} at {zoom_ms} ms a cell, {}: ran {ran:.2}, drawn {share:.2}",
                lane.name
            );
        }
    }
}

#[test]
#[ignore = "long: real runs at every zoom, in the ignored suite"]
fn cells_drawn_running_match_real_runs_at_every_zoom() {
    let threads = |gil: bool| {
        let mut args = parlab::cli::RunArgs {
            workload: Some("collatz".into()),
            strategy: Some("threads".into()),
            workers: Some(parlab::cli::Workers(vec![8])),
            gil,
            ..Default::default()
        };
        args.params.set("size", "8000000");
        args.params.set("tasks", "8");
        let spec = Config::default().to_spec(&args).unwrap();
        parlab::headless::run_until(spec, || false, 0.25, None).unwrap()
    };
    cells_match_at_every_zoom("8 native threads", &threads(false).lab);
    cells_match_at_every_zoom("8 native threads, GIL model", &threads(true).lab);
    if common::python3_ok() {
        let plan = parlab::python::PyPlan::new(
            "python3",
            "lecture:cpu",
            ["--mode", "threads", "--workers", "2", "--size", "300000"]
                .map(String::from)
                .to_vec(),
        )
        .unwrap();
        let source = Box::new(parlab::python::start(plan).unwrap());
        let f = parlab::headless::drain(source, || false, None, None).unwrap();
        cells_match_at_every_zoom("CPython threads", &f.lab);
    }
}

/// `n` puts the caption of the moment under the Timeline: what the lanes
/// do at its right edge, in the lecture's words; `n` again takes it away.
#[test]
fn the_caption_of_the_moment_says_what_the_lanes_do() {
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut app = app(&[
        "--workload",
        "collatz",
        "--size",
        "4000000",
        "--tasks",
        "4",
        "--strategy",
        "threads",
        "--workers",
        "2",
        "--gil",
    ]);
    app.apply(Action::Narrate);
    app.apply(Action::Start);
    run_until(&mut terminal, &mut app, |a| {
        a.running() && a.lab.lanes.len() >= 2 && a.now_ns() > 100_000_000
    });
    let s = screen(&terminal);
    assert!(s.contains("▸ ") && s.contains(" s: "), "{s}");
    assert!(
        s.contains("the GIL") || s.contains(" runs") || s.contains("want a core"),
        "{s}"
    );
    run_until(&mut terminal, &mut app, |a| !a.running());
    assert!(
        screen(&terminal).contains(" s, its end: "),
        "{}",
        screen(&terminal)
    );
    app.apply(Action::Narrate);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    assert!(!screen(&terminal).contains("▸ "));
}

/// A Dask cluster as its watcher tells it: two workers' lanes, three
/// censuses of the scheduler's tasks, and each worker's CPU and memory.
#[test]
fn a_cluster_s_tasks_by_state_and_its_workers_usage_are_drawn() {
    let mut app = app(&[]);
    app.lab = Lab::new(Vec::new(), std::time::SystemTime::now());
    let mut at = |t: u64, lane: u32, kind: EventKind| app.lab.apply_event(Event { t, lane, kind });
    for (lane, name) in [
        (0, "tcp://10.0.0.5:40123 #1"),
        (1, "tcp://10.0.0.6:40555 #1"),
    ] {
        let lane_ev = EventKind::Lane {
            name: name.into(),
            role: Role::Thread,
            pid: 0,
            tid: None,
            spawned_at: 0,
        };
        at(0, lane, lane_ev);
    }
    for (t, (queued, processing, memory)) in
        [(10, (40, 0, 0)), (250, (30, 2, 8)), (500, (12, 2, 26))]
    {
        let states = EventKind::TaskStates {
            queued,
            processing,
            memory,
        };
        at(t * 1_000_000, 0, states);
    }
    let usage = |cpu_permille| EventKind::Usage {
        cpu_permille,
        memory: 150_000_000,
    };
    at(500_000_000, 0, usage(985));
    at(500_000_000, 1, usage(42));
    at(600_000_000, 1, EventKind::LaneEnd);
    use parlab::ui::app::Panel;
    let queue = render_panel(&app, Panel::Queue, 90, 12);
    assert!(
        queue.contains("scheduler's tasks: queued 12 · processing 2 · in memory 26"),
        "{queue}"
    );
    for name in ["queued", "processing", "in memory"] {
        assert!(
            queue.matches(name).count() >= 2,
            "{name} in the legend: {queue}"
        );
    }
    let cpu = render_panel(&app, Panel::Cpu, 90, 14);
    assert!(
        cpu.contains("workers, as their scheduler reports them:"),
        "{cpu}"
    );
    assert!(
        cpu.contains("tcp://10.0.0.5:40123: cpu 98% · mem 150.0 MB"),
        "{cpu}"
    );
    assert!(
        cpu.contains("tcp://10.0.0.6:40555: cpu 4% · mem 150.0 MB (left)"),
        "{cpu}"
    );
}
