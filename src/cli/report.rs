//! `sportello report --comune ID --year YYYY [--format csv|html|json] [--lang it|fr]`: the
//! annual statistics report, with no personal data and small counts masked.

use std::process::ExitCode;

use fluent_bundle::FluentArgs;

use super::common::{admin_call, existing_engine, held_data, load_flows, Paths};
use crate::staff::report::{build, to_csv, Report};
use crate::web::esc;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Csv,
    Html,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    pub comune: String,
    /// The calendar year, in full (2026).
    #[arg(long, value_parser = clap::value_parser!(i32).range(2000..=2100))]
    pub year: i32,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
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
    let mut title_args = FluentArgs::new();
    title_args.set("comune", report.comune_name.clone());
    let title = format!(
        "{} {}",
        engine_locales
            .format(&lang, "report-title", Some(&title_args))
            .unwrap_or_default(),
        args.year
    );
    match args.format {
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
