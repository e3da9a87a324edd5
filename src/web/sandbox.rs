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

use crate::dialogue::Citizen;
use crate::server::limits::Bucket;

/// Simulator sessions kept at once.
pub const MAX_SESSIONS: usize = 2_000;
/// A session not used for this long is forgotten.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// Addresses whose buckets are kept at once (the oldest full bucket goes first).
const MAX_ADDRESSES: usize = 10_000;

/// (burst, per second) of one session: a person typing.
const SESSION: (f64, f64) = (10.0, 0.5);
/// (burst, per second) of one address: a few people behind one router.
const ADDRESS: (f64, f64) = (30.0, 2.0);

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
}

impl Sandbox {
    /// Takes the session's and the address's tokens; `Err(wait)` past either.
    pub fn begin(&self, comune: &str, session: &str, from: IpAddr, now: Instant) -> Result<Turn, Duration> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !inner.addresses.contains_key(&from) && inner.addresses.len() >= MAX_ADDRESSES {
            // Forget buckets that have refilled (they behave as no bucket), then the oldest.
            inner
                .addresses
                .retain(|_, b| now.saturating_duration_since(b.last).as_secs_f64() * ADDRESS.1 < ADDRESS.0);
            if inner.addresses.len() >= MAX_ADDRESSES {
                if let Some(oldest) = inner.addresses.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| *k) {
                    inner.addresses.remove(&oldest);
                }
            }
        }
        let address = inner
            .addresses
            .entry(from)
            .or_insert_with(|| Bucket::full(ADDRESS.0, now));
        if let Err(wait) = address.take(ADDRESS.1, ADDRESS.0, now) {
            self.limited.fetch_add(1, Ordering::Relaxed);
            return Err(wait);
        }
        let key = (comune.to_string(), session.to_string());
        if !inner.sessions.contains_key(&key) && inner.sessions.len() >= MAX_SESSIONS {
            inner
                .sessions
                .retain(|_, s| now.saturating_duration_since(s.used) < IDLE);
            if inner.sessions.len() >= MAX_SESSIONS {
                if let Some(oldest) = inner
                    .sessions
                    .iter()
                    .min_by_key(|(_, s)| s.used)
                    .map(|(k, _)| k.clone())
                {
                    inner.sessions.remove(&oldest);
                }
            }
        }
        let s = inner.sessions.entry(key).or_insert_with(|| Session {
            citizen: None,
            used: now,
            bucket: Bucket::full(SESSION.0, now),
        });
        if now.saturating_duration_since(s.used) >= IDLE {
            s.citizen = None;
        }
        s.used = now;
        if let Err(wait) = s.bucket.take(SESSION.1, SESSION.0, now) {
            self.limited.fetch_add(1, Ordering::Relaxed);
            return Err(wait);
        }
        Ok(Turn {
            prior: s.citizen.clone(),
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

    #[test]
    fn a_session_is_limited_and_refills() {
        let sb = Sandbox::default();
        let t0 = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..10 {
            assert!(sb.begin("brusson", "s", ip, t0).is_ok());
        }
        let wait = sb
            .begin("brusson", "s", ip, t0)
            .err()
            .expect("the 11th at once is limited");
        assert!(wait <= Duration::from_secs(2));
        assert!(sb.begin("brusson", "s", ip, t0 + Duration::from_secs(2)).is_ok());
    }

    #[test]
    fn one_address_cannot_open_sessions_without_end() {
        let sb = Sandbox::default();
        let t0 = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let ok = (0..100)
            .filter(|i| sb.begin("brusson", &format!("s{i}"), ip, t0).is_ok())
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
            sb.begin("brusson", &format!("s{i}"), ip, t0 + Duration::from_millis(i as u64))
                .unwrap();
        }
        assert_eq!(sb.sessions(), MAX_SESSIONS);
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        sb.begin("isili", "x", ip, t0).unwrap();
        sb.finish("isili", "x", Some(Citizen::new(jiff::Timestamp::now())));
        assert!(sb
            .begin("isili", "x", ip, t0 + Duration::from_secs(1))
            .unwrap()
            .prior
            .is_some());
        let later = t0 + IDLE + Duration::from_secs(5);
        assert!(sb.begin("isili", "x", ip, later).unwrap().prior.is_none(), "expired");
    }
}
