//! Broadcasts from the console, findable and honest (issue 22): the composer says exactly
//! how many will receive a message, per language and channel, refuses a send to nobody and
//! asks a large one to be confirmed by its number; the list names categories, shows the
//! text's start and keeps its progress fresh without reloading or an inline script.

use jiff::Timestamp;
use sportello::storage::CitizenKey;

use crate::harness::broadcast::subscriber;
use crate::harness::console::{csrf_field, get, login, operator, post, PASSWORD};
use crate::harness::server::Harness;

const OP: &str = "urp@comune.brusson.ao.it";

fn form<'a>(csrf: &'a str, category: &'a str, action: &'a str, confirm: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("category", category),
        ("text_it", "Chiusura della strada regionale per neve"),
        ("text_fr", "Fermeture de la route régionale pour neige"),
        ("media", ""),
        ("at", ""),
        ("action", action),
        ("confirm", confirm),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_counts_recipients_refuses_nobody_and_confirms_a_large_send() {
    let h = Harness::start().await;
    let now = Timestamp::now();
    operator(h.store.as_ref(), OP, "brusson");
    // 101 on the events list (100 Italian on WhatsApp, one French on Telegram); nobody on
    // the emergency list.
    for n in 0..100 {
        let key = CitizenKey::new("brusson", "whatsapp", &format!("3933300{n:05}"));
        h.store.put_citizen(&key, &subscriber("it", &["eventi"], now)).unwrap();
    }
    let key = CitizenKey::new("brusson", "telegram", "777000111");
    h.store.put_citizen(&key, &subscriber("fr", &["eventi"], now)).unwrap();
    let cookie = login(&h, OP, PASSWORD).await;
    let (status, _, html) = get(&h, "/staff/brusson/broadcasts/new", &cookie).await;
    assert_eq!(status, 200);
    let csrf = csrf_field(&html);
    let new = "/staff/brusson/broadcasts/new";

    // The preview counts them, per language and channel, and asks for the confirmation.
    let (status, _, preview) = post(&h, new, &cookie, &form(&csrf, "eventi", "preview", "")).await;
    assert_eq!(status, 200, "{preview}");
    for part in [
        "Lo riceveranno 101 persone.",
        "<li>italiano: 100</li>",
        "<li>francese: 1</li>",
        "<li>WhatsApp: 100</li>",
        "<li>Telegram: 1</li>",
        "name=\"confirm\" value=\"101\"",
        // As each app shows it, for the channels the audience is on.
        "<figure class=\"bubble whatsapp\"><figcaption>WhatsApp</figcaption>",
        "<figure class=\"bubble telegram\"><figcaption>Telegram</figcaption>",
    ] {
        assert!(preview.contains(part), "{part}:\n{preview}");
    }

    // Nobody on the emergency list: refused, nothing stored.
    let (status, _, page) = post(&h, new, &cookie, &form(&csrf, "emergenze", "send", "")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Nessun iscritto riceverebbe questo messaggio"), "{page}");
    assert!(h.store.broadcasts(None).unwrap().is_empty());

    // 101 without the confirmation, or with a number that is no longer true: refused.
    for confirm in ["", "100"] {
        let (status, _, page) = post(&h, new, &cookie, &form(&csrf, "eventi", "send", confirm)).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Questo messaggio raggiunge 101 persone"),
            "{confirm}: {page}"
        );
        assert!(h.store.broadcasts(None).unwrap().is_empty(), "{confirm}");
    }
    let (status, location, _) = post(&h, new, &cookie, &form(&csrf, "eventi", "send", "101")).await;
    assert_eq!((status, location.as_deref()), (303, Some("/staff/brusson/broadcasts")));
    assert_eq!(h.store.broadcasts(None).unwrap().len(), 1);

    // The list: found from the comune's menu, names the category, shows the text's start,
    // and stays fresh through the console's script, never an inline one.
    let (_, _, home) = get(&h, "/staff", &cookie).await;
    assert!(home.contains("href=\"/staff/brusson/broadcasts\""), "{home}");
    let (status, _, list) = get(&h, "/staff/brusson/broadcasts", &cookie).await;
    assert_eq!(status, 200);
    for part in [
        "Eventi e attività",
        "Chiusura della strada regionale per neve",
        "<script src=\"/staff/console.js\" defer></script>",
        "data-live data-on=\"broadcasts\" data-every=\"3000\" data-src=\"/staff/brusson/broadcasts/rows\" data-events=\"/staff/brusson/events\"",
    ] {
        assert!(list.contains(part), "{part}:\n{list}");
    }
    assert_eq!(list.matches("<script").count(), 1, "{list}");
    assert!(!list.contains("<td>eventi</td>"), "a category id instead of its name");
    let sent = h.wait_sent(101).await;
    assert_eq!(sent.len(), 101);
    let started = std::time::Instant::now();
    loop {
        let (status, _, rows) = get(&h, "/staff/brusson/broadcasts/rows", &cookie).await;
        assert_eq!(status, 200);
        assert!(!rows.contains("<html"), "only the table");
        if rows.contains("data-final") {
            assert!(rows.contains("101 destinatari: 0 in coda, 101 inviati"), "{rows}");
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "{rows}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    h.stop().await;
}
