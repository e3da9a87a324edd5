//! `sportello report --comune ID --year YYYY [--format text|csv|html|json] [--json]
//! [--lang it|fr]`: the annual statistics report, with no personal data and small counts
//! masked. Without `--format`: text at a terminal, CSV when piped (`super::output`).

use std::process::ExitCode;

use fluent_bundle::FluentArgs;

use super::common::{admin_call, existing_engine, held_data, load_flows, Paths};
use super::output::{Output, Sheet};
use crate::i18n::Locales;
use crate::staff::report::{build, to_csv, to_html, Report};
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
        Format::Html => println!("{}", to_page(&report, &engine_locales, &lang)),
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

/// The page's own stylesheet: readable on screen, and on paper one section a block (no
/// chart or table split across pages), links and form chrome left out.
const STYLE: &str = "body{font-family:sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;max-width:60rem;padding:1rem;line-height:1.4}\
table{border-collapse:collapse;margin:0 0 1.5rem}caption{text-align:left;font-weight:bold;padding:.25rem 0}\
th,td{border:1px solid #767676;padding:.25rem .5rem;text-align:left}td{text-align:right}\
figure{margin:0 0 1rem}figcaption{font-weight:bold}svg{max-width:48rem;height:auto}\
@media print{body{max-width:none;padding:0;font-size:10pt}section,figure,table{break-inside:avoid;page-break-inside:avoid}\
h2{break-after:avoid;page-break-after:avoid}svg{max-width:100%}@page{margin:1.5cm}}";

/// The report as a standalone HTML page in `lang`: title, note, and each section with its
/// table and, month by month, its chart (`staff::report::to_html`).
pub fn to_page(report: &Report, locales: &Locales, lang: &str) -> String {
    let title = title(report, locales, lang);
    let t = |id: &str, args: &[(&str, String)]| {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, v.clone());
        }
        locales.format(lang, id, Some(&a)).unwrap_or_default()
    };
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\n<style>{STYLE}</style></head>\n<body>\n<main>\n<h1>{title}</h1>\n<p>{note}</p>\n{body}\n</main>\n</body>\n</html>",
        lang = esc(lang),
        title = esc(&title),
        note = esc(&t("report-note", &[])),
        body = to_html(report, &t),
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
            key: String::new(),
            month: String::new(),
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
    fn the_html_report_has_accessible_charts_a_table_a_section_and_a_print_layout() {
        let locales = Locales::embedded().unwrap();
        let row = |key: &str, section: &str, label: &str, month: &str, value: &str| Row {
            section: section.into(),
            label: label.into(),
            value: value.into(),
            key: key.into(),
            month: month.into(),
        };
        let mut rows = vec![row("report-subscribers", "Inscrits", "Au début de l'année", "", "12")];
        for (m, label, up, down) in [("2026-01", "janvier", "30", "<5"), ("2026-02", "février", "<5", "0")] {
            rows.push(row("report-signups", "Nouvelles inscriptions", label, m, up));
            rows.push(row("report-withdrawals", "Désinscriptions", label, m, down));
        }
        rows.sort_by_key(|r| r.key != "report-subscribers" && r.key != "report-signups");
        let report = Report {
            comune: "brusson".into(),
            comune_name: "Brusson".into(),
            year: 2026,
            rows,
        };
        let page = to_page(&report, &locales, "fr");
        assert!(page.starts_with("<!doctype html>\n<html lang=\"fr\">"), "{page}");
        assert!(page.contains("@media print{") && !page.contains("<script"), "{page}");
        // One grouped chart, its title and description, short month names, a masked bar.
        assert_eq!(page.matches("<svg ").count(), 1, "{page}");
        assert!(
            page.contains("role=\"img\"")
                && page.contains("Nouvelles inscriptions et désinscriptions par mois</title>")
        );
        assert!(page.contains("<desc id=\"chart-report-chart-movements-desc\">Graphique à barres : Nouvelles inscriptions, Désinscriptions."));
        assert!(page.contains(">janv.</tspan></text>") && page.contains("url(#chart-report-chart-movements-hatch-"));
        // Months as rows of one table, both series as columns; the other section apart.
        assert!(
            page.contains("<tr><th scope=\"row\">janvier</th><td>30</td><td>&lt;5</td></tr><tr><th scope=\"row\">février</th><td>&lt;5</td><td>0</td></tr>"),
            "{page}"
        );
        assert!(
            page.contains("<h2>Inscrits</h2><table><caption>Inscrits</caption>"),
            "{page}"
        );
        assert!(page.contains("<th scope=\"col\">Mois</th><th scope=\"col\">Nouvelles inscriptions</th>"));
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
