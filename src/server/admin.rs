//! The admin endpoint of a running server: `POST /admin/backup`, for `sportello backup`
//! while sled's lock keeps every other process out of the data directory.
//!
//! It answers only a loopback peer carrying `Authorization: Bearer <token>`, the token
//! being the random one [`Server::enable_admin`] wrote to `<data>/admin.token` (owner-only,
//! new at each start) next to the listening address in `<data>/admin.addr`. Whoever can
//! read the data directory may take a backup; nobody else. The token is never logged, and
//! neither is anything a backup holds.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Server;
use crate::staff::accounts;
use crate::storage::SledStore;

/// The file holding the admin token, in the data directory.
pub const TOKEN_FILE: &str = "admin.token";
/// The file holding the server's address, in the data directory.
pub const ADDR_FILE: &str = "admin.addr";

/// The admin state of a server: empty (routes answer 404) until [`Server::enable_admin`].
#[derive(Default)]
pub struct Admin {
    access: OnceLock<Access>,
}

struct Access {
    token: String,
    store: SledStore,
}

impl Server {
    /// Enables `/admin`: a fresh token and `addr` are written to `data` (0600), and backups
    /// read `store`, the same handle the engine writes through. Call once, before serving.
    pub fn enable_admin(&self, store: SledStore, data: &Path, addr: SocketAddr) -> std::io::Result<()> {
        let token = random_token()?;
        write_private(&data.join(TOKEN_FILE), &token)?;
        write_private(&data.join(ADDR_FILE), &addr.to_string())?;
        self.admin
            .access
            .set(Access { token, store })
            .map_err(|_| std::io::Error::other("the admin endpoint was already enabled"))
    }
}

/// Removes the token and address files (at a clean stop; stale ones are harmless, as a
/// backup tries the directory itself first).
pub fn remove_admin_files(data: &Path) {
    for f in [TOKEN_FILE, ADDR_FILE] {
        let _ = std::fs::remove_file(data.join(f));
    }
}

/// The admin access of a request: loopback peer and the right token, or the refusal.
fn authorize<'a>(s: &'a Server, peer: SocketAddr, headers: &HeaderMap) -> Result<&'a Access, StatusCode> {
    let Some(access) = s.admin.access.get() else {
        return Err(StatusCode::NOT_FOUND);
    };
    if !peer.ip().is_loopback() {
        tracing::warn!("admin request refused: not from loopback");
        return Err(StatusCode::FORBIDDEN);
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|g| crate::secret::matches(access.token.as_bytes(), g.trim().as_bytes())) {
        tracing::warn!("admin request refused: bad or missing token");
        return Err(StatusCode::UNAUTHORIZED);
    }
    Ok(access)
}

