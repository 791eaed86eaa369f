//! Replays in the library and the lab: a seek or a step shows exactly what
//! playing up to there shows; the lab replays, compares and records; and no
//! damaged file makes any of it panic (a fuzz over corrupted recordings).

mod common;
use common::{plain_theme, screen};
use parlab::engine::RunSpec;
use parlab::headless;
use parlab::model::Lab;
use parlab::recording::{read::parse, RecordedRun, Recorder, Recording};
use parlab::replay::Playback;
use parlab::ui::app::{Action, App};
use parlab::ui::draw;
use proptest::prelude::*;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::Path;
use std::sync::OnceLock;

fn spec(workload: &str, strategy: &str) -> RunSpec {
    let mut s = RunSpec::new(
        parlab::workload::find(workload).unwrap(),
        parlab::strategy::find(strategy).unwrap(),
    );
    s.worker_exe = Some(env!("CARGO_BIN_EXE_parlab").into());
    s
}

/// A run recorded in memory: the file's bytes.
fn recorded(spec: RunSpec) -> Vec<u8> {
    let mut rec = Recorder::memory();
    headless::run_until(spec, || false, 1.0, Some(&mut rec)).unwrap();
    rec.into_bytes().unwrap()
}

/// One recording shared by the tests: seven sleepers on threads, 10 ms units.
fn sleepers() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut s = spec("sleep", "threads");
        s.workload.set("unit_ms", 10u64);
        recorded(s)
    })
}

fn read(bytes: &[u8]) -> anyhow::Result<Recording> {
    parse(Path::new("test.parlab"), bytes.to_vec().into())
}

/// A lab's picture as the report has it, for comparing two labs.
fn picture(run: &RecordedRun, lab: &Lab) -> serde_json::Value {
    let mut o = run.outcome();
    o.machine = None;
    parlab::report::run_json(&run.header.meta, &o, lab, None)
}

/// The lab after applying, in order, every event the playing rule admits at `t`.
fn played_to(run: &RecordedRun, t: u64) -> Lab {
    let mut lab = Lab::for_run(&run.header.meta);
    let mut high = 0;
    for e in run.events() {
        high = high.max(e.t);
        if high > t {
            break;
        }
        lab.apply_event(e);
    }
    lab
}

#[test]
fn a_seek_anywhere_shows_what_playing_there_shows() {
    let rec = read(sleepers()).unwrap();
    let run = &rec.runs[0];
    let mut pb = Playback::new(run.clone(), "test".into());
    let mut lab = pb.start_lab();
    let end = pb.end_ns;
    // Forward, back, forward again, to the start: each the same as played.
    for t in [end / 2, end / 5, end * 4 / 5, 0, end / 3] {
        pb.seek(&mut lab, t);
        let want = played_to(run, t);
        assert_eq!(picture(run, &lab), picture(run, &want), "at {t} ns");
        assert_eq!(pb.at_ns, t);
    }
    pb.seek(&mut lab, u64::MAX);
    assert!(pb.at_end());
    assert_eq!(pb.pos, run.events);
    assert_eq!(picture(run, &lab), picture(run, &pb.last));
}

#[test]
fn a_step_is_one_event_either_way() {
    let rec = read(sleepers()).unwrap();
    let run = &rec.runs[0];
    let mut pb = Playback::new(run.clone(), "test".into());
    let mut lab = pb.start_lab();
    for _ in 0..10 {
        pb.step(&mut lab, true);
    }
    assert_eq!((pb.pos, lab.received), (10, 10));
    assert!(pb.paused, "stepping pauses");
    pb.step(&mut lab, false);
    assert_eq!((pb.pos, lab.received), (9, 9));
    let mut fresh = Lab::for_run(&run.header.meta);
    for e in run.events().take(9) {
        fresh.apply_event(e);
    }
    assert_eq!(picture(run, &lab), picture(run, &fresh));
    pb.step(&mut lab, false);
    for _ in 0..20 {
        pb.step(&mut lab, false);
    }
    assert_eq!(pb.pos, 0, "not before the first event");
}

#[test]
fn the_pace_is_the_recorded_one_times_the_speed() {
    let rec = read(sleepers()).unwrap();
    let mut pb = Playback::new(rec.runs[0].clone(), "test".into());
    let mut lab = pb.start_lab();
    pb.tick(&mut lab, std::time::Duration::from_millis(10));
    assert_eq!(pb.at_ns, 10_000_000);
    pb.change_speed(true);
    pb.change_speed(true);
    assert_eq!(pb.speed, 4.0);
    pb.tick(&mut lab, std::time::Duration::from_millis(5));
    assert_eq!(pb.at_ns, 30_000_000);
    for _ in 0..10 {
        pb.change_speed(false);
    }
    assert_eq!(pb.speed, 0.25, "the slowest");
    pb.paused = true;
    pb.tick(&mut lab, std::time::Duration::from_secs(1));
    assert_eq!(pb.at_ns, 30_000_000, "paused stays put");
}

