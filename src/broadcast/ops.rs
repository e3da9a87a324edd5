//! The operations an operator asks for (send, list, status, resend to failed), one entry
//! point shared by the command line (directly on the store, or through a running server's
//! admin endpoint) and the console. Answers are JSON with counts and ids only.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::plan::{self, Request};
use super::{figures, BroadcastError, Media};
use crate::config::Config;
use crate::service::runner::Engine;

/// The media of a broadcast by its URL's extension: an image or a short video the
/// providers fetch.
pub fn media_of(url: &str) -> Result<Media, BroadcastError> {
    if !url.starts_with("https://") && !url.starts_with("http://") {
        return Err(BroadcastError::Media(
            "the media must be a URL the providers can fetch (https://…)".into(),
        ));
    }
    let path = url.split(['?', '#']).next().unwrap_or(url).to_ascii_lowercase();
    let kind = if [".jpg", ".jpeg", ".png"].iter().any(|e| path.ends_with(e)) {
        "image"
    } else if [".mp4", ".3gp"].iter().any(|e| path.ends_with(e)) {
        "video"
    } else {
        return Err(BroadcastError::Media(
            "an image (.jpg, .jpeg, .png) or a short video (.mp4, .3gp)".into(),
        ));
    };
    Ok(Media {
        kind: kind.into(),
        link: url.into(),
    })
}

/// When to send: RFC 3339, or a civil time in Europe/Rome.
pub fn parse_time(s: &str) -> Result<Timestamp, BroadcastError> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let bad = || BroadcastError::BadTime(s.to_string());
    let civil: jiff::civil::DateTime = s.replace(' ', "T").parse().map_err(|_| bad())?;
    Ok(civil.in_tz("Europe/Rome").map_err(|_| bad())?.timestamp())
}

/// One operation.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Call {
    Send {
        comune: String,
        category: Option<String>,
        texts: std::collections::BTreeMap<String, String>,
        media: Option<Media>,
        send_at: Option<Timestamp>,
    },
    List {
        comune: Option<String>,
    },
    Status {
        id: u64,
    },
    ResendFailed {
        id: u64,
    },
}

/// Runs `call` (blocking store calls) as `actor`.
pub fn execute(
    engine: &Engine,
    config: &Config,
    call: Call,
    actor: &str,
    now: Timestamp,
) -> Result<Value, BroadcastError> {
    let store = engine.store.as_ref();
    match call {
        Call::Send {
            comune,
            category,
            texts,
            media,
            send_at,
        } => {
            let req = Request {
                comune,
                category,
                texts,
                media,
                send_at,
                created_by: actor.to_string(),
            };
            let (id, b, audience) = plan::create(&engine.flows, &engine.locales, config, store, &req, now)?;
            Ok(json!({ "id": id, "send_at": b.send_at, "audience": audience }))
        }
        Call::List { comune } => {
            let mut out = Vec::new();
            for (id, b) in store.broadcasts(comune.as_deref())? {
                let f = figures(store, id, &b.comune)?;
                out.push(summary(id, &b, &f));
            }
            Ok(Value::Array(out))
        }
        Call::Status { id } => {
            let b = store.broadcast(id)?.ok_or(BroadcastError::UnknownBroadcast(id))?;
            let f = figures(store, id, &b.comune)?;
            Ok(summary(id, &b, &f))
        }
        Call::ResendFailed { id } => {
            let n = plan::resend_failed(store, id, actor, now)?;
            Ok(json!({ "id": id, "queued": n }))
        }
    }
}

/// A broadcast's line in `list` and `status`.
pub fn summary(id: u64, b: &super::Broadcast, f: &super::Figures) -> Value {
    json!({
        "id": id,
        "comune": b.comune,
        "category": b.category,
        "urgent": b.urgent,
        "state": b.state.as_str(),
        "languages": b.texts.keys().collect::<Vec<_>>(),
        "media": b.media.as_ref().map(|m| m.kind.clone()),
        "send_at": b.send_at,
        "started_at": b.started_at,
        "finished_at": b.finished_at,
        "figures": f,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_media_are_read() {
        assert_eq!(
            parse_time("2026-12-01 08:00").unwrap(),
            "2026-12-01T07:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(parse_time("2026-12-01T08:00:00+01:00").is_ok());
        assert!(parse_time("tomorrow").is_err());
        assert_eq!(media_of("https://x.it/a.JPG?x=1").unwrap().kind, "image");
        assert_eq!(media_of("https://x.it/v.mp4").unwrap().kind, "video");
        assert!(media_of("/tmp/a.jpg").is_err());
        assert!(media_of("https://x.it/a.pdf").is_err());
    }
}
