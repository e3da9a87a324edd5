//! Channel adapters: wire formats only (issue 3).
