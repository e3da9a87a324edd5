//! Issue 4, the staff console's foundation, through the real server: login and lockout,
//! the session cookie and CSRF, role boundaries, the pages' figures; `sportello staff`
//! through the real binary; passwords never stored or logged in clear.
//!
//! Cookies are read from `Set-Cookie` by hand (reqwest is built without its cookie jar),
//! and redirects are not followed, so every 303 is seen.

use sportello::storage::CitizenStore;
use sportello::storage::StaffStore;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{COOKIE, LOCATION};
use sportello::console::{accounts, session};
use sportello::dialogue::{Citizen, State};
use sportello::moderation::{Rule, Verdict};
use sportello::storage::{CaseStatus, CitizenKey, ModerationCase, SledStore};

use crate::harness::console::{
    client, cookie_value, csrf_field, get, login, seed_accounts, set_cookies, sportello_env, try_login, try_login_at,
    ADMIN, ISILI_OP, PASSWORD,
};
use crate::harness::server::Harness;
use crate::util::root;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_strict_http_only_cookie_and_a_wrong_password_is_refused() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());

    let (status, location, _) = get(&h, "/staff", "").await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/login")));

    let r = try_login(&h, ISILI_OP, "not-the-password").await;
    assert_eq!(r.status(), 401);
    assert!(cookie_value(&set_cookies(&r), session::COOKIE).is_none());
    assert!(r.text().await.unwrap().contains("E-mail o password non corrette."));
    // An unknown e-mail gets the very same answer.
    let r = try_login(&h, "nessuno@comune.isili.ca.it", PASSWORD).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("E-mail o password non corrette."));

    let r = try_login(&h, "Operatore@Comune.Isili.CA.it", PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/staff");
    let set = set_cookies(&r);
    let session_cookie = set.iter().find(|c| c.starts_with("sportello_session=")).unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/staff"] {
        assert!(session_cookie.contains(flag), "{session_cookie}");
    }
    // Served over plain http (public_url http://…): not Secure, or the browser would drop it.
    assert!(!session_cookie.contains("Secure"), "{session_cookie}");
    let token = cookie_value(&set, session::COOKIE).unwrap();
    assert_eq!(token.len(), 64);
    // The store keeps the token's hash only.
    assert!(h.store.session(&session::sha256_hex(&token)).unwrap().is_some());
    assert!(h.store.mentions(&token).unwrap().is_empty());

    let (status, _, html) = get(&h, "/staff", &format!("sportello_session={token}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("I Suoi comuni"), "{html}");
    // The API answers 401 JSON without a session, never a redirect to a page.
    let (status, location, body) = get(&h, "/staff/api/me", "").await;
    assert_eq!(
        (status, location, body.as_str()),
        (401, None, r#"{"error":"unauthenticated"}"#)
    );
    let (status, _, body) = get(&h, "/staff/api/me", &format!("sportello_session={token}")).await;
    assert_eq!(status, 200);
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        me,
        serde_json::json!({"email": ISILI_OP, "role": "operator", "language": "it", "comuni": ["isili"]})
    );

    // Every attempt is audited; the password never.
    let audit = h.store.audit(None).unwrap();
    let actions: Vec<_> = audit
        .iter()
        .map(|(_, a)| (a.actor.as_str(), a.action.as_str()))
        .collect();
    assert!(actions.contains(&(ISILI_OP, "login-failed")), "{actions:?}");
    assert!(actions.contains(&("unknown", "login-failed")), "{actions:?}");
    assert!(actions.contains(&(ISILI_OP, "login")), "{actions:?}");
    for secret in [PASSWORD, "not-the-password", "nessuno@comune"] {
        assert!(h.store.mentions(secret).unwrap().is_empty(), "{secret} is stored");
    }
    let account = h.store.account(ISILI_OP).unwrap().unwrap();
    assert!(
        account.password_hash.starts_with("$argon2id$v=19$"),
        "{}",
        account.password_hash
    );
    h.stop().await;
}

/// Issue 17: 30 wrong passwords and the right one sent at once were 30 "wrong password",
/// no lock, and a session for the right one. Serialised, each guess counts: the address
/// is locked out after the fifth, and the right password sent among them opens no session
/// unless it came before the fifth wrong one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_are_each_counted_and_cannot_race_the_lockout() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let mut tasks = Vec::new();
    for i in 0..31 {
        let base = h.base.clone();
        let password = if i == 15 {
            PASSWORD.to_string()
        } else {
            format!("indovino-{i:02}-password")
        };
        tasks.push(tokio::spawn(async move {
            let r = try_login_at(&base, ISILI_OP, &password).await;
            let session = cookie_value(&set_cookies(&r), session::COOKIE).is_some();
            (
                r.status().as_u16(),
                session,
                r.text().await.unwrap().contains("bloccato"),
            )
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let locked = outcomes.iter().filter(|(_, _, l)| *l).count();
    let sessions = outcomes.iter().filter(|(_, s, _)| *s).count();
    let wrong = outcomes.iter().filter(|(st, s, l)| *st == 401 && !s && !l).count();
    // At most 5 wrong answers (the 5th locks), or 4 and a success that reset the count
    // before 5 more: never more than 9 checked as merely wrong.
    assert!(wrong <= 9, "{wrong} guesses answered 'wrong password': {outcomes:?}");
    assert!(locked >= 31 - 9 - 1, "{locked} answered 'locked': {outcomes:?}");
    assert!(sessions <= 1);
    let after = try_login(&h, ISILI_OP, PASSWORD).await;
    assert_eq!(after.status(), 401);
    assert!(
        after.text().await.unwrap().contains("bloccato"),
        "the address ends locked out"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_session_csrf_token_and_logout_ends_the_session() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let cookie = login(&h, ISILI_OP, PASSWORD).await;
    let (_, _, html) = get(&h, "/staff", &cookie).await;
    let csrf = csrf_field(&html);
    let logout = |form: Vec<(&'static str, String)>, cookie: String| {
        let url = format!("{}/staff/logout", h.base);
        async move {
            client()
                .post(url)
                .header(COOKIE, cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(logout(vec![], cookie.clone()).await.status(), 403);
    assert_eq!(
        logout(vec![("csrf", "0".repeat(64))], cookie.clone()).await.status(),
        403
    );
    // The login form's own token is refused without its cookie.
    let r = client()
        .post(format!("{}/staff/login", h.base))
        .form(&[("email", ISILI_OP), ("password", PASSWORD), ("csrf", &"a".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let r = logout(vec![("csrf", csrf)], cookie.clone()).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/staff/login");
    assert!(set_cookies(&r)
        .iter()
        .any(|c| c.starts_with("sportello_session=;") && c.contains("Max-Age=0")));
    let token = cookie.split_once('=').unwrap().1;
    assert!(h.store.session(&session::sha256_hex(token)).unwrap().is_none());
    let (status, location, _) = get(&h, "/staff", &cookie).await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/login")));
    let actions: Vec<_> = h
        .store
        .audit(None)
        .unwrap()
        .into_iter()
        .map(|(_, a)| a.action)
        .collect();
    assert!(actions.contains(&"logout".to_string()), "{actions:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_only_their_comune_and_numbers_are_masked() {
    let h = Harness::start().await;
    let store = h.store.as_ref();
    seed_accounts(store);
    let now = Timestamp::now();
    for n in ["393330000101", "393330000102"] {
        let mut c = Citizen::new(now);
        c.state = State::Subscribed;
        store.put_citizen(&CitizenKey::new("isili", "whatsapp", n), &c).unwrap();
    }
    store
        .put_citizen(
            &CitizenKey::new("isili", "whatsapp", "393330000103"),
            &Citizen::new(now),
        )
        .unwrap();
    let case = |comune: &str, number: &str, status| ModerationCase {
        key: CitizenKey::new(comune, "whatsapp", number),
        rule: Rule::Vulgar,
        verdict: Verdict::Withhold,
        text: "testo trattenuto Scarabocchio".into(),
        spans: vec![],
        at: now,
        blocked: false,
        status,
        decided_by: None,
        decided_at: None,
        note: None,
    };
    store
        .add_case(&case("isili", "393471234567", CaseStatus::Pending))
        .unwrap();
    store
        .add_case(&case("isili", "393479999888", CaseStatus::Dismissed))
        .unwrap();
    store
        .add_case(&case("assemini", "393475550001", CaseStatus::Pending))
        .unwrap();

    let op = login(&h, ISILI_OP, PASSWORD).await;
    let (status, _, home) = get(&h, "/staff", &op).await;
    assert_eq!(status, 200);
    assert!(home.contains("<a href=\"/staff/isili\">"), "{home}");
    assert!(
        !home.contains("/staff/assemini") && !home.contains("Assemini"),
        "{home}"
    );
    assert!(home.contains("Iscritti: 2"), "{home}");
    assert!(home.contains("Segnalazioni di moderazione in attesa: 1"), "{home}");
    assert_eq!(home.matches("<h2").count(), 1);

    let (status, _, page) = get(&h, "/staff/assemini", &op).await;
    assert_eq!(status, 403);
    assert!(!page.contains("555"), "{page}");
    let (status, _, page) = get(&h, "/staff/isili", &op).await;
    assert_eq!(status, 200);
    assert!(page.contains("•••••••••567"), "{page}");
    assert!(!page.contains("1234567") && !page.contains("9999888"), "{page}");
    assert!(page.contains("linguaggio offensivo o scurrile"), "{page}");
    assert!(!page.contains("Scarabocchio"), "the withheld text is not on the list");

    let admin = login(&h, ADMIN, PASSWORD).await;
    let (_, _, home) = get(&h, "/staff", &admin).await;
    assert_eq!(home.matches("<h2").count(), 5, "{home}");
    for c in ["isili", "assemini", "brusson", "madone", "isola-delle-femmine"] {
        assert!(home.contains(&format!("href=\"/staff/{c}\"")), "{c}");
    }
    assert_eq!(get(&h, "/staff/assemini", &admin).await.0, 200);
    assert_eq!(get(&h, "/staff/atlantide", &admin).await.0, 404);

    // A French-speaking account reads the console in French.
    let mut account = store.account(ADMIN).unwrap().unwrap();
    account.language = "fr".into();
    store.put_account(&account).unwrap();
    let (_, _, home) = get(&h, "/staff", &admin).await;
    assert!(
        home.contains("<html lang=\"fr\">") && home.contains("Vos communes"),
        "{home}"
    );
    h.stop().await;
}

#[test]
fn staff_add_list_remove_through_the_binary_are_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let pw = [("SPORTELLO_STAFF_PASSWORD", PASSWORD)];
    let (code, out, err) = sportello_env(
        tmp.path(),
        &[
            "staff",
            "add",
            "--role",
            "operator",
            "--comune",
            "isili",
            "Operatore@Comune.Isili.CA.it",
            "--data",
            d,
        ],
        &pw,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added operatore@comune.isili.ca.it as operator"), "{out}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD), "{out}{err}");
    // Without the variable a one-time password is generated and shown once, only on stdout.
    let (code, out, err) = sportello_env(
        tmp.path(),
        &["staff", "add", "--role", "admin", ADMIN, "--data", d],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let generated = out
        .lines()
        .find(|l| l.starts_with("one-time password (shown only now"))
        .and_then(|l| l.rsplit(' ').next())
        .expect("a generated password")
        .to_string();
    assert!(generated.len() >= accounts::MIN_PASSWORD && !err.contains(&generated));
    // Refusals: an operator without a comune, an unknown comune, a taken e-mail, a short password.
    for (args, env) in [
        (vec!["staff", "add", "--role", "operator", "x@isili.it"], &pw[..]),
        (
            vec![
                "staff",
                "add",
                "--role",
                "operator",
                "--comune",
                "atlantide",
                "x@isili.it",
            ],
            &pw[..],
        ),
        (vec!["staff", "add", "--role", "admin", ADMIN], &pw[..]),
        (
            vec!["staff", "add", "--role", "admin", "y@isili.it"],
            &[("SPORTELLO_STAFF_PASSWORD", "corta")][..],
        ),
    ] {
        let mut args = args.clone();
        args.extend(["--data", d]);
        let (code, _, err) = sportello_env(tmp.path(), &args, env);
        assert_eq!(code, 1, "{args:?} {err}");
    }
    let (code, out, _) = sportello_env(tmp.path(), &["staff", "list", "--data", d], &[]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!("{ADMIN}\tadmin\t*\tpending\t-\noperatore@comune.isili.ca.it\toperator\tisili\tactive\t-\n")
    );
    assert!(!out.contains("argon2"));
    let (code, out, _) = sportello_env(
        tmp.path(),
        &["staff", "remove", "operatore@comune.isili.ca.it", "--data", d],
        &[],
    );
    assert_eq!((code, out.as_str()), (0, "removed operatore@comune.isili.ca.it\n"));
    let (code, _, err) = sportello_env(
        tmp.path(),
        &["staff", "remove", "operatore@comune.isili.ca.it", "--data", d],
        &[],
    );
    assert_eq!(code, 1, "{err}");

    let store = SledStore::open(&data).unwrap();
    let audit: Vec<_> = store
        .audit(None)
        .unwrap()
        .into_iter()
        .map(|(_, a)| (a.actor, a.action))
        .collect();
    let cli = |a: &str| ("cli".to_string(), a.to_string());
    assert_eq!(audit, vec![cli("staff-add"), cli("staff-add"), cli("staff-remove")]);
    for secret in [PASSWORD, generated.as_str()] {
        assert!(
            store.mentions(secret).unwrap().is_empty(),
            "a password is stored in clear"
        );
    }
    let admin = store.account(ADMIN).unwrap().unwrap();
    assert!(admin.password_hash.starts_with("$argon2id$"));
    // It is not the account's password: it works once, then a new one is asked for.
    assert!(!accounts::verify_password(&generated, &admin.password_hash));
    let here = std::net::IpAddr::from([127, 0, 0, 1]);
    let lockouts = Default::default();
    let first = accounts::login(&store, &lockouts, ADMIN, &generated, here, Timestamp::now()).unwrap();
    assert!(first.must_change_password);
    assert!(accounts::login(&store, &lockouts, ADMIN, &generated, here, Timestamp::now()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_logs_no_password_and_no_session_token() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let (code, _, err) = sportello_env(
        &root(),
        &["staff", "add", "--role", "admin", ADMIN, "--data", d],
        &[("SPORTELLO_STAFF_PASSWORD", PASSWORD)],
    );
    assert_eq!(code, 0, "{err}");
    let bind = crate::util::free_bind();
    let mut server = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["serve", "--bind", &bind, "--data", d])
        .current_dir(root())
        .env("SPORTELLO_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = server.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = stderr.read_to_string(&mut all);
        all
    });
    let base = format!("http://{bind}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = client();
    for _ in 0..500 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut tokens = Vec::new();
    for password in ["Sbagliata-Davvero-42", PASSWORD] {
        let form = http.get(format!("{base}/staff/login")).send().await.unwrap();
        let token = cookie_value(&set_cookies(&form), session::LOGIN_COOKIE).unwrap();
        let r = http
            .post(format!("{base}/staff/login"))
            .header(COOKIE, format!("{}={token}", session::LOGIN_COOKIE))
            .form(&[("email", ADMIN), ("password", password), ("csrf", &token)])
            .send()
            .await
            .unwrap();
        tokens.extend(cookie_value(&set_cookies(&r), session::COOKIE));
    }
    assert_eq!(tokens.len(), 1, "the right password logs in");
    let r = http
        .get(format!("{base}/staff"))
        .header(COOKIE, format!("{}={}", session::COOKIE, tokens[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // SIGTERM, so that the server shuts down as in production and logs it.
    let term = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(server.wait().unwrap().success());
    let logs = logs.join().unwrap();
    assert!(!logs.is_empty(), "trace level logs something");
    for secret in [PASSWORD, "Sbagliata-Davvero-42", tokens[0].as_str()] {
        assert!(!logs.contains(secret), "the logs hold a secret");
    }
}
