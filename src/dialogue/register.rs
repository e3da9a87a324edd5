//! Registration: collecting the flow's fields and consents one step at a time.
//!
//! A one-shot line (Isili's `REGISTRAZIONE Mario Rossi - Isili 12/03/1980 - …`) fills what it
//! can; whatever is missing or wrong is then asked for, one step at a time, with a localized
//! reason for each rejected answer. Pure, like the rest of the engine.

use jiff::civil::Date;
use jiff::Timestamp;

use super::membership::complete_subscription;
use super::step::{Event, Outcome};
use crate::faq::Faq;
use crate::flow::{Action, ConsentMode, Field, Flow, RegistrationWhen};
use crate::message::{Inbound, Reply};
use crate::storage::records::{Ask, Citizen, Consent, Goal, State};
use crate::text::intent::NameProblem;
use crate::text::{self, DateError, NameError};

/// Oldest plausible age for a birth date.
const MAX_AGE: i16 = 120;

/// A citizen's answer to the current step.
pub(super) enum Answer<'a> {
    Yes,
    No,
    Text(&'a str),
    NonText,
}

/// The comune's civil date at `now` (birth dates and ages are civil dates in Italy).
pub fn today(now: Timestamp) -> Date {
    let tz = jiff::tz::TimeZone::get("Europe/Rome").unwrap_or(jiff::tz::TimeZone::UTC);
    now.to_zoned(tz).date()
}

/// Starts (or restarts) a registration, filling from a one-shot line when there is one.
#[allow(clippy::too_many_arguments)]
pub(super) fn start(
    flow: &Flow,
    faq: Option<&Faq>,
    c: &mut Citizen,
    goal: Goal,
    one_shot: Option<&str>,
    pending_question: Option<String>,
    inbound: &Inbound,
    now: Timestamp,
    out: &mut Outcome,
) {
    let (mut draft, mut given) = match &c.state {
        State::Registering { draft, given, .. } => (draft.clone(), given.clone()),
        _ => (c.fields.clone(), Vec::new()),
    };
    if let (Some(rest), Some(reg)) = (one_shot, &flow.registration) {
        if reg.one_shot && !text::normalize(rest).is_empty() {
            fill_one_shot(flow, rest, &mut draft, &mut given, inbound, now, out);
        }
    }
    c.state = State::Registering {
        goal,
        asking: Ask::AcceptPrivacy,
        draft,
        given,
        pending_question,
        refused: None,
    };
    advance(flow, faq, c, inbound, now, out);
}

/// Parses a one-shot line into the draft; a part present but wrong is explained, and then
/// asked again by `advance` like any missing part.
fn fill_one_shot(
    flow: &Flow,
    rest: &str,
    draft: &mut std::collections::BTreeMap<String, String>,
    given: &mut Vec<Consent>,
    inbound: &Inbound,
    now: Timestamp,
    out: &mut Outcome,
) {
    let Some(reg) = &flow.registration else { return };
    let phrases: Vec<(String, Vec<String>)> = reg.consents.iter().map(|c| (c.id.clone(), c.phrases.clone())).collect();
    let found = text::parse_one_shot(rest, &phrases, today(now));
    let mut put = |field: Field, value: Option<String>| {
        if let Some(v) = value {
            match check(flow, field, &v, now) {
                Ok(v) => {
                    draft.insert(field.key().to_string(), v);
                }
                Err(reply) => out.replies.push(reply),
            }
        }
    };
    put(Field::FullName, found.full_name.clone());
    put(Field::BirthPlace, found.birth_place.clone());
    match found.birth_date {
        Some(Ok(d)) => put(Field::BirthDate, Some(d.to_string())),
        Some(Err(e)) => out.replies.push(date_error(e)),
        None => {}
    }
    for id in found.consents {
        if reg.consents.iter().any(|c| c.id == id) && !given.iter().any(|g| g.kind == id) {
            given.push(Consent {
                kind: id,
                notice_version: flow.privacy.version.clone(),
                at: now,
                message_id: inbound.id.clone(),
                how: "one-shot".into(),
            });
        }
    }
}

