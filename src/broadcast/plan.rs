//! Who receives a broadcast and the outbox it becomes: the checks made before anything is
//! queued (category, a text for every language read by a recipient, templates for closed
//! WhatsApp windows, lengths), the fan-out into outbox entries in batches, the recovery
//! of entries left in flight by a crash, and "resend to failed".
//!
//! Subscribers are read a page at a time ([`crate::storage::CitizenStore::citizens_page`]): 100,000 citizens are
//! never in memory together. Blocking store calls: run these off the async runtime.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::compose::{self, framed, CAPTION_MAX, TEXT_MAX};
use super::{Broadcast, BroadcastError, BroadcastState, Delivery, DeliveryState, Media};
use crate::channel::{Channel, DeliveryStatus, ProviderError};
use crate::config::Config;
use crate::dialogue::{Citizen, State};
use crate::flow::{Flow, Flows};
use crate::i18n::Locales;
use crate::storage::{AuditEntry, CitizenKey, Store, StoreError};

/// Citizens read per page, and outbox entries written per batch.
pub const PAGE: usize = 1000;

/// What an operator asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub comune: String,
    pub category: Option<String>,
    pub texts: BTreeMap<String, String>,
    pub media: Option<Media>,
    /// `None`: now.
    pub send_at: Option<Timestamp>,
    /// A staff e-mail, or `cli`.
    pub created_by: String,
}

/// Who a broadcast would reach, counted (no personal data).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Audience {
    pub total: u64,
    pub by_language: BTreeMap<String, u64>,
    pub by_channel: BTreeMap<String, u64>,
    /// WhatsApp recipients outside the 24-hour window, by language (they need a template).
    pub closed_window: BTreeMap<String, u64>,
}

/// Whether this citizen gets a broadcast of `category`: subscribed (never blocked, never
/// unsubscribed), on a channel that can be written to, and, where the comune has topic
/// categories, subscribed to that one.
pub fn receives(flow: &Flow, category: Option<&str>, key: &CitizenKey, c: &Citizen) -> bool {
    if c.state != State::Subscribed || key.channel == Channel::Web.as_str() {
        return false;
    }
    match category {
        Some(cat) if !flow.categories.is_empty() => c.categories.contains(cat),
        _ => true,
    }
}

/// The language a citizen reads: their choice when the comune offers it, else the comune's first.
pub fn language_of(flow: &Flow, c: &Citizen) -> String {
    c.language
        .as_deref()
        .filter(|l| flow.offers(l))
        .unwrap_or_else(|| flow.default_language())
        .to_string()
}

/// Counts the recipients of a broadcast of `category` as it would be sent at `at`.
pub fn audience(store: &dyn Store, flow: &Flow, category: Option<&str>, at: Timestamp) -> Result<Audience, StoreError> {
    let mut a = Audience::default();
    each_recipient(store, flow, category, |key, c| {
        let lang = language_of(flow, c);
        a.total += 1;
        *a.by_language.entry(lang.clone()).or_default() += 1;
        *a.by_channel.entry(key.channel.clone()).or_default() += 1;
        if key.channel == Channel::Whatsapp.as_str() && !compose::window_open(c.last_inbound, at) {
            *a.closed_window.entry(lang).or_default() += 1;
        }
        Ok(())
    })?;
    Ok(a)
}

/// Calls `f` for every recipient, a page of citizens at a time.
fn each_recipient(
    store: &dyn Store,
    flow: &Flow,
    category: Option<&str>,
    mut f: impl FnMut(&CitizenKey, &Citizen) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    crate::storage::each_citizen(store, &flow.id, |key, c| {
        if receives(flow, category, key, c) {
            f(key, c)?;
        }
        Ok(true)
    })
}

