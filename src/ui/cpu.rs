//! The CPU panel: every core's utilisation as a heat strip (readable at 2
//! cores and at 64), and each worker process's CPU and memory.

use super::app::App;
use super::theme::Theme;
use crate::event::WorkerState;
use crate::sampler::CpuSample;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

const LEVELS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn heat(theme: &Theme, pct: f32) -> Style {
    if !theme.color {
        return Style::new();
    }
    // Okabe-Ito blue to orange to vermillion: no red/green pair.
    let c = match pct {
        p if p < 25.0 => Color::Rgb(0, 114, 178),
        p if p < 50.0 => Color::Rgb(86, 180, 233),
        p if p < 75.0 => Color::Rgb(230, 159, 0),
        _ => Color::Rgb(213, 94, 0),
    };
    Style::new().fg(c)
}

/// The machine's cores as one bar: parlab's tree (`█`), everything else
/// (`▒`), idle; so a class sees a browser eating a core.
fn shares<'a>(sample: &CpuSample, width: u16, theme: &Theme) -> Line<'a> {
    let n = sample.cores.len().max(1) as f32;
    let w = width.saturating_sub(2).max(1) as f32;
    let own = ((sample.own / n) * w).round().clamp(0.0, w) as usize;
    let others = ((sample.others / n) * w).round().clamp(0.0, w - own as f32) as usize;
    let idle = (w as usize).saturating_sub(own + others);
    Line::from(vec![
        Span::styled("█".repeat(own), theme.state(WorkerState::Running)),
        Span::styled("▒".repeat(others), theme.state(WorkerState::Failed)),
        Span::styled("·".repeat(idle), theme.dim()),
    ])
}

/// Each core: a labelled gauge when few fit, else a heat strip (one cell a
/// core, wrapped), readable at 2 cores and at 64.
fn core_lines<'a>(cores: &[f32], width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let level = |p: f32| LEVELS[((p / 100.0 * 8.0).round() as usize).clamp(1, 8)].to_string();
    if cores.len() * 9 <= width {
        let spans: Vec<Span> = cores
            .iter()
            .enumerate()
            .flat_map(|(i, &p)| {
                [
                    Span::raw(format!("{i:>2} ")),
                    Span::styled(level(p), heat(theme, p)),
                    Span::raw(format!("{p:>3.0}% ")),
                ]
            })
            .collect();
        return vec![Line::from(spans)];
    }
    cores
        .chunks(width)
        .map(|row| {
            Line::from(
                row.iter()
                    .map(|&p| Span::styled(level(p), heat(theme, p)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// Draw the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, block: Block) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    if let Some(p) = &app.playback {
        // A recording keeps the machine's figures over the run, not its cores' moments.
        let then = match &p.outcome.machine {
            Some(l) if l.measured() => format!(
                "recorded run: {} cores, parlab {:.1}, others {:.1} cores on average",
                l.cores, l.own, l.others
            ),
            _ => "recorded run: its machine's load was not measured".into(),
        };
        lines.push(Line::styled(then, theme.accent()));
        lines.push(Line::styled("this machine now, replaying:", theme.dim()));
    }
    let Some(sample) = &app.cpu else {
        lines.push(Line::styled("sampling…", theme.dim()));
        lines.extend(reported(app, theme));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let cores = &sample.cores;
    let avg = cores.iter().sum::<f32>() / cores.len().max(1) as f32;
    lines.push(Line::raw(format!(
        "{} cores · average {avg:.0}% · parlab {:.1} · others {:.1} cores",
        cores.len(),
        sample.own,
        sample.others
    )));
    lines.push(shares(sample, inner.width, theme));
    lines.extend(core_lines(cores, inner.width.max(1) as usize, theme));
    for (pid, cpu, mem) in &sample.processes {
        lines.push(Line::styled(
            format!("pid {pid}: cpu {cpu:.0}% · mem {:.1} MB", *mem as f64 / 1e6),
            theme.dim(),
        ));
    }
    lines.extend(reported(app, theme));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Processes that report their own CPU and memory (a Dask cluster's
/// workers, as their scheduler says): one line each, named by the worker.
fn reported<'a>(app: &App, theme: &Theme) -> Vec<Line<'a>> {
    let lab = &app.lab;
    if lab.usage.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![Line::styled(
        "workers, as their scheduler reports them:",
        theme.accent(),
    )];
    for (lane, u) in &lab.usage {
        let name = lab.lane(*lane).map_or(String::new(), |l| l.name.clone());
        // A worker's lanes are its threads (`ADDRESS #1`): name the worker.
        let worker = name.rsplit_once(" #").map_or(name.as_str(), |(w, _)| w);
        // Left: its lane ended, or stays failed (it left mid-task).
        let gone = lab
            .lane(*lane)
            .is_some_and(|l| l.end_ns.is_some() || l.state == WorkerState::Failed);
        lines.push(Line::styled(
            format!(
                "{worker}: cpu {:.0}% · mem {:.1} MB{}",
                u.cpu_percent,
                u.memory_bytes as f64 / 1e6,
                if gone { " (left)" } else { "" }
            ),
            if gone { theme.dim() } else { Style::new() },
        ));
    }
    lines
}
