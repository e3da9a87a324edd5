//! Putting targets and predicates together, clause by clause (see the module above).

use serde::{Deserialize, Serialize};

use super::tokens::{tokens, written_as_name, Token};
use super::words::Tag;
use super::{Class, Cue, Offence, Predicate, Target};
use crate::moderation::normalize::Normalized;
use crate::moderation::Rule;

/// How many words may separate a predicate from its target.
const REACH: usize = 8;
/// How many words before a violent verb the writer's "I" reaches.
const FIRST_PERSON_REACH: usize = 4;
/// How many words before a predicate a negation reaches.
const NEGATION_REACH: usize = 5;

/// An offence found: the rule it breaks, whom and how, and where (folded byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: Rule,
    pub target: Target,
    pub predicate: Predicate,
    /// Folded byte range (`Normalized::original_range` maps it back).
    #[serde(skip)]
    pub start: usize,
    #[serde(skip)]
    pub end: usize,
}

/// The findings, and the original ranges where offence is only reported or denied.
pub(super) fn find(offence: &Offence, text: &str, norm: &Normalized) -> (Vec<Finding>, Vec<(usize, usize)>) {
    let mut tokens = tokens(text, norm, &offence.words);
    if tokens.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let words: Vec<&str> = tokens.iter().map(|t| t.word).collect();
    // Disguised words are looked for when the plain ones show a target or a predicate.
    // So are they in a message of a few words ("chintoks", "i maroccini fanno skifo").
    let short = words.len() <= 6;
    let mut tags = offence.words.tag(&words, |plain| {
        short
            || plain
                .iter()
                .any(|t| matches!(t.class, Class::Target(_) | Class::Slur(_) | Class::Predicate(_)))
    });
    // Words inside an ordinary phrase that holds them ("pain bâtard") are that phrase.
    let homonyms: Vec<(usize, usize)> = tags
        .iter()
        .filter(|t| t.class == Class::Cue(Cue::Homonym))
        .map(|t| (t.from, t.to))
        .collect();
    if !homonyms.is_empty() {
        tags.retain(|t| {
            matches!(t.class, Class::Cue(_)) || !homonyms.iter().any(|&(from, to)| from <= t.from && t.to <= to)
        });
    }
    // Slurs and insults that are also surnames or places, written as names, are names.
    tags.retain(|t| {
        !(matches!(
            t.class,
            Class::Slur(_) | Class::Predicate(Predicate::Insult | Predicate::Dehumanise)
        ) && written_as_name(text, &tokens, t.from))
    });
    // A contrast starts a new clause within its sentence.
    let mut contrast_at: Vec<usize> = tags
        .iter()
        .filter(|t| t.class == Class::Cue(Cue::Contrast))
        .map(|t| t.from)
        .collect();
    contrast_at.sort_unstable();
    let mut bump = 0;
    for (i, tok) in tokens.iter_mut().enumerate() {
        if contrast_at.binary_search(&i).is_ok() {
            bump += 1;
        }
        tok.clause += bump;
    }
    let sentences = tokens.last().map_or(0, |t| t.sentence + 1);
    // Sentences that report, condemn or deny what they contain (and the one after a
    // report: "Qualcuno ha scritto: «…». Vergogna.").
    let mut reported = vec![false; sentences];
    for t in &tags {
        if matches!(t.class, Class::Cue(Cue::Counter) | Class::Cue(Cue::Denial)) {
            let s = tokens[t.from].sentence;
            reported[s] = true;
            if t.class == Class::Cue(Cue::Counter) && s + 1 < sentences {
                reported[s + 1] = true;
            }
        }
    }
    // Sentences that ask ("…?") and those that announce what follows ("…?" or "…:").
    let mut asks = vec![false; sentences];
    let mut announces = vec![false; sentences];
    for (i, tok) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).map_or(text.len(), |n| n.orig.0);
        let after = text.get(tok.orig.1..next).unwrap_or("");
        if after.contains('?') {
            asks[tok.sentence] = true;
        }
        if after.contains(['?', ':']) && tokens.get(i + 1).is_some() {
            announces[tok.sentence] = true;
        }
    }
    let mut absence = vec![false; sentences];
    for t in &tags {
        if t.class == Class::Cue(Cue::Absence) {
            absence[tokens[t.from].sentence] = true;
        }
    }
    // The protected group named last in each sentence, for pronouns in the next.
    let mut named: Vec<Option<Target>> = vec![None; sentences];
    for tag in &tags {
        if let Class::Target(t) | Class::Slur(t) = tag.class {
            if t.protected() {
                named[tokens[tag.from].sentence] = Some(t);
            }
        }
    }
    let clauses = tokens.last().map_or(0, |t| t.clause + 1);
    let mut findings = Vec::new();
    let mut negated_spans = Vec::new();
    for clause in 0..clauses {
        let in_clause: Vec<&Tag<Class>> = tags.iter().filter(|t| tokens[t.from].clause == clause).collect();
        if in_clause.is_empty() {
            continue;
        }
        let sentence = tokens[in_clause[0].from].sentence;
        let has = |cue: Cue| in_clause.iter().any(|t| t.class == Class::Cue(cue));
        let countered = reported[sentence];
        let denied = has(Cue::Denial);
        // "Un X honnête ? Ça n'existe pas.": the answer denies what the question named.
        let absent = has(Cue::Absence) || (asks[sentence] && absence.get(sentence + 1).copied().unwrap_or(false));
        let antecedent = sentence
            .checked_sub(1)
            .and_then(|s| named[s])
            // "Ce que je hais ? Les X.": the group named just after a question or a colon.
            .or_else(|| {
                announces[sentence]
                    .then(|| named.get(sentence + 1).copied().flatten())
                    .flatten()
            });
        // A rhetorical question: "ils savent lire au moins ?", "c'est pas des … peut-être ?"
        let rhetorical = asks[sentence] && has(Cue::Doubt);
        let clause_has_target = in_clause
            .iter()
            .any(|t| matches!(t.class, Class::Target(x) | Class::Slur(x) if x != Target::Person));
        for pred in in_clause
            .iter()
            .filter(|t| matches!(t.class, Class::Predicate(_) | Class::Slur(_)))
        {
            if tokens[pred.from].quoted {
                // Quoted words are someone else's.
                continue;
            }
            // A noun after a preposition is a complement ("le marché aux puces", "le
            // centre pour handicapés"), not said of anyone.
            if matches!(
                pred.class,
                Class::Predicate(Predicate::Dehumanise | Predicate::Attribute | Predicate::Insult)
            ) && in_clause
                .iter()
                .any(|p| p.class == Class::Cue(Cue::Complement) && p.to == pred.from)
            {
                continue;
            }
            let kind = match pred.class {
                Class::Predicate(p) => p,
                Class::Slur(_) => Predicate::Slur,
                _ => continue,
            };
            let pred_word = tokens[pred.to - 1].word;
            // A predicate that carries its own negation ("pas leur place") is not negated
            // again by the "ne" before it.
            let self_negated = pred.to - pred.from >= 2
                && in_clause
                    .iter()
                    .any(|t| t.class == Class::Cue(Cue::Negation) && t.from >= pred.from && t.from < pred.to);
            let positive = kind == Predicate::Positive;
            // A negation before it, within a few words and the same comma span, that is
            // not "only" ("ne … que").
            let negated_before = in_clause.iter().any(|t| {
                t.class == Class::Cue(Cue::Negation)
                    && t.to <= pred.from
                    && pred.from - t.to < NEGATION_REACH
                    && tokens[t.from].commas == tokens[pred.from].commas
                    && !restricts(&in_clause, t, pred)
            });
            // "je les supporte plus", "servent à rien", "valgono niente": a negation just
            // after a quality denies it too.
            let negated_after = in_clause.iter().any(|t| {
                t.class == Class::Cue(Cue::Negation)
                    && t.from >= pred.to
                    && t.from - pred.to <= 1
                    && tokens[t.from].commas == tokens[pred.from].commas
            });
            let negated = if positive {
                absent || rhetorical || negated_after || (!self_negated && negated_before)
            } else {
                // A rhetorical question asserts what it negates.
                !self_negated && !rhetorical && negated_before
            };
            if negated && kind != Predicate::Positive {
                // Its words are denied: other lexicons' hits on them do not count either.
                negated_spans.push((tokens[pred.from].orig.0, tokens[pred.to - 1].orig.1));
            }
            let has_pronoun = has(Cue::Pronoun) || offence.ends_with_pronoun(pred_word);
            let target = match pred.class {
                Class::Slur(t) => Some(t),
                _ => {
                    let near = nearest_target(&in_clause, pred, kind, &tokens, has_pronoun);
                    // A pronoun refers to a group named earlier in the sentence, or in the
                    // one before; with no subject at all, so does the predicate.
                    let earlier = tags
                        .iter()
                        .filter(|t| tokens[t.from].sentence == sentence && t.to <= pred.from)
                        .filter_map(|t| match t.class {
                            // Violence reaches whoever was named ("all'impiegata … le tiro").
                            Class::Target(x) | Class::Slur(x)
                                if x.protected() || (kind == Predicate::Violence && x != Target::Person) =>
                            {
                                Some((t.from, x))
                            }
                            _ => None,
                        })
                        // The last named (tags come in word order, disguised ones after).
                        .max_by_key(|(from, _)| *from)
                        .map(|(_, x)| x);
                    let implicit = !clause_has_target && kind != Predicate::Access;
                    let referred =
                        if has_pronoun { earlier.or(antecedent) } else { None }.or(antecedent.filter(|_| implicit));
                    match near {
                        // "Sono dei parassiti" after a group: said of the group.
                        Some(Target::Person) => referred.or(near),
                        None => referred,
                        near => near,
                    }
                }
            };
            // The writer acts: a first-person cue just before ("je vais les", "li prendo a"),
            // or the verb's own ending ("ammazzo", "tuerai"). "J'espère que … prendra feu"
            // is a wish, not an act.
            let first_person = in_clause.iter().any(|t| {
                t.class == Class::Cue(Cue::FirstPerson)
                    && t.from < pred.to
                    && pred.from.saturating_sub(t.to) <= FIRST_PERSON_REACH
                    // "J'espère qu'un camion écrasera…": a wish between makes it not the
                    // writer's act.
                    && !in_clause.iter().any(|n| {
                        n.class == Class::Cue(Cue::Normative) && n.to > t.from && n.to <= pred.from
                    })
            }) || offence.first_person_verb(tokens[pred.from].word);
            // "Je vais l'étrangler", "se lo incontro lo gonfio": the writer's violence on
            // someone named by a pronoun is a threat, whoever they are.
            let object = in_clause
                .iter()
                .any(|t| t.class == Class::Cue(Cue::Object) && t.to == pred.from);
            let target = target.or((kind == Predicate::Violence && first_person && object).then_some(Target::Person));
            // "Quel imbécile", "un tocard": an insult made a noun for someone.
            let named_insult = kind == Predicate::Insult
                && in_clause
                    .iter()
                    .any(|t| t.class == Class::Cue(Cue::Determiner) && t.to == pred.from);
            // "Je vais étrangler ce Jean-Marc": the writer's violence on someone named.
            let on_named = kind == Predicate::Violence
                && first_person
                && (pred.to..(pred.to + 3).min(tokens.len()))
                    .any(|i| tokens[i].sentence == sentence && written_as_name(text, &tokens, i));
            let target = target.or((named_insult || on_named).then_some(Target::Person));
            let Some(target) = target else { continue };
            let ruled = has(Cue::Normative) || offence.imperative(in_clause.iter().map(|t| tokens[t.from].word));
            let facts = Facts {
                negated,
                denied,
                countered,
                first_person,
                ruled,
            };
            if let Some((rule, predicate)) = decide(kind, target, facts) {
                let (from, to) = span_with_target(&in_clause, pred, target);
                findings.push(Finding {
                    rule,
                    target,
                    predicate,
                    start: tokens[from].start,
                    end: tokens[to - 1].end,
                });
            }
        }
    }
    // Where other lexicons' offensive words do not count: quoted words, and sentences
    // that report or deny.
    let mut quiet: Vec<(usize, usize)> = tokens.iter().filter(|t| t.quoted).map(|t| t.orig).collect();
    quiet.extend(
        homonyms
            .iter()
            .map(|&(from, to)| (tokens[from].orig.0, tokens[to - 1].orig.1)),
    );
    quiet.extend(negated_spans);
    for (s, r) in reported.iter().enumerate() {
        if *r {
            let mut in_s = tokens.iter().filter(|t| t.sentence == s);
            if let (Some(first), Some(last)) = (in_s.next(), tokens.iter().rev().find(|t| t.sentence == s)) {
                quiet.push((first.orig.0, last.orig.1));
            }
        }
    }
    (findings, quiet)
}

