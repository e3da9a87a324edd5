//! What one citizen receives for a broadcast, decided by plain functions: the operator's
//! text in the citizen's language inside the comune's frame (from `locales/`: a header
//! with the comune and category, the unsubscribe hint), as a free-form WhatsApp message
//! while the 24-hour customer-service window is open, else as the comune's approved
//! template with the text as its parameter; on Telegram always free-form.
//!
//! No I/O. The request bodies are the channel adapters' builders.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use super::Broadcast;
use crate::channel::whatsapp::{MediaKind, Outbound};
use crate::channel::Channel;
use crate::dialogue::{Arg, Reply};
use crate::flow::Flow;
use crate::i18n::Locales;

/// WhatsApp's customer-service window: free-form messages only this long after the
/// citizen's last message.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(24);
/// Media captions (WhatsApp and Telegram): a broadcast with media must fit one.
pub const CAPTION_MAX: usize = 1024;
/// One text message (WhatsApp 4096 characters; Telegram 4096 UTF-16 units).
pub const TEXT_MAX: usize = 4096;

/// One request's content, channel-neutral.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Text(String),
    Media {
        kind: String,
        link: String,
        caption: String,
    },
    /// A WhatsApp template with one body parameter.
    Template {
        name: String,
        language: String,
        param: String,
    },
}

/// Whether WhatsApp still accepts a free-form message (last inbound under 24 h ago).
pub fn window_open(last_inbound: Timestamp, now: Timestamp) -> bool {
    now.duration_since(last_inbound) < WINDOW
}

/// The framed text a citizen reading `lang` sees; `None` without a text in `lang`.
pub fn framed(flow: &Flow, locales: &Locales, b: &Broadcast, lang: &str) -> Option<String> {
    let text = b.texts.get(lang)?;
    let category = b
        .category
        .as_ref()
        .and_then(|c| flow.categories.iter().find(|k| &k.id == c));
    let reply = Reply {
        key: if category.is_some() {
            "broadcast-message".into()
        } else {
            "broadcast-message-one-list".into()
        },
        args: vec![("text".into(), Arg::Str(text.trim().to_string()))],
        msg_args: category
            .map(|c| vec![("category".to_string(), c.label.clone())])
            .unwrap_or_default(),
        buttons: Vec::new(),
    };
    Some(locales.render(flow, lang, &reply).text)
}

/// The payload for one citizen, or why they are skipped.
#[allow(clippy::too_many_arguments)]
pub fn compose(
    flow: &Flow,
    locales: &Locales,
    templates: &BTreeMap<String, String>,
    b: &Broadcast,
    lang: &str,
    channel: Channel,
    last_inbound: Timestamp,
    now: Timestamp,
) -> Result<(Payload, bool), String> {
    let text = framed(flow, locales, b, lang).ok_or_else(|| format!("no {lang} text"))?;
    let free = |text: String| match &b.media {
        Some(m) => Payload::Media {
            kind: m.kind.clone(),
            link: m.link.clone(),
            caption: text,
        },
        None => Payload::Text(text),
    };
    match channel {
        Channel::Telegram => Ok((free(text), false)),
        Channel::Whatsapp if window_open(last_inbound, now) => Ok((free(text), false)),
        Channel::Whatsapp => {
            let name = templates
                .get(lang)
                .ok_or_else(|| format!("window closed and no {lang} template"))?;
            let param = b.texts.get(lang).map(|t| t.trim().to_string()).unwrap_or_default();
            Ok((
                Payload::Template {
                    name: name.clone(),
                    language: lang.to_string(),
                    param,
                },
                true,
            ))
        }
        Channel::Web => Err("the web simulator cannot receive broadcasts".into()),
    }
}

/// The Cloud API message for a WhatsApp citizen (`to`: their wa_id).
pub fn whatsapp(to: &str, payload: &Payload) -> Outbound {
    match payload {
        Payload::Text(body) => Outbound::Text {
            to: to.into(),
            body: body.clone(),
        },
        Payload::Media { kind, link, caption } => Outbound::Media {
            to: to.into(),
            kind: if kind == "video" {
                MediaKind::Video
            } else {
                MediaKind::Image
            },
            link: link.clone(),
            caption: Some(caption.clone()),
        },
        Payload::Template { name, language, param } => Outbound::Template {
            to: to.into(),
            name: name.clone(),
            language: language.clone(),
            body_params: vec![param.clone()],
        },
    }
}

