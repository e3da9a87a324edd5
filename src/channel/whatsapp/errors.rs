//! Classifying Graph API errors into retry or give up.
//!
//! Owns the table of Cloud API error codes. Decisions follow Meta's advice to "build your
//! app's error handling around error codes instead of subcodes or HTTP response status
//! codes" (M:support/error-codes): throttles often arrive as HTTP 400/403, not 429. The HTTP
//! status decides only when the body has no Graph `error.code`. Titles come from this table,
//! never from Meta's `message` or `error_data.details`, which may echo what was sent.
//!
//! Sources: M = `https://developers.facebook.com/documentation/business-messaging/whatsapp/`
//! `support/error-codes` and `about-the-platform` (rate limits), via the fact sheet
//! `/work/shared/reference/whatsapp-telegram.md` §5; Graph = Graph API error handling.
//!
//! | code | meaning | decision |
//! |---|---|---|
//! | 1, 2 | API unknown / service temporarily unavailable (Graph, M) | retry |
//! | 4 | application request limit reached (M, about-the-platform) | retry |
//! | 17, 613 | user / API call rate limit (Graph) | retry |
//! | 80007 | WhatsApp Business Account rate limit (M, about-the-platform) | retry |
//! | 130429 | Cloud API throughput reached (M, throughput) | retry |
//! | 131000 | something went wrong (M) | retry |
//! | 131016 | service unavailable (M) | retry |
//! | 131056 | (business, user) pair rate limit: 4^X s backoff for that user (M) | retry |
//! | 131057 | account in maintenance mode, e.g. throughput upgrade (M) | retry |
//! | 133004 | server temporarily unavailable (M) | retry |
//! | 0, 10, 190, 200 | auth exception / permission denied / token expired / permission (M) | never |
//! | 3 | capability or permissions issue (M) | never |
//! | 100 | invalid parameter (M) | never |
//! | 368, 131031 | temporarily blocked for policy violations / account locked (M) | never |
//! | 130472 | user's number is part of a Meta experiment (M) | never |
//! | 131008 | required parameter missing (M) | never |
//! | 131009 | parameter value not valid (M) | never |
//! | 131021 | recipient cannot be the sender (M) | never |
//! | 131026 | message undeliverable: not on WhatsApp, old client, terms not accepted (M) | never |
//! | 131030 | recipient not in the allowed list (test numbers) (M) | never |
//! | 131047 | re-engagement: more than 24 h since the user last wrote; send a template (M) | never |
//! | 131048 | spam rate limit: too many blocks or reports (M) | never |
//! | 131049 | not delivered to keep ecosystem engagement healthy (marketing cap) (M) | never |
//! | 131050 | user stopped marketing messages (M) | never |
//! | 131051 | unsupported message type (M) | never |
//! | 132xxx | template errors: params, missing, format, paused, disabled (M) | never |
//! | other, HTTP 429 or 5xx | | retry |
//! | other, other 4xx | | never |

use serde_json::Value;

use crate::channel::SendError;

/// Graph codes worth retrying, with a short meaning.
const RETRYABLE: &[(i64, &str)] = &[
    (1, "API unknown error"),
    (2, "API service temporarily unavailable"),
    (4, "application request limit reached"),
    (17, "user request limit reached"),
    (613, "API call rate limit"),
    (80007, "WhatsApp Business Account rate limit"),
    (130429, "Cloud API throughput reached"),
    (131000, "something went wrong"),
    (131016, "service unavailable"),
    (131056, "pair rate limit hit"),
    (131057, "account in maintenance mode"),
    (133004, "server temporarily unavailable"),
];

/// Graph codes never retried (132xxx are matched as a family).
const PERMANENT: &[(i64, &str)] = &[
    (0, "authentication exception"),
    (3, "capability or permissions issue"),
    (10, "permission denied"),
    (100, "invalid parameter"),
    (190, "access token expired or invalid"),
    (200, "permission error"),
    (368, "temporarily blocked for policy violations"),
    (130472, "user's number is part of an experiment"),
    (131008, "required parameter missing"),
    (131009, "parameter value not valid"),
    (131021, "recipient cannot be sender"),
    (131026, "message undeliverable"),
    (131030, "recipient not in allowed list"),
    (131031, "business account locked"),
    (131047, "re-engagement message: 24-hour window closed"),
    (131048, "spam rate limit hit"),
    (131049, "not delivered to maintain healthy ecosystem engagement"),
    (131050, "user stopped marketing messages"),
    (131051, "unsupported message type"),
];

