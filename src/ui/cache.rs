//! The Cache panel: hits and misses as `cache_info()` reads, the hit ratio
//! over time, currsize against maxsize, and a row per process where each has
//! its own cache.

use super::app::App;
use super::theme::Theme;
use crate::event::WorkerState;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Sparkline};
use ratatui::Frame;

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let c = &app.lab.cache;
    if c.hits + c.misses == 0 {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "a memoised workload shows its cache here",
                theme.dim(),
            )),
            inner,
        );
        return;
    }
    let total = c.hits + c.misses;
    let ratio = 100.0 * c.hits as f64 / total as f64;
    let maxsize = match c.maxsize {
        Some(Some(m)) => format!(" of maxsize {m}"),
        Some(None) => " of maxsize None".into(),
        None => String::new(),
    };
    let mut lines = vec![Line::raw(format!(
        "hits {} · misses {} · evictions {} · hit ratio {ratio:.1}%",
        c.hits, c.misses, c.evictions
    ))];
    for (pid, (h, m, size)) in &c.per_pid {
        lines.push(Line::styled(
            format!("pid {pid}: hits {h} · misses {m} · currsize {size}{maxsize}"),
            theme.dim(),
        ));
    }
    let rows = lines.len() as u16;
    let [text, spark] = Layout::vertical([
        Constraint::Length(rows.min(inner.height)),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines), text);
    // Hit ratio of each stretch between samples, in percent.
    // Only the stretches that fit are computed: the series grows with the run.
    let tail = &c.series[c.series.len().saturating_sub(spark.width as usize + 1)..];
    let shown: Vec<u64> = tail
        .windows(2)
        .map(|w| {
            let (h, m) = (w[1].1 - w[0].1, w[1].2 - w[0].2);
            (100 * h).checked_div(h + m).unwrap_or(0)
        })
        .collect();
    frame.render_widget(
        Sparkline::default()
            .data(&shown)
            .max(100)
            .style(theme.state(WorkerState::Io)),
        spark,
    );
}
