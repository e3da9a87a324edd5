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
    /// The section's Fluent id (`report-signups`…), for the charts; empty from an older
    /// server.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// `YYYY-MM` on the rows of a month-by-month section.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub month: String,
}

/// The report of one comune for one year.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub comune: String,
    pub comune_name: String,
    pub year: i32,
    /// Section by section (each section's rows together, months in order).
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
    let months: Vec<(String, String)> = (1..=12)
        .map(|month| {
            let m = format!("{y}-{month:02}");
            let label = engine
                .locales
                .format(lang, &format!("report-month-{month:02}"), None)
                .unwrap_or_else(|| m.clone());
            (m, label)
        })
        .collect();
    let mut rows = Vec::new();
    let mut push = |key: &str, label: String, value: String, month: &str| {
        rows.push(Row {
            section: t(key),
            label,
            value,
            key: key.to_string(),
            month: month.to_string(),
        })
    };
    // A section with a row a month, from a count of that month.
    let monthly = |push: &mut dyn FnMut(&str, String, String, &str), key: &str, count: &dyn Fn(&str) -> u64| {
        for (m, label) in &months {
            push(key, label.clone(), cell(count(m)), m);
        }
    };
    push("report-subscribers", t("report-at-start"), cell(net(&before)), "");
    push(
        "report-subscribers",
        t("report-at-end"),
        cell(net(&|m| before(m) || within(m))),
        "",
    );
    let of = |metric: &'static str| move |m: &str| sum(&|mm, k| mm == m && k == metric);
    monthly(&mut push, "report-signups", &of("signup"));
    monthly(&mut push, "report-withdrawals", &of("withdrawal"));
    monthly(&mut push, "report-month-end", &|m| net(&|mm| mm <= m));
    let sent = sum(&|m, k| within(m) && k == "sent");
    push("report-messages", t("report-sent"), cell(sent), "");
    push(
        "report-messages",
        t("report-delivery-rate"),
        rate(sum(&|m, k| within(m) && k == "delivered"), sent),
        "",
    );
    push(
        "report-messages",
        t("report-read-rate"),
        rate(sum(&|m, k| within(m) && k == "read"), sent),
        "",
    );
    push(
        "report-messages",
        t("report-failed"),
        cell(sum(&|m, k| within(m) && k == "failed")),
        "",
    );
    monthly(&mut push, "report-sent-month", &of("sent"));
    push(
        "report-questions",
        t("report-questions-received"),
        cell(sum(&|m, k| within(m) && k == "question")),
        "",
    );
    // Answers come from the conversations still held (those of erased citizens are gone
    // with them, so these are lower bounds); a conversation counts in the year it opened.
    let conversations = engine.store.conversations(comune)?;
    let (answered, timed, in_time) = answers(&conversations, year);
    push("report-questions", t("report-questions-answered"), cell(answered), "");
    push(
        "report-questions",
        t("report-answered-in-time"),
        rate(in_time, timed),
        "",
    );
    monthly(&mut push, "report-questions-month", &of("question"));
    let by_month = answers_by_month(&conversations, year);
    let month_index = |m: &str| m[5..7].parse::<usize>().unwrap_or(1) - 1;
    monthly(&mut push, "report-in-time-month", &|m| by_month[month_index(m)].0);
    monthly(&mut push, "report-late-month", &|m| by_month[month_index(m)].1);
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
            "",
        );
    }
    for category in &flow.categories {
        let n = started
            .iter()
            .filter(|c| c.as_deref() == Some(category.id.as_str()))
            .count();
        push("report-broadcasts", t(&category.label), cell(n as u64), "");
    }
    for rule in crate::moderation::Rule::ALL {
        let metric = format!("moderation:{}", rule.name());
        push(
            "report-moderation",
            t(&format!("rule-{}", rule.name())),
            cell(sum(&|m, k| within(m) && k == metric)),
            "",
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

/// Of the conversations opened in `year` with a deadline and a staff answer, month by month
/// of opening (Europe/Rome): how many were answered by the deadline, how many after it.
pub fn answers_by_month(conversations: &[Conversation], year: i32) -> [(u64, u64); 12] {
    let tz = jiff::tz::TimeZone::get(crate::hours::TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut out = [(0, 0); 12];
    for c in conversations {
        let opened = c.opened_at.to_zoned(tz.clone());
        let (Some(due), true) = (c.deadline, opened.year() as i32 == year) else {
            continue;
        };
        let first = c
            .lines
            .iter()
            .filter(|l| matches!(l.author, Author::Staff(_)))
            .map(|l| l.at)
            .min();
        let slot = &mut out[opened.month() as usize - 1];
        match first {
            Some(first) if first <= due => slot.0 += 1,
            Some(_) => slot.1 += 1,
            None => {}
        }
    }
    out
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

/// One chart of a figure: its title id and the section keys of its series.
type Drawn = (&'static str, &'static [&'static str]);

/// A report text in the report's language, unescaped, from its id and arguments.
pub type Text<'a> = &'a dyn Fn(&str, &[(&str, String)]) -> String;

/// The figures drawn from month-by-month sections: the figure's title id and its charts,
/// each a title id and the section keys of its series. A figure's sections share one
/// table, months as rows; it stands where the first of its sections would.
const FIGURES: &[(&str, &[Drawn])] = &[
    (
        "report-figure-subscribers",
        &[
            ("report-chart-movements", &["report-signups", "report-withdrawals"]),
            ("report-month-end", &["report-month-end"]),
        ],
    ),
    (
        "report-figure-messages",
        &[(
            "report-figure-messages",
            &["report-sent-month", "report-questions-month"],
        )],
    ),
    (
        "report-figure-answers",
        &[("report-figure-answers", &["report-in-time-month", "report-late-month"])],
    ),
];

/// Sections of a label and a value that also get a chart (one bar a row) when they have
/// more than one row.
const CHARTED: &[&str] = &["report-broadcasts", "report-moderation"];

/// The report's body as HTML, for the console's page and the command line's file: each
/// section under its heading with its own table, and the month-by-month figures as
/// accessible SVG charts with their table (months as rows) below. `t` gives a report text
/// in the report's language, unescaped. The figures are the published cells: a masked count
/// is drawn masked.
pub fn to_html(r: &Report, t: Text) -> String {
    use super::chart::{bars, Chart, Series, Value};
    use crate::markup::esc;
    let mut sections: Vec<(&str, &str, Vec<&Row>)> = Vec::new();
    for row in &r.rows {
        // Rows from an older server have no key: grouped by their section's name.
        let key = if row.key.is_empty() { &row.section } else { &row.key };
        match sections.iter_mut().find(|(k, _, _)| *k == key.as_str()) {
            Some((_, _, rows)) => rows.push(row),
            None => sections.push((key, &row.section, vec![row])),
        }
    }
    let rows_of = |key: &str| sections.iter().find(|(k, _, _)| *k == key).map(|(_, _, r)| r);
    let masked_value = format!("<{SMALLEST_SHOWN}");
    let chart = |id: &str, title: String, categories: Vec<String>, series: Vec<Series>| {
        let names = series.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ");
        let caption = esc(&title);
        let svg = bars(&Chart {
            id: format!("chart-{id}"),
            desc: t("report-chart-desc", &[("series", names)]),
            title,
            categories,
            series,
            masked_value: masked_value.clone(),
            masked_note: t("report-chart-masked", &[]),
            masked_height: SMALLEST_SHOWN,
        });
        format!("<figure><figcaption>{caption}</figcaption>{svg}</figure>")
    };
    let values = |rows: &[&Row]| rows.iter().map(|r| Value::parse(&r.value)).collect::<Vec<_>>();
    let mut done: Vec<&str> = Vec::new();
    let mut out = String::new();
    for (key, name, rows) in &sections {
        if done.contains(key) {
            continue;
        }
        let figure = FIGURES
            .iter()
            .find(|(_, charts)| charts.iter().any(|(_, keys)| keys.contains(key)));
        if let Some((figure_id, charts)) = figure {
            let keys: Vec<&str> = charts.iter().flat_map(|(_, keys)| keys.iter().copied()).collect();
            done.extend(&keys);
            let months: Vec<&Row> = rows.to_vec();
            let title = t(figure_id, &[]);
            out.push_str(&format!("<section><h2>{}</h2>", esc(&title)));
            for (title_id, series_keys) in *charts {
                let categories = months
                    .iter()
                    .map(|m| match m.month.get(5..7) {
                        Some(mm) => t(&format!("report-month-short-{mm}"), &[]),
                        None => m.label.clone(),
                    })
                    .collect();
                let series: Vec<Series> = series_keys
                    .iter()
                    .filter_map(|k| rows_of(k))
                    .map(|rows| Series {
                        name: rows[0].section.clone(),
                        values: values(rows),
                    })
                    .collect();
                if series.is_empty() {
                    continue;
                }
                out.push_str(&chart(title_id, t(title_id, &[]), categories, series));
            }
            let columns: Vec<&Vec<&Row>> = keys.iter().filter_map(|k| rows_of(k)).collect();
            // Several columns of figures: on a phone the table scrolls inside its region.
            out.push_str(&format!(
                "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"{title}\"><table><caption>{title}</caption><thead><tr><th scope=\"col\">{}</th>",
                esc(&t("report-col-month", &[])),
                title = esc(&title),
            ));
            for c in &columns {
                out.push_str(&format!("<th scope=\"col\">{}</th>", esc(&c[0].section)));
            }
            out.push_str("</tr></thead><tbody>");
            for (i, m) in months.iter().enumerate() {
                out.push_str(&format!("<tr><th scope=\"row\">{}</th>", esc(&m.label)));
                for c in &columns {
                    let v = c.get(i).map_or("", |r| r.value.as_str());
                    out.push_str(&format!("<td>{}</td>", esc(v)));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table></div></section>");
            continue;
        }
        out.push_str(&format!("<section><h2>{}</h2>", esc(name)));
        if CHARTED.contains(key) && rows.len() > 1 {
            let categories = rows.iter().map(|r| r.label.clone()).collect();
            let series = vec![Series {
                name: name.to_string(),
                values: values(rows),
            }];
            out.push_str(&chart(key, name.to_string(), categories, series));
        }
        out.push_str(&format!(
            "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            esc(name),
            esc(&t("report-col-label", &[])),
            esc(&t("report-col-value", &[]))
        ));
        for row in rows {
            out.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                esc(&row.label),
                esc(&row.value)
            ));
        }
        out.push_str("</tbody></table></section>");
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
            lines: std::iter::once(Line::new(at(opened), Author::Citizen, "?"))
                .chain(
                    replies
                        .iter()
                        .map(|r| Line::new(at(r), Author::Staff("op".into()), "!")),
                )
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
        let by_month = answers_by_month(&all, 2026);
        assert_eq!((by_month[0], by_month[2], by_month[3]), ((1, 0), (1, 1), (0, 0)));
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
