//! The live desk (issue 22), through the real server: a simulator citizen who asks for a
//! person reaches the inbox as a trial (never the store) and the operator's reply streams
//! back to the simulator page; the console's event stream names what changed in its comune
//! only; the thread shows what happened (a request for a person, a claim) and an
//! operator's reply's ticks as the provider's statuses arrive; open streams do not keep the
//! server from stopping.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::COOKIE;
use serde_json::json;
use sportello::console::desk;
use sportello::dialogue::{Citizen, State};
use sportello::staff::inbox;
use sportello::storage::CitizenKey;

use crate::harness::console::{
    client, csrf_field, get, login, operator, post, seed_accounts, ADMIN, ISILI_OP, PASSWORD,
};
use crate::harness::server::Harness;

/// An open event stream and what it has said so far.
struct Stream {
    response: reqwest::Response,
    said: String,
}

impl Stream {
    async fn open(h: &Harness, path: &str, cookie: Option<&str>) -> Stream {
        let mut req = client().get(format!("{}{path}", h.base));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Stream {
            response,
            said: String::new(),
        }
    }

    /// Reads until the stream has said `what` (fails after 10 s).
    async fn until(&mut self, what: &str) -> &str {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !self.said.contains(what) {
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("the stream never said {what:?}; it said {:?}", self.said))
                .unwrap()
                .expect("the stream ended");
            self.said.push_str(&String::from_utf8_lossy(&chunk));
        }
        &self.said
    }
}

const URP: &str = "urp@comune.assemini.ca.it";

