//! The word classes of `offence.toml`: which class each word or phrase of a message
//! belongs to, found in one pass over its tokens.
//!
//! An entry is a phrase of folded words; a word ending in `*` matches any word starting
//! with it (`ladr*`: ladro, ladri, ladra). A word of the message that matches no entry
//! exactly is tried again, when it is long enough, with one letter missing or added, or
//! two swapped (`immigarti`, `immigrti` → `immigrati`): a deletion index
//! (every entry word with one letter dropped) answers that in a few lookups. A `*` written
//! inside a word of the message stands for one letter or more (`fr*ci`, `p*d*s`). Words
//! run together (`lesjuifssontdesrats`, `tuttiladri`) are cut back into entry words and
//! short function words ([`Words::segment`]).
//!
//! Must not: know what a class means (see `compose`), allocate per lookup beyond a few
//! small strings.

use std::collections::HashMap;

use super::trie::Trie;

mod cut;

/// Words shorter than this are never matched approximately: short words are too close to
/// each other (`rom` / `ron`, `neri` / `nei`).
pub const FUZZY_MIN: usize = 6;

/// One word of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pat {
    Exact(String),
    Prefix(String),
}

impl Pat {
    fn parse(word: &str) -> Pat {
        match word.strip_suffix('*') {
            Some(p) => Pat::Prefix(p.to_string()),
            None => Pat::Exact(word.to_string()),
        }
    }

    fn matches(&self, token: &str) -> bool {
        match self {
            Pat::Exact(w) => w == token,
            Pat::Prefix(p) => token.starts_with(p.as_str()),
        }
    }
}

/// An entry: its class and its words.
#[derive(Debug, Clone)]
struct Entry<C> {
    class: C,
    words: Vec<Pat>,
    /// A target or predicate, not a cue (`content` at build).
    content: bool,
}

/// A class found in a message: tokens `from..to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag<C> {
    pub class: C,
    pub from: usize,
    pub to: usize,
    /// Found only approximately (a letter off).
    pub fuzzy: bool,
}

/// The compiled classes of one language.
#[derive(Debug, Clone)]
pub struct Words<C> {
    entries: Vec<Entry<C>>,
    /// Entries by their first word, when it is exact.
    by_exact: HashMap<String, Vec<usize>>,
    /// Entries by their first word's prefix, as a byte trie: one walk along a word finds
    /// every prefix entry it starts with.
    trie: Trie<Vec<usize>>,
    /// Whole word forms of entries' first words (an exact word, or a prefix with a usual
    /// ending) → the entries, for approximate matching.
    forms: HashMap<String, Vec<usize>>,
    /// A form with one letter dropped (or whole) → the forms it comes from.
    deletions: HashMap<String, Vec<String>>,
    /// Every piece a word run together may be cut into, as a byte trie: the short
    /// function words of `glue` and the forms of content entries' first words.
    pieces: Trie<Piece>,
    /// Spellings people swap in (`k` for `ch`): (written, meant).
    pub respell: Vec<(String, String)>,
}

/// What ends at a node of the pieces trie: whether a piece ends here, and whether that
/// piece is content (a form of a target or predicate entry, not a function word or a cue).
#[derive(Debug, Clone, Default)]
struct Piece {
    end: bool,
    /// A prefix entry ends here: the piece may go on for up to [`OPEN_ENDING`] letters.
    open: bool,
    content: bool,
}

/// How many letters a prefix entry (`ladr*`) may take after it inside a word run
/// together, or before a word counts as unknown (`ladroni`, not `ladrisono`).
const OPEN_ENDING: usize = 3;

/// Endings added to a prefix entry (`immigrat*`) to give whole forms to match
/// approximately: Italian and French nouns and adjectives.
const ENDINGS: [&str; 9] = ["", "a", "e", "i", "o", "s", "es", "x", "es"];

