//! What only a two-way desk does in a step: moderation of what citizens write, answers
//! from the comune's FAQ, questions handed to people with their deadline. Pure, like the
//! rest of the engine; called by `step`.

use jiff::Timestamp;

use super::step::{Event, Outcome};
use crate::faq::{Answer as FaqAnswer, Entry as FaqEntry, Faq};
use crate::flow::Flow;
use crate::message::{Body, Inbound, Reply};
use crate::moderation::{self, Policy, Rule, Verdict};
use crate::storage::records::{Citizen, State};

/// Checks a desk message against the comune's moderation; on a violation the message is
/// withheld, the citizen told which rule, a strike counted and, when grave or one strike
/// too many, the citizen blocked. Returns whether the message was stopped.
pub(super) fn moderated(
    flow: &Flow,
    policy: Option<&Policy>,
    c: &mut Citizen,
    text: &str,
    own_data_step: bool,
    out: &mut Outcome,
) -> bool {
    let (Some(policy), Some(m)) = (policy, &flow.moderation) else {
        return false;
    };
    let lang = match c.language.as_deref().unwrap_or(flow.default_language()) {
        "fr" => moderation::Lang::Fr,
        _ => moderation::Lang::It,
    };
    let settings = moderation::Settings {
        grave: m.grave.clone(),
        own_data_step,
        enabled: true,
    };
    let verdict = policy.check(text, lang, &settings);
    let Some(rule) = verdict.rule.filter(|_| verdict.verdict != Verdict::Allow) else {
        return false;
    };
    // A citizen's own name or birthplace may be a word of the lexicons (Bastardi, Troia and
    // Cazzola are real surnames): while their own data is asked, only grave rules apply.
    if own_data_step && !(m.grave.contains(&rule) || rule == Rule::Hate) {
        return false;
    }
    c.strikes += 1;
    let blocked = verdict.verdict == Verdict::Block || c.strikes >= m.strikes_to_block;
    let rule_msg = format!("rule-{}", rule.name());
    if blocked {
        c.state = State::Blocked {
            reason: rule.name().to_string(),
        };
        // This reply is the one notice a blocked citizen gets.
        c.blocked_notice_sent = true;
        out.replies.push(Reply::new("moderation-blocked").msg("rule", rule_msg));
    } else {
        out.replies.push(
            Reply::new("moderation-withheld")
                .msg("rule", rule_msg)
                .num("strikes_left", i64::from(m.strikes_to_block - c.strikes)),
        );
    }
    out.events.push(Event::Moderated {
        rule,
        verdict: verdict.verdict,
        text: text.to_string(),
        spans: verdict.spans,
        blocked,
    });
    true
}

/// A question: answered from the comune's FAQ when it is sure (or the closest entries
/// offered, or an out-of-scope request pointed to its channel), else handed to staff. When
/// it is handed over, the citizen is told when the answer is due and is not left with
/// nothing meanwhile: the entries that come closest as buttons, or, when none does, the
/// office's contacts.
pub(super) fn ask(faq: Option<&Faq>, c: &Citizen, flow: &Flow, text: &str, now: Timestamp, out: &mut Outcome) {
    let mut meanwhile = None;
    if !answered_by_faq(faq, c, flow, text, &mut meanwhile, out) {
        question(flow, text, now, out);
        out.replies.extend(meanwhile);
    }
}

