//! The annual statistics report for "Amministrazione Trasparente" (Madone's notice; any
//! comune can publish it): built only from anonymous monthly counters, with every count
//! under 5 shown as "<5" so that no cell can single a person out.

use serde::{Deserialize, Serialize};

use crate::dialogue::Reply;
use crate::service::runner::Engine;
use crate::storage::{Author, Conversation, StoreError};

/// Counts under this are masked.
pub const SMALLEST_SHOWN: u64 = 5;

/// A count as published.
pub fn cell(n: u64) -> String {
    if n > 0 && n < SMALLEST_SHOWN {
        "<5".to_string()
    } else {
        n.to_string()
    }
}

/// A rate as published: only over a base large enough to publish.
fn rate(part: u64, base: u64) -> String {
    if base < SMALLEST_SHOWN {
        "n/d".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / base as f64)
    }
}

/// One row: a label (already in the report's language) and its published value.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub section: String,
    pub label: String,
    pub value: String,
}

/// The report of one comune for one year.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub comune: String,
    pub comune_name: String,
    pub year: i32,
    pub rows: Vec<Row>,
}

/// Builds the report from the counters; `lang` picks the labels.
pub fn build(engine: &Engine, comune: &str, year: i32, lang: &str) -> Result<Option<Report>, StoreError> {
    let Some(flow) = engine.flows.get(comune) else {
        return Ok(None);
    };
    let t = |id: &str| engine.locales.render(flow, lang, &Reply::new(id)).text;
    let counters = engine.store.counters(comune)?;
    let sum = |pred: &dyn Fn(&str, &str) -> bool| {
        counters
            .iter()
            .filter(|(m, k, _)| pred(m, k))
            .map(|(_, _, n)| *n)
            .sum::<u64>()
    };
    let y = format!("{year:04}");
    let before = |m: &str| m < y.as_str();
    let within = |m: &str| m.starts_with(y.as_str());
    let net = |until: &dyn Fn(&str) -> bool| {
        let up = sum(&|m, k| until(m) && k == "signup");
        let down = sum(&|m, k| until(m) && k == "withdrawal");
        up.saturating_sub(down)
    };
    let mut rows = Vec::new();
    let mut push = |section: &str, label: String, value: String| {
        rows.push(Row {
            section: t(section),
            label,
            value,
        })
    };
    push("report-subscribers", t("report-at-start"), cell(net(&before)));
    push(
        "report-subscribers",
        t("report-at-end"),
        cell(net(&|m| before(m) || within(m))),
    );
    for month in 1..=12 {
        let m = format!("{y}-{month:02}");
        let label = engine
            .locales
            .format(lang, &format!("report-month-{month:02}"), None)
            .unwrap_or_else(|| m.clone());
        push(
            "report-signups",
            label.clone(),
            cell(sum(&|mm, k| mm == m && k == "signup")),
        );
        push(
            "report-withdrawals",
            label,
            cell(sum(&|mm, k| mm == m && k == "withdrawal")),
        );
    }
    let sent = sum(&|m, k| within(m) && k == "sent");
    push("report-messages", t("report-sent"), cell(sent));
    push(
        "report-messages",
        t("report-delivery-rate"),
        rate(sum(&|m, k| within(m) && k == "delivered"), sent),
    );
    push(
        "report-messages",
        t("report-read-rate"),
        rate(sum(&|m, k| within(m) && k == "read"), sent),
    );
    push(
        "report-messages",
        t("report-failed"),
        cell(sum(&|m, k| within(m) && k == "failed")),
    );
    push(
        "report-questions",
        t("report-questions-received"),
        cell(sum(&|m, k| within(m) && k == "question")),
    );
    // Answers come from the conversations still held (those of erased citizens are gone
    // with them, so these are lower bounds); a conversation counts in the year it opened.
    let (answered, timed, in_time) = answers(&engine.store.conversations(comune)?, year);
    push("report-questions", t("report-questions-answered"), cell(answered));
    push("report-questions", t("report-answered-in-time"), rate(in_time, timed));
    // Broadcasts are the comune's own messages, not personal data: counted from their
    // records, in the year they started, per category (one row for a single list).
    let tz = jiff::tz::TimeZone::get(crate::hours::TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
    let started: Vec<Option<String>> = engine
        .store
        .broadcasts(Some(comune))?
        .into_iter()
        .filter_map(|(_, b)| {
            let at = b.started_at?;
            (at.to_zoned(tz.clone()).year() as i32 == year).then_some(b.category)
        })
        .collect();
    if flow.categories.is_empty() {
        push(
            "report-broadcasts",
            t("report-broadcasts-all"),
            cell(started.len() as u64),
        );
    }
    for category in &flow.categories {
        let n = started
            .iter()
            .filter(|c| c.as_deref() == Some(category.id.as_str()))
            .count();
        push("report-broadcasts", t(&category.label), cell(n as u64));
    }
    for rule in crate::moderation::Rule::ALL {
        let metric = format!("moderation:{}", rule.name());
        push(
            "report-moderation",
            t(&format!("rule-{}", rule.name())),
            cell(sum(&|m, k| within(m) && k == metric)),
        );
    }
    Ok(Some(Report {
        comune: comune.to_string(),
        comune_name: t(&flow.name),
        year,
        rows,
    }))
}

/// Of the conversations opened in `year`: how many staff answered, how many of those had a
/// deadline, and how many of these were answered by it (first reply at or before it).
pub fn answers(conversations: &[Conversation], year: i32) -> (u64, u64, u64) {
    let tz = jiff::tz::TimeZone::get(crate::hours::TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
    let (mut answered, mut timed, mut in_time) = (0, 0, 0);
    for c in conversations
        .iter()
        .filter(|c| c.opened_at.to_zoned(tz.clone()).year() as i32 == year)
    {
        let Some(first) = c
            .lines
            .iter()
            .filter(|l| matches!(l.author, Author::Staff(_)))
            .map(|l| l.at)
            .min()
        else {
            continue;
        };
        answered += 1;
        if let Some(due) = c.deadline {
            timed += 1;
            if first <= due {
                in_time += 1;
            }
        }
    }
    (answered, timed, in_time)
}

/// CSV with a header; fields quoted.
pub fn to_csv(r: &Report, header: [&str; 3]) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = header.iter().map(|h| q(h)).collect::<Vec<_>>().join(",") + "\n";
    for row in &r.rows {
        out.push_str(&format!("{},{},{}\n", q(&row.section), q(&row.label), q(&row.value)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_count_the_first_staff_reply_against_the_deadline() {
        use crate::storage::{CitizenKey, ConversationStatus, Line};
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let conv = |opened: &str, due: Option<&str>, replies: &[&str]| Conversation {
            key: CitizenKey::new("assemini", "whatsapp", "1"),
            route: String::new(),
            status: ConversationStatus::Waiting,
            opened_at: at(opened),
            deadline: due.map(at),
            last_activity: at(opened),
            lines: std::iter::once(Line {
                at: at(opened),
                author: Author::Citizen,
                text: "?".into(),
            })
            .chain(replies.iter().map(|r| Line {
                at: at(r),
                author: Author::Staff("op".into()),
                text: "!".into(),
            }))
            .collect(),
        };
        let all = [
            conv(
                "2026-03-02T09:00:00Z",
                Some("2026-03-04T17:00:00Z"),
                &["2026-03-03T09:00:00Z"],
            ),
            conv(
                "2026-03-02T09:00:00Z",
                Some("2026-03-04T17:00:00Z"),
                &["2026-03-09T09:00:00Z"],
            ),
            conv("2026-03-02T09:00:00Z", None, &["2026-03-03T09:00:00Z"]),
            conv("2026-03-02T09:00:00Z", Some("2026-03-04T17:00:00Z"), &[]),
            conv(
                "2025-12-31T23:30:00Z",
                Some("2026-01-05T17:00:00Z"),
                &["2026-01-02T09:00:00Z"],
            ),
        ];
        // The last one opened on 31 December in UTC but 1 January in Rome.
        assert_eq!(answers(&all, 2026), (4, 3, 2));
        assert_eq!(answers(&all, 2025), (0, 0, 0));
    }

    #[test]
    fn small_counts_are_masked_and_rates_need_a_base() {
        assert_eq!(
            (cell(0), cell(1), cell(4), cell(5), cell(1234)),
            ("0".into(), "<5".into(), "<5".into(), "5".into(), "1234".into())
        );
        assert_eq!(rate(3, 4), "n/d");
        assert_eq!(rate(9, 10), "90.0%");
    }
}