impl<C: Copy + PartialEq> Words<C> {
    /// Compiles `entries` (class, phrase of already folded words). `fuzzy(class)` says how
    /// long a word of that class must be to be matched a letter off (`usize::MAX`: never);
    /// `content(class)` whether a word of that class carries meaning of its own (a word
    /// run together is only cut when one of its pieces does); `glue` lists the short words
    /// people run into their neighbours ("albanesisono", "lesjuifssont").
    pub fn build(
        list: impl IntoIterator<Item = (C, Vec<String>)>,
        fuzzy: impl Fn(C, bool) -> usize,
        content: impl Fn(C) -> bool,
        glue: Vec<String>,
    ) -> Words<C> {
        let mut words = Words {
            pieces: Trie::new(),
            respell: Vec::new(),
            entries: Vec::new(),
            by_exact: HashMap::new(),
            trie: Trie::new(),
            forms: HashMap::new(),
            deletions: HashMap::new(),
        };
        for (class, phrase) in list {
            if phrase.is_empty() {
                continue;
            }
            let pats: Vec<Pat> = phrase.iter().map(|w| Pat::parse(w)).collect();
            let i = words.entries.len();
            let shortest = fuzzy(class, matches!(pats[0], Pat::Prefix(_))).max(FUZZY_MIN);
            let forms: Vec<String> = match &pats[0] {
                Pat::Exact(w) => {
                    words.by_exact.entry(w.clone()).or_default().push(i);
                    vec![w.clone()]
                }
                Pat::Prefix(p) => {
                    words.trie.insert(p).push(i);
                    ENDINGS.iter().map(|e| format!("{p}{e}")).collect()
                }
            };
            // Pieces are content words of four letters or more ("con" would cut
            // "concession") and the function words of `glue`; cues are not pieces.
            let piece = content(class);
            if let Pat::Prefix(p) = &pats[0] {
                if piece && p.len() >= 4 {
                    words.add_piece(p, true, true);
                }
            }
            // Every form can be met with hidden letters (`tr*ie`); only long ones a letter off.
            for form in forms {
                if piece && form.len() >= 4 {
                    words.add_piece(&form, true, false);
                }
                let entries = words.forms.entry(form.clone()).or_default();
                if !entries.contains(&i) {
                    entries.push(i);
                }
                if form.chars().count() < shortest {
                    continue;
                }
                for d in deletions(&form).into_iter().chain(std::iter::once(form.clone())) {
                    let firsts = words.deletions.entry(d).or_default();
                    if !firsts.contains(&form) {
                        firsts.push(form.clone());
                    }
                }
            }
            words.entries.push(Entry {
                class,
                words: pats,
                content: content(class),
            });
        }
        for g in &glue {
            words.add_piece(g, false, false);
        }
        words
    }

    /// Adds a piece to the pieces trie (content once content stays content).
    fn add_piece(&mut self, piece: &str, content: bool, open: bool) {
        let node = self.pieces.insert(piece);
        node.end |= !open;
        node.open |= open;
        node.content |= content;
    }

    /// Whether `word` is an entry's first word as it stands: exactly, or a prefix entry
    /// with a short ending.
    fn known(&self, word: &str) -> bool {
        if self.by_exact.contains_key(word) || self.forms.contains_key(word) {
            return true;
        }
        self.trie
            .walk(word.as_bytes())
            .any(|(walked, entries)| !entries.is_empty() && word.len() - walked <= OPEN_ENDING)
    }

    /// Every class found in `tokens` (folded words), longest phrases included with the
    /// words they contain. Words written whole, split in two or with hidden letters are
    /// always looked for; respelled or a letter off only when `deeper` says
    /// the plain pass found something worth it (they cost more, and alone they rarely make
    /// an offence).
    pub fn tag(&self, tokens: &[&str], deeper: impl FnOnce(&[Tag<C>]) -> bool) -> Vec<Tag<C>> {
        let mut tags = Vec::new();
        let mut unmatched = Vec::new();
        let mut joined = String::new();
        let mut skip_to = 0;
        for at in 0..tokens.len() {
            if at < skip_to {
                continue;
            }
            let token = tokens[at];
            // A word spelled out in syllables ("mu sul mans", "ni a kou es", "pa rasites"):
            // short pieces and a last one that means nothing alone, read whole when the
            // whole is a target or a predicate.
            if token.len() <= 3 {
                if let Some(width) = self.syllables(tokens, at, &mut joined, &mut tags) {
                    skip_to = at + width;
                    continue;
                }
            }
            if self.starting(token, tokens, at, 1, false, &mut tags) {
                continue;
            }
            // A word split in two ("immi grati", "cin esi", "handi cappati"): two short
            // pieces, or a longer second one that means nothing alone.
            if let Some(next) = tokens.get(at + 1) {
                let short = next.len() <= 6 || (next.len() <= 9 && !self.known(next));
                if token.len() <= 6 && short && token.len() + next.len() >= 5 {
                    joined.clear();
                    joined.push_str(token);
                    joined.push_str(next);
                    if self.starting(&joined, tokens, at, 2, true, &mut tags) {
                        continue;
                    }
                }
            }
            if token.contains('*') {
                self.masked(tokens, at, &mut tags);
            } else {
                unmatched.push(at);
            }
        }
        if unmatched.is_empty() || !deeper(&tags) {
            return tags;
        }
        for at in unmatched {
            let token = tokens[at];
            // Spelled the texting way ("marokkini").
            let mut respelled = false;
            for (written, meant) in &self.respell {
                if token.contains(written.as_str()) {
                    let fixed = token.replace(written.as_str(), meant);
                    if self.starting(&fixed, tokens, at, 1, true, &mut tags) {
                        respelled = true;
                        break;
                    }
                }
            }
            if !respelled && token.chars().count() >= FUZZY_MIN {
                self.fuzzy(tokens, at, &mut tags);
            }
        }
        tags
    }

