//! The review parts of `/staff/{comune}/faq` (issue 19): this month's use of each entry,
//! the origin of each entry (file, edited, added), and the month's questions the bot
//! handed to staff, each with a link that starts a new entry from it.
//!
//! Rendering only: the figures and the masked questions come from `staff::faq`. Must not
//! show whose a question was (the list carries no number, name or citizen link).

use std::collections::BTreeMap;

use super::pages::{local_time, t, ta};
use super::state::Console;
use crate::faq::{Intent, OutOfScope};
use crate::staff::faq::{Listed, Origin, Unanswered, UNANSWERED_SHOWN};
use crate::web::esc;

/// A table cell (`assets/sportello.css`: no inline style, the CSP forbids it).
const CELL: &str = "class=\"cell\"";
/// A figure's cell, aligned right.
const FIGURE: &str = "class=\"cell num\"";
/// The table: words wrap whole; a phone scrolls it sideways if it must.
const TABLE: &str = "class=\"review\"";
/// The origin under an entry's id.
const ORIGIN: &str = "class=\"origin\"";

/// `2026-12` as staff read it: `12/2026`.
pub(super) fn month_label(month: &str) -> String {
    match month.split_once('-') {
        Some((y, m)) => format!("{m}/{y}"),
        None => month.to_string(),
    }
}

/// The short origin label of an entry.
fn origin_short(s: &Console, lang: &str, origin: Origin) -> String {
    let id = match origin {
        Origin::File => "console-faq-origin-file-short",
        Origin::Edited => "console-faq-origin-edited-short",
        Origin::Added => "console-faq-origin-added-short",
    };
    t(s, lang, id)
}

/// The line under an entry's heading saying where it comes from (and when it changed);
/// each sentence starts with the origin's short label.
pub(super) fn origin_note(s: &Console, lang: &str, l: &Listed) -> String {
    let at = l.changed_at.map(local_time).unwrap_or_default();
    let text = match l.origin {
        Origin::File => t(s, lang, "console-faq-origin-file"),
        Origin::Edited => ta(s, lang, "console-faq-edited", &[("at", at)]),
        Origin::Added => ta(s, lang, "console-faq-added", &[("at", at)]),
    };
    format!("<p><strong>{text}</strong></p>")
}

/// An entry's use this month, as a sentence.
pub(super) fn usage_note(s: &Console, lang: &str, used: (u64, u64)) -> String {
    format!(
        "<p>{}</p>",
        ta(
            s,
            lang,
            "console-faq-usage-line",
            &[("answered", used.0.to_string()), ("picked", used.1.to_string())]
        )
    )
}

/// Every entry in a table with its origin and this month's figures, each row linking to
/// the entry's section.
pub(super) fn usage_table(
    s: &Console,
    lang: &str,
    listed: &[Listed],
    usage: &BTreeMap<String, (u64, u64)>,
    month: &str,
) -> String {
    if listed.is_empty() {
        return String::new();
    }
    let rows: String = listed
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (answered, picked) = usage.get(&l.entry.id).copied().unwrap_or_default();
            format!(
                "<tr><th scope=\"row\" {CELL}><a href=\"#e{i}-h\">{id} ({elang})</a><span {ORIGIN}>{origin}</span></th>\
<td {FIGURE}>{answered}</td><td {FIGURE}>{picked}</td></tr>",
                id = esc(&l.entry.id),
                elang = esc(&l.entry.lang),
                origin = origin_short(s, lang, l.origin),
            )
        })
        .collect();
    let title = ta(s, lang, "console-faq-usage-title", &[("month", month_label(month))]);
    format!(
        "<section aria-labelledby=\"usage-h\"><h2 id=\"usage-h\">{title}</h2><p>{intro}</p>\
<div class=\"scroll\" tabindex=\"0\"><table {TABLE}><thead><tr><th scope=\"col\" {CELL}>{entry}</th>\
<th scope=\"col\" {FIGURE}>{answered}</th><th scope=\"col\" {FIGURE}>{picked}</th></tr></thead>\
<tbody>{rows}</tbody></table></div></section>",
        intro = t(s, lang, "console-faq-usage-intro"),
        entry = t(s, lang, "console-faq-usage-entry"),
        answered = t(s, lang, "console-faq-usage-answered"),
        picked = t(s, lang, "console-faq-usage-picked"),
    )
}

/// This month's questions for staff, newest first, each with a link that copies it into
/// the new-entry form (by its time: the text itself never goes into an address).
pub(super) fn unanswered_list(s: &Console, lang: &str, comune: &str, items: &[Unanswered], month: &str) -> String {
    let title = ta(
        s,
        lang,
        "console-faq-unanswered-title",
        &[("month", month_label(month))],
    );
    let intro = ta(
        s,
        lang,
        "console-faq-unanswered-intro",
        &[("max", UNANSWERED_SHOWN.to_string())],
    );
    let list = if items.is_empty() {
        format!("<p>{}</p>", t(s, lang, "console-faq-unanswered-none"))
    } else {
        let add = t(s, lang, "console-faq-unanswered-add");
        let c = esc(comune);
        let rows: String = items
            .iter()
            .map(|u| {
                format!(
                    "<li><p><time datetime=\"{iso}\">{when}</time></p><p class=\"pre\">{text}</p>\
<p><a href=\"/staff/{c}/faq?ask={n}#new-h\">{add}</a></p></li>",
                    iso = u.at,
                    when = esc(&local_time(u.at)),
                    text = esc(&u.text),
                    n = u.at.as_nanosecond(),
                )
            })
            .collect();
        format!("<ol class=\"cards\">{rows}</ol>")
    };
    format!(
        "<section aria-labelledby=\"unanswered-h\"><h2 id=\"unanswered-h\">{title}</h2><p>{intro}</p>{list}</section>"
    )
}

/// The out-of-scope rules, read only: the bot's redirect and the phrases that trigger it.
pub(super) fn rules_list(s: &Console, lang: &str, rules: &[OutOfScope]) -> String {
    if rules.is_empty() {
        return String::new();
    }
    let triggers = t(s, lang, "console-faq-rule-triggers");
    let redirect = t(s, lang, "console-faq-rule-redirect");
    let items: String = rules
        .iter()
        .map(|r| {
            let phrases: String = r.triggers.iter().map(|p| format!("<li>{}</li>", esc(p))).collect();
            let handles: String = r
                .handles
                .iter()
                .map(|h| {
                    let key = match h {
                        Intent::Request => "console-faq-rule-handles-request",
                        Intent::Report => "console-faq-rule-handles-report",
                    };
                    format!("<p>{}</p>", t(s, lang, key))
                })
                .collect();
            format!(
                "<h3>{id} ({rlang})</h3><p><strong>{redirect}</strong></p><p class=\"pre\">{text}</p>\
<p><strong>{triggers}</strong></p><ul>{phrases}</ul>{handles}",
                id = esc(&r.id),
                rlang = esc(&r.lang),
                text = esc(&r.redirect),
            )
        })
        .collect();
    format!(
        "<section aria-labelledby=\"rules-h\"><h2 id=\"rules-h\">{}</h2><p>{}</p>{items}</section>",
        t(s, lang, "console-faq-rules-title"),
        t(s, lang, "console-faq-rules-intro"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_read_month_first() {
        assert_eq!(month_label("2026-12"), "12/2026");
        assert_eq!(month_label("odd"), "odd");
    }
}
