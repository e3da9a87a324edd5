//! Issue 4, the desk in the console, through the real server: a citizen on the fake
//! WhatsApp API asks for a person, an operator claims, replies (the fake Graph API receives
//! it on the citizen's number), notes and releases, and the bot answers again; the JSON API
//! and its OpenAPI file; role boundaries; CSRF on every form; block and unblock.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{json, Value};
use sportello::console::desk;
use sportello::dialogue::{Citizen, State};
use sportello::staff::accounts;
use sportello::staff::inbox;
use sportello::storage::{Author, CitizenKey, Role, Store};

use crate::harness::console::{client, csrf_field, get, login, post, PASSWORD};
use crate::harness::server::{say, texts_to, Harness};
use crate::util::root;

const URP1: &str = "urp1@comune.assemini.ca.it";
const URP2: &str = "urp2@comune.assemini.ca.it";
const ISILI_OP: &str = "operatore@comune.isili.ca.it";
const ADMIN: &str = "it@unione-comuni.it";

fn seed_accounts(store: &dyn Store) {
    let now = Timestamp::now();
    for (email, comune) in [(URP1, "assemini"), (URP2, "assemini"), (ISILI_OP, "isili")] {
        accounts::create(store, email, Role::Operator, vec![comune.into()], PASSWORD, now).unwrap();
    }
    accounts::create(store, ADMIN, Role::Admin, vec![], PASSWORD, now).unwrap();
}

/// A registered Assemini citizen with a conversation waiting (written straight to the store,
/// as the engine does); returns its key and reference.
fn seed_conversation(store: &dyn Store, number: &str, text: &str, deadline: Option<Timestamp>) -> (CitizenKey, String) {
    let key = CitizenKey::new("assemini", "whatsapp", number);
    let mut c = Citizen::new(Timestamp::now());
    c.state = State::Subscribed;
    c.subscribed_at = Some(Timestamp::now());
    c.fields.insert("first_name".into(), "Grazia".into());
    c.fields.insert("last_name".into(), "Deledda".into());
    store.put_citizen(&key, &c).unwrap();
    inbox::citizen_wrote(store, &key, "pn-assemini", text, deadline, Timestamp::now()).unwrap();
    let r = desk::reference(&key);
    (key, r)
}

/// Calls the JSON API; returns (status, JSON body or Null).
async fn api(h: &Harness, method: &str, path: &str, cookie: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}{path}", h.base);
    let mut req = match method {
        "get" => client().get(url),
        _ => client().post(url),
    };
    if !cookie.is_empty() {
        req = req.header(COOKIE, cookie);
    }
    if let Some(b) = body {
        req = req.header(CONTENT_TYPE, "application/json").body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The first `href` in `html` that starts with `prefix`.
fn link(html: &str, prefix: &str) -> String {
    let at = html
        .find(&format!("href=\"{prefix}"))
        .unwrap_or_else(|| panic!("no link to {prefix} in {html}"))
        + 6;
    html[at..].split('"').next().unwrap().to_string()
}

/// Waits until `check` holds (or fails after 10 s).
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operatore_claim_reply_release_through_the_real_server() {
    claim_reply_release(Harness::start().await).await;
}

/// The same desk on PostgreSQL, whose console requests run where they may block (issue 20,
/// `console::off_workers`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_works_on_postgres() {
    let Some(url) = crate::harness::postgres::test_database_url() else {
        return;
    };
    let schema = crate::harness::postgres::TestSchema::new(&url, "handoff");
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(schema.open());
    claim_reply_release(Harness::start_on(Some(store)).await).await;
}

