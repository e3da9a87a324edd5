//! End to end through the real HTTP server on a loopback port, with a fake Graph API and a
//! fake Telegram Bot API on loopback: real HTTP both ways, no mocks of our own functions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sportello::channel::whatsapp::sign;
use sportello::storage::{CitizenKey, Store};

use crate::harness::server::{
    say, signed_request, texts_to, wa_batch, wa_message, wa_text, Harness, APP_SECRET, COMUNI,
};

/// Every recipient the fake Graph API sent a message to, one entry per message, sorted.
fn recipients(sent: &[(String, Value)]) -> Vec<String> {
    let mut to: Vec<String> = sent
        .iter()
        .map(|(_, b)| b["to"].as_str().unwrap().trim_start_matches('+').to_string())
        .collect();
    to.sort();
    to
}

/// Runs a job in `citizen`'s Madone lane that holds the lane until the returned sender is
/// used (or dropped); the handle yields the job's result.
fn hold_lane(h: &Harness, citizen: &str) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<Option<()>>) {
    let key = CitizenKey::new("madone", "whatsapp", citizen);
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let server = h.server.clone();
    let held = tokio::spawn(async move {
        server
            .lanes()
            .in_lane(key, move || {
                let _ = wait.recv();
            })
            .await
    });
    (release, held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_comune_subscribes_registers_and_unsubscribes_over_whatsapp() {
    every_comune_over_whatsapp(Harness::start().await).await;
}

/// The same conversations and redeliveries through a server on PostgreSQL (issue #10).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_on_postgres() {
    let Some(url) = crate::harness::postgres::test_database_url() else {
        return;
    };
    let schema = crate::harness::postgres::TestSchema::new(&url, "server");
    let store: Arc<dyn Store> = Arc::new(schema.open());
    every_comune_over_whatsapp(Harness::start_on(Some(store.clone())).await).await;
    redeliveries_change_nothing(Harness::start_on(Some(store)).await).await;
}

async fn every_comune_over_whatsapp(h: Harness) {
    let mut seq = 0;
    let c = "393330000001";

    let r = say(&h, "isola-delle-femmine", c, &mut seq, "ATTIVA ISCRIZIONE", 1).await;
    assert!(r[0].contains("Servizi Demografici su WhatsApp"), "{r:?}");
    assert_eq!(h.status("isola-delle-femmine", "whatsapp", c), "subscribed");
    say(&h, "isola-delle-femmine", c, &mut seq, "disattiva iscrizione", 1).await;
    assert_eq!(h.status("isola-delle-femmine", "whatsapp", c), "none");

    let line =
        "REGISTRAZIONE Mario Rossi - Isili 12/03/1980 - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy";
    let r = say(&h, "isili", c, &mut seq, line, 1).await;
    assert!(r[0].contains("Registrazione a WhatsApp ISILI completata"), "{r:?}");
    assert_eq!(h.status("isili", "whatsapp", c), "subscribed");
    say(&h, "isili", c, &mut seq, "CANCELLAZIONE", 1).await;
    assert_eq!(h.status("isili", "whatsapp", c), "none");

    say(&h, "madone", c, &mut seq, "ATTIVA ISCRIZIONE", 1).await;
    say(&h, "madone", c, &mut seq, "DISATTIVA ISCRIZIONE", 1).await;
    assert_eq!(h.status("madone", "whatsapp", c), "unsubscribed");

    say(&h, "assemini", c, &mut seq, "Buongiorno", 2).await;
    say(&h, "assemini", c, &mut seq, "Mario", 1).await;
    say(&h, "assemini", c, &mut seq, "Rossi", 1).await;
    say(&h, "assemini", c, &mut seq, "12/03/1980", 2).await;
    say(&h, "assemini", c, &mut seq, "Iscrivimi", 2).await;
    let sent_before = h.sent().len();
    say(&h, "assemini", c, &mut seq, "sì", 1).await;
    assert_eq!(h.status("assemini", "whatsapp", c), "subscribed");
    // The acceptance question went out as reply buttons.
    let ask = &h.sent()[sent_before - 1].1;
    assert_eq!(ask["type"], "interactive", "{ask}");
    say(&h, "assemini", c, &mut seq, "Cancellami", 1).await;
    assert_eq!(h.status("assemini", "whatsapp", c), "none");

    let r = say(&h, "brusson", c, &mut seq, "JE M'INSCRIS", 1).await;
    assert!(r[0].contains("Inscription confirmée"), "{r:?}");
    say(&h, "brusson", c, &mut seq, "JE ME DÉSINSCRIS", 1).await;
    assert_eq!(h.status("brusson", "whatsapp", c), "none");

    // Each reply went out from its own comune's number.
    assert!(h.sent().iter().all(|(pnid, _)| pnid.starts_with("pn-")));
    assert!(
        !h.provider.lock().unwrap().read_receipts.is_empty(),
        "messages are marked as read"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_are_refused_and_change_nothing() {
    let h = Harness::start().await;
    let body = serde_json::to_vec(&wa_text(
        "madone",
        "393330000002",
        "wamid.s1",
        1_800_000_000,
        "ATTIVA ISCRIZIONE — è così",
    ))
    .unwrap();
    assert_eq!(h.post_raw(&body, None).await, 401, "missing");
    assert_eq!(
        h.post_raw(&body, Some(&sign(b"another secret", &body))).await,
        401,
        "wrong secret"
    );
    let mut modified = body.clone();
    let pos = modified.iter().position(|b| *b == b'A').unwrap();
    modified[pos] = b'D';
    assert_eq!(
        h.post_raw(&modified, Some(&sign(APP_SECRET.as_bytes(), &body))).await,
        401,
        "modified body"
    );
    assert_eq!(h.post_raw(&body, Some("sha256=zz")).await, 401, "malformed");
    assert_eq!(h.status("madone", "whatsapp", "393330000002"), "none");
    // The right signature over the same bytes, accented text included, is accepted.
    assert_eq!(h.post_raw(&body, Some(&sign(APP_SECRET.as_bytes(), &body))).await, 200);
    h.wait_sent(1).await;
    assert_eq!(h.status("madone", "whatsapp", "393330000002"), "subscribed");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_out_of_order_deliveries_change_nothing() {
    redeliveries_change_nothing(Harness::start().await).await;
}

async fn redeliveries_change_nothing(h: Harness) {
    let c = "393330000003";
    let sub = wa_text("brusson", c, "wamid.d1", 1_800_000_001, "MI ISCRIVO");
    assert_eq!(h.post_signed(&sub).await, 200);
    h.wait_sent(1).await;
    // Meta redelivers the same message: acknowledged, not processed again.
    for _ in 0..3 {
        assert_eq!(h.post_signed(&sub).await, 200);
    }
    // Two messages in one batch, listed newest first: processed by timestamp.
    let batch = wa_batch(
        "brusson",
        vec![
            wa_message(
                c,
                "wamid.d3",
                1_800_000_003,
                json!({"type": "text", "text": {"body": "MI ISCRIVO"}}),
            ),
            wa_message(
                c,
                "wamid.d2",
                1_800_000_002,
                json!({"type": "text", "text": {"body": "MI CANCELLO"}}),
            ),
        ],
    );
    assert_eq!(h.post_signed(&batch).await, 200);
    assert_eq!(h.post_signed(&batch).await, 200);
    let sent = h.wait_sent(3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts = texts_to(&h.sent(), c);
    assert_eq!(texts.len(), 3, "one reply per distinct message: {texts:?}");
    assert!(
        texts[1].contains("cancellato definitivamente"),
        "cancel came first: {texts:?}"
    );
    assert_eq!(h.status("brusson", "whatsapp", c), "subscribed");
    drop(sent);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_storm_ends_with_every_reply_delivered_once() {
    let h = Harness::start().await;
    h.provider.lock().unwrap().refuse = 25;
    let citizens: Vec<String> = (0..10).map(|i| format!("3933300001{i:02}")).collect();
    for (i, c) in citizens.iter().enumerate() {
        assert_eq!(
            h.post_signed(&wa_text(
                "isola-delle-femmine",
                c,
                &format!("wamid.storm.{i}"),
                1_800_000_000,
                "ATTIVA ISCRIZIONE"
            ))
            .await,
            200
        );
    }
    let sent = h.wait_sent(10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for (_, b) in h.sent() {
        *per.entry(b["to"].as_str().unwrap().trim_start_matches('+').to_string())
            .or_default() += 1;
    }
    assert_eq!(per.len(), 10);
    assert!(per.values().all(|n| *n == 1), "{per:?}");
    assert_eq!(h.provider.lock().unwrap().refused, 25);
    drop(sent);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_number_is_acknowledged_and_never_processed() {
    let h = Harness::start().await;
    let mut body = wa_text("madone", "393330000004", "wamid.u1", 1_800_000_000, "ATTIVA ISCRIZIONE");
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("pn-nobody");
    assert_eq!(h.post_signed(&body).await, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(h.sent().is_empty());
    for c in COMUNI {
        assert_eq!(h.status(c, "whatsapp", "393330000004"), "none");
    }
    let metrics = h.get_text("/metrics").await;
    assert!(metrics.contains("sportello_inbound_unrouted_total 1"), "{metrics}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_webhooks_get_a_4xx() {
    let h = Harness::start().await;
    for raw in [&b"not json"[..], br#"{"object":"page","entry":[]}"#, b"{\"object\":"] {
        assert_eq!(
            h.post_raw(raw, Some(&sign(APP_SECRET.as_bytes(), raw))).await,
            400,
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
    let json = [
        ("content-type", "application/json"),
        ("x-hub-signature-256", "sha256=00"),
    ];
    let over = sportello::server::MAX_WEBHOOK_BYTES + 10;
    assert_eq!(
        crate::util::status_for_declared_length(&h.base, "/webhook/whatsapp", &json, over).await,
        413
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verification_handshake() {
    let h = Harness::start().await;
    let url = |token: &str| {
        format!(
            "{}/webhook/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}",
            h.base
        )
    };
    let ok = h.http.get(url("verify-me")).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    assert_eq!(h.http.get(url("wrong")).send().await.unwrap().status().as_u16(), 403);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_messages_and_buttons() {
    let h = Harness::start().await;
    let update = |id: i64, body: Value| {
        let mut u = json!({"update_id": id});
        for (k, v) in body.as_object().unwrap() {
            u[k] = v.clone();
        }
        u
    };
    let post = |secret: Option<&'static str>, body: Value| {
        let mut req = h.http.post(format!("{}/webhook/telegram/assemini", h.base)).json(&body);
        if let Some(s) = secret {
            req = req.header("x-telegram-bot-api-secret-token", s);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let msg = |id: i64, text: &str| {
        update(
            id,
            json!({"message": {"message_id": id, "date": 1_800_000_000 + id, "chat": {"id": 777, "type": "private"}, "from": {"id": 777, "is_bot": false, "first_name": "M"}, "text": text}}),
        )
    };
    assert_eq!(post(None, msg(1, "Iscrivimi")).await, 401);
    assert_eq!(post(Some("secret-isili"), msg(1, "Iscrivimi")).await, 401);
    assert_eq!(post(Some("secret-assemini"), msg(1, "Iscrivimi")).await, 200);
    assert_eq!(
        post(Some("secret-assemini"), msg(1, "Iscrivimi")).await,
        200,
        "redelivered update"
    );
    h.wait_sent(1).await;
    for (id, text) in [(2, "Mario"), (3, "Rossi"), (4, "12/03/1980")] {
        assert_eq!(post(Some("secret-assemini"), msg(id, text)).await, 200);
    }
    let sent = h.wait_sent(5).await;
    let ask = &sent[4].1;
    assert_eq!(
        ask["reply_markup"]["inline_keyboard"][0][0]["callback_data"], "yes",
        "{ask}"
    );
    let tap = update(
        5,
        json!({"callback_query": {"id": "cb-1", "from": {"id": 777, "is_bot": false, "first_name": "M"}, "data": "yes",
        "message": {"message_id": 5, "date": 1_800_000_005, "chat": {"id": 777, "type": "private"}}}}),
    );
    assert_eq!(post(Some("secret-assemini"), tap).await, 200);
    h.wait_sent(6).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.status("assemini", "telegram", "777"), "subscribed");
    assert_eq!(h.provider.lock().unwrap().callbacks_answered, ["cb-1"]);
    assert!(h.sent().iter().all(|(bot, _)| bot == "bottok-assemini"));
    assert_eq!(h.sent().len(), 6, "the redelivered update was not answered twice");
    // Issue 17: a second tap on the same button, and a redelivered tap, are acknowledged
    // too (else the button spins), whether or not they bring a reply.
    let again = |update_id: i64, cb: &str| {
        update(
            update_id,
            json!({"callback_query": {"id": cb, "from": {"id": 777, "is_bot": false, "first_name": "M"}, "data": "yes",
            "message": {"message_id": 5, "date": 1_800_000_005, "chat": {"id": 777, "type": "private"}}}}),
        )
    };
    assert_eq!(post(Some("secret-assemini"), again(6, "cb-2")).await, 200);
    assert_eq!(
        post(Some("secret-assemini"), again(6, "cb-2")).await,
        200,
        "redelivered"
    );
    for _ in 0..200 {
        if h.provider.lock().unwrap().callbacks_answered.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.provider.lock().unwrap().callbacks_answered, ["cb-1", "cb-2", "cb-2"]);
    // A tap over the citizen's rate limit is dropped unanswered, but acknowledged.
    for id in 7..25 {
        assert_eq!(post(Some("secret-assemini"), msg(id, "ciao")).await, 200);
    }
    assert_eq!(post(Some("secret-assemini"), again(25, "cb-3")).await, 200);
    for _ in 0..200 {
        if h.provider.lock().unwrap().callbacks_answered.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        h.provider.lock().unwrap().callbacks_answered.last().map(String::as_str),
        Some("cb-3")
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_forbid_inline_scripts_framing_and_caching_of_the_console() {
    let h = Harness::start().await;
    for path in [
        "/try?comune=isili",
        "/c/brusson",
        "/staff/login",
        "/try.js",
        "/staff/console.js",
    ] {
        let r = h.http.get(format!("{}{path}", h.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let csp = header("content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline'; connect"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{path}: {csp}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        if path == "/staff/login" {
            assert_eq!(header("cache-control"), "no-store");
        }
        let body = r.text().await.unwrap();
        if !path.ends_with(".js") {
            // Every script is an external file of the server's own.
            for (i, _) in body.match_indices("<script") {
                assert!(body[i..].starts_with("<script src=\"/"), "{path}: inline script");
            }
        }
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_and_the_subscribe_page() {
    let h = Harness::start().await;
    let page = h.get_text("/try?comune=brusson&lang=fr").await;
    assert!(
        page.contains("<html lang=\"fr\">") && page.contains("Essayez"),
        "{page}"
    );
    let subscribe = || async {
        let r = h.http.post(format!("{}/try/api/message", h.base));
        let r = r.json(&json!({"comune": "brusson", "session": "s1", "text": "MI ISCRIVO"}));
        r.send().await.unwrap().json::<Value>().await.unwrap()
    };
    assert_eq!(subscribe().await["replies"][0]["key"], "brusson-subscribed");
    // The simulator's citizens live in its sandbox, never in the store (issue 17)...
    assert!(h
        .store
        .citizen(&CitizenKey::new("brusson", "web", "web-s1"))
        .unwrap()
        .is_none());
    // ...and the sandbox remembers them: the same session is already subscribed.
    assert_eq!(subscribe().await["replies"][0]["key"], "already-subscribed");
    let bad = h
        .http
        .post(format!("{}/try/api/message", h.base))
        .json(&json!({"comune": "brusson", "session": "../x", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);

    let page = h.get_text("/c/brusson?lang=fr").await;
    assert!(
        page.contains("https://wa.me/393483978832?text=JE%20M%27INSCRIS"),
        "click-to-chat link with the French keyword"
    );
    assert!(page.contains("<svg") && page.contains("Notice de confidentialité"));
    let page = h.get_text("/c/isili").await;
    assert!(page.contains("text=REGISTRAZIONE") && page.contains("<html lang=\"it\">"));
    assert_eq!(
        h.http
            .get(format!("{}/c/nowhere", h.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    h.stop().await;
}

/// A reply whose request got no usable answer may have arrived: it is not sent again (at
/// most once), left out of the outbox, and counted among the interrupted replies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_whose_answer_is_unreadable_is_not_sent_again() {
    let h = Harness::start().await;
    h.provider.lock().unwrap().garble = Some("393330000007".into());
    let signed = wa_text("madone", "393330000007", "wamid.g1", 1_800_000_000, "ATTIVA ISCRIZIONE");
    assert_eq!(h.post_signed(&signed).await, 200);
    let started = std::time::Instant::now();
    while h.provider.lock().unwrap().garbled.is_empty() || !h.store.pending_outbound().unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the reply never left the outbox"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Far past the first back-off (5 ms here): a retry would have come by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let garbled = h.provider.lock().unwrap().garbled.clone();
    for (i, body) in garbled.iter().enumerate() {
        assert!(!garbled[..i].contains(body), "sent twice: {garbled:?}");
    }
    let metrics = h
        .http
        .get(format!("{}/metrics", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = format!("sportello_replies_interrupted_total {}", garbled.len());
    assert!(metrics.lines().any(|l| l == line), "{line} not in\n{metrics}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_are_not_retried_and_the_record_says_why() {
    let h = Harness::start().await;
    // A send refused for good: one attempt, the reason in the citizen's record.
    h.provider.lock().unwrap().undeliverable = Some("393330000005".into());
    assert_eq!(
        h.post_signed(&wa_text(
            "madone",
            "393330000005",
            "wamid.p1",
            1_800_000_000,
            "ATTIVA ISCRIZIONE"
        ))
        .await,
        200
    );
    let key = CitizenKey::new("madone", "whatsapp", "393330000005");
    let mut err = None;
    for _ in 0..300 {
        err = h.store.citizen(&key).unwrap().and_then(|c| c.delivery_error);
        if err.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(err.map(|e| e.code), Some(131026));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.provider.lock().unwrap().refused, 1, "never retried");
    assert!(h.store.pending_outbound().unwrap().is_empty(), "left the outbox");

    // A reply accepted, then reported failed by a status webhook.
    assert_eq!(
        h.post_signed(&wa_text(
            "madone",
            "393330000006",
            "wamid.p2",
            1_800_000_000,
            "ATTIVA ISCRIZIONE"
        ))
        .await,
        200
    );
    let sent = h.wait_sent(1).await;
    assert_eq!(sent.len(), 1);
    let status = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "390000000000", "phone_number_id": "pn-madone"},
        "statuses": [{"id": "wamid.out.1", "status": "failed", "timestamp": "1800000100", "recipient_id": "393330000006",
            "errors": [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message", "error_data": {"details": "x"}}]}]}}]}]});
    assert_eq!(h.post_signed(&status).await, 200);
    let c = h
        .store
        .citizen(&CitizenKey::new("madone", "whatsapp", "393330000006"))
        .unwrap()
        .unwrap();
    assert_eq!(c.delivery_error.map(|e| e.code), Some(131047));
    h.stop().await;
}

/// A full backlog holds the next webhook unanswered (so unacknowledged: the provider would
/// redeliver it) until a place frees; then it is journalled, answered and stepped once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_backlog_holds_the_next_webhook_until_a_place_frees() {
    let h = Harness::start_with(None, |o| o.backlog = 1).await;
    // Holds the first citizen's lane, so that their message keeps the only place.
    let (release, held) = hold_lane(&h, "393330000081");
    let text = |from: &str, id: &str| wa_text("madone", from, id, 1_800_000_000, "ATTIVA ISCRIZIONE");
    assert_eq!(h.post_signed(&text("393330000081", "wamid.full.1")).await, 200);
    assert_eq!(h.server.backlog_len(), 1);
    let metrics = h.get_text("/metrics").await;
    assert!(metrics.contains("sportello_backlog 1\n"), "{metrics}");
    let second =
        tokio::spawn(signed_request(&h.http, &h.base, APP_SECRET, &text("393330000082", "wamid.full.2")).send());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !second.is_finished(),
        "the second webhook was answered with the backlog full"
    );
    assert_eq!(h.status("madone", "whatsapp", "393330000082"), "none");
    release.send(()).unwrap();
    assert_eq!(held.await.unwrap(), Some(()));
    let second = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(second.status().as_u16(), 200);
    let sent = h.wait_sent(2).await;
    assert_eq!(recipients(&sent), ["393330000081", "393330000082"], "{sent:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.sent().len(), 2, "a message was stepped twice");
    h.stop().await;
}

/// Past the webhooks in flight, the next one is answered 503 with `Retry-After` at once and
/// nothing of it is kept; redelivered once there is room, it is answered and stepped once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_webhooks_in_flight_the_next_is_shed_and_its_redelivery_goes_through() {
    let h = Harness::start_with(None, |o| {
        o.backlog = 1;
        o.webhook_slots = 1;
    })
    .await;
    let (release, held) = hold_lane(&h, "393330000071");
    let signed = |from: &str, id: &str| {
        signed_request(
            &h.http,
            &h.base,
            APP_SECRET,
            &wa_text("madone", from, id, 1_800_000_000, "ATTIVA ISCRIZIONE"),
        )
    };
    // The first takes the backlog's only place; the second waits for it, in the only slot.
    assert_eq!(
        h.post_signed(&wa_text(
            "madone",
            "393330000071",
            "wamid.shed.1",
            1_800_000_000,
            "ATTIVA ISCRIZIONE"
        ))
        .await,
        200
    );
    let second = tokio::spawn(signed("393330000072", "wamid.shed.2").send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished());
    let shed = tokio::time::timeout(Duration::from_secs(5), signed("393330000073", "wamid.shed.3").send())
        .await
        .expect("a shed webhook is answered at once")
        .unwrap();
    assert_eq!(shed.status().as_u16(), 503);
    assert_eq!(shed.headers()["retry-after"], "1");
    let metrics = h.get_text("/metrics").await;
    assert!(metrics.contains("sportello_webhooks_shed_total 1\n"), "{metrics}");
    release.send(()).unwrap();
    assert_eq!(held.await.unwrap(), Some(()));
    let second = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(second.status().as_u16(), 200);
    assert_eq!(
        h.status("madone", "whatsapp", "393330000073"),
        "none",
        "the shed message was kept"
    );
    // The provider's redelivery of the shed message.
    assert_eq!(
        signed("393330000073", "wamid.shed.3")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let sent = h.wait_sent(3).await;
    assert_eq!(
        recipients(&sent),
        ["393330000071", "393330000072", "393330000073"],
        "{sent:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.sent().len(), 3, "a message was stepped twice");
    h.stop().await;
}

/// One webhook with more messages than the backlog has places takes the whole backlog
/// (it does not wait for places it holds itself), and two such webhooks at once take
/// turns instead of each holding some places and waiting for the others'.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_larger_than_the_backlog_are_taken_whole_in_turn() {
    let h = Harness::start_with(None, |o| o.backlog = 2).await;
    let batch = |first: usize| {
        let messages = (first..first + 3)
            .map(|i| {
                wa_message(
                    &format!("3933300006{i:02}"),
                    &format!("wamid.batch.{i}"),
                    1_800_000_000,
                    json!({"type": "text", "text": {"body": "ATTIVA ISCRIZIONE"}}),
                )
            })
            .collect();
        wa_batch("madone", messages)
    };
    let (first, second) = (batch(0), batch(3));
    let (a, b) = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::join!(h.post_signed(&first), h.post_signed(&second))
    })
    .await
    .expect("the two batches were answered");
    assert_eq!((a, b), (200, 200));
    let sent = h.wait_sent(6).await;
    let expected: Vec<String> = (0..6).map(|i| format!("3933300006{i:02}")).collect();
    assert_eq!(recipients(&sent), expected, "{sent:?}");
    assert_eq!(h.server.backlog_len(), 0);
    h.stop().await;
}
