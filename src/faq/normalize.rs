//! Folding what a citizen types into words: case and accent folding, punctuation,
//! Italian and French stop words, and a light stemmer for languages without a Snowball
//! one (`analyze` puts them together). Pure text in, words out; knows nothing about FAQ
//! entries or scoring.
//!
//! The stemmer is deliberately crude and shared by both languages: strip a few
//! inflectional suffixes and clitic pronouns, collapse doubled letters (Italian
//! spellings and typos both double and undouble: `cancelo`, `iscrizzione`), then keep
//! at most five letters. A five-letter prefix conflates `iscrizione`, `iscriversi`,
//! `iscritto` on `iscri`, and French `inscription`/`inscrire` on `inscr`.

use unicode_normalization::UnicodeNormalization;

/// Stems are cut to this many characters.
const STEM_LEN: usize = 5;

/// Function words and chat fillers of Italian and French, already folded (no accents).
/// Question words that carry intent (`quando`, `dove`, `quanto`, `chi`, `non`, `piu`,
/// `plus`) are deliberately kept.
const STOP_WORDS: &[&str] = &[
    // Italian articles, prepositions, conjunctions, pronouns
    "il",
    "lo",
    "la",
    "i",
    "gli",
    "le",
    "l",
    "un",
    "uno",
    "una",
    "un",
    "di",
    "a",
    "ad",
    "da",
    "in",
    "con",
    "su",
    "per",
    "tra",
    "fra",
    "e",
    "ed",
    "o",
    "od",
    "ma",
    "che",
    "cui",
    "se",
    "si",
    "mi",
    "ti",
    "ci",
    "vi",
    "ne",
    "del",
    "dello",
    "della",
    "dei",
    "degli",
    "delle",
    "al",
    "allo",
    "alla",
    "ai",
    "agli",
    "alle",
    "dal",
    "dallo",
    "dalla",
    "dai",
    "dagli",
    "dalle",
    "nel",
    "nello",
    "nella",
    "nei",
    "negli",
    "nelle",
    "sul",
    "sullo",
    "sulla",
    "sui",
    "sugli",
    "sulle",
    "col",
    "coi",
    "dell",
    "all",
    "dall",
    "nell",
    "sull",
    "quell",
    "quest",
    "c",
    "d",
    "m",
    "s",
    "t",
    "n",
    "io",
    "tu",
    "lui",
    "lei",
    "noi",
    "voi",
    "loro",
    "me",
    "te",
    "mio",
    "mia",
    "miei",
    "mie",
    "tuo",
    "tua",
    "suo",
    "sua",
    "suoi",
    "sue",
    "nostro",
    "vostro",
    "vostra",
    "questo",
    "questa",
    "questi",
    "queste",
    "quello",
    "quella",
    "anche",
    "ancora",
    "gia",
    "poi",
    "molto",
    "tutto",
    "tutti",
    "ecc",
    "etc",
    // Italian auxiliaries and chat
    "e",
    "sono",
    "sei",
    "siamo",
    "siete",
    "era",
    "essere",
    "ho",
    "hai",
    "ha",
    "abbiamo",
    "avete",
    "hanno",
    "avere",
    "come",
    "cosa",
    "cos",
    "qual",
    "quale",
    "quali",
    "perche",
    "faccio",
    "fa",
    "fare",
    "fate",
    "si",
    "posso",
    "puo",
    "possono",
    "potrei",
    "potete",
    "devo",
    "deve",
    "bisogna",
    "serve",
    "volevo",
    "vorrei",
    "voglio",
    "vuole",
    "sapere",
    "chiedere",
    "chiedo",
    "domanda",
    "buongiorno",
    "buonasera",
    "salve",
    "ciao",
    "grazie",
    "gentilmente",
    "cortesemente",
    "scusate",
    "scusi",
    "favore",
    "prego",
    "allora",
    "quindi",
    "ok",
    "per",
    "dire",
    "sto",
    "sta",
    "stato",
    "po",
    // French
    "le",
    "les",
    "des",
    "du",
    "au",
    "aux",
    "en",
    "et",
    "ou",
    "mais",
    "que",
    "qu",
    "qui",
    "quoi",
    "pas",
    "est",
    "sont",
    "suis",
    "je",
    "j",
    "il",
    "elle",
    "nous",
    "vous",
    "ils",
    "elles",
    "on",
    "ce",
    "cet",
    "cette",
    "ces",
    "mon",
    "ma",
    "mes",
    "ton",
    "ta",
    "tes",
    "son",
    "sa",
    "ses",
    "notre",
    "votre",
    "vos",
    "leur",
    "leurs",
    "pour",
    "par",
    "sur",
    "dans",
    "avec",
    "sans",
    "y",
    "bonjour",
    "bonsoir",
    "merci",
    "svp",
    "stp",
    "plait",
    "comment",
    "faire",
    "fais",
    "faut",
    "peux",
    "puis",
    "peut",
    "voudrais",
    "veux",
    "veut",
    "savoir",
    "dois",
    "doit",
    "ai",
    "as",
    "avez",
    "etre",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "pourquoi",
    "moi",
    "toi",
    "lui",
    "eux",
    "tout",
    "tous",
    "aussi",
    "alors",
    "donc",
];

