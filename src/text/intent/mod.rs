//! Understanding what a citizen wrote: a message becomes an [`Intent`] with a
//! [`Polarity`] and a [`Confidence`], before the engine acts on it.
//!
//! Two sources are read side by side: the comune's own keywords (a [`KeywordSet`], tolerant
//! of typos; the comune's words, from its flow file) and the language's lexicon
//! (`lexicons/<lang>/intents.toml`: paraphrases as word patterns, negation and its
//! scope, contrast, retraction, hypotheticals and questions). The language is modelled, not
//! the sentences: a predicate (leaving, joining, wanting the messages, asking for a
//! person…) is found in a clause, and the cues of that clause decide its polarity:
//! "non voglio cancellarmi" is leaving negated, "non voglio più ricevere messaggi" is
//! wanting the messages negated, which is leaving.
//!
//! Must not: decide what an intent does (the engine does), hold a comune's words, panic on
//! any input.

mod cues;
mod lexicon;
mod name;
pub mod pattern;

use std::ops::Range;

pub use lexicon::{check_all, lexicon, Lexicon, LexiconError};
pub use name::{check_name, NameProblem};

use super::keyword::{Found, KeywordSet, Match, Position};
use super::normalize::{tokens, Token};
use cues::{clauses, has_stretch, language_of, polarity, social, squeeze};
use lexicon::Group;

/// Words of a message the lexicons read.
pub const MAX_WORDS: usize = 64;

/// What a message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Intent {
    Subscribe,
    Unsubscribe,
    /// Switch to the language the match is tagged with.
    Language,
    Privacy,
    MyData,
    /// A person, not the bot.
    Operator,
    Yes,
    No,
    /// "Buongiorno", "ciao": not a question, not a name.
    Greeting,
    /// Thanks or a closing, and nothing else.
    Thanks,
    /// "Sei un bot?"
    AboutBot,
}

const ALL: [Intent; 11] = [
    Intent::Subscribe,
    Intent::Unsubscribe,
    Intent::Language,
    Intent::Privacy,
    Intent::MyData,
    Intent::Operator,
    Intent::Yes,
    Intent::No,
    Intent::Greeting,
    Intent::Thanks,
    Intent::AboutBot,
];

impl Intent {
    /// Stable name, used as the payload of buttons that trigger the intent.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Subscribe => "subscribe",
            Intent::Unsubscribe => "unsubscribe",
            Intent::Language => "language",
            Intent::Privacy => "privacy",
            Intent::MyData => "my-data",
            Intent::Operator => "operator",
            Intent::Yes => "yes",
            Intent::No => "no",
            Intent::Greeting => "greeting",
            Intent::Thanks => "thanks",
            Intent::AboutBot => "about-bot",
        }
    }

    /// The inverse of [`Intent::as_str`].
    pub fn from_name(s: &str) -> Option<Intent> {
        ALL.iter().copied().find(|a| a.as_str() == s)
    }

    /// Which intent wins when a message carries several.
    fn priority(self) -> u8 {
        match self {
            Intent::Unsubscribe => 9,
            Intent::Subscribe => 8,
            Intent::Operator => 7,
            Intent::Language => 6,
            Intent::MyData | Intent::Privacy => 5,
            Intent::AboutBot => 4,
            Intent::Yes | Intent::No => 3,
            Intent::Thanks => 1,
            Intent::Greeting => 0,
        }
    }
}

/// Whether the message says the intent, says its opposite, or is not sure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    Affirmed,
    /// "non voglio cancellarmi", "je ne veux pas m'inscrire", "sì… anzi no".
    Negated,
    /// Asked about or only supposed ("come faccio a cancellarmi?", "se mi cancello…"), or
    /// a bare "no" before it that may be a refusal or an answer.
    Uncertain,
}

/// How sure the reading is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Found through the lexicon's paraphrases.
    Paraphrase,
    /// The comune's own keyword (typos forgiven as the keyword matcher does).
    Keyword,
}