/// Asks for the next missing thing, or completes the registration.
fn advance(flow: &Flow, faq: Option<&Faq>, c: &mut Citizen, inbound: &Inbound, now: Timestamp, out: &mut Outcome) {
    let State::Registering {
        goal,
        asking,
        draft,
        given,
        pending_question,
        refused,
    } = &mut c.state
    else {
        return;
    };
    // A new step: its refusals are its own.
    *refused = None;
    let Some(reg) = &flow.registration else { return };
    if let Some(field) = reg.fields.iter().find(|f| !draft.contains_key(f.key())) {
        *asking = Ask::Field(field.key().to_string());
        out.replies.push(ask_field(field.key()));
        return;
    }
    let needs_consents = *goal == Goal::Subscribe || flow.consent != ConsentMode::Registration;
    if let Some(spec) = reg
        .consents
        .iter()
        .filter(|_| needs_consents)
        .find(|s| !given.iter().any(|g| g.kind == s.id))
    {
        if spec.shows_notice {
            out.replies.push(Reply::new(flow.privacy.notice.clone()));
        }
        *asking = Ask::Consent(spec.id.clone());
        out.replies.push(yes_no(Reply::new(spec.ask.clone())));
        return;
    }
    if *goal == Goal::Subscribe && flow.consent == ConsentMode::Accept && !given.iter().any(|g| g.kind == "privacy") {
        out.replies.push(Reply::new(flow.privacy.notice.clone()));
        *asking = Ask::AcceptPrivacy;
        out.replies.push(yes_no(Reply::new("ask-accept-privacy")));
        return;
    }
    let (goal, given, pending) = (*goal, std::mem::take(given), pending_question.take());
    c.fields.extend(std::mem::take(draft));
    match goal {
        Goal::Subscribe => complete_subscription(flow, c, given, "text", inbound, now, out),
        Goal::FirstContact => {
            for g in given {
                out.events.push(Event::ConsentGiven(g.clone()));
                c.consents.push(g);
            }
            c.state = c.at_rest();
            out.replies.push(Reply::new(flow.message("registered")));
            out.replies.push(
                Reply::new(flow.message("offer-subscribe")).button(Action::Subscribe.as_str(), "button-subscribe"),
            );
        }
    }
    // The question asked before registering: the FAQ first, as for any question.
    if let Some(text) = pending {
        super::desk::ask(faq, c, flow, &text, now, out);
    }
}

/// Shows the privacy notice and asks for its acceptance (consent = "accept").
pub(super) fn ask_accept(flow: &Flow, c: &mut Citizen, goal: Goal, out: &mut Outcome) {
    out.replies.push(Reply::new(flow.privacy.notice.clone()));
    out.replies.push(yes_no(Reply::new("ask-accept-privacy")));
    c.state = State::Registering {
        goal,
        asking: Ask::AcceptPrivacy,
        draft: c.fields.clone(),
        given: Vec::new(),
        pending_question: None,
        refused: None,
    };
}

/// Handles the answer to the step being asked.
pub(super) fn answer(
    flow: &Flow,
    faq: Option<&Faq>,
    c: &mut Citizen,
    answer: Answer,
    inbound: &Inbound,
    now: Timestamp,
    out: &mut Outcome,
) {
    let State::Registering {
        asking,
        draft,
        given,
        refused,
        ..
    } = &mut c.state
    else {
        return;
    };
    let last_refusal = refused.take();
    match (asking.clone(), answer) {
        (Ask::Field(_), Answer::NonText) | (Ask::Consent(_) | Ask::AcceptPrivacy, Answer::NonText) => {
            out.replies.push(Reply::new(flow.message("please-write-text")));
            reask(flow, c, out);
        }
        (Ask::Field(key), Answer::Text(t)) => {
            let field = Field::from_key(&key).unwrap_or(Field::FullName);
            let one_shot = flow.registration.as_ref().is_some_and(|r| r.one_shot);
            // A whole registration line typed at the first step is read as one.
            if one_shot && field == Field::FullName && text::find_date(t, today(now)).is_some() {
                let (mut d, mut g) = (draft.clone(), given.clone());
                fill_one_shot(flow, t, &mut d, &mut g, inbound, now, out);
                (*draft, *given) = (d, g);
                return advance(flow, faq, c, inbound, now, out);
            }
            match check(flow, field, t, now) {
                Ok(v) => {
                    draft.insert(key, v);
                    advance(flow, faq, c, inbound, now, out);
                }
                Err(reply) => {
                    // The reason once; the same reason right again: only the question.
                    if last_refusal.as_deref() != Some(reply.key.as_str()) {
                        *refused = Some(reply.key.clone());
                        out.replies.push(reply);
                    } else {
                        *refused = last_refusal;
                    }
                    reask(flow, c, out);
                }
            }
        }
        (Ask::Field(_), Answer::Yes | Answer::No) => {
            out.replies.push(Reply::new("invalid-name"));
            reask(flow, c, out);
        }
        (Ask::Consent(_) | Ask::AcceptPrivacy, Answer::Yes) => {
            let kind = match asking {
                Ask::Consent(id) => id.clone(),
                _ => "privacy".to_string(),
            };
            let how = if matches!(inbound.body, crate::message::Body::Button { .. }) {
                "button"
            } else {
                "text"
            };
            given.push(Consent {
                kind,
                notice_version: flow.privacy.version.clone(),
                at: now,
                message_id: inbound.id.clone(),
                how: how.into(),
            });
            advance(flow, faq, c, inbound, now, out);
        }
        (Ask::Consent(_) | Ask::AcceptPrivacy, Answer::No) => {
            out.replies.push(Reply::new("consent-required"));
            // A desk's first-contact data was given for the desk, not only for the list.
            if flow
                .registration
                .as_ref()
                .is_some_and(|r| r.when == RegistrationWhen::FirstContact)
            {
                let draft = std::mem::take(draft);
                c.fields.extend(draft);
            }
            c.state = c.at_rest();
        }
        (Ask::Consent(_) | Ask::AcceptPrivacy, Answer::Text(_)) => {
            out.replies.push(Reply::new("please-answer-yes-no"));
            reask(flow, c, out);
        }
    }
}

