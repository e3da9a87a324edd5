//! The console's small navigation: the account's own pages (audit log for administrators,
//! accounts and password) at the top of the home page, and each comune's administrative pages
//! (subscribers, FAQ, closures, report, privacy) under its heading. Links only; no decisions.

use super::pages::{comune_name, t, ta};
use super::state::Console;
use super::Staff;
use crate::storage::Role;
use crate::web::esc;

/// The account's pages, as a labelled navigation list.
pub fn nav(s: &Console, staff: &Staff) -> String {
    let lang = staff.lang();
    let mut links = vec![("/staff", "console-nav-home")];
    if staff.account.role == Role::Admin {
        links.push(("/staff/accounts", "console-nav-accounts"));
        links.push(("/staff/audit", "console-nav-audit"));
    }
    links.push(("/staff/password", "console-nav-password"));
    list(&t(s, lang, "console-nav-label"), s, lang, &links)
}

/// One comune's administrative pages.
pub fn comune_links(s: &Console, lang: &str, comune: &str) -> String {
    let c = esc(comune);
    let hrefs = [
        (format!("/staff/{c}/subscribers"), "console-nav-subscribers"),
        (format!("/staff/{c}/broadcasts"), "console-nav-broadcasts"),
        (format!("/staff/{c}/faq"), "console-nav-faq"),
        (format!("/staff/{c}/closures"), "console-nav-closures"),
        (format!("/staff/{c}/report"), "console-nav-report"),
        (format!("/staff/{c}/privacy"), "console-nav-privacy"),
    ];
    let links: Vec<(&str, &str)> = hrefs.iter().map(|(h, id)| (h.as_str(), *id)).collect();
    let label = ta(
        s,
        lang,
        "console-nav-comune-label",
        &[("comune", comune_name(s, lang, comune))],
    );
    list(&label, s, lang, &links)
}

/// `label` is already escaped.
fn list(label: &str, s: &Console, lang: &str, links: &[(&str, &str)]) -> String {
    let items: String = links
        .iter()
        .map(|(href, id)| format!("<li><a href=\"{href}\">{}</a></li>", t(s, lang, id)))
        .collect();
    format!("<nav aria-label=\"{label}\"><ul class=\"inline\">{items}</ul></nav>")
}
