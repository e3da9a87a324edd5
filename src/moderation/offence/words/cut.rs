//! Words people did not write as separate words: run together (`lesjuifssontdesrats`,
//! `tuttiladri`), cut back into entry words and short function words; or spelled out in
//! syllables (`mu sul mans`, `pa ra si tes`), read whole.
//!
//! Must not: accept a cut that only an ordinary word's ending explains ("accettabile" is
//! not "accettabi le").

use super::{Tag, Words, OPEN_ENDING};

/// Words shorter than this are never cut into pieces.
const SEGMENT_MIN: usize = 8;
/// Nor longer ones (bounds the work on hostile input).
const SEGMENT_MAX: usize = 64;

impl<C: Copy + PartialEq> Words<C> {
    /// A word run together cut back into pieces ("lesjuifssontdesrats" → les juifs sont
    /// des rats): the byte ranges of the fewest pieces that cover it whole, each an
    /// entry's word form or a function word, at least one of them content. `None` for a
    /// word that is known as it stands, too short or too long, or cannot be cut so.
    pub fn segment(&self, word: &str) -> Option<Vec<(usize, usize)>> {
        let n = word.len();
        if !(SEGMENT_MIN..=SEGMENT_MAX).contains(&n) || !word.is_ascii() || self.known(word) {
            return None;
        }
        let bytes = word.as_bytes();
        // best[i]: (pieces, content pieces, where the last piece starts, whether it is
        // content) to cover ..i.
        let mut best: Vec<Option<(u8, u8, usize, bool)>> = vec![None; n + 1];
        best[0] = Some((0, 0, 0, false));
        for i in 0..n {
            let Some((count, content, _, _)) = best[i] else {
                continue;
            };
            for (walked, piece) in self.pieces.walk(&bytes[i..]) {
                let candidate = (count + 1, content + u8::from(piece.content), i, piece.content);
                let here = i + walked;
                let ends = match (piece.end, piece.open) {
                    (_, true) => here..=(here + OPEN_ENDING).min(n),
                    (true, false) => here..=here,
                    (false, false) => continue,
                };
                for end in ends {
                    // Fewer pieces first, then more content.
                    let better = match best[end] {
                        None => true,
                        Some((c, k, _, _)) => (candidate.0, std::cmp::Reverse(candidate.1)) < (c, std::cmp::Reverse(k)),
                    };
                    if better {
                        best[end] = Some(candidate);
                    }
                }
            }
        }
        let (count, content, _, _) = best[n]?;
        if count < 2 || content == 0 {
            return None;
        }
        let mut ranges = Vec::with_capacity(count as usize);
        let mut longest_glue = 0;
        let mut end = n;
        while end > 0 {
            let (_, _, start, is_content) = best[end]?;
            ranges.push((start, end));
            if !is_content {
                longest_glue = longest_glue.max(end - start);
            }
            end = start;
        }
        ranges.reverse();
        // One content word and a two-letter leftover is an ordinary word's ending more
        // often than a word run together ("accettabile" is not "accettabi le").
        let solid = content >= 2 || longest_glue >= 3;
        solid.then_some(ranges)
    }

    /// Tokens from `at` read as one word spelled in syllables: up to four, all but the last
    /// of at most four letters, the last of at most nine (and, of two, unknown alone); the width
    /// taken if the whole starts a target or predicate entry.
    pub(super) fn syllables(
        &self,
        tokens: &[&str],
        at: usize,
        joined: &mut String,
        tags: &mut Vec<Tag<C>>,
    ) -> Option<usize> {
        let short = tokens[at..].iter().take(3).take_while(|t| t.len() <= 4).count();
        for width in (2..=(short + 1).min(4)).rev() {
            let Some(last) = tokens.get(at + width - 1) else {
                continue;
            };
            // Two pieces need a last one that means nothing alone; more are syllables
            // whatever the last is ("pa ra si tes").
            if last.len() > 9 || (width == 2 && (last.len() <= 3 || self.known(last))) {
                continue;
            }
            joined.clear();
            tokens[at..at + width].iter().for_each(|t| joined.push_str(t));
            if joined.len() < 5 {
                continue;
            }
            let before = tags.len();
            self.starting(joined, tokens, at, width, true, tags);
            let mut i = before;
            let mut any = false;
            while i < tags.len() {
                if self.entries.iter().any(|e| e.class == tags[i].class && e.content) {
                    any = true;
                    i += 1;
                } else {
                    tags.swap_remove(i);
                }
            }
            if any {
                return Some(width);
            }
        }
        None
    }
}