/// Answers from the FAQ when it can; returns false to hand the question to staff, with
/// `meanwhile` the help to send after telling the citizen so.
fn answered_by_faq(
    faq: Option<&Faq>,
    c: &Citizen,
    flow: &Flow,
    text: &str,
    meanwhile: &mut Option<Reply>,
    out: &mut Outcome,
) -> bool {
    let Some(faq) = faq else { return false };
    let lang = c.language.as_deref().unwrap_or(flow.default_language());
    match faq.ask(text, lang) {
        FaqAnswer::Entry { entry, .. } if !entry.placeholder => {
            faq_reply(entry, out);
            out.events.push(Event::FaqServed {
                entry: entry.id.clone(),
                picked: false,
            });
        }
        FaqAnswer::Choices(choices) => {
            let reply = buttons(Reply::new("faq-choices"), &choices);
            if reply.buttons.is_empty() {
                return false;
            }
            out.replies.push(reply);
        }
        FaqAnswer::OutOfScope { redirect, .. } => out
            .replies
            .push(Reply::new("faq-out-of-scope").arg("redirect", redirect)),
        FaqAnswer::Abstain { suggestions, .. } => {
            let reply = buttons(Reply::new("faq-suggestions"), &suggestions);
            *meanwhile = if reply.buttons.is_empty() {
                contacts(flow)
            } else {
                Some(reply)
            };
            return false;
        }
        // The answer is still a placeholder: a person answers.
        FaqAnswer::Entry { .. } => return false,
    }
    true
}

/// `reply` with a button for each entry (at most three, placeholders left out).
fn buttons(mut reply: Reply, entries: &[(&FaqEntry, f32)]) -> Reply {
    for (entry, _) in entries.iter().filter(|(e, _)| !e.placeholder).take(3) {
        let title = entry.questions.first().cloned().unwrap_or_else(|| entry.id.clone());
        reply = reply.data_button(format!("faq:{}", entry.id), title);
    }
    reply
}

/// The office's phone, e-mail and address from the flow's contacts, when it has any.
fn contacts(flow: &Flow) -> Option<Reply> {
    let get = |k: &str| flow.contacts.get(k).cloned();
    let (phone, email, office) = (get("phone"), get("email"), get("office"));
    if phone.is_none() && email.is_none() && office.is_none() {
        return None;
    }
    let none = || "none".to_string();
    Some(
        Reply::new("faq-contacts")
            .arg("phone", phone.unwrap_or_else(none))
            .arg("email", email.unwrap_or_else(none))
            .arg("office", office.unwrap_or_else(none)),
    )
}

pub(super) fn faq_reply(entry: &FaqEntry, out: &mut Outcome) {
    let reply = Reply::new(if entry.link.is_some() {
        "faq-answer-link"
    } else {
        "faq-answer"
    })
    .arg("answer", entry.answer.trim());
    out.replies.push(match &entry.link {
        Some(link) => reply.arg("link", link.clone()),
        None => reply,
    });
}

/// What the citizen sent, as the staff will read it: the text, or the kind of what it was.
pub(super) fn text_of(inbound: &Inbound) -> String {
    match &inbound.body {
        Body::Text { text } => text.clone(),
        Body::Button { id } => format!("[{id}]"),
        Body::Media { media } => format!("[{media}]"),
        Body::Location => "[location]".into(),
        Body::Contacts => "[contacts]".into(),
        Body::Reaction => "[reaction]".into(),
        Body::Event => "[event]".into(),
        Body::Unsupported => "[unsupported]".into(),
    }
}

/// When an answer asked at `now` is due: the flow's working days after it, in office hours.
pub fn deadline(flow: &Flow, now: Timestamp) -> Option<jiff::Zoned> {
    match (&flow.hours, flow.answer_within_working_days) {
        (Some(hours), Some(days)) => Some(hours.deadline(now, days)),
        _ => None,
    }
}

/// Records a question for the staff and tells the citizen when the answer is due.
pub(super) fn question(flow: &Flow, text: &str, now: Timestamp, out: &mut Outcome) {
    out.events.push(Event::Question { text: text.to_string() });
    let mut reply = Reply::new(flow.message("question-received"));
    if let (Some(hours), Some(due)) = (&flow.hours, deadline(flow, now)) {
        reply = reply
            .arg("deadline_date", due.strftime("%d/%m/%Y").to_string())
            .arg("deadline_time", due.strftime("%H:%M").to_string())
            .num("open", hours.is_open(now) as i64);
        if let Some(next) = hours.next_open(now) {
            reply = reply
                .arg("reopen_date", next.strftime("%d/%m/%Y").to_string())
                .arg("reopen_time", next.strftime("%H:%M").to_string());
        }
    }
    out.replies.push(reply);
}
