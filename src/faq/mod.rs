//! Pure FAQ matcher (owned by the FAQ work, issue 7).