/// One reading of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Sense {
    pub intent: Intent,
    pub polarity: Polarity,
    pub confidence: Confidence,
    /// Said in so many words ("iscrivimi", "vorrei ricevere le notizie"), not wanting to
    /// receive an answer ("vorrei ricevere informazioni sulla TARI"), which at a desk is a
    /// question.
    pub explicit: bool,
    /// Where it was found; for a paraphrase `phrase` is the pattern and `lang` the
    /// lexicon's language (for [`Intent::Language`], the language chosen).
    pub found: Match<Intent>,
}

/// What a message means.
#[derive(Debug, Clone, PartialEq)]
pub struct Understanding {
    /// The intent acted upon, if any.
    pub sense: Option<Sense>,
    /// Subscribe and unsubscribe both meant, neither negated: the engine should ask.
    pub ambiguous: Option<(Match<Intent>, Match<Intent>)>,
    /// The whole message is thanks (or a closing) or a greeting, and nothing else.
    pub social: Option<Intent>,
    /// The language the message is written in, when the words tell.
    pub lang: Option<String>,
}

impl Understanding {
    fn nothing() -> Understanding {
        Understanding {
            sense: None,
            ambiguous: None,
            social: None,
            lang: None,
        }
    }

    /// The intent and polarity, if any.
    pub fn intent(&self) -> Option<(Intent, Polarity)> {
        self.sense.as_ref().map(|s| (s.intent, s.polarity))
    }

    /// Whether the citizen is trying to leave (a keyword, a paraphrase or a question about
    /// it, or subscribe/unsubscribe in doubt), not refusing to.
    pub fn is_leaving(&self) -> bool {
        self.ambiguous.is_some()
            || self
                .sense
                .as_ref()
                .is_some_and(|s| s.intent == Intent::Unsubscribe && s.polarity != Polarity::Negated)
    }
}

/// A candidate reading before the choice.
#[derive(Debug, Clone)]
struct Cand {
    intent: Intent,
    polarity: Polarity,
    confidence: Confidence,
    words: Range<usize>,
    clause: usize,
    found: Match<Intent>,
    social: bool,
    /// The lexicon group it came from (`None` for the comune's keywords).
    group: Option<Group>,
}

