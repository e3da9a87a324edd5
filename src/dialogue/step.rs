//! The pure step function: (flow, stored citizen, inbound, now) -> (next record, replies).
//!
//! No I/O, no clock, no text: the caller loads and stores the record and renders the
//! replies. The order of precedence is deliberate: unsubscribe works in every state (even
//! blocked, even in the middle of a registration), then language and information keywords,
//! then what the current state expects.

use jiff::Timestamp;

use super::desk::{ask, deadline, faq_reply, moderated, text_of};
use super::input::{interpret, language_of, Input};
use super::membership::{confirm_leave, is_subscribed, subscribe, unsubscribe};
use super::register;
use crate::faq::Faq;
use crate::flow::{Action, Flow, Mode, OnUnsubscribe, RegistrationWhen};
use crate::message::{Body, Inbound, Reply};
use crate::moderation::{Policy, Rule, Span, Verdict};
use crate::storage::records::{Citizen, Confirm, Consent, Goal, State};
use crate::text::{Match, Position, Understanding};

/// How long the "this number does not answer" notice stays quiet after being sent.
const NOTICE_QUIET_SECONDS: i64 = 24 * 3600;

/// What happened, for the layers above (inbox, ledger, statistics).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Subscribed,
    /// The citizen unsubscribed; the flow's policy has been applied to the returned record.
    Unsubscribed {
        policy: OnUnsubscribe,
    },
    ConsentGiven(Consent),
    /// The citizen withdrew their consent (unsubscribed).
    ConsentWithdrawn(Consent),
    /// A subscriber was shown the current privacy notice after it changed.
    NoticeSeen {
        version: String,
        message_id: String,
    },
    /// A question for the staff (desk comuni).
    Question {
        text: String,
    },
    /// The citizen asked for a person.
    Handoff {
        text: String,
    },
    /// A message to the operator who holds the conversation (the bot stays silent).
    ToStaff {
        text: String,
    },
    /// The FAQ served an entry: answered with it (`picked` false) or the citizen tapped it
    /// among the buttons offered. Counted anonymously per entry, nothing else kept.
    FaqServed {
        entry: String,
        picked: bool,
    },
    /// A message broke a moderation rule: withheld from the inbox, queued for staff review.
    Moderated {
        rule: Rule,
        verdict: Verdict,
        text: String,
        spans: Vec<Span>,
        blocked: bool,
    },
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The record to store; `None` means erase it (the comune's policy on unsubscribe).
    pub citizen: Option<Citizen>,
    pub replies: Vec<Reply>,
    pub events: Vec<Event>,
    /// The language the replies are to be rendered in.
    pub language: String,
}

/// One step of the dialogue without moderation. `prior` is the stored record (`None` for a
/// first message).
pub fn step(flow: &Flow, prior: Option<&Citizen>, inbound: &Inbound, now: Timestamp) -> Outcome {
    step_with(flow, Aids::default(), prior, inbound, now)
}

/// What the engine consults besides the flow: the moderation policy and the comune's FAQ.
#[derive(Default, Clone, Copy)]
pub struct Aids<'a> {
    pub policy: Option<&'a Policy>,
    pub faq: Option<&'a Faq>,
}

/// One step, with the moderation policy and FAQ of the comune.
pub fn step_with(flow: &Flow, aids: Aids, prior: Option<&Citizen>, inbound: &Inbound, now: Timestamp) -> Outcome {
    let mut c = prior.cloned().unwrap_or_else(|| Citizen::new(now));
    c.last_inbound = now;
    let (input, understanding) = interpret(flow, &inbound.body);
    if let Some(lang) = language_of(flow, &inbound.body, &input, understanding.as_ref(), &c) {
        c.language = Some(lang);
    }
    let language = c
        .language
        .clone()
        .unwrap_or_else(|| flow.default_language().to_string());
    let mut out = Outcome {
        citizen: None,
        replies: Vec::new(),
        events: Vec::new(),
        language,
    };
    notice_update(flow, &mut c, &input, inbound, &mut out);
    let policy = aids.policy.filter(|_| flow.moderation.is_some());
    let keep = dispatch(
        flow,
        policy,
        aids.faq,
        &mut c,
        input,
        understanding.as_ref(),
        inbound,
        now,
        &mut out,
    );
    out.citizen = keep.then_some(c);
    out
}

