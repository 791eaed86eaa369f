//! Real Python programs under parlab's probe: the lecture's own (bundled)
//! or any script, their threads, processes, tasks and waits shown in the
//! same lab as native runs.
//!
//! The probe (`assets/probe/`, standard library only) is put first on the
//! program's `PYTHONPATH` as a `sitecustomize` that chains to any other, so
//! the script runs unchanged; every process of the program, however started
//! (fork, spawn, forkserver), writes fixed-size records into a ring of its
//! own in a folder parlab reads ([`ring`]). [`run`] turns them into events.

pub mod gil;
pub mod os;
pub mod pace;
pub mod queues;
pub mod ring;
pub mod rota;
pub mod run;
pub mod stacks;

use crate::UserError;
use anyhow::Result;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use crate::plan::{Interpreter, Program};
pub use run::{start, PyRun};

/// The probe's files, embedded.
pub const PROBE: [(&str, &str); 3] = [
    (
        "sitecustomize.py",
        include_str!("../../assets/probe/sitecustomize.py"),
    ),
    (
        "_parlab_probe.py",
        include_str!("../../assets/probe/_parlab_probe.py"),
    ),
    (
        "_parlab_dask_preload.py",
        include_str!("../../assets/dask/_parlab_dask_preload.py"),
    ),
];

/// Dask's setting (as an environment variable) for modules every client
/// runs as it connects: parlab's names the client's scheduler to parlab.
pub const DASK_PRELOAD: (&str, &str) = (
    "DASK_DISTRIBUTED__CLIENT__PRELOAD",
    "[\"_parlab_dask_preload\"]",
);

/// `[python]` in the config: the one table row of its section.
pub const SECTION: [crate::param::Param; 1] = [crate::param::Param {
    key: "executable",
    help: "the Python interpreter parlab py runs (--python overrides it)",
    kind: crate::param::Kind::Program,
    default: crate::param::Default::Absent("python3", "python3 on the PATH"),
    label: "python",
    step: crate::param::Step::Hidden,
}];

/// Write the probe's files into `dir` (which goes first on PYTHONPATH).
pub fn write_probe(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in PROBE {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// The oldest Python the probe and the lecture's programs run on.
pub const OLDEST: (u32, u32) = (3, 9);

impl Interpreter {
    /// Ask `command` what it is; an interpreter that is missing or older
    /// than 3.9 is a user error naming `--python` and the config key.
    pub fn ask(command: &str) -> Result<Self> {
        // Without `site` (-S) and without json: the answer costs the
        // interpreter's bare start (7 ms here against 30), before every run.
        let code = "import sys; v = sys.version_info; print(sys.executable); \
                    print(v[0], v[1], v[2]); print(sys.implementation.name); \
                    print(int(getattr(sys, '_is_gil_enabled', lambda: True)()))";
        let fix = "choose one with --python EXE or [python] executable in the config";
        let out = Command::new(command)
            .args(["-S", "-c", code])
            .output()
            .map_err(|e| {
                UserError::new(format!("--python {command}: cannot run it ({e}): {fix}"))
            })?;
        let parsed = out
            .status
            .success()
            .then(|| parse_answer(&String::from_utf8_lossy(&out.stdout)))
            .flatten();
        let Some((executable, v, implementation, gil_enabled)) = parsed else {
            return Err(UserError::new(format!(
                "--python {command}: not a Python this can ask ({fix})"
            ))
            .into());
        };
        if (v[0], v[1]) < OLDEST {
            return Err(UserError::new(format!(
                "--python {command}: Python {}.{}.{} is older than {}.{}: {fix}",
                v[0], v[1], v[2], OLDEST.0, OLDEST.1
            ))
            .into());
        }
        Ok(Self {
            command: command.to_string(),
            executable,
            version: format!("{}.{}.{}", v[0], v[1], v[2]),
            implementation,
            gil_enabled,
        })
    }
}

/// The interpreter's answer: its executable, version, implementation and
/// whether its GIL is on, a line each.
fn parse_answer(text: &str) -> Option<(String, Vec<u32>, String, bool)> {
    let mut lines = text.lines();
    let executable = lines.next()?.to_string();
    let v: Vec<u32> = lines
        .next()?
        .split_whitespace()
        .map(|w| w.parse().ok())
        .collect::<Option<_>>()?;
    let implementation = lines.next()?.to_string();
    let gil = match lines.next()? {
        "1" => true,
        "0" => false,
        _ => return None,
    };
    (v.len() == 3 && !executable.is_empty()).then_some((executable, v, implementation, gil))
}

/// Everything that defines a Python run.
#[derive(Clone, Debug)]
pub struct PyPlan {
    pub program: Program,
    /// Stop the program (its whole process tree) after this long.
    pub timeout: Option<std::time::Duration>,
    /// Give the program no stdin (the TUI owns the terminal).
    pub stdin_null: bool,
    /// Read each process's GIL this many times a second (0: infer it).
    pub gil_hz: u32,
    /// Read each thread's Python stack this many times a second (0: no profile).
    pub profile_hz: u32,
}

impl PyPlan {
    /// A plan for `script` (a path, or `lecture:NAME`) run by `python`;
    /// a missing script or lecture program is a user error.
    pub fn new(python: &str, script: &str, args: Vec<String>) -> Result<Self> {
        let python = Interpreter::ask(python)?;
        source_of(script)?;
        Ok(Self::of(Program {
            script: script.to_string(),
            args,
            python,
        }))
    }

    /// A plan to run `program` as it is, on the defaults.
    pub fn of(program: Program) -> Self {
        Self {
            program,
            timeout: None,
            stdin_null: false,
            gil_hz: gil::DEFAULT_HZ,
            profile_hz: stacks::DEFAULT_HZ,
        }
    }
}

/// The script's text (a bundled program's) or its path on disk.
pub enum Source {
    Bundled(&'static crate::lecture::Script),
    File(PathBuf),
}

/// Where `script` is: a bundled program, or a file that exists.
pub fn source_of(script: &str) -> Result<Source> {
    if let Some(name) = script.strip_prefix("lecture:") {
        return Ok(Source::Bundled(crate::lecture::find(name).ok_or_else(
            || {
                let names: Vec<&str> = crate::lecture::SCRIPTS.iter().map(|s| s.name).collect();
                UserError::new(format!(
                    "no lecture program named '{name}': valid ones are {}",
                    names.join(", ")
                ))
            },
        )?));
    }
    let path = PathBuf::from(script);
    if !path.is_file() {
        return Err(UserError::new(format!(
            "{script}: no such script (or lecture:NAME, see parlab lecture)"
        ))
        .into());
    }
    Ok(Source::File(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interpreters_answer_is_read_line_by_line() {
        let a = parse_answer("/usr/bin/python3\n3 11 7\ncpython\n1\n").unwrap();
        assert_eq!(
            a,
            (
                "/usr/bin/python3".into(),
                vec![3, 11, 7],
                "cpython".into(),
                true
            )
        );
        let free = parse_answer("/p/python3.13t\n3 13 1\ncpython\n0\n").unwrap();
        assert!(!free.3);
        for bad in [
            "",
            "/p\n3 x 1\ncpython\n1\n",
            "/p\n3 11\ncpython\n1\n",
            "/p\n3 11 7\ncpython\nyes\n",
        ] {
            assert_eq!(parse_answer(bad), None, "{bad:?}");
        }
    }
}