/// Whether negation `neg` only restricts ("ne sont que des …", "non fanno altro che …"):
/// an exception follows it after a word or two, before the predicate, with no other
/// negation between.
fn restricts(clause: &[&Tag<Class>], neg: &Tag<Class>, pred: &Tag<Class>) -> bool {
    clause.iter().any(|e| {
        e.class == Class::Cue(Cue::Exception)
            // "rien que …", "pas moins" are themselves one.
            && ((e.from <= neg.from && neg.to <= e.to) || (neg.to + 1..=neg.to + 2).contains(&e.from))
            && e.from <= pred.from
            && !clause
                .iter()
                .any(|n| n.class == Class::Cue(Cue::Negation) && n.from >= neg.to && n.from < e.from)
    })
}

/// What the clause says around a predicate.
#[derive(Debug, Clone, Copy)]
struct Facts {
    /// A negation just before it.
    negated: bool,
    /// The clause denies ("non è vero che", "non tutti").
    denied: bool,
    /// The sentence reports or condemns someone else's words.
    countered: bool,
    /// The writer is the agent.
    first_person: bool,
    /// Something is prescribed: a normative verb or an imperative.
    ruled: bool,
}

/// What a predicate said of a target means, if anything.
fn decide(kind: Predicate, target: Target, f: Facts) -> Option<(Rule, Predicate)> {
    let protected = target.protected();
    if f.countered || f.denied {
        return None;
    }
    match kind {
        Predicate::Violence if f.negated => None,
        Predicate::Violence => {
            // Someone merely described ("des brutes payées pour frapper", "une vraie
            // torture") is threatened only by the writer.
            // "Vous avez abattu les arbres": "vous" as a subject is not threatened.
            if f.first_person || target == Target::You {
                Some((Rule::Threat, kind))
            } else if protected {
                Some((Rule::Hate, kind))
            } else {
                None
            }
        }
        _ if target == Target::YouObject => None,
        Predicate::Slur => Some((Rule::Hate, kind)),
        // Only what is denied by a rule or an order excludes: "gli anziani non possono
        // venire" asks for help.
        Predicate::Access if protected && f.negated && f.ruled => Some((Rule::Hate, Predicate::Exclusion)),
        Predicate::Access => None,
        Predicate::Positive if f.negated && protected => Some((Rule::Hate, Predicate::NegatedPositive)),
        Predicate::Positive if f.negated && target == Target::You => {
            Some((Rule::PersonalAttack, Predicate::NegatedPositive))
        }
        Predicate::Positive => None,
        Predicate::Expulsion | Predicate::Exclusion if protected && !f.negated => Some((Rule::Hate, kind)),
        Predicate::Expulsion | Predicate::Exclusion => None,
        _ if f.negated => None,
        Predicate::Hate | Predicate::Disgust | Predicate::Attribute | Predicate::Dehumanise | Predicate::Insult
            if protected =>
        {
            Some((Rule::Hate, kind))
        }
        // Of a person, an office or a profession: insults and dehumanising words attack;
        // disgust only said to "you" ("fate schifo"); attributes ("lenti", "sporchi") are
        // criticism, left to the other rules.
        // "X est une vraie plaie" may be said of a thing: of someone described, only insults.
        Predicate::Dehumanise if target == Target::Person => None,
        Predicate::Insult | Predicate::Dehumanise => Some((Rule::PersonalAttack, kind)),
        Predicate::Disgust | Predicate::Hate if target == Target::You => Some((Rule::PersonalAttack, kind)),
        _ => None,
    }
}