/// What every JSON admin call does: access first (a caller without it learns nothing, not
/// even the body's schema), the body read as `T`, `run` on a blocking thread, and its
/// answer as JSON or its error with `status` and the reason (never a citizen's data).
async fn json_call<T, A, E>(
    s: &Server,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
    run: impl FnOnce(T) -> Result<A, E> + Send + 'static,
    status: fn(&E) -> StatusCode,
) -> Response
where
    T: serde::de::DeserializeOwned + Send + 'static,
    A: serde::Serialize + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    if let Err(refused) = authorize(s, peer, headers) {
        return refused.into_response();
    }
    let asked: T = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not a request of this endpoint: {e}")).into_response(),
    };
    match tokio::task::spawn_blocking(move || run(asked)).await {
        Ok(Ok(answer)) => axum::Json(answer).into_response(),
        Ok(Err(e)) => (status(&e), e.to_string()).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// An error of the store: the server's.
fn internal<E>(_: &E) -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

/// `POST /admin/broadcast`: a [`crate::broadcast::ops::Call`] run in the running server
/// (whose store sled keeps locked), which then wakes its worker. Answers JSON; a refused
/// request is 422 with the reason (counts and languages, never a citizen).
pub async fn broadcast(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let server = s.clone();
    let run = move |call: crate::broadcast::ops::Call| {
        crate::broadcast::ops::execute(&server.engine, &server.config, call, "cli", jiff::Timestamp::now())
    };
    let answer = json_call(&s, peer, &headers, &body, run, |_| StatusCode::UNPROCESSABLE_ENTITY).await;
    s.broadcast_wake.notify_one();
    answer
}

/// `POST /admin/staff/code` `{"email": …}`: a one-time code for a staff account
/// (`sportello staff code` while the server holds the data directory). Answers the same JSON
/// as the command run on the store; an unknown account is 404.
pub async fn staff_code(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Asked {
        email: String,
    }
    let store = s.engine.store.clone();
    let run =
        move |asked: Asked| crate::staff::accounts::grant_code(store.as_ref(), &asked.email, jiff::Timestamp::now());
    json_call(&s, peer, &headers, &body, run, crate::staff::StaffError::status).await
}

/// `POST /admin/staff`: a [`crate::staff::roster::Call`] (`sportello staff …` while the
/// server holds the data directory). Answers what the command prints from; a refused
/// account (a bad address, one that exists) is the error's status with its reason.
pub async fn staff(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let engine = s.engine.clone();
    let run = move |call| crate::staff::roster::run(&engine, call, "cli", jiff::Timestamp::now());
    json_call(&s, peer, &headers, &body, run, crate::staff::StaffError::status).await
}

/// `POST /admin/subscribers`: a [`crate::staff::subscribers::Call`] (`sportello
/// subscribers` while the server holds the data directory).
pub async fn subscribers(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let engine = s.engine.clone();
    let run = move |call| crate::staff::subscribers::run(&engine, call, jiff::Timestamp::now());
    json_call(&s, peer, &headers, &body, run, internal).await
}

/// `POST /admin/report` `{"comune", "year", "lang"}`: the annual report's figures
/// (`sportello report` while the server holds the data directory), as
/// `crate::staff::report::build` gives them (`null` when there is nothing to report).
pub async fn report(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Asked {
        comune: String,
        year: i32,
        lang: String,
    }
    let engine = s.engine.clone();
    let run = move |a: Asked| crate::staff::report::build(&engine, &a.comune, a.year, &a.lang);
    json_call(&s, peer, &headers, &body, run, internal).await
}

/// `POST /admin/retention` `{"dry_run": bool}`: a retention run now (`sportello retention
/// run` while the server holds the data directory), answered as
/// `crate::staff::privacy::retention` reports it.
pub async fn retention(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Asked {
        dry_run: bool,
    }
    let engine = s.engine.clone();
    let run = move |a: Asked| crate::staff::privacy::retention(&engine, jiff::Timestamp::now(), a.dry_run);
    json_call(&s, peer, &headers, &body, run, internal).await
}

/// `POST /admin/moderation`: a [`crate::staff::moderation::Call`] (`moderation
/// queue|decide|export` while the server holds the data directory); a decision runs in the
/// citizen's lane, as the console runs it, since it may block or unblock them.
pub async fn moderation(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use crate::staff::moderation::{run, Call};
    if let Err(refused) = authorize(&s, peer, &headers) {
        return refused.into_response();
    }
    let call: Call = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not a moderation call: {e}")).into_response(),
    };
    let engine = s.engine.clone();
    // The citizen of a decided case, whose lane the decision runs in.
    let lane = match call.decided_case().map(|id| s.engine.store.case(id)) {
        Some(Ok(Some(case))) => Some(case.key),
        Some(Err(e)) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        _ => None,
    };
    let done = match lane {
        Some(key) => {
            let run_it = move || run(&engine, call, jiff::Timestamp::now());
            s.lanes().in_lane(key, run_it).await
        }
        None => tokio::task::spawn_blocking(move || run(&engine, call, jiff::Timestamp::now()))
            .await
            .ok(),
    };
    match done {
        Some(Ok(answer)) => axum::Json(answer).into_response(),
        Some(Err(e)) => (e.status(), e.to_string()).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// `POST /admin/citizen`: a [`crate::staff::citizen::Request`] (`citizen show|export|erase`
/// while the server holds the data directory), run in the citizen's lane so that it never
/// interleaves with their steps. Answers the same JSON the command prints from.
pub async fn citizen(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = authorize(&s, peer, &headers) {
        return refused.into_response();
    }
    let request: crate::staff::citizen::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not a citizen request: {e}")).into_response(),
    };
    let engine = s.engine.clone();
    // The lane of the record meant (a number or a business-scoped id may name it).
    let store = s.engine.store.clone();
    let r2 = request.clone();
    let lane = match s.off_workers(move |_| r2.resolve(store.as_ref())).await {
        Some(Ok(key)) => key,
        Some(Err(e)) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        None => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let done = s
        .lanes()
        .in_lane(lane, move || {
            crate::staff::citizen::run(&engine, &request, jiff::Timestamp::now())
        })
        .await;
    match done {
        Some(Ok(answer)) => axum::Json(answer).into_response(),
        Some(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// `POST /admin/backup`: the whole backup as the response body.
pub async fn backup(
    State(s): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let access = match authorize(&s, peer, &headers) {
        Ok(a) => a,
        Err(refused) => return refused.into_response(),
    };
    let store = access.store.clone();
    // The scan pauses writes and blocks: on a blocking thread, into memory, so the pause
    // lasts as long as reading the store and not as long as a slow client.
    let started = std::time::Instant::now();
    let taken = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        store.export_to(&mut out).map(|summary| (out, summary))
    })
    .await;
    match taken {
        Ok(Ok((body, summary))) => {
            tracing::info!(
                records = summary.records,
                bytes = body.len(),
                paused_ms = started.elapsed().as_millis() as u64,
                "backup taken"
            );
            ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "backup failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// 32 bytes from the operating system's generator, as hex.
fn random_token() -> std::io::Result<String> {
    let bytes = accounts::random_bytes::<32>().map_err(std::io::Error::other)?;
    Ok(accounts::hex(&bytes))
}

/// Writes `text` to `path`, readable by the owner only, replacing any previous file at once.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp: PathBuf = path.to_path_buf().into_os_string().into();
    tmp.as_mut_os_string().push(".tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_long() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
