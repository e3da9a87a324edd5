//! Per-citizen rate limit: a token bucket per (comune, channel, citizen), so one number
//! flooding a comune cannot starve the others or fill the journal with work.
//!
//! What it owns: the buckets and the decision "process or drop". What it must not do: look
//! at a message's text beyond asking the comune's flow whether it is an unsubscribe (an
//! unsubscribe is never dropped: a citizen must always be able to leave), log a number or a
//! text, or grow without bound. A flood of distinct numbers is the case to hold (issue
//! #17): a bucket is keyed by a 64-bit keyed hash of the citizen, not the citizen's three
//! strings (about 44 bytes a citizen instead of 214), idle buckets are dropped once a
//! second and the maps' room given back, and past a hard cap new citizens are let through
//! rather than tracked.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::dialogue::Body;
use crate::flow::{Action, Flows};
use crate::storage::CitizenKey;

/// Messages a citizen may send per minute, sustained.
pub const PER_MINUTE: u32 = 20;
/// Messages a citizen may send at once after a quiet spell.
pub const BURST: u32 = 10;
/// Buckets tracked at most, in each of the two maps; past this, unknown citizens are not
/// limited (fail open: a flood of distinct numbers is the provider's problem to rate, not a
/// reason to refuse). A bucket takes about 44 bytes with the map's room: 8.8 MB at the cap,
/// measured (BENCHMARKS.md, "A flood of distinct numbers").
pub const MAX_TRACKED: usize = 200_000;
/// Over the limit, leaving still goes through, but at this pace: a citizen must always be
/// able to leave, not to make the bot answer 200 CANCELLAMI in one webhook.
pub const LEAVING_PER_MINUTE: u32 = 2;
/// Leaving messages over the limit that go through at once.
pub const LEAVING_BURST: u32 = 3;
/// Idle buckets are dropped at the first check this long after the last sweep. A sweep
/// walks the whole map (about a millisecond at the cap), so not on every check, even at
/// the cap, where it would cost that much per message.
const PRUNE_AFTER: Duration = Duration::from_secs(1);
/// A map swept down to a quarter of its room or less gives the rest back (to twice what
/// it holds, never under this), so a flood's high-water mark does not stay allocated.
const MIN_ROOM: usize = 1_024;

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

/// Buckets by citizen, with when they were last swept.
struct Tracked {
    /// Keyed by [`RateLimiter::id`]: two citizens sharing one would share a bucket, which
    /// with a 64-bit hash keyed at random for each process nobody can arrange.
    buckets: HashMap<u64, Bucket>,
    swept: Instant,
}

impl Tracked {
    fn empty() -> Mutex<Tracked> {
        Mutex::new(Tracked {
            buckets: HashMap::new(),
            swept: Instant::now(),
        })
    }

    /// Takes a token from `id`'s bucket (a full one if it had none), first dropping the
    /// buckets idle long enough to be full again (`refill`) if a sweep is due. `None` when
    /// `id` is not tracked and the map is at [`MAX_TRACKED`].
    fn take(&mut self, id: u64, rate: f64, burst: f64, now: Instant) -> Option<bool> {
        if now.saturating_duration_since(self.swept) >= PRUNE_AFTER {
            self.sweep(Duration::from_secs_f64(burst / rate), now);
        }
        if self.buckets.len() >= MAX_TRACKED && !self.buckets.contains_key(&id) {
            return None;
        }
        let bucket = self.buckets.entry(id).or_insert(Bucket::full(burst, now));
        Some(bucket.take(rate, burst, now).is_ok())
    }

    /// Removes buckets that have refilled (a full bucket behaves exactly like no bucket),
    /// and gives back the room a flood left.
    fn sweep(&mut self, refill: Duration, now: Instant) {
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.last) < refill);
        let held = self.buckets.len();
        if self.buckets.capacity() > 4 * held.max(MIN_ROOM) {
            self.buckets.shrink_to((2 * held).max(MIN_ROOM));
        }
        self.swept = now;
    }
}