/// The target of `pred` in its clause, at most [`REACH`] words away: a protected group if
/// there is one, else the nearest. "You" as an object is only reached by violence; a
/// group right after a preposition, before the predicate, is a complement of something
/// else ("il centro dei migranti fa schifo").
fn nearest_target(
    clause: &[&Tag<Class>],
    pred: &Tag<Class>,
    kind: Predicate,
    tokens: &[Token],
    has_pronoun: bool,
) -> Option<Target> {
    let after_preposition = |t: &Tag<Class>| {
        clause
            .iter()
            .any(|p| p.class == Class::Cue(Cue::Preposition) && p.to == t.from)
    };
    clause
        .iter()
        .filter_map(|t| match t.class {
            Class::Target(Target::YouObject) if kind != Predicate::Violence => None,
            Class::Target(target) | Class::Slur(target) => Some((target, *t)),
            _ => None,
        })
        // A word in both a target and a predicate list is not both at once; "you" is
        // ("fate schifo").
        .filter(|(target, t)| *target == Target::You || !(t.from < pred.to && pred.from < t.to))
        // Past a comma, a group that was itself denied there does not carry on ("non odio i
        // leghisti, odio le buche"); otherwise it does ("les Arabes, c'est un cancer").
        .filter(|(_, t)| {
            has_pronoun
                || tokens[t.from].commas == tokens[pred.from].commas
                || !clause
                    .iter()
                    .any(|n| n.class == Class::Cue(Cue::Negation) && tokens[n.from].commas == tokens[t.from].commas)
        })
        .filter(|(_, t)| {
            !(t.to <= pred.from
                && after_preposition(t)
                && !matches!(
                    kind,
                    Predicate::Violence | Predicate::Expulsion | Predicate::Exclusion | Predicate::Access
                ))
        })
        .map(|(target, t)| {
            let gap = if t.to <= pred.from {
                pred.from - t.to
            } else {
                t.from.saturating_sub(pred.to)
            };
            (gap, target)
        })
        .filter(|(gap, _)| *gap <= REACH)
        .min_by_key(|(gap, target)| (!target.protected(), *target == Target::Person, *gap))
        .map(|(_, target)| target)
}

