//! Edit distance between two words, for typo tolerance.
//!
//! Owns the optimal-string-alignment (restricted Damerau–Levenshtein) distance on chars:
//! insert, delete, substitute and transpose of two adjacent chars each cost one edit.
//! It must not normalize: callers pass already-normalized text.
//!
//! The bounded forms only fill a diagonal band of width `2 * max + 1`, so comparing two
//! long strings with a small bound costs O(len * max), never O(len²).

/// Full OSA distance between `a` and `b`, counted in chars.
///
/// Quadratic in the lengths: use [`within`] or [`bounded_distance`] on untrusted text.
pub fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let bound = a.len().max(b.len());
    banded(&a, &b, bound).unwrap_or(bound)
}

/// Whether `osa_distance(a, b) <= max`, checking the length difference first.
pub fn within(a: &str, b: &str, max: usize) -> bool {
    bounded_distance(a, b, max).is_some()
}

/// The OSA distance if it is at most `max`, else `None`. Cheap when the strings differ
/// in length by more than `max` or diverge early.
pub fn bounded_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    // Byte lengths bound char counts from above and below (1..=4 bytes a char), so a
    // huge byte gap rules a pair out before collecting chars.
    let (la, lb) = (a.len(), b.len());
    if la.min(lb).saturating_mul(4).saturating_add(max) < la.max(lb) {
        return None;
    }
    if a == b {
        return Some(0);
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    banded(&a, &b, max)
}

/// OSA distance restricted to the band |i - j| <= max; `None` when it exceeds `max`.
fn banded(a: &[char], b: &[char], max: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return None;
    }
    if n == 0 || m == 0 {
        return Some(n.max(m));
    }
    // Any value above `max` is as good as infinity; keeping it small avoids overflow.
    let inf = max + 1;
    let mut two_back = vec![inf; m + 1];
    let mut prev: Vec<usize> = (0..=m).map(|j| if j <= max { j } else { inf }).collect();
    let mut cur = vec![inf; m + 1];
    for i in 1..=n {
        let lo = i.saturating_sub(max).max(1);
        let hi = (i + max).min(m);
        // Cells just outside the band must read as infinity: they may hold values left
        // over from the row this buffer held three rows ago.
        cur[lo - 1] = if lo == 1 && i <= max { i } else { inf };
        if hi < m {
            cur[hi + 1] = inf;
        }
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(two_back[j - 2] + 1);
            }
            let v = v.min(inf);
            cur[j] = v;
            row_min = row_min.min(v);
        }
        // Every path to the last cell crosses this row (a transposition reaching back two
        // rows is never cheaper than the diagonal through this one), so we can stop.
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut two_back, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[m];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basic_edits() {
        assert_eq!(osa_distance("", ""), 0);
        assert_eq!(osa_distance("abc", ""), 3);
        assert_eq!(osa_distance("cancello", "cancelo"), 1); // delete
        assert_eq!(osa_distance("iscrizione", "iscrizzione"), 1); // insert
        assert_eq!(osa_distance("mi", "ti"), 1); // substitute
        assert_eq!(osa_distance("iscrivimi", "iscirvimi"), 1); // transpose
        assert_eq!(osa_distance("ca", "abc"), 3); // OSA, not full Damerau
        assert_eq!(osa_distance("disattiva", "attiva"), 3);
    }

    #[test]
    fn counts_chars_not_bytes() {
        assert_eq!(osa_distance("già", "gia"), 1);
        assert!(within("désinscris", "desinscris", 1));
    }

    #[test]
    fn within_checks_bounds() {
        assert!(within("cancellami", "cancelami", 1));
        assert!(!within("cancellami", "canclami", 1));
        assert!(within("x", "x", 0));
        assert!(!within("x", "y", 0));
        assert_eq!(bounded_distance("abcdef", "abcdfe", 2), Some(1));
        assert_eq!(bounded_distance("abcdef", "a", 2), None);
    }

    #[test]
    fn long_strings_with_small_bound_are_fast() {
        let a = "a".repeat(100_000);
        let mut b = a.clone();
        b.push('b');
        assert!(within(&a, &b, 1));
        assert!(!within(&a, &"b".repeat(100_000), 2));
    }

    proptest! {
        #[test]
        fn within_agrees_with_full_distance(a in "[abc]{0,8}", b in "[abc]{0,8}", k in 0usize..4) {
            let d = osa_distance(&a, &b);
            prop_assert_eq!(within(&a, &b, k), d <= k);
            prop_assert_eq!(bounded_distance(&a, &b, k), (d <= k).then_some(d));
            prop_assert_eq!(d, osa_distance(&b, &a));
        }
    }
}
