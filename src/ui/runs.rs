//! The Runs panel: every finished run of this session side by side, with its
//! speedup against the matching sequential run. `r` reruns the selected row,
//! `v` replays it, `m` marks it for comparison (`*`), `e` exports it as
//! `parlab run --json` would print it, `E` as a Chrome trace.

use super::app::{App, RunRow};
use super::theme::Theme;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use ratatui::Frame;

/// The panel's title; what `!` means once a run is marked with it.
pub fn title(app: &App) -> String {
    match app
        .history
        .iter()
        .find_map(|r| r.load.filter(|l| l.disturbed()))
    {
        Some(l) => format!(
            "Runs  (!: others used over {:.2} core: disturbed, rerun)",
            l.threshold
        ),
        None => "Runs".into(),
    }
}

/// Each row's words, those that not every row shares first: the params
/// column then tells rows apart at any width (`--mode threads cpu.py`
/// beside `--mode processes cpu.py`). One row keeps its own order.
pub fn differing_first(rows: &[Vec<String>]) -> Vec<String> {
    let shared = |w: &String| rows.len() > 1 && rows.iter().all(|r| r.contains(w));
    rows.iter()
        .map(|words| {
            let (same, differ): (Vec<&String>, Vec<&String>) =
                words.iter().partition(|w| shared(w));
            differ
                .into_iter()
                .chain(same)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// A column: its header, its width, and the narrowest panel that shows it
/// (what a narrow panel drops, the Summary still says).
struct Column {
    header: &'static str,
    width: Constraint,
    from: u16,
}

/// The columns, in order; `params` takes what the others leave.
const COLUMNS: [Column; 11] = [
    Column {
        header: "#",
        width: Constraint::Length(3),
        from: 0,
    },
    Column {
        header: "workload",
        width: Constraint::Length(8),
        from: 100,
    },
    Column {
        header: "params",
        width: Constraint::Min(10),
        from: 0,
    },
    Column {
        header: "strategy",
        width: Constraint::Length(12),
        from: 0,
    },
    Column {
        header: "GIL",
        width: Constraint::Length(12),
        from: 0,
    },
    Column {
        header: "wkrs",
        width: Constraint::Length(4),
        from: 0,
    },
    Column {
        header: "wall ms",
        width: Constraint::Length(7),
        from: 0,
    },
    Column {
        header: "speedup",
        width: Constraint::Length(7),
        from: 0,
    },
    Column {
        header: "eff",
        width: Constraint::Length(4),
        from: 0,
    },
    Column {
        header: "events",
        width: Constraint::Length(8),
        from: 120,
    },
    Column {
        header: "others",
        width: Constraint::Length(6),
        from: 0,
    },
];

/// One finished run's cells, one per column of [`COLUMNS`]: its settings,
/// wall time, speedup and efficiency against the matching sequential run
/// (`-` until there is one), events sent, what others used.
fn cells(app: &App, i: usize, r: &RunRow, params: &str) -> [String; 11] {
    let speedup = app
        .baseline_of(r.plan.as_ref())
        .map(|b| b / r.wall_ms.max(1e-9));
    let cell = |f: &dyn Fn(f64) -> String| speedup.map(f).unwrap_or_else(|| "-".into());
    let mark = if app.marked.contains(&i) { "*" } else { "" };
    let from = r
        .file
        .as_ref()
        .map(|f| format!(" · {f}"))
        .unwrap_or_default();
    [
        format!("{}{mark}", i + 1),
        r.about.workload.clone(),
        format!("{params}{from}"),
        r.about.runner.clone(),
        r.gil.clone(),
        r.workers.to_string(),
        format!("{:.0}", r.wall_ms),
        cell(&|s| format!("{s:.2}×")),
        // A program that ran no task on a lane of its own has no efficiency to show.
        match r.workers {
            0 => "-".into(),
            n => cell(&|s| format!("{:.0}%", 100.0 * s / n as f64)),
        },
        r.events_sent.to_string(),
        match r.load {
            Some(l) if l.disturbed() => format!("!{:.1}", l.others),
            Some(l) if l.measured() => format!("{:.1}", l.others),
            // Too short to measure, or not measured at all.
            _ => "-".into(),
        },
    ]
}

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    if app.history.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "finished runs line up here for comparison",
                theme.dim(),
            ))
            .block(block),
            area,
        );
        return;
    }
    let shown = |c: &&Column| area.width >= c.from;
    let words: Vec<Vec<String>> = app.history.iter().map(|r| r.about.params.clone()).collect();
    let rows: Vec<Row> = app
        .history
        .iter()
        .zip(differing_first(&words))
        .enumerate()
        .map(|(i, (r, params))| {
            let cells = cells(app, i, r, &params);
            let kept = COLUMNS
                .iter()
                .zip(cells)
                .filter(|(c, _)| shown(c))
                .map(|(_, v)| v);
            let style = if r.ok {
                ratatui::style::Style::new()
            } else {
                theme.error()
            };
            Row::new(kept.collect::<Vec<_>>()).style(style)
        })
        .collect();
    let widths: Vec<Constraint> = COLUMNS.iter().filter(shown).map(|c| c.width).collect();
    let header = Row::new(COLUMNS.iter().filter(shown).map(|c| c.header)).style(theme.accent());
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .row_highlight_style(theme.selected());
    let mut state =
        TableState::default().with_selected(Some(app.selected_run.min(app.history.len() - 1)));
    frame.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::differing_first;

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn the_words_that_tell_rows_apart_come_first() {
        let rows = [
            words(&["cpu.py", "--mode sequential", "--size 300000"]),
            words(&["cpu.py", "--mode threads", "--size 300000"]),
            words(&["cpu.py", "--mode processes", "--size 300000"]),
        ];
        assert_eq!(
            differing_first(&rows),
            [
                "--mode sequential cpu.py --size 300000",
                "--mode threads cpu.py --size 300000",
                "--mode processes cpu.py --size 300000"
            ]
        );
        let one = [words(&["lengths", "size 20M"])];
        assert_eq!(differing_first(&one), ["lengths size 20M"]);
    }
}