    /// The entries whose first word is `word` (exactly or by prefix), the rest following
    /// from token `at + width`; true if one matched.
    fn starting(
        &self,
        word: &str,
        tokens: &[&str],
        at: usize,
        width: usize,
        fuzzy: bool,
        tags: &mut Vec<Tag<C>>,
    ) -> bool {
        let mut found = false;
        if let Some(list) = self.by_exact.get(word) {
            found |= self.extend(list, tokens, at, width, fuzzy, tags);
        }
        for (_, entries) in self.trie.walk(word.as_bytes()) {
            if !entries.is_empty() {
                found |= self.extend(entries, tokens, at, width, fuzzy, tags);
            }
        }
        found
    }

    /// Tries the entries of `list` whose first word covers tokens `at..at + width`; true
    /// if one matched.
    fn extend(
        &self,
        list: &[usize],
        tokens: &[&str],
        at: usize,
        width: usize,
        fuzzy: bool,
        tags: &mut Vec<Tag<C>>,
    ) -> bool {
        let mut any = false;
        for &i in list {
            let e = &self.entries[i];
            let rest = &e.words[1..];
            let next = at + width;
            if next + rest.len() > tokens.len() {
                continue;
            }
            // The first word matched already (exactly, by prefix or approximately).
            if rest
                .iter()
                .zip(&tokens[next..next + rest.len()])
                .all(|(p, t)| p.matches(t))
            {
                tags.push(Tag {
                    class: e.class,
                    from: at,
                    to: next + rest.len(),
                    fuzzy,
                });
                any = true;
            }
        }
        any
    }

    /// A word one letter away from an entry's first word.
    fn fuzzy(&self, tokens: &[&str], at: usize, tags: &mut Vec<Tag<C>>) {
        let token = tokens[at];
        let mut firsts: Vec<&String> = Vec::new();
        for key in std::iter::once(token.to_string()).chain(deletions(token)) {
            if let Some(list) = self.deletions.get(&key) {
                for w in list {
                    if !firsts.contains(&w) && one_edit(token, w) {
                        firsts.push(w);
                    }
                }
            }
        }
        for w in firsts {
            if let Some(list) = self.forms.get(w) {
                self.extend(list, tokens, at, 1, true, tags);
            }
        }
    }

    /// A word with `*` for hidden letters: the entries whose first word fits around it.
    fn masked(&self, tokens: &[&str], at: usize, tags: &mut Vec<Tag<C>>) {
        let token = tokens[at];
        // The letters shown, in order, between stars ("p*d*s": p, d, s).
        let shown: Vec<&str> = token.split('*').collect();
        let letters: usize = shown.iter().map(|s| s.len()).sum();
        if letters == 0 {
            return;
        }
        let fits = |w: &str| {
            if w.len() <= letters || !w.starts_with(shown[0]) || !w.ends_with(shown[shown.len() - 1]) {
                return false;
            }
            // Each middle part after the previous one, leaving a letter for every star.
            let mut from = shown[0].len() + 1;
            let until = w.len() - shown[shown.len() - 1].len();
            for part in &shown[1..shown.len() - 1] {
                if part.is_empty() {
                    continue;
                }
                match w.get(from..until).and_then(|rest| rest.find(part)) {
                    Some(i) => from += i + part.len() + 1,
                    None => return false,
                }
            }
            from <= until + 1
        };
        let mut entries: Vec<usize> = self
            .by_exact
            .iter()
            .chain(self.forms.iter())
            .filter(|(w, _)| fits(w))
            .flat_map(|(_, l)| l.iter().copied())
            .collect();
        entries.sort_unstable();
        entries.dedup();
        self.extend(&entries, tokens, at, 1, true, tags);
    }
}

/// `word` with each one of its letters dropped.
fn deletions(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len())
        .map(|i| {
            chars
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| c)
                .collect()
        })
        .collect()
}

