//! Which Python a run uses: its executable, version, implementation and
//! whether its GIL is on, asked of the interpreter itself. The answer is
//! kept in parlab's cache for an interpreter that is a file of its own (not
//! a script such as a pyenv shim, whose answer depends on the folder and
//! the environment), keyed by that file's size and time: asking costs a
//! whole start of the interpreter, before every run of a sweep or lesson.

use crate::plan::Interpreter;
use crate::UserError;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

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
        // A kept answer, else the interpreter's own (kept if it parses).
        let kept_at = answer_key(command).and_then(|k| Some((answer_file(&k)?, k)));
        let answer = match kept_at.as_ref().and_then(|(f, k)| read_answer(f, k)) {
            Some(a) => Some(a),
            None => {
                let out = Command::new(command)
                    .args(["-S", "-c", code])
                    .output()
                    .map_err(|e| {
                        UserError::new(format!("--python {command}: cannot run it ({e}): {fix}"))
                    })?;
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let answer = out.status.success().then_some(text);
                if let (Some((file, key)), Some(text)) = (&kept_at, &answer) {
                    if parse_answer(text).is_some() {
                        keep_answer(file, key, text);
                    }
                }
                answer
            }
        };
        let parsed = answer.as_deref().and_then(parse_answer);
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

/// What identifies `command`'s answer, or None where it cannot be kept: the
/// file it names (found on the PATH as the OS would), that file's target
/// with its size and time, and `PYTHON_GIL` (a free-threaded build's GIL
/// follows it). None for a script: a shim answers for another interpreter.
fn answer_key(command: &str) -> Option<String> {
    let path = std::path::absolute(find_command(command)?).ok()?;
    let real = std::fs::canonicalize(&path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    let mut head = [0u8; 2];
    std::io::Read::read_exact(&mut std::fs::File::open(&real).ok()?, &mut head).ok()?;
    if &head == b"#!" {
        return None;
    }
    let time = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{}\n{}\n{}\n{}\n{:?}",
        path.display(),
        real.display(),
        meta.len(),
        time.as_nanos(),
        std::env::var_os("PYTHON_GIL")
    ))
}

/// The file `command` runs: itself when it names a path, else the first
/// match on the PATH.
fn find_command(command: &str) -> Option<PathBuf> {
    let named = Path::new(command);
    if named.components().count() > 1 {
        return named.is_file().then(|| named.to_path_buf());
    }
    on_path(command, &std::env::var_os("PATH")?)
}

/// The first file named `command` the OS would run in the folders of `path`.
fn on_path(command: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    // Appended, never replacing: `python3.11` is not `python3`.
    let suffixes: &[&str] = if cfg!(windows) { &[".exe", ""] } else { &[""] };
    std::env::split_paths(path).find_map(|dir| {
        suffixes
            .iter()
            .map(|s| dir.join(format!("{command}{s}")))
            .find(|p| runnable(p))
    })
}

/// A file the OS would run (Unix: one with an execute bit).
fn runnable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    let runs = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0;
    #[cfg(not(unix))]
    let runs = true;
    meta.is_file() && runs
}

/// Where the answer for `key` is kept.
fn answer_file(key: &str) -> Option<PathBuf> {
    let hex = &crate::trust::digest(key.as_bytes())[..24];
    Some(crate::folders::platform_cache()?.join("python").join(hex))
}

/// A kept answer: the key it was kept for, a blank line, the answer.
fn read_answer(file: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let (kept_for, answer) = text.split_once("\n\n")?;
    (kept_for == key).then(|| answer.to_string())
}

/// Keep an answer (through a rename: parlabs asking together never read
/// half of one). A cache that cannot be written is no error.
fn keep_answer(file: &Path, key: &str, answer: &str) {
    let new = file.with_extension(format!("{}.new", std::process::id()));
    let kept = file
        .parent()
        .is_some_and(|d| std::fs::create_dir_all(d).is_ok())
        && std::fs::write(&new, format!("{key}\n\n{answer}")).is_ok()
        && std::fs::rename(&new, file).is_ok();
    if !kept {
        let _ = std::fs::remove_file(&new);
    }
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

    #[test]
    fn an_answer_is_kept_for_a_file_of_its_own_and_read_for_its_key_only() {
        let dir = std::env::temp_dir().join(format!("parlab-ask-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let shim = dir.join("python3");
        std::fs::write(&shim, "#!/bin/sh\nexec python3 \"$@\"\n").unwrap();
        assert_eq!(
            answer_key(shim.to_str().unwrap()),
            None,
            "a shim answers for another"
        );
        let binary = dir.join("python3-binary");
        std::fs::write(&binary, b"\x7fELF....").unwrap();
        let key = answer_key(binary.to_str().unwrap()).expect("a file of its own is kept");
        std::fs::write(&binary, b"\x7fELF.....").unwrap();
        let changed = answer_key(binary.to_str().unwrap()).unwrap();
        assert_ne!(key, changed, "a rebuilt interpreter is asked again");
        let file = dir.join("kept");
        keep_answer(&file, &key, "/p\n3 11 7\ncpython\n1\n");
        assert_eq!(
            read_answer(&file, &key).as_deref(),
            Some("/p\n3 11 7\ncpython\n1\n")
        );
        assert_eq!(read_answer(&file, &changed), None);
        assert_eq!(answer_key(dir.join("missing").to_str().unwrap()), None);
        // Found on the PATH by its whole name: `python3.11` is not `python3`.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let versioned = dir.join("python3.11");
            std::fs::copy(&binary, &versioned).unwrap();
            std::fs::set_permissions(&versioned, std::fs::Permissions::from_mode(0o755)).unwrap();
            let path = std::env::join_paths([&dir]).unwrap();
            assert_eq!(on_path("python3.11", &path), Some(versioned));
            assert_eq!(on_path("python3", &path), None, "no execute bit: not run");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
