//! Words to matching terms for one language: folding, synonyms and local names, stop
//! words, Snowball stemming.
//!
//! A synonym group is a list of phrases that mean the same to a citizen ("ufficio
//! anagrafe", "servizi demografici"; "tari", "tassa rifiuti"): wherever one of them occurs,
//! in a question variant, an answer or a citizen's question, it is read as the group's
//! first phrase. Groups come from `lexicons/<lang>/synonyms.toml` (the language's own)
//! and from the comune's FAQ file (its local names).
//!
//! Stems are Snowball's (`rust-stemmers`) for Italian and French, then doubled letters
//! collapsed (spellings and typos vary on doubles: `iscrizzione`) and cut to
//! [`STEM_LEN`] letters, which also conflates derivations Snowball keeps apart
//! (`iscrizione`, `iscriversi`, `iscritto`). Other languages get the light stemmer of
//! [`super::normalize`].
//!
//! Must not: know entries or scores, log what a citizen wrote.

use rust_stemmers::{Algorithm, Stemmer};

use super::normalize;

/// Stems are cut to this many letters.
pub const STEM_LEN: usize = 5;

/// The languages with a Snowball stemmer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    It,
    Fr,
    /// Any other, or several at once: the light stemmer.
    Other,
}

impl Lang {
    /// `it`, `fr`, anything else.
    pub fn from_code(code: &str) -> Lang {
        match code {
            "it" => Lang::It,
            "fr" => Lang::Fr,
            _ => Lang::Other,
        }
    }
}

/// How one language's text becomes terms.
#[derive(Debug, Clone)]
pub struct Analyzer {
    lang: Lang,
    /// Synonym phrases (folded words) and the phrase they are read as, longest first.
    synonyms: Vec<(Vec<String>, Vec<String>)>,
    /// One-word synonyms of a one-word first phrase, by stem: their inflections meet too
    /// ("tolto", "togliere" → "cancellare").
    stems: std::collections::HashMap<String, String>,
}

impl Analyzer {
    /// An analyzer for `lang` reading every phrase of a group in `groups` as its first.
    pub fn new(lang: Lang, groups: &[Vec<String>]) -> Analyzer {
        let mut synonyms = Vec::new();
        for group in groups {
            let mut phrases = group.iter().map(|p| normalize::words(p)).filter(|w| !w.is_empty());
            let Some(canonical) = phrases.next() else { continue };
            // The first phrase stands for itself, so that a shorter member inside it
            // ("anagrafe" in "ufficio anagrafe") is not read twice.
            synonyms.push((canonical.clone(), canonical.clone()));
            for phrase in phrases {
                if phrase != canonical {
                    synonyms.push((phrase, canonical.clone()));
                }
            }
        }
        synonyms.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let mut analyzer = Analyzer {
            lang,
            synonyms,
            stems: std::collections::HashMap::new(),
        };
        let mut stems = std::collections::HashMap::new();
        for (phrase, canonical) in &analyzer.synonyms {
            if let ([word], [first]) = (phrase.as_slice(), canonical.as_slice()) {
                if word == first {
                    continue;
                }
                let (from, to) = (analyzer.stem_word(word), analyzer.stem_word(first));
                if from != to {
                    stems.insert(from, to);
                }
            }
        }
        analyzer.stems = stems;
        analyzer
    }

    /// The folded words of `text`, every synonym phrase replaced by its group's first.
    pub fn words(&self, text: &str) -> Vec<String> {
        let words = normalize::words(text);
        if self.synonyms.is_empty() {
            return words;
        }
        let mut out = Vec::with_capacity(words.len());
        let mut at = 0;
        'word: while at < words.len() {
            for (phrase, canonical) in &self.synonyms {
                if words[at..].starts_with(phrase) {
                    out.extend(canonical.iter().cloned());
                    at += phrase.len();
                    continue 'word;
                }
            }
            out.push(words[at].clone());
            at += 1;
        }
        out
    }

    /// The stem of a folded word, one-word synonyms read as their group's first.
    pub fn stem(&self, word: &str) -> String {
        let stem = self.stem_word(word);
        match self.stems.get(&stem) {
            Some(to) => to.clone(),
            None => stem,
        }
    }

    /// The stem of a folded word.
    fn stem_word(&self, word: &str) -> String {
        let stem = self.snowball(word);
        if self.lang == Lang::Other || word.chars().any(|c| c.is_ascii_digit()) {
            return stem;
        }
        stem.chars().take(STEM_LEN).collect()
    }

    /// Snowball's stem of a folded word, doubled letters collapsed, not cut: precise
    /// enough to tell a word class apart ("funziona", "funzionario").
    pub fn snowball(&self, word: &str) -> String {
        if word.chars().any(|c| c.is_ascii_digit()) {
            return word.to_string();
        }
        let algorithm = match self.lang {
            Lang::It => Algorithm::Italian,
            Lang::Fr => Algorithm::French,
            Lang::Other => return normalize::stem(word),
        };
        let stemmed = Stemmer::create(algorithm).stem(word).into_owned();
        let mut letters: Vec<char> = stemmed.chars().collect();
        letters.dedup();
        letters.into_iter().collect()
    }

    /// Matching terms of `text`, in order: synonyms read, stop words out, stemmed.
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.words(text)
            .iter()
            .filter(|w| !normalize::is_stop_word(w))
            .map(|w| self.stem(w))
            .filter(|s| !s.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn italian() -> Analyzer {
        Analyzer::new(
            Lang::It,
            &[
                vec![
                    "ufficio anagrafe".into(),
                    "servizi demografici".into(),
                    "anagrafe".into(),
                ],
                vec!["tari".into(), "tassa rifiuti".into(), "tassa sui rifiuti".into()],
            ],
        )
    }

    #[test]
    fn synonyms_are_read_as_the_first_phrase_of_their_group() {
        let a = italian();
        assert_eq!(
            a.terms("orari dell'ufficio anagrafe"),
            a.terms("orari dei servizi demografici")
        );
        assert_eq!(
            a.terms("quando scade la tassa sui rifiuti?"),
            a.terms("quando scade la TARI")
        );
        assert_eq!(a.terms("l'anagrafe"), a.terms("ufficio anagrafe"));
    }

    #[test]
    fn inflections_and_derivations_meet() {
        let a = italian();
        let same = |x: &str, y: &str| assert_eq!(a.stem(x), a.stem(y), "{x} vs {y}");
        same("iscrizione", "iscriversi");
        same("iscrizzione", "iscrizione");
        same("orari", "orario");
        same("messaggi", "messaggio");
        let f = Analyzer::new(Lang::Fr, &[]);
        assert_eq!(f.stem("inscription"), f.stem("inscriptions"));
        assert_eq!(f.stem("horaires"), f.stem("horaire"));
    }
}
