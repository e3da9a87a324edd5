//! Issue 19, the console's FAQ page, through the real server: it lists exactly the entries
//! the bot answers with, built-in ones included when `serve` runs from a folder without
//! `./faq`; it shows this month's use of each entry from the anonymous counters; and it
//! lists the month's questions handed to staff with personal data masked and no citizen.

use std::process::{Command, Stdio};
use std::time::Duration;

use jiff::{Timestamp, ToSpan};
use reqwest::header::COOKIE;
use serde_json::{json, Value};
use sportello::console::session;
use sportello::faq::Faq;
use sportello::storage::keys::month_of;
use sportello::storage::CitizenKey;

use crate::harness::console::{
    client, cookie_value, get, login, seed_accounts, set_cookies, sportello_env, try_login_at,
};
use crate::harness::console::{ADMIN, PASSWORD};
use crate::harness::server::Harness;
use crate::harness::staffops::say;
use crate::util::{free_bind, root};

/// The part of a page from the element with `id` to the end of its section.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id}: {page}"));
    let end = page[start..].find("</section>").map_or(page.len(), |e| start + e);
    &page[start..end]
}

/// What a reader sees of some HTML: the text between the tags (attributes, such as the
/// times and links, left out).
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A `sportello serve` this test started, stopped when dropped, so that a failing
/// assertion does not leave it running.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The built-in Assemini FAQ, as the binary embeds it.
fn assemini() -> Faq {
    Faq::load(&root().join("faq").join("assemini.toml")).unwrap()
}

