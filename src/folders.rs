//! Where parlab keeps its own files: the platform's config folder and its
//! cache folder. Below the config, the trust store and the Python runs,
//! which keep files there.

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

/// `~/.cache/parlab` (Linux, `$XDG_CACHE_HOME` honoured), `~/Library/Caches/parlab`
/// (macOS), `%LOCALAPPDATA%\parlab` (Windows): what parlab may rebuild at any time.
pub fn platform_cache() -> Option<PathBuf> {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    let dir = if cfg!(target_os = "macos") {
        home()?.join("Library/Caches")
    } else if cfg!(windows) {
        PathBuf::from(std::env::var_os("LOCALAPPDATA")?)
    } else {
        match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            Some(x) => PathBuf::from(x),
            None => home()?.join(".cache"),
        }
    };
    Some(dir.join("parlab"))
}
