//! Issue #5 in the staff console, through the real server (`server::Harness`): compose,
//! preview, send and follow a broadcast; CSRF and the comune boundary.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sportello::console::{accounts, session};
use sportello::storage::{CitizenKey, Role};

use crate::harness::broadcast::subscriber;
use crate::harness::console::post;
use crate::harness::server::Harness;

const PASSWORD: &str = "Quercia-Nuragica-1987";
const BRUSSON_OP: &str = "segreteria@comune.brusson.ao.it";
const ISILI_OP: &str = "operatore@comune.isili.ca.it";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| {
            v.to_str()
                .ok()?
                .split(';')
                .next()?
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn csrf_field(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

async fn login(h: &Harness, email: &str) -> String {
    let http = client();
    let form = http.get(format!("{}/staff/login", h.base)).send().await.unwrap();
    let token = cookie_of(&form, session::LOGIN_COOKIE).unwrap();
    let r = http
        .post(format!("{}/staff/login", h.base))
        .header(COOKIE, format!("{}={token}", session::LOGIN_COOKIE))
        .form(&[("email", email), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    format!("{}={}", session::COOKIE, cookie_of(&r, session::COOKIE).unwrap())
}

async fn get(h: &Harness, path: &str, cookie: &str) -> (u16, String) {
    let r = client()
        .get(format!("{}{path}", h.base))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The two operators' accounts: Brusson's and Isili's.
fn seed(store: &dyn sportello::storage::Store) {
    let now = Timestamp::now();
    for (email, comune) in [(BRUSSON_OP, "brusson"), (ISILI_OP, "isili")] {
        accounts::create(store, email, Role::Operator, vec![comune.into()], PASSWORD, now).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_preview_send_and_follow_a_broadcast_in_the_console() {
    let h = Harness::start().await;
    let now = Timestamp::now();
    seed(h.store.as_ref());
    for (n, lang) in [("393330000101", "it"), ("393330000102", "fr")] {
        h.store
            .put_citizen(
                &CitizenKey::new("brusson", "whatsapp", n),
                &subscriber(lang, &["eventi"], now),
            )
            .unwrap();
    }
    let cookie = login(&h, BRUSSON_OP).await;
    let (status, html) = get(&h, "/staff/brusson/broadcasts/new", &cookie).await;
    assert_eq!(status, 200);
    let csrf = csrf_field(&html);
    let fields = |action: &'static str, csrf: String| {
        vec![
            ("csrf", csrf),
            ("category", "eventi".to_string()),
            ("text_it", "Festa patronale domenica".to_string()),
            ("text_fr", "Fête patronale dimanche".to_string()),
            ("media", String::new()),
            ("at", String::new()),
            ("action", action.to_string()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let preview = fields("preview", csrf.clone());
    let preview: Vec<(&str, &str)> = preview.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, html) = post(&h, "/staff/brusson/broadcasts/new", &cookie, &preview).await;
    assert_eq!(status, 200);
    assert!(html.contains("📢 Comune di Brusson · Eventi e attività"), "{html}");
    assert!(html.contains("Fête patronale dimanche") && html.contains("MI CANCELLO"));
    assert!(h.store.broadcasts(None).unwrap().is_empty(), "a preview sends nothing");

    let forged = as_refs(&fields("send", "0".repeat(64)));
    let forged: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(post(&h, "/staff/brusson/broadcasts/new", &cookie, &forged).await.0, 403);
    let other = login(&h, ISILI_OP).await;
    assert_eq!(get(&h, "/staff/brusson/broadcasts", &other).await.0, 403);

    let send = fields("send", csrf.clone());
    let send: Vec<(&str, &str)> = send.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, _) = post(&h, "/staff/brusson/broadcasts/new", &cookie, &send).await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/brusson/broadcasts")));
    let sent = h.wait_sent(2).await;
    assert!(sent.iter().any(|(_, b)| b["text"]["body"]
        .as_str()
        .unwrap_or_default()
        .contains("Fête patronale")));
    let audit = h.store.audit(Some("brusson")).unwrap();
    assert!(audit
        .iter()
        .any(|(_, e)| e.action == "broadcast-console" && e.actor == BRUSSON_OP));
    let started = Instant::now();
    loop {
        let (status, html) = get(&h, "/staff/brusson/broadcasts", &cookie).await;
        assert_eq!(status, 200);
        assert!(!html.contains("393330000101"), "no citizen number on the page");
        if html.contains("2 destinatari: 0 in coda, 2 inviati") {
            assert!(html.contains("<progress max=\"2\" value=\"2\""), "{html}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{html}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    h.stop().await;
}

/// A multipart body with the csrf field and one file, as a browser sends the upload form.
fn multipart(csrf: &str, name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----sportello-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_uploads_an_image_and_links_it() {
    let h = Harness::start().await;
    seed(h.store.as_ref());
    let cookie = login(&h, BRUSSON_OP).await;
    let (status, html) = get(&h, "/staff/brusson/broadcasts/new", &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    let csrf = csrf_field(&html);
    let upload = |csrf: String, name: &'static str, bytes: Vec<u8>, who: String| {
        let base = h.base.clone();
        async move {
            let (ctype, body) = multipart(&csrf, name, &bytes);
            let r = client()
                .post(format!("{base}/staff/brusson/broadcasts/media"))
                .header(COOKIE, who)
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap();
            let location = r.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string());
            (r.status().as_u16(), location)
        }
    };
    // Bigger than the console's 16 KiB form limit: the upload has its own.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(std::iter::repeat_n(7u8, 200 * 1024));
    let (status, location) = upload(csrf.clone(), "Neve.png", png.clone(), cookie.clone()).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(
        location.starts_with("/staff/brusson/broadcasts/new?media=http"),
        "{location}"
    );
    let (status, html) = get(&h, &location, &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("role=\"status\"") && html.contains("/media/"), "{html}");
    let link = location
        .split("media=")
        .nth(1)
        .unwrap()
        .replace("%3A", ":")
        .replace("%2F", "/");
    let name = link.rsplit('/').next().unwrap();
    let served = client().get(format!("{}/media/{name}", h.base)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().as_ref(), png.as_slice());
    assert!(h
        .store
        .audit(Some("brusson"))
        .unwrap()
        .iter()
        .any(|(_, e)| e.action == "media-upload" && e.detail == name));

    // A document renamed to .png, a wrong token, another comune's operator.
    let (status, location) = upload(csrf.clone(), "delibera.png", b"%PDF-1.7".to_vec(), cookie.clone()).await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/staff/brusson/broadcasts/new?upload=refused"))
    );
    let (status, _) = upload("0".repeat(64), "Neve.png", png.clone(), cookie.clone()).await;
    assert_eq!(status, 403);
    let other = login(&h, ISILI_OP).await;
    let (status, _) = upload(csrf, "Neve.png", png, other).await;
    assert_eq!(status, 403);
    h.stop().await;
}
