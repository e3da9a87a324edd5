//! The web simulator: `/try` lets anyone chat with a comune's real flow, on the same engine
//! as the channels (channel `web`, one test citizen per browser session), its citizens kept
//! in the sandbox (`sandbox.rs`), never in the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::sse::Event;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::html::{esc, page_of};
use super::sandbox::Sandbox;
use super::Site;
use super::{lang_links, page_lang};
use crate::dialogue::{Body, Inbound};
use crate::service::bell::{Heard, Ring};
use crate::storage::CitizenKey;

#[derive(Deserialize)]
pub struct TryQuery {
    comune: Option<String>,
    lang: Option<String>,
}

/// `GET /try`: pick a comune and a language, then chat.
pub async fn page_try(State(s): State<Site>, Query(q): Query<TryQuery>) -> Html<String> {
    let locales = &s.engine.locales;
    let comune = q
        .comune
        .filter(|c| s.engine.flows.get(c).is_some())
        .unwrap_or_else(|| s.engine.flows.ids().next().unwrap_or_default().to_string());
    let flow = s.engine.flows.get(&comune);
    let lang = page_lang(q.lang.as_deref(), flow.map(|f| f.languages.as_slice()).unwrap_or(&[]));
    let t = |id: &str| esc(&locales.format(&lang, id, None).unwrap_or_default());
    let options: String = s
        .engine
        .flows
        .iter()
        .map(|f| {
            let name = locales
                .format(&lang, &f.name, None)
                .or_else(|| locales.format(f.default_language(), &f.name, None))
                .unwrap_or_default();
            let sel = if f.id == comune { " selected" } else { "" };
            format!("<option value=\"{}\"{sel}>{}</option>", esc(&f.id), esc(&name))
        })
        .collect();
    let body = format!(
        r#"<h1>{title}</h1>
<p>{intro}</p>
<form method="get" action="/try">
<label for="comune">{comune_label}</label>
<div class="inline"><select id="comune" name="comune">{options}</select>
<input type="hidden" name="lang" value="{lang}">
<button type="submit">{start}</button></div>
</form>
<section aria-labelledby="conv">
<h2 id="conv">{conversation}</h2>
<noscript><p>{nojs}</p></noscript>
<p>{desk}</p>
<ol id="log" class="log" aria-live="polite" data-comune="{comune}" data-lang="{lang}" data-you="{you}" data-bot="{bot}" data-operator="{operator}" data-error="{error}"></ol>
<form id="send">
<label for="msg">{message}</label>
<div class="inline"><input id="msg" name="text" autocomplete="off" required>
<button type="submit">{send}</button></div>
</form>
<p><button type="button" id="restart" class="choice">{restart}</button></p>
</section>"#,
        title = t("page-try-title"),
        intro = t("page-try-intro"),
        comune_label = t("page-try-comune"),
        start = t("page-try-start"),
        conversation = t("page-try-conversation"),
        nojs = t("page-try-nojs"),
        comune = esc(&comune),
        lang = esc(&lang),
        you = t("page-try-you"),
        bot = t("page-try-bot"),
        operator = t("page-try-operator"),
        desk = t("page-try-desk"),
        error = t("page-try-error"),
        message = t("page-try-message"),
        send = t("page-try-send"),
        restart = t("page-try-restart"),
    );
    let langs = lang_links(
        &s.engine.locales,
        flow.map(|f| f.languages.as_slice()).unwrap_or(&[]),
        |l| format!("/try?comune={comune}&lang={l}"),
    );
    let title = locales.format(&lang, "page-try-title", None).unwrap_or_default();
    // The simulator is the comune's page being tried, in its colours and with its contacts.
    let owner = super::owner::comune(&s.engine, &s.config, &comune, &lang)
        .unwrap_or_else(|| super::owner::service(locales, &lang));
    Html(page_of(
        &owner,
        locales,
        &lang,
        &title,
        &langs,
        &body,
        "<script src=\"/try.js\" defer></script>\n",
    ))
}

