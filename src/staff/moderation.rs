//! The moderation review queue: staff confirm, dismiss or report a withheld message, and
//! export a case as a record for the authorities.

use clap::ValueEnum;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::dialogue::{Reply, State};
use crate::service::runner::Engine;
use crate::storage::{AuditEntry, CaseStatus, ModerationCase, StoreError};

/// A staff decision on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Confirm,
    /// The message was acceptable: the strike is taken back, and the block it caused lifted.
    Dismiss,
    /// Confirmed and handed to the authorities.
    Report,
}

/// Errors of the review boundary.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no moderation case {0} in comune {1}")]
    NoSuchCase(u64, String),
    #[error("case {0} was already decided ({1:?})")]
    AlreadyDecided(u64, CaseStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn load(engine: &Engine, comune: &str, id: u64) -> Result<ModerationCase, ReviewError> {
    match engine.store.case(id)? {
        Some(c) if c.key.comune == comune => Ok(c),
        _ => Err(ReviewError::NoSuchCase(id, comune.to_string())),
    }
}

/// Applies a decision and audits it; a report may follow a confirmation, nothing else is
/// changed twice. The console runs it in the citizen's lane (`console::case_pages`).
pub fn decide(
    engine: &Engine,
    comune: &str,
    id: u64,
    decision: Decision,
    by: &str,
    note: Option<String>,
    now: Timestamp,
) -> Result<ModerationCase, ReviewError> {
    let mut case = load(engine, comune, id)?;
    let allowed =
        case.status == CaseStatus::Pending || (case.status == CaseStatus::Confirmed && decision == Decision::Report);
    if !allowed {
        return Err(ReviewError::AlreadyDecided(id, case.status));
    }
    case.status = match decision {
        Decision::Confirm => CaseStatus::Confirmed,
        Decision::Dismiss => CaseStatus::Dismissed,
        Decision::Report => CaseStatus::Reported,
    };
    case.decided_by = Some(by.to_string());
    case.decided_at = Some(now);
    if note.is_some() {
        case.note = note;
    }
    if decision == Decision::Dismiss {
        if let Some(mut c) = engine.store.citizen(&case.key)? {
            c.strikes = c.strikes.saturating_sub(1);
            let blocked_by_this =
                matches!(&c.state, State::Blocked { reason } if case.blocked && reason == case.rule.name());
            if blocked_by_this {
                let still_subscribed = c.subscribed_at.is_some() && c.unsubscribed_at.is_none();
                c.state = if still_subscribed {
                    State::Subscribed
                } else {
                    State::New
                };
                c.blocked_notice_sent = false;
            }
            engine.store.put_citizen(&case.key, &c)?;
        }
    }
    engine.store.put_case(id, &case)?;
    engine.store.append_audit(&AuditEntry {
        at: now,
        actor: by.to_string(),
        comune: comune.to_string(),
        // As the command line spells it (clap's names): confirm, dismiss, report.
        action: format!(
            "moderation-{}",
            decision
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
        ),
        detail: format!("case {id}"),
    })?;
    engine.store.flush()?;
    Ok(case)
}

/// A case as handed to the authorities: who, when, what, which rule, and the decision.
#[derive(Debug, Serialize)]
pub struct Report {
    pub comune: String,
    pub comune_name: String,
    pub case: u64,
    pub channel: String,
    /// The sender as the channel identifies them (phone number for WhatsApp).
    pub sender: String,
    pub sender_name: Option<String>,
    pub received_at: String,
    pub rule: String,
    pub rule_description: String,
    pub message: String,
    /// The parts of the message that broke the rule.
    pub excerpts: Vec<String>,
    pub status: CaseStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub note: Option<String>,
    pub contacts: std::collections::BTreeMap<String, String>,
}

/// The exportable record of a case (Italian time, the comune's default language).
pub fn export(engine: &Engine, comune: &str, id: u64) -> Result<Report, ReviewError> {
    let case = load(engine, comune, id)?;
    let flow = engine
        .flows
        .get(comune)
        .ok_or_else(|| ReviewError::NoSuchCase(id, comune.to_string()))?;
    let lang = flow.default_language();
    let text = |key: &str| engine.locales.render(flow, lang, &Reply::new(key)).text;
    let rome = jiff::tz::TimeZone::get("Europe/Rome").unwrap_or(jiff::tz::TimeZone::UTC);
    let local = |t: Timestamp| t.to_zoned(rome.clone()).strftime("%Y-%m-%d %H:%M:%S %Z").to_string();
    let citizen = engine.store.citizen(&case.key)?;
    let sender_name = citizen.as_ref().and_then(|c| {
        c.fields.get("full_name").cloned().or_else(|| {
            let parts: Vec<&str> = ["first_name", "last_name"]
                .iter()
                .filter_map(|k| c.fields.get(*k).map(String::as_str))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    });
    Ok(Report {
        comune: comune.to_string(),
        comune_name: text(&flow.name),
        case: id,
        channel: case.key.channel.clone(),
        sender: case.key.citizen.clone(),
        sender_name,
        received_at: local(case.at),
        rule: case.rule.name().to_string(),
        rule_description: text(&format!("rule-{}", case.rule.name())),
        excerpts: case.spans.iter().map(|s| s.text.clone()).collect(),
        message: case.text.clone(),
        status: case.status,
        decided_by: case.decided_by.clone(),
        decided_at: case.decided_at.map(local),
        note: case.note.clone(),
        contacts: flow.contacts.clone(),
    })
}

/// The review queue as the command line works it (`sportello moderation
/// queue|decide|export`): run on the store by the CLI, or, while `serve` holds the data
/// directory, by its admin endpoint (a decision in the citizen's lane).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Call {
    /// The cases waiting for a decision (`all`: every case), one JSON object each.
    Queue {
        comune: String,
        all: bool,
    },
    Decide {
        comune: String,
        case: u64,
        decision: Decision,
        by: String,
        note: Option<String>,
    },
    Export {
        comune: String,
        case: u64,
    },
}

/// What the command prints from.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub enum Answer {
    Queue { cases: Vec<serde_json::Value> },
    Decided { case: u64, status: CaseStatus },
    Exported { record: serde_json::Value },
}

impl Call {
    /// The case a decision is about, to find the citizen's lane.
    pub fn decided_case(&self) -> Option<u64> {
        match self {
            Call::Decide { case, .. } => Some(*case),
            _ => None,
        }
    }
}

/// Runs `call` on the engine's store.
pub fn run(engine: &Engine, call: Call, now: Timestamp) -> Result<Answer, ReviewError> {
    Ok(match call {
        Call::Queue { comune, all } => Answer::Queue {
            cases: engine
                .store
                .cases(&comune)?
                .into_iter()
                .filter(|(_, case)| all || case.status == CaseStatus::Pending)
                .map(|(id, case)| {
                    serde_json::json!({
                        "id": id, "channel": case.key.channel, "citizen": case.key.citizen,
                        "rule": case.rule, "verdict": case.verdict, "text": case.text,
                        "at": case.at, "blocked": case.blocked, "status": case.status,
                        "decided_by": case.decided_by,
                    })
                })
                .collect(),
        },
        Call::Decide {
            comune,
            case,
            decision,
            by,
            note,
        } => Answer::Decided {
            case,
            status: decide(engine, &comune, case, decision, &by, note, now)?.status,
        },
        Call::Export { comune, case } => Answer::Exported {
            record: serde_json::to_value(export(engine, &comune, case)?)
                .map_err(|e| StoreError::Task(e.to_string()))?,
        },
    })
}

impl ReviewError {
    /// The HTTP status of the admin endpoint that reports it.
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            ReviewError::NoSuchCase(..) => axum::http::StatusCode::NOT_FOUND,
            ReviewError::AlreadyDecided(..) => axum::http::StatusCode::CONFLICT,
            ReviewError::Store(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}
