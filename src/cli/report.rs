//! `sportello report --comune ID --year YYYY [--format text|csv|html|json] [--json]
//! [--lang it|fr]`: the annual statistics report, with no personal data and small counts
//! masked. Without `--format`: text at a terminal, CSV when piped (`super::output`).

use std::process::ExitCode;

use fluent_bundle::FluentArgs;

use super::common::{admin_call, existing_engine, held_data, load_flows, Paths};
use super::output::{Output, Sheet};
use crate::i18n::Locales;
use crate::staff::report::{build, to_csv, Report};
use crate::web::esc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Sections and labelled values, for a person at a terminal.
    Text,
    Csv,
    Html,
    Json,
}

impl Format {
    /// The format asked for, else `--json`'s, else text at a terminal and CSV when piped.
    pub fn pick(format: Option<Format>, json: bool, output: Output) -> Format {
        match (format, json, output) {
            (Some(f), _, _) => f,
            (None, true, _) => Format::Json,
            (None, false, Output::Human) => Format::Text,
            (None, false, Output::Json) => Format::Csv,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    pub comune: String,
    /// The calendar year, in full (2026).
    #[arg(long, value_parser = clap::value_parser!(i32).range(2000..=2100))]
    pub year: i32,
    /// [default: text at a terminal, csv when the output is piped]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// The same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Language of the labels [default: the comune's first].
    #[arg(long)]
    pub lang: Option<String>,
    #[command(flatten)]
    pub paths: Paths,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (flows, locales) = load_flows(&args.paths)?;
    let Some(flow) = flows.get(&args.comune) else {
        eprintln!("unknown comune \"{}\"", args.comune);
        return Ok(ExitCode::from(2));
    };
    let lang = args
        .lang
        .filter(|l| flow.offers(l))
        .unwrap_or_else(|| flow.default_language().to_string());
    // The counters from the running server when `serve` holds the data directory, else
    // from the store; the rendering is the same either way.
    let report: Option<Report> = if let Some(data) = held_data(&args.paths)? {
        let asked = serde_json::json!({ "comune": args.comune, "year": args.year, "lang": lang });
        serde_json::from_value(admin_call(&data, "/admin/report", &asked)?)?
    } else {
        build(&existing_engine(&args.paths)?, &args.comune, args.year, &lang)?
    };
    let Some(report) = report else {
        return Ok(ExitCode::from(2));
    };
    let engine_locales = locales;
    let t = |id: &str| engine_locales.format(&lang, id, None).unwrap_or_default();
    let title = title(&report, &engine_locales, &lang);
    match Format::pick(args.format, args.json, Output::choose(args.json)) {
        Format::Text => print!("{}", render_report(&report, &engine_locales, &lang)),
        Format::Csv => print!(
            "{}",
            to_csv(
                &report,
                [&t("report-col-section"), &t("report-col-label"), &t("report-col-value")]
            )
        ),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Html => {
            let rows: String = report
                .rows
                .iter()
                .map(|r| {
                    format!(
                        "<tr><td>{}</td><th scope=\"row\">{}</th><td>{}</td></tr>\n",
                        esc(&r.section),
                        esc(&r.label),
                        esc(&r.value)
                    )
                })
                .collect();
            println!(
                "<!doctype html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<main>\n<h1>{title}</h1>\n<p>{note}</p>\n<table>\n<caption>{title}</caption>\n<thead><tr><th scope=\"col\">{c1}</th><th scope=\"col\">{c2}</th><th scope=\"col\">{c3}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</main>\n</body>\n</html>",
                lang = esc(&lang),
                title = esc(&title),
                note = esc(&t("report-note")),
                c1 = esc(&t("report-col-section")),
                c2 = esc(&t("report-col-label")),
                c3 = esc(&t("report-col-value")),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The report's title in `lang`: the comune's name and the year.
fn title(report: &Report, locales: &Locales, lang: &str) -> String {
    let mut args = FluentArgs::new();
    args.set("comune", report.comune_name.clone());
    format!(
        "{} {}",
        locales.format(lang, "report-title", Some(&args)).unwrap_or_default(),
        report.year
    )
}

/// The report as text for a person at a terminal: the title, each section with its labelled
/// values aligned, and the note on masked counts. The labels are the report's own (already
/// in `lang`).
pub fn render_report(report: &Report, locales: &Locales, lang: &str) -> String {
    let title = title(report, locales, lang);
    let mut out = format!("{title}\n{}\n", "=".repeat(title.chars().count()));
    // The counters come month by month (signups of January, withdrawals of January, …):
    // each section once, where it first appears, with all its rows.
    let mut sections: Vec<(&str, Sheet)> = Vec::new();
    for row in &report.rows {
        let at = match sections.iter().position(|(s, _)| *s == row.section) {
            Some(at) => at,
            None => {
                sections.push((&row.section, Sheet::default()));
                sections.len() - 1
            }
        };
        sections[at].1.row(row.label.clone(), row.value.clone());
    }
    for (section, sheet) in &sections {
        out.push_str(&format!("\n{section}\n{}", sheet.render(2)));
    }
    let note = locales.format(lang, "report-note", None).unwrap_or_default();
    out.push_str(&format!("\n{note}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::report::Row;

    fn report() -> Report {
        let row = |section: &str, label: &str, value: &str| Row {
            section: section.into(),
            label: label.into(),
            value: value.into(),
        };
        Report {
            comune: "brusson".into(),
            comune_name: "Brusson".into(),
            year: 2026,
            rows: vec![
                row("Inscrits", "Au début de l'année", "12"),
                row("Inscrits", "À la fin de l'année", "<5"),
                row("Nouvelles inscriptions", "janvier", "30"),
                row("Désinscriptions", "janvier", "0"),
                row("Nouvelles inscriptions", "février", "<5"),
            ],
        }
    }

    #[test]
    fn the_text_report_has_its_title_sections_and_note() {
        let locales = Locales::embedded().unwrap();
        let fr = render_report(&report(), &locales, "fr");
        assert!(
            fr.starts_with("Brusson : service de messagerie WhatsApp, statistiques de l'année 2026\n===="),
            "{fr}"
        );
        // One heading a section, its rows under it, values aligned.
        assert_eq!(fr.matches("\nInscrits\n").count(), 1, "{fr}");
        assert!(
            fr.contains("\nInscrits\n  Au début de l'année  12\n  À la fin de l'année  <5\n"),
            "{fr}"
        );
        // Month by month in the counters, each section once in the text.
        assert!(
            fr.contains("\nNouvelles inscriptions\n  janvier  30\n  février  <5\n\nDésinscriptions\n  janvier  0\n"),
            "{fr}"
        );
        assert!(fr.contains("Données anonymes"), "{fr}");
        let it = render_report(&report(), &locales, "it");
        assert!(
            it.contains("statistiche dell'anno 2026") && it.contains("Dati anonimi"),
            "{it}"
        );
        assert!(!fr.contains('{') && !it.contains('{'), "{fr}{it}");
    }

    #[test]
    fn csv_stays_the_default_when_piped() {
        assert_eq!(Format::pick(None, false, Output::Json), Format::Csv);
        assert_eq!(Format::pick(None, false, Output::Human), Format::Text);
        assert_eq!(Format::pick(None, true, Output::Json), Format::Json);
        assert_eq!(Format::pick(Some(Format::Html), false, Output::Human), Format::Html);
        assert_eq!(Format::pick(Some(Format::Csv), false, Output::Human), Format::Csv);
    }
}
