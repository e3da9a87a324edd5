//! The FAQ as staff review it (issue 19): every entry the bot answers with and where it
//! comes from (the comune's file, edited in the console, added in the console), how often
//! each was used this month (the anonymous counters), and the month's questions the bot
//! handed to staff, with personal data hidden, so that staff can write the missing entries.
//! The out-of-scope rules (topics the bot redirects elsewhere) are listed too: they are
//! answers the bot gives, though the console does not edit them.
//!
//! Plain functions over the engine and the store, shared by the console, the API and the
//! command line. Must not render, and never returns whose a question was: no number, no
//! name, no citizen reference leaves this module.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::Timestamp;
use regex::Regex;
use serde::Serialize;

use crate::faq::{Entry, Faq, OutOfScope};
use crate::moderation::pii::Detectors;
use crate::service::runner::Engine;
use crate::storage::keys::month_of;
use crate::storage::{Author, CitizenKey, FaqEdit, Store, StoreError};

/// At most this many unanswered questions are listed.
pub const UNANSWERED_SHOWN: usize = 50;

/// What hides a piece of personal data in a listed question.
pub const MASK: &str = "•••";

/// Where an entry the bot answers with comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The comune's FAQ file (`faq/<comune>.toml`, built in or from `./faq`), unchanged.
    File,
    /// An entry of the file, overridden in the console.
    Edited,
    /// An entry the file does not have, added in the console.
    Added,
}

/// One entry as the bot answers with it now, and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub entry: Entry,
    pub origin: Origin,
    /// When the console's change was saved (`None` for a file entry).
    pub changed_at: Option<Timestamp>,
}

/// Where `entry` (as the bot has it now) comes from, given the file and the stored edits.
/// An edit counts only when it is what the bot uses: edits that no longer fit the file are
/// ignored by the engine (`service::live`), and the file's entry is then shown as such.
pub fn origin(entry: &Entry, file: Option<&Faq>, edits: &[FaqEdit]) -> (Origin, Option<Timestamp>) {
    let edit = edits
        .iter()
        .rev()
        .find(|x| x.id == entry.id && x.lang == entry.lang && x.entry.as_ref() == Some(entry));
    let Some(edit) = edit else {
        return (Origin::File, None);
    };
    let in_file = file.is_some_and(|f| f.entries().iter().any(|e| e.id == entry.id && e.lang == entry.lang));
    let origin = if in_file { Origin::Edited } else { Origin::Added };
    (origin, Some(edit.at))
}

/// Every entry the bot answers with for `comune` (the file's entries with the console's
/// edits overlaid, in the engine's order), each with its origin.
pub fn entries(engine: &Engine, comune: &str) -> Result<Vec<Listed>, StoreError> {
    let live = engine.live()?;
    let Some(faq) = live.faq(comune) else {
        return Ok(Vec::new());
    };
    let file = engine.faqs.get(comune);
    let edits = engine.store.faq_edits(comune)?;
    Ok(faq
        .entries()
        .iter()
        .map(|e| {
            let (origin, changed_at) = origin(e, file, &edits);
            Listed {
                entry: e.clone(),
                origin,
                changed_at,
            }
        })
        .collect())
}

/// The comune's out-of-scope rules as the bot applies them (from the file: the console's
/// edits change entries only).
pub fn out_of_scope(engine: &Engine, comune: &str) -> Result<Vec<OutOfScope>, StoreError> {
    let live = engine.live()?;
    Ok(live.faq(comune).map(|f| f.out_of_scope().to_vec()).unwrap_or_default())
}

/// This month's use of each entry, by entry id: (times the bot answered with it, times a
/// citizen picked it among the buttons offered), from the counters `faq-answered:<id>` and
/// `faq-picked:<id>` of `month` (`YYYY-MM`, Europe/Rome: see `storage::keys::month_of`). An entry
/// never used is absent; callers show 0.
pub fn usage(store: &dyn Store, comune: &str, month: &str) -> Result<BTreeMap<String, (u64, u64)>, StoreError> {
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (m, key, n) in store.counters(comune)? {
        if m != month {
            continue;
        }
        if let Some(id) = key.strip_prefix("faq-answered:") {
            out.entry(id.to_string()).or_default().0 += n;
        } else if let Some(id) = key.strip_prefix("faq-picked:") {
            out.entry(id.to_string()).or_default().1 += n;
        }
    }
    Ok(out)
}