async fn claim_reply_release(h: Harness) {
    seed_accounts(h.store.as_ref());
    let c = "393330044001";
    let mut seq = 0;
    say(&h, "assemini", c, &mut seq, "Buongiorno", 2).await;
    say(&h, "assemini", c, &mut seq, "Mario", 1).await;
    say(&h, "assemini", c, &mut seq, "Rossi", 1).await;
    say(&h, "assemini", c, &mut seq, "12/03/1980", 2).await;
    let r = say(&h, "assemini", c, &mut seq, "OPERATORE", 1).await;
    assert!(r[0].contains("Ho passato la conversazione a un operatore"), "{r:?}");
    let key = CitizenKey::new("assemini", "whatsapp", c);
    until("the conversation", || h.store.conversation(&key).unwrap().is_some()).await;

    // The inbox: name, masked number, last message, waiting time and deadline.
    let op = login(&h, URP1, PASSWORD).await;
    let (_, _, home) = get(&h, "/staff", &op).await;
    assert!(
        home.contains("<a href=\"/staff/assemini/inbox\">Conversazioni aperte: 1 (scadute: 0)</a>"),
        "{home}"
    );
    let (status, _, page) = get(&h, "/staff/assemini/inbox", &op).await;
    assert_eq!(status, 200);
    assert!(page.contains("Mario Rossi"), "{page}");
    assert!(page.contains("•••••••••001"), "{page}");
    assert!(!page.contains(c), "the full number is not on the list");
    assert!(page.contains("<q>OPERATORE</q>"), "{page}");
    assert!(page.contains("aperta da 0 min") && page.contains("scadenza "), "{page}");
    assert!(page.contains("Risposta dovuta entro 2 giorni lavorativi."), "{page}");
    assert!(page.contains("<p id=\"inbox-status\" role=\"status\">Conversazioni: 1 (scadute: 0)</p>"));
    assert!(page.contains("<script src=\"/staff/console.js\" defer></script>"));
    let conv_url = link(&page, "/staff/assemini/inbox/");
    assert_eq!(conv_url, format!("/staff/assemini/inbox/{}", desk::reference(&key)));

    // Claim: the holder is shown to colleagues, who cannot reply.
    let (_, _, conv) = get(&h, &conv_url, &op).await;
    let csrf = csrf_field(&conv);
    let (status, location, _) = post(&h, &format!("{conv_url}/claim"), &op, &[("csrf", &csrf)]).await;
    assert_eq!((status, location), (303, Some(format!("{conv_url}?done=claim"))));
    let (_, _, conv) = get(&h, &format!("{conv_url}?done=claim"), &op).await;
    assert!(
        conv.contains("role=\"status\"><strong>Conversazione presa in carico"),
        "{conv}"
    );
    assert!(conv.contains("in carico a Lei"), "{conv}");
    let other = login(&h, URP2, PASSWORD).await;
    let (_, _, seen) = get(&h, &conv_url, &other).await;
    assert!(seen.contains(&format!("In carico a {URP1}")), "{seen}");
    assert!(!seen.contains("Inviare la risposta"), "no reply form for a colleague");
    let other_csrf = csrf_field(&seen);
    let (status, _, refused) = post(
        &h,
        &format!("{conv_url}/reply"),
        &other,
        &[("csrf", &other_csrf), ("text", "rispondo io")],
    )
    .await;
    assert_eq!(status, 409);
    assert!(refused.contains("role=\"alert\""), "{refused}");

    // While held the bot is silent and the citizen's words reach the operator.
    let before = h.sent().len();
    seq += 1;
    let wrote = crate::harness::server::wa_text("assemini", c, "wamid.held.1", 1_800_000_100, "grazie, attendo");
    assert_eq!(h.post_signed(&wrote).await, 200);
    until("the citizen's line", || {
        let conv = h.store.conversation(&key).unwrap().unwrap();
        conv.lines
            .iter()
            .any(|l| l.author == Author::Citizen && l.text == "grazie, attendo")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.sent().len(), before, "the bot stays silent while held");

    // The reply goes out on the citizen's channel and number.
    let reply = "Buongiorno, il certificato si richiede online sul portale del Comune.";
    let (status, location, _) = post(
        &h,
        &format!("{conv_url}/reply"),
        &op,
        &[("csrf", &csrf), ("text", reply)],
    )
    .await;
    assert_eq!((status, location), (303, Some(format!("{conv_url}?done=reply"))));
    let sent = h.wait_sent(before + 1).await;
    assert_eq!(sent[before].0, "pn-assemini");
    assert_eq!(texts_to(&sent[before..], c), [reply]);
    // A note stays inside.
    let (status, _, _) = post(
        &h,
        &format!("{conv_url}/note"),
        &op,
        &[("csrf", &csrf), ("text", "richiamare se non trova il modulo")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, _, conv) = get(&h, &conv_url, &op).await;
    assert!(conv.contains("Nota interna di urp1@comune.assemini.ca.it"), "{conv}");
    assert!(conv.contains("grazie, attendo") && conv.contains("il certificato si richiede online"));

    // Released: back to the bot, which answers the next message.
    let (status, location, _) = post(&h, &format!("{conv_url}/release"), &op, &[("csrf", &csrf)]).await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/staff/assemini/inbox?done=release"))
    );
    assert_eq!(h.store.citizen(&key).unwrap().unwrap().held_by, None);
    let r = say(&h, "assemini", c, &mut seq, "buongiorno", 1).await;
    assert!(r[0].contains("Scriva pure la sua domanda"), "{r:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        h.sent().len(),
        before + 2,
        "one reply from the operator, one from the bot"
    );

    let audit = h.store.audit(Some("assemini")).unwrap();
    let actions: Vec<&str> = audit.iter().map(|(_, a)| a.action.as_str()).collect();
    assert_eq!(actions, ["claim", "reply", "note", "release"]);
    for (_, a) in &audit {
        assert!(!a.detail.contains(c) && !a.detail.contains("certificato"), "{a:?}");
    }
    h.stop().await;
}

/// Every path of the OpenAPI file, with the method it declares.
fn openapi_operations() -> Vec<(String, String)> {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("src/console/openapi.json")).unwrap()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.push((method.clone(), path.clone()));
        }
    }
    ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_path_answers_401_without_a_session_and_403_to_another_comunes_operator() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let (_, r) = seed_conversation(h.store.as_ref(), "393330044002", "domanda", None);
    let ops = openapi_operations();
    assert!(ops.len() >= 12, "{ops:?}");
    for required in [
        "/staff/api/me",
        "/staff/api/{comune}/inbox",
        "/staff/api/{comune}/conversations/{ref}/reply",
        "/staff/api/{comune}/citizens/{ref}/unblock",
    ] {
        assert!(ops.iter().any(|(_, p)| p == required), "{required} is described");
    }
    let isili = login(&h, ISILI_OP, PASSWORD).await;
    for (method, path) in &ops {
        let concrete = path.replace("{comune}", "assemini").replace("{ref}", &r);
        let body = (method == "post").then(|| json!({"text": "x", "reason": "x"}));
        let (status, json) = api(&h, method, &concrete, "", body.clone()).await;
        assert_eq!(status, 401, "{method} {path}");
        assert_eq!(json, json!({"error": "unauthenticated"}), "{method} {path}");
        let (status, json) = api(&h, method, &concrete, &isili, body).await;
        // The audit log is for administrators only.
        if path.contains("{comune}") || path == "/staff/api/audit" {
            assert_eq!(
                (status, &json),
                (403, &json!({"error": "forbidden"})),
                "{method} {path}"
            );
        } else {
            assert_eq!(status, 200, "{method} {path}");
        }
    }
    // Nothing was done by the refused calls.
    assert!(h.store.audit(Some("assemini")).unwrap().is_empty());
    let (status, doc) = api(&h, "get", "/staff/api/openapi.json", &isili, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["info"]["title"], "sportello staff console API");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_api_claims_replies_notes_releases_closes_blocks_and_unblocks() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let number = "393330044003";
    let (key, r) = seed_conversation(h.store.as_ref(), number, "Quando apre l'anagrafe?", None);
    let op = login(&h, URP1, PASSWORD).await;
    let other = login(&h, URP2, PASSWORD).await;
    let base = format!("/staff/api/assemini/conversations/{r}");

    let (status, list) = api(&h, "get", "/staff/api/assemini/inbox", &op, None).await;
    assert_eq!(status, 200);
    let row = &list["conversations"][0];
    assert_eq!(row["ref"], r.as_str());
    assert_eq!(row["name"], "Grazia Deledda");
    assert_eq!(row["masked"], "•••••••••003");
    assert_eq!(row["status"], "waiting");
    assert!(!list.to_string().contains(number), "no full number in the list");

    let (status, conv) = api(&h, "post", &format!("{base}/claim"), &op, Some(json!({}))).await;
    assert_eq!(
        (status, &conv["status"], &conv["by"]),
        (200, &json!("held"), &json!(URP1))
    );
    let (status, err) = api(&h, "post", &format!("{base}/claim"), &other, Some(json!({}))).await;
    assert_eq!((status, err), (409, json!({"error": "held-by-other", "held_by": URP1})));
    let (status, err) = api(&h, "post", &format!("{base}/reply"), &op, Some(json!({"text": "  "}))).await;
    assert_eq!((status, err), (400, json!({"error": "empty-text"})));
    // A form post is not JSON: refused before anything is done.
    let r415 = client()
        .post(format!("{}{base}/reply", h.base))
        .header(COOKIE, &op)
        .form(&[("text", "ciao")])
        .send()
        .await
        .unwrap();
    assert_eq!(r415.status(), 415);

    let (status, conv) = api(
        &h,
        "post",
        &format!("{base}/reply"),
        &op,
        Some(json!({"text": "Apre alle 8:30."})),
    )
    .await;
    assert_eq!(status, 200);
    // The claim on the way, then the reply.
    assert_eq!(
        conv["lines"][1]["author"],
        json!({"from": "event", "who": {"what": "claimed", "by": URP1}})
    );
    assert_eq!(conv["lines"][2]["text"], "Apre alle 8:30.");
    let sent = h.wait_sent(1).await;
    assert_eq!(texts_to(&sent, number), ["Apre alle 8:30."]);
    let (status, conv) = api(&h, "post", &format!("{base}/note"), &other, Some(json!({"text": "ok"}))).await;
    assert_eq!((status, &conv["lines"][3]["author"]["from"]), (200, &json!("note")));
    let (status, conv) = api(&h, "post", &format!("{base}/release"), &op, Some(json!({}))).await;
    assert_eq!((status, &conv["status"]), (200, &json!("waiting")));
    let (status, conv) = api(&h, "post", &format!("{base}/close"), &op, Some(json!({}))).await;
    assert_eq!(
        (status, &conv["status"], &conv["by"]),
        (200, &json!("closed"), &json!(URP1))
    );
    let (status, err) = api(&h, "post", &format!("{base}/claim"), &op, Some(json!({}))).await;
    assert_eq!((status, err), (409, json!({"error": "closed"})));
    let (_, closed) = api(&h, "get", "/staff/api/assemini/inbox?state=closed", &op, None).await;
    assert_eq!(closed["conversations"].as_array().unwrap().len(), 1);
    let (_, open) = api(&h, "get", "/staff/api/assemini/inbox", &op, None).await;
    assert!(open["conversations"].as_array().unwrap().is_empty());

    // The number on request, audited.
    let (_, shown) = api(&h, "get", &format!("{base}?number=show"), &op, None).await;
    assert_eq!(shown["number"], number);
    let (_, hidden) = api(&h, "get", &base, &op, None).await;
    assert!(hidden.get("number").is_none());
    assert_eq!(
        api(
            &h,
            "get",
            &format!("/staff/api/assemini/conversations/{}", "0".repeat(24)),
            &op,
            None
        )
        .await
        .0,
        404
    );

    // Block, then the citizen hears once that they are blocked and then nothing.
    let cit = format!("/staff/api/assemini/citizens/{r}");
    let (status, err) = api(&h, "post", &format!("{cit}/block"), &op, Some(json!({"reason": " "}))).await;
    assert_eq!((status, err), (400, json!({"error": "no-reason"})));
    let (status, citizen) = api(
        &h,
        "post",
        &format!("{cit}/block"),
        &op,
        Some(json!({"reason": "minacce ripetute al personale, vedi 3931234567"})),
    )
    .await;
    assert_eq!((status, &citizen["status"]), (200, &json!("blocked")));
    assert_eq!(
        api(&h, "post", &format!("{cit}/block"), &op, Some(json!({"reason": "x"})))
            .await
            .0,
        409
    );
    let mut seq = 100;
    let r1 = say(&h, "assemini", number, &mut seq, "Buongiorno, una domanda", 1).await;
    assert!(r1[0].contains("bloccato"), "{r1:?}");
    let before = h.sent().len();
    let quiet = crate::harness::server::wa_text("assemini", number, "wamid.blocked.2", 1_800_000_300, "pronto?");
    assert_eq!(h.post_signed(&quiet).await, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.sent().len(), before, "no bot answer to a blocked citizen");
    // Unblocked: subscribed as before, and the bot answers again.
    let (status, citizen) = api(
        &h,
        "post",
        &format!("{cit}/unblock"),
        &op,
        Some(json!({"reason": "chiarito al telefono"})),
    )
    .await;
    assert_eq!((status, &citizen["status"]), (200, &json!("subscribed")));
    assert_eq!(h.store.citizen(&key).unwrap().unwrap().strikes, 0);
    say(&h, "assemini", number, &mut seq, "buongiorno", 1).await;

    let audit = h.store.audit(Some("assemini")).unwrap();
    let actions: Vec<&str> = audit.iter().map(|(_, a)| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "claim",
            "reply",
            "note",
            "release",
            "close",
            "show-number",
            "block",
            "unblock"
        ]
    );
    let block = &audit.iter().find(|(_, a)| a.action == "block").unwrap().1;
    assert!(
        block.detail.contains("minacce ripetute") && block.detail.contains("•••••••567"),
        "{block:?}"
    );
    for (_, a) in &audit {
        assert!(!a.detail.contains(number) && !a.detail.contains("3931234567"), "{a:?}");
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_desk_form_needs_the_csrf_token_and_another_comune_is_refused() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let (key, r) = seed_conversation(h.store.as_ref(), "393330044004", "domanda", None);
    let op = login(&h, URP1, PASSWORD).await;
    let forms = [
        (format!("/staff/assemini/inbox/{r}/claim"), vec![]),
        (format!("/staff/assemini/inbox/{r}/reply"), vec![("text", "ciao")]),
        (format!("/staff/assemini/inbox/{r}/note"), vec![("text", "nota")]),
        (format!("/staff/assemini/inbox/{r}/release"), vec![]),
        (format!("/staff/assemini/inbox/{r}/close"), vec![]),
        (format!("/staff/assemini/citizens/{r}/block"), vec![("reason", "prova")]),
        (
            format!("/staff/assemini/citizens/{r}/unblock"),
            vec![("reason", "prova")],
        ),
        ("/staff/assemini/citizens".to_string(), vec![("number", "393330044004")]),
    ];
    let wrong = "0".repeat(64);
    for (path, fields) in &forms {
        let (status, _, _) = post(&h, path, &op, fields).await;
        assert_eq!(status, 403, "{path} without a token");
        let mut with_wrong = fields.clone();
        with_wrong.push(("csrf", &wrong));
        let (status, _, _) = post(&h, path, &op, &with_wrong).await;
        assert_eq!(status, 403, "{path} with a wrong token");
    }
    assert!(h.store.audit(Some("assemini")).unwrap().is_empty(), "nothing was done");
    assert_eq!(
        h.store.conversation(&key).unwrap().unwrap().lines.len(),
        1,
        "no reply, no note"
    );

    // An Isili operator, with their own valid token, is refused on Assemini's pages.
    let isili = login(&h, ISILI_OP, PASSWORD).await;
    let (_, _, home) = get(&h, "/staff", &isili).await;
    let token = csrf_field(&home);
    assert!(!home.contains("/staff/assemini/inbox"));
    for path in [
        "/staff/assemini/inbox".to_string(),
        "/staff/assemini/inbox/rows".to_string(),
        format!("/staff/assemini/inbox/{r}"),
        format!("/staff/assemini/citizens/{r}"),
    ] {
        let (status, _, page) = get(&h, &path, &isili).await;
        assert_eq!(status, 403, "{path}");
        assert!(!page.contains("•••004") && !page.contains("Grazia"), "{path}");
    }
    for (path, fields) in &forms {
        let mut with_token = fields.clone();
        with_token.push(("csrf", &token));
        let (status, _, _) = post(&h, path, &isili, &with_token).await;
        assert_eq!(status, 403, "{path}");
    }
    assert!(h.store.audit(Some("assemini")).unwrap().is_empty());
    // Without a session, pages send to the login page.
    let (status, location, _) = get(&h, &format!("/staff/assemini/inbox/{r}"), "").await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/login")));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_puts_overdue_first_filters_by_state_and_serves_its_rows_live() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let store = h.store.as_ref();
    let later = Timestamp::now() + jiff::SignedDuration::from_hours(30);
    let past = Timestamp::now() - jiff::SignedDuration::from_hours(2);
    let (_, fresh) = seed_conversation(store, "393330044005", "prima domanda", Some(later));
    let (late_key, late) = seed_conversation(store, "393330044006", "domanda in ritardo", Some(past));
    let op = login(&h, URP1, PASSWORD).await;
    let (_, _, page) = get(&h, "/staff/assemini/inbox", &op).await;
    let (a, b) = (page.find(&late).unwrap(), page.find(&fresh).unwrap());
    assert!(a < b, "overdue first");
    assert!(page.contains("<strong class=\"overdue\">SCADUTA</strong>"), "{page}");
    assert!(page.contains("Conversazioni: 2 (scadute: 1)"), "{page}");

    let (status, _) = api(
        &h,
        "post",
        &format!("/staff/api/assemini/conversations/{late}/claim"),
        &op,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    for (state, present, absent) in [
        ("held", &late, &fresh),
        ("mine", &late, &fresh),
        ("waiting", &fresh, &late),
        ("overdue", &late, &fresh),
    ] {
        let (status, _, page) = get(&h, &format!("/staff/assemini/inbox?state={state}"), &op).await;
        assert_eq!(status, 200);
        assert!(
            page.contains(present.as_str()) && !page.contains(absent.as_str()),
            "{state}"
        );
        assert!(
            page.contains(&format!("<option value=\"{state}\" selected>")),
            "{state}"
        );
    }
    let other = login(&h, URP2, PASSWORD).await;
    let (_, _, mine) = get(&h, "/staff/assemini/inbox?state=mine", &other).await;
    assert!(mine.contains("Nessuna conversazione in questo stato."), "{mine}");

    // The rows the page's script fetches: the same list, with the summary to announce.
    let (status, _, rows) = get(&h, "/staff/assemini/inbox/rows", &op).await;
    assert_eq!(status, 200);
    assert!(
        rows.starts_with("<ul class=\"cards\" data-summary=\"Conversazioni: 2 (scadute: 1)\">"),
        "{rows}"
    );
    seed_conversation(store, "393330044007", "nuova", None);
    let (_, _, rows) = get(&h, "/staff/assemini/inbox/rows", &op).await;
    assert!(
        rows.contains("data-summary=\"Conversazioni: 3 (scadute: 1)\""),
        "{rows}"
    );
    let script = h.get_text("/staff/console.js").await;
    assert!(script.contains("[data-live]") && script.contains("data-src"));

    // The citizen page: record, consents, subscriptions, conversation, block form.
    let (status, _, citizen) = get(&h, &format!("/staff/assemini/citizens/{late}"), &op).await;
    assert_eq!(status, 200);
    for text in [
        "Scheda del cittadino: Grazia Deledda",
        "•••••••••006",
        "iscritto",
        "Nessun consenso registrato.",
        "Iscritto alla lista del comune.",
        "domanda in ritardo",
        "Bloccare il cittadino",
    ] {
        assert!(citizen.contains(text), "{text}: {citizen}");
    }
    assert!(!citizen.contains("393330044006"));
    let csrf = csrf_field(&citizen);
    let (status, location, _) = post(
        &h,
        &format!("/staff/assemini/citizens/{late}/block"),
        &op,
        &[("csrf", &csrf), ("reason", "insulti")],
    )
    .await;
    assert_eq!(
        (status, location),
        (303, Some(format!("/staff/assemini/citizens/{late}?done=block")))
    );
    let c = store.citizen(&late_key).unwrap().unwrap();
    assert_eq!(c.status(), "blocked");
    assert_eq!(c.held_by, None, "a block drops the hold");
    let (_, _, citizen) = get(&h, &format!("/staff/assemini/citizens/{late}?number=show"), &op).await;
    assert!(
        citizen.contains("393330044006") && citizen.contains("Revocare il blocco"),
        "{citizen}"
    );
    let (status, _, refused) = post(
        &h,
        &format!("/staff/assemini/citizens/{late}/unblock"),
        &op,
        &[("csrf", &csrf), ("reason", "")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(refused.contains("Indichi un motivo."), "{refused}");
    let (status, _, _) = post(
        &h,
        &format!("/staff/assemini/citizens/{late}/unblock"),
        &op,
        &[("csrf", &csrf), ("reason", "chiarito")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(store.citizen(&late_key).unwrap().unwrap().status(), "subscribed");
    let actions: Vec<String> = store
        .audit(Some("assemini"))
        .unwrap()
        .into_iter()
        .map(|(_, a)| a.action)
        .collect();
    assert_eq!(actions, ["claim", "block", "show-number", "unblock"]);

    // Finding a citizen by number: posted (the number stays out of the address), audited.
    let (_, _, page) = get(&h, "/staff/assemini/inbox", &op).await;
    assert!(page.contains("<label for=\"number\">"), "{page}");
    let (status, location, _) = post(
        &h,
        "/staff/assemini/citizens",
        &op,
        &[("csrf", &csrf), ("number", "+39 333 004 4006")],
    )
    .await;
    assert_eq!(
        (status, location),
        (303, Some(format!("/staff/assemini/citizens/{late}")))
    );
    let (status, _, none) = post(
        &h,
        "/staff/assemini/citizens",
        &op,
        &[("csrf", &csrf), ("number", "393330049999")],
    )
    .await;
    assert_eq!(status, 404);
    assert!(none.contains("Nessun cittadino con questo numero"), "{none}");
    let audit = store.audit(Some("assemini")).unwrap();
    let finds: Vec<&str> = audit
        .iter()
        .filter(|(_, a)| a.action == "find-citizen")
        .map(|(_, a)| a.detail.as_str())
        .collect();
    assert_eq!(finds, ["number •••••••••006 found", "number •••••••••999 not found"]);

    // In French for a French-speaking account.
    let admin = login(&h, ADMIN, PASSWORD).await;
    let mut account = store.account(ADMIN).unwrap().unwrap();
    account.language = "fr".into();
    store.put_account(&account).unwrap();
    let (status, _, page) = get(&h, "/staff/assemini/inbox", &admin).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<html lang=\"fr\">") && page.contains("Conversations : 3 (en retard : 1)"),
        "{page}"
    );
    h.stop().await;
}

/// The ids of a Fluent file.
fn ftl_ids(path: &std::path::Path) -> std::collections::BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_string()))
        .filter(|id| !id.starts_with('#') && !id.starts_with(' ') && !id.is_empty())
        .collect()
}