/// The Bot API method and body for a Telegram chat.
pub fn telegram(chat_id: &str, payload: &Payload) -> (&'static str, Value) {
    let chat = match chat_id.parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(chat_id),
    };
    match payload {
        Payload::Media { kind, link, caption } if kind == "video" => (
            "sendVideo",
            json!({ "chat_id": chat, "video": link, "caption": caption }),
        ),
        Payload::Media { link, caption, .. } => (
            "sendPhoto",
            json!({ "chat_id": chat, "photo": link, "caption": caption }),
        ),
        Payload::Text(text) | Payload::Template { param: text, .. } => {
            ("sendMessage", json!({ "chat_id": chat, "text": text }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broadcast::BroadcastState;

    fn world() -> (crate::flow::Flows, Locales) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let locales = Locales::load_dir(&root.join("locales")).unwrap();
        let flows = crate::flow::load_dir(&root.join("flows"), &locales).unwrap();
        (flows, locales)
    }

    fn brusson(category: Option<&str>) -> Broadcast {
        let t: Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
        Broadcast {
            comune: "brusson".into(),
            category: category.map(String::from),
            urgent: false,
            texts: [
                ("it".to_string(), "Strada chiusa".to_string()),
                ("fr".to_string(), "Route fermée".to_string()),
            ]
            .into(),
            media: None,
            send_at: t,
            created_at: t,
            created_by: "cli".into(),
            state: BroadcastState::Scheduled,
            recipients: 0,
            started_at: None,
            finished_at: None,
        }
    }

    #[test]
    fn the_frame_comes_from_the_locales_in_the_citizens_language() {
        let (flows, locales) = world();
        let flow = flows.get("brusson").unwrap();
        let it = framed(flow, &locales, &brusson(Some("emergenze")), "it").unwrap();
        assert!(
            it.starts_with("📢 Comune di Brusson · Emergenze (Protezione Civile)\n\nStrada chiusa\n\n"),
            "{it}"
        );
        assert!(it.contains("MI CANCELLO"), "{it}");
        let fr = framed(flow, &locales, &brusson(Some("info")), "fr").unwrap();
        assert!(fr.contains("Info Commune") && fr.contains("Route fermée"), "{fr}");
        assert!(framed(flow, &locales, &brusson(None), "de").is_none());
    }

    #[test]
    fn the_window_decides_between_free_form_and_template() {
        let (flows, locales) = world();
        let flow = flows.get("brusson").unwrap();
        let b = brusson(Some("info"));
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let templates: BTreeMap<String, String> = [("fr".to_string(), "avis".to_string())].into();
        let recent = now - SignedDuration::from_hours(23);
        let old = now - SignedDuration::from_hours(25);
        let (p, template) = compose(flow, &locales, &templates, &b, "it", Channel::Whatsapp, recent, now).unwrap();
        assert!(matches!(p, Payload::Text(ref t) if t.contains("Strada chiusa")) && !template);
        let (p, template) = compose(flow, &locales, &templates, &b, "fr", Channel::Whatsapp, old, now).unwrap();
        assert_eq!(
            p,
            Payload::Template {
                name: "avis".into(),
                language: "fr".into(),
                param: "Route fermée".into()
            }
        );
        assert!(template);
        // No Italian template: an Italian citizen outside the window is skipped, not sent free-form.
        assert!(compose(flow, &locales, &templates, &b, "it", Channel::Whatsapp, old, now).is_err());
        // Telegram has no window.
        let (p, _) = compose(flow, &locales, &templates, &b, "it", Channel::Telegram, old, now).unwrap();
        assert!(matches!(p, Payload::Text(_)));
        assert!(window_open(now - SignedDuration::from_secs(86_399), now));
        assert!(!window_open(now - SignedDuration::from_secs(86_400), now));
    }

    #[test]
    fn media_rides_with_the_text_as_caption() {
        let (flows, locales) = world();
        let flow = flows.get("brusson").unwrap();
        let mut b = brusson(None);
        b.media = Some(super::super::Media {
            kind: "video".into(),
            link: "https://x/v.mp4".into(),
        });
        let now = b.created_at;
        let (p, _) = compose(flow, &locales, &BTreeMap::new(), &b, "it", Channel::Telegram, now, now).unwrap();
        let (method, body) = telegram("42", &p);
        assert_eq!(method, "sendVideo");
        assert_eq!(body["chat_id"], 42);
        assert!(body["caption"].as_str().unwrap().contains("Strada chiusa"));
        let wa = whatsapp("393330000001", &p).to_json();
        assert_eq!(wa["type"], "video");
        assert_eq!(wa["video"]["link"], "https://x/v.mp4");
    }
}
