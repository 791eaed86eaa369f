//! The live lab says a run was disturbed. Alone in its own test binary: the
//! lab measures its own process tree by CPU time, and tests running beside it
//! in one process would count as its own.
#![cfg(unix)]

mod common;
use common::Hog;

#[test]
fn the_live_lab_says_a_run_was_disturbed_in_its_summary_and_runs() {
    use parlab::ui::app::{Action, App, Panel};
    use ratatui::{backend::TestBackend, Terminal};
    let _hog = Hog::start();
    let mut spec = parlab::engine::RunSpec::new(
        parlab::workload::find("collatz").unwrap(),
        parlab::strategy::find("pool").unwrap(),
    );
    // Long enough (well over 250 ms) for the machine's load to be measured.
    spec.workload.set("size", 8_000_000);
    spec.workers = Some(2);
    let mut app = App::new(spec, 30);
    app.apply(Action::Start);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while (app.running() || app.history.is_empty()) && std::time::Instant::now() < deadline {
        app.pump();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let load = app.history.last().and_then(|r| r.load).expect("measured");
    assert!(load.disturbed(), "{load:?}");
    let theme = parlab::ui::theme::Theme {
        color: false,
        light: false,
    };
    let mut t = Terminal::new(TestBackend::new(200, 60)).unwrap();
    app.focus = Panel::Runs;
    t.draw(|f| parlab::ui::draw(f, &app, &theme)).unwrap();
    let screen: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(screen.contains("disturbed: others used"), "Summary");
    assert!(
        screen.contains(" !0.") || screen.contains(" !1."),
        "Runs marks the row"
    );
}
