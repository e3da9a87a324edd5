//! Reading FAQ data: the `faq/<comune>.toml` files and operators' CSV exports, with
//! validation. Produces plain entries and out-of-scope rules; knows nothing of matching.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;

use super::{csv, Entry, FaqError, OutOfScope};

/// Languages an entry may be written in.
const LANGS: &[&str] = &["it", "fr"];

/// The shape of `faq/<comune>.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default, rename = "entry")]
    entries: Vec<Entry>,
    #[serde(default)]
    out_of_scope: Vec<OutOfScope>,
    /// The comune's local names: groups of phrases that mean the same ("ufficio
    /// anagrafe", "servizi demografici").
    #[serde(default)]
    synonyms: Vec<Vec<String>>,
}

/// A comune's FAQ file as read: entries, out-of-scope rules, synonym groups.
pub(crate) type Parts = (Vec<Entry>, Vec<OutOfScope>, Vec<Vec<String>>);

pub(crate) fn from_toml(text: &str) -> Result<Parts, FaqError> {
    let file: File = toml::from_str(text).map_err(|e| FaqError::Toml(e.to_string()))?;
    validate(&file.entries, &file.out_of_scope)?;
    Ok((file.entries, file.out_of_scope, file.synonyms))
}

/// A language's own synonym groups, `lexicons/<lang>/synonyms.toml` (`groups = [[…]]`),
/// read once.
pub(crate) fn language_synonyms(lang: &str) -> &'static [Vec<String>] {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Groups {
        groups: Vec<Vec<String>>,
    }
    // The shipped files are checked by a test; a broken one must not stop the service.
    let read = |text: &str| toml::from_str::<Groups>(text).map(|g| g.groups).unwrap_or_default();
    static IT: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    static FR: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    match lang {
        "it" => IT.get_or_init(|| read(include_str!("../../lexicons/it/synonyms.toml"))),
        "fr" => FR.get_or_init(|| read(include_str!("../../lexicons/fr/synonyms.toml"))),
        _ => &[],
    }
}

/// Reads a CSV whose header names at least `id`, `question` and `answer` (any case, any
/// order); `lang`, `link` and `placeholder` are used when present, other columns are
/// ignored. Rows sharing an id (and language) are variants of one entry; its answer is
/// the first non-empty one.
pub(crate) fn from_csv(text: &str) -> Result<Vec<Entry>, FaqError> {
    let rows = csv::parse(text, csv::detect_delimiter(text)).map_err(|e| FaqError::Csv {
        line: e.line,
        reason: e.reason.to_string(),
    })?;
    let Some((header, body)) = rows.split_first() else {
        return Err(FaqError::Csv {
            line: 1,
            reason: "empty file: a header with id, question, answer is needed".into(),
        });
    };
    let col = |name: &str| header.fields.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let missing = |name: &str| FaqError::Csv {
        line: 1,
        reason: format!("no {name:?} column in the header"),
    };
    let id_col = col("id").ok_or_else(|| missing("id"))?;
    let question_col = col("question").ok_or_else(|| missing("question"))?;
    let answer_col = col("answer").ok_or_else(|| missing("answer"))?;
    let (lang_col, link_col, placeholder_col) = (col("lang"), col("link"), col("placeholder"));

    // (id, lang) -> position in `entries`, keeping first-seen order.
    let mut by_key: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut entries: Vec<Entry> = Vec::new();
    for row in body {
        let cell = |i: Option<usize>| i.and_then(|i| row.fields.get(i)).map(|s| s.trim()).unwrap_or("");
        let id = cell(Some(id_col));
        if id.is_empty() {
            return Err(FaqError::Csv {
                line: row.line,
                reason: "empty id".into(),
            });
        }
        let lang = match cell(lang_col) {
            "" => "it",
            l => l,
        };
        let key = (id.to_string(), lang.to_ascii_lowercase());
        let at = *by_key.entry(key.clone()).or_insert_with(|| {
            entries.push(Entry {
                id: key.0.clone(),
                lang: key.1.clone(),
                questions: Vec::new(),
                answer: String::new(),
                link: None,
                placeholder: false,
            });
            entries.len() - 1
        });
        let entry = &mut entries[at];
        let question = cell(Some(question_col));
        if !question.is_empty() {
            entry.questions.push(question.to_string());
        }
        if entry.answer.is_empty() {
            entry.answer = cell(Some(answer_col)).to_string();
        }
        if entry.link.is_none() && !cell(link_col).is_empty() {
            entry.link = Some(cell(link_col).to_string());
        }
        entry.placeholder |= matches!(
            cell(placeholder_col).to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "si" | "sì"
        );
    }
    validate(&entries, &[])?;
    Ok(entries)
}

