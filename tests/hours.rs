//! Integration tests for hours (to be written).
