//! WhatsApp usernames and business-scoped user ids (issue 23): Meta's documented payloads
//! (`tests/fixtures/whatsapp/bsuid/SOURCES.md`) read by the webhook parser; the server's
//! handling of them is in `bsuid_server.rs`.

use sportello::channel::whatsapp::{parse_webhook, WaEvent};
use sportello::channel::{DeliveryStatus, InboundMessage};
use sportello::message::Body;

// Usernames and business-scoped user ids (issue 23), from Meta's documented payloads:
// tests/fixtures/whatsapp/bsuid/SOURCES.md.
macro_rules! bsuid {
    ($name:literal) => {
        include_str!(concat!("fixtures/whatsapp/bsuid/", $name)).as_bytes()
    };
}

fn only_message(events: Vec<WaEvent>) -> InboundMessage {
    match events.as_slice() {
        [WaEvent::Message(m)] => m.clone(),
        other => panic!("one message expected: {other:?}"),
    }
}

#[test]
fn a_message_without_a_number_is_read_by_its_bsuid_with_the_username() {
    let m = only_message(parse_webhook(bsuid!("message_without_phone.json")).unwrap());
    assert_eq!(m.from, "US.13491208655302741918", "the BSUID, not the parent's");
    assert_eq!((m.phone, m.user_id.as_deref()), (None, Some("US.13491208655302741918")));
    assert_eq!(m.username.as_deref(), Some("realsheenanelson"), "without the @");
    assert_eq!(m.route, "106540352242922");
    assert_eq!(
        m.body,
        Body::Text {
            text: "Does it come in another color?".into()
        }
    );
}

#[test]
fn a_message_with_both_carries_the_number_beside_the_bsuid() {
    let m = only_message(parse_webhook(bsuid!("message_with_phone.json")).unwrap());
    assert_eq!(m.from, "IT.1502576394655843");
    assert_eq!(m.phone.as_deref(), Some("393471234567"));
    assert_eq!(m.username.as_deref(), Some("graziadeledda"));
    // Before the rollout: the number alone, as ever.
    let old = only_message(parse_webhook(include_bytes!("fixtures/whatsapp/wa_text.json")).unwrap());
    assert_eq!((old.user_id, old.username), (None, None));
    assert_eq!(Some(old.from), old.phone);
}

#[test]
fn statuses_sent_to_a_number_or_a_bsuid_and_failed_ones_are_read() {
    let status = |bytes: &[u8]| match parse_webhook(bytes).unwrap().as_slice() {
        [WaEvent::Status(s)] => s.clone(),
        other => panic!("one status expected: {other:?}"),
    };
    let to_phone = status(bsuid!("status_delivered_to_phone.json"));
    assert_eq!(
        (to_phone.status, to_phone.recipient.as_str()),
        (DeliveryStatus::Delivered, "16505551234")
    );
    let to_bsuid = status(bsuid!("status_delivered_to_bsuid.json"));
    assert_eq!(to_bsuid.recipient, "US.13491208655302741918");
    assert_eq!(
        to_bsuid.message_id, to_phone.message_id,
        "matched by the message id either way"
    );
    let failed = status(bsuid!("status_failed.json"));
    assert_eq!((failed.status, failed.errors[0].code), (DeliveryStatus::Failed, 131049));
}

#[test]
fn a_change_of_bsuid_is_read_in_each_of_the_three_shapes_meta_documented() {
    let change = |bytes: &[u8]| match parse_webhook(bytes).unwrap().as_slice() {
        [WaEvent::IdentityChange(c)] => c.clone(),
        other => panic!("one identity change expected: {other:?}"),
    };
    let update = change(bsuid!("user_id_update.json"));
    assert_eq!(
        (
            update.previous.as_str(),
            update.current.as_str(),
            update.phone.as_deref()
        ),
        ("IT.1502576394655843", "IT.2718281828459045", Some("393471234567"))
    );
    let number = change(bsuid!("system_user_changed_number.json"));
    assert_eq!(
        (
            number.previous.as_str(),
            number.current.as_str(),
            number.phone.as_deref()
        ),
        ("IT.1502576394655843", "IT.2718281828459045", Some("393489876543"))
    );
    let id = change(bsuid!("system_user_changed_user_id.json"));
    assert_eq!(
        (id.previous.as_str(), id.current.as_str(), id.phone),
        ("IT.1502576394655843", "IT.2718281828459045", None)
    );
    // Any other system message is still a message the citizen did not write.
    let other = br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"p"},"messages":[{"from":"39333","id":"w","timestamp":"1","type":"system","system":{"type":"customer_identity_changed"}}]}}]}]}"#;
    assert!(matches!(only_message(parse_webhook(other).unwrap()).body, Body::Event));
}
