//! Failed logins per (account, address): five in a row from one address lock that address
//! out of that account, for 15 minutes, then 30, 60… (at most a day) for each further
//! series; a success, or a day without failures, starts over.
//!
//! Kept in memory and bounded: a third party guessing from their own address locks only
//! themselves out, never the account's owner at another address. (The account-wide lock,
//! for a guess spread over many addresses, is on the account itself, `accounts::login`.)
//! A restart forgets these locks; the account-wide one is stored.
//!
//! Must not: see passwords, log an address or an e-mail.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Failures in a row from one address that lock it out of an account.
pub const PER_ADDRESS: u32 = 5;
/// The first lock; each further series doubles it.
pub const FIRST_LOCK: SignedDuration = SignedDuration::from_mins(15);
/// The longest lock.
pub const LONGEST_LOCK: SignedDuration = SignedDuration::from_hours(24);
/// (account, address) pairs remembered at once.
const MAX_PAIRS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Tries {
    /// Failures in the current series.
    failures: u32,
    /// Locks so far (the next lasts `FIRST_LOCK × 2^series`).
    series: u32,
    until: Option<Timestamp>,
    last: Timestamp,
}

/// The per-address record of failed logins.
#[derive(Default)]
pub struct Lockouts {
    pairs: Mutex<HashMap<(String, IpAddr), Tries>>,
}

impl Lockouts {
    /// Until when `from` is locked out of `email`, if it is now.
    pub fn locked(&self, email: &str, from: IpAddr, now: Timestamp) -> Option<Timestamp> {
        let pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        pairs
            .get(&(email.to_string(), from))
            .and_then(|t| t.until)
            .filter(|until| *until > now)
    }

    /// Records a failure; returns until when `from` is now locked out, if this one locked it.
    pub fn failed(&self, email: &str, from: IpAddr, now: Timestamp) -> Option<Timestamp> {
        let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        let key = (email.to_string(), from);
        if !pairs.contains_key(&key) && pairs.len() >= MAX_PAIRS {
            make_room(&mut pairs, now);
        }
        let tries = pairs.entry(key).or_insert(Tries {
            failures: 0,
            series: 0,
            until: None,
            last: now,
        });
        let quiet_since = tries.until.map_or(tries.last, |u| u.max(tries.last));
        if now.duration_since(quiet_since) > LONGEST_LOCK {
            // A quiet day since the last failure or lock: a fresh start.
            tries.series = 0;
            tries.failures = 0;
        }
        if tries.until.is_some_and(|u| u <= now) {
            tries.until = None;
            tries.failures = 0;
        }
        tries.last = now;
        tries.failures += 1;
        if tries.failures < PER_ADDRESS {
            return None;
        }
        let factor = 1i64 << tries.series.min(16);
        let lock = SignedDuration::from_secs(FIRST_LOCK.as_secs().saturating_mul(factor)).min(LONGEST_LOCK);
        tries.series += 1;
        tries.failures = 0;
        tries.until = Some(now + lock);
        tries.until
    }

    /// A success from `from` clears its record for `email`.
    pub fn succeeded(&self, email: &str, from: IpAddr) {
        let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        pairs.remove(&(email.to_string(), from));
    }

    /// Forgets every lock on `email` (a one-time code was used: its owner is back in).
    pub fn clear(&self, email: &str) {
        let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        pairs.retain(|(e, _), _| e != email);
    }
}

/// Drops the records that no longer matter (no lock, last failure a day ago), else the
/// oldest unlocked one, else the oldest.
fn make_room(pairs: &mut HashMap<(String, IpAddr), Tries>, now: Timestamp) {
    pairs.retain(|_, t| t.until.is_some_and(|u| u > now) || now.duration_since(t.last) <= LONGEST_LOCK);
    if pairs.len() < MAX_PAIRS {
        return;
    }
    let oldest = pairs
        .iter()
        .min_by_key(|(_, t)| (t.until.is_some_and(|u| u > now), t.last))
        .map(|(k, _)| k.clone());
    if let Some(k) = oldest {
        pairs.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_locked_for_longer_each_series_and_others_are_not() {
        let l = Lockouts::default();
        let t0: Timestamp = "2026-12-06T10:00:00Z".parse().unwrap();
        let guesser: IpAddr = "192.0.2.66".parse().unwrap();
        let owner: IpAddr = "198.51.100.7".parse().unwrap();
        let mut now = t0;
        for series in 0..8u32 {
            for i in 1..PER_ADDRESS {
                assert_eq!(l.failed("a@x.it", guesser, now), None, "series {series}, failure {i}");
            }
            let until = l.failed("a@x.it", guesser, now).expect("the fifth locks");
            let expected = (FIRST_LOCK * (1i32 << series)).min(LONGEST_LOCK);
            assert_eq!(until.duration_since(now), expected, "series {series}");
            assert_eq!(l.locked("a@x.it", guesser, now), Some(until));
            // The owner, elsewhere, is never locked out by the guesser.
            assert_eq!(l.locked("a@x.it", owner, now), None);
            assert_eq!(l.locked("b@x.it", guesser, now), None, "another account");
            now = until + SignedDuration::from_secs(1);
            assert_eq!(l.locked("a@x.it", guesser, now), None, "the lock runs out");
        }
        // A success starts over.
        l.succeeded("a@x.it", guesser);
        for _ in 1..PER_ADDRESS {
            assert_eq!(l.failed("a@x.it", guesser, now), None);
        }
        assert_eq!(
            l.failed("a@x.it", guesser, now).map(|u| u.duration_since(now)),
            Some(FIRST_LOCK),
            "back to 15 minutes"
        );
        // So does a quiet day after the lock.
        let later = now + FIRST_LOCK + LONGEST_LOCK + SignedDuration::from_secs(1);
        for _ in 1..PER_ADDRESS {
            assert_eq!(l.failed("a@x.it", guesser, later), None);
        }
        assert_eq!(
            l.failed("a@x.it", guesser, later).map(|u| u.duration_since(later)),
            Some(FIRST_LOCK)
        );
        l.clear("a@x.it");
        assert_eq!(l.locked("a@x.it", guesser, later), None);
    }

    #[test]
    fn the_record_stays_bounded_and_keeps_live_locks() {
        let l = Lockouts::default();
        let now: Timestamp = "2026-12-06T10:00:00Z".parse().unwrap();
        let locked: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..PER_ADDRESS {
            l.failed("a@x.it", locked, now);
        }
        for i in 0..(MAX_PAIRS as u32 + 500) {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            l.failed("a@x.it", ip, now);
        }
        assert!(l.pairs.lock().unwrap().len() <= MAX_PAIRS);
        assert!(l.locked("a@x.it", locked, now).is_some(), "a live lock was forgotten");
    }
}
