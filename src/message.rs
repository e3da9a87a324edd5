//! What goes into and out of the engine: an [`Inbound`] message and [`Reply`]s as Fluent
//! ids with arguments. No text is rendered here (that is `i18n`, at the edge). A leaf:
//! the channels, `i18n` and the engine all speak it.

use serde::{Deserialize, Serialize};

/// A message from a citizen, already mapped from its channel's wire format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    /// The provider's message id (WhatsApp wamid, Telegram update id, …): recorded with consents.
    pub id: String,
    pub body: Body,
}

/// The content of an inbound message, by kind. Channels map every wire type onto one of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Body {
    Text {
        text: String,
    },
    /// A tap on a button the engine sent: `id` is the button's payload.
    Button {
        id: String,
    },
    /// Image, audio, video, document, sticker: anything that is not text.
    Media {
        media: String,
    },
    Location,
    Contacts,
    /// A reaction to one of our messages: never answered.
    Reaction,
    /// A service event the citizen did not write (WhatsApp `system` on a number change,
    /// `request_welcome` when a chat is opened, a text with no body): never answered,
    /// never "we cannot read photos".
    Event,
    Unsupported,
}

/// An argument of a Fluent message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Arg {
    Num(i64),
    Str(String),
}

/// One outgoing message: a Fluent id, its arguments and optional buttons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub key: String,
    pub args: Vec<(String, Arg)>,
    /// Arguments whose value is another Fluent message, rendered in the same language.
    pub msg_args: Vec<(String, String)>,
    pub buttons: Vec<Button>,
}

/// A button: `id` comes back as [`Body::Button`] when tapped; `label` is a Fluent id, or,
/// for comune data such as a FAQ question, `title` is shown as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Button {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub title: Option<String>,
}

impl Reply {
    pub fn new(key: impl Into<String>) -> Reply {
        Reply {
            key: key.into(),
            args: Vec::new(),
            msg_args: Vec::new(),
            buttons: Vec::new(),
        }
    }
    pub fn arg(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.args.push((name.to_string(), Arg::Str(value.into())));
        self
    }
    pub fn num(mut self, name: &str, value: i64) -> Reply {
        self.args.push((name.to_string(), Arg::Num(value)));
        self
    }
    pub fn msg(mut self, name: &str, fluent_id: impl Into<String>) -> Reply {
        self.msg_args.push((name.to_string(), fluent_id.into()));
        self
    }
    pub fn button(mut self, id: impl Into<String>, label: impl Into<String>) -> Reply {
        self.buttons.push(Button {
            id: id.into(),
            label: label.into(),
            title: None,
        });
        self
    }
    /// A button whose title is comune data (shown as written), not a Fluent id.
    pub fn data_button(mut self, id: impl Into<String>, title: impl Into<String>) -> Reply {
        self.buttons.push(Button {
            id: id.into(),
            label: String::new(),
            title: Some(title.into()),
        });
        self
    }
}
