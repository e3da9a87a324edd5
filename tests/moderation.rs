//! Integration tests for moderation (to be written).
