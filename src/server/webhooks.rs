//! Webhook handlers: verify, parse, route, hand to the pipeline, answer. Nothing else.
//! Refusals are logged with a reason and never with the body (it carries personal data).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Server;
use crate::channel::{telegram, whatsapp};

/// `GET /webhook/whatsapp`: Meta's verification handshake.
pub async fn whatsapp_verify(State(s): State<Server>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(expected) = s.secrets.whatsapp_verify_token.as_deref() else {
        tracing::warn!("webhook verification refused: SPORTELLO_WHATSAPP_VERIFY_TOKEN is not set");
        return StatusCode::FORBIDDEN.into_response();
    };
    let get = |k: &str| q.get(k).map(String::as_str);
    match whatsapp::verify_handshake(get("hub.mode"), get("hub.verify_token"), get("hub.challenge"), expected) {
        Ok(challenge) => challenge.into_response(),
        Err(e) => {
            tracing::warn!(reason = ?e, "webhook verification refused");
            StatusCode::FORBIDDEN.into_response()
        }
    }
}

/// `POST /webhook/whatsapp`: messages and statuses, signed with the app secret.
pub async fn whatsapp_post(State(s): State<Server>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(secret) = s.secrets.whatsapp_app_secret.as_deref() else {
        tracing::warn!("whatsapp webhook refused: SPORTELLO_WHATSAPP_APP_SECRET is not set");
        s.metrics.refused.inc();
        return StatusCode::UNAUTHORIZED;
    };
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if let Err(e) = whatsapp::verify_signature(secret.as_bytes(), signature, &body) {
        tracing::warn!(reason = ?e, bytes = body.len(), "whatsapp webhook refused: signature");
        s.metrics.refused.inc();
        return StatusCode::UNAUTHORIZED;
    }
    let events = match whatsapp::parse_webhook(&body) {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(error = %e, bytes = body.len(), "whatsapp webhook refused: malformed");
            s.metrics.malformed.inc();
            return StatusCode::BAD_REQUEST;
        }
    };
    let mut messages = Vec::new();
    for event in events {
        match event {
            whatsapp::WaEvent::Message(m) => match s.routes.get(&m.route) {
                Some(comune) => messages.push((comune.clone(), m)),
                None => {
                    // Acknowledged so Meta stops retrying, never processed as another comune's.
                    tracing::warn!(phone_number_id = %m.route, "message for an unknown number: dropped");
                    s.metrics.unrouted.inc();
                }
            },
            whatsapp::WaEvent::Status(st) => {
                s.metrics.status(st.status, &st.errors);
                s.delivery_status(&st).await;
            }
            whatsapp::WaEvent::IdentityChange(change) => match s.routes.get(&change.route) {
                Some(comune) => s.identity_change(comune.clone(), change).await,
                None => s.metrics.unrouted.inc(),
            },
            whatsapp::WaEvent::Error { route, error } => {
                tracing::warn!(phone_number_id = %route, code = error.code, title = %error.title, "provider error notification");
            }
        }
    }
    match s.accept(messages).await {
        Ok(_) => StatusCode::OK,
        Err(e) => {
            // Not acknowledged: Meta redelivers, and the journal drops what we already have.
            tracing::error!(error = %e, "could not journal a webhook");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// `POST /webhook/telegram/{comune}`: one update, with the bot's secret token.
pub async fn telegram_post(
    State(s): State<Server>,
    Path(comune): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if s.engine.flows.get(&comune).is_none() {
        return StatusCode::NOT_FOUND;
    }
    let Some(secret) = s.secrets.telegram_secret(&comune) else {
        tracing::warn!(%comune, "telegram webhook refused: SPORTELLO_TELEGRAM_SECRET_<COMUNE> is not set");
        s.metrics.refused.inc();
        return StatusCode::UNAUTHORIZED;
    };
    let header = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = telegram::verify_secret(secret, header) {
        tracing::warn!(%comune, reason = ?e, "telegram webhook refused: secret token");
        s.metrics.refused.inc();
        return StatusCode::UNAUTHORIZED;
    }
    match telegram::parse_update(&comune, &body) {
        Ok(Some((_, message))) => match s.accept(vec![(comune, message)]).await {
            Ok(_) => StatusCode::OK,
            Err(e) => {
                tracing::error!(error = %e, "could not journal an update");
                StatusCode::SERVICE_UNAVAILABLE
            }
        },
        Ok(None) => StatusCode::OK,
        Err(e) => {
            tracing::warn!(%comune, error = %e, bytes = body.len(), "telegram webhook refused: malformed");
            s.metrics.malformed.inc();
            StatusCode::BAD_REQUEST
        }
    }
}
