//! WhatsApp usernames and business-scoped user ids (issue 23) through the real server, with
//! Meta's documented payloads (`tests/fixtures/whatsapp/bsuid/`) signed and replayed: a
//! citizen from before the rollout is linked once on their next message and found by their
//! BSUID alone; a citizen with a username and no number subscribes and is answered through
//! `recipient`; a change of number keeps the record; statuses sent to a BSUID are matched.

use std::time::Duration;

use serde_json::{json, Value};
use sportello::storage::CitizenKey;

use crate::harness::server::{wa_text, Harness};

const PHONE: &str = "393471234567";
const BSUID: &str = "IT.1502576394655843";

/// A fixture with the comune's route, a message id and a timestamp of our choosing.
fn replay(name: &str, comune: &str, id: &str, ts: i64, text: Option<&str>) -> Value {
    let path = crate::util::root().join("tests/fixtures/whatsapp/bsuid").join(name);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let value = &mut v["entry"][0]["changes"][0]["value"];
    value["metadata"]["phone_number_id"] = json!(format!("pn-{comune}"));
    if let Some(m) = value["messages"].get_mut(0) {
        m["id"] = json!(id);
        m["timestamp"] = json!(ts.to_string());
        if let Some(text) = text {
            m["text"]["body"] = json!(text);
        }
    }
    v
}

