//! Per-citizen rate limit: a token bucket per (comune, channel, citizen), so one number
//! flooding a comune cannot starve the others or fill the journal with work.
//!
//! What it owns: the buckets and the decision "process or drop". What it must not do: look
//! at a message's text beyond asking the comune's flow whether it is an unsubscribe (an
//! unsubscribe is never dropped: a citizen must always be able to leave), log a number or a
//! text, or grow without bound (idle buckets are pruned; past a hard cap, new citizens are
//! let through rather than tracked).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::dialogue::Body;
use crate::flow::{Action, Flows};
use crate::storage::CitizenKey;

/// Messages a citizen may send per minute, sustained.
pub const PER_MINUTE: u32 = 20;
/// Messages a citizen may send at once after a quiet spell.
pub const BURST: u32 = 10;
/// Buckets tracked at most; past this, unknown citizens are not limited (fail open: a
/// flood of distinct numbers is the provider's problem to rate, not a reason to refuse).
pub const MAX_TRACKED: usize = 200_000;
/// Over the limit, leaving still goes through, but at this pace: a citizen must always be
/// able to leave, not to make the bot answer 200 CANCELLAMI in one webhook.
pub const LEAVING_PER_MINUTE: u32 = 2;
/// Leaving messages over the limit that go through at once.
pub const LEAVING_BURST: u32 = 3;
/// Prune idle buckets every this many checks.
const PRUNE_EVERY: u64 = 4096;

/// A token bucket: `burst` tokens at once, refilled at a steady rate. Shared with the
/// simulator's sandbox (`web/sandbox.rs`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    tokens: f64,
    /// When it was last refilled.
    pub(crate) last: Instant,
}

impl Bucket {
    /// A bucket with all its tokens.
    pub(crate) fn full(burst: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: burst,
            last: now,
        }
    }

    /// Refills at `per_second` up to `burst`, then takes a token if there is one; else says
    /// how long until one is back.
    pub(crate) fn take(&mut self, per_second: f64, burst: f64, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / per_second))
        }
    }
}

/// Token buckets, one per citizen. Cheap to share behind the server's `Arc`.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    // A plain mutex: each check is a hash lookup and a few float operations, far shorter
    // than any await in the pipeline, so contention costs less than a sharded map would.
    buckets: Mutex<HashMap<CitizenKey, Bucket>>,
    /// The pace of leaving messages once over the limit (`LEAVING_*`), kept apart.
    leaving: Mutex<HashMap<CitizenKey, Bucket>>,
    checks: AtomicU64,
    /// Messages acknowledged and dropped for being over the limit.
    pub dropped: AtomicU64,
}

impl Default for RateLimiter {
    fn default() -> RateLimiter {
        RateLimiter::new(PER_MINUTE, BURST)
    }
}

impl RateLimiter {
    /// `per_minute` sustained, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
            leaving: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Whether `key` may send one more message at `now`; takes a token when it may.
    pub fn allow(&self, key: &CitizenKey, now: Instant) -> bool {
        let n = self.checks.fetch_add(1, Ordering::Relaxed);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if n % PRUNE_EVERY == PRUNE_EVERY - 1 || buckets.len() >= MAX_TRACKED {
            self.prune(&mut buckets, now);
        }
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(key) {
            return true;
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket::full(self.burst, now));
        bucket.take(self.per_second, self.burst, now).is_ok()
    }

    /// Whether a leaving message of `key`, over the ordinary limit, still goes through: a
    /// few at once, then [`LEAVING_PER_MINUTE`].
    pub fn allow_leaving(&self, key: &CitizenKey, now: Instant) -> bool {
        let (rate, burst) = (f64::from(LEAVING_PER_MINUTE) / 60.0, f64::from(LEAVING_BURST));
        let mut leaving = self.leaving.lock().unwrap_or_else(|e| e.into_inner());
        if leaving.len() >= MAX_TRACKED {
            leaving.retain(|_, b| now.saturating_duration_since(b.last).as_secs_f64() * rate < burst);
            if leaving.len() >= MAX_TRACKED && !leaving.contains_key(key) {
                return true;
            }
        }
        let bucket = leaving.entry(key.clone()).or_insert(Bucket::full(burst, now));
        bucket.take(rate, burst, now).is_ok()
    }

    /// Removes buckets that have refilled: a full bucket behaves exactly like no bucket.
    fn prune(&self, buckets: &mut HashMap<CitizenKey, Bucket>, now: Instant) {
        let refill = Duration::from_secs_f64(self.burst / self.per_second);
        buckets.retain(|_, b| now.saturating_duration_since(b.last) < refill);
    }

    /// How many citizens are tracked (for tests and the bound).
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }
}

/// Whether `body` asks to leave `comune`'s list: the unsubscribe keyword (with the flow's
/// tolerance for typos), leaving in the citizen's own words, or the unsubscribe button.
/// Such a message is never rate-limited: someone trying to leave is always answered.
pub fn is_unsubscribe(flows: &Flows, comune: &str, body: &Body) -> bool {
    match body {
        Body::Button { id } => Action::from_name(id) == Some(Action::Unsubscribe),
        Body::Text { text } => flows.get(comune).is_some_and(|flow| flow.understand(text).is_leaving()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> CitizenKey {
        CitizenKey::new("madone", "whatsapp", &format!("39333{n:07}"))
    }

    #[test]
    fn burst_then_sustained_rate() {
        let l = RateLimiter::new(20, 10);
        let t0 = Instant::now();
        let allowed = (0..50).filter(|_| l.allow(&key(1), t0)).count();
        assert_eq!(allowed, 10);
        // 20 a minute: one token every 3 s.
        assert!(!l.allow(&key(1), t0 + Duration::from_secs(2)));
        assert!(l.allow(&key(1), t0 + Duration::from_secs(4)));
        // Another citizen is unaffected.
        assert!(l.allow(&key(2), t0));
    }

    #[test]
    fn idle_buckets_are_pruned() {
        let l = RateLimiter::new(20, 10);
        let t0 = Instant::now();
        for n in 0..(PRUNE_EVERY as u32 - 1) {
            l.allow(&key(n), t0);
        }
        assert_eq!(l.tracked(), PRUNE_EVERY as usize - 1);
        // 31 s later every bucket has refilled (10 tokens at one per 3 s): the next check
        // prunes them all and tracks only itself.
        l.allow(&key(u32::MAX / 2), t0 + Duration::from_secs(31));
        assert_eq!(l.tracked(), 1);
    }
}
