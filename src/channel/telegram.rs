//! TEMPORARY stub of the Telegram adapter API (replaced by the `telegram` branch).
#![allow(dead_code, unused_variables)]
use super::{InboundMessage, SendError};
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SecretError { #[error("missing")] Missing, #[error("mismatch")] Mismatch }
pub fn verify_secret(expected: &str, header: Option<&str>) -> Result<(), SecretError> { Err(SecretError::Missing) }
#[derive(Debug, thiserror::Error)]
pub enum ParseError { #[error("bad")] Bad }
pub fn parse_update(comune: &str, body: &[u8]) -> Result<Option<(i64, InboundMessage)>, ParseError> { Err(ParseError::Bad) }
pub fn send_message_bodies(chat_id: &str, rendered: &crate::i18n::Rendered) -> Vec<serde_json::Value> { vec![] }
#[derive(Clone)]
pub struct BotClient;
impl BotClient {
    pub fn new(http: reqwest::Client, base_url: &str, token: &str) -> BotClient { BotClient }
    pub async fn send_message(&self, body: &serde_json::Value) -> Result<i64, SendError> { Err(SendError::Transport("stub".into())) }
    pub async fn answer_callback_query(&self, callback_query_id: &str) -> Result<(), SendError> { Ok(()) }
}
