//! The test PostgreSQL database (`SPORTELLO_TEST_DATABASE_URL`) and fresh schemas on it.

use sportello::storage::{PgOptions, PgStore};

/// The test database's URL, or `None` (after a loud message) on a developer's machine
/// without one. In CI a missing URL fails.
pub fn test_database_url() -> Option<String> {
    match std::env::var("SPORTELLO_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "SPORTELLO_TEST_DATABASE_URL is not set; .ci/run starts PostgreSQL and sets it"
            );
            // Written to stderr itself, not with eprintln!, which the harness hides.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** PostgreSQL tests skipped: set SPORTELLO_TEST_DATABASE_URL (see .ci/run) ***\n"
            );
            None
        }
    }
}

/// A fresh schema on the test database, dropped when this is dropped.
pub struct TestSchema {
    pub options: PgOptions,
}

impl TestSchema {
    pub fn new(url: &str, label: &str) -> TestSchema {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let mut options = PgOptions::new(url);
        options.schema = Some(format!("test_{label}_{}_{nanos}", std::process::id()));
        TestSchema { options }
    }

    pub fn open(&self) -> PgStore {
        PgStore::open(&self.options).unwrap()
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        if let Some(schema) = &self.options.schema {
            let _ = PgStore::drop_schema(&self.options.url, schema);
        }
    }
}
