//! What to do after a provider refused a send, as a plain function of the error and the
//! attempt, for replies and broadcasts alike.

use std::time::Duration;

use crate::channel::SendError;

/// The longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// How a caller retries: the first wait (doubling up to [`MAX_BACKOFF`]) and the attempts
/// after which it stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retries {
    pub first: Duration,
    pub attempts: u32,
}

/// What the caller does after a failed send.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Try again, not before `after`.
    Retry { after: Duration },
    /// The number is throttled: try again after `after`, and hold the number's other sends.
    SlowDown { after: Duration },
    /// WhatsApp 368 / 131031: the account is restricted; stop the number's sending.
    PauseNumber { code: i64, title: String },
    /// Refused for good.
    Fail { code: i64, title: String },
    /// The request may have reached the provider: not sent again automatically (at most
    /// once), but counted interrupted, as after a crash.
    InDoubt,
    /// Still failing after the last attempt the caller allows (the error's code, if any).
    Exhausted { code: i64 },
}

/// The decision for an error on the `attempt`-th attempt (1-based).
pub fn decide(error: &SendError, attempt: u32, retries: Retries) -> Decision {
    let backoff = backoff(attempt, retries.first);
    match error {
        SendError::Permanent {
            code: code @ (368 | 131031),
            title,
        } => Decision::PauseNumber {
            code: *code,
            title: title.clone(),
        },
        SendError::Permanent { code, title } => Decision::Fail {
            code: *code,
            title: title.clone(),
        },
        SendError::InDoubt(_) => Decision::InDoubt,
        _ if attempt >= retries.attempts => Decision::Exhausted {
            code: match error {
                SendError::Retryable { code, .. } => *code,
                _ => 0,
            },
        },
        SendError::Retryable {
            code: 130429 | 4 | 80007 | 429,
            retry_after,
            ..
        } => Decision::SlowDown {
            after: retry_after.map_or(backoff, |s| Duration::from_secs(s).min(MAX_BACKOFF)),
        },
        // Meta: retry the (business, user) pair after 4^X seconds; others go on.
        SendError::Retryable { code: 131056, .. } => Decision::Retry {
            after: Duration::from_secs(4u64.saturating_pow(attempt.saturating_sub(1))).min(MAX_BACKOFF),
        },
        SendError::Retryable { retry_after, .. } => Decision::Retry {
            after: retry_after.map_or(backoff, |s| Duration::from_secs(s).min(MAX_BACKOFF)),
        },
        SendError::Transport(_) => Decision::Retry { after: backoff },
    }
}

/// `first` doubled for each attempt after the first, up to [`MAX_BACKOFF`].
pub fn backoff(attempt: u32, first: Duration) -> Duration {
    first
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_decide_retry_slow_down_pause_fail_or_give_up() {
        let retries = Retries {
            first: Duration::from_secs(1),
            attempts: 8,
        };
        let throttled = SendError::Retryable {
            code: 130429,
            title: String::new(),
            retry_after: None,
        };
        assert_eq!(
            decide(&throttled, 3, retries),
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
            decide(&pair, 3, retries),
            Decision::Retry {
                after: Duration::from_secs(16)
            }
        );
        let restricted = SendError::Permanent {
            code: 131031,
            title: "locked".into(),
        };
        assert_eq!(
            decide(&restricted, 1, retries),
            Decision::PauseNumber {
                code: 131031,
                title: "locked".into()
            }
        );
        let gone = SendError::Permanent {
            code: 131026,
            title: "undeliverable".into(),
        };
        assert!(matches!(decide(&gone, 1, retries), Decision::Fail { code: 131026, .. }));
        let transport = SendError::Transport("reset".into());
        assert!(matches!(decide(&transport, 2, retries), Decision::Retry { .. }));
        assert_eq!(decide(&transport, 8, retries), Decision::Exhausted { code: 0 });
        assert_eq!(decide(&throttled, 9, retries), Decision::Exhausted { code: 130429 });
        // Perhaps delivered: never sent again, from the first attempt to the last.
        let doubt = SendError::InDoubt("connection closed before message completed".into());
        assert_eq!(decide(&doubt, 1, retries), Decision::InDoubt);
        assert_eq!(decide(&doubt, 8, retries), Decision::InDoubt);
        assert_eq!(backoff(30, retries.first), MAX_BACKOFF);
    }
}