/// What the simulator page posts.
#[derive(Deserialize)]
pub struct TryMessage {
    comune: String,
    /// The browser session's test citizen.
    session: String,
    text: Option<String>,
    button: Option<String>,
}

/// `POST /try/api/message`: one citizen message, answered with the rendered replies. The
/// simulator's citizens live in the sandbox (memory, bounded, expiring), never in the store
/// or the staff inbox; past a session's or an address's pace the answer is 429.
pub async fn api_message(
    State(s): State<Site>,
    Extension(sandbox): Extension<Arc<Sandbox>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Json(m): Json<TryMessage>,
) -> Response {
    if let Err(refused) = check(&s, &m.comune, &m.session) {
        return refused.into_response();
    }
    let body = match (m.text, m.button) {
        (_, Some(id)) => Body::Button { id },
        (Some(text), None) => Body::Text { text },
        (None, None) => return (StatusCode::BAD_REQUEST, "text or button").into_response(),
    };
    let from = crate::server::pace::client_ip(peer, &headers, &s.config.pace.trusted_proxies);
    let turn = match sandbox.begin(&m.comune, &m.session, from, &s.config.pace, Instant::now()) {
        Ok(turn) => turn,
        Err(wait) => {
            let seconds = wait.as_secs().max(1).to_string();
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(axum::http::header::RETRY_AFTER, seconds)],
                "slow down",
            )
                .into_response();
        }
    };
    for (comune, session) in &turn.forgotten {
        if let Err(e) = s.trials.forget(&trial_key(comune, session)) {
            tracing::error!(error = %e, "could not forget a simulator trial");
        }
    }
    let now = jiff::Timestamp::now();
    let key = trial_key(&m.comune, &m.session);
    let inbound = Inbound {
        id: format!("web-{}", now.as_nanosecond()),
        body,
    };
    // A session that reached the desk steps from the desk's copy (an operator's hold).
    let prior = s.trials.prior(&key, turn.prior);
    let stepped = s
        .engine
        .plan_from(&key, prior.as_ref(), &inbound, now)
        .and_then(|handled| {
            let effects = s.engine.effects(&key, "", &handled, now)?;
            Ok((handled, effects))
        });
    match stepped {
        Ok((handled, effects)) => {
            let citizen = handled.outcome.citizen.as_ref();
            if let Err(e) = s.trials.stepped(&key, citizen, effects.wrote.as_ref()) {
                tracing::error!(comune = %m.comune, error = %e, "simulator trial not kept");
            }
            sandbox.finish(&m.comune, &m.session, handled.outcome.citizen);
            Json(serde_json::json!({ "replies": handled.rendered })).into_response()
        }
        Err(e) => {
            tracing::error!(comune = %m.comune, error = %e, "simulator step failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "no answer").into_response()
        }
    }
}

/// A simulator session's citizen key.
fn trial_key(comune: &str, session: &str) -> CitizenKey {
    CitizenKey::new(comune, crate::service::trial::CHANNEL, &format!("web-{session}"))
}

