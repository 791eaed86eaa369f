//! The Timeline panel: one lane per worker, time flowing left to right,
//! each state its own colour and glyph, task starts marked.

use super::app::{App, TimelineView};
use super::theme::Theme;
use crate::clock::ms;
use crate::event::WorkerState;
use crate::model::lane::Lane;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// Width of the lane titles.
pub const LABEL: u16 = 30;

/// The time window shown: `(start, cell)` for a strip `width` cells wide.
pub fn window(app: &App, width: u16) -> (u64, u64) {
    // A replay fits its whole recording, so the picture fills in from the left.
    let fit = app.playback.as_ref().map_or(app.now_ns(), |p| p.end_ns);
    let cell = app
        .view
        .cell_ns
        .unwrap_or_else(|| TimelineView::auto_cell(fit, width))
        .max(1);
    let end = if app.view.follow {
        app.now_ns()
    } else {
        app.view.end_ns
    };
    let span = cell * width as u64;
    (end.saturating_sub(span), cell)
}

/// The panel's title: its scale, whether it follows the run, and which
/// lanes it shows when they do not all fit.
pub fn title(app: &App, area: Rect) -> String {
    if app.compare {
        return super::compare::title(app, area);
    }
    let mode = match (&app.playback, app.view.follow) {
        (Some(p), _) => format!("replay of {}", p.file),
        (None, true) => "live".into(),
        (None, false) => "frozen".into(),
    };
    let (_, cell_ns) = window(app, area.width.saturating_sub(LABEL + 3).max(1));
    let zoom = if app.view.cell_ns.is_some() {
        ""
    } else {
        " (fit)"
    };
    let all = rows(app);
    let shown = visible(
        app,
        all.len(),
        Block::bordered().inner(area).height as usize,
    );
    let which = if shown.len() < all.len() {
        format!(
            ", lanes {}–{} of {} (↑↓ scroll)",
            shown.start + 1,
            shown.end,
            all.len()
        )
    } else {
        String::new()
    };
    let folded = all
        .iter()
        .filter(|r| matches!(r, Row::Helpers { .. }))
        .count();
    let which = match (folded, app.view.unfold_helpers) {
        (0, false) => which,
        (_, true) => format!("{which}, helpers unfolded (h folds)"),
        (n, false) => format!(
            "{which}, {n} helper row{} (h unfolds)",
            if n == 1 { "" } else { "s" }
        ),
    };
    let gil = app
        .info
        .as_ref()
        .and_then(|m| m.gil_method(app.lab.gil_read, app.outcome.as_ref()))
        .map(|m| format!(", GIL {}", m.name()))
        .unwrap_or_default();
    format!(
        "Timeline  {} ms/cell{zoom}, {mode}{which}{gil}",
        ms(cell_ns)
    )
}

/// One row of the Timeline: a lane, or a process's helpers folded into one.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    Lane(usize),
    /// The helpers of process `pid` (lane indices), folded (`h` unfolds).
    Helpers {
        pid: u32,
        lanes: Vec<usize>,
    },
}

impl Row {
    /// The lanes it draws.
    pub fn lanes(&self) -> Vec<usize> {
        match self {
            Row::Lane(i) => vec![*i],
            Row::Helpers { lanes, .. } => lanes.clone(),
        }
    }
}

/// The Timeline's rows: every lane, but a program's helpers (threads and
/// processes that ran no task) folded into one row per process where the
/// first of them stands, unless `h` unfolded them.
pub fn rows(app: &App) -> Vec<Row> {
    let lab = &app.lab;
    if app.view.unfold_helpers || !lab.program {
        return (0..lab.lanes.len()).map(Row::Lane).collect();
    }
    let mut rows: Vec<Row> = Vec::new();
    for (i, helper) in lab.helpers().into_iter().enumerate() {
        let pid = lab.lanes[i].pid;
        if !helper {
            rows.push(Row::Lane(i));
            continue;
        }
        let fold = rows.iter_mut().find_map(|r| match r {
            Row::Helpers { pid: p, lanes } if *p == pid => Some(lanes),
            _ => None,
        });
        match fold {
            Some(lanes) => lanes.push(i),
            None => rows.push(Row::Helpers {
                pid,
                lanes: vec![i],
            }),
        }
    }
    rows
}

