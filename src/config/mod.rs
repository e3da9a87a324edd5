//! Configuration: one TOML file (`--config FILE`), validated once at start.
//!
//! `RawConfig` is the file as written (serde defaults, unknown keys refused); [`Config`] is
//! what the rest of sportello reads. A bad value prints one readable line with the file and
//! line. Secrets are never read from here: they come from the environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod check;
pub use check::MAX_ARMS;
mod memory;
pub use memory::Memory;
mod pace;
mod secrets;
pub use check::Origin;
pub use pace::{Pace, PublicPace};
use secrets::env_suffix;
pub use secrets::Secrets;

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
    /// `sled` (default) or `postgres`.
    storage: Option<String>,
    /// What the service is given (`256MiB`, `1GiB`): see [`Memory`].
    memory: Option<String>,
    #[serde(default)]
    postgres: RawPostgres,
    #[serde(default)]
    paths: RawPaths,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    whatsapp: RawWhatsapp,
    #[serde(default)]
    telegram: RawTelegram,
    #[serde(default)]
    comuni: BTreeMap<String, RawComune>,
    #[serde(default)]
    console: RawConsole,
    #[serde(default)]
    broadcast: RawBroadcast,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBroadcast {
    whatsapp_per_second: Option<u32>,
    telegram_per_second: Option<u32>,
    pause_minutes: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsole {
    release_after_minutes: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPostgres {
    connections: Option<usize>,
    /// `one-active` (default) or `all-active`.
    processes: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    bind: Option<String>,
    public_url: Option<String>,
    header_timeout_seconds: Option<u64>,
    max_connections: Option<usize>,
    max_connections_per_address: Option<usize>,
    trusted_proxies: Option<Vec<String>>,
    #[serde(default)]
    pace: pace::RawPace,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhatsapp {
    graph_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTelegram {
    api_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComune {
    whatsapp_phone_number_id: Option<String>,
    whatsapp_number: Option<String>,
    telegram_bot: Option<String>,
    #[serde(default)]
    broadcast_templates: BTreeMap<String, String>,
    arms: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaths {
    data: Option<PathBuf>,
    flows: Option<PathBuf>,
    locales: Option<PathBuf>,
}

/// Limits of the server's accept loop (`[server]`; `server/listen.rs` applies them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// A request head must arrive within this; an idle connection is closed after it.
    pub header_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one address.
    pub per_address: usize,
}

impl Default for Listen {
    fn default() -> Listen {
        Listen {
            header_timeout: Duration::from_secs(10),
            max_connections: 4096,
            per_address: 256,
        }
    }
}

/// A comune's channels and coat of arms, as configured (secrets are not here: see
/// [`Secrets`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComuneChannels {
    /// WhatsApp Cloud API phone number id: inbound webhooks are routed by it.
    pub whatsapp_phone_number_id: Option<String>,
    /// The number citizens write to, digits with country code (click-to-chat links).
    pub whatsapp_number: Option<String>,
    /// The Telegram bot's username, without @ (t.me links).
    pub telegram_bot: Option<String>,
    /// WhatsApp: the comune's approved template for broadcasts outside the 24-hour window,
    /// by language code; its body has one parameter, the operator's text.
    pub broadcast_templates: BTreeMap<String, String>,
    /// The comune's coat of arms (a PNG, JPEG or SVG file), shown in its pages' header band.
    pub arms: Option<PathBuf>,
}

/// Broadcast pacing.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastConfig {
    /// Messages a second per WhatsApp sending number (Meta's default throughput: 80).
    pub whatsapp_per_second: u32,
    /// Messages a second per Telegram bot (Telegram: about 30 without paid broadcasts).
    pub telegram_per_second: u32,
    /// How long a number's sending stops after WhatsApp 368 / 131031 (account restricted).
    pub pause_minutes: u32,
}

impl Default for BroadcastConfig {
    fn default() -> BroadcastConfig {
        BroadcastConfig {
            whatsapp_per_second: 80,
            telegram_per_second: 30,
            pause_minutes: 60,
        }
    }
}

/// Where the data lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StorageKind {
    /// The embedded sled database in the data directory.
    #[default]
    Sled,
    /// A PostgreSQL server; its URL comes from `SPORTELLO_DATABASE_URL` (a secret).
    Postgres,
}

/// How several `sportello serve` processes on one PostgreSQL database share the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Processes {
    /// One serves, the others stand by (503) and take over when it goes (the serve lock).
    #[default]
    OneActive,
    /// Every process serves: citizens' steps under shared locks, replies claimed, broadcast
    /// numbers owned by one process at a time (`server::shared`).
    AllActive,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub storage: StorageKind,
    /// The memory the service is given: its caches, queues and threads follow.
    pub memory: Memory,
    /// Connections to PostgreSQL (one worker thread each).
    pub postgres_connections: usize,
    /// With PostgreSQL, how several `serve` processes on one database share the work.
    pub processes: Processes,
    pub bind: String,
    /// Where citizens reach this server (links on the subscribe page).
    pub public_url: String,
    /// The accept loop's limits (`[server]`: header timeout, connection caps).
    pub listen: Listen,
    /// The per-client pace of the public routes (`[server.pace]`, `trusted_proxies`).
    pub pace: PublicPace,
    pub graph_url: String,
    pub telegram_url: String,
    pub comuni: BTreeMap<String, ComuneChannels>,
    /// A conversation held by an operator without activity for this long returns to the queue.
    pub release_after_minutes: u32,
    pub broadcast: BroadcastConfig,
    /// The data directory; `None` means the default `./data`.
    pub data: Option<PathBuf>,
    /// The flows folder; `None` means `./flows` if present, else the built-in flows.
    pub flows: Option<PathBuf>,
    /// The locales folder; `None` means `./locales` if present, else the built-in ones.
    pub locales: Option<PathBuf>,
    /// The file it was read from, to name the line of a mistake found later
    /// ([`Config::check_serving`]); `None` for the built-in default.
    pub origin: Option<Origin>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            storage: StorageKind::Sled,
            memory: Memory::default(),
            postgres_connections: crate::storage::postgres::DEFAULT_CONNECTIONS,
            processes: Processes::OneActive,
            bind: DEFAULT_BIND.into(),
            public_url: format!("http://{DEFAULT_BIND}"),
            listen: Default::default(),
            pace: PublicPace::default(),
            graph_url: DEFAULT_GRAPH_URL.into(),
            telegram_url: DEFAULT_TELEGRAM_URL.into(),
            comuni: BTreeMap::new(),
            release_after_minutes: DEFAULT_RELEASE_AFTER_MINUTES,
            broadcast: BroadcastConfig::default(),
            data: None,
            flows: None,
            locales: None,
            origin: None,
        }
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_RELEASE_AFTER_MINUTES: u32 = 30;
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com/v25.0";
pub const DEFAULT_TELEGRAM_URL: &str = "https://api.telegram.org";

impl Config {
    /// Reads and validates `file`. Relative paths in it are relative to the file's folder.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let name = file.display().to_string();
        let src = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: name.clone(),
            source,
        })?;
        let raw: RawConfig = toml::from_str(&src).map_err(|e| ConfigError::Invalid {
            file: name.clone(),
            line: e.span().map(|s| src[..s.start].matches('\n').count() + 1).unwrap_or(0),
            reason: e.message().trim().to_string(),
        })?;
        let base = file.parent().unwrap_or(Path::new("."));
        let rel = |p: Option<PathBuf>| p.map(|p| if p.is_relative() { base.join(p) } else { p });
        let invalid = |needle: &str, reason: String| ConfigError::Invalid {
            file: name.clone(),
            line: check::line_of(&src, needle),
            reason,
        };
        let bind = raw.server.bind.unwrap_or_else(|| DEFAULT_BIND.into());
        if bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "bind",
                format!("server.bind \"{bind}\" is not an address:port"),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (id, c) in &raw.comuni {
            if let Some(p) = &c.whatsapp_phone_number_id {
                if !seen.insert(p.clone()) {
                    return Err(invalid(
                        p,
                        format!("phone_number_id {p} is given to two comuni (the second: {id})"),
                    ));
                }
            }
        }
        let storage = match raw.storage.as_deref() {
            None | Some("sled") => StorageKind::Sled,
            Some("postgres") => StorageKind::Postgres,
            Some(other) => {
                return Err(invalid(
                    "storage",
                    format!("storage \"{other}\" is not one of \"sled\", \"postgres\""),
                ))
            }
        };
        let memory = match raw.memory.as_deref() {
            None => Memory::default(),
            Some(text) => Memory::parse(text).map_err(|reason| invalid("memory", reason))?,
        };
        let postgres_connections = match raw.postgres.connections {
            None => crate::storage::postgres::DEFAULT_CONNECTIONS,
            Some(n @ 1..=64) => n,
            Some(n) => {
                return Err(invalid(
                    "connections",
                    format!("postgres.connections {n} is not between 1 and 64"),
                ))
            }
        };
        let processes = match raw.postgres.processes.as_deref() {
            None | Some("one-active") => Processes::OneActive,
            Some("all-active") => Processes::AllActive,
            Some(other) => {
                return Err(invalid(
                    "processes",
                    format!("postgres.processes \"{other}\" is not one of \"one-active\", \"all-active\""),
                ))
            }
        };
        if let Some(url) = &raw.server.public_url {
            if !url.starts_with("https://") && !loopback_url(url) {
                return Err(invalid(
                    "public_url",
                    format!("server.public_url \"{url}\" is not https:// (citizens and staff reach it over the internet; plain http is allowed only for 127.0.0.1, [::1] and localhost)"),
                ));
            }
        }
        let public_url = raw.server.public_url.unwrap_or_else(|| format!("http://{bind}"));
        let d = Listen::default();
        let header_timeout = match raw.server.header_timeout_seconds {
            None => d.header_timeout,
            Some(n @ 1..=300) => Duration::from_secs(n),
            Some(n) => {
                return Err(invalid(
                    "header_timeout_seconds",
                    format!("server.header_timeout_seconds {n} is not between 1 and 300"),
                ))
            }
        };
        let max_connections = match raw.server.max_connections {
            None => d.max_connections,
            Some(n @ 16..=1_000_000) => n,
            Some(n) => {
                return Err(invalid(
                    "max_connections",
                    format!("server.max_connections {n} is not between 16 and 1000000"),
                ))
            }
        };
        let per_address = match raw.server.max_connections_per_address {
            None => d.per_address.min(max_connections),
            Some(n) if (1..=max_connections).contains(&n) => n,
            Some(n) => {
                return Err(invalid(
                    "max_connections_per_address",
                    format!(
                    "server.max_connections_per_address {n} is not between 1 and max_connections ({max_connections})"
                ),
                ))
            }
        };
        let listen = Listen {
            header_timeout,
            max_connections,
            per_address,
        };
        let pace = raw
            .server
            .pace
            .validate(raw.server.trusted_proxies)
            .map_err(|(key, reason)| invalid(&key, reason))?;
        Ok(Config {
            listen,
            pace,
            storage,
            memory,
            postgres_connections,
            processes,
            bind,
            public_url: public_url.trim_end_matches('/').to_string(),
            graph_url: raw
                .whatsapp
                .graph_url
                .unwrap_or_else(|| DEFAULT_GRAPH_URL.into())
                .trim_end_matches('/')
                .into(),
            telegram_url: raw
                .telegram
                .api_url
                .unwrap_or_else(|| DEFAULT_TELEGRAM_URL.into())
                .trim_end_matches('/')
                .into(),
            comuni: raw
                .comuni
                .into_iter()
                .map(|(id, c)| {
                    let channels = ComuneChannels {
                        whatsapp_phone_number_id: c.whatsapp_phone_number_id,
                        whatsapp_number: c
                            .whatsapp_number
                            .map(|n| n.chars().filter(char::is_ascii_digit).collect()),
                        telegram_bot: c.telegram_bot.map(|b| b.trim_start_matches('@').to_string()),
                        broadcast_templates: c.broadcast_templates,
                        arms: c.arms,
                    };
                    (id, channels)
                })
                .collect(),
            release_after_minutes: raw
                .console
                .release_after_minutes
                .unwrap_or(DEFAULT_RELEASE_AFTER_MINUTES)
                .max(1),
            broadcast: {
                let d = BroadcastConfig::default();
                BroadcastConfig {
                    whatsapp_per_second: raw
                        .broadcast
                        .whatsapp_per_second
                        .unwrap_or(d.whatsapp_per_second)
                        .max(1),
                    telegram_per_second: raw
                        .broadcast
                        .telegram_per_second
                        .unwrap_or(d.telegram_per_second)
                        .max(1),
                    pause_minutes: raw.broadcast.pause_minutes.unwrap_or(d.pause_minutes),
                }
            },
            data: rel(raw.paths.data),
            flows: rel(raw.paths.flows),
            locales: rel(raw.paths.locales),
            origin: Some(Origin { file: name, text: src }),
        })
    }
}

