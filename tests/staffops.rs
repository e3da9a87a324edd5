//! Issues 4, 7, 8 and 19, the console's administrative pages, through the real server: the
//! audit log (page, CSV, JSON) for administrators only, logins and lockouts audited, the
//! password change ending other sessions, FAQ and closure edits the bot answers with at
//! once (no restart), the privacy export and the annual report.

use jiff::Timestamp;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::Value;
use sportello::staff::accounts;
use sportello::storage::{Role, Store};

use crate::harness::console::{
    client, csrf_field, get, login, post, seed_accounts, try_login, ADMIN, ISILI_OP, PASSWORD,
};
use crate::harness::server::Harness;
use crate::harness::staffops::say;

const ASSEMINI_OP: &str = "urp@comune.assemini.ca.it";

/// The CSRF token of a logged-in session (from the home page's logout form).
async fn csrf(h: &Harness, cookie: &str) -> String {
    let (status, _, html) = get(h, "/staff", cookie).await;
    assert_eq!(status, 200);
    csrf_field(&html)
}

fn actions(store: &dyn Store) -> Vec<(String, String, String)> {
    store
        .audit(None)
        .unwrap()
        .into_iter()
        .map(|(_, a)| (a.actor, a.action, a.detail))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_read_the_audit_log_operators_get_403() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let op = login(&h, ISILI_OP, PASSWORD).await;
    assert_eq!(try_login(&h, ISILI_OP, "sbagliata-di-proposito").await.status(), 401);
    // Five failures in a row lock this address out of the account: one lockout entry.
    let victim = "vittima@comune.isili.ca.it";
    accounts::create(
        h.store.as_ref(),
        victim,
        Role::Operator,
        vec!["isili".into()],
        PASSWORD,
        Timestamp::now(),
    )
    .unwrap();
    for _ in 0..6 {
        try_login(&h, victim, "tentativo-sbagliato").await;
    }
    let admin = login(&h, ADMIN, PASSWORD).await;
    sportello::staff::audit(h.store.as_ref(), "system", "isili", "test", "=HYPERLINK(\"http://x\")").unwrap();

    let log = actions(h.store.as_ref());
    assert_eq!(
        log.iter().filter(|(a, act, _)| a == victim && act == "lockout").count(),
        1,
        "{log:?}"
    );
    assert!(log
        .iter()
        .any(|(a, act, d)| a == ISILI_OP && act == "login-failed" && d == "refused: wrong password"));
    assert!(log.iter().any(|(a, act, _)| a == ADMIN && act == "login"));
    assert!(
        log.iter()
            .all(|(_, _, d)| !d.contains(PASSWORD) && !d.contains("sbagliata")),
        "{log:?}"
    );

    for path in ["/staff/audit", "/staff/audit.csv", "/staff/api/audit"] {
        assert_eq!(get(&h, path, &op).await.0, 403, "{path}");
    }
    let (status, _, html) = get(&h, "/staff/audit", &admin).await;
    assert_eq!(status, 200);
    // Actions by name in the administrator's language (Italian); the codes are the filter's.
    let table = &html[html.find("<tbody>").expect(&html)..];
    assert!(
        html.contains("<th scope=\"col\">") && table.contains("<td>Blocco dell"),
        "{html}"
    );
    assert!(html.contains("<label for=\"f-actor\">"), "{html}");
    assert!(html.contains("<option value=\"lockout\">Blocco dell"), "{html}");
    let newest = table.find("HYPERLINK").unwrap();
    assert!(newest < table.find("<td>Blocco dell").unwrap(), "newest first");

    let (_, _, filtered) = get(&h, "/staff/audit?action=login-failed&actor=VITTIMA", &admin).await;
    assert!(
        filtered.contains("<td>Accesso non riuscito</td>") && !filtered.contains(ISILI_OP),
        "{filtered}"
    );

    let r = client()
        .get(format!("{}/staff/audit.csv?comune=isili", h.base))
        .header(COOKIE, &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    assert!(
        !csv.contains("\"login\""),
        "the comune filter: logins belong to no comune"
    );

    let (status, _, json) = get(&h, "/staff/api/audit?action=lockout", &admin).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["entries"][0]["actor"], victim);
    assert_eq!(v["page"], 1);
    let (status, _, _) = get(&h, "/staff/api/audit", "").await;
    assert_eq!(status, 401);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_the_other_sessions() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let here = login(&h, ISILI_OP, PASSWORD).await;
    let elsewhere = login(&h, ISILI_OP, PASSWORD).await;
    let (status, _, form) = get(&h, "/staff/password", &here).await;
    assert_eq!(status, 200);
    assert!(
        form.contains("<label for=\"current\">") && form.contains("minlength=\"12\""),
        "{form}"
    );
    let token = csrf_field(&form);
    let new = "Nuraghe-Losa-2026!";
    let change = |cur: &'static str, n: &'static str, r: &'static str, t: String| {
        let here = here.clone();
        let h = &h;
        async move {
            post(
                h,
                "/staff/password",
                &here,
                &[("csrf", &t), ("current", cur), ("new", n), ("repeat", r)],
            )
            .await
        }
    };
    assert_eq!(change(PASSWORD, new, new, "0".repeat(64)).await.0, 403);
    let (status, _, page) = change("non-e-questa-password", new, new, token.clone()).await;
    assert!(status == 400 && page.contains("role=\"alert\""), "{page}");
    assert_eq!(change(PASSWORD, "corta", "corta", token.clone()).await.0, 400);
    assert_eq!(change(PASSWORD, new, "Nuraghe-Losa-2027!", token.clone()).await.0, 400);
    let (status, _, page) = change(PASSWORD, new, new, token.clone()).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Password cambiata"), "{page}");

    assert_eq!(get(&h, "/staff", &here).await.0, 200, "this browser stays in");
    let (status, location, _) = get(&h, "/staff", &elsewhere).await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/login")));
    assert_eq!(try_login(&h, ISILI_OP, PASSWORD).await.status(), 401);
    login(&h, ISILI_OP, new).await;
    let log = actions(h.store.as_ref());
    assert!(log
        .iter()
        .any(|(a, act, d)| a == ISILI_OP && act == "password-change" && d.contains("1 other")));
    assert!(log.iter().all(|(_, _, d)| !d.contains(new)));
    h.stop().await;
}

