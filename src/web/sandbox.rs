//! The simulator's sandbox: `/try` citizens live here, in memory, apart from real citizens.
//!
//! They never touch the store, the staff inbox, the consent ledger or the reports; their
//! records expire after [`IDLE`] and there are at most [`MAX_SESSIONS`] of them (the least
//! recently used goes first), so a flood of distinct sessions churns a bounded map instead
//! of growing the database. Each session and each address has its own token bucket: past
//! it the simulator answers 429 with `Retry-After`.
//!
//! Must not: write anything durable, know a real citizen.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{Pace, PublicPace};
use crate::dialogue::Citizen;
use crate::server::limits::Bucket;

/// Simulator sessions kept at once.
pub const MAX_SESSIONS: usize = 2_000;
/// A session not used for this long is forgotten.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// Addresses whose buckets are kept at once (the oldest full bucket goes first).
const MAX_ADDRESSES: usize = 10_000;

struct Session {
    citizen: Option<Citizen>,
    used: Instant,
    bucket: Bucket,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<(String, String), Session>,
    addresses: HashMap<IpAddr, Bucket>,
}

/// The sandbox. One per server (the `/try` routes hold it).
#[derive(Default)]
pub struct Sandbox {
    inner: Mutex<Inner>,
    /// Messages refused by the buckets.
    pub limited: AtomicU64,
}

/// A message may go ahead: the session's record (if any) to step from.
pub struct Turn {
    pub prior: Option<Citizen>,
    /// Sessions (comune, session) forgotten on the way, idle or the least recently used:
    /// their trials at the desk go too (`service::trial`).
    pub forgotten: Vec<(String, String)>,
}

impl Sandbox {
    /// Takes the session's and the address's tokens (`pace.simulator_session`,
    /// `pace.simulator`); `Err(wait)` past either.
    pub fn begin(
        &self,
        comune: &str,
        session: &str,
        from: IpAddr,
        pace: &PublicPace,
        now: Instant,
    ) -> Result<Turn, Duration> {
        // (burst, per second) of the address and of the session.
        let rate = |p: Pace| (f64::from(p.burst), p.per_second());
        let (by_address, by_session) = (rate(pace.simulator), rate(pace.simulator_session));
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !inner.addresses.contains_key(&from) && inner.addresses.len() >= MAX_ADDRESSES {
            // Forget buckets that have refilled (they behave as no bucket), then the oldest.
            inner
                .addresses
                .retain(|_, b| now.saturating_duration_since(b.last).as_secs_f64() * by_address.1 < by_address.0);
            if inner.addresses.len() >= MAX_ADDRESSES {
                if let Some(oldest) = inner.addresses.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| *k) {
                    inner.addresses.remove(&oldest);
                }
            }
        }
        let address = inner
            .addresses
            .entry(from)
            .or_insert_with(|| Bucket::full(by_address.0, now));
        if let Err(wait) = address.take(by_address.1, by_address.0, now) {
            self.limited.fetch_add(1, Ordering::Relaxed);
            return Err(wait);
        }
        let key = (comune.to_string(), session.to_string());
        let mut forgotten = Vec::new();
        if !inner.sessions.contains_key(&key) && inner.sessions.len() >= MAX_SESSIONS {
            inner.sessions.retain(|k, s| {
                let keep = now.saturating_duration_since(s.used) < IDLE;
                if !keep {
                    forgotten.push(k.clone());
                }
                keep
            });
            if inner.sessions.len() >= MAX_SESSIONS {
                if let Some(oldest) = inner
                    .sessions
                    .iter()
                    .min_by_key(|(_, s)| s.used)
                    .map(|(k, _)| k.clone())
                {
                    inner.sessions.remove(&oldest);
                    forgotten.push(oldest);
                }
            }
        }
        let s = inner.sessions.entry(key.clone()).or_insert_with(|| Session {
            citizen: None,
            used: now,
            bucket: Bucket::full(by_session.0, now),
        });
        if now.saturating_duration_since(s.used) >= IDLE {
            s.citizen = None;
            forgotten.push(key.clone());
        }
        s.used = now;
        if let Err(wait) = s.bucket.take(by_session.1, by_session.0, now) {
            self.limited.fetch_add(1, Ordering::Relaxed);
            return Err(wait);
        }
        Ok(Turn {
            prior: s.citizen.clone(),
            forgotten,
        })
    }

    /// Keeps the record a step left (`None`: the citizen left and is forgotten).
    pub fn finish(&self, comune: &str, session: &str, citizen: Option<Citizen>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = inner.sessions.get_mut(&(comune.to_string(), session.to_string())) {
            s.citizen = citizen;
        }
    }

    /// Sessions held now.
    pub fn sessions(&self) -> usize {
        self.inner.lock().map(|i| i.sessions.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default pace: 10 at once then 30 a minute per session, 30 then 120 per address.
    static P: std::sync::LazyLock<PublicPace> = std::sync::LazyLock::new(PublicPace::default);

    #[test]
    fn a_session_is_limited_and_refills() {
        let sb = Sandbox::default();
        let t0 = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..10 {
            assert!(sb.begin("brusson", "s", ip, &P, t0).is_ok());
        }
        let wait = sb
            .begin("brusson", "s", ip, &P, t0)
            .err()
            .expect("the 11th at once is limited");
        assert!(wait <= Duration::from_secs(2));
        assert!(sb.begin("brusson", "s", ip, &P, t0 + Duration::from_secs(2)).is_ok());
    }

    #[test]
    fn one_address_cannot_open_sessions_without_end() {
        let sb = Sandbox::default();
        let t0 = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let ok = (0..100)
            .filter(|i| sb.begin("brusson", &format!("s{i}"), ip, &P, t0).is_ok())
            .count();
        assert_eq!(ok, 30, "the address's burst");
    }

    #[test]
    fn sessions_are_bounded_and_records_expire() {
        let sb = Sandbox::default();
        let t0 = Instant::now();
        for i in 0..(MAX_SESSIONS + 500) {
            // A new address for each: only the session bound applies.
            let ip = IpAddr::from([10, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
            sb.begin(
                "brusson",
                &format!("s{i}"),
                ip,
                &P,
                t0 + Duration::from_millis(i as u64),
            )
            .unwrap();
        }
        assert_eq!(sb.sessions(), MAX_SESSIONS);
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        sb.begin("isili", "x", ip, &P, t0).unwrap();
        sb.finish("isili", "x", Some(Citizen::new(jiff::Timestamp::now())));
        assert!(sb
            .begin("isili", "x", ip, &P, t0 + Duration::from_secs(1))
            .unwrap()
            .prior
            .is_some());
        let later = t0 + IDLE + Duration::from_secs(5);
        assert!(
            sb.begin("isili", "x", ip, &P, later).unwrap().prior.is_none(),
            "expired"
        );
    }
}
