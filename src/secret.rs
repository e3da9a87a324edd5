//! Comparing secrets (webhook tokens, signatures, session and CSRF tokens, the admin token)
//! in time that does not depend on where they differ. One function, used everywhere.

/// Whether `given` equals `expected`. An empty `expected` never matches: a secret left unset
/// must open nothing. The time taken depends on the lengths only (a secret's length is not
/// worth protecting: every caller's secrets have a fixed or public length range).
pub fn matches(expected: &[u8], given: &[u8]) -> bool {
    if expected.is_empty() {
        return false;
    }
    let mut diff = u8::from(expected.len() != given.len());
    for i in 0..expected.len().max(given.len()) {
        diff |= expected.get(i).copied().unwrap_or(0) ^ given.get(i).copied().unwrap_or(0);
    }
    // black_box keeps the optimiser from turning the loop into an early-exit compare.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn equal_only_when_whole_and_never_when_unset() {
        assert!(matches(b"abc", b"abc"));
        assert!(!matches(b"abc", b"abd"));
        assert!(!matches(b"abc", b"abcd"));
        assert!(!matches(b"abcd", b"abc"));
        assert!(!matches(b"", b""));
        assert!(!matches(b"", b"\0"));
    }
}
