//! The smaller panels: settings, Log, Summary, Queue, Cache, status bar, Help.

use super::app::{App, Field};
use super::theme::Theme;
use crate::clock::ms;
use crate::event::{Role, WorkerState};
use crate::strategy::StrategyKind;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Sparkline, Wrap};
use ratatui::Frame;

/// The settings for the next run, the selected one highlighted.
pub fn settings(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.spec;
    let workers = if s.strategy.takes_workers() {
        s.workers
            .map(|w| w.to_string())
            .unwrap_or_else(|| "auto".into())
    } else {
        "n/a".into()
    };
    let gil = if s.gil { "on" } else { "off" };
    let fields = [
        (
            Field::Workload,
            "workload",
            s.workload.kind.name().to_string(),
        ),
        (Field::Strategy, "strategy", s.strategy.name().to_string()),
        (Field::Workers, "workers", workers),
        (Field::Gil, "GIL", gil.to_string()),
    ];
    let mut spans = vec![Span::styled(" parlab ", theme.accent())];
    for (f, name, value) in fields {
        spans.push(Span::styled(format!(" {name} "), theme.dim()));
        let style = if f == app.field {
            theme.selected()
        } else {
            theme.accent()
        };
        spans.push(Span::styled(format!("‹{value}›"), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The lecture-style log, newest at the bottom.
pub fn log(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = Block::bordered().title(Span::styled(" Log ", theme.accent()));
    let inner = block.inner(area);
    let lines: Vec<Line> = app
        .lab
        .log
        .iter()
        .rev()
        .take(inner.height as usize)
        .rev()
        .map(|l| {
            let text = app.lab.log_text(l);
            let style = if text.contains("failed") {
                theme.error()
            } else {
                ratatui::style::Style::new()
            };
            Line::styled(text, style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The current run: wall time, speedup, efficiency, events, failures.
pub fn summary(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = Block::bordered().title(Span::styled(" Summary ", theme.accent()));
    let mut lines = Vec::new();
    match &app.info {
        None => lines.push(Line::styled("no run yet: Enter starts one", theme.dim())),
        Some(info) => {
            let state = if app.running() {
                "running"
            } else if app.outcome.as_ref().is_some_and(|o| !o.failures.is_empty()) {
                "failed"
            } else if app.outcome.as_ref().is_some_and(|o| o.cancelled) {
                "stopped"
            } else {
                "finished"
            };
            let wall = app
                .outcome
                .as_ref()
                .map(|o| ms(o.wall_ns))
                .unwrap_or_else(|| ms(app.now_ns()));
            lines.push(Line::from(format!(
                "{} · {} · {} workers · {state}",
                info.spec.workload.kind.name(),
                info.spec.strategy.name(),
                info.workers
            )));
            lines.push(Line::from(format!(
                "wall {:.1} ms · tasks {}/{}",
                wall,
                app.lab.tasks_done,
                info.tasks.len()
            )));
            if let (Some(base), Some(_)) = (app.baseline_ms(info.spec.workload.kind), &app.outcome)
            {
                let speedup = base / wall.max(1e-9);
                lines.push(Line::from(format!(
                    "speedup {speedup:.2}× · efficiency {:.0}%",
                    100.0 * speedup / info.workers as f64
                )));
            }
            let sent = app.outcome.as_ref().map(|o| o.events_sent);
            lines.push(Line::from(format!(
                "events sent {} · received {}",
                sent.map(|s| s.to_string()).unwrap_or_else(|| "…".into()),
                app.lab.received
            )));
            if let Some(o) = &app.outcome {
                if let Some(r) = &o.result {
                    lines.push(Line::styled(
                        format!("result {}", short_result(r)),
                        theme.dim(),
                    ));
                }
                for f in &o.failures {
                    lines.push(Line::styled(
                        format!(
                            "FAILED {} (pid {}) {}: {}",
                            f.lane,
                            f.pid,
                            f.task.clone().unwrap_or_default(),
                            f.reason
                        ),
                        theme.error(),
                    ));
                }
            }
        }
    }
    if let Some(m) = &app.message {
        lines.push(Line::styled(m.clone(), theme.error()));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        area,
    );
}

fn short_result(r: &serde_json::Value) -> String {
    let Some(m) = r.as_object() else {
        return r.to_string();
    };
    m.iter()
        .filter(|(_, v)| !v.is_array() && !v.is_object())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Queue depth over time against its capacity, and who is blocked.
pub fn queue(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let cap = app
        .info
        .as_ref()
        .map(|i| i.spec.queue.capacity)
        .unwrap_or(0);
    let blocked_p = app
        .lab
        .lanes
        .iter()
        .filter(|l| l.role == Role::Producer && l.state == WorkerState::QueueFull)
        .count();
    let blocked_c = app
        .lab
        .lanes
        .iter()
        .filter(|l| l.role == Role::Consumer && l.state == WorkerState::QueueEmpty)
        .count();
    let title = format!(
        " Queue  capacity {cap} · puts {} · gets {} · blocked: {blocked_p} producers, {blocked_c} consumers ",
        app.lab.queue.puts, app.lab.queue.gets
    );
    let block = Block::bordered().title(Span::styled(title, theme.accent()));
    let inner = block.inner(area);
    let width = inner.width as usize;
    let series = app.lab.depth_series(width.max(1));
    let data: Vec<u64> = series.iter().map(|p| p.1 as u64).collect();
    let spark = Sparkline::default()
        .block(block)
        .data(&data)
        .max(cap.max(1) as u64)
        .style(theme.state(WorkerState::QueueFull));
    frame.render_widget(spark, area);
}

/// Cache hits and misses, as `cache_info()` reads, per process where each has its own.
pub fn cache(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let c = &app.lab.cache;
    let total = c.hits + c.misses;
    let ratio = if total > 0 {
        100.0 * c.hits as f64 / total as f64
    } else {
        0.0
    };
    let block = Block::bordered().title(Span::styled(" Cache ", theme.accent()));
    let mut lines = vec![Line::from(format!(
        "hits {} · misses {} · evictions {} · hit ratio {ratio:.1}%",
        c.hits, c.misses, c.evictions
    ))];
    for (pid, (h, m, size)) in &c.per_pid {
        lines.push(Line::styled(
            format!("pid {pid}: hits {h} misses {m} currsize {size}"),
            theme.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The main keys and the run's state, always visible.
pub fn status(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let state = if app.running() {
        "● running"
    } else {
        "○ idle"
    };
    let mut keys = String::from(" Enter start · s stop · ←→ field · ↑↓ change · +/- workers · g GIL · z/x zoom · Space freeze");
    if app
        .info
        .as_ref()
        .is_some_and(|i| i.spec.strategy == StrategyKind::Queue)
        && app.running()
    {
        keys += " · [/] rate · </> consumers";
    }
    keys += " · ? help · q quit";
    let line = Line::from(vec![
        Span::styled(format!(" {state} "), theme.selected()),
        Span::raw(keys),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// Every key, in an overlay titled Help.
pub fn help(frame: &mut Frame, area: Rect, theme: &Theme) {
    let rows = [
        ("Enter", "start a run on the settings shown"),
        ("s", "stop the run"),
        ("← / →, Tab", "choose a setting"),
        ("↑ / ↓", "change it"),
        ("+ / -", "more or fewer workers"),
        ("g", "simulated GIL on or off"),
        ("z / x", "zoom the timeline in or out"),
        ("Space", "freeze the view (the run goes on)"),
        ("PgUp / PgDn", "scroll the timeline back or forward"),
        ("[ / ]", "queue: slower or faster producers"),
        ("< / >", "queue: fewer or more consumers"),
        ("?", "this help; Esc closes it"),
        ("q, Ctrl-C", "quit (stops the run, reaps every worker)"),
    ];
    let w = 60.min(area.width);
    let h = (rows.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let lines: Vec<Line> = rows
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:>12}  "), theme.accent()),
                Span::raw(*v),
            ])
        })
        .collect();
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(" Help ", theme.accent()))),
        r,
    );
}
