//! The desk in two panes (issue 22): a conversation opens beside the list of open
//! conversations, marked as the current one there, and the list keeps itself fresh through
//! the console's script with the mark kept.

use jiff::Timestamp;
use sportello::console::desk;
use sportello::dialogue::{Citizen, State};
use sportello::staff::inbox;
use sportello::storage::CitizenKey;

use crate::harness::console::{get, login, operator, PASSWORD};
use crate::harness::server::Harness;

const OP: &str = "urp@comune.assemini.ca.it";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_opens_beside_the_list_and_is_marked_in_it() {
    let h = Harness::start().await;
    let now = Timestamp::now();
    operator(h.store.as_ref(), OP, "assemini");
    let mut refs = Vec::new();
    for (number, question) in [
        ("393330051001", "Quando apre la biblioteca?"),
        ("393330051002", "Come si paga la mensa?"),
    ] {
        let key = CitizenKey::new("assemini", "whatsapp", number);
        let mut c = Citizen::new(now);
        c.state = State::Subscribed;
        h.store.put_citizen(&key, &c).unwrap();
        inbox::citizen_wrote(h.store.as_ref(), &key, "pn-assemini", question, None, now).unwrap();
        refs.push(desk::reference(&key));
    }
    let cookie = login(&h, OP, PASSWORD).await;
    let (status, _, page) = get(&h, &format!("/staff/assemini/inbox/{}", refs[0]), &cookie).await;
    assert_eq!(status, 200, "{page}");
    let thread = page.find("class=\"desk-thread\"").expect("the thread pane");
    let list = page.find("class=\"desk-list\"").expect("the list pane");
    assert!(page.contains("<div class=\"desk\">") && thread < list, "{page}");
    let pane = &page[list..];
    // Both open conversations are listed with their question; the open one is marked.
    assert!(
        pane.contains("Quando apre la biblioteca?") && pane.contains("Come si paga la mensa?"),
        "{pane}"
    );
    assert!(
        pane.contains(&format!(
            "href=\"/staff/assemini/inbox/{}\" aria-current=\"page\"",
            refs[0]
        )),
        "{pane}"
    );
    assert!(!pane.contains(&format!("href=\"/staff/assemini/inbox/{}\" aria-current", refs[1])));
    let src = format!(
        "data-src=\"/staff/assemini/inbox/rows?state=open&amp;current={}\"",
        refs[0]
    );
    assert!(pane.contains(&src), "{pane}");
    // The rows the script fetches keep the mark.
    let (status, _, rows) = get(
        &h,
        &format!("/staff/assemini/inbox/rows?state=open&current={}", refs[0]),
        &cookie,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        rows.contains(&format!(
            "href=\"/staff/assemini/inbox/{}\" aria-current=\"page\"",
            refs[0]
        )),
        "{rows}"
    );
    h.stop().await;
}
