//! Parsing a verified webhook POST into channel-neutral events.
//!
//! Owns the mapping from Meta's `whatsapp_business_account` notification to
//! [`InboundMessage`], [`StatusUpdate`] and provider errors. It walks a `serde_json::Value`
//! rather than typed structs so that one odd item (a new message type, a missing optional
//! field) never rejects the whole POST: Meta would retry it for 7 days. It must not log
//! message bodies, names or phone numbers, and never copies `message`/`error_data.details`
//! (they may echo content) — only codes and titles.

use serde_json::Value;

use crate::channel::{Channel, DeliveryStatus, InboundMessage, ProviderError, StatusUpdate};
use crate::message::Body;

use super::identity;
pub use super::identity::IdentityChange;

/// A POST body that is not a WhatsApp Business Account notification.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or nested beyond serde_json's recursion limit.
    #[error("webhook body is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but `object` is not `whatsapp_business_account`.
    #[error("webhook body is not a whatsapp_business_account notification")]
    NotWhatsapp,
}

/// One thing a webhook POST told us.
#[derive(Debug, Clone, PartialEq)]
pub enum WaEvent {
    Message(InboundMessage),
    Status(StatusUpdate),
    /// A citizen's BSUID changed (a new number, or only the id): the record under the
    /// previous one is theirs.
    IdentityChange(IdentityChange),
    /// `value.errors[]` (e.g. 130429): app- or number-level, no personal data.
    Error {
        route: String,
        error: ProviderError,
    },
}

/// Every entry, every change, every message/status/error in one POST.
///
/// Only changes with `field == "messages"` are read (others, e.g. template status updates,
/// are skipped). Unknown message types map to [`Body::Unsupported`]; items without an id or
/// sender are skipped. Output order: messages sorted by timestamp (stable), then statuses
/// sorted by (timestamp, status) so `delivered` precedes `read` in the same second, then
/// errors — Meta does not guarantee order within or across POSTs.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<WaEvent>, ParseError> {
    let root: Value = serde_json::from_slice(body)?;
    if root.get("object").and_then(Value::as_str) != Some("whatsapp_business_account") {
        return Err(ParseError::NotWhatsapp);
    }
    let mut messages = Vec::new();
    let mut statuses = Vec::new();
    let mut errors = Vec::new();
    let mut skipped = 0usize;
    let mut changes = Vec::new();
    for change in array(&root, "entry").iter().flat_map(|e| array(e, "changes")) {
        let field = change.get("field").and_then(Value::as_str);
        if field != Some("messages") && field != Some("user_id_update") {
            // Field names are Meta's vocabulary, not personal data.
            tracing::debug!(field, "webhook change skipped");
            continue;
        }
        let Some(value) = change.get("value") else { continue };
        let route = value
            .pointer("/metadata/phone_number_id")
            .and_then(id_string)
            .unwrap_or_default();
        for u in array(value, "user_id_update") {
            match identity::from_update(&route, u) {
                Some(c) => changes.push(c),
                None => skipped += 1,
            }
        }
        let contacts = array(value, "contacts");
        for m in array(value, "messages") {
            if let Some(change) = identity::from_system(&route, m) {
                changes.push(change);
                continue;
            }
            match message(&route, m, contacts) {
                Some(msg) => messages.push(msg),
                None => skipped += 1,
            }
        }
        for s in array(value, "statuses") {
            match status(&route, s) {
                Some(st) => statuses.push(st),
                None => skipped += 1,
            }
        }
        for e in array(value, "errors") {
            errors.push(WaEvent::Error {
                route: route.clone(),
                error: provider_error(e),
            });
        }
    }
    if skipped > 0 {
        tracing::warn!(skipped, "webhook items without id, sender or known status skipped");
    }
    messages.sort_by_key(|m| m.timestamp);
    statuses.sort_by_key(|s| (s.timestamp, s.status));
    changes.sort_by_key(|c| c.timestamp);
    // A change of id first: the messages that follow come under the new one.
    let mut events: Vec<WaEvent> = changes.into_iter().map(WaEvent::IdentityChange).collect();
    events.extend(messages.into_iter().map(WaEvent::Message));
    events.extend(statuses.into_iter().map(WaEvent::Status));
    events.extend(errors);
    Ok(events)
}