#[test]
fn two_recordings_open_stacked_on_one_axis_and_the_keys_steer_the_replay() {
    let fast = {
        let mut s = spec("collatz", "pool");
        s.workload.set("size", 30_000u64);
        s.workers = Some(2);
        read(&recorded(s)).unwrap()
    };
    let slow = read(sleepers()).unwrap();
    let mut app = App::new(spec("sleep", "threads"), 30);
    app.open_recordings(vec![slow, fast], 1.0);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let s = screen(&terminal);
    assert!(s.contains("Compare  2 runs on one time axis"), "{s}");
    assert!(
        s.contains("1  sleep") && s.contains("threads · 7 workers"),
        "{s}"
    );
    assert!(
        s.contains("2  collatz") && s.contains("pool · 2 workers"),
        "{s}"
    );
    assert!(s.contains("⏵ replay"), "{s}");
    // Back to one run's timeline; the keys steer it.
    app.apply(Action::Compare);
    app.apply(Action::Freeze);
    assert!(
        app.playback.as_ref().unwrap().paused,
        "Space pauses a replay"
    );
    app.apply(Action::ToEnd);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let s = screen(&terminal);
    assert!(
        s.contains("replay of test.parlab") && s.contains("at the end"),
        "{s}"
    );
    app.apply(Action::StepBack);
    let p = app.playback.as_ref().unwrap();
    assert_eq!(p.pos + 1, p.run.events);
    app.apply(Action::ToStart);
    assert_eq!(app.playback.as_ref().unwrap().pos, 0);
    app.apply(Action::GoTo);
    assert!(app.typing());
    for c in "35ms".chars() {
        app.apply(Action::Type(c));
    }
    app.apply(Action::Submit);
    assert_eq!(app.playback.as_ref().unwrap().at_ns, 35_000_000);
    app.apply(Action::Faster);
    app.apply(Action::Help);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let s = screen(&terminal);
    assert!(
        s.contains("replay: one event back / forward") && s.contains("at 2×"),
        "{s}"
    );
}

#[test]
fn live_runs_are_kept_marked_compared_replayed_and_recorded() {
    let dir = std::env::temp_dir().join(format!("parlab-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lab.parlab");
    let mut app = App::new(spec("sleep", "sequential"), 30);
    app.spec.workload.set("unit_ms", 2u64);
    app.start_recording(&file);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    for strategy in ["sequential", "threads"] {
        app.spec.strategy =
            parlab::strategy::StrategySpec::new(parlab::strategy::find(strategy).unwrap());
        app.apply(Action::Start);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while app.running() && std::time::Instant::now() < deadline {
            app.pump();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(!app.running());
    }
    assert_eq!(app.history.len(), 2);
    assert!(
        app.history.iter().all(|r| r.recorded.is_some()),
        "kept in memory"
    );
    // m on each, c: stacked.
    app.focus = parlab::ui::app::Panel::Runs;
    app.selected_run = 0;
    app.apply(Action::Mark);
    app.apply(Action::Compare);
    assert!(!app.compare, "one run marked is not a comparison");
    app.selected_run = 1;
    app.apply(Action::Mark);
    app.apply(Action::Compare);
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    let s = screen(&terminal);
    assert!(
        s.contains("1  sleep") && s.contains("sequential · 1 worker"),
        "{s}"
    );
    assert!(
        s.contains("2  sleep") && s.contains("threads · 7 workers"),
        "{s}"
    );
    assert!(
        s.contains("1*") && s.contains("2*"),
        "marks in the Runs panel:\n{s}"
    );
    // v replays the selected run (leaving the comparison), ending where the live one ended.
    app.apply(Action::View);
    assert!(!app.compare, "the replay shows, not the comparison");
    app.playback.as_mut().unwrap().seek(&mut app.lab, u64::MAX);
    app.apply(Action::View);
    let pb = app.playback.as_ref().unwrap();
    assert_eq!(
        pb.run.events,
        app.history[1].recorded.as_ref().unwrap().events
    );
    // R stops recording: the file holds both runs, with the JSON the lab showed.
    app.apply(Action::Record);
    assert!(app.recorder.is_none());
    assert!(
        app.message.as_deref().unwrap().contains("lab.parlab"),
        "{:?}",
        app.message
    );
    let rec = parlab::recording::open(&file).unwrap();
    assert_eq!(rec.runs.len(), 2);
    assert!(rec.cut.is_none());
    for (run, row) in rec.runs.iter().zip(&app.history) {
        let replayed = headless::drain(
            Box::new(parlab::replay::Replay::start(run)),
            || false,
            None,
            None,
        )
        .unwrap();
        assert_eq!(parlab::report::to_json(&replayed), row.json);
    }
    // E exports the selected run as a trace.
    app.effects.clear();
    app.apply(Action::ExportTrace);
    assert_eq!(app.effects.len(), 1);
}

/// Corruptions of a real recording: cut anywhere, bytes flipped or
/// overwritten, garbage appended or inserted.
#[derive(Debug, Clone)]
enum Damage {
    Cut(usize),
    Flip(usize, u8),
    Overwrite(usize, Vec<u8>),
    Insert(usize, Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<usize>().prop_map(Damage::Cut),
        (any::<usize>(), 1u8..).prop_map(|(i, b)| Damage::Flip(i, b)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..40)
        )
            .prop_map(|(i, v)| Damage::Overwrite(i, v)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..40)
        )
            .prop_map(|(i, v)| Damage::Insert(i, v)),
    ]
}

