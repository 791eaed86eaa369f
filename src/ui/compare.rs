//! The comparison, drawn in the Timeline's place: two to four marked runs
//! stacked on one time axis, each under a line naming its workload,
//! strategy, workers and wall time, so the slow run's length shows itself.

use super::app::{App, RunRow, TimelineView};
use super::theme::Theme;
use super::timeline::{draw_lane, grid, LABEL};
use crate::clock::ms;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Rows the comparison needs: a title line and the lanes of each run.
pub fn rows(app: &App) -> usize {
    app.compared().iter().map(|r| 1 + r.lab.lanes.len()).sum()
}

/// The latest end among the runs compared: the common axis runs 0..it.
fn span(runs: &[&RunRow]) -> u64 {
    runs.iter().map(|r| r.lab.now).max().unwrap_or(0).max(1)
}

/// The axis: nanoseconds per cell, fitted to the longest run unless zoomed.
fn cell(app: &App, runs: &[&RunRow], width: u16) -> u64 {
    let strip = width.saturating_sub(LABEL + 1).max(1);
    app.view
        .cell_ns
        .unwrap_or_else(|| TimelineView::auto_cell(span(runs), strip))
        .max(1)
}

/// The panel's title while comparing.
pub fn title(app: &App, area: Rect) -> String {
    let runs = app.compared();
    let cell_ns = cell(app, &runs, area.width.saturating_sub(2));
    format!(
        "Compare  {} runs on one time axis, {} ms/cell (c or Esc: back)",
        runs.len(),
        ms(cell_ns)
    )
}

/// `2  collatz size=… · threads · 4 workers · 905.3 ms`.
pub fn label(i: usize, r: &RunRow) -> String {
    let from = r
        .file
        .as_ref()
        .map(|f| format!(" · {f}"))
        .unwrap_or_default();
    format!(
        "{}  {} {} · {}{} · {} worker{} · {:.1} ms{from}",
        i + 1,
        r.about.workload,
        r.about.params.join(" "),
        r.about.runner,
        if r.gil() { " under the GIL" } else { "" },
        r.workers,
        if r.workers == 1 { "" } else { "s" },
        r.wall_ms
    )
}

/// `rows` shared among runs of `lanes` lanes: one each in turn, so a short
/// run shows all of its lanes and a long one takes what is left.
pub fn share(lanes: &[usize], rows: usize) -> Vec<usize> {
    let mut shown = vec![0; lanes.len()];
    let mut left = rows;
    while left > 0 {
        let before = left;
        for (s, &l) in shown.iter_mut().zip(lanes) {
            if left > 0 && *s < l {
                *s += 1;
                left -= 1;
            }
        }
        if left == before {
            break;
        }
    }
    shown
}

/// Draw the marked runs stacked in `inner`, sharing the rows fairly.
pub fn render(frame: &mut Frame, inner: Rect, app: &App, theme: &Theme) {
    let runs = app.compared();
    let cell = cell(app, &runs, inner.width);
    let lanes: Vec<usize> = runs.iter().map(|r| r.lab.lanes.len()).collect();
    let shown = share(&lanes, (inner.height as usize).saturating_sub(runs.len()));
    let mut y = inner.y;
    let bottom = inner.y + inner.height;
    for ((&i, r), &fit) in app.marked.iter().zip(&runs).zip(&shown) {
        if y >= bottom {
            break;
        }
        let lanes = r.lab.lanes.len();
        let more = if fit < lanes {
            format!("  (+{} lanes not shown)", lanes - fit)
        } else {
            String::new()
        };
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!("{}{more}", label(i, r)),
                theme.accent(),
            )),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 1;
        let lanes: Vec<_> = r.lab.lanes.iter().take(fit).collect();
        let strip = inner.width.saturating_sub(LABEL + 1);
        let sets: Vec<Vec<_>> = lanes.iter().map(|l| vec![*l]).collect();
        let states = grid(&sets, 0, cell, strip, r.lab.now);
        for (lane, states) in lanes.iter().zip(&states) {
            if y >= bottom {
                break;
            }
            let row = Rect::new(inner.x, y, inner.width, 1);
            draw_lane(frame, row, lane, (0, cell), states, theme);
            y += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_are_shared_so_short_runs_show_whole() {
        assert_eq!(super::share(&[1, 32], 14), vec![1, 13]);
        assert_eq!(super::share(&[7, 7, 7], 9), vec![3, 3, 3]);
        assert_eq!(super::share(&[2, 3], 100), vec![2, 3]);
        assert_eq!(super::share(&[5, 5], 0), vec![0, 0]);
    }
}
