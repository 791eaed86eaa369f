//! The settings form: every parameter a run takes, edited in place with the
//! arrows (←/→ choose, ↑/↓ change). Only the fields that apply to the chosen
//! workload and strategy are shown.

use crate::engine::{self, RunSpec};
use crate::strategy::queue::Discipline;
use crate::strategy::StrategyKind;
use crate::workload::fib::CacheSize;
use crate::workload::{collatz, primes, race, WorkloadKind};

/// One editable setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Workload,
    Strategy,
    Workers,
    Gil,
    SwitchInterval,
    Size,
    Tasks,
    Mode,
    Method,
    CacheSize,
    Serial,
    UnitMs,
    Producers,
    Consumers,
    Capacity,
    Rate,
    Discipline,
}

/// The fields that apply to `spec`, in display order.
pub fn fields(spec: &RunSpec) -> Vec<Field> {
    use Field::*;
    let mut f = vec![Workload, Strategy];
    if spec.strategy.takes_workers() {
        f.push(Workers);
    }
    if spec.strategy.gil_applies() {
        f.push(Gil);
        if spec.gil {
            f.push(SwitchInterval);
        }
    }
    f.extend(match spec.workload.kind {
        WorkloadKind::Collatz | WorkloadKind::Race => vec![Size, Tasks, Mode],
        WorkloadKind::Primes => vec![Size, Tasks, Method],
        WorkloadKind::Fib => vec![CacheSize],
        WorkloadKind::Sleep | WorkloadKind::Shell => vec![UnitMs],
        WorkloadKind::Amdahl => vec![Serial, Tasks],
    });
    if spec.strategy == StrategyKind::Queue {
        f.extend([Producers, Consumers, Capacity, Rate, Discipline]);
    }
    f
}

/// The field's label.
pub fn label(f: Field) -> &'static str {
    match f {
        Field::Workload => "workload",
        Field::Strategy => "strategy",
        Field::Workers => "workers",
        Field::Gil => "GIL",
        Field::SwitchInterval => "switch ms",
        Field::Size => "size",
        Field::Tasks => "tasks",
        Field::Mode => "mode",
        Field::Method => "method",
        Field::CacheSize => "cache size",
        Field::Serial => "serial",
        Field::UnitMs => "unit ms",
        Field::Producers => "producers",
        Field::Consumers => "consumers",
        Field::Capacity => "capacity",
        Field::Rate => "rate/s",
        Field::Discipline => "discipline",
    }
}

/// The field's value as shown.
pub fn value(f: Field, s: &RunSpec) -> String {
    let p = &s.workload.params;
    let k = s.workload.kind;
    match f {
        Field::Workload => k.name().into(),
        Field::Strategy => s.strategy.name().into(),
        Field::Workers => s
            .workers
            .map(|w| w.to_string())
            .unwrap_or_else(|| "auto".into()),
        Field::Gil => if s.gil { "on" } else { "off" }.into(),
        Field::SwitchInterval => format!("{}", s.switch_interval_ms),
        Field::Size => match k {
            WorkloadKind::Primes => p.primes.size,
            WorkloadKind::Race => p.race.size,
            _ => p.collatz.size,
        }
        .to_string(),
        Field::Tasks => match k {
            WorkloadKind::Primes => p.primes.tasks,
            WorkloadKind::Race => p.race.tasks,
            WorkloadKind::Amdahl => p.amdahl.tasks,
            _ => p.collatz.tasks,
        }
        .to_string(),
        Field::Mode => match k {
            WorkloadKind::Race => format!("{:?}", p.race.mode).to_lowercase(),
            _ => format!("{:?}", p.collatz.mode).to_lowercase(),
        },
        Field::Method => format!("{:?}", p.primes.method).to_lowercase(),
        Field::CacheSize => p.fib.cache_size.to_string(),
        Field::Serial => format!("{:.2}", p.amdahl.serial),
        Field::UnitMs => match k {
            WorkloadKind::Shell => p.shell.unit_ms,
            _ => p.sleep.unit_ms,
        }
        .to_string(),
        Field::Producers => s.queue.producers.to_string(),
        Field::Consumers => s
            .queue
            .consumers
            .map(|c| c.to_string())
            .unwrap_or_else(|| "auto".into()),
        Field::Capacity => s.queue.capacity.to_string(),
        Field::Rate => s
            .queue
            .rate
            .map(|r| format!("{r:.1}"))
            .unwrap_or_else(|| "max".into()),
        Field::Discipline => s.queue.discipline.name().into(),
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], now: T, up: bool) -> T {
    let i = all.iter().position(|&x| x == now).unwrap_or(0);
    let n = all.len();
    all[if up { (i + 1) % n } else { (i + n - 1) % n }]
}

fn step_u64(v: u64, up: bool, min: u64, max: u64) -> u64 {
    if up { v.saturating_mul(2) } else { v / 2 }.clamp(min, max)
}

fn step_u32(v: u32, up: bool, min: u32, max: u32) -> u32 {
    if up {
        v.saturating_add(1)
    } else {
        v.saturating_sub(1)
    }
    .clamp(min, max)
}