/// Repeats the question of the current step (after an error or an interruption).
pub(super) fn reask(flow: &Flow, c: &Citizen, out: &mut Outcome) {
    let State::Registering { asking, .. } = &c.state else {
        return;
    };
    let reply = match asking {
        Ask::Field(key) => ask_field(key),
        Ask::Consent(id) => {
            let ask = flow
                .registration
                .as_ref()
                .and_then(|r| r.consents.iter().find(|s| &s.id == id))
                .map(|s| s.ask.clone())
                .unwrap_or_else(|| "ask-accept-privacy".into());
            yes_no(Reply::new(ask))
        }
        Ask::AcceptPrivacy => yes_no(Reply::new("ask-accept-privacy")),
    };
    out.replies.push(reply);
}

fn ask_field(key: &str) -> Reply {
    Reply::new(format!("ask-{}", key.replace('_', "-")))
}

fn yes_no(reply: Reply) -> Reply {
    reply
        .button(Action::Yes.as_str(), "button-yes")
        .button(Action::No.as_str(), "button-no")
}

fn name_error(e: NameError) -> Reply {
    Reply::new(match e {
        NameError::Empty => "invalid-name-empty",
        NameError::Numeric => "invalid-name-numeric",
        NameError::TooLong => "invalid-name-too-long",
        NameError::Invalid => "invalid-name",
    })
}

fn date_error(e: DateError) -> Reply {
    Reply::new(match e {
        DateError::Impossible => "invalid-date-impossible",
        DateError::Unreadable => "invalid-date-format",
    })
}

fn check_name(flow: &Flow, answer: &str, min: usize, max: usize) -> Result<String, Reply> {
    text::intent::check_name(answer, &flow.lexicons, min, max).map_err(|e| match e {
        NameProblem::Chars(e) => name_error(e),
        NameProblem::Sentence => Reply::new("invalid-name-sentence"),
        NameProblem::TooFew if min >= 2 => Reply::new("invalid-full-name-one-word"),
        NameProblem::TooFew => Reply::new("invalid-name"),
    })
}

/// Checks one answer; returns the value to store or the reply explaining the problem.
pub fn check(flow: &Flow, field: Field, answer: &str, now: Timestamp) -> Result<String, Reply> {
    match field {
        // A name is one to three name-like words (a full name two to five), not a sentence,
        // a question or a greeting; "mi chiamo Mario" is Mario.
        Field::FullName => check_name(flow, answer, 2, 5),
        Field::FirstName | Field::LastName => check_name(flow, answer, 1, 3),
        Field::BirthPlace => text::check_place(answer).map_err(|e| match e {
            NameError::Empty => Reply::new("invalid-place-empty"),
            _ => Reply::new("invalid-place"),
        }),
        Field::BirthDate => {
            let today = today(now);
            let date = text::parse_date(answer, today).map_err(date_error)?;
            if date > today {
                return Err(Reply::new("invalid-date-future"));
            }
            let age = text::age_on(date, today);
            if let Some(min) = flow.min_age {
                if age < i16::from(min) {
                    return Err(Reply::new("under-age").num("min_age", i64::from(min)));
                }
            }
            if age > MAX_AGE {
                return Err(Reply::new("invalid-date-too-old"));
            }
            Ok(date.to_string())
        }
    }
}