/// Checks what the matcher and the engine rely on; the message names the entry.
pub(crate) fn validate(entries: &[Entry], rules: &[OutOfScope]) -> Result<(), FaqError> {
    let invalid = |id: &str, reason: &str| {
        Err(FaqError::Invalid {
            id: id.to_string(),
            reason: reason.to_string(),
        })
    };
    let mut seen = HashSet::new();
    for e in entries {
        if !is_kebab_case(&e.id) {
            return invalid(&e.id, "id must be kebab-case (a-z, 0-9, '-')");
        }
        if !LANGS.contains(&e.lang.as_str()) {
            return invalid(&e.id, "lang must be \"it\" or \"fr\"");
        }
        if !seen.insert((e.id.as_str(), e.lang.as_str())) {
            return invalid(&e.id, "the same id appears twice in one language");
        }
        if e.questions.iter().all(|q| q.trim().is_empty()) {
            return invalid(&e.id, "no question variants");
        }
        if e.answer.trim().is_empty() {
            return invalid(&e.id, "empty answer");
        }
    }
    let mut seen_rules = HashSet::new();
    for r in rules {
        if !is_kebab_case(&r.id) {
            return invalid(&r.id, "out_of_scope id must be kebab-case (a-z, 0-9, '-')");
        }
        if !LANGS.contains(&r.lang.as_str()) {
            return invalid(&r.id, "lang must be \"it\" or \"fr\"");
        }
        if !seen_rules.insert((r.id.as_str(), r.lang.as_str())) {
            return invalid(&r.id, "the same out_of_scope id appears twice in one language");
        }
        if entries.iter().any(|e| e.id == r.id) {
            return invalid(&r.id, "an out_of_scope id must differ from every entry id");
        }
        if r.triggers.iter().all(|t| t.trim().is_empty()) || r.redirect.trim().is_empty() {
            return invalid(&r.id, "out_of_scope needs triggers and a redirect");
        }
    }
    Ok(())
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_synonym_files_read_whole() {
        for (lang, text) in [
            ("it", include_str!("../../lexicons/it/synonyms.toml")),
            ("fr", include_str!("../../lexicons/fr/synonyms.toml")),
        ] {
            let raw: toml::Value = toml::from_str(text).expect("valid TOML");
            let n = raw["groups"].as_array().expect("groups").len();
            assert!(n > 0, "{lang}");
            assert_eq!(language_synonyms(lang).len(), n, "{lang}: every group read");
        }
        assert!(language_synonyms("de").is_empty());
    }

    #[test]
    fn csv_comma_semicolon_and_variants() {
        let comma = "id,question,answer,notes\norari,quando siete aperti,\"Lun-ven, 9-13\",x\norari,orario,,\n";
        let semi = "ID;Question;Answer\norari;quando siete aperti;\"Lun-ven; 9-13\"\norari;orario;\n";
        for (text, answer) in [(comma, "Lun-ven, 9-13"), (semi, "Lun-ven; 9-13")] {
            let entries = from_csv(text).unwrap();
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].questions, ["quando siete aperti", "orario"]);
            assert_eq!(entries[0].answer, answer);
            assert_eq!(entries[0].lang, "it");
        }
    }

    #[test]
    fn csv_errors_name_the_problem() {
        assert!(matches!(from_csv(""), Err(FaqError::Csv { line: 1, .. })));
        let e = from_csv("id,domanda,answer\n").unwrap_err();
        assert!(e.to_string().contains("\"question\""), "{e}");
        let e = from_csv("id,question,answer\nOrari!,q,a\n").unwrap_err();
        assert!(e.to_string().contains("kebab-case"), "{e}");
        assert!(from_csv("id,question,answer\nx,q,\n").is_err());
        assert!(from_csv("id,question,answer\n,q,a\n").is_err());
    }

    #[test]
    fn toml_validation() {
        let ok = "[[entry]]\nid = \"a\"\nlang = \"it\"\nquestions = [\"q\"]\nanswer = \"r\"\n";
        assert!(from_toml(ok).is_ok());
        assert!(from_toml(&ok.replace("\"it\"", "\"de\"")).is_err());
        assert!(from_toml(&format!("{ok}{ok}")).is_err());
        assert!(from_toml(&format!(
            "{ok}[[out_of_scope]]\nid = \"a\"\nlang = \"it\"\ntriggers = [\"t\"]\nredirect = \"r\"\n"
        ))
        .is_err());
        assert!(from_toml("entry = 3").is_err());
        assert!(from_toml(&ok.replace("answer", "answr")).is_err());
    }
}
