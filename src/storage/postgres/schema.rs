//! Schema migrations: the SQL files under `migrations/`, embedded in the binary, applied in
//! order at open and recorded in `schema_migrations`.
//!
//! A transaction-level advisory lock serializes servers starting together on one database.
//! Each migration runs in its own transaction with its row in `schema_migrations`, so a
//! failure leaves the database at the previous version. A database that records a version
//! this build does not know was written by a newer sportello and is refused.

use super::pool::Conn;
use crate::storage::StoreError;

/// Every migration, by version: (version, name, SQL). Append only; never edit one released.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "trees", include_str!("../../../migrations/0001_trees.sql")),
    (2, "console", include_str!("../../../migrations/0002_console.sql")),
    (3, "broadcast", include_str!("../../../migrations/0003_broadcast.sql")),
    (4, "replicas", include_str!("../../../migrations/0004_replicas.sql")),
    (5, "aliases", include_str!("../../../migrations/0005_aliases.sql")),
    (6, "keyring", include_str!("../../../migrations/0006_keyring.sql")),
    (7, "queues", include_str!("../../../migrations/0007_queues.sql")),
];

/// An arbitrary constant naming the migration lock (`pg_advisory_xact_lock`).
const MIGRATION_LOCK: i64 = 0x5350_4f52_5445_4c4c; // "SPORTELL"

/// Applies the migrations the database lacks.
pub(super) fn apply(c: &mut Conn) -> Result<(), StoreError> {
    c.transaction(|c| {
        c.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        c.batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
    })
    .map_err(|e| cause("cannot create schema_migrations", e))?;
    for (version, name, sql) in MIGRATIONS {
        c.transaction(|c| {
            c.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
            let done = c
                .query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[version])?
                .is_some();
            if !done {
                tracing::info!(version, name, "applying a database migration");
                c.batch(sql)?;
                c.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    &[version, name],
                )?;
            }
            Ok(())
        })
        .map_err(|e| cause(&format!("migration {version} ({name}) failed"), e))?;
    }
    let newest = c
        .query_opt("SELECT max(version) FROM schema_migrations", &[])?
        .and_then(|r| r.get::<_, Option<i32>>(0))
        .unwrap_or(0);
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if newest > known {
        return Err(StoreError::NewerSchema {
            found: u32::try_from(newest).unwrap_or(u32::MAX),
        });
    }
    Ok(())
}

/// `e` with what was being done in front: the error reaches the operator at start.
fn cause(what: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Postgres(reason) => StoreError::Postgres(format!("{what}: {reason}")),
        other => other,
    }
}
