//! Requests and reports: questions that ask the desk to get something done elsewhere.
//!
//! A citizen who writes "mi serve il certificato di nascita di mia madre" or "c'è un
//! lampione rotto sul lungomare" is not asking about the WhatsApp service, and no FAQ
//! entry explains it; most comuni's notices say such messages go to the offices by the
//! usual channels. Listing every such sentence among a rule's triggers cannot cover them,
//! so they are modelled: a *request* is a first-person asking phrase ("vorrei", "mi
//! serve", "mi passate") together with an object the comune's offices handle (a
//! certificate, an appointment, the mayor, a tax) and no word of wanting to know ("come
//! si paga la TARI" and "vorrei informazioni sulla TARI" ask for information); a
//! *report* is announced ("vorrei segnalare"), or names a hazard ("buca", "perdita
//! d'acqua"), or a thing in public space together with a fault ("lampione" … "rotto").
//! Word classes are data, `lexicons/<lang>/requests.toml`, matched on Snowball's stems
//! as phrases of neighbouring words.
//!
//! Must not: know entries, rules or scores, log what a citizen wrote.

use std::sync::OnceLock;

use serde::Deserialize;

use super::analyze::Analyzer;

/// What a question asks for, beyond information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// Something an office does: a document, an appointment, a payment, a person.
    Request,
    /// Something broken or dangerous in public space.
    Report,
}

/// A language's word classes as written in its lexicon.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Classes {
    asking: Vec<String>,
    reporting: Vec<String>,
    information: Vec<String>,
    objects: Vec<String>,
    things: Vec<String>,
    faults: Vec<String>,
    hazards: Vec<String>,
}

/// The lexicon of `lang`, read once (an unknown language has none).
fn classes(lang: &str) -> &'static Classes {
    // The shipped files are checked by a test; a broken one must not stop the service.
    let read = |text: &str| toml::from_str::<Classes>(text).unwrap_or_default();
    static IT: OnceLock<Classes> = OnceLock::new();
    static FR: OnceLock<Classes> = OnceLock::new();
    static NONE: OnceLock<Classes> = OnceLock::new();
    match lang {
        "it" => IT.get_or_init(|| read(include_str!("../../lexicons/it/requests.toml"))),
        "fr" => FR.get_or_init(|| read(include_str!("../../lexicons/fr/requests.toml"))),
        _ => NONE.get_or_init(Classes::default),
    }
}

/// One class: its phrases as stem sequences.
#[derive(Debug, Clone, Default)]
struct Class(Vec<Vec<String>>);

impl Class {
    fn new(phrases: &[String], analyzer: &Analyzer) -> Class {
        let mut out: Vec<Vec<String>> = phrases
            .iter()
            .map(|p| stems(analyzer, p))
            .filter(|s| !s.is_empty())
            .collect();
        out.sort();
        out.dedup();
        Class(out)
    }

    fn in_text(&self, text: &[String]) -> bool {
        self.0.iter().any(|p| text.windows(p.len()).any(|w| w == p.as_slice()))
    }
}

/// Every word of `text`, synonyms read and stemmed (Snowball's whole stems, not the
/// matcher's five letters), stop words kept ("mi serve").
fn stems(analyzer: &Analyzer, text: &str) -> Vec<String> {
    analyzer.words(text).iter().map(|w| analyzer.snowball(w)).collect()
}

/// The word classes of one language, stemmed by that language's analyzer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Intents {
    asking: Class,
    reporting: Class,
    information: Class,
    objects: Class,
    things: Class,
    faults: Class,
    hazards: Class,
}

impl Intents {
    /// The classes of `lang` (`it`, `fr`; none for any other), stemmed by `analyzer`.
    pub(crate) fn new(lang: &str, analyzer: &Analyzer) -> Intents {
        let c = classes(lang);
        Intents {
            asking: Class::new(&c.asking, analyzer),
            reporting: Class::new(&c.reporting, analyzer),
            information: Class::new(&c.information, analyzer),
            objects: Class::new(&c.objects, analyzer),
            things: Class::new(&c.things, analyzer),
            faults: Class::new(&c.faults, analyzer),
            hazards: Class::new(&c.hazards, analyzer),
        }
    }