/// Runs the input against the state; returns whether the record is kept.
#[allow(clippy::too_many_arguments)]
fn dispatch(
    flow: &Flow,
    policy: Option<&Policy>,
    faq: Option<&Faq>,
    c: &mut Citizen,
    input: Input,
    understanding: Option<&Understanding>,
    inbound: &Inbound,
    now: Timestamp,
    out: &mut Outcome,
) -> bool {
    let registering = matches!(c.state, State::Registering { .. });
    // The answer to "do you really want to leave?": yes leaves, no keeps; anything else is
    // read as a new message.
    let input = match (c.confirming.take(), input, &inbound.body) {
        (Some(Confirm::Leave), Input::Action(Action::Yes, _), _) => Input::Action(Action::Unsubscribe, None),
        (Some(Confirm::Leave), Input::Action(Action::No, _) | Input::Stay, _) => {
            out.replies.push(Reply::new("leave-kept"));
            return true;
        }
        // At a desk, someone not subscribed asking how to leave is asking a question.
        (_, Input::Leave { asked: true }, Body::Text { text }) if flow.mode == Mode::Desk && !is_subscribed(c) => {
            Input::Text(text)
        }
        (_, input, _) => input,
    };
    match input {
        Input::Ignore => return prior_exists(c),
        Input::Action(Action::Unsubscribe, _) => return unsubscribe(flow, c, now, inbound, out),
        // Someone trying to leave is always answered, even while an operator holds the
        // conversation or the number is blocked.
        Input::Leave { .. } => return confirm_leave(flow, c, out),
        // The comune's commands work in every state: in a registration step (which is asked
        // again after), while an operator holds the conversation, and when blocked (the
        // privacy notice and one's own data are rights, not conversation). An operator who
        // holds the conversation still sees what was written.
        Input::Action(action @ (Action::Language | Action::Privacy | Action::MyData), _) => {
            if c.held_by.is_some() {
                out.events.push(Event::ToStaff { text: text_of(inbound) });
            }
            match action {
                Action::Language => out.replies.push(Reply::new("language-set")),
                Action::Privacy => out.replies.push(Reply::new(flow.privacy.notice.clone())),
                _ => my_data(flow, c, out),
            }
            register::reask(flow, c, out);
            return true;
        }
        // An operator holds the conversation: the bot is silent, the words go to them (after
        // moderation, which still applies).
        _ if c.held_by.is_some() && !matches!(c.state, State::Blocked { .. }) => {
            let text = text_of(inbound);
            if !moderated(flow, policy, c, &text, false, out) {
                out.events.push(Event::ToStaff { text });
            }
            return true;
        }
        _ if matches!(c.state, State::Blocked { .. }) => {
            if !c.blocked_notice_sent {
                c.blocked_notice_sent = true;
                out.replies.push(Reply::new(flow.message("blocked")));
            }
            return true;
        }
        Input::Ambiguous => {
            out.replies.push(
                Reply::new("keyword-ambiguous")
                    .button(Action::Subscribe.as_str(), "button-subscribe")
                    .button(Action::Unsubscribe.as_str(), "button-unsubscribe"),
            );
            return true;
        }
        Input::Action(Action::Subscribe, m) if !registering || is_restart(&m) => {
            subscribe(flow, faq, c, m, inbound, now, out);
            return true;
        }
        // "Non voglio cancellarmi": the subscription stays, and the citizen is told so.
        Input::Stay if is_subscribed(c) => {
            out.replies.push(Reply::new("unsubscribe-negated"));
            register::reask(flow, c, out);
            return true;
        }
        // "Non voglio iscrivermi": never consent; a registration for the list stops.
        Input::Refuse if !is_subscribed(c) => {
            out.replies.push(Reply::new("subscribe-negated"));
            if matches!(
                c.state,
                State::Registering {
                    goal: Goal::Subscribe,
                    ..
                }
            ) {
                c.state = c.at_rest();
            } else {
                register::reask(flow, c, out);
            }
            return prior_exists(c);
        }
        Input::Join if c.state == State::Subscribed => {
            out.replies.push(Reply::new(flow.message("already-subscribed")));
            return true;
        }
        Input::Join if !registering => {
            out.replies
                .push(Reply::new("subscribe-offer").button(Action::Subscribe.as_str(), "button-subscribe"));
            return prior_exists(c);
        }
        // A person asked for in the middle of a desk's registration: handed over, and the
        // step stays where it was.
        Input::Action(Action::Operator, _) if registering && flow.mode == Mode::Desk => {
            handoff(flow, inbound, now, out);
            register::reask(flow, c, out);
            return true;
        }
        _ => {}
    }
    if registering {
        if let Input::Text(t) = &input {
            if moderated(flow, policy, c, t, true, out) {
                return true;
            }
        }
        // A keyword typed in a step (not a button) is still an answer to it.
        let text = match &inbound.body {
            Body::Text { text } => Some(text.as_str()),
            _ => None,
        };
        let answer = match input {
            Input::Action(Action::Greeting, Some(m)) if m.position == Position::Whole => {
                register::reask(flow, c, out);
                return true;
            }
            Input::Action(Action::Yes, _) => register::Answer::Yes,
            Input::Action(Action::No, _) => register::Answer::No,
            _ => match text {
                Some(t) => register::Answer::Text(t),
                None => register::Answer::NonText,
            },
        };
        register::answer(flow, faq, c, answer, inbound, now, out);
        return true;
    }
    // Outside a confirmation step, "sì" or "ok" is just text (or thanks, when that is all
    // it says); what was refused or asked of a broadcast number gets its usual notice.
    let social = understanding.and_then(|u| u.social);
    let input = match (input, &inbound.body) {
        (Input::Action(Action::Yes | Action::No, _), _) if social == Some(Action::Thanks) => Input::Thanks,
        (Input::Action(Action::Yes | Action::No, _), Body::Text { text }) => Input::Text(text),
        (Input::Action(Action::Yes | Action::No, _), _) => Input::NonText,
        (Input::Stay | Input::Refuse | Input::Join, Body::Text { text }) => Input::Text(text),
        (input, _) => input,
    };
    match input {
        // A person asked for: handed over at once, even in the very first message (then the
        // first contact's data is asked too, as when it comes in the middle of it).
        Input::Action(Action::Operator, _) if flow.mode == Mode::Desk => {
            handoff(flow, inbound, now, out);
            if needs_first_contact(flow, c) {
                register::start(flow, faq, c, Goal::FirstContact, None, None, inbound, now, out);
            }
        }
        // Thanks and closings: a short answer, not the whole notice again.
        Input::Thanks if flow.mode == Mode::Desk => out.replies.push(Reply::new("desk-thanks")),
        Input::AboutBot if flow.mode == Mode::Desk => out.replies.push(Reply::new("desk-about-bot")),
        Input::Action(Action::Greeting, Some(m)) if flow.mode == Mode::Desk && m.position == Position::Whole => {
            if needs_first_contact(flow, c) {
                out.replies.push(Reply::new(flow.message("welcome")));
                register::start(flow, faq, c, Goal::FirstContact, None, None, inbound, now, out);
            } else {
                out.replies.push(Reply::new(flow.message("greeting")));
            }
        }
        // A greeting followed by a question is a question.
        Input::Action(Action::Greeting, _) | Input::Text(_) if flow.mode == Mode::Desk => {
            let text = match &inbound.body {
                Body::Text { text } => text.as_str(),
                _ => "",
            };
            if moderated(flow, policy, c, text, false, out) {
                return true;
            }
            if needs_first_contact(flow, c) {
                out.replies.push(Reply::new(flow.message("welcome")));
                register::start(
                    flow,
                    faq,
                    c,
                    Goal::FirstContact,
                    None,
                    Some(text.to_string()),
                    inbound,
                    now,
                    out,
                );
            } else {
                ask(faq, c, flow, text, now, out);
            }
        }
        Input::FaqPick(id) if flow.mode == Mode::Desk => {
            let lang = c.language.as_deref().unwrap_or(flow.default_language());
            match faq.and_then(|f| {
                f.entries()
                    .iter()
                    .find(|e| e.id == id && e.lang == lang)
                    .or_else(|| f.entries().iter().find(|e| e.id == id))
            }) {
                Some(entry) if !entry.placeholder => {
                    faq_reply(entry, out);
                    out.events.push(Event::FaqServed {
                        entry: entry.id.clone(),
                        picked: true,
                    });
                }
                _ => out.replies.push(Reply::new(flow.message("please-write-text"))),
            }
        }
        Input::NonText if flow.mode == Mode::Desk => {
            if needs_first_contact(flow, c) {
                out.replies.push(Reply::new(flow.message("welcome")));
                register::start(flow, faq, c, Goal::FirstContact, None, None, inbound, now, out);
            } else {
                out.replies.push(Reply::new(flow.message("please-write-text")));
            }
        }
        _ => {
            // Broadcast-only and one-way numbers: one notice a day, never a conversation.
            let quiet = c
                .last_notice
                .is_some_and(|t| now.as_second() - t.as_second() < NOTICE_QUIET_SECONDS);
            if !quiet {
                c.last_notice = Some(now);
                out.replies.push(Reply::new(flow.message("other")));
            }
        }
    }
    true
}