/// Whether `url` is a plain-http address on this machine only.
fn loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The content type of a coat of arms file, by its extension.
pub fn arms_kind(path: &std::path::Path) -> Result<&'static str, String> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok("image/png"),
        Some("jpg" | "jpeg") => Ok("image/jpeg"),
        Some("svg") => Ok("image/svg+xml"),
        _ => Err("not a .png, .jpg or .svg file".into()),
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
        assert_eq!(c.broadcast.whatsapp_per_second, 80);
        let brusson = &c.comuni["brusson"].broadcast_templates;
        assert!(brusson.contains_key("it") && brusson.contains_key("fr"), "{brusson:?}");
        assert_eq!((c.storage, c.postgres_connections), (StorageKind::Sled, 2));
        assert_eq!(c.pace, PublicPace::default(), "the example shows the defaults");
    }

    #[test]
    fn the_pace_of_the_public_routes_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "[server]\ntrusted_proxies = [\"127.0.0.1\", \"::1\"]\n[server.pace]\nlogin = { burst = 3, per_minute = 2 }\n",
        )
        .unwrap();
        let c = Config::load(&f).unwrap();
        assert_eq!(
            c.pace.login,
            Pace {
                burst: 3,
                per_minute: 2
            }
        );
        assert_eq!(c.pace.pages, PublicPace::default().pages);
        assert_eq!(c.pace.trusted_proxies.len(), 2);
        for (bad, says) in [
            (
                "[server.pace]\npages = { burst = 0, per_minute = 2 }\n",
                "server.pace.pages",
            ),
            ("[server.pace]\nlogin = { burst = 1 }\n", "per_minute"),
            ("[server]\ntrusted_proxies = [\"proxy.local\"]\n", "not an IP address"),
            ("[server.pace]\npage = { burst = 1, per_minute = 1 }\n", "page"),
        ] {
            std::fs::write(&f, bad).unwrap();
            let e = Config::load(&f).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn storage_is_sled_or_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "storage = \"postgres\"\n[postgres]\nconnections = 2\n").unwrap();
        assert_eq!(Config::load(&f).unwrap().processes, Processes::OneActive);
        std::fs::write(&f, "[postgres]\nprocesses = \"all-active\"\n").unwrap();
        assert_eq!(Config::load(&f).unwrap().processes, Processes::AllActive);
        std::fs::write(&f, "[postgres]\nprocesses = \"many\"\n").unwrap();
        assert!(Config::load(&f).unwrap_err().to_string().contains("one-active"));
        std::fs::write(&f, "storage = \"postgres\"\n[postgres]\nconnections = 2\n").unwrap();
        let c = Config::load(&f).unwrap();
        assert_eq!((c.storage, c.postgres_connections), (StorageKind::Postgres, 2));
        std::fs::write(&f, "storage = \"mysql\"\n").unwrap();
        let e = Config::load(&f).unwrap_err().to_string();
        assert!(e.contains("c.toml:1:") && e.contains("mysql"), "{e}");
    }

    #[test]
    fn one_phone_number_id_for_two_comuni_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "[comuni.isili]\nwhatsapp_phone_number_id = \"1\"\n[comuni.madone]\nwhatsapp_phone_number_id = \"1\"\n",
        )
        .unwrap();
        let e = Config::load(&f).unwrap_err().to_string();
        assert!(e.contains("two comuni"), "{e}");
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
