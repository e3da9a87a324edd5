//! The public subscribe page of a comune (`/c/{comune}`, Brusson's "ISCRIVITI" button):
//! what the service sends, how to subscribe, a click-to-chat link and QR code carrying the
//! subscribe keyword, how to leave, and the privacy notice, in the citizen's language.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use fluent_bundle::FluentArgs;
use serde::Deserialize;

use super::html::{esc, page_of, paragraphs};
use super::Site;
use super::{lang_links, page_lang};
use crate::dialogue::Reply;
use crate::flow::{Action, Flow};
use crate::storage::keys::normalize_number;

/// A public page's query: the language asked for.
#[derive(Deserialize)]
pub struct PageQuery {
    pub lang: Option<String>,
}

/// The number citizens write to: the configured one, else the one in the flow's contacts.
pub fn whatsapp_number(s: &Site, flow: &Flow) -> Option<String> {
    s.config
        .comuni
        .get(&flow.id)
        .and_then(|c| c.whatsapp_number.clone())
        .or_else(|| flow.contacts.get("whatsapp").map(|n| normalize_number(n)))
        .filter(|n| !n.is_empty())
}

/// A number as people read it: Italian numbers as `+39 348 397 8832`, others `+<digits>`.
fn display_number(digits: &str) -> String {
    match digits.strip_prefix("39") {
        Some(rest) if rest.len() == 10 => format!("+39 {} {} {}", &rest[..3], &rest[3..6], &rest[6..]),
        _ => format!("+{digits}"),
    }
}

/// A QR code as inline SVG, or nothing if the data does not fit one.
fn qr_svg(data: &str, label: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            // Give the picture a name for screen readers.
            let svg = svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(label)), 1);
            svg.split_once("<svg")
                .map(|(_, rest)| format!("<svg{rest}"))
                .unwrap_or_default()
        }
        Err(_) => String::new(),
    }
}

/// `GET /c/{comune}`.
pub async fn page_subscribe(State(s): State<Site>, Path(comune): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let Some(flow) = s.engine.flows.get(&comune) else {
        return (StatusCode::NOT_FOUND, Html(super::not_found(&s))).into_response();
    };
    let locales = &s.engine.locales;
    let lang = page_lang(q.lang.as_deref(), &flow.languages);
    let render = |id: &str| locales.render(flow, &lang, &Reply::new(id)).text;
    let keyword = flow.phrase(Action::Subscribe, &lang).unwrap_or_default().to_string();
    let leave = flow.phrase(Action::Unsubscribe, &lang).unwrap_or_default().to_string();
    let comune_name = render(&flow.name);
    let number = whatsapp_number(&s, flow);
    let mut args = FluentArgs::new();
    args.set("comune", comune_name.clone());
    args.set("subscribe", keyword.clone());
    args.set("unsubscribe", leave.clone());
    args.set("number", number.as_deref().map(display_number).unwrap_or_default());
    args.set("email", flow.contacts.get("email").cloned().unwrap_or_default());
    let t = |id: &str| esc(&locales.format(&lang, id, Some(&args)).unwrap_or_default());

    let mut body = format!(
        "<h1>{}</h1>\n<h2>{}</h2>\n{}\n",
        t("page-subscribe-title"),
        t("page-subscribe-what"),
        paragraphs(&render(flow.message("about")))
    );
    body.push_str(&format!("<h2>{}</h2>\n<ol>\n", t("page-subscribe-how")));
    if number.is_some() {
        body.push_str(&format!("<li>{}</li>\n", t("page-subscribe-step-save")));
    }
    body.push_str(&format!("<li>{}</li>\n</ol>\n", t("page-subscribe-step-send")));
    if let Some(n) = &number {
        let link = format!("https://wa.me/{n}?text={}", super::url_encode(&keyword));
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"{}\">{}</a></p>\n",
            esc(&link),
            t("page-subscribe-button")
        ));
        body.push_str(&format!(
            "<figure class=\"qr\">{}<figcaption>{}</figcaption></figure>\n",
            qr_svg(
                &link,
                &locales
                    .format(&lang, "page-subscribe-qr-alt", Some(&args))
                    .unwrap_or_default()
            ),
            t("page-subscribe-qr")
        ));
    }
    if let Some(bot) = s.config.comuni.get(&flow.id).and_then(|c| c.telegram_bot.clone()) {
        let link = format!("https://t.me/{}", super::url_encode(&bot));
        body.push_str(&format!(
            "<p>{} <a href=\"{}\">@{}</a></p>\n",
            t("page-subscribe-telegram"),
            esc(&link),
            esc(&bot)
        ));
    }
    body.push_str(&format!(
        "<p>{}</p>\n<p>{}</p>\n<p>{}</p>\n",
        t("page-subscribe-leave"),
        t("page-subscribe-username"),
        super::html::linked(
            &locales
                .format(&lang, "page-subscribe-other", Some(&args))
                .unwrap_or_default()
        )
    ));
    body.push_str(&format!(
        "<h2 id=\"privacy\">{}</h2>\n{}\n",
        t("page-subscribe-privacy"),
        paragraphs(&render(&flow.privacy.notice))
    ));

    let langs = lang_links(&s.engine.locales, &flow.languages, |l| format!("/c/{comune}?lang={l}"));
    let title = locales
        .format(&lang, "page-subscribe-title", Some(&args))
        .unwrap_or_default();
    let owner = super::owner::comune(&s.engine, &s.config, &comune, &lang).unwrap_or_default();
    Html(page_of(&owner, locales, &lang, &title, &langs, &body, "")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::super::url_encode("JE M'INSCRIS"), "JE%20M%27INSCRIS");
        assert_eq!(super::super::url_encode("MI ISCRIVO"), "MI%20ISCRIVO");
    }

    #[test]
    fn numbers_are_shown_grouped() {
        assert_eq!(display_number("393483978832"), "+39 348 397 8832");
        assert_eq!(display_number("33612345678"), "+33612345678");
    }

    #[test]
    fn the_qr_code_is_an_svg_with_a_name() {
        let svg = qr_svg("https://wa.me/393483978832?text=MI%20ISCRIVO", "Codice QR");
        assert!(
            svg.starts_with("<svg") && svg.contains("aria-label=\"Codice QR\""),
            "{}",
            &svg[..80.min(svg.len())]
        );
    }
}
