//! Expanding one lexicon line into the phrases it stands for: `@class` substitution,
//! `(a|b|)` alternatives, and the folded automaton patterns of each phrase.

use std::collections::HashMap;

use super::lexicon::LexiconError;
use super::normalize::normalize;

/// Most phrases one line may expand to: keeps a typo from building a huge automaton.
pub(super) const MAX_EXPANSION: usize = 50_000;

/// `@name = a|b|c` (a line starting with `@name` without `=` is an entry using a class).
pub(super) fn is_class_definition(line: &str) -> bool {
    line.strip_prefix('@')
        .and_then(|rest| rest.split_once('='))
        .is_some_and(|(name, _)| {
            let name = name.trim();
            !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// `@name = a|b|c` lines.
pub(super) fn parse_classes(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix('@') {
            if let Some((name, body)) = rest.split_once('=') {
                out.insert(name.trim().to_string(), format!("({})", body.trim()));
            }
        }
    }
    out
}

/// Replaces `@name` with `(alternatives)`, classes may use classes (a few levels deep).
pub(super) fn substitute_classes(
    line: &str,
    classes: &HashMap<String, String>,
    ctx: &(String, usize),
) -> Result<String, LexiconError> {
    let mut cur = line.to_string();
    for _ in 0..4 {
        if !cur.contains('@') {
            return Ok(cur);
        }
        let mut out = String::with_capacity(cur.len() * 2);
        let mut rest = cur.as_str();
        while let Some(at) = rest.find('@') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let len = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..len];
            match classes.get(name) {
                Some(body) => out.push_str(body),
                None => {
                    return Err(LexiconError::UnknownClass {
                        file: ctx.0.clone(),
                        line: ctx.1,
                        name: name.to_string(),
                    })
                }
            }
            rest = &after[len..];
        }
        out.push_str(rest);
        cur = out;
    }
    Ok(cur)
}

/// Expands `(a|b)` groups into every phrase.
pub(super) fn expand(line: &str, out: &mut Vec<String>, ctx: &(String, usize)) -> Result<(), LexiconError> {
    let unbalanced = || LexiconError::Unbalanced {
        file: ctx.0.clone(),
        line: ctx.1,
    };
    let Some(open) = line.find('(') else {
        if line.contains(')') {
            return Err(unbalanced());
        }
        out.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
        return Ok(());
    };
    let mut depth = 0usize;
    let mut close = None;
    let mut bars = Vec::new();
    for (i, c) in line[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            '|' if depth == 1 => bars.push(open + i),
            _ => {}
        }
    }
    let close = close.ok_or_else(unbalanced)?;
    let (head, tail) = (&line[..open], &line[close + 1..]);
    let mut from = open + 1;
    bars.push(close);
    for bar in bars {
        let alt = &line[from..bar];
        from = bar + 1;
        expand(&format!("{head}{alt}{tail}"), out, ctx)?;
        if out.len() > MAX_EXPANSION {
            return Err(LexiconError::TooLarge {
                file: ctx.0.clone(),
                line: ctx.1,
                max: MAX_EXPANSION,
            });
        }
    }
    Ok(())
}

/// The automaton patterns for one phrase: folded, with word-boundary spaces, plus the
/// variant with doubled letters collapsed (the text collapses runs of three or more).
pub(super) fn patterns_of(phrase: &str) -> Vec<String> {
    let (body, prefix) = match phrase.strip_suffix('*') {
        Some(b) => (b, true),
        None => (phrase, false),
    };
    let folded = normalize(body).text;
    let inner = folded.trim();
    if inner.is_empty() {
        return Vec::new();
    }
    let mut collapsed = String::with_capacity(inner.len());
    for c in inner.chars() {
        if !collapsed.ends_with(c) || c == ' ' {
            collapsed.push(c);
        }
    }
    let wrap = |s: &str| {
        if prefix {
            format!(" {s}")
        } else {
            format!(" {s} ")
        }
    };
    let mut out = vec![wrap(inner)];
    if collapsed != inner {
        out.push(wrap(&collapsed));
    }
    out
}