/// Hands the conversation to a person, telling the citizen by when they will answer.
fn handoff(flow: &Flow, inbound: &Inbound, now: Timestamp, out: &mut Outcome) {
    out.events.push(Event::Handoff { text: text_of(inbound) });
    out.replies.push(match deadline(flow, now) {
        Some(due) => Reply::new("operator-requested-due")
            .arg("deadline_date", due.strftime("%d/%m/%Y").to_string())
            .arg("deadline_time", due.strftime("%H:%M").to_string()),
        None => Reply::new("operator-requested"),
    });
}

/// A subscriber who consented to an older privacy notice is shown the new one, once, the
/// next time they write (unless they are leaving); the ledger records that they saw it.
fn notice_update(flow: &Flow, c: &mut Citizen, input: &Input, inbound: &Inbound, out: &mut Outcome) {
    let version = &flow.privacy.version;
    let consented = c
        .consents
        .iter()
        .rev()
        .find(|k| k.kind == "privacy")
        .map(|k| &k.notice_version);
    let outdated = c.state == State::Subscribed && consented.is_some_and(|v| v != version);
    if !outdated
        || c.notice_seen.as_ref() == Some(version)
        || matches!(input, Input::Action(Action::Unsubscribe, _) | Input::Ignore)
    {
        return;
    }
    c.notice_seen = Some(version.clone());
    out.replies.push(Reply::new("privacy-notice-updated"));
    out.replies.push(Reply::new(flow.privacy.notice.clone()));
    out.events.push(Event::NoticeSeen {
        version: version.clone(),
        message_id: inbound.id.clone(),
    });
}

