//! The Settings form's logic: which fields a run's settings have, what each
//! shows, and what ↑/↓ does to it. Read from the workload's and strategy's
//! tables, so a new parameter appears here without a line of its own.
//! Drawing lives in `settings.rs`.

use crate::config::Config;
use crate::param::{Param, Step, Value};
use crate::plan::{Interpreter, Program};
use crate::plan::{RunSpec, SWITCH_INTERVAL_MS, WORKERS};
use crate::strategy::{self, Workers};
use crate::workload;

/// One editable setting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field {
    /// Native workers, or a real Python program.
    Source,
    /// A Python program's script (the lecture's), its arguments, its interpreter.
    Script,
    Args,
    Python,
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

/// The fields that apply: a program's, or `spec`'s, in display order.
pub fn fields(spec: &RunSpec, program: Option<&Program>) -> Vec<Field> {
    if program.is_some() {
        return vec![Field::Source, Field::Script, Field::Args, Field::Python];
    }
    let s = spec.strategy.desc;
    let mut f = vec![Field::Source, Field::Workload, Field::Strategy];
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
        Field::Source => "source",
        Field::Script => "script",
        Field::Args => "args",
        Field::Python => "python",
        Field::Workload => "workload",
        Field::Strategy => "strategy",
        Field::Workers => WORKERS.label,
        Field::Gil => "GIL",
        Field::SwitchInterval => SWITCH_INTERVAL_MS.label,
        Field::WorkloadParam(p) | Field::StrategyParam(p) => p.label,
    }
}

/// The field's value as shown.
pub fn value(f: Field, s: &RunSpec, program: Option<&Program>) -> String {
    match (f, program) {
        (Field::Source, p) => if p.is_some() { "python" } else { "native" }.into(),
        (Field::Script, Some(p)) => p.script.clone(),
        (Field::Args, Some(p)) if p.args.is_empty() => "none".into(),
        (Field::Args, Some(p)) => p.args.join(" "),
        (Field::Python, Some(p)) => {
            format!("{} {}", p.python.implementation_name(), p.python.version)
        }
        (Field::Script | Field::Args | Field::Python, None) => String::new(),
        (f, _) => native_value(f, s),
    }
}

fn native_value(f: Field, s: &RunSpec) -> String {
    match f {
        Field::Workload => s.workload.name().into(),
        Field::Strategy => s.strategy.name().into(),
        Field::Workers => WORKERS.show(s.workers.map(Value::from).as_ref()),
        Field::Gil => if s.gil { "on" } else { "off" }.into(),
        Field::SwitchInterval => SWITCH_INTERVAL_MS.show(Some(&s.switch_interval_ms.into())),
        Field::WorkloadParam(p) => p.show(s.workload.params.get(p.key)),
        Field::StrategyParam(p) => p.show(s.strategy.params.get(p.key)),
        Field::Source | Field::Script | Field::Args | Field::Python => String::new(),
    }
}

/// Change a program's field one step: the next lecture program (with its
/// first argument set), its next argument set, the next interpreter found.
pub fn change_program(f: Field, p: &mut Program, up: bool, interpreters: &[Interpreter]) {
    let step = |i: usize, n: usize| if up { (i + 1) % n } else { (i + n - 1) % n };
    match f {
        Field::Script => {
            let names: Vec<&str> = crate::lecture::SCRIPTS.iter().map(|s| s.name).collect();
            let now = p.script.strip_prefix("lecture:").unwrap_or("");
            let i = names
                .iter()
                .position(|n| *n == now)
                .map_or(0, |i| step(i, names.len()));
            p.script = format!("lecture:{}", names[i]);
            p.args = split(
                crate::lecture::SCRIPTS[i]
                    .examples
                    .first()
                    .copied()
                    .unwrap_or(""),
            );
        }
        Field::Args => {
            let Some(s) = p
                .script
                .strip_prefix("lecture:")
                .and_then(crate::lecture::find)
            else {
                return;
            };
            let now = p.args.join(" ");
            let i = s
                .examples
                .iter()
                .position(|e| *e == now)
                .map_or(0, |i| step(i, s.examples.len()));
            p.args = split(s.examples[i]);
        }
        Field::Python if !interpreters.is_empty() => {
            let i = interpreters
                .iter()
                .position(|x| *x == p.python)
                .map_or(0, |i| step(i, interpreters.len()));
            p.python = interpreters[i].clone();
        }
        _ => {}
    }
}

/// A program at its first lecture script and argument set, on `python`.
pub fn first_program(python: &Interpreter) -> Program {
    let first = &crate::lecture::SCRIPTS[0];
    Program {
        script: format!("lecture:{}", first.name),
        args: split(first.examples.first().copied().unwrap_or("")),
        python: python.clone(),
    }
}

fn split(args: &str) -> Vec<String> {
    args.split_whitespace().map(str::to_string).collect()
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
        Field::Source | Field::Script | Field::Args | Field::Python => {}
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
                for f in fields(&s, None) {
                    if matches!(f, Field::Workload | Field::Strategy | Field::Source) {
                        continue;
                    }
                    for up in [true, false, false, true, true, true] {
                        change(f, &mut s, up, &config);
                        assert!(!value(f, &s, None).is_empty());
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
    fn a_program_cycles_through_the_lectures_scripts_their_arguments_and_interpreters() {
        let py = |v: &str| Interpreter {
            command: format!("python{v}"),
            executable: format!("/usr/bin/python{v}"),
            version: v.into(),
            implementation: "cpython".into(),
            gil_enabled: true,
        };
        let pythons = [py("3.11.7"), py("3.12.1")];
        let mut p = first_program(&pythons[0]);
        assert_eq!(p.script, "lecture:seven_tasks");
        assert_eq!(p.args, ["--mode", "threads"]);
        change_program(Field::Args, &mut p, true, &pythons);
        assert_eq!(p.args, ["--mode", "sequential"]);
        change_program(Field::Script, &mut p, true, &pythons);
        assert_eq!(p.script, "lecture:cpu");
        assert_eq!(p.args.join(" "), crate::lecture::SCRIPTS[1].examples[0]);
        change_program(Field::Script, &mut p, false, &pythons);
        change_program(Field::Script, &mut p, false, &pythons);
        assert_eq!(
            p.script,
            format!("lecture:{}", crate::lecture::SCRIPTS.last().unwrap().name),
            "wraps"
        );
        change_program(Field::Python, &mut p, true, &pythons);
        assert_eq!(p.python.version, "3.12.1");
        let s = Config::default().to_spec(&Default::default()).unwrap();
        assert_eq!(
            fields(&s, Some(&p)),
            [Field::Source, Field::Script, Field::Args, Field::Python]
        );
        assert_eq!(value(Field::Python, &s, Some(&p)), "CPython 3.12.1");
        assert_eq!(value(Field::Source, &s, None), "native");
    }

    #[test]
    fn a_new_workload_brings_its_own_fields_and_nothing_else() {
        let config = Config::default();
        let mut s = config.to_spec(&Default::default()).unwrap();
        for _ in 0..workload::REGISTRY.len() {
            change(Field::Workload, &mut s, true, &config);
            for f in fields(&s, None) {
                if let Field::WorkloadParam(p) = f {
                    assert!(s.workload.desc.param(p.key).is_some());
                }
            }
        }
    }
}
