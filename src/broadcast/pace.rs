//! Pacing for the sender worker, as plain values and functions (the clock is passed in);
//! what to do after an error is `crate::delivery::decide`, shared with replies.
//!
//! [`Pacer`] is a schedule anchored in time: send `n` starts no earlier than `n` intervals
//! after the start, so timer lateness does not lower the rate, and catching up is bounded
//! by a small slack, so the rate over any window never exceeds the pace by more than that
//! slack's worth of messages.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Attempts of one entry before it is marked failed.
pub const MAX_ATTEMPTS: u32 = 8;

/// A per-number send schedule.
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    slack: Duration,
    next: Instant,
}

impl Pacer {
    pub fn new(per_second: u32, now: Instant) -> Pacer {
        let interval = Duration::from_secs(1) / per_second.max(1);
        Pacer {
            interval,
            // Enough to absorb a late timer wake-up (a millisecond or two), no more.
            slack: interval.max(Duration::from_millis(20)),
            next: now,
        }
    }

    /// Reserves the next send and returns when it may start (`now` or later).
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let earliest = now.checked_sub(self.slack).unwrap_or(now);
        if self.next < earliest {
            self.next = earliest;
        }
        let at = self.next;
        self.next += self.interval;
        at
    }

    /// Pushes the schedule back: nothing starts before `until`.
    pub fn hold_until(&mut self, until: Instant) {
        if self.next < until {
            self.next = until;
        }
    }
}

/// The last send to each recipient, so that one chat never gets two broadcasts closer
/// than `gap` (Telegram: 1 s per chat; WhatsApp: the pair limit, 6 s).
#[derive(Debug)]
pub struct RecipientGap {
    gap: Duration,
    last: HashMap<String, Instant>,
}

impl RecipientGap {
    pub fn new(gap: Duration) -> RecipientGap {
        RecipientGap {
            gap,
            last: HashMap::new(),
        }
    }

    /// `None` when `to` may be sent to now (and records it), else how long to wait.
    pub fn check(&mut self, to: &str, now: Instant) -> Option<Duration> {
        if let Some(last) = self.last.get(to) {
            let since = now.saturating_duration_since(*last);
            if since < self.gap {
                return Some(self.gap - since);
            }
        }
        if self.last.len() > 4096 {
            let gap = self.gap;
            self.last.retain(|_, t| now.saturating_duration_since(*t) < gap);
        }
        self.last.insert(to.to_string(), now);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_never_runs_ahead_of_its_rate_even_when_called_late() {
        let start = Instant::now();
        let mut p = Pacer::new(1000, start);
        // Called in a tight loop: the schedule spaces the sends 1 ms apart.
        let times: Vec<Instant> = (0..100).map(|_| p.reserve(start)).collect();
        assert_eq!(times[99] - times[0], Duration::from_millis(99));
        // Called 500 ms late: it catches up by at most the slack (20 ms worth), not 500 ms.
        let late = start + Duration::from_millis(600);
        let caught_up: Vec<Instant> = (0..40).map(|_| p.reserve(late)).collect();
        let immediate = caught_up.iter().filter(|t| **t <= late).count();
        assert!(immediate <= 21, "{immediate} sends at once");
        // Over the whole run: never more than rate × time + slack.
        let last = *caught_up.last().unwrap();
        let allowed = (last - start).as_millis() as usize + 21;
        assert!(140 <= allowed, "{allowed}");
    }

    #[test]
    fn holding_pushes_the_schedule() {
        let start = Instant::now();
        let mut p = Pacer::new(80, start);
        p.hold_until(start + Duration::from_secs(2));
        assert_eq!(p.reserve(start), start + Duration::from_secs(2));
    }

    #[test]
    fn one_chat_waits_for_its_gap() {
        let now = Instant::now();
        let mut g = RecipientGap::new(Duration::from_secs(1));
        assert_eq!(g.check("42", now), None);
        assert_eq!(g.check("43", now), None);
        assert_eq!(
            g.check("42", now + Duration::from_millis(400)),
            Some(Duration::from_millis(600))
        );
        assert_eq!(g.check("42", now + Duration::from_secs(1)), None);
    }
}
