//! Integration tests for faq (to be written).