/// `v[key]` as a slice, empty when absent or not an array.
fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// Ids are JSON strings in Meta's payloads; accept numbers too, reject empty.
pub(super) fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Unix seconds, sent as a string ("1749538200"); a missing or odd value becomes 0.
pub(super) fn timestamp(v: &Value) -> i64 {
    match v.get("timestamp") {
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

pub(super) fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A message: its sender is the BSUID (`from_user_id`) when present, else the number
/// (`from`); a message with neither is skipped. The username comes from the contact with
/// the same BSUID or number (`contacts[].profile.username`), without a leading `@` (Meta's
/// examples show both).
fn message(route: &str, m: &Value, contacts: &[Value]) -> Option<InboundMessage> {
    let phone = m.get("from").and_then(id_string);
    let user_id = m.get("from_user_id").and_then(id_string);
    let from = user_id.clone().or_else(|| phone.clone())?;
    let contact = contacts.iter().find(|c| {
        (user_id.is_some() && c.get("user_id").and_then(id_string) == user_id)
            || (phone.is_some() && c.get("wa_id").and_then(id_string) == phone)
    });
    let username = contact
        .and_then(|c| str_at(c, "/profile/username"))
        .map(|u| u.trim().trim_start_matches('@').to_string())
        .filter(|u| !u.is_empty());
    Some(InboundMessage {
        channel: Channel::Whatsapp,
        route: route.to_string(),
        from,
        phone,
        user_id,
        username,
        id: m.get("id").and_then(id_string)?,
        timestamp: timestamp(m),
        body: body(m),
        callback_id: None,
    })
}

fn body(m: &Value) -> Body {
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    let button = |id: Option<&str>| match id {
        Some(id) if !id.is_empty() => Body::Button { id: id.to_string() },
        _ => Body::Unsupported,
    };
    match kind {
        "text" => match str_at(m, "/text/body") {
            Some(text) if !text.trim().is_empty() => Body::Text { text: text.to_string() },
            // A text with no words: nothing to answer.
            _ => Body::Event,
        },
        "interactive" => match str_at(m, "/interactive/type") {
            Some("button_reply") => button(str_at(m, "/interactive/button_reply/id")),
            Some("list_reply") => button(str_at(m, "/interactive/list_reply/id")),
            // nfm_reply (Flows, address) and anything newer: we never send those.
            _ => Body::Unsupported,
        },
        "button" => button(str_at(m, "/button/payload")),
        "image" | "audio" | "video" | "document" | "sticker" => Body::Media {
            media: kind.to_string(),
        },
        "location" => Body::Location,
        "contacts" => Body::Contacts,
        "reaction" => Body::Reaction,
        // Written by WhatsApp, not the citizen: a number change, a chat opened.
        "system" | "request_welcome" => Body::Event,
        // unsupported, order, edits, revokes, …
        _ => Body::Unsupported,
    }
}

fn status(route: &str, s: &Value) -> Option<StatusUpdate> {
    let status = match s.get("status").and_then(Value::as_str)? {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "played" => DeliveryStatus::Played,
        "failed" => DeliveryStatus::Failed,
        _ => return None,
    };
    Some(StatusUpdate {
        channel: Channel::Whatsapp,
        route: route.to_string(),
        message_id: s.get("id").and_then(id_string)?,
        // The number when the message went to it, else the BSUID (`recipient_user_id`).
        recipient: s
            .get("recipient_id")
            .and_then(id_string)
            .or_else(|| s.get("recipient_user_id").and_then(id_string))
            .unwrap_or_default(),
        status,
        timestamp: timestamp(s),
        errors: array(s, "errors").iter().map(provider_error).collect(),
    })
}

/// Code and title only: `message` and `error_data.details` may echo what was sent.
fn provider_error(e: &Value) -> ProviderError {
    ProviderError {
        code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
        title: e
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .chars()
            .take(200)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/whatsapp/", $name)).as_bytes()
        };
    }

    const ROUTE: &str = "100000000000001";
    const USER: &str = "393330000001";

    fn only_message(raw: &[u8]) -> InboundMessage {
        match parse_webhook(raw).expect("parses").as_slice() {
            [WaEvent::Message(m)] => m.clone(),
            other => panic!("expected one message, got {other:?}"),
        }
    }

    fn only_status(raw: &[u8]) -> StatusUpdate {
        match parse_webhook(raw).expect("parses").as_slice() {
            [WaEvent::Status(s)] => s.clone(),
            other => panic!("expected one status, got {other:?}"),
        }
    }

    #[test]
    fn text_with_escaped_accents() {
        let m = only_message(fixture!("wa_text.json"));
        assert_eq!(
            m,
            InboundMessage {
                channel: Channel::Whatsapp,
                route: ROUTE.into(),
                from: USER.into(),
                id: "wamid.HBgMMzkzMzMwMDAwMDAxFQIAEhggQTEB".into(),
                timestamp: 1749538200,
                body: Body::Text {
                    text: "Sì, è già così: a che ora apre l'ufficio anagrafe?".into()
                },
                callback_id: None,
                phone: Some(USER.into()),
                user_id: None,
                username: None,
            }
        );
    }

    #[test]
    fn buttons_lists_and_template_quick_replies_give_our_id() {
        let b = only_message(fixture!("wa_interactive_button_reply.json"));
        assert_eq!(
            b.body,
            Body::Button {
                id: "consent-yes".into()
            }
        );
        let l = only_message(fixture!("wa_list_reply.json"));
        assert_eq!(
            l.body,
            Body::Button {
                id: "topic-tributi".into()
            }
        );
        let t = only_message(fixture!("wa_button_template_quick_reply.json"));
        assert_eq!(
            t.body,
            Body::Button {
                id: "unsubscribe".into()
            }
        );
        assert_eq!(t.timestamp, 1749538380);
    }

    #[test]
    fn media_location_reaction_unsupported() {
        assert_eq!(
            only_message(fixture!("wa_image.json")).body,
            Body::Media { media: "image".into() }
        );
        assert_eq!(only_message(fixture!("wa_location.json")).body, Body::Location);
        assert_eq!(only_message(fixture!("wa_unsupported.json")).body, Body::Unsupported);
        // A reaction and its removal (no emoji): both are reactions.
        let events = parse_webhook(fixture!("wa_reaction.json")).unwrap();
        assert_eq!(events.len(), 2);
        assert!(events
            .iter()
            .all(|e| matches!(e, WaEvent::Message(m) if m.body == Body::Reaction)));
    }

    #[test]
    fn statuses() {
        for (raw, want, ts) in [
            (fixture!("wa_status_sent.json"), DeliveryStatus::Sent, 1749538700),
            (
                fixture!("wa_status_delivered.json"),
                DeliveryStatus::Delivered,
                1749538701,
            ),
            (fixture!("wa_status_read.json"), DeliveryStatus::Read, 1749538760),
        ] {
            let s = only_status(raw);
            assert_eq!(
                (s.status, s.timestamp, s.route.as_str(), s.recipient.as_str()),
                (want, ts, ROUTE, USER)
            );
            assert_eq!(s.message_id, "wamid.HBgMMzkzMzMwMDAwMDAxFQIAERgSOUT5");
            assert!(s.errors.is_empty());
        }
        let f = only_status(fixture!("wa_status_failed_131047.json"));
        assert_eq!(f.status, DeliveryStatus::Failed);
        assert_eq!(
            f.errors,
            vec![ProviderError {
                code: 131047,
                title: "Re-engagement message".into()
            }]
        );
    }

    #[test]
    fn value_errors_become_error_events() {
        let events = parse_webhook(fixture!("wa_errors_webhook_130429.json")).unwrap();
        assert_eq!(
            events,
            vec![WaEvent::Error {
                route: ROUTE.into(),
                error: ProviderError {
                    code: 130429,
                    title: "Rate limit hit".into()
                }
            }]
        );
    }

    #[test]
    fn batch_of_two_entries_and_two_changes_is_complete_and_ordered() {
        let events = parse_webhook(fixture!("wa_batch.json")).unwrap();
        let ids: Vec<(&str, &str)> = events
            .iter()
            .map(|e| match e {
                WaEvent::Message(m) => (m.route.as_str(), m.id.as_str()),
                WaEvent::Status(s) => (s.route.as_str(), s.message_id.as_str()),
                WaEvent::Error { route, .. } => (route.as_str(), "error"),
                WaEvent::IdentityChange(c) => (c.route.as_str(), "identity"),
            })
            .collect();
        assert_eq!(
            ids,
            [
                ("100000000000001", "wamid.BATCH1"),
                ("100000000000002", "wamid.BATCH2"),
                ("100000000000001", "wamid.BATCH3"),
                ("100000000000002", "wamid.BATCH4"),
                ("100000000000001", "wamid.HBgMMzkzMzMwMDAwMDAxFQIAERgSOUT5"),
                ("100000000000001", "wamid.HBgMMzkzMzMwMDAwMDAxFQIAERgSOUT5"),
                ("100000000000002", "wamid.OUT2"),
            ]
        );
        // Same second: delivered sorts before read although Meta sent read first.
        let st: Vec<DeliveryStatus> = events
            .iter()
            .filter_map(|e| {
                if let WaEvent::Status(s) = e {
                    Some(s.status)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(
            st,
            [DeliveryStatus::Delivered, DeliveryStatus::Read, DeliveryStatus::Failed]
        );
        assert!(matches!(&events[3], WaEvent::Message(m) if m.body == Body::Media { media: "sticker".into() }));
        assert!(matches!(&events[0], WaEvent::Message(m) if m.body == Body::Text { text: "primo".into() }));
    }

    #[test]
    fn not_whatsapp_or_not_json_is_an_error() {
        assert!(matches!(
            parse_webhook(br#"{"object":"page","entry":[]}"#),
            Err(ParseError::NotWhatsapp)
        ));
        assert!(matches!(
            parse_webhook(br#"{"entry":[]}"#),
            Err(ParseError::NotWhatsapp)
        ));
        assert!(matches!(parse_webhook(b"[]"), Err(ParseError::NotWhatsapp)));
        assert!(matches!(parse_webhook(b"{\"object\":"), Err(ParseError::Json(_))));
        assert!(matches!(parse_webhook(b""), Err(ParseError::Json(_))));
        assert!(matches!(parse_webhook(b"\xff\xfe"), Err(ParseError::Json(_))));
    }

    #[test]
    fn tolerant_of_odd_shapes() {
        let ok = |s: &str| parse_webhook(s.as_bytes()).expect(s);
        assert!(ok(r#"{"object":"whatsapp_business_account"}"#).is_empty());
        assert!(ok(r#"{"object":"whatsapp_business_account","entry":{}}"#).is_empty());
        assert!(
            ok(r#"{"object":"whatsapp_business_account","entry":[1,{"changes":[null,{"field":"messages"}]}]}"#)
                .is_empty()
        );
        // Other fields are skipped.
        let tpl = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"message_template_status_update","value":{"messages":[{"from":"1","id":"x","type":"text"}]}}]}]}"#;
        assert!(ok(tpl).is_empty());
        // No id → skipped; no type, no metadata, numeric timestamp, unknown type, text without body.
        let odd = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{
            "messages":[{"from":"1","type":"text","text":{"body":"x"}},
                        {"from":"1","id":"a","timestamp":7},
                        {"from":"1","id":"b","timestamp":"soon","type":"hologram"},
                        {"from":"1","id":"c","timestamp":"1","type":"text"},
                        {"from":"1","id":"d","timestamp":"2","type":"interactive","interactive":{"type":"nfm_reply"}},
                        {"from":"1","id":"e","timestamp":"3","type":"button","button":{"text":"no payload"}}],
            "statuses":[{"id":"s","status":"deleted"},{"status":"read"},{"id":"p","status":"played","timestamp":"9"}],
            "errors":[{}]}}]}]}"#;
        let service = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{
            "messages":[{"from":"1","id":"s1","timestamp":"1","type":"system","system":{"body":"User changed number"}},
                        {"from":"1","id":"s2","timestamp":"2","type":"request_welcome"},
                        {"from":"1","id":"s3","timestamp":"3","type":"text","text":{"body":"   "}}]}}]}]}"#;
        for e in ok(service) {
            if let WaEvent::Message(m) = e {
                assert_eq!(m.body, Body::Event, "{}", m.id);
            }
        }
        let events = ok(odd);
        let bodies: Vec<(String, i64, Body)> = events
            .iter()
            .filter_map(|e| {
                if let WaEvent::Message(m) = e {
                    Some((m.id.clone(), m.timestamp, m.body.clone()))
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(
            bodies,
            [
                ("b".into(), 0, Body::Unsupported),
                // A text without a body is not something to answer.
                ("c".into(), 1, Body::Event),
                ("d".into(), 2, Body::Unsupported),
                ("e".into(), 3, Body::Unsupported),
                ("a".into(), 7, Body::Unsupported),
            ]
        );
        assert!(events
            .iter()
            .any(|e| matches!(e, WaEvent::Status(s) if s.status == DeliveryStatus::Played && s.route.is_empty())));
        assert!(events
            .iter()
            .any(|e| matches!(e, WaEvent::Error { error, .. } if error.code == 0 && error.title.is_empty())));
        assert_eq!(events.len(), 7);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let depth = 100_000;
        let mut raw = String::from(r#"{"object":"whatsapp_business_account","entry":"#);
        raw.push_str(&"[".repeat(depth));
        raw.push_str(&"]".repeat(depth));
        raw.push('}');
        assert!(matches!(parse_webhook(raw.as_bytes()), Err(ParseError::Json(_))));
    }

    #[test]
    fn large_batch_parses() {
        let one =
            r#"{"from":"393330000001","id":"wamid.N","timestamp":"1749538200","type":"text","text":{"body":"ciao"}}"#;
        let msgs = vec![one; 1000].join(",");
        let raw = format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"field":"messages","value":{{"metadata":{{"phone_number_id":"1"}},"messages":[{msgs}]}}}}]}}]}}"#
        );
        assert_eq!(parse_webhook(raw.as_bytes()).unwrap().len(), 1000);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Mix pure noise with mutated fixtures, which reach deeper into the walker.
        let seed = fixture!("wa_batch.json");
        for i in 0..2000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                let len = (next() % 512) as usize;
                (0..len).map(|_| next() as u8).collect()
            } else {
                let mut b = seed.to_vec();
                for _ in 0..(next() % 8) {
                    let at = (next() as usize) % b.len();
                    b[at] = b"{}[]\\\",:0a-"[(next() % 11) as usize];
                }
                b
            };
            let _ = parse_webhook(&bytes);
        }
    }
}
