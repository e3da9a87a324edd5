//! The providers' clients of every comune, and what one turn hands them ([`Outgoing`]).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::channel::telegram::BotClient;
use crate::channel::whatsapp::{GraphClient, Outbound};
use crate::channel::{Channel, SendError};
use crate::config::{Config, Secrets};

/// What one turn sends, in order.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// WhatsApp messages through the number `route` (a `phone_number_id`), or through the
    /// comune's configured number when `None`.
    Whatsapp {
        route: Option<String>,
        messages: Vec<Outbound>,
    },
    /// Telegram requests (method, body), after answering the button the citizen pressed.
    Telegram {
        callback: Option<String>,
        requests: Vec<(&'static str, Value)>,
    },
    /// The web simulator reads its replies from the store: nothing leaves.
    Web,
}

impl Outgoing {
    pub fn channel(&self) -> Channel {
        match self {
            Outgoing::Whatsapp { .. } => Channel::Whatsapp,
            Outgoing::Telegram { .. } => Channel::Telegram,
            Outgoing::Web => Channel::Web,
        }
    }
}

/// Per comune: its Graph API client (when a token is set), its number, its Telegram bot.
#[derive(Default)]
pub struct Providers {
    whatsapp: HashMap<String, GraphClient>,
    numbers: HashMap<String, String>,
    telegram: HashMap<String, BotClient>,
}

impl Providers {
    /// The clients of `comuni` from the configuration and the secrets.
    pub fn new<'a>(comuni: impl IntoIterator<Item = &'a str>, config: &Config, secrets: &Secrets) -> Providers {
        // rustls needs a process-wide crypto provider before the first client is built;
        // installing it twice (tests build several servers) is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let mut providers = Providers::default();
        for comune in comuni {
            if let Some(number) = config
                .comuni
                .get(comune)
                .and_then(|c| c.whatsapp_phone_number_id.clone())
            {
                providers.numbers.insert(comune.to_string(), number);
            }
            if let Some(token) = secrets.whatsapp_token(comune) {
                providers.whatsapp.insert(
                    comune.to_string(),
                    GraphClient::new(http.clone(), &config.graph_url, token),
                );
            }
            if let Some(token) = secrets.telegram_token(comune) {
                providers.telegram.insert(
                    comune.to_string(),
                    BotClient::new(http.clone(), &config.telegram_url, token),
                );
            }
        }
        providers
    }

    pub fn whatsapp(&self, comune: &str) -> Option<&GraphClient> {
        self.whatsapp.get(comune)
    }

    pub fn telegram(&self, comune: &str) -> Option<&BotClient> {
        self.telegram.get(comune)
    }

    /// Sends `out` for `comune`, pushing the id of each message the provider accepted onto
    /// `accepted` (those before an error were sent).
    pub async fn send(&self, comune: &str, out: &Outgoing, accepted: &mut Vec<String>) -> Result<(), SendError> {
        match out {
            Outgoing::Whatsapp { route, messages } => {
                let client = self
                    .whatsapp
                    .get(comune)
                    .ok_or_else(|| missing("SPORTELLO_WHATSAPP_TOKEN"))?;
                let route = route
                    .as_deref()
                    .or_else(|| self.numbers.get(comune).map(String::as_str))
                    .ok_or_else(|| missing("comuni.<comune>.whatsapp_phone_number_id"))?;
                for message in messages {
                    accepted.push(client.send(route, message).await?);
                }
            }
            Outgoing::Telegram { callback, requests } => {
                let client = self
                    .telegram
                    .get(comune)
                    .ok_or_else(|| missing("SPORTELLO_TELEGRAM_TOKEN_<COMUNE>"))?;
                if let Some(cb) = callback {
                    // An unanswered callback leaves a spinner on the citizen's button; its
                    // failure must not block the message itself.
                    let _ = client.answer_callback_query(cb).await;
                }
                for (method, body) in requests {
                    accepted.push(client.send_with(method, body).await?.to_string());
                }
            }
            Outgoing::Web => {}
        }
        Ok(())
    }
}

/// Without credentials or a number nothing can be sent: retried slowly, so that setting
/// what is missing and restarting delivers what is waiting.
fn missing(what: &str) -> SendError {
    SendError::Retryable {
        code: 0,
        title: format!("not configured: {what}"),
        retry_after: Some(60),
    }
}
