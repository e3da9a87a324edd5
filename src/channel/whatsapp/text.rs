//! Cutting text to Meta's character limits: truncation with "…", unique titles, and
//! splitting long bodies at paragraph, line or word breaks. Pure functions on `&str`, always
//! on char boundaries, never empty where Meta requires text.

/// What Meta needs in a body that must not be empty when we have nothing to say.
pub(super) const EMPTY_BODY: &str = "…";

/// At most `max` characters, the last one "…" when something was cut.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Ids are matched exactly when they come back, so they are cut without an ellipsis.
pub(super) fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

pub(super) fn non_empty(s: String, fallback: &str) -> String {
    if s.trim().is_empty() {
        fallback.to_string()
    } else {
        s
    }
}

pub(super) fn fit_body(body: &str, max: usize) -> String {
    non_empty(truncate(body.trim(), max), EMPTY_BODY)
}

/// Titles truncated to `max` and made unique (Meta rejects duplicates) with " 2", " 3"…
pub(super) fn unique_titles<'a>(titles: impl Iterator<Item = &'a str>, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in titles {
        let base = non_empty(truncate(t.trim(), max), EMPTY_BODY);
        let mut title = base.clone();
        let mut n = 2;
        while out.contains(&title) {
            let suffix = format!(" {n}");
            title = format!(
                "{}{suffix}",
                truncate(base.trim_end_matches('…'), max.saturating_sub(suffix.chars().count()))
            );
            n += 1;
        }
        out.push(title);
    }
    out
}

/// Byte index of the `n`th char (or the end).
pub(super) fn char_index(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// Where to cut `s` so that the part before is at most `max` chars: at the last paragraph,
/// line or word break in the second half of the window, else exactly at `max`.
pub(super) fn cut_before(s: &str, max: usize) -> usize {
    let end = char_index(s, max);
    let window = &s[..end];
    let half = char_index(s, max / 2);
    for sep in ["\n\n", "\n", " "] {
        if let Some(i) = window.rfind(sep).filter(|&i| i >= half && i > 0) {
            return i;
        }
    }
    end
}

/// Splits text into trimmed, non-empty parts of at most `max` chars.
pub(super) fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.chars().count() <= max {
            parts.push(rest.to_string());
            break;
        }
        let cut = cut_before(rest, max);
        parts.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// (head, tail) with the tail at most `max` chars, cut at a paragraph, line or word break
/// when the last `max` chars hold one (a question after a long text keeps its buttons).
pub(super) fn split_tail(text: &str, max: usize) -> (&str, &str) {
    let total = text.chars().count();
    if total <= max {
        return ("", text);
    }
    let start = char_index(text, total - max);
    let window = &text[start..];
    for sep in ["\n\n", "\n", " "] {
        // The first break in the window gives the longest tail that starts cleanly.
        if let Some(i) = window.find(sep) {
            return (text[..start + i].trim_end(), window[i..].trim_start());
        }
    }
    (text[..start].trim_end(), window.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_on_char_boundaries() {
        assert_eq!(truncate("èèèèèèèèèèèèèèèèèèèèèè", 20).chars().count(), 20);
        assert!(truncate("èèèèèèèèèèèèèèèèèèèèèè", 20).ends_with('…'));
        assert_eq!(truncate("esattamente venti ch", 20), "esattamente venti ch");
        // No trailing space before the ellipsis.
        assert_eq!(truncate("Ufficio tributi e altro", 9), "Ufficio…");
        assert_eq!(clip("èèè", 2), "èè");
        assert_eq!(fit_body("  ", 10), EMPTY_BODY);
    }

    #[test]
    fn titles_stay_unique_within_the_limit() {
        let t = unique_titles(
            [
                "Pagamenti TARI 2025 acconto",
                "Pagamenti TARI 2025 saldo",
                "Sì",
                "Sì",
                "",
            ]
            .into_iter(),
            20,
        );
        assert_eq!(t, ["Pagamenti TARI 2025…", "Pagamenti TARI 20… 2", "Sì", "Sì 2", "…"]);
        assert!(t.iter().all(|t| t.chars().count() <= 20));
    }

    #[test]
    fn split_text_prefers_breaks_and_falls_back_to_a_hard_cut() {
        let out = split_text(&"è".repeat(9000), 4096);
        assert_eq!(
            out.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            [4096, 4096, 808]
        );
        assert_eq!(split_text("aaaa bbbb cccc", 9), ["aaaa", "bbbb cccc"]);
        // A break in the first half of the window would leave a tiny part: cut hard instead.
        assert_eq!(split_text("a bbbbbbbbbbbb", 9), ["a bbbbbbb", "bbbbb"]);
        assert_eq!(split_text("riga uno\nriga due", 12), ["riga uno", "riga due"]);
        assert!(split_text(" \n ", 10).is_empty());
    }

    #[test]
    fn split_tail_keeps_the_last_paragraph() {
        assert_eq!(split_tail("breve", 10), ("", "breve"));
        assert_eq!(
            split_tail("primo paragrafo\n\nDomanda?", 12),
            ("primo paragrafo", "Domanda?")
        );
        let long = "è".repeat(30);
        let (head, tail) = split_tail(&long, 10);
        assert_eq!((head.chars().count(), tail.chars().count()), (20, 10));
    }
}
