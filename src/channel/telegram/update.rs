//! Telegram `Update` JSON → [`InboundMessage`].
//!
//! Owns the mapping from the Bot API's update kinds and message contents onto the
//! channel-neutral [`Body`]. It must not log or keep anything from the update besides
//! what it returns, and never panics on input: every body, however malformed, becomes
//! `Ok` or a [`ParseError`].

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::channel::{Channel, InboundMessage};
use crate::message::Body;

/// Why an update body could not be read. Carries positions, never the body's content,
/// so it is safe to log.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or JSON that is not an Update (missing `update_id`, a `message` without
    /// `chat`, wrong types…).
    #[error("invalid Telegram update ({category}) at line {line}, column {column}")]
    Json {
        category: &'static str,
        line: usize,
        column: usize,
    },
}

impl From<serde_json::Error> for ParseError {
    fn from(e: serde_json::Error) -> ParseError {
        // serde_json's Display can quote the offending value (a citizen's text), so only
        // the category and position are kept.
        let category = match e.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        };
        ParseError::Json {
            category,
            line: e.line(),
            column: e.column(),
        }
    }
}

// Only the fields we read are declared; serde skips the rest, so new Bot API fields and
// update kinds never break parsing.
#[derive(Deserialize)]
struct Update {
    update_id: i64,
    message: Option<Message>,
    callback_query: Option<CallbackQuery>,
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
    /// `private`, `group`, `supergroup` or `channel`; absent only in hand-made updates.
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

impl Chat {
    /// A one-to-one chat with a person: the only kind the desk talks in. A group's chat id
    /// stands for many people, none of whom consented by adding the bot.
    fn is_private(&self) -> bool {
        self.kind.as_deref().is_none_or(|k| k == "private")
    }
}

#[derive(Deserialize)]
struct User {
    id: i64,
}

#[derive(Deserialize)]
struct Message {
    chat: Chat,
    date: i64,
    text: Option<String>,
    // Presence is all we need of these; IgnoredAny skips their content without allocating.
    photo: Option<IgnoredAny>,
    video: Option<IgnoredAny>,
    voice: Option<IgnoredAny>,
    audio: Option<IgnoredAny>,
    document: Option<IgnoredAny>,
    sticker: Option<IgnoredAny>,
    animation: Option<IgnoredAny>,
    video_note: Option<IgnoredAny>,
    location: Option<IgnoredAny>,
    venue: Option<IgnoredAny>,
    contact: Option<IgnoredAny>,
}

/// `callback_query.message` is a Message, or an InaccessibleMessage (`date: 0`) when the
/// message is too old: both carry `chat` and `date`, which is all we read.
#[derive(Deserialize)]
struct CallbackMessage {
    chat: Chat,
    #[serde(default)]
    date: i64,
}

#[derive(Deserialize)]
struct CallbackQuery {
    id: String,
    from: User,
    message: Option<CallbackMessage>,
    data: Option<String>,
}

impl Message {
    fn body(self) -> Body {
        // A message carries exactly one content kind; the order only matters for venue,
        // which Telegram sends together with its `location`.
        if let Some(text) = self.text {
            return Body::Text { text };
        }
        let media = [
            ("photo", self.photo.is_some()),
            ("video", self.video.is_some()),
            ("voice", self.voice.is_some()),
            ("audio", self.audio.is_some()),
            ("document", self.document.is_some()),
            ("sticker", self.sticker.is_some()),
            ("animation", self.animation.is_some()),
            ("video_note", self.video_note.is_some()),
        ];
        if let Some((kind, _)) = media.iter().find(|(_, present)| *present) {
            return Body::Media {
                media: (*kind).to_string(),
            };
        }
        if self.location.is_some() || self.venue.is_some() {
            return Body::Location;
        }
        if self.contact.is_some() {
            return Body::Contacts;
        }
        // Dice, polls, games, service messages…: a message we cannot use, still answered.
        Body::Unsupported
    }
}

/// One Update. `comune` is the id from the webhook path (becomes `InboundMessage.route`).
///
/// * `message` with text → [`Body::Text`]; photo, video, voice, audio, document, sticker,
///   animation, video_note → [`Body::Media`] with that kind; location or venue →
///   [`Body::Location`]; contact → [`Body::Contacts`]; anything else (dice, poll, service
///   messages) → [`Body::Unsupported`]. Captions are not kept.
/// * `callback_query` → [`Body::Button`] with `id` = its `data`, `callback_id` = its id,
///   `from` = the chat of the message that had the keyboard (the tapping user's id for
///   inline-mode messages), `timestamp` = that message's date or 0. A callback without
///   `data` (a game button) → [`Body::Unsupported`], still with `callback_id`, so the
///   server can stop the client's progress bar.
/// * `edited_message`, `channel_post`, `my_chat_member` and every other kind → `Ok(None)`,
///   and so is anything from a group, supergroup or channel chat: the desk is one-to-one.
///
/// `InboundMessage.id` is the update_id as a string (deduplicate on it); `from` is the
/// chat id as a string.
pub fn parse_update(comune: &str, body: &[u8]) -> Result<Option<(i64, InboundMessage)>, ParseError> {
    let update: Update = serde_json::from_slice(body)?;
    let id = update.update_id;
    let inbound = |from: i64, timestamp: i64, body: Body, callback_id: Option<String>| InboundMessage {
        channel: Channel::Telegram,
        route: comune.to_string(),
        from: from.to_string(),
        id: id.to_string(),
        timestamp,
        body,
        callback_id,
        phone: None,
        user_id: None,
        username: None,
    };
    if let Some(message) = update.message {
        if !message.chat.is_private() {
            return Ok(None);
        }
        let (chat, date) = (message.chat.id, message.date);
        return Ok(Some((id, inbound(chat, date, message.body(), None))));
    }
    if let Some(cb) = update.callback_query {
        if cb.message.as_ref().is_some_and(|m| !m.chat.is_private()) {
            return Ok(None);
        }
        let (from, date) = match &cb.message {
            Some(m) => (m.chat.id, m.date),
            None => (cb.from.id, 0),
        };
        let body = match cb.data {
            Some(data) => Body::Button { id: data },
            None => Body::Unsupported,
        };
        return Ok(Some((id, inbound(from, date, body, Some(cb.id)))));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMUNE: &str = "vigevano";

    fn parse(json: &str) -> (i64, InboundMessage) {
        parse_update(COMUNE, json.as_bytes())
            .expect("parses")
            .expect("is a message")
    }

    fn body_of(json: &str) -> Body {
        parse(json).1.body
    }

    #[test]
    fn groups_supergroups_and_channels_are_ignored() {
        for kind in ["group", "supergroup", "channel"] {
            let msg = format!(
                r#"{{"update_id":5,"message":{{"message_id":1,"date":2,"chat":{{"id":-100,"type":"{kind}"}},"text":"ISCRIVIMI"}}}}"#
            );
            assert!(parse_update(COMUNE, msg.as_bytes()).unwrap().is_none(), "{kind}");
            let tap = format!(
                r#"{{"update_id":6,"callback_query":{{"id":"c","from":{{"id":7}},"data":"subscribe","message":{{"message_id":1,"date":2,"chat":{{"id":-100,"type":"{kind}"}}}}}}}}"#
            );
            assert!(parse_update(COMUNE, tap.as_bytes()).unwrap().is_none(), "{kind} button");
        }
        let private = r#"{"update_id":5,"message":{"message_id":1,"date":2,"chat":{"id":42,"type":"private"},"text":"ISCRIVIMI"}}"#;
        assert_eq!(parse(private).1.from, "42");
    }

    #[test]
    fn text_with_accented_italian_and_french() {
        let (id, m) = parse(include_str!("../../../tests/fixtures/telegram/message_text.json"));
        assert_eq!(id, 700000101);
        assert_eq!(m.channel, Channel::Telegram);
        assert_eq!(m.route, COMUNE);
        assert_eq!(m.from, "100000001");
        assert_eq!(m.id, "700000101");
        assert_eq!(m.timestamp, 1767254400);
        assert_eq!(m.callback_id, None);
        let Body::Text { text } = m.body else {
            panic!("not text: {:?}", m.body)
        };
        assert!(text.contains("Perché è chiuso?"));
        assert!(text.ends_with("Merci, à bientôt !"));
    }

    #[test]
    fn bot_command_is_plain_text() {
        let body = body_of(include_str!("../../../tests/fixtures/telegram/message_start.json"));
        assert_eq!(body, Body::Text { text: "/start".into() });
    }

    #[test]
    fn callback_query_becomes_a_button_tap() {
        let (id, m) = parse(include_str!("../../../tests/fixtures/telegram/callback_query.json"));
        assert_eq!(id, 700000102);
        assert_eq!(m.id, "700000102");
        assert_eq!(
            m.body,
            Body::Button {
                id: "subscribe-yes".into()
            }
        );
        assert_eq!(m.callback_id.as_deref(), Some("4382000000000000001"));
        assert_eq!(m.from, "100000001");
        assert_eq!(m.timestamp, 1767254460);
    }

    #[test]
    fn callback_on_an_old_message_has_date_zero() {
        let json = include_str!("../../../tests/fixtures/telegram/callback_query_inaccessible.json");
        let (_, m) = parse(json);
        assert_eq!(
            m.body,
            Body::Button {
                id: "privacy-accept".into()
            }
        );
        assert_eq!(m.from, "100000002");
        assert_eq!(m.timestamp, 0);
    }

    #[test]
    fn inline_callback_falls_back_to_the_user() {
        let json = include_str!("../../../tests/fixtures/telegram/callback_query_inline.json");
        let (_, m) = parse(json);
        assert_eq!(m.from, "100000003");
        assert_eq!(m.timestamp, 0);
        assert_eq!(m.callback_id.as_deref(), Some("4382000000000000003"));
    }

    #[test]
    fn callback_without_data_is_unsupported_but_acknowledgeable() {
        let json = r#"{"update_id":5,"callback_query":{"id":"77","from":{"id":3,"is_bot":false,
            "first_name":"A"},"chat_instance":"1","game_short_name":"g"}}"#;
        let (_, m) = parse(json);
        assert_eq!(m.body, Body::Unsupported);
        assert_eq!(m.callback_id.as_deref(), Some("77"));
    }

    #[test]
    fn media_kinds() {
        let photo = include_str!("../../../tests/fixtures/telegram/message_photo.json");
        assert_eq!(body_of(photo), Body::Media { media: "photo".into() });
        let voice = include_str!("../../../tests/fixtures/telegram/message_voice.json");
        assert_eq!(body_of(voice), Body::Media { media: "voice".into() });
        let sticker = include_str!("../../../tests/fixtures/telegram/message_sticker.json");
        assert_eq!(
            body_of(sticker),
            Body::Media {
                media: "sticker".into()
            }
        );
        for kind in ["video", "audio", "document", "animation", "video_note"] {
            let json = format!(
                r#"{{"update_id":1,"message":{{"message_id":1,"date":2,"chat":{{"id":3,"type":"private"}},"{kind}":{{"file_id":"x"}}}}}}"#
            );
            assert_eq!(body_of(&json), Body::Media { media: kind.into() }, "{kind}");
        }
    }

    #[test]
    fn location_venue_contact() {
        let loc = include_str!("../../../tests/fixtures/telegram/message_location.json");
        assert_eq!(body_of(loc), Body::Location);
        let venue = include_str!("../../../tests/fixtures/telegram/message_venue.json");
        assert_eq!(body_of(venue), Body::Location);
        let contact = include_str!("../../../tests/fixtures/telegram/message_contact.json");
        let (_, m) = parse(contact);
        assert_eq!(m.body, Body::Contacts);
        assert_eq!(m.from, "100000001");
    }

    #[test]
    fn other_content_is_unsupported() {
        let dice = include_str!("../../../tests/fixtures/telegram/message_dice.json");
        assert_eq!(body_of(dice), Body::Unsupported);
    }

    #[test]
    fn updates_with_nothing_to_process() {
        for json in [
            include_str!("../../../tests/fixtures/telegram/edited_message.json"),
            include_str!("../../../tests/fixtures/telegram/my_chat_member.json"),
            include_str!("../../../tests/fixtures/telegram/channel_post.json"),
            r#"{"update_id":9,"poll_answer":{"poll_id":"1","option_ids":[0]}}"#,
            r#"{"update_id":10}"#,
        ] {
            assert!(parse_update(COMUNE, json.as_bytes()).unwrap().is_none(), "{json}");
        }
    }

    #[test]
    fn invalid_bodies_are_errors() {
        for body in [
            &b""[..],
            b"not json",
            b"[]",
            b"{\"message\":{}}",
            b"{\"update_id\":\"1\"}",
            b"{\"update_id\":1,\"message\":{\"date\":1}}",
            b"{\"update_id\":1,\"callback_query\":{\"id\":\"x\"}}",
            b"\xff\xfe",
        ] {
            assert!(
                parse_update(COMUNE, body).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn parse_error_does_not_quote_the_body() {
        let err = parse_update(COMUNE, br#"{"update_id":1,"message":{"chat":{"id":"Mario Rossi"}}}"#).unwrap_err();
        assert!(!err.to_string().contains("Mario"), "{err}");
    }

    #[test]
    fn random_bytes_never_panic() {
        // xorshift64: deterministic, no dependency. Half the inputs are mutated fixtures
        // so the parser gets past the first byte.
        let seed = include_str!("../../../tests/fixtures/telegram/callback_query.json").as_bytes();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..2000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                let len = (next() % 256) as usize;
                (0..len).map(|_| next() as u8).collect()
            } else {
                let mut b = seed.to_vec();
                for _ in 0..(1 + next() % 8) {
                    let at = (next() as usize) % b.len();
                    b[at] = next() as u8;
                }
                b
            };
            let _ = parse_update(COMUNE, &bytes);
        }
    }
}