/// A question the bot handed to staff, as the FAQ page lists it: when, and the text with
/// personal data hidden. Deliberately nothing about who asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unanswered {
    pub at: Timestamp,
    pub text: String,
}

/// What citizens wrote to the desk in `month` (`YYYY-MM`, Europe/Rome), newest first, at
/// most `limit`, masked with [`mask_personal`] (the writer's registered names included).
/// These are the messages the bot did not answer itself: questions the FAQ could not
/// answer surely, requests for a person, and what citizens added while staff held the
/// conversation.
pub fn unanswered(store: &dyn Store, comune: &str, month: &str, limit: usize) -> Result<Vec<Unanswered>, StoreError> {
    let mut found: Vec<(Timestamp, String, CitizenKey)> = Vec::new();
    for conv in store.conversations(comune)? {
        for line in conv.lines {
            if line.author == Author::Citizen && !line.text.trim().is_empty() && month_of(line.at) == month {
                found.push((line.at, line.text, conv.key.clone()));
            }
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.truncate(limit);
    let mut names: BTreeMap<CitizenKey, Vec<String>> = BTreeMap::new();
    let mut out = Vec::with_capacity(found.len());
    for (at, text, key) in found {
        if !names.contains_key(&key) {
            let fields = store.citizen(&key)?.map(|c| c.fields).unwrap_or_default();
            let own: Vec<String> = ["first_name", "last_name", "full_name"]
                .iter()
                .filter_map(|k| fields.get(*k))
                .flat_map(|v| v.split_whitespace().map(String::from))
                .collect();
            names.insert(key.clone(), own);
        }
        out.push(Unanswered {
            at,
            text: mask_personal(text.trim(), &names[&key]),
        });
    }
    Ok(out)
}

/// The moderation's detectors, compiled once (fixed patterns).
fn detectors() -> &'static Detectors {
    static D: OnceLock<Detectors> = OnceLock::new();
    D.get_or_init(Detectors::new)
}

/// The safety net's patterns, compiled once: a number of five digits or more (single
/// spaces, dots or dashes between, an optional `+`), and a word mixing letters and digits.
fn nets() -> &'static (Regex, Regex) {
    static N: OnceLock<(Regex, Regex)> = OnceLock::new();
    N.get_or_init(|| {
        (
            Regex::new(r"\+?[0-9](?:[ .\-]?[0-9])*").expect("built-in pattern"),
            Regex::new(r"[A-Za-z0-9]+").expect("built-in pattern"),
        )
    })
}