/// One message through the simulator; returns the reply texts.
async fn try_say(base: &str, session: &str, text: &str) -> Vec<String> {
    let r = client()
        .post(format!("{base}/try/api/message"))
        .json(&json!({"comune": "assemini", "session": session, "text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_19_the_faq_page_lists_the_built_in_entries_when_served_without_a_faq_folder() {
    // A folder with no ./faq, ./flows or ./locales: everything comes built in.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let (code, _, err) = sportello_env(
        tmp.path(),
        &["staff", "add", "--role", "admin", ADMIN, "--data", d],
        &[("SPORTELLO_STAFF_PASSWORD", PASSWORD)],
    );
    assert_eq!(code, 0, "{err}");
    let bind = free_bind();
    let _server = Serving(
        Command::new(env!("CARGO_BIN_EXE_sportello"))
            .args(["serve", "--bind", &bind, "--data", d])
            .current_dir(tmp.path())
            .env("SPORTELLO_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://{bind}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut up = false;
    for _ in 0..1000 {
        if client().get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(up, "the server did not start");
    let r = try_login_at(&base, ADMIN, PASSWORD).await;
    assert_eq!(r.status(), 303);
    let cookie = format!(
        "{}={}",
        session::COOKIE,
        cookie_value(&set_cookies(&r), session::COOKIE).unwrap()
    );
    let r = client()
        .get(format!("{base}/staff/assemini/faq"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();

    // Every entry of the built-in file, marked as such, and nothing else.
    let faq = assemini();
    assert!(!page.contains("Nessuna domanda frequente"), "{page}");
    for e in faq.entries() {
        let heading = format!(">{} ({})</h2>", e.id, e.lang);
        assert!(page.contains(&heading), "{heading} missing");
    }
    assert_eq!(page.matches("<h2 id=\"e").count(), faq.entries().len());
    assert_eq!(
        page.matches("Predefinita: dal file del comune").count(),
        faq.entries().len()
    );
    // The out-of-scope rules are answers too: listed, read only.
    let rules = section(&page, "rules-h");
    for r in faq.out_of_scope() {
        assert!(rules.contains(&format!(">{} ({})</h3>", r.id, r.lang)), "{rules}");
    }
    // Assemini's two rules that answer requests and reports say so, once each.
    assert_eq!(rules.matches("Risponde anche alle richieste").count(), 1, "{rules}");
    assert_eq!(rules.matches("Risponde anche alle segnalazioni").count(), 1, "{rules}");
    // And the bot of this same server answers from those entries.
    let s = "issue19builtin";
    for line in ["Buongiorno", "Mario", "Rossi", "12/03/1980"] {
        try_say(&base, s, line).await;
    }
    let orari = faq.entries().iter().find(|e| e.id == "orari").unwrap();
    let answer = try_say(&base, s, "quali sono gli orari del servizio").await;
    assert!(answer.iter().any(|t| t.contains(&orari.answer)), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_19_the_faq_page_shows_this_months_use_of_each_entry() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let now = Timestamp::now();
    let month = month_of(now);
    let last = month_of(now.checked_sub((40 * 24).hours()).unwrap());
    let store = h.store.as_ref();
    store.bump("assemini", &month, "faq-answered:orari", 7).unwrap();
    store.bump("assemini", &month, "faq-picked:orari", 3).unwrap();
    store.bump("assemini", &month, "faq-picked:privacy", 2).unwrap();
    // Other months and other comuni do not count.
    store.bump("assemini", &last, "faq-answered:orari", 100).unwrap();
    store.bump("isili", &month, "faq-answered:orari", 50).unwrap();
    store.bump("assemini", &month, "question", 9).unwrap();

    let usage = sportello::staff::faq::usage(store, "assemini", &month).unwrap();
    assert_eq!(usage.get("orari"), Some(&(7, 3)));
    assert_eq!(usage.get("privacy"), Some(&(0, 2)));
    assert_eq!(usage.len(), 2);

    let admin = login(&h, ADMIN, PASSWORD).await;
    let (status, _, page) = get(&h, "/staff/assemini/faq", &admin).await;
    assert_eq!(status, 200);
    let table = section(&page, "usage-h");
    let (y, m) = month.split_once('-').unwrap();
    assert!(table.contains(&format!("{m}/{y}")), "{table}");
    let row = |id: &str| {
        let at = table
            .find(&format!(">{id} (it)</a>"))
            .unwrap_or_else(|| panic!("{table}"));
        let end = table[at..].find("</tr>").unwrap() + at;
        table[at..end].to_string()
    };
    let figures = |row: String| -> Vec<String> {
        row.split("<td")
            .skip(1)
            .map(|c| c.split('>').nth(1).unwrap().split('<').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(figures(row("orari")), ["7", "3"]);
    assert_eq!(figures(row("privacy")), ["0", "2"]);
    assert_eq!(figures(row("carta-identita")), ["0", "0"]);
    // Under each entry too.
    let orari = page.find(">orari (it)</h2>").unwrap();
    assert!(
        page[orari..].contains("In questo mese: risposte date 7, scelte tra i pulsanti 3."),
        "{page}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_19_unanswered_questions_are_listed_masked_and_without_the_citizen() {
    let h = Harness::start().await;
    seed_accounts(h.store.as_ref());
    let citizen = "393330019019";
    let mut seq = 0;
    for line in ["Buongiorno", "Mario", "Rossi", "12/03/1980"] {
        say(&h, "assemini", citizen, &mut seq, line).await;
    }
    let question = "Il mio cane si è perso vicino al parco: sono Mario Rossi, \
                    scrivetemi a mario.rossi@example.org o chiamate il 347 1234567";
    say(&h, "assemini", citizen, &mut seq, question).await;
    let key = CitizenKey::new("assemini", "whatsapp", citizen);
    let conv = h.store.conversation(&key).unwrap().expect("the question went to staff");
    assert!(conv.lines.iter().any(|l| l.text == question), "{conv:?}");
    // A question of last month is not this month's.
    let old = Timestamp::now().checked_sub((40 * 24).hours()).unwrap();
    let other = CitizenKey::new("assemini", "whatsapp", "393330019020");
    sportello::staff::inbox::citizen_wrote(h.store.as_ref(), &other, "", "domanda del mese scorso", None, old).unwrap();

    let admin = login(&h, ADMIN, PASSWORD).await;
    let (status, _, page) = get(&h, "/staff/assemini/faq", &admin).await;
    assert_eq!(status, 200);
    let list = section(&page, "unanswered-h");
    let seen = visible(list);
    assert!(
        seen.contains("Il mio cane si è perso vicino al parco: sono ••• •••, scrivetemi a ••• o chiamate il •••"),
        "{list}"
    );
    assert!(!seen.contains("domanda del mese scorso"), "{list}");
    for personal in ["mario.rossi", "example.org", "347", "1234567", "Mario", "Rossi"] {
        assert!(!seen.contains(personal), "{personal} shown: {list}");
    }
    // No number, masked or not, and no link to the citizen or the conversation.
    assert!(!page.contains(citizen));
    for leak in ["019019", "•019"] {
        assert!(!visible(&page).contains(leak), "{leak} on the page");
    }
    for link in ["/inbox/", "/citizens/"] {
        assert!(!page.contains(link), "{link} on the page");
    }

    // The link starts a new entry with the (masked) question in its questions box.
    let href = list
        .split("href=\"")
        .nth(1)
        .and_then(|h| h.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    assert!(href.starts_with("/staff/assemini/faq?ask="), "{href}");
    let (status, _, page) = get(&h, href.split('#').next().unwrap(), &admin).await;
    assert_eq!(status, 200);
    let new = section(&page, "new-h");
    assert!(
        new.contains("name=\"questions\" rows=\"4\" required aria-describedby=\"new-q-hint\">Il mio cane si è perso"),
        "{new}"
    );
    assert!(!new.contains("mario.rossi"), "{new}");
    h.stop().await;
}
