//! The Settings form's logic: which fields a run's settings have, what each
//! shows, and what ↑/↓ does to it. Read from the workload's and strategy's
//! tables, so a new parameter appears here without a line of its own.
//! Drawing lives in `settings.rs`.

use crate::config::Config;
use crate::engine::{RunSpec, SWITCH_INTERVAL_MS, WORKERS};
use crate::param::{Param, Step, Value};
use crate::strategy::{self, Workers};
use crate::workload;

/// One editable setting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field {
    Workload,
    Strategy,
    Workers,
    Gil,
    SwitchInterval,
    /// One of the workload's parameters.
    WorkloadParam(&'static Param),
    /// One of the strategy's parameters.
    StrategyParam(&'static Param),
}

/// The fields that apply to `spec`, in display order.
pub fn fields(spec: &RunSpec) -> Vec<Field> {
    let s = spec.strategy.desc;
    let mut f = vec![Field::Workload, Field::Strategy];
    if s.takes_workers() {
        f.push(Field::Workers);
    }
    if s.gil {
        f.push(Field::Gil);
        if spec.gil {
            f.push(Field::SwitchInterval);
        }
    }
    let shown = |p: &&'static Param| p.step != Step::Hidden;
    f.extend(
        spec.workload
            .desc
            .params
            .iter()
            .filter(shown)
            .map(Field::WorkloadParam),
    );
    f.extend(s.params.iter().filter(shown).map(Field::StrategyParam));
    f
}

/// The field's label.
pub fn label(f: Field) -> &'static str {
    match f {
        Field::Workload => "workload",
        Field::Strategy => "strategy",
        Field::Workers => WORKERS.label,
        Field::Gil => "GIL",
        Field::SwitchInterval => SWITCH_INTERVAL_MS.label,
        Field::WorkloadParam(p) | Field::StrategyParam(p) => p.label,
    }
}

/// The field's value as shown.
pub fn value(f: Field, s: &RunSpec) -> String {
    match f {
        Field::Workload => s.workload.name().into(),
        Field::Strategy => s.strategy.name().into(),
        Field::Workers => WORKERS.show(s.workers.map(Value::from).as_ref()),
        Field::Gil => if s.gil { "on" } else { "off" }.into(),
        Field::SwitchInterval => SWITCH_INTERVAL_MS.show(Some(&s.switch_interval_ms.into())),
        Field::WorkloadParam(p) => p.show(s.workload.params.get(p.key)),
        Field::StrategyParam(p) => p.show(s.strategy.params.get(p.key)),
    }
}

fn cycle<T: PartialEq>(all: &'static [&'static T], now: &T, up: bool) -> &'static T {
    let i = all.iter().position(|x| *x == now).unwrap_or(0);
    let n = all.len();
    all[if up { (i + 1) % n } else { (i + n - 1) % n }]
}

/// Change a field one step, within its valid values. A new workload or
/// strategy starts from the config's values for it.
pub fn change(f: Field, s: &mut RunSpec, up: bool, config: &Config) {
    let cores = || Value::from(crate::sampler::logical_cores());
    match f {
        Field::Workload => {
            let seed = s.workload.seed;
            s.workload = config.workload(cycle(workload::REGISTRY, s.workload.desc, up));
            s.workload.seed = seed;
        }
        Field::Strategy => {
            s.strategy = config.strategy(cycle(strategy::REGISTRY, s.strategy.desc, up));
        }
        Field::Workers => {
            let now = s.workers.map(Value::from).unwrap_or_else(cores);
            s.workers = match WORKERS.step(Some(&now), up) {
                Some(Value::Int(n)) => Some(n as u32),
                _ => s.workers,
            };
        }
        Field::Gil => s.gil = !s.gil,
        Field::SwitchInterval => {
            let now = Value::from(s.switch_interval_ms);
            if let Some(v) = SWITCH_INTERVAL_MS.step(Some(&now), up) {
                s.switch_interval_ms = if let Value::Float(f) = v { f } else { 5.0 };
            }
        }
        Field::WorkloadParam(p) => {
            let next = p.step(s.workload.params.get(p.key), up);
            s.workload.params.put(p.key, next);
        }
        Field::StrategyParam(p) => {
            // The worker parameter (the queue's consumers) starts from the workers in force.
            let now = s.strategy.params.get(p.key).cloned().or_else(|| {
                (s.strategy.desc.workers == Workers::Param(p.key))
                    .then(|| s.workers.map(Value::from).unwrap_or_else(cores))
            });
            let next = p.step(now.as_ref(), up);
            s.strategy.params.put(p.key, next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_both_ways_without_leaving_valid_ground() {
        let config = Config::default();
        for w in workload::REGISTRY {
            for st in strategy::REGISTRY {
                let mut s = config.to_spec(&Default::default()).unwrap();
                s.workload = config.workload(w);
                s.strategy = config.strategy(st);
                s.gil = true;
                for f in fields(&s) {
                    if matches!(f, Field::Workload | Field::Strategy) {
                        continue;
                    }
                    for up in [true, false, false, true, true, true] {
                        change(f, &mut s, up, &config);
                        assert!(!value(f, &s).is_empty());
                    }
                }
                if !(w.needs_shared_memory && st.processes) {
                    s.validate()
                        .unwrap_or_else(|e| panic!("{} {}: {e}", w.name, st.name));
                }
                assert!(workload::build(&s.workload).is_ok(), "{}", w.name);
            }
        }
    }

    #[test]
    fn a_new_workload_brings_its_own_fields_and_nothing_else() {
        let config = Config::default();
        let mut s = config.to_spec(&Default::default()).unwrap();
        for _ in 0..workload::REGISTRY.len() {
            change(Field::Workload, &mut s, true, &config);
            for f in fields(&s) {
                if let Field::WorkloadParam(p) = f {
                    assert!(s.workload.desc.param(p.key).is_some());
                }
            }
        }
    }
}