/// Classification of a Graph API error response (HTTP status + `error.code`). Retry on
/// throttles, transient provider errors, 429 and 5xx (with `Retry-After` seconds when
/// given); never on the 24-hour window, undeliverable numbers, opt-outs, template and
/// parameter errors, token problems and other 4xx. See the table at the top of this file.
///
/// When the body carries no Graph code (an HTML error page, an empty body), `code` is the
/// HTTP status.
pub fn classify(http_status: u16, body: &[u8], retry_after_header: Option<&str>) -> SendError {
    let code = graph_code(body);
    let retry_after = retry_after_header.and_then(parse_retry_after);
    let Some(code) = code else {
        let title = format!("HTTP {http_status} without Graph error");
        return if retryable_status(http_status) {
            SendError::Retryable {
                code: i64::from(http_status),
                title,
                retry_after,
            }
        } else {
            SendError::Permanent {
                code: i64::from(http_status),
                title,
            }
        };
    };
    if let Some((_, title)) = RETRYABLE.iter().find(|(c, _)| *c == code) {
        return SendError::Retryable {
            code,
            title: (*title).to_string(),
            retry_after,
        };
    }
    if let Some((_, title)) = PERMANENT.iter().find(|(c, _)| *c == code) {
        return SendError::Permanent {
            code,
            title: (*title).to_string(),
        };
    }
    if (132000..133000).contains(&code) {
        return SendError::Permanent {
            code,
            title: "template error".to_string(),
        };
    }
    let title = format!("Graph error (HTTP {http_status})");
    if retryable_status(http_status) {
        SendError::Retryable {
            code,
            title,
            retry_after,
        }
    } else {
        SendError::Permanent { code, title }
    }
}

fn retryable_status(status: u16) -> bool {
    status == 429 || status >= 500
}

/// `error.code` of a Graph error envelope, if the body is one.
fn graph_code(body: &[u8]) -> Option<i64> {
    let v: Value = serde_json::from_slice(body).ok()?;
    match v.pointer("/error/code")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Delay-seconds form only; an HTTP-date is ignored (the sender's own backoff applies).
/// Capped at a day so a bogus header cannot park a message for ever.
fn parse_retry_after(h: &str) -> Option<u64> {
    h.trim().parse::<u64>().ok().map(|s| s.min(86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: i64) -> Vec<u8> {
        format!(r#"{{"error":{{"message":"(#{code}) x","type":"OAuthException","code":{code},"fbtrace_id":"A"}}}}"#)
            .into_bytes()
    }

    fn retryable(e: &SendError) -> Option<(i64, Option<u64>)> {
        match e {
            SendError::Retryable { code, retry_after, .. } => Some((*code, *retry_after)),
            _ => None,
        }
    }

    #[test]
    fn throttles_and_transient_errors_are_retried_whatever_the_status() {
        for code in [1, 2, 4, 17, 613, 80007, 130429, 131000, 131016, 131056, 131057, 133004] {
            for status in [400, 403, 429, 500] {
                let e = classify(status, &body(code), None);
                assert_eq!(retryable(&e), Some((code, None)), "{code} {status}");
            }
        }
    }

    #[test]
    fn documented_fixture_and_retry_after() {
        let raw = include_str!("../../../tests/fixtures/whatsapp/wa_error_response_130429.json");
        let e = classify(429, raw.as_bytes(), Some(" 30 "));
        assert_eq!(
            e,
            SendError::Retryable {
                code: 130429,
                title: "Cloud API throughput reached".into(),
                retry_after: Some(30)
            }
        );
        assert_eq!(
            retryable(&classify(429, raw.as_bytes(), Some("Wed, 21 Oct 2026 07:28:00 GMT"))),
            Some((130429, None))
        );
        assert_eq!(
            retryable(&classify(429, raw.as_bytes(), Some("99999999"))),
            Some((130429, Some(86_400)))
        );
        // The title is ours: Meta's message and details are never copied.
        assert!(!format!("{e:?}").contains("throughput has been reached"));
    }

    #[test]
    fn permanent_codes_are_never_retried() {
        for code in [
            0, 3, 10, 100, 190, 200, 368, 130472, 131008, 131009, 131021, 131026, 131030, 131031, 131047, 131048,
            131049, 131050, 131051, 132000, 132001, 132012, 132015, 132016, 132069,
        ] {
            for status in [400, 401, 403, 500] {
                let e = classify(status, &body(code), Some("5"));
                assert!(
                    matches!(e, SendError::Permanent { code: c, .. } if c == code),
                    "{code} {status}: {e:?}"
                );
                assert!(!e.is_retryable());
            }
        }
    }

    #[test]
    fn unknown_codes_follow_the_http_status() {
        assert_eq!(
            retryable(&classify(503, &body(999_999), Some("7"))),
            Some((999_999, Some(7)))
        );
        assert_eq!(retryable(&classify(429, &body(999_999), None)), Some((999_999, None)));
        assert!(matches!(
            classify(400, &body(999_999), None),
            SendError::Permanent { code: 999_999, .. }
        ));
        // String codes are read too.
        assert_eq!(
            retryable(&classify(400, br#"{"error":{"code":"130429"}}"#, None)),
            Some((130429, None))
        );
    }

    #[test]
    fn bodies_without_a_graph_code_use_the_status() {
        assert_eq!(
            retryable(&classify(502, b"<html>Bad Gateway</html>", Some("3"))),
            Some((502, Some(3)))
        );
        assert_eq!(retryable(&classify(500, b"", None)), Some((500, None)));
        assert_eq!(retryable(&classify(429, b"{}", None)), Some((429, None)));
        assert!(matches!(
            classify(404, b"not found", None),
            SendError::Permanent { code: 404, .. }
        ));
        assert!(matches!(
            classify(400, br#"{"error":{"code":null}}"#, None),
            SendError::Permanent { code: 400, .. }
        ));
    }
}
