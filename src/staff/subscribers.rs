//! A comune's subscribers for its operators: the list with filters (category, language,
//! channel, status), a CSV export (audited; numbers masked unless asked otherwise) and the
//! subscriptions and withdrawals per month. Run on the store by the CLI, or, while `serve`
//! holds the data directory, by its admin endpoint: the same answer either way.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::inbox::mask;
use crate::service::runner::Engine;
use crate::storage::{AuditEntry, StoreError};

/// Which citizens: each filter that is set must match.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Filter {
    pub category: Option<String>,
    pub language: Option<String>,
    pub channel: Option<String>,
    /// `subscribed`, `unsubscribed`, `blocked`, `registering` or `new`.
    pub status: Option<String>,
}

/// One citizen as the list shows them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub channel: String,
    /// The number (or chat id), masked but for its last three characters unless asked.
    pub citizen: String,
    pub status: String,
    pub language: Option<String>,
    pub categories: Vec<String>,
    pub subscribed_at: Option<Timestamp>,
    pub unsubscribed_at: Option<Timestamp>,
}

/// Subscriptions and withdrawals of one month (`YYYY-MM`), from the anonymous counters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Month {
    pub month: String,
    pub subscribed: u64,
    pub withdrawn: u64,
}

/// What the command asks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Call {
    /// Rows `offset..offset + limit` of the list (all from `offset` without a limit), and
    /// how many there are in all.
    List {
        comune: String,
        filter: Filter,
        unmasked: bool,
        #[serde(default)]
        offset: usize,
        #[serde(default)]
        limit: Option<usize>,
    },
    /// The list as CSV, audited with `actor`.
    Export {
        comune: String,
        filter: Filter,
        unmasked: bool,
        actor: String,
    },
    Counts {
        comune: String,
    },
}

/// What it answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub enum Answer {
    Rows {
        rows: Vec<Row>,
        /// Rows in the whole list (`rows` may be a window of it).
        #[serde(default)]
        total: usize,
    },
    Csv {
        csv: String,
        rows: usize,
    },
    Months {
        months: Vec<Month>,
        subscribed_now: usize,
    },
    UnknownComune {
        comune: String,
    },
}

/// Runs `call` on the engine's store.
pub fn run(engine: &Engine, call: Call, now: Timestamp) -> Result<Answer, StoreError> {
    let comune = match &call {
        Call::List { comune, .. } | Call::Export { comune, .. } | Call::Counts { comune } => comune.clone(),
    };
    if engine.flows.get(&comune).is_none() {
        return Ok(Answer::UnknownComune { comune });
    }
    Ok(match call {
        Call::List {
            filter,
            unmasked,
            offset,
            limit,
            ..
        } => {
            let (mut rows, mut total) = (Vec::new(), 0);
            each_row(engine, &comune, &filter, unmasked, |row| {
                if total >= offset && limit.is_none_or(|l| rows.len() < l) {
                    rows.push(row);
                }
                total += 1;
                Ok(())
            })?;
            Answer::Rows { rows, total }
        }
        Call::Export {
            filter,
            unmasked,
            actor,
            ..
        } => {
            // Written as the store is read: the rows are never all in memory, only the text.
            let mut csv = csv_header();
            let mut rows = 0;
            each_row(engine, &comune, &filter, unmasked, |row| {
                csv_line(&mut csv, &row);
                rows += 1;
                Ok(())
            })?;
            engine.store.append_audit(&AuditEntry {
                at: now,
                actor,
                comune: comune.clone(),
                action: "subscribers-export".into(),
                detail: format!(
                    "{} rows exported, numbers {}",
                    rows,
                    if unmasked { "in full" } else { "masked" }
                ),
            })?;
            engine.store.flush()?;
            Answer::Csv { csv, rows }
        }
        Call::Counts { .. } => {
            let mut months: BTreeMap<String, Month> = BTreeMap::new();
            for (month, metric, value) in engine.store.counters(&comune)? {
                let m = months.entry(month.clone()).or_insert(Month {
                    month,
                    subscribed: 0,
                    withdrawn: 0,
                });
                match metric.as_str() {
                    "signup" => m.subscribed += value,
                    "withdrawal" => m.withdrawn += value,
                    _ => {}
                }
            }
            let mut subscribed_now = 0;
            crate::storage::each_citizen(engine.store.as_ref(), &comune, |_, c| {
                subscribed_now += usize::from(c.status() == "subscribed");
                Ok(true)
            })?;
            Answer::Months {
                months: months
                    .into_values()
                    .filter(|m| m.subscribed + m.withdrawn > 0)
                    .collect(),
                subscribed_now,
            }
        }
    })
}

/// Calls `f` with each of the comune's citizens that `filter` keeps, as a row, in the
/// store's order (a sealed store's is that of the pseudonyms), a page at a time.
fn each_row(
    engine: &Engine,
    comune: &str,
    filter: &Filter,
    unmasked: bool,
    mut f: impl FnMut(Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let keep = |wanted: &Option<String>, have: Option<&str>| wanted.as_deref().is_none_or(|w| have == Some(w));
    crate::storage::each_citizen(engine.store.as_ref(), comune, |key, c| {
        let kept = keep(&filter.channel, Some(&key.channel))
            && keep(&filter.status, Some(c.status()))
            && keep(&filter.language, c.language.as_deref())
            && filter.category.as_ref().is_none_or(|cat| c.categories.contains(cat));
        if kept {
            f(Row {
                channel: key.channel.clone(),
                citizen: if unmasked {
                    key.citizen.clone()
                } else {
                    mask(&key.citizen)
                },
                status: c.status().to_string(),
                language: c.language.clone(),
                categories: c.categories.iter().cloned().collect(),
                subscribed_at: c.subscribed_at,
                unsubscribed_at: c.unsubscribed_at,
            })?;
        }
        Ok(true)
    })
}

/// The CSV's header line.
fn csv_header() -> String {
    super::csv::line(&[
        "channel",
        "citizen",
        "status",
        "language",
        "categories",
        "subscribed_at",
        "unsubscribed_at",
    ])
}

/// Appends a row's CSV line (quoted and guarded: [`super::csv`]).
fn csv_line(out: &mut String, r: &Row) {
    let time = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    out.push_str(&super::csv::line(&[
        r.channel.clone(),
        r.citizen.clone(),
        r.status.clone(),
        r.language.clone().unwrap_or_default(),
        r.categories.join(";"),
        time(r.subscribed_at),
        time(r.unsubscribed_at),
    ]));
}