/// Reads `text` with the comune's `keywords` and the lexicons of the languages it offers.
pub fn understand(text: &str, keywords: &KeywordSet<Intent>, lexicons: &[&Lexicon]) -> Understanding {
    let mut toks = tokens(text);
    if toks.is_empty() {
        return Understanding::nothing();
    }
    // What a citizen asks is said in the first words; reading further only costs time (a
    // hostile 3 MiB message is read as its first [`MAX_WORDS`]).
    toks.truncate(MAX_WORDS);
    let words: Vec<&str> = toks.iter().map(|t| t.norm.as_str()).collect();
    let clauses = clauses(text, &toks, &words, lexicons);
    let clause_of = |i: usize| clauses.iter().position(|c| i >= c.lo && i < c.hi).unwrap_or(0);
    let mut cands: Vec<Cand> = Vec::new();
    let mut ambiguous_kw = None;

    // The comune's keywords, then the same with stretched letters squeezed ("cancellamiii").
    let mut found = keywords.find(text);
    if found == Found::None && has_stretch(text) {
        found = match keywords.find(&squeeze(text)) {
            Found::One(mut m) if m.position == Position::Whole => {
                m.span = 0..text.len();
                Found::One(m)
            }
            _ => Found::None,
        };
    }
    let mut keyword_cand = |m: Match<Intent>| {
        let range = word_range(&toks, &m.span);
        let clause = clause_of(range.start);
        cands.push(Cand {
            intent: m.action,
            polarity: Polarity::Affirmed,
            confidence: Confidence::Keyword,
            words: range,
            clause,
            social: matches!(m.action, Intent::Greeting),
            group: None,
            found: m,
        });
    };
    match found {
        Found::None => {}
        Found::One(m) => keyword_cand(m),
        Found::Ambiguous(a, b) => {
            let pair = matches!(
                (a.action, b.action),
                (Intent::Subscribe, Intent::Unsubscribe) | (Intent::Unsubscribe, Intent::Subscribe)
            );
            if pair {
                ambiguous_kw = Some((a.clone(), b.clone()));
                keyword_cand(a);
                keyword_cand(b);
            } else {
                // Any other pair (a greeting beside a keyword) resolves to the more important.
                keyword_cand(if a.action.priority() >= b.action.priority() {
                    a
                } else {
                    b
                });
            }
        }
    }

    // The lexicons' paraphrases, clause by clause, each word tried against the patterns
    // that can start with it (the lexicon's index).
    let mut tried: Vec<usize> = Vec::new();
    for lex in lexicons {
        for (ci, c) in clauses.iter().enumerate() {
            for start in c.lo..c.hi {
                tried.clear();
                lex.index.starting(words[start], |i| tried.push(i));
                tried.sort_unstable();
                tried.dedup();
                for &pi in &tried {
                    let (group, target, pat) = &lex.patterns[pi];
                    let Some(end) = pat.longest_at(&words, start, c.lo, c.hi) else {
                        continue;
                    };
                    let intent = group.intent();
                    let social = matches!(group, Group::Thanks | Group::Greeting);
                    let span = toks[start].start..toks[end - 1].end;
                    let position = Position::of(start, end, toks.len());
                    let lang = target.clone().unwrap_or_else(|| lex.lang.clone());
                    cands.push(Cand {
                        intent,
                        polarity: Polarity::Affirmed,
                        confidence: Confidence::Paraphrase,
                        words: start..end,
                        clause: ci,
                        social,
                        group: Some(*group),
                        found: Match {
                            action: intent,
                            lang,
                            phrase: pat.source.clone(),
                            position,
                            edits: 0,
                            span,
                        },
                    });
                }
            }
        }
    }

    // Words the comune's keyword matcher already read ("DIS ATTIVA ISCRIZIONE" is
    // `DISATTIVA ISCRIZIONE`) are not read again as another intent's paraphrase; a keyword
    // that is only the object of a longer predicate ("voglio cancellare la REGISTRAZIONE")
    // gives way to that predicate.
    let spans: Vec<(Range<usize>, Intent, Confidence)> = cands
        .iter()
        .map(|c| (c.words.clone(), c.intent, c.confidence))
        .collect();
    let within = |a: &Range<usize>, b: &Range<usize>| b.start <= a.start && a.end <= b.end;
    cands.retain(|c| {
        !spans.iter().any(|(r, i, conf)| {
            *i != c.intent
                && match (c.confidence, conf) {
                    (Confidence::Paraphrase, Confidence::Keyword) => within(&c.words, r),
                    (Confidence::Keyword, Confidence::Paraphrase) => within(&c.words, r) && c.words != *r,
                    _ => false,
                }
        })
    });
    // Polarity of each candidate from the cues around it.
    for c in cands.iter_mut() {
        c.polarity = polarity(&words, &clauses, c, lexicons);
    }
    // What the groups mean once negated.
    let mut read: Vec<Cand> = Vec::new();
    for mut c in cands {
        match (c.group, c.polarity) {
            // "non voglio più ricevere messaggi", "non scrivetemi più": leaving.
            (Some(Group::WantService | Group::ContactMe), Polarity::Negated) => {
                c.intent = Intent::Unsubscribe;
                c.polarity = Polarity::Affirmed;
            }
            // "non voglio parlare con un bot": a person.
            (Some(Group::TalkToBot), Polarity::Negated) => {
                c.polarity = Polarity::Affirmed;
            }
            // "scrivetemi", "parlo con un bot?": nothing by themselves.
            (Some(Group::ContactMe | Group::TalkToBot), _) => continue,
            _ => {}
        }
        match (c.intent, c.polarity) {
            // "non accetto": a no.
            (Intent::Yes, Polarity::Negated) => {
                c.intent = Intent::No;
                c.polarity = Polarity::Affirmed;
            }
            (Intent::No, Polarity::Negated) => continue,
            _ => {}
        }
        c.found.action = c.intent;
        read.push(c);
    }

    let mut out = Understanding::nothing();
    out.lang = language_of(&words, lexicons, &read);
    out.social = social(&words, &read, lexicons);

    // A later contrast clause with its own reading wins over what came before it.
    let mut acting: Vec<&Cand> = read.iter().filter(|c| !c.social).collect();
    // A bare "anzi no" / "mais non" is not a reading of its own: it negates what came before.
    let yes_no = |c: &&Cand| matches!(c.intent, Intent::Yes | Intent::No);
    let only_yes_no = acting.iter().all(yes_no);
    if let Some(last) = acting
        .iter()
        .filter(|c| clauses[c.clause].contrast && (only_yes_no || !yes_no(c)))
        .map(|c| c.clause)
        .max()
    {
        acting.retain(|c| c.clause >= last);
    }
    // Yes and no in different clauses: the last one said.
    if acting.iter().any(|c| c.intent == Intent::Yes) && acting.iter().any(|c| c.intent == Intent::No) {
        let last = acting
            .iter()
            .filter(|c| matches!(c.intent, Intent::Yes | Intent::No))
            .map(|c| c.clause)
            .max()
            .unwrap_or(0);
        let both_in_last = acting.iter().any(|c| c.clause == last && c.intent == Intent::Yes)
            && acting.iter().any(|c| c.clause == last && c.intent == Intent::No);
        acting.retain(|c| !matches!(c.intent, Intent::Yes | Intent::No) || (c.clause == last && !both_in_last));
    }

    // Joining and leaving both meant, neither negated: ask.
    let sure = |i: Intent| {
        acting
            .iter()
            .find(|c| c.intent == i && c.polarity == Polarity::Affirmed)
    };
    if let (Some(s), Some(u)) = (sure(Intent::Subscribe), sure(Intent::Unsubscribe)) {
        if s.clause == u.clause || ambiguous_kw.is_some() {
            out.ambiguous = Some((s.found.clone(), u.found.clone()));
            return out;
        }
    }
    if let Some((a, b)) = ambiguous_kw {
        let negated = acting
            .iter()
            .any(|c| c.confidence == Confidence::Keyword && c.polarity == Polarity::Negated);
        if !negated {
            out.ambiguous = Some((a, b));
            return out;
        }
    }
    let best = acting.iter().max_by_key(|c| {
        (
            c.intent.priority(),
            // Within an intent: a negation outweighs (never act on "non … cancellarmi"
            // because "cancellami" is also there), then the comune's keyword.
            matches!(c.polarity, Polarity::Negated),
            c.confidence,
            std::cmp::Reverse(c.words.start),
        )
    });
    out.sense = best.map(|c| Sense {
        intent: c.intent,
        polarity: c.polarity,
        confidence: c.confidence,
        explicit: !matches!(c.group, Some(Group::WantService))
            || !words[c.words.clone()]
                .iter()
                .any(|w| lexicons.iter().any(|l| l.answer_objects.has(w))),
        found: c.found.clone(),
    });
    if out.sense.is_none() {
        // A greeting or thanks that is the whole message is also its sense.
        if let Some(kind) = out.social {
            if let Some(c) = read.iter().find(|c| c.intent == kind) {
                out.sense = Some(Sense {
                    intent: kind,
                    polarity: Polarity::Affirmed,
                    confidence: c.confidence,
                    explicit: true,
                    found: Match {
                        position: Position::Whole,
                        ..c.found.clone()
                    },
                });
            }
        }
    }
    out
}

/// The words of `span` (a byte range of the text).
fn word_range(toks: &[Token], span: &Range<usize>) -> Range<usize> {
    let start = toks.iter().position(|t| t.end > span.start).unwrap_or(0);
    let end = toks
        .iter()
        .rposition(|t| t.start < span.end)
        .map(|i| i + 1)
        .unwrap_or(toks.len())
        .max(start + 1)
        .min(toks.len());
    start.min(end.saturating_sub(1))..end
}

#[cfg(test)]
mod tests;
