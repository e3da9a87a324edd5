//! The service's front pages: `/` lists the comuni served (each with its subscribe page and
//! the simulator), and each comune's accessibility statement (`/c/{comune}/accessibilita`,
//! and `/accessibilita` for the service's own pages): AgID's model, to be completed by the
//! comune through AgID's form, linked from every footer.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use fluent_bundle::FluentArgs;

use super::html::{esc, page_of};
use super::subscribe::PageQuery;
use super::{lang_links, owner, page_lang, Site};
use crate::flow::Mode;

/// The languages of the service's own pages: every language a comune offers.
fn service_languages(s: &Site) -> Vec<String> {
    let mut langs: Vec<String> = vec!["it".into()];
    for id in s.engine.flows.ids() {
        for l in s.engine.flows.get(id).map(|f| f.languages.clone()).unwrap_or_default() {
            if !langs.contains(&l) {
                langs.push(l);
            }
        }
    }
    langs
}

/// `GET /`: the comuni this service runs, with their region, what each offers, and links
/// to subscribe and to try it.
pub async fn home(State(s): State<Site>, Query(q): Query<PageQuery>) -> Response {
    let offered = service_languages(&s);
    let lang = page_lang(q.lang.as_deref(), &offered);
    let l = &s.engine.locales;
    let t = |id: &str| esc(&l.format(&lang, id, None).unwrap_or_default());
    let mut body = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<ul class=\"comuni\">\n",
        t("page-home-title"),
        t("page-home-intro")
    );
    for id in s.engine.flows.ids() {
        let Some(owner) = owner::comune(&s.engine, &s.config, id, &lang) else {
            continue;
        };
        let what = match s.engine.flows.get(id).map(|f| f.mode) {
            Some(Mode::Desk) => t("page-home-desk"),
            _ => t("page-home-broadcast"),
        };
        body.push_str(&format!(
            "<li><h2>{name}</h2><p>{region}</p><p>{what}</p><p><a class=\"button\" href=\"/c/{id}?lang={lang}\">{subscribe}<span class=\"visually-hidden\"> · {name}</span></a> <a href=\"/try?comune={id}&amp;lang={lang}\">{try_it}<span class=\"visually-hidden\"> · {name}</span></a></p></li>\n",
            name = esc(&owner.name),
            region = esc(owner.region.as_deref().unwrap_or_default()),
            id = esc(id),
            lang = esc(&lang),
            subscribe = t("page-home-subscribe"),
            try_it = t("page-home-try"),
        ));
    }
    body.push_str("</ul>\n");
    let langs = lang_links(l, &offered, |code| format!("/?lang={code}"));
    let title = l.format(&lang, "page-home-title", None).unwrap_or_default();
    let owner = owner::service(l, &lang);
    Html(page_of(&owner, l, &lang, &title, &langs, &body, "")).into_response()
}

/// `GET /c/{comune}/accessibilita`: the comune's accessibility statement for this service.
pub async fn comune_statement(
    State(s): State<Site>,
    Path(comune): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(flow) = s.engine.flows.get(&comune) else {
        return (StatusCode::NOT_FOUND, Html(super::not_found(&s))).into_response();
    };
    let lang = page_lang(q.lang.as_deref(), &flow.languages);
    let Some(owner) = owner::comune(&s.engine, &s.config, &comune, &lang) else {
        return (StatusCode::NOT_FOUND, Html(super::not_found(&s))).into_response();
    };
    let email = flow.contacts.get("email").cloned().unwrap_or_default();
    let langs = lang_links(&s.engine.locales, &flow.languages, |l| {
        format!("/c/{comune}/accessibilita?lang={l}")
    });
    statement(&s, &owner, &lang, &langs, &email)
}

/// `GET /accessibilita`: the statement for the service's own pages (the list of comuni and
/// the simulator).
pub async fn service_statement(State(s): State<Site>, Query(q): Query<PageQuery>) -> Response {
    let offered = service_languages(&s);
    let lang = page_lang(q.lang.as_deref(), &offered);
    let owner = owner::service(&s.engine.locales, &lang);
    let langs = lang_links(&s.engine.locales, &offered, |l| format!("/accessibilita?lang={l}"));
    statement(&s, &owner, &lang, &langs, "")
}

fn statement(
    s: &Site,
    owner: &super::html::Owner,
    lang: &str,
    langs: &[(String, String, String)],
    email: &str,
) -> Response {
    let l = &s.engine.locales;
    let mut args = FluentArgs::new();
    args.set("owner", owner.name.clone());
    args.set("url", s.config.public_url.clone());
    let ta = |id: &str| esc(&l.format(lang, id, Some(&args)).unwrap_or_default());
    let contact = if email.is_empty() {
        String::new()
    } else {
        format!(
            "<p>{} <a href=\"mailto:{e}\">{e}</a></p>",
            ta("page-a11y-feedback-contact"),
            e = esc(email)
        )
    };
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n<h2>{status_h}</h2>\n<p>{status}</p>\n<h2>{missing_h}</h2>\n<p>{missing}</p>\n<h2>{how_h}</h2>\n<p>{how}</p>\n<h2>{feedback_h}</h2>\n<p>{feedback}</p>\n{contact}<h2>{enforcement_h}</h2>\n<p>{enforcement} <a href=\"https://form.agid.gov.it\">form.agid.gov.it</a></p>\n",
        title = ta("page-a11y-title"),
        intro = ta("page-a11y-intro"),
        status_h = ta("page-a11y-status-title"),
        status = ta("page-a11y-status"),
        missing_h = ta("page-a11y-missing-title"),
        missing = ta("page-a11y-missing"),
        how_h = ta("page-a11y-how-title"),
        how = ta("page-a11y-how"),
        feedback_h = ta("page-a11y-feedback-title"),
        feedback = ta("page-a11y-feedback"),
        enforcement_h = ta("page-a11y-enforcement-title"),
        enforcement = ta("page-a11y-enforcement"),
    );
    let title = l.format(lang, "page-a11y-title", Some(&args)).unwrap_or_default();
    Html(page_of(owner, l, lang, &title, langs, &body, "")).into_response()
}