async fn simulator(h: &Harness, session: &str, text: &str) -> Vec<String> {
    let r = client()
        .post(format!("{}/try/api/message", h.base))
        .json(&json!({"comune": "assemini", "session": session, "text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    v["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulator_citizen_reaches_the_desk_as_a_trial_and_the_reply_streams_back() {
    let h = Harness::start().await;
    operator(h.store.as_ref(), URP, "assemini");
    let session = "prova-sportello-1";
    // A person asked for in the very first message: handed over at once.
    let replies = simulator(&h, session, "Vorrei parlare con un operatore").await;
    let key = CitizenKey::new("assemini", "web", &format!("web-{session}"));
    let r = desk::reference(&key);
    let cookie = login(&h, URP, PASSWORD).await;
    let (status, _, page) = get(&h, "/staff/assemini/inbox", &cookie).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&r),
        "the trial is in the inbox: {page}\nthe simulator said {replies:?}"
    );
    assert!(page.contains("Prova dal simulatore"), "{page}");
    assert!(h.store.conversation(&key).unwrap().is_none(), "never in the store");
    assert!(h.store.citizen(&key).unwrap().is_none());

    let mut stream = Stream::open(&h, &format!("/try/api/events?comune=assemini&session={session}"), None).await;
    let (_, _, conv) = get(&h, &format!("/staff/assemini/inbox/{r}"), &cookie).await;
    assert!(
        conv.contains("Il cittadino ha chiesto di parlare con una persona"),
        "{conv}"
    );
    let text = "Buongiorno, sono l'operatore del Comune: come posso aiutarLa?";
    let (status, _, body) = post(
        &h,
        &format!("/staff/assemini/inbox/{r}/reply"),
        &cookie,
        &[("csrf", &csrf_field(&conv)), ("text", text)],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let said = stream.until("event: reply").await.to_string();
    let data = said
        .lines()
        .skip_while(|l| *l != "event: reply")
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap();
    let reply: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(reply["text"], text);
    // Held: the bot is silent to the trial while the operator holds it.
    assert!(simulator(&h, session, "Grazie, attendo").await.is_empty());
    let (_, _, thread) = get(&h, &format!("/staff/assemini/inbox/{r}/thread"), &cookie).await;
    assert!(
        thread.contains(&format!("Presa in carico da {URP}")) && thread.contains("Grazie, attendo"),
        "{thread}"
    );
    assert!(
        thread.contains("tick-delivered"),
        "taken by the simulator page: {thread}"
    );
    // A reply is shown once: a new stream does not repeat it.
    drop(stream);
    let mut again = Stream::open(&h, &format!("/try/api/events?comune=assemini&session={session}"), None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let chunk = tokio::time::timeout(Duration::from_millis(300), again.response.chunk()).await;
    if let Ok(Ok(Some(c))) = chunk {
        assert!(!String::from_utf8_lossy(&c).contains("event: reply"));
    }
    // Nothing reached the real outbox or the provider.
    assert!(h.store.pending_outbound().unwrap().is_empty());
    assert!(h.sent().is_empty());
    // Closing ends the trial's stay in the inbox; the stream still open does not keep the
    // server from stopping.
    let (_, _, conv) = get(&h, &format!("/staff/assemini/inbox/{r}"), &cookie).await;
    let (status, _, _) = post(
        &h,
        &format!("/staff/assemini/inbox/{r}/close"),
        &cookie,
        &[("csrf", &csrf_field(&conv))],
    )
    .await;
    assert_eq!(status, 303);
    let (_, _, page) = get(&h, "/staff/assemini/inbox", &cookie).await;
    assert!(!page.contains(&r));
    tokio::time::timeout(Duration::from_secs(10), h.stop())
        .await
        .expect("an open stream must not hold the stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_stream_names_its_comunes_changes_and_the_thread_follows_a_reply_to_read() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let now = Timestamp::now();
    let mut keys = Vec::new();
    for (comune, number) in [("assemini", "393330061001"), ("isili", "393330061002")] {
        let key = CitizenKey::new(comune, "whatsapp", number);
        let mut c = Citizen::new(now);
        c.state = State::Subscribed;
        h.store.put_citizen(&key, &c).unwrap();
        let route = format!("pn-{comune}");
        inbox::citizen_wrote(h.store.as_ref(), &key, &route, "Quando apre l'anagrafe?", None, now).unwrap();
        keys.push(key);
    }
    let (assemini, isili) = (desk::reference(&keys[0]), desk::reference(&keys[1]));
    let op = login(&h, ISILI_OP, PASSWORD).await;
    let admin = login(&h, ADMIN, PASSWORD).await;
    // Another comune's stream is refused; one's own is open.
    let r = client()
        .get(format!("{}/staff/assemini/events", h.base))
        .header(COOKIE, &op)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let mut stream = Stream::open(&h, "/staff/isili/events", Some(&op)).await;
    // Assemini's change first: Isili's stream never names it.
    let (_, _, conv) = get(&h, &format!("/staff/assemini/inbox/{assemini}"), &admin).await;
    let (status, _, _) = post(
        &h,
        &format!("/staff/assemini/inbox/{assemini}/claim"),
        &admin,
        &[("csrf", &csrf_field(&conv))],
    )
    .await;
    assert_eq!(status, 303);
    let (_, _, conv) = get(&h, &format!("/staff/isili/inbox/{isili}"), &op).await;
    assert!(conv.contains(&format!("data-on=\"desk:{isili}\"")), "{conv}");
    assert!(conv.contains("data-events=\"/staff/isili/events\""));
    let text = "L'anagrafe apre alle 9.";
    let (status, _, _) = post(
        &h,
        &format!("/staff/isili/inbox/{isili}/reply"),
        &op,
        &[("csrf", &csrf_field(&conv)), ("text", text)],
    )
    .await;
    assert_eq!(status, 303);
    let said = stream.until(&format!("data: {isili}")).await.to_string();
    assert!(said.contains("event: desk"), "{said}");
    assert!(!said.contains(&assemini), "another comune's change: {said}");
    // The reply reaches the fake Graph API; its thread says sent, then read.
    let sent = h.wait_sent(1).await;
    let n = sent
        .iter()
        .position(|(_, b)| b["text"]["body"] == text)
        .expect("the reply was sent")
        + 1;
    let path = format!("/staff/isili/inbox/{isili}/thread");
    let mut tries = 0;
    while !get(&h, &path, &op).await.2.contains("tick-sent") {
        tries += 1;
        assert!(tries < 100, "{}", get(&h, &path, &op).await.2);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "39", "phone_number_id": "pn-isili"},
        "statuses": [{"id": format!("wamid.out.{n}"), "status": "read", "timestamp": Timestamp::now().as_second().to_string(),
                      "recipient_id": "393330061002"}]}}]}]});
    assert_eq!(h.post_signed(&body).await, 200);
    let mut tries = 0;
    loop {
        let t = get(&h, &path, &op).await.2;
        if t.contains("tick-read") {
            assert!(t.contains(">letto<") || t.contains(" letto</span>"), "{t}");
            break;
        }
        tries += 1;
        assert!(tries < 100, "{t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The status rang the stream too.
    let before = stream.said.matches(&format!("data: {isili}")).count();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while stream.said.matches(&format!("data: {isili}")).count() <= before {
            match stream.response.chunk().await {
                Ok(Some(c)) => stream.said.push_str(&String::from_utf8_lossy(&c)),
                _ => break,
            }
        }
    })
    .await;
    assert!(
        stream.said.matches(&format!("data: {isili}")).count() > before,
        "{}",
        stream.said
    );
    tokio::time::timeout(Duration::from_secs(10), h.stop())
        .await
        .expect("an open stream must not hold the stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cannot_hold_more_simulator_streams_than_its_share() {
    let h = Harness::start().await;
    let (_, per_address) = sportello::web::SIMULATOR_STREAMS;
    let mut open = Vec::new();
    for i in 0..per_address {
        open.push(Stream::open(&h, &format!("/try/api/events?comune=assemini&session=s{i}"), None).await);
    }
    let refused = client()
        .get(format!("{}/try/api/events?comune=assemini&session=one-more", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    // Bad input is refused before any place is taken.
    for bad in [
        "comune=atlantide&session=x",
        "comune=assemini&session=",
        "comune=assemini&session=a%20b",
    ] {
        let r = client()
            .get(format!("{}/try/api/events?{bad}", h.base))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
    }
    // A place given back is free again.
    drop(open.pop());
    let mut tries = 0;
    loop {
        let r = client()
            .get(format!("{}/try/api/events?comune=assemini&session=again", h.base))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            break;
        }
        tries += 1;
        assert!(tries < 50, "the place never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    h.stop().await;
}
