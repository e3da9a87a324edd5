//! Moderation policy (issue 6).
