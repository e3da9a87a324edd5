//! The moderation queue in the console, through the real server: a case's page shows the
//! withheld message (escaped, the offending part marked) and takes the staff's decision,
//! with the session's CSRF token, within the account's comuni, audited; dismissing lifts
//! the block the message caused; a case is decided once.

use jiff::Timestamp;
use reqwest::header::{COOKIE, LOCATION};
use sportello::dialogue::{Citizen, State};
use sportello::moderation::{Rule, Span, Verdict};
use sportello::storage::{CaseStatus, CitizenKey, ModerationCase};

use crate::harness::console::{client, csrf_field, get, login, seed_accounts, ADMIN, ISILI_OP, PASSWORD};
use crate::harness::server::Harness;

const TEXT: &str = "Siete dei <b>cialtroni</b>, tutti quanti";

fn case(key: &CitizenKey, blocked: bool, now: Timestamp) -> ModerationCase {
    let start = TEXT.find("cialtroni").unwrap();
    ModerationCase {
        key: key.clone(),
        rule: Rule::PersonalAttack,
        verdict: Verdict::Withhold,
        text: TEXT.into(),
        spans: vec![Span {
            start,
            end: start + "cialtroni".len(),
            rule: Rule::PersonalAttack,
            text: "cialtroni".into(),
            why: Some(sportello::moderation::Why {
                target: sportello::moderation::offence::Target::You,
                predicate: sportello::moderation::offence::Predicate::Insult,
            }),
        }],
        at: now,
        blocked,
        status: CaseStatus::Pending,
        decided_by: None,
        decided_at: None,
        note: None,
    }
}

async fn decide(h: &Harness, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(format!("{}{path}", h.base))
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_decide_a_case_in_the_console() {
    let h = Harness::start().await;
    let store = h.store.as_ref();
    seed_accounts(store);
    let now = Timestamp::now();
    // A subscriber blocked by the message of the case, with its strike.
    let key = CitizenKey::new("isili", "whatsapp", "393471234567");
    let mut c = Citizen::new(now);
    c.subscribed_at = Some(now);
    c.state = State::Blocked {
        reason: Rule::PersonalAttack.name().into(),
    };
    c.strikes = 1;
    store.put_citizen(&key, &c).unwrap();
    let blocking = store.add_case(&case(&key, true, now)).unwrap();
    let other = store
        .add_case(&case(&CitizenKey::new("isili", "whatsapp", "393470000002"), false, now))
        .unwrap();
    let elsewhere = store
        .add_case(&case(
            &CitizenKey::new("assemini", "whatsapp", "393475550001"),
            false,
            now,
        ))
        .unwrap();

    let op = login(&h, ISILI_OP, PASSWORD).await;
    let (_, _, list) = get(&h, "/staff/isili", &op).await;
    let path = format!("/staff/isili/cases/{blocking}");
    assert!(list.contains(&format!("href=\"{path}\"")), "{list}");

    // The case: the message escaped, the offending part marked, the number masked.
    let (status, _, page) = get(&h, &path, &op).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Siete dei &lt;b&gt;<mark>cialtroni</mark>&lt;/b&gt;, tutti quanti"),
        "{page}"
    );
    assert!(!page.contains("<b>cialtroni"), "{page}");
    // Issue 18: staff see whom it attacks and how.
    assert!(
        page.contains("<dt>Perché</dt>") && page.contains("il destinatario del messaggio: insulto («cialtroni»)"),
        "{page}"
    );
    assert!(page.contains("•••••••••567") && !page.contains("1234567"), "{page}");
    assert!(page.contains("Questo messaggio ha bloccato il cittadino."), "{page}");
    for value in ["confirm", "dismiss", "report"] {
        assert!(
            page.contains(&format!("name=\"decision\" value=\"{value}\"")),
            "{value}"
        );
    }
    let csrf = csrf_field(&page);

    // Another comune's case, or no such case: refused.
    assert_eq!(get(&h, &format!("/staff/assemini/cases/{elsewhere}"), &op).await.0, 403);
    assert_eq!(get(&h, &format!("/staff/isili/cases/{elsewhere}"), &op).await.0, 404);
    assert_eq!(get(&h, "/staff/isili/cases/x", &op).await.0, 404);
    let r = decide(
        &h,
        &op,
        &format!("/staff/assemini/cases/{elsewhere}"),
        &[("csrf", &csrf), ("decision", "dismiss")],
    )
    .await;
    assert_eq!(r.status(), 403);
    // Without the session's token nothing changes.
    let r = decide(&h, &op, &path, &[("csrf", &"0".repeat(64)), ("decision", "dismiss")]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(store.case(blocking).unwrap().unwrap().status, CaseStatus::Pending);

    // Dismissed: the strike taken back, the block lifted, the note kept, audited.
    let r = decide(
        &h,
        &op,
        &path,
        &[
            ("csrf", &csrf),
            ("decision", "dismiss"),
            ("note", "  ironia, non un attacco  "),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], format!("{path}?done=dismiss"));
    let decided = store.case(blocking).unwrap().unwrap();
    assert_eq!(decided.status, CaseStatus::Dismissed);
    assert_eq!(decided.decided_by.as_deref(), Some(ISILI_OP));
    assert_eq!(decided.note.as_deref(), Some("ironia, non un attacco"));
    let c = store.citizen(&key).unwrap().unwrap();
    assert_eq!((c.state, c.strikes), (State::Subscribed, 0));
    let audit: Vec<_> = store
        .audit(Some("isili"))
        .unwrap()
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "moderation-dismiss" && a.actor == ISILI_OP && a.detail == format!("case {blocking}")),
        "{audit:?}"
    );
    assert!(audit
        .iter()
        .all(|a| !a.detail.contains("cialtroni") && !a.detail.contains("393471234567")));
    let (_, _, page) = get(&h, &format!("{path}?done=dismiss"), &op).await;
    assert!(page.contains("Segnalazione archiviata: avvertimento tolto."), "{page}");
    assert!(page.contains("ironia, non un attacco"), "{page}");
    assert!(!page.contains("name=\"decision\""), "no decision left to take");

    // Decided once: a second decision is refused and changes nothing.
    let r = decide(&h, &op, &path, &[("csrf", &csrf), ("decision", "confirm")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("già stata decisa"));
    assert_eq!(store.case(blocking).unwrap().unwrap().status, CaseStatus::Dismissed);

    // Confirmed, then reported: only the report is left after a confirmation.
    let other_path = format!("/staff/isili/cases/{other}");
    let admin = login(&h, ADMIN, PASSWORD).await;
    let (_, _, page) = get(&h, &other_path, &admin).await;
    let admin_csrf = csrf_field(&page);
    let r = decide(
        &h,
        &admin,
        &other_path,
        &[("csrf", &admin_csrf), ("decision", "confirm")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, _, page) = get(&h, &other_path, &admin).await;
    assert!(
        page.contains("value=\"report\"") && !page.contains("value=\"dismiss\""),
        "{page}"
    );
    let r = decide(
        &h,
        &admin,
        &other_path,
        &[("csrf", &admin_csrf), ("decision", "report")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(store.case(other).unwrap().unwrap().status, CaseStatus::Reported);
    let (_, _, list) = get(&h, "/staff/isili", &op).await;
    assert!(
        list.contains("Nessuna segnalazione di moderazione in attesa."),
        "{list}"
    );
    h.stop().await;
}
