//! Pacing and error decisions for the sender worker, as plain values and functions (the
//! clock is passed in).
//!
//! [`Pacer`] is a schedule anchored in time: send `n` starts no earlier than `n` intervals
//! after the start, so timer lateness does not lower the rate, and catching up is bounded
//! by a small slack, so the rate over any window never exceeds the pace by more than that
//! slack's worth of messages. [`decide`] maps a provider error to what the worker does.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::channel::SendError;

/// Attempts of one entry before it is marked failed.
pub const MAX_ATTEMPTS: u32 = 8;
/// The longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

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

/// What the worker does after a failed send.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Queue the entry again, not before `after`.
    Retry { after: Duration },
    /// The number is throttled: queue the entry again and hold the whole lane for `after`.
    SlowDown { after: Duration },
    /// WhatsApp 368 / 131031: the account is restricted; stop the number's sending.
    PauseNumber,
    /// Give up on this entry.
    Fail { code: i64, title: String },
    /// The request may have reached the provider: not sent again automatically (at most
    /// once), but counted interrupted, as after a crash.
    InDoubt,
}

/// The decision for an error on an entry's `attempts`-th attempt (1-based).
pub fn decide(error: &SendError, attempts: u32, first_backoff: Duration) -> Decision {
    let backoff = backoff(attempts, first_backoff);
    match error {
        SendError::Permanent { code: 368 | 131031, .. } => Decision::PauseNumber,
        SendError::Permanent { code, title } => Decision::Fail {
            code: *code,
            title: title.clone(),
        },
        SendError::InDoubt(_) => Decision::InDoubt,
        _ if attempts >= MAX_ATTEMPTS => {
            let code = match error {
                SendError::Retryable { code, .. } => *code,
                _ => 0,
            };
            Decision::Fail {
                code,
                title: format!("still failing after {attempts} attempts"),
            }
        }
        SendError::Retryable {
            code: 130429 | 4 | 80007 | 429,
            retry_after,
            ..
        } => Decision::SlowDown {
            after: retry_after.map_or(backoff, |s| Duration::from_secs(s).min(MAX_BACKOFF)),
        },
        // Meta: retry the (business, user) pair after 4^X seconds; others go on.
        SendError::Retryable { code: 131056, .. } => Decision::Retry {
            after: Duration::from_secs(4u64.saturating_pow(attempts.saturating_sub(1))).min(MAX_BACKOFF),
        },
        SendError::Retryable { retry_after, .. } => Decision::Retry {
            after: retry_after.map_or(backoff, |s| Duration::from_secs(s).min(MAX_BACKOFF)),
        },
        SendError::Transport(_) => Decision::Retry { after: backoff },
    }
}

/// `first` doubled for each attempt after the first, up to [`MAX_BACKOFF`].
pub fn backoff(attempts: u32, first: Duration) -> Duration {
    first
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20))
        .min(MAX_BACKOFF)
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
    fn errors_decide_retry_slow_down_pause_or_fail() {
        let first = Duration::from_secs(1);
        let throttled = SendError::Retryable {
            code: 130429,
            title: String::new(),
            retry_after: None,
        };
        assert_eq!(
            decide(&throttled, 3, first),
            Decision::SlowDown {
                after: Duration::from_secs(4)
            }
        );
        let pair = SendError::Retryable {
            code: 131056,
            title: String::new(),
            retry_after: None,
        };
        assert_eq!(
            decide(&pair, 3, first),
            Decision::Retry {
                after: Duration::from_secs(16)
            }
        );
        let restricted = SendError::Permanent {
            code: 131031,
            title: "locked".into(),
        };
        assert_eq!(decide(&restricted, 1, first), Decision::PauseNumber);
        let gone = SendError::Permanent {
            code: 131026,
            title: "undeliverable".into(),
        };
        assert!(matches!(decide(&gone, 1, first), Decision::Fail { code: 131026, .. }));
        let transport = SendError::Transport("reset".into());
        assert!(matches!(decide(&transport, 2, first), Decision::Retry { .. }));
        assert!(matches!(decide(&transport, MAX_ATTEMPTS, first), Decision::Fail { .. }));
        // Perhaps delivered: never sent again, from the first attempt to the last.
        let doubt = SendError::InDoubt("connection closed before message completed".into());
        assert_eq!(decide(&doubt, 1, first), Decision::InDoubt);
        assert_eq!(decide(&doubt, MAX_ATTEMPTS, first), Decision::InDoubt);
        assert_eq!(backoff(30, first), MAX_BACKOFF);
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
