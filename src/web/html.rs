//! The pages' shared frame: escaping, and the accessible layout in the look of Italian
//! public services (Bootstrap Italia's header band with the owner's name, region and coat of
//! arms; language links; skip link; landmarks; the footer with contacts and small print).
//! The stylesheets are files (`assets/`, served by `web::assets`), never inline. Text comes
//! from Fluent.

use crate::i18n::Locales;
pub use crate::markup::esc;

/// Percent-encodes a value for a query string: everything but ASCII letters, digits and
/// `-._~`.
pub fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Escaped text with line breaks kept as paragraphs.
pub fn paragraphs(s: &str) -> String {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("<p>{}</p>", linked(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Escaped text whose e-mail and web addresses are links (`mailto:`, `https://`); a full
/// stop or comma after an address ends the sentence, not the address.
pub fn linked(text: &str) -> String {
    static ADDRESS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let address = ADDRESS.get_or_init(|| {
        regex::Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}|\b(?:https://|www\.)[^\s<>()\x22']*[^\s<>()\x22'.,;:!?]")
            .expect("a valid pattern")
    });
    let mut out = String::with_capacity(text.len() + 32);
    let mut last = 0;
    for m in address.find_iter(text) {
        out.push_str(&esc(&text[last..m.start()]));
        let shown = m.as_str();
        let href = if shown.contains('@') && !shown.starts_with("https://") && !shown.starts_with("www.") {
            format!("mailto:{shown}")
        } else if shown.starts_with("https://") {
            shown.to_string()
        } else {
            format!("https://{shown}")
        };
        out.push_str(&format!("<a href=\"{}\">{}</a>", esc(&href), esc(shown)));
        last = m.end();
    }
    out.push_str(&esc(&text[last..]));
    out
}

/// Whose page it is: the header band's name, region and coat of arms, and the footer's
/// contacts and small print. A comune's public pages are the comune's; the simulator and
/// the console are the service's ([`Owner::service`]).
#[derive(Debug, Clone, Default)]
pub struct Owner {
    /// "Comune di Brusson", or the service's brand.
    pub name: String,
    /// The line under the name ("Servizio di messaggistica", "Console del personale").
    pub tagline: String,
    /// The region, in the slim band above ("Regione Autonoma Valle d'Aosta").
    pub region: Option<String>,
    /// The coat of arms' address, when the comune configured one.
    pub arms: Option<String>,
    /// Where the name links to.
    pub home: String,
    /// The footer's contacts: (label, text, link when it has one).
    pub contacts: Vec<(String, String, Option<String>)>,
    /// The footer's small print: (label, link), e.g. the privacy notice, the accessibility
    /// statement.
    pub notes: Vec<(String, String)>,
}

impl Owner {
    /// The service's own pages: its brand, and the accessibility statement.
    pub fn service(locales: &Locales, lang: &str, brand: &str) -> Owner {
        let t = |id: &str| locales.format(lang, id, None).unwrap_or_default();
        Owner {
            name: brand.to_string(),
            tagline: String::new(),
            region: None,
            arms: None,
            home: "/".into(),
            contacts: Vec::new(),
            notes: vec![(t("page-accessibility"), "/accessibilita".into())],
        }
    }
}

/// The stylesheets every page links: Bootstrap Italia's (vendored) and the service's own.
pub const STYLESHEETS: [&str; 2] = ["/assets/bootstrap-italia.min.css", "/assets/sportello.css"];

/// A whole page of the service's own (`brand` in the header band). `body` is
/// already-escaped HTML; `langs` are (code, href, label) links.
pub fn page(
    locales: &Locales,
    lang: &str,
    title: &str,
    brand: &str,
    langs: &[(String, String, String)],
    body: &str,
    script: &str,
) -> String {
    page_of(
        &Owner::service(locales, lang, brand),
        locales,
        lang,
        title,
        langs,
        body,
        script,
    )
}

/// A whole page of `owner`'s, in the look of Italian public services (Bootstrap Italia's
/// header band, footer and container). No inline style or script: `script` is a
/// `<script src>` tag or nothing.
pub fn page_of(
    owner: &Owner,
    locales: &Locales,
    lang: &str,
    title: &str,
    langs: &[(String, String, String)],
    body: &str,
    script: &str,
) -> String {
    let t = |id: &str| esc(&locales.format(lang, id, None).unwrap_or_default());
    let nav = if langs.len() > 1 {
        let items: String = langs
            .iter()
            .map(|(code, href, label)| {
                let current = if code == lang { " aria-current=\"true\"" } else { "" };
                format!(
                    "<li><a href=\"{}\" lang=\"{}\" hreflang=\"{}\"{current}>{}</a></li>",
                    esc(href),
                    esc(code),
                    esc(code),
                    esc(label)
                )
            })
            .collect();
        format!(
            "<nav aria-label=\"{}\"><ul class=\"langs\">{items}</ul></nav>",
            t("page-language")
        )
    } else {
        String::new()
    };
    let region = owner.region.as_deref().map(esc).unwrap_or_default();
    let arms = owner
        .arms
        .as_deref()
        .map(|src| format!("<img class=\"arms\" src=\"{}\" alt=\"\">", esc(src)))
        .unwrap_or_default();
    let tagline = if owner.tagline.is_empty() {
        String::new()
    } else {
        format!("<div class=\"it-brand-tagline\">{}</div>", esc(&owner.tagline))
    };
    let links: String = STYLESHEETS
        .iter()
        .map(|href| format!("<link rel=\"stylesheet\" href=\"{href}\">\n"))
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n{links}</head>\n<body>\n<a class=\"skip\" href=\"#main\">{skip}</a>\n\
<header class=\"it-header-wrapper\">\n<div class=\"it-header-slim-wrapper\"><div class=\"container\"><div class=\"row\"><div class=\"col-12\"><div class=\"it-header-slim-wrapper-content\"><span class=\"navbar-brand\">{region}</span>{nav}</div></div></div></div></div>\n\
<div class=\"it-nav-wrapper\"><div class=\"it-header-center-wrapper\"><div class=\"container\"><div class=\"row\"><div class=\"col-12\"><div class=\"it-header-center-content-wrapper\"><div class=\"it-brand-wrapper\"><a href=\"{home}\">{arms}<div class=\"it-brand-text\"><div class=\"it-brand-title\">{name}</div>{tagline}</div></a></div></div></div></div></div></div></div>\n</header>\n\
<main id=\"main\" tabindex=\"-1\" class=\"container my-4\">\n{body}\n</main>\n{footer}{script}</body>\n</html>\n",
        lang = esc(lang),
        title = esc(title),
        skip = t("page-skip"),
        home = esc(&owner.home),
        name = esc(&owner.name),
        footer = footer(owner, locales, lang),
    )
}

/// The footer: the owner's name and contacts, then the small print and the service's note.
fn footer(owner: &Owner, locales: &Locales, lang: &str) -> String {
    let t = |id: &str| esc(&locales.format(lang, id, None).unwrap_or_default());
    let contacts = if owner.contacts.is_empty() {
        String::new()
    } else {
        let rows: String = owner
            .contacts
            .iter()
            .map(|(label, text, link)| {
                let value = match link {
                    Some(href) => format!("<a href=\"{}\">{}</a>", esc(href), esc(text)),
                    None => esc(text),
                };
                format!("<dt>{}</dt><dd>{value}</dd>", esc(label))
            })
            .collect();
        format!("<h2 class=\"h5\">{}</h2><dl>{rows}</dl>", t("page-contacts"))
    };
    let notes: String = owner
        .notes
        .iter()
        .map(|(label, href)| {
            format!(
                "<li class=\"list-inline-item\"><a href=\"{}\">{}</a></li>",
                esc(href),
                esc(label)
            )
        })
        .collect();
    format!(
        "<footer class=\"it-footer\">\n<div class=\"it-footer-main\"><div class=\"container py-4\"><p class=\"h4\">{name}</p>{contacts}</div></div>\n\
<div class=\"it-footer-small-prints\"><div class=\"container\"><ul class=\"it-footer-small-prints-list list-inline mb-0\">{notes}<li class=\"list-inline-item\">{service}</li></ul></div></div>\n</footer>\n",
        name = esc(&owner.name),
        service = t("page-footer"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">L'ò & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;L&#39;ò &amp; co&lt;/a&gt;"
        );
        assert_eq!(paragraphs("uno\n\n<due>"), "<p>uno</p>\n<p>&lt;due&gt;</p>");
    }

    #[test]
    fn addresses_in_text_become_links_and_nothing_else_does() {
        assert_eq!(
            linked("Scriva a urp@comune.assemini.ca.it, oppure visiti www.comune.brusson.ao.it."),
            "Scriva a <a href=\"mailto:urp@comune.assemini.ca.it\">urp@comune.assemini.ca.it</a>, oppure visiti <a href=\"https://www.comune.brusson.ao.it\">www.comune.brusson.ao.it</a>."
        );
        assert_eq!(
            linked("https://example.org/a?b=1&c=<x>"),
            "<a href=\"https://example.org/a?b=1&amp;c=\">https://example.org/a?b=1&amp;c=</a>&lt;x&gt;"
        );
        assert_eq!(linked("piazza 1 - 1° piano <b>"), "piazza 1 - 1° piano &lt;b&gt;");
        assert_eq!(linked("javascript:alert(1)@x"), "javascript:alert(1)@x");
    }
}