/// A reaction from an unknown citizen leaves no record behind.
pub(super) fn prior_exists(c: &Citizen) -> bool {
    c.first_seen != c.last_inbound
        || !matches!(c.state, State::New)
        || c.last_notice.is_some()
        || c.is_registered()
        || !c.consents.is_empty()
}

/// While registering, only a subscribe keyword followed by data (Isili's one-shot line)
/// restarts the registration; the bare keyword is taken as "where was I?".
fn is_restart(m: &Option<Match<Action>>) -> bool {
    m.as_ref().is_some_and(|m| m.position == Position::Prefix)
}

fn needs_first_contact(flow: &Flow, c: &Citizen) -> bool {
    flow.registration
        .as_ref()
        .is_some_and(|r| r.when == RegistrationWhen::FirstContact)
        && !c.is_registered()
}

fn my_data(flow: &Flow, c: &Citizen, out: &mut Outcome) {
    let lang = c
        .language
        .clone()
        .unwrap_or_else(|| flow.default_language().to_string());
    out.replies.push(
        Reply::new("my-data")
            .msg("status", format!("status-{}", c.status()))
            .msg("language", format!("language-called-{lang}"))
            .num(
                "consents",
                c.consents.iter().filter(|k| k.kind != "withdrawal").count() as i64,
            )
            .arg("since", c.first_seen.strftime("%d/%m/%Y").to_string()),
    );
    for (key, value) in &c.fields {
        // Dates are kept as ISO 8601 and read as Italians and the French write them.
        let shown = value
            .parse::<jiff::civil::Date>()
            .map(|d| d.strftime("%d/%m/%Y").to_string())
            .unwrap_or_else(|_| value.clone());
        out.replies.push(
            Reply::new("my-data-field")
                .msg("label", format!("field-{key}"))
                .arg("value", shown),
        );
    }
}