fn apply_damage(bytes: &[u8], d: &Damage) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let n = b.len();
    if n == 0 {
        return b;
    }
    match d {
        Damage::Cut(i) => b.truncate(i % (n + 1)),
        Damage::Flip(i, x) => b[i % n] ^= x,
        Damage::Overwrite(i, v) => {
            for (k, x) in v.iter().enumerate() {
                if let Some(slot) = b.get_mut((i % n) + k) {
                    *slot = *x;
                }
            }
        }
        Damage::Insert(i, v) => {
            let at = i % (n + 1);
            b.splice(at..at, v.iter().copied());
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever the damage: an error or a recording, never a panic; what
    /// reads, replays (as a source and played, sought and stepped).
    #[test]
    fn no_damaged_recording_makes_parlab_panic(d1 in damage(), d2 in damage(), seeks in proptest::collection::vec(any::<u64>(), 0..6)) {
        let bytes = apply_damage(&apply_damage(sleepers(), &d1), &d2);
        if let Ok(rec) = read(&bytes) {
            prop_assert!(!rec.runs.is_empty());
            for run in &rec.runs {
                let f = headless::drain(Box::new(parlab::replay::Replay::start(run)), || false, None, None).unwrap();
                let _ = parlab::report::to_json(&f);
                let _ = parlab::report::human(&f);
                let mut pb = Playback::new(run.clone(), "fuzz".into());
                let mut lab = pb.start_lab();
                for &t in &seeks {
                    pb.seek(&mut lab, t % (pb.end_ns + 2));
                    pb.step(&mut lab, t % 2 == 0);
                }
            }
            let _ = parlab::export::chrome_trace(&rec);
        }
    }
}

#[test]
fn a_recording_cut_at_every_byte_reads_as_a_prefix() {
    let full = read(sleepers()).unwrap();
    let total = full.runs[0].events;
    let bytes = sleepers();
    let mut last = 0;
    for cut in (0..bytes.len()).step_by(7) {
        match read(&bytes[..cut]) {
            Ok(rec) => {
                let n = rec.runs[0].events;
                assert!(n >= last && n <= total, "cut at {cut}: {n} events");
                assert!(rec.cut.is_some() || cut == bytes.len());
                last = n;
            }
            Err(e) => assert!(last == 0, "cut at {cut}: {e}"),
        }
    }
}

/// A queue run on a process pool's sibling strategies: more kinds of event
/// and frame than the sleepers, for the long fuzz.
fn queue_run() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut s = spec("fib", "queue");
        s.workers = Some(2);
        recorded(s)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// The long fuzz (the ignored suite): many more damages, on a queue run.
    #[test]
    #[ignore = "long: the ignored suite runs it"]
    fn no_damaged_recording_makes_parlab_panic_long(d1 in damage(), d2 in damage(), seek in any::<u64>()) {
        let bytes = apply_damage(&apply_damage(queue_run(), &d1), &d2);
        if let Ok(rec) = read(&bytes) {
            for run in &rec.runs {
                let mut pb = Playback::new(run.clone(), "fuzz".into());
                let mut lab = pb.start_lab();
                pb.seek(&mut lab, seek % (pb.end_ns + 2));
                pb.step(&mut lab, false);
            }
            let _ = parlab::export::chrome_trace(&rec);
        }
    }
}

#[test]
fn a_recorded_sweep_replays_with_its_points_and_fit() {
    let mut s = spec("collatz", "pool");
    s.workload.set("size", 20_000u64);
    let rec = std::sync::Mutex::new(Recorder::memory());
    let live = parlab::sweep::run(&s, &[1, 2], 2, 1.0, Some(&rec), |_| {}).unwrap();
    let bytes = rec.into_inner().unwrap().into_bytes().unwrap();
    let mut app = App::new(spec("sleep", "threads"), 30);
    app.open_recordings(vec![read(&bytes).unwrap()], 1.0);
    assert_eq!(app.history.len(), 4);
    let sweep = app.sweep.as_ref().expect("the runs make a sweep");
    let walls =
        |p: &[parlab::sweep::Point]| p.iter().map(|p| (p.workers, p.wall_ms)).collect::<Vec<_>>();
    assert_eq!(
        walls(&sweep.points),
        walls(&live.points),
        "the same medians as measured"
    );
    assert!(sweep.p.is_some(), "and its fit");
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal.draw(|f| draw(f, &app, &plain_theme())).unwrap();
    assert!(screen(&terminal).contains("p = "), "{}", screen(&terminal));
}