/// Token buckets, one per citizen. Cheap to share behind the server's `Arc`.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    /// The key of the citizens' hash, drawn at start.
    hasher: RandomState,
    // A plain mutex: each check is a hash lookup and a few float operations, far shorter
    // than any await in the pipeline, so contention costs less than a sharded map would.
    buckets: Mutex<Tracked>,
    /// The pace of leaving messages once over the limit (`LEAVING_*`), kept apart.
    leaving: Mutex<Tracked>,
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
            hasher: RandomState::new(),
            buckets: Tracked::empty(),
            leaving: Tracked::empty(),
            dropped: AtomicU64::new(0),
        }
    }

    /// The citizen's id in the maps: the number itself is not kept.
    fn id(&self, key: &CitizenKey) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Whether `key` may send one more message at `now`; takes a token when it may.
    pub fn allow(&self, key: &CitizenKey, now: Instant) -> bool {
        let id = self.id(key);
        let mut tracked = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        tracked.take(id, self.per_second, self.burst, now).unwrap_or(true)
    }

    /// Whether a leaving message of `key`, over the ordinary limit, still goes through: a
    /// few at once, then [`LEAVING_PER_MINUTE`].
    pub fn allow_leaving(&self, key: &CitizenKey, now: Instant) -> bool {
        let (rate, burst) = (f64::from(LEAVING_PER_MINUTE) / 60.0, f64::from(LEAVING_BURST));
        let id = self.id(key);
        let mut leaving = self.leaving.lock().unwrap_or_else(|e| e.into_inner());
        leaving.take(id, rate, burst, now).unwrap_or(true)
    }

    /// How many citizens are tracked (for tests and the bound).
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map(|t| t.buckets.len()).unwrap_or(0)
    }

    /// The room the map of [`RateLimiter::tracked`] holds (for tests of its release).
    pub fn room(&self) -> usize {
        self.buckets.lock().map(|t| t.buckets.capacity()).unwrap_or(0)
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
    fn idle_buckets_are_released() {
        let l = RateLimiter::new(20, 10);
        let t0 = Instant::now();
        for n in 0..50_000 {
            l.allow(&key(n), t0);
        }
        assert_eq!(l.tracked(), 50_000);
        assert!(l.room() >= 50_000);
        // 31 s later every other bucket has refilled (10 tokens at one per 3 s): the next
        // check drops them and gives the map's room back, and tracks only itself.
        l.allow(&key(u32::MAX / 2), t0 + Duration::from_secs(31));
        assert_eq!(l.tracked(), 1);
        assert!(l.room() < 4 * MIN_ROOM, "room {}", l.room());
    }

    #[test]
    fn leaving_buckets_are_released_too() {
        let l = RateLimiter::new(20, 10);
        let t0 = Instant::now();
        for n in 0..5_000 {
            l.allow_leaving(&key(n), t0);
        }
        let leaving = |l: &RateLimiter| l.leaving.lock().unwrap().buckets.len();
        assert_eq!(leaving(&l), 5_000);
        // Three at once, then two a minute: full again after 90 s.
        l.allow_leaving(&key(1), t0 + Duration::from_secs(60));
        assert_eq!(leaving(&l), 5_000);
        l.allow_leaving(&key(1), t0 + Duration::from_secs(91));
        assert_eq!(leaving(&l), 1);
    }

    #[test]
    fn past_the_cap_new_citizens_go_through_untracked() {
        let l = RateLimiter::new(20, 1);
        let t0 = Instant::now();
        for n in 0..MAX_TRACKED as u32 {
            assert!(l.allow(&key(n), t0));
        }
        // A tracked citizen is still limited; one more is let through, every time.
        assert!(!l.allow(&key(3), t0));
        let new = key(MAX_TRACKED as u32 + 1);
        assert!((0..5).all(|_| l.allow(&new, t0)));
        assert_eq!(l.tracked(), MAX_TRACKED);
    }
}
