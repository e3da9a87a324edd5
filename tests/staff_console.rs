//! The console's account and subscriber pages (issue 21): an administrator adds, changes,
//! disables, enables, resets and removes accounts, each audited, with the one-time password
//! shown once and its first login asking for a new one; operators cannot; a comune's
//! subscribers are listed with filters, paged, counted per month and exported as CSV,
//! audited, with numbers in full only for administrators.

use jiff::Timestamp;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE};
use sportello::dialogue::{Citizen, State};
use sportello::storage::{CitizenKey, Role, StaffStore, Store};

use crate::harness::console::*;
use crate::harness::server::Harness;

/// Posts a form whose answer shows a one-time password; (status, Cache-Control, body).
async fn post_shown(h: &Harness, path: &str, cookie: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = client()
        .post(format!("{}{path}", h.base))
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    let cache = r.headers().get(CACHE_CONTROL).map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), cache.unwrap_or_default(), r.text().await.unwrap())
}

/// The one-time password shown on a page.
fn shown_code(html: &str) -> String {
    let at = html.find("<code>").expect("a one-time password on the page") + 6;
    html[at..].split('<').next().unwrap().to_string()
}

fn audited(store: &dyn Store, action: &str) -> Vec<(String, String)> {
    store
        .audit(None)
        .unwrap()
        .into_iter()
        .filter(|(_, a)| a.action == action)
        .map(|(_, a)| (a.actor, a.detail))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_manages_accounts_in_the_console_and_every_change_is_audited() {
    let h = Harness::start().await;
    let store = h.store.as_ref();
    seed_accounts(store);
    let op = login(&h, ISILI_OP, PASSWORD).await;
    let admin = login(&h, ADMIN, PASSWORD).await;
    let (_, _, home) = get(&h, "/staff", &admin).await;
    let csrf = csrf_field(&home);
    let (_, _, op_home) = get(&h, "/staff", &op).await;
    let op_csrf = csrf_field(&op_home);

    // Operators neither see nor change accounts.
    assert!(!op_home.contains("/staff/accounts"), "{op_home}");
    assert_eq!(get(&h, "/staff/accounts", &op).await.0, 403);
    let refused = post(
        &h,
        "/staff/accounts/add",
        &op,
        &[("csrf", &op_csrf), ("email", "x@isili.it"), ("role", "admin")],
    )
    .await;
    assert_eq!(refused.0, 403);
    assert!(store.account("x@isili.it").unwrap().is_none());

    // The list: every account with its role, comuni, state and last login.
    assert!(home.contains("href=\"/staff/accounts\""), "{home}");
    let (status, _, list) = get(&h, "/staff/accounts", &admin).await;
    assert_eq!(status, 200, "{list}");
    assert!(list.contains(ISILI_OP) && list.contains(ADMIN), "{list}");
    assert!(list.contains("tutti i comuni") && list.contains("Isili"), "{list}");
    assert!(!list.contains("argon2"), "no hash on the page");

    // Without the form's token, nothing happens.
    let forged = post(
        &h,
        "/staff/accounts/add",
        &admin,
        &[("email", "x@isili.it"), ("role", "operator"), ("comune", "isili")],
    )
    .await;
    assert_eq!(forged.0, 403);

    // A new operator for two comuni: a one-time password, shown once and never cached.
    let new = "Nuova.Collega@Comune.Isili.CA.it";
    let (status, cache, page) = post_shown(
        &h,
        "/staff/accounts/add",
        &admin,
        &[
            ("csrf", &csrf),
            ("email", new),
            ("role", "operator"),
            ("comune", "isili"),
            ("comune", "madone"),
            ("language", "fr"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(cache, "no-store");
    let code = shown_code(&page);
    assert_eq!(code.len(), 24, "{page}");
    let new = "nuova.collega@comune.isili.ca.it";
    let account = store.account(new).unwrap().unwrap();
    assert_eq!(
        (account.role, account.comuni.clone(), account.language.as_str()),
        (Role::Operator, vec!["isili".to_string(), "madone".to_string()], "fr")
    );
    assert!(!format!("{account:?}").contains(&code), "the password is not stored");
    let (_, _, list) = get(&h, "/staff/accounts", &admin).await;
    assert!(!list.contains(&code), "shown only once");
    assert!(list.contains("in attesa del primo accesso"), "{list}");

    // Taken, malformed, or for no comune: refused with the reason, nothing created.
    for (email, comune, reason, code) in [
        (new, "isili", "Esiste già un account", 409),
        ("non-un-indirizzo", "isili", "non è valido", 400),
        ("x@isili.it", "atlantide", "non è servito", 400),
        ("x@isili.it", "", "almeno un comune", 400),
    ] {
        let mut form = vec![("csrf", csrf.as_str()), ("email", email), ("role", "operator")];
        if !comune.is_empty() {
            form.push(("comune", comune));
        }
        let (status, _, page) = post(&h, "/staff/accounts/add", &admin, &form).await;
        assert_eq!(status, code, "{email} {comune}: {page}");
        assert!(page.contains(reason), "{email}: {page}");
    }
    assert!(store.account("x@isili.it").unwrap().is_none());

    // The first login with it asks for a password of the account's own, in French.
    let first = login(&h, new, &code).await;
    let (status, location, _) = get(&h, "/staff", &first).await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/password")));
    assert!(store.account(new).unwrap().unwrap().last_login.is_some());

    // Role and comuni: the new colleague becomes an administrator.
    let manage = format!("/staff/accounts/manage?email={}", new.replace('@', "%40"));
    let (status, _, page) = get(&h, &manage, &admin).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("checked"), "its comuni are ticked: {page}");
    let (status, location, _) = post(
        &h,
        "/staff/accounts/change",
        &admin,
        &[("csrf", &csrf), ("email", new), ("role", "admin")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.unwrap().contains("done=change"));
    assert_eq!(store.account(new).unwrap().unwrap().role, Role::Admin);

    // Disabling ends the operator's open session at once and refuses their password.
    let (status, location, _) = post(
        &h,
        "/staff/accounts/disable",
        &admin,
        &[("csrf", &csrf), ("email", ISILI_OP)],
    )
    .await;
    assert_eq!((status, location.is_some()), (303, true));
    let (status, location, _) = get(&h, "/staff", &op).await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/login")));
    let refused = try_login(&h, ISILI_OP, PASSWORD).await;
    assert_eq!(refused.status(), 401);
    assert!(refused.text().await.unwrap().contains("disattivato"));
    let wrong = try_login(&h, ISILI_OP, "not-the-password-at-all").await;
    let wrong = wrong.text().await.unwrap();
    assert!(
        !wrong.contains("disattivato"),
        "only the right password learns the account is disabled"
    );
    let (_, _, page) = get(&h, "/staff/accounts", &admin).await;
    assert!(page.contains("disattivato"), "{page}");

    // Enabled again, the password works, and the last login shows.
    post(
        &h,
        "/staff/accounts/enable",
        &admin,
        &[("csrf", &csrf), ("email", ISILI_OP)],
    )
    .await;
    login(&h, ISILI_OP, PASSWORD).await;

    // A reset: a one-time password for a day that asks for a new password.
    let (status, cache, page) = post_shown(
        &h,
        "/staff/accounts/reset",
        &admin,
        &[("csrf", &csrf), ("email", ISILI_OP)],
    )
    .await;
    assert_eq!((status, cache.as_str()), (200, "no-store"), "{page}");
    let reset = shown_code(&page);
    let after = login(&h, ISILI_OP, &reset).await;
    let (status, location, _) = get(&h, "/staff/isili", &after).await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/password")));

    // An administrator's own account is not theirs to disable or remove.
    for action in ["disable", "remove"] {
        let (status, _, page) = post(
            &h,
            &format!("/staff/accounts/{action}"),
            &admin,
            &[("csrf", &csrf), ("email", ADMIN), ("confirm", "yes")],
        )
        .await;
        assert_eq!(status, 409, "{action}: {page}");
        assert!(page.contains("Questo è il Suo account"), "{page}");
    }
    assert!(!store.account(ADMIN).unwrap().unwrap().disabled);

    // Removal needs its confirmation.
    let (status, _, page) = post(
        &h,
        "/staff/accounts/remove",
        &admin,
        &[("csrf", &csrf), ("email", ISILI_OP)],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(store.account(ISILI_OP).unwrap().is_some());
    let (status, location, _) = post(
        &h,
        "/staff/accounts/remove",
        &admin,
        &[("csrf", &csrf), ("email", ISILI_OP), ("confirm", "yes")],
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/staff/accounts?done=remove"))
    );
    assert!(store.account(ISILI_OP).unwrap().is_none());

    // Every change, by its author, without a password in sight.
    for action in [
        "staff-add",
        "staff-change",
        "staff-disable",
        "staff-enable",
        "staff-reset",
        "staff-remove",
    ] {
        let entries = audited(store, action);
        assert_eq!(entries.len(), 1, "{action}: {entries:?}");
        assert_eq!(entries[0].0, ADMIN, "{action}");
        assert!(!entries[0].1.contains(&code) && !entries[0].1.contains(&reset));
    }
    assert!(audited(store, "login-failed")
        .iter()
        .any(|(actor, detail)| actor == ISILI_OP && detail.contains("disabled")));
    h.stop().await;
}

/// A subscribed citizen of Brusson.
fn brusson(store: &dyn Store, channel: &str, number: &str, lang: &str, categories: &[&str], state: State) {
    let now = Timestamp::now();
    let mut c = Citizen::new(now);
    c.state = state;
    c.language = Some(lang.into());
    c.categories = categories.iter().map(|c| c.to_string()).collect();
    c.subscribed_at = Some(now);
    store
        .put_citizen(&CitizenKey::new("brusson", channel, number), &c)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_are_filtered_paged_counted_and_exported_with_numbers_masked_for_operators() {
    let h = Harness::start().await;
    let store = h.store.as_ref();
    seed_accounts(store);
    let brusson_op = "urp@comune.brusson.ao.it";
    sportello::console::accounts::create(
        store,
        brusson_op,
        Role::Operator,
        vec!["brusson".into()],
        PASSWORD,
        Timestamp::now(),
    )
    .unwrap();
    for n in 0..55 {
        brusson(
            store,
            "whatsapp",
            &format!("3933300{n:05}"),
            "it",
            &["info"],
            State::Subscribed,
        );
    }
    brusson(
        store,
        "whatsapp",
        "393339990001",
        "fr",
        &["emergenze", "info"],
        State::Subscribed,
    );
    brusson(store, "telegram", "777000111", "fr", &["emergenze"], State::Subscribed);
    brusson(
        store,
        "whatsapp",
        "393339990002",
        "fr",
        &["emergenze"],
        State::Unsubscribed,
    );
    store.bump("brusson", "2026-11", "signup", 57).unwrap();
    store.bump("brusson", "2026-12", "withdrawal", 1).unwrap();

    // Only the comune's own operators (and administrators).
    let isili_op = login(&h, ISILI_OP, PASSWORD).await;
    assert_eq!(get(&h, "/staff/brusson/subscribers", &isili_op).await.0, 403);

    let op = login(&h, brusson_op, PASSWORD).await;
    let (status, _, page) = get(&h, "/staff/brusson", &op).await;
    assert_eq!(status, 200);
    let (_, _, home) = get(&h, "/staff", &op).await;
    assert!(home.contains("href=\"/staff/brusson/subscribers\""), "{home}");
    let csrf = csrf_field(&page);
    let (status, _, page) = get(&h, "/staff/brusson/subscribers", &op).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Iscritti oggi: 57"), "{page}");
    assert!(
        page.contains("novembre 2026") && page.contains("dicembre 2026"),
        "{page}"
    );
    assert!(page.contains("Cittadini trovati: 58; pagina 1 di 2"), "{page}");
    let (_, _, second) = get(&h, "/staff/brusson/subscribers?page=2", &op).await;
    assert!(second.contains("pagina 2 di 2"), "{second}");
    // Rows come in the store's order (pseudonyms, new with each keyring): the number is on
    // one of the two pages, masked.
    let both = format!("{page}{second}");
    assert!(
        !both.contains("393339990001") && both.contains("•001<"),
        "masked: {both}"
    );
    // A page past the end, however far, shows the last one.
    let far = format!("/staff/brusson/subscribers?page={}", usize::MAX);
    let (status, _, last) = get(&h, &far, &op).await;
    assert_eq!(status, 200, "{last}");
    assert!(last.contains("pagina 2 di 2"), "{last}");
    assert_eq!(second.matches("<tr><th scope=\"row\">•").count(), 8, "{second}");

    // Filters: French-speaking subscribers of the emergency list, on any channel.
    let (_, _, page) = get(
        &h,
        "/staff/brusson/subscribers?status=subscribed&category=emergenze&language=fr&channel=",
        &op,
    )
    .await;
    assert!(page.contains("Cittadini trovati: 2;"), "{page}");
    assert!(page.contains("Telegram") && page.contains("francese"), "{page}");
    let (_, _, page) = get(&h, "/staff/brusson/subscribers?status=unsubscribed", &op).await;
    assert!(page.contains("Cittadini trovati: 1;"), "{page}");

    // The CSV: the filtered list, masked for an operator, audited; in full only for an
    // administrator.
    let filters = [
        ("status", "subscribed"),
        ("category", "emergenze"),
        ("language", ""),
        ("channel", ""),
    ];
    let export = |cookie: String, csrf: String, unmasked: bool| {
        let mut form: Vec<(&str, String)> = filters.iter().map(|(k, v)| (*k, v.to_string())).collect();
        form.push(("csrf", csrf));
        if unmasked {
            form.push(("unmasked", "yes".into()));
        }
        let url = format!("{}/staff/brusson/subscribers.csv", h.base);
        async move {
            let r = client()
                .post(url)
                .header(COOKIE, cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let kind = r
                .headers()
                .get(CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, kind, r.text().await.unwrap())
        }
    };
    let (status, _, _) = export(op.clone(), csrf.clone(), true).await;
    assert_eq!(status, 403, "an operator never gets numbers in full");
    assert_eq!(export(op.clone(), "0".repeat(64), false).await.0, 403);
    let (status, kind, csv) = export(op.clone(), csrf.clone(), false).await;
    assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(!csv.contains("393339990001") && csv.contains("•001"), "{csv}");
    let admin = login(&h, ADMIN, PASSWORD).await;
    let (_, _, page) = get(&h, "/staff", &admin).await;
    let (status, _, csv) = export(admin, csrf_field(&page), true).await;
    assert_eq!(status, 200);
    assert!(
        csv.contains("\"393339990001\"") && csv.contains("\"777000111\""),
        "{csv}"
    );
    let exports = audited(store, "subscribers-export");
    assert_eq!(
        exports
            .iter()
            .map(|(actor, d)| (actor.as_str(), d.as_str()))
            .collect::<Vec<_>>(),
        [
            (brusson_op, "2 rows exported, numbers masked"),
            (ADMIN, "2 rows exported, numbers in full")
        ]
    );
    h.stop().await;
}

#[test]
fn the_command_line_changes_disables_resets_and_keeps_one_administrator() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let pw = [("SPORTELLO_STAFF_PASSWORD", PASSWORD)];
    let run = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--data", d]);
        sportello_env(tmp.path(), &args, &pw)
    };
    assert_eq!(run(&["staff", "add", "--role", "admin", ADMIN]).0, 0);
    assert_eq!(
        run(&["staff", "add", "--role", "operator", "--comune", "isili", ISILI_OP]).0,
        0
    );
    // The only active administrator stays one.
    for refused in [
        vec!["staff", "disable", ADMIN],
        vec!["staff", "remove", ADMIN],
        vec!["staff", "change", "--role", "operator", "--comune", "isili", ADMIN],
    ] {
        let (code, _, err) = run(&refused);
        assert_eq!(code, 1, "{refused:?}");
        assert!(err.contains("last active administrator"), "{err}");
    }
    let (code, out, err) = run(&["staff", "change", "--role", "admin", ISILI_OP]);
    assert_eq!(
        (code, out.as_str()),
        (0, "changed operatore@comune.isili.ca.it\n"),
        "{err}"
    );
    assert_eq!(
        run(&["staff", "disable", ADMIN]).0,
        0,
        "another administrator is active now"
    );
    let (_, list, _) = run(&["staff", "list"]);
    assert!(list.contains(&format!("{ADMIN}\tadmin\t*\tdisabled\t-")), "{list}");
    assert_eq!(run(&["staff", "enable", ADMIN]).0, 0);
    assert_eq!(
        run(&["staff", "change", "--role", "operator", ISILI_OP]).0,
        1,
        "no comune"
    );
    assert_eq!(run(&["staff", "disable", "nessuno@isili.it"]).0, 1);
    let (code, out, _) = run(&["staff", "reset", ISILI_OP]);
    assert_eq!(code, 0);
    let code_shown = out.trim().rsplit(' ').next().unwrap();
    assert_eq!(code_shown.len(), 24, "{out}");
    let store = sportello::storage::SledStore::open(&data).unwrap();
    let account = store.account(ISILI_OP).unwrap().unwrap();
    assert!(account.one_time.is_some() && !account.disabled && account.role == Role::Admin);
    let actions: Vec<(String, String)> = store
        .audit(None)
        .unwrap()
        .into_iter()
        .map(|(_, a)| (a.actor, a.action))
        .collect();
    for action in ["staff-change", "staff-disable", "staff-enable", "staff-reset"] {
        assert!(
            actions.contains(&("cli".to_string(), action.to_string())),
            "{action}: {actions:?}"
        );
    }
}
