//! How the commands that print records print them (issue 21): readable text for a person at
//! a terminal, JSON for scripts. One rule for `citizen show`, `broadcast send|status|list|
//! resend-failed` and `report`: with `--json`, or when standard output is not a terminal (a
//! pipe, a file), they print exactly the JSON they always printed, so nothing that parses
//! it breaks. Every word of the text comes from `locales/<lang>/cli.ftl` (or, for the
//! report's own labels, `report.ftl`); here are only the choice, the language and the
//! layout helpers the renderers share.

use std::io::IsTerminal;

use fluent_bundle::FluentArgs;
use jiff::Timestamp;
use serde_json::Value;

use crate::flow::Flows;
use crate::i18n::Locales;

/// What a command prints its records as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Labelled text for a person, in the staff's language.
    Human,
    /// The JSON the command has always printed.
    Json,
}

impl Output {
    /// The output for this process: JSON when `--json` was given or standard output is not
    /// a terminal, text otherwise.
    pub fn choose(json: bool) -> Output {
        Output::decide(json, std::io::stdout().is_terminal())
    }

    /// The rule itself, for a standard output that is (`terminal`) or is not a terminal.
    pub fn decide(json: bool, terminal: bool) -> Output {
        if json || !terminal {
            Output::Json
        } else {
            Output::Human
        }
    }
}

/// The staff's language when the command has no comune: French when `LC_ALL` (or, unset,
/// `LANG`) starts with `fr`, else Italian.
pub fn env_language() -> &'static str {
    language_of_env(
        std::env::var("LC_ALL").ok().as_deref(),
        std::env::var("LANG").ok().as_deref(),
    )
}

/// [`env_language`] from the two variables' values.
pub fn language_of_env(lc_all: Option<&str>, lang: Option<&str>) -> &'static str {
    let set = [lc_all, lang].into_iter().flatten().find(|v| !v.is_empty());
    if set.is_some_and(|v| v.starts_with("fr")) {
        "fr"
    } else {
        "it"
    }
}

/// The language of a command about `comune`: `asked` (`--lang`) when the comune offers it,
/// else the comune's first; [`env_language`] when there is no such comune.
pub fn comune_language(flows: &Flows, comune: Option<&str>, asked: Option<&str>) -> String {
    match comune.and_then(|c| flows.get(c)) {
        Some(flow) => asked
            .filter(|l| flow.offers(l))
            .unwrap_or_else(|| flow.default_language())
            .to_string(),
        None => asked
            .filter(|l| ["it", "fr"].contains(l))
            .unwrap_or_else(|| env_language())
            .to_string(),
    }
}

/// One message in `lang`, in Italian when that language lacks it, else its id (a gap shows
/// rather than vanishing).
pub fn text(locales: &Locales, lang: &str, id: &str, args: Option<&FluentArgs>) -> String {
    locales
        .format(lang, id, args)
        .or_else(|| locales.format("it", id, args))
        .unwrap_or_else(|| id.to_string())
}

/// A value's label from `<prefix>-<value>` (a state, a status, a media kind), the value as
/// it is when there is no such message.
pub fn label_of(locales: &Locales, lang: &str, prefix: &str, value: &str) -> String {
    let id = format!("{prefix}-{value}");
    locales.format(lang, &id, None).unwrap_or_else(|| value.to_string())
}

/// A time as the staff read it: Europe/Rome, `dd/mm/yyyy HH:MM`.
pub fn local_time(t: Timestamp) -> String {
    crate::hours::shown(t)
}

/// A JSON time (RFC 3339) as [`local_time`]; `None` when absent or not a time.
pub fn json_time(v: &Value) -> Option<String> {
    v.as_str().and_then(|s| s.parse::<Timestamp>().ok()).map(local_time)
}

/// Labelled lines, the values aligned in a column after the longest label (no colon: its
/// spacing differs between Italian and French).
#[derive(Debug, Default)]
pub struct Sheet {
    rows: Vec<(String, String)>,
}

impl Sheet {
    /// Adds a line.
    pub fn row(&mut self, label: String, value: String) -> &mut Sheet {
        self.rows.push((label, value));
        self
    }

    /// The lines, each indented by `indent` spaces and ended by a newline.
    pub fn render(&self, indent: usize) -> String {
        let width = self.rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for (label, value) in &self.rows {
            let pad = width - label.chars().count() + 2;
            out.push_str(&format!("{:indent$}{label}{:pad$}{value}\n", "", ""));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_unless_a_person_reads_a_terminal() {
        assert_eq!(Output::decide(false, true), Output::Human);
        assert_eq!(Output::decide(true, true), Output::Json);
        assert_eq!(Output::decide(false, false), Output::Json);
        assert_eq!(Output::decide(true, false), Output::Json);
    }

    #[test]
    fn the_environment_picks_french_or_italian() {
        assert_eq!(language_of_env(Some("fr_FR.UTF-8"), Some("it_IT.UTF-8")), "fr");
        assert_eq!(language_of_env(None, Some("fr_CH.UTF-8")), "fr");
        assert_eq!(language_of_env(Some(""), Some("fr_FR")), "fr");
        assert_eq!(language_of_env(Some("it_IT.UTF-8"), Some("fr_FR")), "it");
        assert_eq!(language_of_env(Some("C.UTF-8"), None), "it");
        assert_eq!(language_of_env(None, None), "it");
    }

    #[test]
    fn times_are_local_to_rome() {
        // Winter (UTC+1) and summer (UTC+2).
        let winter: Timestamp = "2026-12-01T07:05:00Z".parse().unwrap();
        let summer: Timestamp = "2026-07-01T06:30:00Z".parse().unwrap();
        assert_eq!(local_time(winter), "01/12/2026 08:05");
        assert_eq!(local_time(summer), "01/07/2026 08:30");
        assert_eq!(
            json_time(&Value::from("2026-12-01T07:05:00Z")).as_deref(),
            Some("01/12/2026 08:05")
        );
        assert_eq!(json_time(&Value::Null), None);
    }

    #[test]
    fn sheet_aligns_values() {
        let mut s = Sheet::default();
        s.row("Stato".into(), "iscritto".into())
            .row("Lingua".into(), "it".into());
        assert_eq!(s.render(2), "  Stato   iscritto\n  Lingua  it\n");
    }
}