/// `text` with personal data replaced by [`MASK`]: whatever the moderation's detectors
/// find (phones, e-mail addresses, codici fiscali, IBANs, ID cards, street addresses with
/// a house number), and, as a safety net, any word holding an `@`, any number of five
/// digits or more (a phone, a practice or card number), any code of five characters or
/// more mixing letters and at least two digits, and the words of `names`.
pub fn mask_personal(text: &str, names: &[String]) -> String {
    let mut spans: Vec<(usize, usize)> = detectors().find(text, &[]).iter().map(|h| (h.start, h.end)).collect();
    let (number, word) = nets();
    let mut at = 0;
    for token in text.split_whitespace() {
        let start = at + text[at..].find(token).unwrap_or(0);
        at = start + token.len();
        if token.contains('@') {
            let core = token.trim_matches(|c: char| !c.is_alphanumeric());
            let skip = token.find(core).unwrap_or(0);
            spans.push((start + skip, start + skip + core.len()));
        }
    }
    for m in number.find_iter(text) {
        if m.as_str().bytes().filter(u8::is_ascii_digit).count() >= 5 {
            spans.push((m.start(), m.end()));
        }
    }
    for m in word.find_iter(text) {
        let w = m.as_str();
        let digits = w.bytes().filter(u8::is_ascii_digit).count();
        if w.len() >= 5 && digits >= 2 && digits < w.len() {
            spans.push((m.start(), m.end()));
        }
    }
    let lower = text.to_lowercase();
    // Lower-casing may change byte lengths; match names only when it did not.
    if lower.len() == text.len() {
        for name in names.iter().filter(|n| n.chars().count() >= 2) {
            let name = name.to_lowercase();
            let mut from = 0;
            while let Some(i) = lower[from..].find(&name) {
                let (s, e) = (from + i, from + i + name.len());
                let before = lower[..s].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
                let after = lower[e..].chars().next().is_none_or(|c| !c.is_alphanumeric());
                if before && after {
                    spans.push((s, e));
                }
                from = e;
            }
        }
    }
    // Overlapping or touching spans (a name inside an e-mail address) hide as one.
    spans.sort();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (s, e) in merged {
        out.push_str(&text[done..s]);
        out.push_str(MASK);
        done = e;
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(e: Option<Entry>, id: &str) -> FaqEdit {
        FaqEdit {
            id: id.into(),
            lang: "it".into(),
            entry: e,
            at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn origins_tell_file_edited_and_added_apart() {
        let file = Faq::from_entries(vec![Entry::sample("orari", "9-13"), Entry::sample("tari", "giugno")]).unwrap();
        let edits = [
            edit(Some(Entry::sample("orari", "9-12")), "orari"),
            edit(Some(Entry::sample("biblioteca", "15")), "biblioteca"),
        ];
        let o = |e: &Entry| origin(e, Some(&file), &edits).0;
        assert_eq!(o(&Entry::sample("tari", "giugno")), Origin::File);
        assert_eq!(o(&Entry::sample("orari", "9-12")), Origin::Edited);
        assert_eq!(o(&Entry::sample("biblioteca", "15")), Origin::Added);
        // An edit the engine could not apply leaves the file's entry in use: shown as such.
        assert_eq!(
            origin(&Entry::sample("orari", "9-13"), Some(&file), &edits),
            (Origin::File, None)
        );
        // Without a file, every entry was added in the console.
        assert_eq!(origin(&Entry::sample("orari", "9-12"), None, &edits).0, Origin::Added);
    }

    #[test]
    fn emails_phones_and_codes_are_masked() {
        let m = |t: &str| mask_personal(t, &[]);
        assert_eq!(
            m("scrivetemi a mario.rossi@gmail.com o al 347 1234567, grazie"),
            "scrivetemi a ••• o al •••, grazie"
        );
        assert_eq!(m("il mio numero è +39 333 123 4567"), "il mio numero è •••");
        assert_eq!(m("pratica n. 20261234 del comune"), "pratica n. ••• del comune");
        assert_eq!(m("codice RSSMRA80A01H501X errato"), "codice ••• errato");
        assert_eq!(m("tessera AB12345CD"), "tessera •••");
        assert_eq!(m("urp@comune.assemini.ca.it?"), "•••?");
        assert_eq!(m("393331234567"), "•••");
        // Ordinary questions keep their words, times, years and small numbers.
        let plain = "quando apre l'anagrafe il 24/12 alle 9:30 nel 2026? ho 2 figli";
        assert_eq!(m(plain), plain);
    }

    #[test]
    fn the_writers_names_are_masked_as_whole_words() {
        let names = ["Mario".to_string(), "Rossi".to_string()];
        assert_eq!(
            mask_personal("sono mario ROSSI, cerco marione rossini", &names),
            "sono ••• •••, cerco marione rossini"
        );
        assert_eq!(mask_personal("Città: è aperto?", &["è".into()]), "Città: è aperto?");
        // A name inside an e-mail address: one mask for the whole address.
        assert_eq!(mask_personal("mario.rossi@gmail.com", &names), "•••");
    }
}
