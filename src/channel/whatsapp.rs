//! TEMPORARY stub of the WhatsApp adapter API (replaced by the `whatsapp` branch).
#![allow(dead_code, unused_variables)]
use super::{InboundMessage, ProviderError, SendError, StatusUpdate};
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SignatureError { #[error("missing")] Missing, #[error("malformed")] Malformed, #[error("mismatch")] Mismatch }
pub fn verify_signature(app_secret: &[u8], header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> { Err(SignatureError::Missing) }
pub fn sign(app_secret: &[u8], body: &[u8]) -> String { String::new() }
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HandshakeError { #[error("mode")] WrongMode, #[error("token")] WrongToken, #[error("missing")] Missing }
pub fn verify_handshake(mode: Option<&str>, token: Option<&str>, challenge: Option<&str>, expected: &str) -> Result<String, HandshakeError> { Err(HandshakeError::Missing) }
#[derive(Debug, thiserror::Error)]
pub enum ParseError { #[error("bad")] Bad }
#[derive(Debug, Clone, PartialEq)]
pub enum WaEvent { Message(InboundMessage), Status(StatusUpdate), Error { route: String, error: ProviderError } }
pub fn parse_webhook(body: &[u8]) -> Result<Vec<WaEvent>, ParseError> { Err(ParseError::Bad) }
pub enum Outbound { Text { to: String, body: String } }
pub fn from_rendered(to: &str, rendered: &crate::i18n::Rendered, list_label: &str) -> Vec<Outbound> { vec![] }
#[derive(Clone)]
pub struct GraphClient;
impl GraphClient {
    pub fn new(http: reqwest::Client, base_url: &str, token: &str) -> GraphClient { GraphClient }
    pub async fn send(&self, phone_number_id: &str, msg: &Outbound) -> Result<String, SendError> { Err(SendError::Transport("stub".into())) }
    pub async fn mark_read(&self, phone_number_id: &str, message_id: &str) -> Result<(), SendError> { Ok(()) }
}
