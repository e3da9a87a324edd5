//! Copies of a grown database (`-- grow`, `load/grown.rs`) for a bench configuration to work
//! in: shared by the load bench (`LOAD_GROWN`) and the store bench (`STORE_GROWN`).

use std::time::Instant;

/// `url` with its database name replaced by `name` (`postgres://…/db?…`).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let (server, _) = base.rsplit_once('/').expect("a database URL ends with /NAME");
    let sep = if query.is_empty() { "" } else { "?" };
    format!("{server}/{name}{sep}{query}")
}

/// A new database `name`, a copy of the grown database `template` (no session may be
/// connected to it); the copy of `url`'s server naming it.
pub async fn copy_of(url: &str, template: &str, name: &str) -> String {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to PostgreSQL");
    tokio::spawn(connection);
    let started = Instant::now();
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
        .await
        .expect("drop an old copy");
    client
        .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
        .await
        .expect("copy the grown database");
    eprintln!("copied {template} in {:.1} s", started.elapsed().as_secs_f64());
    with_database(url, name)
}

/// Drops the copy made by [`copy_of`].
pub async fn drop_copy(url: &str, name: &str) {
    if let Ok((client, connection)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        tokio::spawn(connection);
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
}