/// Checks a request against the comune and its subscribers; returns the broadcast to store.
pub fn validate(
    flows: &Flows,
    locales: &Locales,
    config: &Config,
    store: &dyn Store,
    req: &Request,
    now: Timestamp,
) -> Result<(Broadcast, Audience), BroadcastError> {
    let flow = flows
        .get(&req.comune)
        .ok_or_else(|| BroadcastError::UnknownComune(req.comune.clone()))?;
    let known = flow
        .categories
        .iter()
        .map(|c| c.id.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let urgent = match (&req.category, flow.categories.is_empty()) {
        (None, false) => {
            return Err(BroadcastError::CategoryNeeded {
                comune: req.comune.clone(),
                known,
            })
        }
        (Some(cat), _) => {
            let found = flow.categories.iter().find(|c| &c.id == cat);
            match found {
                Some(c) => c.urgent,
                None => {
                    return Err(BroadcastError::UnknownCategory {
                        comune: req.comune.clone(),
                        category: cat.clone(),
                        known: if known.is_empty() {
                            "one list, no categories".into()
                        } else {
                            known
                        },
                    })
                }
            }
        }
        (None, true) => false,
    };
    let send_at = req.send_at.unwrap_or(now).max(now);
    let broadcast = Broadcast {
        comune: req.comune.clone(),
        category: req.category.clone(),
        urgent,
        texts: req
            .texts
            .iter()
            .map(|(l, t)| (l.clone(), t.trim().to_string()))
            .collect(),
        media: req.media.clone(),
        send_at,
        created_at: now,
        created_by: req.created_by.clone(),
        state: BroadcastState::Scheduled,
        recipients: 0,
        started_at: None,
        finished_at: None,
    };
    for (lang, text) in &broadcast.texts {
        if !flow.offers(lang) {
            return Err(BroadcastError::UnknownLanguage {
                comune: req.comune.clone(),
                language: lang.clone(),
            });
        }
        if text.is_empty() {
            return Err(BroadcastError::EmptyText { language: lang.clone() });
        }
        let shown = framed(flow, locales, &broadcast, lang).unwrap_or_default();
        let max = if broadcast.media.is_some() {
            CAPTION_MAX
        } else {
            TEXT_MAX
        };
        let n = shown.chars().count();
        if n > max {
            return Err(BroadcastError::Media(format!(
                "the {lang} message is {n} characters with its frame; at most {max}{}",
                if broadcast.media.is_some() {
                    " with an image or video (a caption)"
                } else {
                    ""
                }
            )));
        }
    }
    let audience = audience(store, flow, req.category.as_deref(), send_at)?;
    // A send now to nobody is a mistake (a wrong category); a scheduled one may find its
    // audience by then.
    if audience.total == 0 && send_at <= now {
        return Err(BroadcastError::NoRecipients {
            comune: req.comune.clone(),
            category: req.category.clone(),
        });
    }
    for (lang, count) in &audience.by_language {
        if !broadcast.texts.contains_key(lang) {
            return Err(BroadcastError::MissingText {
                language: lang.clone(),
                count: *count,
            });
        }
    }
    let templates = config
        .comuni
        .get(&req.comune)
        .map(|c| c.broadcast_templates.clone())
        .unwrap_or_default();
    for (lang, count) in &audience.closed_window {
        if !templates.contains_key(lang) {
            return Err(BroadcastError::MissingTemplate {
                comune: req.comune.clone(),
                language: lang.clone(),
                count: *count,
            });
        }
    }
    Ok((broadcast, audience))
}

/// Validates and stores a broadcast (durably); the worker starts it at `send_at`.
pub fn create(
    flows: &Flows,
    locales: &Locales,
    config: &Config,
    store: &dyn Store,
    req: &Request,
    now: Timestamp,
) -> Result<(u64, Broadcast, Audience), BroadcastError> {
    let (broadcast, audience) = validate(flows, locales, config, store, req, now)?;
    let id = store.add_broadcast(&broadcast)?;
    store.append_audit(&AuditEntry {
        at: now,
        actor: req.created_by.clone(),
        comune: req.comune.clone(),
        action: "broadcast-create".into(),
        detail: format!(
            "broadcast {id}, category {}, {} recipients, languages {}",
            req.category.as_deref().unwrap_or("-"),
            audience.total,
            broadcast.texts.keys().cloned().collect::<Vec<_>>().join("+")
        ),
    })?;
    store.flush()?;
    Ok((id, broadcast, audience))
}

/// Writes one outbox entry per recipient, in batches, then flushes, and only then marks the
/// broadcast `sending`: no entry is sent before every entry is durable. Run again after a
/// crash during the fan-out, it rewrites the same (still unsent) entries. Returns the count.
pub fn fan_out(store: &dyn Store, flow: &Flow, id: u64, b: &mut Broadcast, now: Timestamp) -> Result<u64, StoreError> {
    b.state = BroadcastState::FanningOut;
    store.put_broadcast(id, b)?;
    store.flush()?;
    let mut batch: Vec<(CitizenKey, Delivery)> = Vec::with_capacity(PAGE);
    let mut n = 0u64;
    each_recipient(store, flow, b.category.as_deref(), |key, c| {
        let lang = language_of(flow, c);
        let mut d = Delivery::queued(&lang);
        if !b.texts.contains_key(&lang) {
            // Chose a language after the checks: not sent a text they cannot read.
            d.state = DeliveryState::Skipped {
                reason: format!("no {lang} text"),
            };
        }
        batch.push((key.clone(), d));
        n += 1;
        if batch.len() >= PAGE {
            store.put_deliveries(id, &batch)?;
            batch.clear();
        }
        Ok(())
    })?;
    store.put_deliveries(id, &batch)?;
    store.flush()?;
    b.state = BroadcastState::Sending;
    b.recipients = n;
    b.started_at = Some(now);
    store.put_broadcast(id, b)?;
    store.flush()?;
    Ok(n)
}

/// At start, before any send: entries left in flight by the previous process are marked
/// `interrupted` and not sent again (at most once; see the module `broadcast`). A
/// broadcast stopped in its fan-out is fanned out again. Returns the interrupted count.
pub fn recover(store: &dyn Store, flows: &Flows, now: Timestamp) -> Result<u64, StoreError> {
    let mut interrupted = 0;
    for (id, mut b) in store.broadcasts(None)? {
        match b.state {
            BroadcastState::FanningOut => {
                if let Some(flow) = flows.get(&b.comune) {
                    fan_out(store, flow, id, &mut b, now)?;
                }
            }
            BroadcastState::Sending => interrupted += interrupt(store, id, &b.comune, None, now)?,
            BroadcastState::Scheduled | BroadcastState::Done => {}
        }
    }
    store.flush()?;
    Ok(interrupted)
}

/// With several active processes, when a process takes a sending number over (its lock,
/// see `server::shared`): the entries of that comune and channel left in flight by the
/// previous holder are marked `interrupted`, as [`recover`] does for all at start.
pub fn recover_lane(store: &dyn Store, comune: &str, channel: &str, now: Timestamp) -> Result<u64, StoreError> {
    let mut interrupted = 0;
    for (id, b) in store.broadcasts(Some(comune))? {
        if b.state == BroadcastState::Sending {
            interrupted += interrupt(store, id, comune, Some(channel), now)?;
        }
    }
    store.flush()?;
    Ok(interrupted)
}

/// Marks broadcast `id`'s entries in flight (on `channel`, or every one) `interrupted`.
fn interrupt(
    store: &dyn Store,
    id: u64,
    comune: &str,
    channel: Option<&str>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let mut interrupted = 0;
    let mut after: Option<CitizenKey> = None;
    loop {
        let page = store.deliveries(id, comune, channel, after.as_ref(), PAGE)?;
        let fix: Vec<(CitizenKey, Delivery)> = page
            .iter()
            .filter(|(_, d)| d.state == DeliveryState::InFlight)
            .map(|(k, d)| {
                let mut d = d.clone();
                d.state = DeliveryState::Interrupted;
                d.updated_at = Some(now);
                (k.clone(), d)
            })
            .collect();
        interrupted += fix.len() as u64;
        store.put_deliveries(id, &fix)?;
        if page.len() < PAGE {
            return Ok(interrupted);
        }
        after = page.last().map(|(k, _)| k.clone());
    }
}

/// Queues again every failed or interrupted entry of a broadcast (the operator's "resend
/// to failed"); the citizen's state is checked again when each is sent. Returns the count.
pub fn resend_failed(store: &dyn Store, id: u64, actor: &str, now: Timestamp) -> Result<u64, BroadcastError> {
    let mut b = store.broadcast(id)?.ok_or(BroadcastError::UnknownBroadcast(id))?;
    let mut n = 0;
    let mut after: Option<CitizenKey> = None;
    loop {
        let page = store.deliveries(id, &b.comune, None, after.as_ref(), PAGE)?;
        let again: Vec<(CitizenKey, Delivery)> = page
            .iter()
            .filter(|(_, d)| matches!(d.state, DeliveryState::Failed { .. } | DeliveryState::Interrupted))
            .map(|(k, d)| {
                let mut d = Delivery::queued(&d.language);
                d.updated_at = Some(now);
                (k.clone(), d)
            })
            .collect();
        n += again.len() as u64;
        store.put_deliveries(id, &again)?;
        if page.len() < PAGE {
            break;
        }
        after = page.last().map(|(k, _)| k.clone());
    }
    if n > 0 && b.state == BroadcastState::Done {
        b.state = BroadcastState::Sending;
        b.finished_at = None;
        store.put_broadcast(id, &b)?;
    }
    store.append_audit(&AuditEntry {
        at: now,
        actor: actor.to_string(),
        comune: b.comune.clone(),
        action: "broadcast-resend-failed".into(),
        detail: format!("broadcast {id}, {n} queued again"),
    })?;
    store.flush()?;
    Ok(n)
}

/// Follows a provider status on a broadcast's outbox entry (statuses only move forward;
/// failed is final, with the provider's code and title).
pub fn apply_status(
    store: &dyn Store,
    id: u64,
    key: &CitizenKey,
    status: DeliveryStatus,
    errors: &[ProviderError],
    at: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut d) = store.delivery(id, key)? else {
        return Ok(());
    };
    let next = match status {
        DeliveryStatus::Sent => return Ok(()),
        DeliveryStatus::Delivered => DeliveryState::Delivered,
        DeliveryStatus::Read | DeliveryStatus::Played => DeliveryState::Read,
        DeliveryStatus::Failed => {
            let (code, title) = errors
                .first()
                .map(|e| (e.code, e.title.clone()))
                .unwrap_or((0, "failed".into()));
            DeliveryState::Failed { code, title }
        }
    };
    let rank = |s: &DeliveryState| match s {
        DeliveryState::Sent | DeliveryState::InFlight | DeliveryState::Interrupted => 1,
        DeliveryState::Delivered => 2,
        DeliveryState::Read => 3,
        _ => 9,
    };
    let moves = match (&d.state, &next) {
        (DeliveryState::Failed { .. } | DeliveryState::Skipped { .. } | DeliveryState::Queued, _) => false,
        (_, DeliveryState::Failed { .. }) => true,
        (cur, next) => rank(next) > rank(cur),
    };
    if moves {
        d.state = next;
        d.updated_at = Some(at);
        store.put_deliveries(id, &[(key.clone(), d)])?;
    }
    Ok(())
}