/// One entry's section of the FAQ page, from its heading to the end of its section.
fn entry_section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!(">{id} (it)</h2>"))
        .unwrap_or_else(|| panic!("no entry {id}: {page}"));
    let end = page[start..].find("</section>").map_or(page.len(), |e| start + e);
    &page[start..end]
}

/// An Assemini citizen registered over WhatsApp.
async fn registered(h: &Harness, from: &str, seq: &mut i64) {
    for line in ["Buongiorno", "Mario", "Rossi", "12/03/1980"] {
        say(h, "assemini", from, seq, line).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_faq_answer_edited_in_the_console_is_what_the_bot_answers_next() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let now = Timestamp::now();
    accounts::create(
        h.store.as_ref(),
        ASSEMINI_OP,
        Role::Operator,
        vec!["assemini".into()],
        PASSWORD,
        now,
    )
    .unwrap();
    let citizen = "393330009101";
    let mut seq = 0;
    registered(&h, citizen, &mut seq).await;
    let before = say(&h, "assemini", citizen, &mut seq, "quali sono gli orari del servizio").await;
    assert!(before.iter().any(|t| t.contains("dalle 8.30 alle 13.00")), "{before:?}");

    let op = login(&h, ASSEMINI_OP, PASSWORD).await;
    let (status, _, page) = get(&h, "/staff/assemini/faq", &op).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h2 id=\"e") && page.contains("orari (it)"), "{page}");
    // Issue 19: a built-in entry is marked as coming from the file until it is edited.
    assert!(
        entry_section(&page, "orari").contains("Predefinita: dal file del comune"),
        "{page}"
    );
    let token = csrf_field(&page);
    let new_answer = "Da lunedì 1 dicembre l'URP risponde dalle 9.00 alle 12.00.";
    let questions = "quali sono gli orari del servizio\nquando rispondete\norario";
    let form = [
        ("csrf", token.as_str()),
        ("id", "orari"),
        ("lang", "it"),
        ("questions", questions),
        ("answer", new_answer),
        ("link", ""),
    ];
    // Another comune's operator may not; a missing token is refused.
    let isili = login(&h, ISILI_OP, PASSWORD).await;
    let isili_token = csrf(&h, &isili).await;
    let mut theirs = form;
    theirs[0].1 = &isili_token;
    assert_eq!(post(&h, "/staff/assemini/faq/save", &isili, &theirs).await.0, 403);
    let mut forged = form;
    forged[0].1 = "";
    assert_eq!(post(&h, "/staff/assemini/faq/save", &op, &forged).await.0, 403);
    let (status, location, _) = post(&h, "/staff/assemini/faq/save", &op, &form).await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/assemini/faq")));

    let (_, _, page) = get(&h, "/staff/assemini/faq", &op).await;
    assert!(
        page.contains("Modificata nella console il") && page.contains(new_answer.replace('\'', "&#39;").as_str()),
        "{page}"
    );
    // Issue 19: the edit is stored as an override of the built-in entry (the file is
    // untouched), and only that entry is marked as edited, in its section and the table.
    let edits = h.store.faq_edits("assemini").unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(
        edits[0].entry.as_ref().map(|e| (e.id.as_str(), e.answer.as_str())),
        Some(("orari", new_answer))
    );
    let orari = entry_section(&page, "orari");
    assert!(orari.contains("Modificata nella console il") && orari.contains("sostituisce la voce predefinita"));
    assert_eq!(page.matches("Modificata nella console il").count(), 1);
    let row = page.find(">orari (it)</a>").expect("a row in the usage table");
    let row = &page[row..row + page[row..].find("</tr>").unwrap()];
    assert!(row.contains(">Modificata</span>"), "{row}");
    assert!(entry_section(&page, "privacy").contains("Predefinita: dal file del comune"));
    let after = say(&h, "assemini", citizen, &mut seq, "quali sono gli orari del servizio").await;
    assert!(
        after.iter().any(|t| t.contains(new_answer)),
        "no restart needed: {after:?}"
    );

    // A new entry, then its deletion; an invalid id is refused with the reason.
    let mut bad = form;
    bad[1].1 = "Orari URP!";
    let (status, _, page) = post(&h, "/staff/assemini/faq/save", &op, &bad).await;
    assert!(status == 400 && page.contains("role=\"alert\""), "{page}");
    let add = [
        ("csrf", token.as_str()),
        ("id", "biblioteca"),
        ("lang", "it"),
        ("questions", "quando apre la biblioteca comunale"),
        ("answer", "La biblioteca apre alle 15."),
        ("link", "https://example.org/biblioteca"),
    ];
    assert_eq!(post(&h, "/staff/assemini/faq/save", &op, &add).await.0, 303);
    let answer = say(&h, "assemini", citizen, &mut seq, "quando apre la biblioteca comunale").await;
    assert!(
        answer.iter().any(|t| t.contains("La biblioteca apre alle 15.")),
        "{answer:?}"
    );
    let (_, _, page) = get(&h, "/staff/assemini/faq", &op).await;
    assert!(
        entry_section(&page, "biblioteca").contains("Aggiunta nella console il"),
        "{page}"
    );
    let del = [("csrf", token.as_str()), ("id", "biblioteca"), ("lang", "it")];
    assert_eq!(post(&h, "/staff/assemini/faq/delete", &op, &del).await.0, 303);
    let (_, _, page) = get(&h, "/staff/assemini/faq", &op).await;
    assert!(!page.contains("biblioteca (it)"), "{page}");

    // Brusson's FAQ is edited in French too (an administrator here).
    let admin = login(&h, ADMIN, PASSWORD).await;
    let t = csrf(&h, &admin).await;
    let fr = [
        ("csrf", t.as_str()),
        ("id", "bibliotheque"),
        ("lang", "fr"),
        ("questions", "quand ouvre la bibliothèque"),
        ("answer", "La bibliothèque ouvre à 15 h."),
        ("link", ""),
    ];
    assert_eq!(post(&h, "/staff/brusson/faq/save", &admin, &fr).await.0, 303);
    let (_, _, page) = get(&h, "/staff/brusson/faq", &admin).await;
    assert!(
        page.contains("bibliotheque (fr)") && page.contains("<option value=\"fr\">"),
        "{page}"
    );

    let log = actions(h.store.as_ref());
    let faq: Vec<_> = log
        .iter()
        .filter(|(_, a, _)| a.starts_with("faq-"))
        .map(|(who, a, d)| format!("{who} {a} {d}"))
        .collect();
    assert_eq!(
        faq,
        [
            format!("{ASSEMINI_OP} faq-edit entry orari (it)"),
            format!("{ASSEMINI_OP} faq-add entry biblioteca (it)"),
            format!("{ASSEMINI_OP} faq-delete entry biblioteca (it)"),
            format!("{ADMIN} faq-add entry bibliotheque (fr)"),
        ]
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closure_added_for_today_shuts_the_office_at_once() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    accounts::create(
        h.store.as_ref(),
        ASSEMINI_OP,
        Role::Operator,
        vec!["assemini".into()],
        PASSWORD,
        Timestamp::now(),
    )
    .unwrap();
    let op = login(&h, ASSEMINI_OP, PASSWORD).await;
    let (status, _, page) = get(&h, "/staff/assemini/closures", &op).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<label for=\"date\">") && page.contains("type=\"date\""),
        "{page}"
    );
    let token = csrf_field(&page);
    let tz = jiff::tz::TimeZone::get("Europe/Rome").unwrap();
    let today = Timestamp::now().to_zoned(tz).date();
    let tomorrow = today.tomorrow().unwrap();
    for day in [today, tomorrow] {
        let d = day.to_string();
        let form = [
            ("csrf", token.as_str()),
            ("date", d.as_str()),
            ("note", "Disinfestazione dei locali"),
        ];
        assert_eq!(post(&h, "/staff/assemini/closures/add", &op, &form).await.0, 303);
    }
    let (_, _, page) = get(&h, "/staff/assemini/closures", &op).await;
    assert!(
        page.contains(&format!("datetime=\"{today}\"")) && page.contains("Disinfestazione"),
        "{page}"
    );
    assert_eq!(
        post(
            &h,
            "/staff/assemini/closures/add",
            &op,
            &[("csrf", token.as_str()), ("date", "domani")]
        )
        .await
        .0,
        400
    );

    let citizen = "393330009201";
    let mut seq = 0;
    registered(&h, citizen, &mut seq).await;
    let reply = say(&h, "assemini", citizen, &mut seq, "Quanto costa il parcheggio al mare?")
        .await
        .join("\n");
    assert!(reply.contains("L'ufficio ora è chiuso e riapre il"), "{reply}");
    for day in [today, tomorrow] {
        assert!(
            !reply.contains(&format!("riapre il {}", day.strftime("%d/%m/%Y"))),
            "{reply}"
        );
    }

    // Removing today's closure is audited with the date, like the additions.
    let d = today.to_string();
    assert_eq!(
        post(
            &h,
            "/staff/assemini/closures/remove",
            &op,
            &[("csrf", token.as_str()), ("date", d.as_str())]
        )
        .await
        .0,
        303
    );
    let log: Vec<_> = actions(h.store.as_ref())
        .into_iter()
        .filter(|(_, a, _)| a.starts_with("closure-"))
        .map(|(_, a, d)| format!("{a} {d}"))
        .collect();
    assert_eq!(
        log,
        [
            format!("closure-add {today}"),
            format!("closure-add {tomorrow}"),
            format!("closure-remove {today}")
        ]
    );
    // Another comune's operator may not see or change them.
    let isili = login(&h, ISILI_OP, PASSWORD).await;
    assert_eq!(get(&h, "/staff/assemini/closures", &isili).await.0, 403);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_export_a_citizen_and_read_the_annual_report() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    accounts::create(
        h.store.as_ref(),
        ASSEMINI_OP,
        Role::Operator,
        vec!["assemini".into()],
        PASSWORD,
        Timestamp::now(),
    )
    .unwrap();
    let citizen = "393330009301";
    let mut seq = 0;
    registered(&h, citizen, &mut seq).await;
    say(&h, "assemini", citizen, &mut seq, "Quanto costa il parcheggio al mare?").await;

    let op = login(&h, ASSEMINI_OP, PASSWORD).await;
    let (status, _, page) = get(&h, "/staff/assemini/privacy", &op).await;
    assert_eq!(status, 200);
    assert!(page.contains("<label for=\"number\">"), "{page}");
    let token = csrf_field(&page);
    let r = client()
        .post(format!("{}/staff/assemini/privacy/export", h.base))
        .header(COOKIE, &op)
        .form(&[
            ("csrf", token.as_str()),
            ("channel", "whatsapp"),
            ("number", "+39 333 000 9301"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["citizen"], citizen);
    assert!(!v["record"].is_null(), "{v}");
    assert!(
        v["conversation"]["lines"][0]["text"]
            .as_str()
            .unwrap()
            .contains("parcheggio"),
        "{v}"
    );
    let (status, _, json) = get(&h, &format!("/staff/assemini/citizens/whatsapp/{citizen}/export"), &op).await;
    assert_eq!(status, 200);
    assert!(json.contains(citizen));
    let unknown = [
        ("csrf", token.as_str()),
        ("channel", "whatsapp"),
        ("number", "393330000000"),
    ];
    assert_eq!(post(&h, "/staff/assemini/privacy/export", &op, &unknown).await.0, 404);
    let forged = [("csrf", ""), ("channel", "whatsapp"), ("number", citizen)];
    assert_eq!(post(&h, "/staff/assemini/privacy/export", &op, &forged).await.0, 403);
    let isili = login(&h, ISILI_OP, PASSWORD).await;
    let (status, _, body) = get(
        &h,
        &format!("/staff/assemini/citizens/whatsapp/{citizen}/export"),
        &isili,
    )
    .await;
    assert!(status == 403 && !body.contains(citizen), "{body}");
    let exports: Vec<_> = actions(h.store.as_ref())
        .into_iter()
        .filter(|(_, a, _)| a == "export")
        .collect();
    assert_eq!(exports.len(), 2, "{exports:?}");
    assert!(exports
        .iter()
        .all(|(who, _, d)| who == ASSEMINI_OP && !d.contains("9301")));

    let year = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let (status, _, page) = get(&h, &format!("/staff/assemini/report?year={year}"), &op).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<th scope=\"row\">Domande ricevute</th><td>&lt;5</td>"),
        "{page}"
    );
    assert!(
        page.contains("Domande con risposta del personale") && page.contains("format=csv"),
        "{page}"
    );
    let (status, _, csv) = get(&h, &format!("/staff/assemini/report?year={year}&format=csv"), &op).await;
    assert!(
        status == 200 && csv.starts_with("\"Sezione\",\"Voce\",\"Valore\""),
        "{csv}"
    );
    let (_, _, json) = get(&h, &format!("/staff/assemini/report?year={year}&format=json"), &op).await;
    let r: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["year"], year);
    assert!(r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|row| row["label"] == "Quota con risposta entro la scadenza"));
    assert_eq!(get(&h, "/staff/assemini/report", &isili).await.0, 403);
    h.stop().await;
}

/// Every console text the code names exists in Italian and French, and the two files hold
/// the same ids (a missing id would render as an empty string, silently).
#[test]
fn every_console_id_exists_in_both_languages() {
    // The console's ids, in whichever of the language's files they live (console.ftl,
    // staff.ftl, …).
    let ids_of = |lang: &str| -> std::collections::BTreeSet<String> {
        let dir = crate::util::root().join(format!("locales/{lang}"));
        std::fs::read_dir(dir)
            .unwrap()
            .flat_map(|f| {
                std::fs::read_to_string(f.unwrap().path())
                    .unwrap()
                    .lines()
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_string()))
            .filter(|id| id.starts_with("console-"))
            .collect()
    };
    let (it, fr) = (ids_of("it"), ids_of("fr"));
    assert_eq!(it, fr, "the console's ids differ between locales/it and locales/fr");
    let dir = crate::util::root().join("src/console");
    for file in std::fs::read_dir(&dir).unwrap() {
        let path = file.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        for chunk in src.split("\"console-").skip(1) {
            let id = format!("console-{}", chunk.split('"').next().unwrap());
            if id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                assert!(it.contains(&id), "{id} (used in {}) is missing", path.display());
            }
        }
    }
}