/// Lowercase, accent-free words of `text`: letters and digits; everything else (spaces,
/// punctuation, apostrophes as in `l'iscrizione` or `m'inscrire`) separates words.
pub(crate) fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.replace(['œ'], "oe").replace('æ', "ae").replace('ß', "ss"))
        .collect()
}

/// Whether a folded word is a function word or a chat filler.
pub(crate) fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// The light stem of a folded word (see the module comment).
pub(crate) fn stem(word: &str) -> String {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return word.to_string();
    }
    let mut w: Vec<char> = word.chars().collect();
    strip_clitic(&mut w);
    strip_suffix(&mut w);
    // Collapse doubled letters: both spellings and typos vary on doubles.
    w.dedup();
    w.truncate(STEM_LEN);
    w.into_iter().collect()
}

/// Italian clitic pronouns after an infinitive or imperative: iscriver-mi, cancellar-mi,
/// cancella-mi, iscrivete-mi.
fn strip_clitic(w: &mut Vec<char>) {
    // Personal clitics also follow imperatives (iscrivi-mi); the others only follow an
    // infinitive, so that nouns such as `cancelo` (a typo) or `analisi` keep their end.
    const PERSONAL: &[&str] = &["mi", "ti", "ci", "vi"];
    const AFTER_INFINITIVE: &[&str] = &["si", "lo", "la", "li", "le", "ne", "gli"];
    if w.len() < 7 {
        return;
    }
    for c in PERSONAL.iter().chain(AFTER_INFINITIVE) {
        let n = c.chars().count();
        if ends_with(w, c) {
            let prev = w[w.len() - n - 1];
            if prev == 'r' || (PERSONAL.contains(c) && matches!(prev, 'a' | 'e' | 'i')) {
                w.truncate(w.len() - n);
                return;
            }
        }
    }
}

/// Removes the longest inflectional or derivational suffix that leaves at least three
/// letters. Italian first, then French; order within the list is longest first.
fn strip_suffix(w: &mut Vec<char>) {
    const SUFFIXES: &[&str] = &[
        // Italian
        "azione", "azioni", "amento", "amenti", "imento", "imenti", "mente", "zione", "zioni", "abile", "ibile", "iamo",
        "ando", "endo", "are", "ere", "ire", "ato", "ata", "ati", "ate", "ito", "ita", "iti", "ite", "uto", "uta",
        "uti", "ute", "ano", "ono", // infinitives left bare by a clitic (mandar-vi, uscir-ne)
        "ar", "ir", // French
        "ations", "ation", "ements", "ement", "ments", "ment", "eront", "erons", "erez", "ions", "iez", "ees", "ee",
        "er", "ez", "es", "ent", "s", // Both: final vowels of gender and number
        "io", "a", "e", "i", "o",
    ];
    let mut best = 0;
    for s in SUFFIXES {
        let n = s.chars().count();
        if n > best && w.len() >= n + 3 && ends_with(w, s) {
            best = n;
        }
    }
    w.truncate(w.len() - best);
}

fn ends_with(w: &[char], suffix: &str) -> bool {
    let s: Vec<char> = suffix.chars().collect();
    w.len() >= s.len() && w[w.len() - s.len()..] == s[..]
}

/// Optimal-string-alignment distance capped at 2 (we only ask "is it at most one?").
/// Adjacent transpositions count as one edit: `iscirzione` is one typo away.
pub(crate) fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    if a == b {
        return true;
    }
    if a.len() == b.len() {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        return match diff.as_slice() {
            [_] => true,
            [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
            _ => false,
        };
    }
    // One insertion or deletion: skip one char of the longer.
    let (short, long) = if a.len() < b.len() { (&a, &b) } else { (&b, &a) };
    let first_diff = (0..short.len()).find(|&i| short[i] != long[i]).unwrap_or(short.len());
    short[first_diff..] == long[first_diff + 1..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_punctuation() {
        assert_eq!(
            words("Perché?? L'ISCRIZIONE, è   già attiva!"),
            ["perche", "l", "iscrizione", "e", "gia", "attiva"]
        );
        assert_eq!(words("Désinscription—numéro"), ["desinscription", "numero"]);
    }

    #[test]
    fn inflections_meet() {
        let same = |a: &str, b: &str| assert_eq!(stem(a), stem(b), "{a} vs {b}");
        same("iscrizione", "iscriversi");
        same("iscrivermi", "iscritto");
        same("iscrizzione", "iscrizione");
        same("cancellami", "cancellazione");
        same("cancelo", "cancellarmi");
        same("orari", "orario");
        same("inscription", "inscrire");
        same("desinscrire", "desinscription");
        same("messaggi", "messaggio");
        assert_ne!(stem("iscrizione"), stem("inscription"));
    }

    #[test]
    fn stop_words_go() {
        let kept = |text: &str| words(text).into_iter().filter(|w| !is_stop_word(w)).collect::<Vec<_>>();
        assert_eq!(
            kept("Buongiorno, come faccio per la carta d'identità?"),
            ["carta", "identita"]
        );
        assert_eq!(kept("Bonjour, comment je fais pour m'inscrire ?"), ["inscrire"]);
        assert!(kept("non voglio più").contains(&"non".to_string()));
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit("iscri", "iscir"));
        assert!(within_one_edit("cance", "canc"));
        assert!(within_one_edit("orari", "orario"));
        assert!(within_one_edit("abc", "abd"));
        assert!(!within_one_edit("abcd", "badc"));
        assert!(!within_one_edit("priva", "provo"));
    }
}
