//! The accept loop: connections are counted, capped and timed out before any request is
//! read, so a client that opens thousands of connections, or sends nothing, or a header a
//! second, cannot take the descriptors the webhooks need.
//!
//! - A connection must send a whole request head within `header_timeout`, and an idle
//!   keep-alive connection is closed after the same time (hyper starts its header timer
//!   whenever it waits for a request head, idle or not).
//! - At most `max_connections` are open at once, at most `per_address` from one address;
//!   past either, a new connection is closed at once, before a byte is read, and counted.
//!   The per-address cap is the webhooks' reserved share: one client (a flood on the public
//!   pages) can never hold more than that, and the providers connect from their own
//!   addresses.
//!
//! Must not: read requests (the router does), decide who is trusted.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;

pub use crate::config::Listen;

/// Counters of the accept loop, read by `/metrics`. Process-wide: the loop runs before the
/// server state exists (a standby answers while it waits for the lock) and both phases
/// must count into the same figures.
pub static REFUSED: AtomicU64 = AtomicU64::new(0);
pub static TIMED_OUT: AtomicU64 = AtomicU64::new(0);
pub static OPEN: AtomicU64 = AtomicU64::new(0);

/// Open connections per address, and in all.
#[derive(Default)]
struct Open {
    by_address: HashMap<IpAddr, usize>,
    total: usize,
}

/// A connection's place, given back when it closes.
struct Place {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Ok(mut o) = self.open.lock() {
            o.total = o.total.saturating_sub(1);
            if let Some(n) = o.by_address.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    o.by_address.remove(&self.ip);
                }
            }
        }
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes a place for a connection from `ip`, or `None` past a cap.
fn admit(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: &Listen) -> Option<Place> {
    let mut o = open.lock().ok()?;
    let mine = o.by_address.get(&ip).copied().unwrap_or(0);
    if o.total >= limits.max_connections || mine >= limits.per_address {
        return None;
    }
    o.total += 1;
    *o.by_address.entry(ip).or_insert(0) += 1;
    OPEN.fetch_add(1, Ordering::Relaxed);
    Some(Place { open: open.clone(), ip })
}

/// Serves `router` on `listener` until `stop` is set, then lets every open connection
/// finish its request in flight and close.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Listen,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let open = Arc::new(Mutex::new(Open::default()));
    let mut connections = tokio::task::JoinSet::new();
    let mut refused_logged = 0u64;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            // Out of descriptors or a connection reset before accept: wait a little rather
            // than spin, and keep serving the connections already open.
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Finished connection tasks are collected as we go.
        while connections.try_join_next().is_some() {}
        let Some(place) = admit(&open, peer.ip(), &limits) else {
            let refused = REFUSED.fetch_add(1, Ordering::Relaxed) + 1;
            // Logged once per thousand, never with the address (personal data).
            if refused >= refused_logged + 1000 || refused_logged == 0 {
                refused_logged = refused;
                tracing::warn!(refused, "connections refused past the connection limits");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let mut stopping = stop.clone();
        connections.spawn(async move {
            let _place = place;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::pin!(conn);
            let finished = tokio::select! {
                r = conn.as_mut() => Some(r),
                _ = stopping.wait_for(|s| *s) => None,
            };
            let result = match finished {
                Some(r) => r,
                // Stopping: the request in flight is answered, then the connection closes.
                None => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                if e.is_timeout() {
                    TIMED_OUT.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_per_address_and_in_all_and_given_back() {
        let open = Arc::new(Mutex::new(Open::default()));
        let limits = Listen {
            header_timeout: Duration::from_secs(1),
            max_connections: 3,
            per_address: 2,
        };
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let p1 = admit(&open, a, &limits).unwrap();
        let _p2 = admit(&open, a, &limits).unwrap();
        assert!(admit(&open, a, &limits).is_none(), "a third from one address");
        let _p3 = admit(&open, b, &limits).unwrap();
        assert!(admit(&open, b, &limits).is_none(), "a fourth in all");
        drop(p1);
        assert!(admit(&open, a, &limits).is_some(), "a place given back is free again");
    }
}
