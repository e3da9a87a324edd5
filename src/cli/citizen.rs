//! `sportello citizen show|export|erase`: one citizen's record, everything held about them
//! (right of access), and erasure on request; through the running server when `serve`
//! holds the data directory (`staff::citizen`). `show` prints labelled text at a terminal
//! and the JSON of the contract otherwise or with `--json` (`super::output`).

use std::process::ExitCode;

use fluent_bundle::FluentArgs;
use serde_json::Value;

use super::common::{admin_call, existing_engine, held_data, load_flows, Paths};
use super::output::{comune_language, json_time, label_of, text, Output, Sheet};
use crate::i18n::Locales;
use crate::staff::citizen::{self, Answer, Op, Request};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// Which citizen: the comune, the number (or channel id) and the channel.
#[derive(Debug, clap::Args)]
pub struct Who {
    #[arg(long)]
    pub comune: String,
    #[arg(long)]
    pub from: String,
    #[arg(long, default_value = "whatsapp", value_parser = ["whatsapp", "telegram", "web"])]
    pub channel: String,
}

impl Who {
    fn request(self, op: Op) -> Request {
        Request {
            op,
            comune: self.comune,
            channel: self.channel,
            from: self.from,
            by: String::new(),
            reason: String::new(),
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the stored record: labelled text at a terminal, JSON when piped or with --json.
    Show {
        #[command(flatten)]
        who: Who,
        /// Print the JSON record even at a terminal.
        #[arg(long)]
        json: bool,
        /// Language of the labels [default: the comune's first].
        #[arg(long)]
        lang: Option<String>,
        #[command(flatten)]
        paths: Paths,
    },
    /// Everything held about a citizen (record, ledger, moderation cases), as JSON.
    Export {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        paths: Paths,
    },
    /// Erase a citizen on request (audited): only the anonymized consent ledger stays.
    Erase {
        #[command(flatten)]
        who: Who,
        /// Who erases (recorded in the audit log).
        #[arg(long)]
        by: String,
        /// Why (e.g. "richiesta PEC prot. 1234"); recorded in the audit log.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        paths: Paths,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Text only for `show`, and only for a person at a terminal.
    let (request, paths, human) = match args.command {
        Command::Show { who, json, lang, paths } => {
            let human = (Output::choose(json) == Output::Human).then_some(lang);
            (who.request(Op::Show), paths, human)
        }
        Command::Export { who, paths } => (who.request(Op::Export), paths, None),
        Command::Erase { who, by, reason, paths } => {
            let mut request = who.request(Op::Erase);
            (request.by, request.reason) = (by, reason);
            (request, paths, None)
        }
    };
    // While `serve` holds the data directory, through it (in the citizen's lane); the same
    // answer either way.
    let answer = if let Some(data) = held_data(&paths)? {
        serde_json::from_value(admin_call(&data, "/admin/citizen", &serde_json::to_value(&request)?)?)?
    } else {
        let engine = existing_engine(&paths)?;
        citizen::run(&engine, &request, jiff::Timestamp::now())?
    };
    match answer {
        Answer::Done(v) if human.is_some() => {
            let (flows, locales) = load_flows(&paths)?;
            let asked = human.flatten();
            let lang = comune_language(&flows, Some(&request.comune), asked.as_deref());
            print!("{}", render_citizen(&v, &locales, &lang));
        }
        Answer::Done(v) if request.op == Op::Erase => println!("{}", serde_json::to_string(&v)?),
        Answer::Done(v) => println!("{}", serde_json::to_string_pretty(&v)?),
        Answer::UnknownComune => {
            eprintln!("unknown comune \"{}\"", request.comune);
            return Ok(ExitCode::from(2));
        }
        Answer::UnknownCitizen => {
            eprintln!(
                "no citizen {} in comune {} on {}",
                request.from, request.comune, request.channel
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The record of `citizen show` (its JSON) as labelled text in `lang`: status, language,
/// categories, dates in Rome's time, registration data and consents. The number is shown
/// as stored.
pub fn render_citizen(v: &Value, locales: &Locales, lang: &str) -> String {
    let t = |id: &str| text(locales, lang, id, None);
    let s = |key: &str| v[key].as_str().unwrap_or_default().to_string();
    let none = t("cli-none");
    let time = |key: &str| json_time(&v[key]).unwrap_or_else(|| none.clone());
    let mut title = FluentArgs::new();
    title.set("citizen", s("citizen"));
    title.set("comune", s("comune"));
    title.set("channel", s("channel"));
    let mut out = text(locales, lang, "cli-citizen-title", Some(&title));
    out.push('\n');
    let mut sheet = Sheet::default();
    sheet.row(
        t("cli-citizen-status"),
        label_of(locales, lang, "cli-status", &s("status")),
    );
    if let Some(reason) = v["state"]["reason"].as_str() {
        sheet.row(t("cli-citizen-blocked-reason"), reason.to_string());
    }
    if let Some(step) = v["state"]["asking"]["id"]
        .as_str()
        .or(v["state"]["asking"]["ask"].as_str())
    {
        sheet.row(t("cli-citizen-step"), step.to_string());
    }
    sheet.row(
        t("cli-citizen-language"),
        v["language"]
            .as_str()
            .map_or_else(|| none.clone(), |l| label_of(locales, lang, "cli-language", l)),
    );
    let categories: Vec<&str> = v["categories"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    sheet.row(
        t("cli-citizen-categories"),
        if categories.is_empty() {
            none.clone()
        } else {
            categories.join(", ")
        },
    );
    sheet.row(t("cli-citizen-first-seen"), time("first_seen"));
    sheet.row(t("cli-citizen-subscribed-at"), time("subscribed_at"));
    sheet.row(t("cli-citizen-unsubscribed-at"), time("unsubscribed_at"));
    out.push_str(&sheet.render(2));
    if let Some(fields) = v["fields"].as_object().filter(|f| !f.is_empty()) {
        out.push_str(&format!("{}\n", t("cli-citizen-fields")));
        let mut sheet = Sheet::default();
        for (key, value) in fields {
            sheet.row(
                label_of(locales, lang, "cli-field", key),
                value.as_str().map_or_else(|| value.to_string(), str::to_string),
            );
        }
        out.push_str(&sheet.render(2));
    }
    if let Some(consents) = v["consents"].as_array().filter(|c| !c.is_empty()) {
        out.push_str(&format!("{}\n", t("cli-citizen-consents")));
        for c in consents {
            let mut args = FluentArgs::new();
            for key in ["kind", "how"] {
                let value = c[key].as_str().unwrap_or_default();
                args.set(key, label_of(locales, lang, &format!("cli-consent-{key}"), value));
            }
            args.set("version", c["notice_version"].as_str().unwrap_or_default().to_string());
            args.set("at", json_time(&c["at"]).unwrap_or_else(|| none.clone()));
            out.push_str(&format!(
                "  {}\n",
                text(locales, lang, "cli-citizen-consent", Some(&args))
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Value {
        serde_json::json!({
            "comune": "brusson", "channel": "whatsapp", "citizen": "393331230001",
            "status": "subscribed", "language": "fr",
            "fields": {"full_name": "Anna Rossi"},
            "categories": ["eventi", "info"],
            "consents": [{"kind": "privacy", "notice_version": "2", "at": "2026-12-01T07:05:00Z",
                          "message_id": "wamid.1", "how": "button"}],
            "first_seen": "2026-12-01T07:00:00Z", "subscribed_at": "2026-12-01T07:05:00Z",
            "unsubscribed_at": null, "state": {"state": "subscribed"},
        })
    }

    #[test]
    fn a_record_reads_with_labels_in_italian_and_french() {
        let locales = Locales::embedded().unwrap();
        let it = render_citizen(&record(), &locales, "it");
        for part in [
            "Cittadino 393331230001 (brusson, whatsapp)",
            "Stato",
            "iscritto",
            "eventi, info",
            "Primo contatto",
            "01/12/2026 08:00",
            "Iscrizione",
            "01/12/2026 08:05",
            "Nome e cognome",
            "Anna Rossi",
            "francese",
            "Informativa sulla privacy accettata con il pulsante, il 01/12/2026 08:05 (versione dell'informativa 2)",
        ] {
            assert!(it.contains(part), "{part:?} missing from:\n{it}");
        }
        let fr = render_citizen(&record(), &locales, "fr");
        for part in [
            "Citoyen 393331230001",
            "État",
            "inscrit",
            "Premier contact",
            "Consentements",
            "Nom et prénom",
            "Notice de confidentialité acceptée par le bouton, le 01/12/2026 08:05 (version de la notice 2)",
        ] {
            assert!(fr.contains(part), "{part:?} missing from:\n{fr}");
        }
        for out in [&it, &fr] {
            assert!(
                !out.contains('{') && !out.contains('"') && !out.contains("cli-"),
                "{out}"
            );
        }
    }

    #[test]
    fn a_blocked_citizen_shows_why_and_absent_dates_show_a_dash() {
        let mut v = record();
        v["status"] = "blocked".into();
        v["state"] = serde_json::json!({"state": "blocked", "reason": "minacce"});
        v["subscribed_at"] = Value::Null;
        let out = render_citizen(&v, &Locales::embedded().unwrap(), "it");
        assert!(
            out.contains("bloccato") && out.contains("Motivo del blocco") && out.contains("minacce"),
            "{out}"
        );
        assert!(
            out.lines().any(|l| l.starts_with("  Iscrizione") && l.ends_with('—')),
            "{out}"
        );
    }
}