/// Of `n` rows, those shown in `height` rows of screen: from the view's
/// first, as many as fit.
pub fn visible(app: &App, n: usize, height: usize) -> std::ops::Range<usize> {
    let first = app.view.first_lane.min(n.saturating_sub(height));
    first..(first + height).min(n)
}

/// The lane shown on row `y` of a timeline drawn in `area`, for mouse clicks
/// (a folded row has no one lane).
pub fn lane_at(app: &App, area: Rect, y: u16) -> Option<usize> {
    let inner = Block::bordered().inner(area);
    if y < inner.y || y >= inner.y + inner.height {
        return None;
    }
    let all = rows(app);
    let i = visible(app, all.len(), inner.height as usize).start + (y - inner.y) as usize;
    match all.get(i)? {
        Row::Lane(lane) => Some(*lane),
        Row::Helpers { .. } => None,
    }
}

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    let block = block.title_bottom(legend(theme));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width <= LABEL + 2 || inner.height == 0 {
        return;
    }
    if app.compare {
        return super::compare::render(frame, inner, app, theme);
    }
    let strip = inner.width - LABEL - 1;
    let (start, cell) = window(app, strip);
    let now = app.now_ns();
    let lab = &app.lab;
    let inner = match narrated(app, inner, (start, cell, strip), now) {
        Some((line, rest)) => {
            let at = Rect::new(inner.x, inner.y + rest.height, inner.width, 1);
            frame.render_widget(Paragraph::new(Span::styled(line, theme.accent())), at);
            rest
        }
        None => inner,
    };
    if lab.lanes.is_empty() {
        let hint = if app.running() {
            "starting workers…"
        } else {
            "Enter starts a run"
        };
        frame.render_widget(Paragraph::new(Span::styled(hint, theme.dim())), inner);
        return;
    }
    let all = rows(app);
    let shown = &all[visible(app, all.len(), inner.height as usize)];
    let sets: Vec<Vec<&Lane>> = shown
        .iter()
        .map(|r| r.lanes().into_iter().map(|i| &lab.lanes[i]).collect())
        .collect();
    let states = grid(&sets, start, cell, strip, now);
    for (row, ((kind, lanes), states)) in shown.iter().zip(&sets).zip(&states).enumerate() {
        let y = inner.y + row as u16;
        let strip_at = Rect::new(inner.x, y, inner.width, 1);
        match kind {
            Row::Lane(_) => draw_lane(frame, strip_at, lanes[0], (start, cell), states, theme),
            Row::Helpers { pid, .. } => {
                let label = format!(
                    "helpers pid {pid}: {} ▸",
                    crate::report::counted(&vec![*pid; lanes.len()])
                );
                draw_row(
                    frame,
                    strip_at,
                    label,
                    theme.dim(),
                    None,
                    (start, cell),
                    states,
                    theme,
                );
            }
        }
    }
}

/// The caption of the moment for the Timeline's right edge (`n`, on in a
/// lesson): its line, and the rows left for the lanes above it.
fn narrated(
    app: &App,
    inner: Rect,
    (start, cell, strip): (u64, u64, u16),
    now: u64,
) -> Option<(String, Rect)> {
    if !app.narrate || inner.height < 2 {
        return None;
    }
    // The right edge, or now where the run fits with room to spare.
    let end = (start + cell * strip as u64).min(now).max(1);
    let t0 = end.saturating_sub(cell.max(20_000_000));
    let cores = crate::sampler::logical_cores();
    let said = crate::model::moment::words(&app.lab, t0, end, now, cores, &app.lab.helpers())?;
    let at = crate::clock::ms(end) / 1e3;
    let ended = !app.running() && app.playback.is_none() && end >= app.lab.now;
    Some((
        format!(
            "▸ {at:.2} s{}: {said}",
            if ended { ", its end" } else { "" }
        ),
        Rect {
            height: inner.height - 1,
            ..inner
        },
    ))
}

