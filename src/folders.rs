//! Where parlab keeps its own files: the platform's config folder. Below
//! the config and the trust store, which both keep files there.

use std::path::PathBuf;

/// `~/.config/parlab/config.toml` (Linux, `$XDG_CONFIG_HOME` honoured),
/// `~/Library/Application Support/parlab/config.toml` (macOS), `%APPDATA%\parlab\config.toml` (Windows).
pub fn platform_config() -> Option<PathBuf> {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    let dir = if cfg!(target_os = "macos") {
        home()?.join("Library/Application Support")
    } else if cfg!(windows) {
        PathBuf::from(std::env::var_os("APPDATA")?)
    } else {
        match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            Some(x) => PathBuf::from(x),
            None => home()?.join(".config"),
        }
    };
    Some(dir.join("parlab").join("config.toml"))
}
