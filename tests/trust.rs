//! A folder's parlab.toml never runs a program on its own: its settings that
//! name one are refused until the user trusts the file as it is. Each test
//! works in a fresh folder with a temporary config folder, never the user's.
#![cfg(unix)]

mod common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A course folder whose parlab.toml names a script that leaves a mark.
struct Folder {
    dir: PathBuf,
    home: PathBuf,
}

impl Folder {
    fn new(name: &str) -> Self {
        let base = std::env::temp_dir().join(format!("parlab-trust-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (dir, home) = (base.join("course"), base.join("home"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            dir.join("x.sh"),
            "echo ran > \"$(dirname \"$0\")/written.txt\"\necho \"Task \\\"$1\\\" completed in $2 units\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("parlab.toml"),
            "[shell]\nscript = \"x.sh\"\nunit_ms = 1\ncount = 1\n",
        )
        .unwrap();
        Self { dir, home }
    }

    /// parlab in the folder, with the temporary config folder.
    fn parlab(&self, args: &[&str]) -> Output {
        Command::new(common::BIN)
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env_remove("PARLAB_CONFIG")
            .output()
            .unwrap()
    }

    fn marked(&self) -> bool {
        let mark = self.dir.join("written.txt");
        let there = mark.exists();
        let _ = std::fs::remove_file(mark);
        there
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_untrusted_folder_file_runs_no_program_until_trusted_and_again_after_an_edit() {
    let f = Folder::new("cycle");
    let out = f.parlab(&["run", "--workload", "shell"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for needle in ["parlab.toml", "line 2", "script", "parlab trust"] {
        assert!(err.contains(needle), "'{needle}' missing: {err}");
    }
    assert!(!f.marked(), "the script ran without trust");

    // Its other settings still load, and a run that names no program goes ahead.
    let out = f.parlab(&["run", "--workload", "collatz", "--size", "1000"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = f.parlab(&["trust"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = f.parlab(&["run", "--workload", "shell"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(f.marked(), "the trusted script ran");

    // An edit makes it untrusted again.
    let toml = f.dir.join("parlab.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{text}# edited\n")).unwrap();
    let out = f.parlab(&["run", "--workload", "shell"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!f.marked());
    let listed = String::from_utf8(f.parlab(&["trust", "--list"]).stdout).unwrap();
    assert!(listed.contains("no longer trusted"), "{listed}");
}

#[test]
fn list_and_revoke_say_what_is_trusted() {
    let f = Folder::new("list");
    let none = f.parlab(&["trust", "--list"]);
    assert_eq!(String::from_utf8_lossy(&none.stdout), "no trusted files\n");
    assert!(f.parlab(&["trust", "parlab.toml"]).status.success());
    let listed = String::from_utf8(f.parlab(&["trust", "--list"]).stdout).unwrap();
    let abs = std::fs::canonicalize(f.dir.join("parlab.toml")).unwrap();
    assert!(
        listed.contains(&abs.display().to_string()) && listed.contains("  trusted"),
        "{listed}"
    );
    assert!(f
        .parlab(&["trust", "--revoke", "parlab.toml"])
        .status
        .success());
    let out = f.parlab(&["run", "--workload", "shell"]);
    assert_eq!(out.status.code(), Some(2), "revoked: {}", stderr(&out));
    let again = f.parlab(&["trust", "--revoke", "parlab.toml"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("not trusted"));
    let missing = f.parlab(&["trust", "nope.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nope.toml"));
}

#[test]
fn the_users_own_choices_are_trusted_as_they_are() {
    let f = Folder::new("chosen");
    let toml = f.dir.join("parlab.toml");
    let as_flag = f.parlab(&[
        "--config",
        &toml.display().to_string(),
        "run",
        "--workload",
        "shell",
    ]);
    assert!(as_flag.status.success(), "{}", stderr(&as_flag));
    assert!(f.marked());
    let via_env = Command::new(common::BIN)
        .args(["run", "--workload", "shell"])
        .current_dir(&f.dir)
        .env("HOME", &f.home)
        .env("XDG_CONFIG_HOME", f.home.join(".config"))
        .env("PARLAB_CONFIG", &toml)
        .output()
        .unwrap();
    assert!(via_env.status.success(), "{}", stderr(&via_env));
    assert!(f.marked());
    // The user's own config file, found in their config folder.
    let own = f.home.join(".config/parlab");
    std::fs::create_dir_all(&own).unwrap();
    let script = f.dir.join("x.sh");
    std::fs::write(
        own.join("config.toml"),
        format!(
            "[shell]\nscript = \"{}\"\nunit_ms = 1\ncount = 1\n",
            script.display()
        ),
    )
    .unwrap();
    std::fs::remove_file(&toml).unwrap();
    let from_home = f.parlab(&["run", "--workload", "shell"]);
    assert!(from_home.status.success(), "{}", stderr(&from_home));
    assert!(f.marked());
}

#[test]
fn a_flag_naming_a_script_is_the_users_own() {
    let f = Folder::new("flag");
    let script: &Path = &f.dir.join("x.sh");
    let out = f.parlab(&[
        "run",
        "--workload",
        "shell",
        "--script",
        &script.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(f.marked());
}