/// Change a field one step (numbers double or halve, or move by one; choices cycle).
pub fn change(f: Field, s: &mut RunSpec, up: bool) {
    let k = s.workload.kind;
    let p = &mut s.workload.params;
    match f {
        Field::Workload => s.workload.kind = cycle(&WorkloadKind::ALL, k, up),
        Field::Strategy => s.strategy = cycle(&StrategyKind::ALL, s.strategy, up),
        Field::Workers => {
            let now = s.workers.unwrap_or_else(engine::logical_cores);
            s.workers = Some(step_u32(now, up, 1, engine::MAX_WORKERS));
        }
        Field::Gil => s.gil = !s.gil,
        Field::SwitchInterval => {
            s.switch_interval_ms = if up {
                s.switch_interval_ms * 2.0
            } else {
                s.switch_interval_ms / 2.0
            }
            .clamp(0.125, 1000.0)
        }
        Field::Size => {
            let size = match k {
                WorkloadKind::Primes => &mut p.primes.size,
                WorkloadKind::Race => &mut p.race.size,
                _ => &mut p.collatz.size,
            };
            *size = step_u64(*size, up, 1, collatz::MAX_SIZE);
        }
        Field::Tasks => {
            let tasks = match k {
                WorkloadKind::Primes => &mut p.primes.tasks,
                WorkloadKind::Race => &mut p.race.tasks,
                WorkloadKind::Amdahl => &mut p.amdahl.tasks,
                _ => &mut p.collatz.tasks,
            };
            *tasks = if up {
                (*tasks * 2).min(4096)
            } else {
                (*tasks / 2).max(1)
            };
        }
        Field::Mode => match k {
            WorkloadKind::Race => {
                p.race.mode = cycle(
                    &[
                        race::Mode::Unsynchronized,
                        race::Mode::Mutex,
                        race::Mode::Atomic,
                    ],
                    p.race.mode,
                    up,
                )
            }
            _ => {
                p.collatz.mode = cycle(
                    &[collatz::Mode::Lengths, collatz::Mode::First],
                    p.collatz.mode,
                    up,
                )
            }
        },
        Field::Method => {
            p.primes.method = cycle(
                &[primes::Method::Trial, primes::Method::Sieve],
                p.primes.method,
                up,
            )
        }
        Field::CacheSize => {
            let sizes = [
                CacheSize::Bounded(0),
                CacheSize::Bounded(1),
                CacheSize::Bounded(2),
                CacheSize::Bounded(4),
                CacheSize::Bounded(8),
                CacheSize::Bounded(16),
                CacheSize::Bounded(32),
                CacheSize::Bounded(64),
                CacheSize::Bounded(128),
                CacheSize::Unbounded,
            ];
            p.fib.cache_size = cycle(&sizes, p.fib.cache_size, up);
        }
        Field::Serial => {
            p.amdahl.serial = ((p.amdahl.serial + if up { 0.05 } else { -0.05 }) * 100.0)
                .round()
                .clamp(0.0, 100.0)
                / 100.0
        }
        Field::UnitMs => {
            let unit = match k {
                WorkloadKind::Shell => &mut p.shell.unit_ms,
                _ => &mut p.sleep.unit_ms,
            };
            *unit = step_u64(*unit, up, 1, crate::workload::sleep::MAX_UNIT_MS);
        }
        Field::Producers => {
            s.queue.producers = step_u32(s.queue.producers, up, 1, engine::MAX_WORKERS)
        }
        Field::Consumers => {
            let now = s
                .queue
                .consumers
                .or(s.workers)
                .unwrap_or_else(engine::logical_cores);
            s.queue.consumers = Some(step_u32(now, up, 1, engine::MAX_WORKERS));
        }
        Field::Capacity => {
            s.queue.capacity = if up {
                (s.queue.capacity * 2).min(1_000_000)
            } else {
                (s.queue.capacity / 2).max(1)
            }
        }
        Field::Rate => {
            s.queue.rate = match (s.queue.rate, up) {
                (None, false) => Some(1000.0),
                (None, true) => None,
                (Some(r), true) if r >= 1000.0 => None,
                (Some(r), true) => Some(r * 2.0),
                (Some(r), false) => Some((r / 2.0).max(0.5)),
            }
        }
        Field::Discipline => {
            s.queue.discipline = cycle(
                &[Discipline::Fifo, Discipline::Lifo, Discipline::Priority],
                s.queue.discipline,
                up,
            )
        }
    }
}

/// Draw the settings form: every field on as many lines as it takes, the
/// selected one highlighted when the form has focus.
pub fn render(
    frame: &mut ratatui::Frame,
    area: ratatui::layout::Rect,
    app: &super::app::App,
    theme: &super::theme::Theme,
    block: ratatui::widgets::Block,
) {
    use ratatui::text::{Line, Span};
    let focused = app.focus == super::app::Panel::Settings;
    let fields = fields(&app.spec);
    let spans: Vec<Span> = fields
        .iter()
        .enumerate()
        .flat_map(|(i, &f)| {
            let style = if focused && i == app.field.min(fields.len() - 1) {
                theme.selected()
            } else {
                theme.accent()
            };
            [
                Span::styled(format!(" {} ", label(f)), theme.dim()),
                Span::styled(format!("‹{}›", value(f, &app.spec)), style),
            ]
        })
        .collect();
    let para = ratatui::widgets::Paragraph::new(Line::from(spans))
        .wrap(ratatui::widgets::Wrap { trim: false })
        .block(block);
    frame.render_widget(para, area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn every_field_changes_both_ways_without_leaving_valid_ground() {
        for kind in WorkloadKind::ALL {
            for strategy in StrategyKind::ALL {
                let mut s = Config::default().to_spec(&Default::default()).unwrap();
                s.workload.kind = kind;
                s.strategy = strategy;
                s.gil = true;
                for f in fields(&s) {
                    if matches!(f, Field::Workload | Field::Strategy) {
                        continue;
                    }
                    for up in [true, false, false, true] {
                        change(f, &mut s, up);
                        assert!(!value(f, &s).is_empty());
                    }
                }
                assert!(crate::workload::build(&s.workload).is_ok(), "{kind:?}");
            }
        }
    }
}