#[test]
fn every_console_text_the_code_uses_exists_in_italian_and_french() {
    // The console's words: console.ftl, staff.ftl for the account and subscriber pages, and
    // audit.ftl for the audit log's actions and details.
    let ids = |lang: &str| {
        let mut ids = ftl_ids(&root().join(format!("locales/{lang}/console.ftl")));
        ids.extend(ftl_ids(&root().join(format!("locales/{lang}/staff.ftl"))));
        ids.extend(ftl_ids(&root().join(format!("locales/{lang}/audit.ftl"))));
        ids
    };
    let (it, fr) = (ids("it"), ids("fr"));
    assert_eq!(it, fr, "the same ids in both languages");
    let mut used = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(root().join("src/console")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "rs") {
            let src = std::fs::read_to_string(&path).unwrap();
            for part in src.split("\"console-").skip(1) {
                let id: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                    .collect();
                // `format!("console-filter-{}", …)` and the like: expanded below.
                if !id.ends_with('-') && part[id.len()..].starts_with('"') {
                    used.insert(format!("console-{id}"));
                }
            }
        }
    }
    for f in ["open", "waiting", "held", "mine", "overdue", "closed"] {
        used.insert(format!("console-filter-{f}"));
    }
    for d in ["claim", "reply", "note", "release", "close", "block", "unblock"] {
        used.insert(format!("console-done-{d}"));
    }
    for field in ["full-name", "first-name", "last-name", "birth-place", "birth-date"] {
        used.insert(format!("console-field-{field}"));
    }
    for state in ["active", "disabled", "pending"] {
        used.insert(format!("console-accounts-state-{state}"));
    }
    for done in ["add", "change", "disable", "enable", "remove"] {
        used.insert(format!("console-done-staff-{done}"));
    }
    for status in ["subscribed", "registering", "new", "unsubscribed", "blocked"] {
        used.insert(format!("console-subscribers-status-{status}"));
    }
    for channel in ["whatsapp", "telegram", "web"] {
        used.insert(format!("console-channel-{channel}"));
    }
    for lang in ["it", "fr"] {
        used.insert(format!("console-language-{lang}"));
    }
    // `format!("console-audit-action-{code}")`: every code of the audit page's list.
    let audit = std::fs::read_to_string(root().join("src/console/audit_pages.rs")).unwrap();
    let list = &audit[audit.find("pub const ACTIONS").unwrap()..];
    let codes: Vec<&str> = list[..list.find("];").unwrap()]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .flat_map(|l| l.split('"').skip(1).step_by(2))
        .collect();
    assert!(codes.len() >= 40 && codes.contains(&"staff-add"), "{codes:?}");
    for code in codes {
        used.insert(format!("console-audit-action-{code}"));
    }
    assert!(used.len() > 60, "{used:?}");
    let missing: Vec<_> = used.iter().filter(|id| !it.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "missing from console.ftl, staff.ftl and audit.ftl: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_claiming_at_once_one_wins_and_the_other_is_told_who() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let (key, r) = seed_conversation(h.store.as_ref(), "393330044008", "domanda", None);
    let (a, b) = (login(&h, URP1, PASSWORD).await, login(&h, URP2, PASSWORD).await);
    let path = format!("/staff/api/assemini/conversations/{r}/claim");
    let ((sa, ja), (sb, jb)) = tokio::join!(
        api(&h, "post", &path, &a, Some(json!({}))),
        api(&h, "post", &path, &b, Some(json!({})))
    );
    let mut statuses = [sa, sb];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{ja} {jb}");
    let winner = if sa == 200 { URP1 } else { URP2 };
    let loser = if sa == 200 { &jb } else { &ja };
    assert_eq!(loser, &json!({"error": "held-by-other", "held_by": winner}));
    assert_eq!(h.store.citizen(&key).unwrap().unwrap().held_by.as_deref(), Some(winner));
    // The loser cannot release or close it either; an administrator can release it.
    let loser_cookie = if sa == 200 { &b } else { &a };
    for action in ["release", "close"] {
        let p = format!("/staff/api/assemini/conversations/{r}/{action}");
        assert_eq!(api(&h, "post", &p, loser_cookie, Some(json!({}))).await.0, 409);
    }
    let admin = login(&h, ADMIN, PASSWORD).await;
    let p = format!("/staff/api/assemini/conversations/{r}/release");
    let (status, conv) = api(&h, "post", &p, &admin, Some(json!({}))).await;
    assert_eq!((status, &conv["status"]), (200, &json!("waiting")));
    h.stop().await;
}