/// The tokens from the target (when it is in the clause) to the predicate.
fn span_with_target(clause: &[&Tag<Class>], pred: &Tag<Class>, target: Target) -> (usize, usize) {
    let t = clause
        .iter()
        .filter(|t| matches!(t.class, Class::Target(x) | Class::Slur(x) if x == target))
        .min_by_key(|t| t.from.abs_diff(pred.from));
    match t {
        Some(t) => (t.from.min(pred.from), t.to.max(pred.to)),
        None => (pred.from, pred.to),
    }
}

impl Offence {
    /// Whether a verb form makes the writer its agent (`ammazzo`, `ammazzerò`, `tuerai`).
    fn first_person_verb(&self, word: &str) -> bool {
        !self.endings.not_first_person.iter().any(|e| word.ends_with(e.as_str()))
            && self.endings.first_person.iter().any(|e| word.ends_with(e.as_str()))
    }

    /// Whether a verb carries its object pronoun (`sterminarli`, `cacciateli`).
    fn ends_with_pronoun(&self, word: &str) -> bool {
        self.endings
            .pronoun
            .iter()
            .any(|e| word.len() > e.len() + 2 && word.ends_with(e.as_str()))
    }

    /// Whether one of the words is an imperative addressed to the comune.
    fn imperative<'a>(&self, mut words: impl Iterator<Item = &'a str>) -> bool {
        words.any(|w| {
            self.endings
                .imperative
                .iter()
                .any(|e| w.len() > e.len() && w.ends_with(e.as_str()))
        })
    }
}
