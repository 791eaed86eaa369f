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
pub mod interpreter;
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

pub use crate::plan::{Interpreter, Program};
pub use interpreter::OLDEST;
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

/// The probe's folder in parlab's cache, one per version of its text, so
/// Python compiles it once and not at every start of every process (a
/// pool's children too): about 6 ms each. Written only where a file is
/// missing or differs (a rewrite would make Python compile it again), each
/// through a rename, so parlabs starting together never read half a file.
/// None where there is no cache folder to write: the run writes its own.
pub fn cached_probe() -> Option<PathBuf> {
    probe_in(&crate::folders::platform_cache()?)
}

/// The probe's folder for this version of it, in `cache`.
fn probe_in(cache: &Path) -> Option<PathBuf> {
    let all: Vec<u8> = PROBE
        .iter()
        .flat_map(|(name, text)| [name.as_bytes(), text.as_bytes()])
        .flatten()
        .copied()
        .collect();
    let dir = cache.join(format!("probe-{}", &crate::trust::digest(&all)[..12]));
    if !dir.is_dir() {
        forget_old_probes(cache);
    }
    std::fs::create_dir_all(&dir).ok()?;
    for (name, text) in PROBE {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|b| b == text.as_bytes()) {
            continue;
        }
        let new = dir.join(format!("{name}.{}.new", std::process::id()));
        std::fs::write(&new, text).ok()?;
        std::fs::rename(&new, &path).ok()?;
    }
    Some(dir)
}

/// Remove the folders of earlier versions of the probe (another parlab's),
/// once a week old: a parlab still running one is unlikely to start new
/// processes from it after so long.
fn forget_old_probes(cache: &Path) {
    let week = std::time::Duration::from_secs(7 * 24 * 3600);
    for e in std::fs::read_dir(cache).into_iter().flatten().flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > week));
        if old && e.file_name().to_string_lossy().starts_with("probe-") {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
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
    fn the_cached_probe_is_written_once_and_mended_where_it_differs() {
        let cache = std::env::temp_dir().join(format!("parlab-probe-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&cache);
        let dir = probe_in(&cache).unwrap();
        let probe = dir.join("_parlab_probe.py");
        let written = std::fs::metadata(&probe).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(
            probe_in(&cache).unwrap(),
            dir,
            "one folder per version of the probe"
        );
        let again = std::fs::metadata(&probe).unwrap().modified().unwrap();
        assert_eq!(
            written, again,
            "an unchanged probe is not rewritten (its bytecode stays valid)"
        );
        std::fs::write(&probe, "broken").unwrap();
        probe_in(&cache).unwrap();
        for (name, text) in PROBE {
            assert_eq!(std::fs::read_to_string(dir.join(name)).unwrap(), text);
        }
        // An earlier version's folder, a week old, goes when a new one is made.
        let old = cache.join("probe-000000000000");
        std::fs::create_dir_all(&old).unwrap();
        let week_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(8 * 24 * 3600);
        std::fs::File::open(&old)
            .unwrap()
            .set_modified(week_ago)
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        probe_in(&cache).unwrap();
        assert!(!old.exists() && dir.is_dir());
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            left.len(),
            PROBE.len(),
            "no half-written files left: {left:?}"
        );
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