/// Whether `a` and `b` differ by one letter added or dropped, or two neighbours swapped.
fn one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return true;
    }
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let first = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    match la.cmp(&lb) {
        // Swapped with the next. A letter replaced is not taken: it turns too many ordinary
        // words into listed ones ("investito" / "invertito", "sfalcio" / "sfascio").
        std::cmp::Ordering::Equal => {
            first + 1 < la && a[first] == b[first + 1] && a[first + 1] == b[first] && a[first + 2..] == b[first + 2..]
        }
        std::cmp::Ordering::Less => a[first..] == b[first + 1..],
        std::cmp::Ordering::Greater => a[first + 1..] == b[first..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words<u8> {
        let list = [
            (1, "odio"),
            (2, "immigrati"),
            (3, "ladr*"),
            (4, "fanno schifo"),
            (5, "non sopport*"),
            (6, "froci"),
        ];
        Words::build(
            list.iter()
                .map(|(c, p)| (*c, p.split(' ').map(String::from).collect::<Vec<_>>())),
            |_, _| FUZZY_MIN,
            |_| true,
            vec!["sono".into(), "tutti".into(), "gli".into()],
        )
    }

    fn classes(text: &str) -> Vec<(u8, usize, usize, bool)> {
        let tokens: Vec<&str> = text.split(' ').collect();
        let mut t: Vec<_> = words()
            .tag(&tokens, |_| true)
            .into_iter()
            .map(|t| (t.class, t.from, t.to, t.fuzzy))
            .collect();
        t.sort();
        t
    }

    #[test]
    fn exact_prefix_and_phrases() {
        assert_eq!(classes("io odio gli immigrati"), [(1, 1, 2, false), (2, 3, 4, false)]);
        assert_eq!(classes("sono ladroni"), [(3, 1, 2, false)]);
        assert_eq!(classes("mi fanno schifo"), [(4, 1, 3, false)]);
        assert_eq!(classes("non sopportiamo"), [(5, 0, 2, false)]);
        assert!(classes("fanno la spesa").is_empty());
    }

    #[test]
    fn a_letter_off_is_found_in_long_words_only() {
        assert_eq!(classes("immigrti"), [(2, 0, 1, true)]);
        assert_eq!(classes("imigrati"), [(2, 0, 1, true)]);
        assert_eq!(classes("immigarti"), [(2, 0, 1, true)]);
        assert_eq!(classes("immigratii"), [(2, 0, 1, true)]);
        assert!(classes("odoi").is_empty(), "four letters: too short to guess");
        assert!(classes("immigrazione").is_empty());
    }

    #[test]
    fn split_words_are_read_whole() {
        assert_eq!(classes("immi grati"), [(2, 0, 2, true)]);
        assert_eq!(classes("im migrati"), [(2, 0, 2, true)]);
        assert!(classes("gli immigrazione").is_empty());
    }

    fn cut(word: &str) -> Option<Vec<&str>> {
        words()
            .segment(word)
            .map(|r| r.into_iter().map(|(a, b)| &word[a..b]).collect())
    }

    #[test]
    fn glued_words_are_cut_into_entries_and_function_words() {
        assert_eq!(cut("tuttiladri"), Some(vec!["tutti", "ladri"]));
        assert_eq!(cut("immigratisono"), Some(vec!["immigrati", "sono"]));
        assert_eq!(
            cut("gliimmigratisonotuttiladroni"),
            Some(vec!["gli", "immigrati", "sono", "tutti", "ladroni"])
        );
        assert_eq!(cut("immigrati"), None, "known as it stands");
        assert_eq!(cut("sonotuttigli"), None, "function words only");
        assert_eq!(cut("immigratisonoe"), None, "a letter left over");
    }

    #[test]
    fn a_star_hides_letters() {
        assert_eq!(classes("fr*ci"), [(6, 0, 1, true)]);
        assert_eq!(classes("f**i"), [(6, 0, 1, true)]);
        assert_eq!(classes("f*o*i"), [(6, 0, 1, true)]);
        assert_eq!(classes("i*m*g*a*i"), [(2, 0, 1, true)]);
        assert!(classes("f*x*i").is_empty());
        assert!(classes("*").is_empty());
    }

    #[test]
    fn one_edit_is_exact() {
        assert!(one_edit("odio", "odoi") && one_edit("odio", "odi") && one_edit("odio", "odioo"));
        assert!(!one_edit("odio", "odia") && !one_edit("odio", "oida") && !one_edit("odio", "o"));
    }
}