/// A simulator request's comune and session, refused before anything is taken: 404 for a
/// comune not served, 400 for a session id the page does not make (letters, digits, dashes;
/// at most 64).
fn check(s: &Site, comune: &str, session: &str) -> Result<(), (StatusCode, &'static str)> {
    if s.engine.flows.get(comune).is_none() {
        return Err((StatusCode::NOT_FOUND, "unknown comune"));
    }
    let valid =
        !session.is_empty() && session.len() <= 64 && session.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err((StatusCode::BAD_REQUEST, "bad session"));
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct EventsQuery {
    comune: String,
    session: String,
}

/// `GET /try/api/events?comune=&session=`: the replies an operator sends to the session
/// (a trial at the desk), as server-sent events `reply` (JSON: `text`), the waiting ones
/// first. Each reply is shown once.
pub async fn api_events(
    State(s): State<Site>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    stopping: Option<Extension<crate::server::listen::Stopping>>,
    Query(q): Query<EventsQuery>,
) -> Response {
    if let Err(refused) = check(&s, &q.comune, &q.session) {
        return refused.into_response();
    }
    let from = crate::server::pace::client_ip(peer, &headers, &s.config.pace.trusted_proxies);
    let Some(place) = s.streams.admit(from) else {
        return super::events::busy();
    };
    let key = trial_key(&q.comune, &q.session);
    let listener = s.engine.bell.listen();
    let trials = s.trials.clone();
    let replies = move |key: &CitizenKey| -> Vec<Event> {
        match trials.take_replies(key) {
            Ok(replies) => replies
                .iter()
                .map(|r| super::events::event("reply", &serde_json::json!({ "text": r.text }).to_string()))
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "simulator replies unreadable");
                Vec::new()
            }
        }
    };
    let first = replies(&key);
    super::events::stream(place, stopping.map(|e| e.0), first, listener, move |batch| {
        let mine = batch.iter().any(|h| match h {
            Heard::Ring(Ring::Desk(k)) => *k == key,
            Heard::Missed => true,
            _ => false,
        });
        if mine {
            replies(&key)
        } else {
            Vec::new()
        }
    })
}

/// `GET /try.js`: the simulator's script, served apart so the pages' Content-Security-Policy
/// can forbid inline scripts.
pub async fn script() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
}

/// The page's script: sends messages, shows replies, turns buttons into real buttons.
const SCRIPT: &str = r#"
(function(){
  var log=document.getElementById('log'), form=document.getElementById('send'), input=document.getElementById('msg');
  var comune=log.dataset.comune, lang=log.dataset.lang, key='sportello-try-'+comune;
  function session(){var s=sessionStorage.getItem(key);if(!s){s=(crypto.randomUUID?crypto.randomUUID():String(Date.now())+Math.random().toString(16).slice(2)).replace(/[^a-zA-Z0-9-]/g,'');sessionStorage.setItem(key,s);sessionStorage.setItem(key+'-new','1');}return s;}
  function add(cls,who,text,buttons){var li=document.createElement('li');li.className=cls;var w=document.createElement('span');w.className='who';w.textContent=who;li.appendChild(w);li.appendChild(document.createTextNode(text));
    (buttons||[]).forEach(function(b){var btn=document.createElement('button');btn.type='button';btn.className='choice';btn.textContent=b.title;btn.addEventListener('click',function(){add('me',log.dataset.you,b.title);send({button:b.id});});li.appendChild(document.createElement('br'));li.appendChild(btn);});
    log.appendChild(li);li.scrollIntoView({block:'nearest'});}
  function send(msg){msg.comune=comune;msg.session=session();
    return fetch('/try/api/message',{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(msg)})
      .then(function(r){if(!r.ok)throw new Error(r.status);return r.json();})
      .then(function(j){j.replies.forEach(function(r){add('bot',log.dataset.bot,r.text,r.buttons);});})
      .catch(function(){add('bot',log.dataset.bot,log.dataset.error);});}
  form.addEventListener('submit',function(e){e.preventDefault();var t=input.value;if(!t.trim())return;add('me',log.dataset.you,t);input.value='';send({text:t});input.focus();});
  document.getElementById('restart').addEventListener('click',function(){sessionStorage.removeItem(key);log.innerHTML='';start();input.focus();});
  var source=null;
  function listen(){if(!window.EventSource)return;if(source)source.close();
    source=new EventSource('/try/api/events?comune='+encodeURIComponent(comune)+'&session='+encodeURIComponent(session()));
    source.addEventListener('reply',function(e){try{add('staff',log.dataset.operator,JSON.parse(e.data).text);}catch(x){}});}
  function start(){session();listen();if(sessionStorage.getItem(key+'-new')){sessionStorage.removeItem(key+'-new');if(lang!=='it'){send({button:'language:'+lang});}}}
  start();
})();
"#;
