//! `[server.pace]` and `[server] trusted_proxies`: how many requests one client may make
//! on the public routes, and which reverse proxies name the client in `X-Forwarded-For`.

use std::net::IpAddr;

use serde::Deserialize;

/// Requests a client may make: `burst` at once, then `per_minute` sustained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pace {
    pub burst: u32,
    pub per_minute: u32,
}

impl Pace {
    /// Tokens refilled a second.
    pub fn per_second(self) -> f64 {
        f64::from(self.per_minute) / 60.0
    }
}

/// The per-client pace of the public routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicPace {
    /// `/c/<comune>`, `/try` and the login page, per address: a person reading pages.
    pub pages: Pace,
    /// `POST /staff/login`, per address: a few mistyped passwords, never a guessing run.
    pub login: Pace,
    /// The simulator's messages, per address: a few people behind one router.
    pub simulator: Pace,
    /// The simulator's messages, per browser session: a person typing.
    pub simulator_session: Pace,
    /// Reverse proxies whose `X-Forwarded-For` names the client; a request from any other
    /// peer is that peer's, whatever its headers say.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for PublicPace {
    fn default() -> PublicPace {
        PublicPace {
            pages: Pace {
                burst: 60,
                per_minute: 120,
            },
            login: Pace {
                burst: 10,
                per_minute: 6,
            },
            simulator: Pace {
                burst: 30,
                per_minute: 120,
            },
            simulator_session: Pace {
                burst: 10,
                per_minute: 30,
            },
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[server.pace]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPace {
    pages: Option<Pace>,
    login: Option<Pace>,
    simulator: Option<Pace>,
    simulator_session: Option<Pace>,
}

impl RawPace {
    /// Checks every value; `Err((key, reason))` names the first wrong one.
    pub(super) fn validate(self, proxies: Option<Vec<String>>) -> Result<PublicPace, (String, String)> {
        let d = PublicPace::default();
        let check = |name: &str, given: Option<Pace>, default: Pace| {
            match given {
            None => Ok(default),
            Some(p) if (1..=100_000).contains(&p.burst) && (1..=1_000_000).contains(&p.per_minute) => Ok(p),
            Some(p) => Err((
                name.to_string(),
                format!(
                    "server.pace.{name} {{ burst = {}, per_minute = {} }}: burst must be 1 to 100000 and per_minute 1 to 1000000",
                    p.burst, p.per_minute
                ),
            )),
        }
        };
        let mut trusted_proxies = Vec::new();
        for p in proxies.unwrap_or_default() {
            match p.trim().parse::<IpAddr>() {
                Ok(ip) => trusted_proxies.push(ip),
                Err(_) => {
                    return Err((
                        "trusted_proxies".into(),
                        format!("server.trusted_proxies: \"{p}\" is not an IP address"),
                    ))
                }
            }
        }
        Ok(PublicPace {
            pages: check("pages", self.pages, d.pages)?,
            login: check("login", self.login, d.login)?,
            simulator: check("simulator", self.simulator, d.simulator)?,
            simulator_session: check("simulator_session", self.simulator_session, d.simulator_session)?,
            trusted_proxies,
        })
    }
}
