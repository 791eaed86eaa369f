//! The Profile panel: where a program's time went, from its Python stacks
//! read from outside. A table of functions (or lines, `l`) with their self
//! and total shares and, of their samples, the share holding the GIL,
//! waiting for it, running free of it (`free`) and in io, sorted by `k`; under it the icicle of the
//! lane's stacks, widest first. It shows the lane selected in the Timeline
//! (a click) or with ←/→ here; none: every lane. In compare, the marked
//! runs' top functions side by side.

use super::app::App;
use super::theme::Theme;
use crate::event::{LaneId, WorkerState};
use crate::model::profile::{Grain, Node, Row as ProfileRow};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};
use ratatui::Frame;

/// The panel's title: whose samples, how many, sorted by what.
pub fn title(app: &App) -> String {
    let runs = compared(app);
    if app.compare && runs.len() > 1 {
        let ns: Vec<String> = runs.iter().map(|(n, _)| n.to_string()).collect();
        return format!(
            "Profile  runs {} side by side · by {}",
            ns.join(", "),
            app.profile_view.key.word()
        );
    }
    let p = &app.lab.profile;
    if p.is_empty() {
        return "Profile".into();
    }
    let whose = app
        .profile_view
        .lane
        .and_then(|id| app.lab.lane(id))
        .map_or("all lanes".to_string(), |l| l.name.clone());
    let grain = match app.profile_view.grain {
        Grain::Function => "functions",
        Grain::Line => "lines",
    };
    format!(
        "Profile  {whose} · {} samples · {grain} by {}",
        p.counts(app.profile_view.lane).samples,
        app.profile_view.key.word()
    )
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.compare && compared(app).len() > 1 {
        return render_compare(frame, inner, app, theme);
    }
    let p = &app.lab.profile;
    if p.is_empty() {
        let text = "a program under parlab py shows here where its time goes: \
                    its threads' Python stacks, read from outside (--profile-hz)";
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim())).wrap(Default::default()),
            inner,
        );
        return;
    }
    let v = &app.profile_view;
    let rows = p.rows(v.lane, v.grain, v.key);
    // The table takes at most half the panel; the icicle the rest.
    let table_h = (rows.len() as u16 + 1).min((inner.height / 2).max(3));
    let [table, _, icicle] = Layout::vertical([
        Constraint::Length(table_h),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    render_table(frame, table, &rows, v.scroll, theme);
    if icicle.height >= 2 {
        render_icicle(frame, icicle, &p.tree(v.lane), theme);
    }
}

/// The marked runs that were profiled, for compare: (row number, lab).
fn compared(app: &App) -> Vec<(usize, &crate::model::Lab)> {
    app.marked
        .iter()
        .filter_map(|&i| Some((i + 1, &*app.history.get(i)?.lab)))
        .filter(|(_, lab)| !lab.profile.is_empty())
        .collect()
}

/// Compare: each marked run's top functions, side by side.
fn render_compare(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let runs = compared(app);
    let v = &app.profile_view;
    let columns = Layout::horizontal(vec![Constraint::Fill(1); runs.len()])
        .spacing(2)
        .split(area);
    for ((n, lab), &col) in runs.iter().zip(columns.iter()) {
        let [head, table] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(col);
        let title = format!("run {n}: {} samples", lab.profile.samples);
        frame.render_widget(Paragraph::new(Line::styled(title, theme.accent())), head);
        let rows = lab.profile.rows(None, v.grain, v.key);
        render_table(frame, table, &rows, v.scroll, theme);
    }
}

/// `part` of `whole` as a percentage, right-aligned in 5 columns.
fn pct(part: u64, whole: u64) -> String {
    format!("{:>5.1}", 100.0 * part as f64 / whole.max(1) as f64)
}

fn render_table(frame: &mut Frame, area: Rect, rows: &[ProfileRow], scroll: usize, theme: &Theme) {
    let all: u64 = rows.iter().map(|r| r.own.samples).sum();
    let wide = area.width >= 90;
    let body: Vec<Row> = rows
        .iter()
        .skip(scroll.min(rows.len().saturating_sub(1)))
        .map(|r| {
            let c = &r.total;
            let mut cells = vec![
                r.function.clone(),
                match wide {
                    true => format!("{}:{}", short(&r.file), r.line),
                    false => format!("{}:{}", base(&r.file), r.line),
                },
                pct(r.own.samples, all),
                pct(c.samples, all),
                pct(c.held, c.samples),
                pct(c.by_state[WorkerState::GilWait.index()], c.samples),
            ];
            if wide {
                cells.push(pct(c.free, c.samples));
                cells.push(pct(c.by_state[WorkerState::Io.index()], c.samples));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["function", "file:line", " self", "total", " held", " wait"];
    let mut widths = vec![
        Constraint::Fill(3),
        Constraint::Fill(2),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
    ];
    if wide {
        header.extend([" free", "   io"]);
        widths.extend([Constraint::Length(5); 2]);
    }
    let table = Table::new(body, widths)
        .header(Row::new(header).style(theme.accent()))
        .column_spacing(1);
    frame.render_widget(table, area);
}

/// A file's name alone.
fn base(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// A file as a class reads it: its folder and name (a lecture program's
/// own name: its folder is the run's).
pub fn short(file: &str) -> String {
    let mut parts = file.rsplit(['/', '\\']);
    let name = parts.next().unwrap_or(file);
    match parts.next() {
        Some(dir) if !dir.starts_with("parlab-py-") => format!("{dir}/{name}"),
        _ => name.to_string(),
    }
}

/// The icicle: the root's callees on the first row, each as wide as its
/// samples, their callees under them.
fn render_icicle(frame: &mut Frame, area: Rect, root: &Node, theme: &Theme) {
    let mut lines: Vec<Vec<Span>> = vec![Vec::new(); area.height as usize];
    let styles = [
        theme.state(WorkerState::Running),
        theme.state(WorkerState::Io),
    ];
    let mut spans = Vec::new();
    lay_out(root, 0, 0, area.width, &mut spans);
    for (depth, x, w, name) in spans {
        let Some(line) = lines.get_mut(depth) else {
            continue;
        };
        let used: u16 = line.iter().map(|s| s.width() as u16).sum();
        if x > used {
            line.push(Span::raw(" ".repeat((x - used) as usize)));
        }
        // A blank last column keeps neighbours apart without colour.
        let mut label: String = name.chars().take(w as usize - 1).collect();
        label = format!("{label:<w$}", w = w as usize);
        let style: Style = styles[line.len() % 2].reversed();
        line.push(Span::styled(label, style));
    }
    let text: Vec<Line> = lines.into_iter().map(Line::from).collect();
    frame.render_widget(Paragraph::new(text), area);
}

/// Each callee of `n` at `depth`, from column `x` over `width` columns (as
/// wide as `n`): (depth, x, width, function), parents before children.
fn lay_out(n: &Node, depth: usize, x: u16, width: u16, out: &mut Vec<(usize, u16, u16, String)>) {
    let mut at = x;
    let mut carried = 0u64;
    for c in &n.children {
        // Widths from running sums, so rounding never adds up past the parent.
        carried += c.samples;
        let end = x + (width as u64 * carried / n.samples.max(1)) as u16;
        let w = end.saturating_sub(at);
        if w > 0 {
            out.push((depth, at, w, c.function.clone()));
            lay_out(c, depth + 1, at, w, out);
        }
        at = end;
    }
}

/// The lane after (or before) `from` among those with samples; past the
/// last (or first), every lane (none).
pub fn step_lane(app: &App, from: Option<LaneId>, forward: bool) -> Option<LaneId> {
    let lanes: Vec<LaneId> = app.lab.profile.lanes().map(|(l, _)| l).collect();
    let at = from.and_then(|l| lanes.iter().position(|&x| x == l));
    match (at, forward) {
        (None, true) => lanes.first().copied(),
        (None, false) => lanes.last().copied(),
        (Some(i), true) => lanes.get(i + 1).copied(),
        (Some(0), false) => None,
        (Some(i), false) => lanes.get(i - 1).copied(),
    }
}
