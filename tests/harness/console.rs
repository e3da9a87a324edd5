//! The staff console as a browser drives it: accounts, login, cookies, CSRF fields, pages;
//! and the binary run with a given environment.

use std::path::Path;
use std::process::Command;

use jiff::Timestamp;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Response};
use sportello::console::{accounts, session};
use sportello::storage::{Role, Store};

use crate::harness::server::Harness;

pub const PASSWORD: &str = "Quercia-Nuragica-1987";
pub const ISILI_OP: &str = "operatore@comune.isili.ca.it";
pub const ADMIN: &str = "it@unione-comuni.it";

pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(r: &Response) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// The value a `Set-Cookie` list gives cookie `name`.
pub fn cookie_value(set: &[String], name: &str) -> Option<String> {
    set.iter()
        .filter_map(|c| c.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The hidden `csrf` field of a page.
pub fn csrf_field(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

/// A login attempt as a browser makes it: the form (and its cookie), then the post.
/// Returns the post's response.
pub async fn try_login(h: &Harness, email: &str, password: &str) -> Response {
    try_login_at(&h.base, email, password).await
}

/// [`try_login`] against the server at `base`.
pub async fn try_login_at(base: &str, email: &str, password: &str) -> Response {
    let http = client();
    let form = http.get(format!("{base}/staff/login")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let token = cookie_value(&set_cookies(&form), session::LOGIN_COOKIE).expect("a login cookie");
    let html = form.text().await.unwrap();
    assert_eq!(
        csrf_field(&html),
        token,
        "double submit: field and cookie carry one token"
    );
    http.post(format!("{base}/staff/login"))
        .header(COOKIE, format!("{}={token}", session::LOGIN_COOKIE))
        .form(&[("email", email), ("password", password), ("csrf", &token)])
        .send()
        .await
        .unwrap()
}

/// Logs in; returns the `Cookie` header value of the session.
pub async fn login(h: &Harness, email: &str, password: &str) -> String {
    let r = try_login(h, email, password).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let token = cookie_value(&set_cookies(&r), session::COOKIE).unwrap();
    format!("{}={token}", session::COOKIE)
}

pub async fn get(h: &Harness, path: &str, cookie: &str) -> (u16, Option<String>, String) {
    let r = client()
        .get(format!("{}{path}", h.base))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_string());
    (status, location, r.text().await.unwrap())
}

/// Posts a console form with the session `cookie`; returns (status, Location, body).
pub async fn post(h: &Harness, path: &str, cookie: &str, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
    let r = client()
        .post(format!("{}{path}", h.base))
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_string());
    (status, location, r.text().await.unwrap())
}

/// An operator of `comune` with [`PASSWORD`].
pub fn operator(store: &dyn Store, email: &str, comune: &str) {
    accounts::create(
        store,
        email,
        Role::Operator,
        vec![comune.into()],
        PASSWORD,
        Timestamp::now(),
    )
    .unwrap();
}

pub fn seed_accounts(store: &dyn Store) {
    let now = Timestamp::now();
    accounts::create(store, ISILI_OP, Role::Operator, vec!["isili".into()], PASSWORD, now).unwrap();
    accounts::create(store, ADMIN, Role::Admin, vec![], PASSWORD, now).unwrap();
}

/// Runs the real binary with one environment variable set; returns (code, stdout, stderr).
pub fn sportello_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sportello"));
    cmd.args(args).current_dir(dir).env("SPORTELLO_LOG", "trace");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