/// One lane on one row: its title, then a cell per `cell` ns from `start`,
/// each showing `states` (from [`grid`]).
pub fn draw_lane(
    frame: &mut Frame,
    row: Rect,
    lane: &Lane,
    window: (u64, u64),
    states: &[Option<WorkerState>],
    theme: &Theme,
) {
    // How long the worker took to start: a thread in microseconds, a process in milliseconds.
    let spawn = lane
        .spawn_ns
        .map(|s| format!(" +{:.2}ms", ms(s)))
        .unwrap_or_default();
    let label = format!("{}{}{spawn}", lane.name, crate::event::pid_words(lane.pid));
    let style = theme.state(lane.state);
    draw_row(frame, row, label, style, Some(lane), window, states, theme);
}

/// A row: its `label`, then its cells; task starts marked where `tasks`
/// (a lane) says one began.
#[allow(clippy::too_many_arguments)]
fn draw_row(
    frame: &mut Frame,
    row: Rect,
    label: String,
    style: ratatui::style::Style,
    tasks: Option<&Lane>,
    (start, cell): (u64, u64),
    states: &[Option<WorkerState>],
    theme: &Theme,
) {
    let label: String = label.chars().take(LABEL as usize).collect();
    frame.render_widget(
        Paragraph::new(Span::styled(label, style)),
        Rect::new(row.x, row.y, LABEL.min(row.width), 1),
    );
    let strip = row.width.saturating_sub(LABEL + 1) as usize;
    let buf = frame.buffer_mut();
    for (c, &state) in states.iter().take(strip).enumerate() {
        let Some(state) = state else {
            continue;
        };
        let t0 = start + c as u64 * cell;
        let began = tasks.is_some_and(|l| l.task_began_in(t0, t0 + cell));
        let glyph = if began && state != WorkerState::Idle {
            '▌'
        } else {
            state.glyph()
        };
        if let Some(cellref) = buf.cell_mut((row.x + LABEL + 1 + c as u16, row.y)) {
            cellref.set_char(glyph).set_style(theme.state(state));
        }
    }
}

/// The state each of `n` cells of `cell` ns from `start` shows, for one
/// lane alone (see [`grid`]).
pub fn cells(lane: &Lane, start: u64, cell: u64, n: u16, now: u64) -> Vec<Option<WorkerState>> {
    grid(&[vec![lane]], start, cell, n, now).remove(0)
}

/// The state each of `n` cells of `cell` ns from `start` shows, for rows
/// drawn one above another, each of one lane or of several folded together
/// (their time added up); none before a lane or after `now`.
///
/// A cell shared by several states shows one of them, chosen so that along
/// the lane each state fills as many cells as its share of the time: what
/// a cell could not show is carried to the next (error diffusion), only
/// ever to a state the cell holds. Two threads taking turns every 5 ms at
/// 50 ms a cell read `█G█G`, not all `█` by a small bias. And a column
/// draws no more lanes running than the cores' worth of running its cells
/// hold (rounded up): eight threads on two cores never look like eight at
/// once; a lane held back keeps its due for a later cell.
pub fn grid(
    lanes: &[Vec<&Lane>],
    start: u64,
    cell: u64,
    n: u16,
    now: u64,
) -> Vec<Vec<Option<WorkerState>>> {
    let running = WorkerState::Running.index();
    let mut owed = vec![[0f64; WorkerState::COUNT]; lanes.len()];
    let mut out = vec![Vec::with_capacity(n as usize); lanes.len()];
    for c in 0..n as u64 {
        let t0 = start + c * cell;
        let mut column = Vec::with_capacity(lanes.len());
        let mut on_cores = 0.0;
        for (lane, owed) in lanes.iter().zip(owed.iter_mut()) {
            let mut mix = [0; WorkerState::COUNT];
            if t0 <= now {
                for l in lane.iter() {
                    for (m, x) in mix.iter_mut().zip(l.mix(t0, t0 + cell, now)) {
                        *m += x;
                    }
                }
            }
            let total: u64 = mix.iter().sum();
            if total > 0 {
                for (o, &m) in owed.iter_mut().zip(&mix) {
                    *o += m as f64 / total as f64;
                }
                on_cores += mix[running] as f64 / total as f64;
            }
            column.push((mix, best(&mix, owed, None)));
        }
        // Too many drawn running for the time they ran: those owed least
        // show their next state. A lane that ran the whole cell has no
        // other state to show (it would go blank), so it keeps its place.
        let cap = (on_cores - 1e-6).ceil().max(0.0) as usize;
        let mut first: Vec<(usize, Option<WorkerState>)> = (0..lanes.len())
            .filter(|&i| column[i].1 == Some(WorkerState::Running))
            .map(|i| (i, best(&column[i].0, &owed[i], Some(WorkerState::Running))))
            .collect();
        first.sort_by(|&(a, a_else), &(b, b_else)| {
            (a_else.is_some().cmp(&b_else.is_some()))
                .then(owed[b][running].total_cmp(&owed[a][running]))
        });
        for &(i, other) in first.iter().skip(cap) {
            if other.is_some() {
                column[i].1 = other;
            }
        }
        for (i, (_, shown)) in column.into_iter().enumerate() {
            if let Some(s) = shown {
                owed[i][s.index()] -= 1.0;
            }
            out[i].push(shown);
        }
    }
    out
}