    /// What `question` asks for beyond information, if anything. A report wins over a
    /// request ("vorrei segnalare una buca").
    pub(crate) fn detect(&self, analyzer: &Analyzer, question: &str) -> Option<Intent> {
        let text = stems(analyzer, question);
        if self.reporting.in_text(&text)
            || self.hazards.in_text(&text)
            || (self.things.in_text(&text) && self.faults.in_text(&text))
        {
            return Some(Intent::Report);
        }
        let request = self.asking.in_text(&text) && self.objects.in_text(&text) && !self.information.in_text(&text);
        request.then_some(Intent::Request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faq::analyze::Lang;

    fn detect(lang: &str, question: &str) -> Option<Intent> {
        let analyzer = Analyzer::new(Lang::from_code(lang), &[]);
        Intents::new(lang, &analyzer).detect(&analyzer, question)
    }

    #[test]
    fn shipped_lexicons_are_read_whole() {
        // A broken file reads as empty at run time; here it must parse.
        for text in [
            include_str!("../../lexicons/it/requests.toml"),
            include_str!("../../lexicons/fr/requests.toml"),
        ] {
            toml::from_str::<Classes>(text).unwrap();
        }
        for lang in ["it", "fr"] {
            let c = classes(lang);
            for (name, class) in [
                ("asking", &c.asking),
                ("reporting", &c.reporting),
                ("information", &c.information),
                ("objects", &c.objects),
                ("things", &c.things),
                ("faults", &c.faults),
                ("hazards", &c.hazards),
            ] {
                assert!(class.len() >= 5, "{lang}/{name}: {} phrases", class.len());
            }
        }
    }

    // Sentences written for this test, not taken from the evaluation sets.
    #[test]
    fn requests_need_an_asking_phrase_or_act_and_an_object() {
        assert_eq!(
            detect("it", "avrei bisogno di un estratto di nascita"),
            Some(Intent::Request)
        );
        assert_eq!(
            detect("it", "potrei parlare con la polizia locale?"),
            Some(Intent::Request)
        );
        assert_eq!(detect("it", "mi passate l'ufficio tributi?"), Some(Intent::Request));
        // Asking to know, or how something is done, is a question for information.
        assert_eq!(detect("it", "vorrei delle informazioni sull'IMU"), None);
        assert_eq!(detect("fr", "je voudrais savoir quand payer la taxe"), None);
        assert_eq!(detect("it", "come si paga il canone dell'acqua"), None);
        assert_eq!(
            detect("fr", "je voudrais une attestation de domicile"),
            Some(Intent::Request)
        );
        // An object alone is a question for information, not a request.
        assert_eq!(detect("it", "chi è il sindaco"), None);
        assert_eq!(detect("it", "quanto costa il passaporto"), None);
        // Asking without an object is about the service.
        assert_eq!(detect("it", "posso iscrivermi anche dal sito?"), None);
        assert_eq!(detect("fr", "je veux me désinscrire"), None);
    }

    #[test]
    fn reports_name_a_hazard_or_a_thing_and_its_fault() {
        assert_eq!(detect("it", "in piazza c'è una voragine"), Some(Intent::Report));
        assert_eq!(
            detect("it", "il semaforo dell'incrocio non funziona"),
            Some(Intent::Report)
        );
        assert_eq!(
            detect("it", "vorrei segnalare dei cassonetti abbandonati"),
            Some(Intent::Report)
        );
        assert_eq!(detect("fr", "le panneau du parking est tombé"), Some(Intent::Report));
        assert_eq!(detect("it", "volevo fare una segnalazione"), Some(Intent::Report));
        // A thing without a fault is not a report.
        assert_eq!(detect("it", "quando puliscono la strada"), None);
        assert_eq!(detect("fr", "où est la fontaine"), None);
    }
}
