//! Joining and leaving the comune's list: subscribing (or starting the registration it
//! needs), recording the consents, unsubscribing under the comune's policy, and confirming a
//! departure asked for in the citizen's own words. Pure, like the rest of the engine; called
//! by `step`.

use jiff::Timestamp;

use super::register;
use super::step::{prior_exists, Event, Outcome};
use crate::faq::Faq;
use crate::flow::{Action, ConsentMode, Flow, OnUnsubscribe};
use crate::message::{Body, Inbound, Reply};
use crate::storage::records::{Citizen, Confirm, Consent, Goal, State};
use crate::text::{Match, Position};

/// Whether unsubscribing would end a subscription (or a registration for one).
pub(super) fn is_subscribed(c: &Citizen) -> bool {
    matches!(c.state, State::Subscribed)
        || matches!(
            c.state,
            State::Registering {
                goal: Goal::Subscribe,
                ..
            }
        )
        || (matches!(c.state, State::Blocked { .. }) && c.subscribed_at.is_some() && c.unsubscribed_at.is_none())
}

/// Leaving asked in the citizen's own words: a subscriber is asked to confirm with buttons
/// (the message also names the keyword); anyone else is told they are not subscribed.
pub(super) fn confirm_leave(flow: &Flow, c: &mut Citizen, out: &mut Outcome) -> bool {
    if !is_subscribed(c) {
        out.replies.push(Reply::new(flow.message("not-subscribed")));
        return prior_exists(c);
    }
    c.confirming = Some(Confirm::Leave);
    out.replies.push(
        Reply::new("leave-confirm")
            .button(Action::Unsubscribe.as_str(), "button-leave-confirm")
            .button(Action::No.as_str(), "button-leave-keep"),
    );
    true
}

pub(super) fn subscribe(
    flow: &Flow,
    faq: Option<&Faq>,
    c: &mut Citizen,
    m: Option<Match<Action>>,
    inbound: &Inbound,
    now: Timestamp,
    out: &mut Outcome,
) {
    if c.state == State::Subscribed {
        out.replies.push(Reply::new(flow.message("already-subscribed")));
        return;
    }
    let rest = match (&m, &inbound.body) {
        (Some(m), Body::Text { text }) if m.position == Position::Prefix => Some(text[m.span.end..].to_string()),
        _ => None,
    };
    let needs_data = flow.registration.as_ref().is_some_and(|r| {
        r.fields.iter().any(|f| !c.fields.contains_key(f.key()))
            || (flow.consent == ConsentMode::Registration && !r.consents.is_empty())
    });
    if needs_data {
        let pending = match &c.state {
            State::Registering { pending_question, .. } => pending_question.clone(),
            _ => None,
        };
        register::start(
            flow,
            faq,
            c,
            Goal::Subscribe,
            rest.as_deref(),
            pending,
            inbound,
            now,
            out,
        );
    } else if flow.consent == ConsentMode::Accept {
        register::ask_accept(flow, c, Goal::Subscribe, out);
    } else {
        let how = if matches!(inbound.body, Body::Button { .. }) {
            "button"
        } else {
            "keyword"
        };
        complete_subscription(flow, c, Vec::new(), how, inbound, now, out);
    }
}

/// Subscribes the citizen, recording the privacy consent unless `given` already holds it.
pub(super) fn complete_subscription(
    flow: &Flow,
    c: &mut Citizen,
    mut given: Vec<Consent>,
    how: &str,
    inbound: &Inbound,
    now: Timestamp,
    out: &mut Outcome,
) {
    if !given.iter().any(|g| g.kind == "privacy") {
        given.push(Consent {
            kind: "privacy".into(),
            notice_version: flow.privacy.version.clone(),
            at: now,
            message_id: inbound.id.clone(),
            how: how.into(),
        });
    }
    for g in given {
        out.events.push(Event::ConsentGiven(g.clone()));
        c.consents.push(g);
    }
    c.state = State::Subscribed;
    c.subscribed_at = Some(now);
    c.unsubscribed_at = None;
    c.categories = flow.categories.iter().map(|k| k.id.clone()).collect();
    out.events.push(Event::Subscribed);
    out.replies.push(Reply::new(flow.message("subscribed")));
}

pub(super) fn unsubscribe(flow: &Flow, c: &mut Citizen, now: Timestamp, inbound: &Inbound, out: &mut Outcome) -> bool {
    if !is_subscribed(c) {
        out.replies.push(Reply::new(flow.message("not-subscribed")));
        if let State::Registering { .. } = c.state {
            c.state = State::New;
        }
        // Someone who was never subscribed and asks to be forgotten leaves nothing behind,
        // unless the record holds data the desk needs (registration) or a block.
        return c.is_registered() || matches!(c.state, State::Blocked { .. } | State::Unsubscribed);
    }
    let policy = flow.privacy.on_unsubscribe;
    out.events.push(Event::Unsubscribed { policy });
    out.replies.push(Reply::new(flow.message("unsubscribed")));
    let withdrawal = Consent {
        kind: "withdrawal".into(),
        notice_version: flow.privacy.version.clone(),
        at: now,
        message_id: inbound.id.clone(),
        how: if matches!(inbound.body, Body::Button { .. }) {
            "button"
        } else {
            "keyword"
        }
        .into(),
    };
    out.events.push(Event::ConsentWithdrawn(withdrawal.clone()));
    c.consents.push(withdrawal);
    c.unsubscribed_at = Some(now);
    c.categories.clear();
    if let State::Blocked { .. } = c.state {
        // A block is kept whatever the policy: erasing it would lift it.
        c.fields.clear();
        c.whatsapp.username = None;
        return true;
    }
    match policy {
        OnUnsubscribe::Delete | OnUnsubscribe::Anonymize => false,
        OnUnsubscribe::Retain => {
            c.state = State::Unsubscribed;
            true
        }
    }
}