/// The state of `mix` (a cell's time per state) most owed, but `not`.
fn best(
    mix: &[u64; WorkerState::COUNT],
    owed: &[f64; WorkerState::COUNT],
    not: Option<WorkerState>,
) -> Option<WorkerState> {
    WorkerState::ALL
        .into_iter()
        .filter(|s| mix[s.index()] > 0 && Some(*s) != not)
        .max_by(|a, b| owed[a.index()].total_cmp(&owed[b.index()]))
}

/// Every state's glyph and name, so the lanes read without colour.
fn legend(theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for s in WorkerState::ALL {
        spans.push(Span::styled(
            format!("{} {}", s.glyph(), s.name()),
            theme.state(s),
        ));
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled(
        "▌ task start  a cell of several states shows them in turn, each as often as its share ",
        theme.dim(),
    ));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::{cells, grid};
    use crate::event::WorkerState;
    use crate::model::lane::Lane;

    const MS: u64 = 1_000_000;

    /// A lane alternating `run` ms running and `wait` ms waiting for the
    /// GIL for `total` ms.
    fn alternating(run: u64, wait: u64, total: u64) -> Lane {
        let mut lane = Lane::new(0);
        let mut t = 0;
        while t < total * MS {
            lane.enter(t, WorkerState::Running);
            lane.enter(t + run * MS, WorkerState::GilWait);
            t += (run + wait) * MS;
        }
        lane.end(total * MS);
        lane
    }

    /// At every zoom, the share of cells drawn running is the lane's
    /// running share within 10 points.
    #[test]
    fn the_cells_drawn_running_match_the_running_share_at_every_zoom() {
        for (run, wait) in [(5, 5), (7, 3), (3, 7), (1, 9), (9, 1), (35, 15)] {
            let total = 20_000;
            let lane = alternating(run, wait, total);
            let share = run as f64 / (run + wait) as f64;
            for zoom in [1, 5, 20, 50, 200] {
                let n = (total / zoom) as u16;
                let drawn = cells(&lane, 0, zoom * MS, n, total * MS);
                let shown = drawn.iter().flatten().count();
                let running = drawn
                    .iter()
                    .filter(|s| **s == Some(WorkerState::Running))
                    .count();
                let drawn_share = running as f64 / shown as f64;
                assert!(
                    (drawn_share - share).abs() <= 0.10,
                    "{run}/{wait} ms at {zoom} ms a cell: {drawn_share:.2} drawn, {share:.2} ran"
                );
            }
        }
    }

    /// A cell of one state always shows that state.
    #[test]
    fn a_pure_cell_shows_its_own_state() {
        let mut lane = Lane::new(0);
        lane.enter(0, WorkerState::Running);
        lane.enter(3 * MS, WorkerState::GilWait);
        lane.enter(5 * MS, WorkerState::Io);
        lane.end(100 * MS);
        let drawn = cells(&lane, 0, 10 * MS, 10, 100 * MS);
        assert!(
            drawn[1..].iter().all(|s| *s == Some(WorkerState::Io)),
            "{drawn:?}"
        );
    }

    /// Eight lanes taking turns on two cores (each runs 2 ms of every 8,
    /// staggered): no column draws more than two running, and each lane
    /// still draws a quarter of its cells running, at every zoom.
    #[test]
    fn a_column_draws_no_more_lanes_running_than_cores_ran() {
        let total = 4_000u64;
        let lanes: Vec<Lane> = (0..8u64)
            .map(|i| {
                let mut lane = Lane::new(i as u32);
                lane.enter(0, WorkerState::Ready);
                let mut t = (i / 2) * 2 * MS;
                while t < total * MS {
                    lane.enter(t, WorkerState::Running);
                    lane.enter(t + 2 * MS, WorkerState::Ready);
                    t += 8 * MS;
                }
                lane.end(total * MS);
                lane
            })
            .collect();
        let refs: Vec<Vec<&Lane>> = lanes.iter().map(|l| vec![l]).collect();
        for zoom in [1, 5, 20, 50] {
            let n = (total / zoom) as u16;
            let drawn = grid(&refs, 0, zoom * MS, n, total * MS);
            for c in 0..n as usize {
                let running = drawn
                    .iter()
                    .filter(|row| row[c] == Some(WorkerState::Running))
                    .count();
                assert!(
                    running <= 2,
                    "{zoom} ms a cell, column {c}: {running} running"
                );
            }
            for row in &drawn {
                let share = row
                    .iter()
                    .filter(|s| **s == Some(WorkerState::Running))
                    .count() as f64
                    / row.iter().flatten().count() as f64;
                assert!((share - 0.25).abs() <= 0.10, "{zoom} ms a cell: {share:.2}");
            }
        }
    }

    /// Eight lanes on two cores whose slices run 1 to 120 ms (a busy or
    /// slow host): a lane that ran a whole cell is drawn running, never
    /// blank, no column draws more running than the cores allow, and each
    /// lane's share drawn running matches its share of life.
    #[test]
    fn long_slices_never_blank_a_cell_nor_skew_a_lane() {
        let total = 3_000usize;
        let mut states = vec![vec![WorkerState::Ready; total]; 8];
        let mut queue: std::collections::VecDeque<usize> = (2..8).collect();
        let mut cores = [(0usize, 0usize), (1, 0)];
        let mut seed = 12345u64;
        for (t, _) in (0..total).enumerate() {
            for core in cores.iter_mut() {
                if core.1 == 0 {
                    queue.push_back(core.0);
                    core.0 = queue.pop_front().unwrap();
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    core.1 = 1 + (seed >> 33) as usize % 120;
                }
                states[core.0][t] = WorkerState::Running;
                core.1 -= 1;
            }
        }
        let lanes: Vec<Lane> = states
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut lane = Lane::new(i as u32);
                for (t, &s) in row.iter().enumerate() {
                    if t == 0 || row[t - 1] != s {
                        lane.enter(t as u64 * MS, s);
                    }
                }
                lane.end(total as u64 * MS);
                lane
            })
            .collect();
        let refs: Vec<Vec<&Lane>> = lanes.iter().map(|l| vec![l]).collect();
        for zoom in [1u64, 5, 20, 50, 200] {
            let n = (total as u64 / zoom) as u16;
            let drawn = grid(&refs, 0, zoom * MS, n, total as u64 * MS);
            for c in 0..n as usize {
                let running = drawn
                    .iter()
                    .filter(|row| row[c] == Some(WorkerState::Running))
                    .count();
                assert!(running <= 2, "{zoom} ms a cell, column {c}: {running}");
            }
            for (row, truth) in drawn.iter().zip(&states) {
                assert!(row.iter().all(Option::is_some), "{zoom} ms: a blank cell");
                let ran = truth.iter().filter(|s| **s == WorkerState::Running).count() as f64
                    / total as f64;
                let share = row
                    .iter()
                    .filter(|s| **s == Some(WorkerState::Running))
                    .count() as f64
                    / row.len() as f64;
                let slack = 0.10f64.max(1.0 / row.len() as f64);
                assert!(
                    (share - ran).abs() <= slack,
                    "{zoom} ms a cell: ran {ran:.2}, drawn {share:.2}"
                );
            }
        }
    }
}
