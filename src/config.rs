//! Configuration: one TOML file (`--config FILE`), validated once at start.
//!
//! `RawConfig` is the file as written (serde defaults, unknown keys refused); [`Config`] is
//! what the rest of sportello reads. A bad value prints one readable line with the file and
//! line. Secrets are never read from here: they come from the environment.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("{file}:{line}: {reason}")]
    Invalid { file: String, line: usize, reason: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    paths: RawPaths,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaths {
    data: Option<PathBuf>,
    flows: Option<PathBuf>,
    locales: Option<PathBuf>,
}

/// The validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The data directory; `None` means the default `./data`.
    pub data: Option<PathBuf>,
    /// The flows folder; `None` means `./flows` if present, else the built-in flows.
    pub flows: Option<PathBuf>,
    /// The locales folder; `None` means `./locales` if present, else the built-in ones.
    pub locales: Option<PathBuf>,
}

impl Config {
    /// Reads and validates `file`. Relative paths in it are relative to the file's folder.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let name = file.display().to_string();
        let src = std::fs::read_to_string(file).map_err(|source| ConfigError::Read { file: name.clone(), source })?;
        let raw: RawConfig = toml::from_str(&src).map_err(|e| ConfigError::Invalid {
            file: name.clone(),
            line: e.span().map(|s| src[..s.start].matches('\n').count() + 1).unwrap_or(0),
            reason: e.message().trim().to_string(),
        })?;
        let base = file.parent().unwrap_or(Path::new("."));
        let rel = |p: Option<PathBuf>| p.map(|p| if p.is_relative() { base.join(p) } else { p });
        Ok(Config { data: rel(raw.paths.data), flows: rel(raw.paths.flows), locales: rel(raw.paths.locales) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_valid_and_relative_paths_follow_the_file() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
        let c = Config::load(&example).unwrap();
        assert_eq!(c.data.unwrap(), Path::new(env!("CARGO_MANIFEST_DIR")).join("./data"));
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[paths]\ndata = \"x\"\ndatta = \"y\"\n").unwrap();
        let e = Config::load(&f).unwrap_err().to_string();
        assert!(e.contains("c.toml:3:") && e.contains("datta"), "{e}");
    }
}
