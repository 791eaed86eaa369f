//! Where parlab keeps its own files: the platform's config folder and its
//! cache folder. Below the config, the trust store and the Python runs,
//! which keep files there.

use std::path::PathBuf;

/// `~/.config/parlab/config.toml` (Linux, `$XDG_CONFIG_HOME` honoured),
/// `~/Library/Application Support/parlab/config.toml` (macOS), `%APPDATA%\parlab\config.toml` (Windows).
pub fn platform_config() -> Option<PathBuf> {
    let dir = platform_dir(
        "Library/Application Support",
        "APPDATA",
        "XDG_CONFIG_HOME",
        ".config",
    )?;
    Some(dir.join("config.toml"))
}

/// `~/.cache/parlab` (Linux, `$XDG_CACHE_HOME` honoured), `~/Library/Caches/parlab`
/// (macOS), `%LOCALAPPDATA%\parlab` (Windows): what parlab may rebuild at any time.
pub fn platform_cache() -> Option<PathBuf> {
    platform_dir("Library/Caches", "LOCALAPPDATA", "XDG_CACHE_HOME", ".cache")
}

/// parlab's folder of one kind: under `mac` in the home folder (macOS), in
/// the folder `windows` names (Windows), else in the folder `xdg` names or
/// `home_default` in the home folder.
fn platform_dir(mac: &str, windows: &str, xdg: &str, home_default: &str) -> Option<PathBuf> {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    let dir = if cfg!(target_os = "macos") {
        home()?.join(mac)
    } else if cfg!(windows) {
        PathBuf::from(std::env::var_os(windows)?)
    } else {
        match std::env::var_os(xdg).filter(|v| !v.is_empty()) {
            Some(x) => PathBuf::from(x),
            None => home()?.join(home_default),
        }
    };
    Some(dir.join("parlab"))
}