async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..500 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_from_before_the_rollout_is_linked_once_and_answered_at_their_number() {
    let h = Harness::start().await;
    let ts = jiff::Timestamp::now().as_second();
    // Today's version: subscribed by number.
    assert_eq!(
        h.post_signed(&wa_text("brusson", PHONE, "wamid.old.1", ts, "MI ISCRIVO"))
            .await,
        200
    );
    h.wait_sent(1).await;
    let by_phone = CitizenKey::new("brusson", "whatsapp", PHONE);
    assert_eq!(h.status("brusson", "whatsapp", PHONE), "subscribed");
    // The rollout: the next message carries the BSUID and the number.
    let with_both = replay(
        "message_with_phone.json",
        "brusson",
        "wamid.new.1",
        ts + 1,
        Some("I MIEI DATI"),
    );
    assert_eq!(h.post_signed(&with_both).await, 200);
    let sent = h.wait_sent(2).await;
    assert_eq!(
        sent[1].1["to"],
        format!("+{PHONE}"),
        "answered at the number: {:?}",
        sent[1].1
    );
    // Then without the number (a username): the same record, answered at the number it holds.
    let without = replay(
        "message_with_phone.json",
        "brusson",
        "wamid.new.2",
        ts + 2,
        Some("I MIEI DATI"),
    );
    let mut without = without;
    let m = &mut without["entry"][0]["changes"][0]["value"]["messages"][0];
    m.as_object_mut().unwrap().remove("from");
    without["entry"][0]["changes"][0]["value"]["contacts"][0]
        .as_object_mut()
        .unwrap()
        .remove("wa_id");
    assert_eq!(h.post_signed(&without).await, 200);
    let sent = h.wait_sent(3).await;
    assert_eq!(sent[2].1["to"], format!("+{PHONE}"));
    // One record, one link, its BSUID and username kept on it; no record under the BSUID.
    let citizens = h.store.citizens("brusson").unwrap();
    assert_eq!(citizens.len(), 1, "{citizens:?}");
    let record = h.store.citizen(&by_phone).unwrap().unwrap();
    assert_eq!(record.whatsapp.bsuid.as_deref(), Some(BSUID));
    assert_eq!(record.whatsapp.username.as_deref(), Some("graziadeledda"));
    assert_eq!(
        h.store.alias(&CitizenKey::new("brusson", "whatsapp", BSUID)).unwrap(),
        Some(by_phone.clone())
    );
    let links = h.store.audit(Some("brusson")).unwrap();
    assert_eq!(links.iter().filter(|(_, a)| a.action == "identity-link").count(), 1);
    // Leaving erases the link with the record (Brusson deletes).
    let leave = replay(
        "message_with_phone.json",
        "brusson",
        "wamid.new.3",
        ts + 3,
        Some("MI CANCELLO"),
    );
    assert_eq!(h.post_signed(&leave).await, 200);
    wait_for("the erasure", || h.store.citizen(&by_phone).unwrap().is_none()).await;
    wait_for("the alias erased", || {
        h.store
            .alias(&CitizenKey::new("brusson", "whatsapp", BSUID))
            .unwrap()
            .is_none()
    })
    .await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_without_a_number_subscribes_is_answered_by_recipient_and_keeps_their_record_across_a_new_number() {
    let h = Harness::start().await;
    let ts = jiff::Timestamp::now().as_second();
    let bsuid = "US.13491208655302741918";
    let first = replay(
        "message_without_phone.json",
        "brusson",
        "wamid.u.1",
        ts,
        Some("MI ISCRIVO"),
    );
    assert_eq!(h.post_signed(&first).await, 200);
    let sent = h.wait_sent(1).await;
    assert_eq!(sent[0].1["recipient"], bsuid, "{:?}", sent[0].1);
    assert!(sent[0].1.get("to").is_none());
    let key = CitizenKey::new("brusson", "whatsapp", bsuid);
    assert_eq!(h.status("brusson", "whatsapp", bsuid), "subscribed");
    let record = h.store.citizen(&key).unwrap().unwrap();
    assert_eq!(record.whatsapp.username.as_deref(), Some("realsheenanelson"));
    assert_eq!(record.whatsapp.phone, None);
    // A status of the reply sent to the BSUID (no recipient_id) is matched by its id.
    let mut status: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::util::root().join("tests/fixtures/whatsapp/bsuid/status_delivered_to_bsuid.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let value = &mut status["entry"][0]["changes"][0]["value"];
    value["metadata"]["phone_number_id"] = json!("pn-brusson");
    value["statuses"][0]["id"] = json!("wamid.out.1");
    value["statuses"][0]["timestamp"] = json!((ts + 1).to_string());
    assert_eq!(h.post_signed(&status).await, 200);
    let sent_key = sportello::storage::keys::sent_key("whatsapp", "wamid.out.1");
    wait_for("the delivered status", || {
        h.store
            .sent(&sent_key)
            .unwrap()
            .is_some_and(|s| s.status == sportello::channel::DeliveryStatus::Delivered)
    })
    .await;
    // A new number: a system message with the new BSUID; the next message under it
    // reaches the same record, subscribed, with the new number kept.
    let mut change = replay(
        "system_user_changed_number.json",
        "brusson",
        "wamid.u.sys",
        ts + 2,
        None,
    );
    let system = &mut change["entry"][0]["changes"][0]["value"]["messages"][0]["system"];
    system["previous_user_id"] = json!(bsuid);
    assert_eq!(h.post_signed(&change).await, 200);
    let next = replay(
        "message_without_phone.json",
        "brusson",
        "wamid.u.2",
        ts + 3,
        Some("I MIEI DATI"),
    );
    let mut next = next;
    let value = &mut next["entry"][0]["changes"][0]["value"];
    value["messages"][0]["from_user_id"] = json!("IT.2718281828459045");
    value["contacts"][0]["user_id"] = json!("IT.2718281828459045");
    assert_eq!(h.post_signed(&next).await, 200);
    let sent = h.wait_sent(2).await;
    assert_eq!(
        sent[1].1["to"], "+393489876543",
        "the new number is known: {:?}",
        sent[1].1
    );
    assert_eq!(h.store.citizens("brusson").unwrap().len(), 1);
    assert_eq!(h.status("brusson", "whatsapp", bsuid), "subscribed");
    assert!(h
        .store
        .audit(Some("brusson"))
        .unwrap()
        .iter()
        .any(|(_, a)| a.action == "identity-change" && !a.detail.contains(bsuid)));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_find_a_citizen_by_number_or_bsuid_and_see_the_username_not_the_id() {
    use crate::harness::console::{csrf_field, get, login, post, seed_accounts, ADMIN, PASSWORD};
    use sportello::staff::citizen::{run, Answer, Op, Request};
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let now = jiff::Timestamp::now();
    // One keyed by BSUID whose number is known, one keyed by number with its BSUID linked.
    let by_bsuid = CitizenKey::new("brusson", "whatsapp", BSUID);
    let mut c = sportello::dialogue::Citizen::new(now);
    c.state = sportello::dialogue::State::Subscribed;
    c.whatsapp.phone = Some(PHONE.into());
    c.whatsapp.username = Some("graziadeledda".into());
    h.store.put_citizen(&by_bsuid, &c).unwrap();
    let by_phone = CitizenKey::new("brusson", "whatsapp", "393330099001");
    h.store
        .put_citizen(&by_phone, &sportello::dialogue::Citizen::new(now))
        .unwrap();
    h.store
        .put_alias(&CitizenKey::new("brusson", "whatsapp", "IT.42424242"), &by_phone)
        .unwrap();
    let engine = sportello::service::runner::Engine::new(
        sportello::flow::load_embedded(&sportello::i18n::Locales::embedded().unwrap()).unwrap(),
        sportello::i18n::Locales::embedded().unwrap(),
        h.store.clone(),
    );
    let show = |from: &str| {
        let request = Request {
            op: Op::Show,
            comune: "brusson".into(),
            channel: "whatsapp".into(),
            from: from.into(),
            by: String::new(),
            reason: String::new(),
        };
        match run(&engine, &request, now).unwrap() {
            Answer::Done(v) => v["citizen"].as_str().unwrap().to_string(),
            other => panic!("{from}: {other:?}"),
        }
    };
    assert_eq!(show(BSUID), BSUID);
    assert_eq!(show("+39 347 123 4567"), BSUID, "its number finds it too");
    assert_eq!(
        show("IT.42424242"),
        "393330099001",
        "a linked BSUID finds the record keyed by number"
    );
    // The console's search: the BSUID as typed, the page shows the username and masks the id.
    let cookie = login(&h, ADMIN, PASSWORD).await;
    let (_, _, inbox) = get(&h, "/staff/brusson/inbox", &cookie).await;
    for typed in [BSUID, "347 123 4567"] {
        let (status, location, body) = post(
            &h,
            "/staff/brusson/citizens",
            &cookie,
            &[("csrf", &csrf_field(&inbox)), ("number", typed)],
        )
        .await;
        assert_eq!(status, 303, "{typed}: {body}");
        let location = location.unwrap();
        assert!(
            location.ends_with(&sportello::console::desk::reference(&by_bsuid)),
            "{location}"
        );
        let (_, _, page) = get(&h, &location, &cookie).await;
        assert!(page.contains("@graziadeledda"), "{page}");
        assert!(!page.contains(BSUID) && !page.contains(PHONE), "masked: {page}");
        assert!(page.contains("843"), "the id masked like a number");
    }
    h.stop().await;
}
