//! Trusting a folder's `parlab.toml`. A course repository can ship one, and
//! a setting there can name a program to run (the shell workload's script;
//! Python's interpreter next). Such settings are taken from `./parlab.toml`
//! only once the user has trusted that file, as direnv's `allow` does:
//! `parlab trust` records its path and the SHA-256 of its content in the
//! user's config folder, and any change to the file needs trusting again.
//! `--config FILE`, `$PARLAB_CONFIG` and the user's own config file are the
//! user's choice and trusted as they are.

use crate::UserError;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One trusted file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its absolute path.
    pub path: PathBuf,
    /// The SHA-256 of its content when it was trusted, in hex.
    pub sha256: String,
}

/// Every trusted file, as kept in `<config folder>/parlab/trusted.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    #[serde(default, rename = "file")]
    pub files: Vec<Entry>,
}

/// Where the store lives: beside the user's own config file.
pub fn store_path() -> Option<PathBuf> {
    Some(
        crate::folders::platform_config()?
            .parent()?
            .join("trusted.toml"),
    )
}

/// The SHA-256 of a file's content, in hex.
pub fn digest(text: &[u8]) -> String {
    Sha256::digest(text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path)
        .map_err(|e| UserError::new(format!("cannot trust '{}': {e}", path.display())).into())
}

impl Store {
    /// The store as saved (empty if there is none yet).
    pub fn load() -> Result<Self> {
        let Some(path) = store_path() else {
            return Ok(Self::default());
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                UserError::new(format!(
                    "{}: {} (remove the file to start afresh)",
                    path.display(),
                    e.message()
                ))
                .into()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn save(&self) -> Result<PathBuf> {
        let path = store_path().ok_or_else(|| {
            UserError::new("no config folder to keep trusted files in (set HOME)")
        })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, toml::to_string(self)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// Whether `path`, with exactly this content, is trusted.
    pub fn trusts(&self, path: &Path, text: &[u8]) -> bool {
        let Ok(abs) = std::fs::canonicalize(path) else {
            return false;
        };
        let sha = digest(text);
        self.files.iter().any(|e| e.path == abs && e.sha256 == sha)
    }

    /// Trust `path` as it is now (replacing an older entry for it).
    pub fn trust(&mut self, path: &Path) -> Result<Entry> {
        let abs = absolute(path)?;
        let text = std::fs::read(&abs).with_context(|| format!("cannot read {}", abs.display()))?;
        let entry = Entry {
            path: abs.clone(),
            sha256: digest(&text),
        };
        self.files.retain(|e| e.path != abs);
        self.files.push(entry.clone());
        self.save()?;
        Ok(entry)
    }

    /// Forget `path`; whether it was trusted.
    pub fn revoke(&mut self, path: &Path) -> Result<bool> {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let before = self.files.len();
        self.files.retain(|e| e.path != abs);
        let removed = self.files.len() != before;
        if removed {
            self.save()?;
        }
        Ok(removed)
    }

    /// Every entry, one line each, saying whether the file still matches.
    pub fn list(&self) -> String {
        if self.files.is_empty() {
            return "no trusted files\n".into();
        }
        self.files
            .iter()
            .map(|e| {
                let now = match std::fs::read(&e.path) {
                    Ok(text) if digest(&text) == e.sha256 => "trusted",
                    Ok(_) => "changed since: no longer trusted",
                    Err(_) => "missing",
                };
                format!("{}  {}  {now}\n", e.path.display(), &e.sha256[..12])
            })
            .collect()
    }
}
