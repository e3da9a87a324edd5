//! The accept loop: connections are counted, capped and timed out before any request is
//! read, so a client that opens thousands of connections, or sends nothing, or a header a
//! second, cannot take the descriptors the webhooks need.
//!
//! - A connection must send a whole request head within `header_timeout`, and an idle
//!   keep-alive connection is closed after the same time (hyper starts its header timer
//!   whenever it waits for a request head, idle or not).
//! - At most `per_address` connections are open at once from one address; past it a new
//!   one is closed at once, before a byte is read, and counted: one client (a flood on the
//!   public pages) can never hold more than that.
//! - At most `max_connections` are open at once. When they are all taken, a new connection
//!   takes the place of the one that has waited longest for a request head (silent, slow
//!   or idle keep-alive: `sportello_connections_evicted_total`); only when every connection
//!   is busy with a request is the new one refused. So many addresses holding connections
//!   open cannot keep a webhook out: it sends its head at once and is the newest.
//!
//! Must not: read requests (the router does), decide who is trusted.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
pub static EVICTED: AtomicU64 = AtomicU64::new(0);

/// How long an evicted connection may still take to finish a request that arrived just as
/// it was chosen.
const EVICTED_GRACE: Duration = Duration::from_secs(1);

/// One open connection, as the accept loop sees it.
struct Conn {
    /// Since when it has waited for a request head; `None` while a request is handled.
    waiting_since: Option<Instant>,
    /// Closes the connection when it is evicted.
    evict: Arc<tokio::sync::Notify>,
}

/// Open connections per address, and in all.
#[derive(Default)]
struct Open {
    by_address: HashMap<IpAddr, usize>,
    conns: HashMap<u64, Conn>,
    next: u64,
}

impl Open {
    /// Evicts the connection that has waited longest for a request head, if any waits.
    fn evict_oldest_waiting(&mut self) -> bool {
        let oldest = self
            .conns
            .iter()
            .filter_map(|(id, c)| c.waiting_since.map(|t| (t, *id)))
            .min();
        match oldest.and_then(|(_, id)| self.conns.get_mut(&id)) {
            Some(conn) => {
                // Not waiting any more: it is on its way out and must not be chosen twice.
                conn.waiting_since = None;
                conn.evict.notify_one();
                EVICTED.fetch_add(1, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// A connection's place, given back when it closes.
struct Place {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
    id: u64,
    evict: Arc<tokio::sync::Notify>,
}

impl Place {
    /// Marks the connection busy with a request (`true`) or waiting for the next (`false`).
    fn busy(&self, busy: bool) {
        let mut o = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = o.conns.get_mut(&self.id) {
            conn.waiting_since = if busy { None } else { Some(Instant::now()) };
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|e| e.into_inner());
        o.conns.remove(&self.id);
        if let Some(n) = o.by_address.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                o.by_address.remove(&self.ip);
            }
        }
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes a place for a connection from `ip`: `None` past the per-address cap, or when all
/// places are taken by connections busy with a request. A full house makes room by
/// evicting the connection that has waited longest for a request head (it closes soon
/// after; its place is counted until it has).
fn admit(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: &Listen) -> Option<Place> {
    let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
    let mine = o.by_address.get(&ip).copied().unwrap_or(0);
    if mine >= limits.per_address {
        return None;
    }
    if o.conns.len() >= limits.max_connections && !o.evict_oldest_waiting() {
        return None;
    }
    o.next += 1;
    let id = o.next;
    let evict = Arc::new(tokio::sync::Notify::new());
    o.conns.insert(
        id,
        Conn {
            waiting_since: Some(Instant::now()),
            evict: evict.clone(),
        },
    );
    *o.by_address.entry(ip).or_insert(0) += 1;
    OPEN.fetch_add(1, Ordering::Relaxed);
    Some(Place {
        open: open.clone(),
        ip,
        id,
        evict,
    })
}

/// Descriptors kept apart from connections: the store's files, the provider clients'
/// sockets, logs.
const DESCRIPTORS_SPARE: u64 = 256;

/// Makes room for `max_connections` in the process's open-file limit: raises the soft limit
/// towards the hard one as far as needed, and returns how many connections fit (fewer than
/// asked, with a warning, when even the hard limit is too low: past it accept would fail
/// and the eviction above could never make room).
pub fn fit_descriptors(max_connections: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let wanted = max_connections as u64 + DESCRIPTORS_SPARE;
    let limit = getrlimit(Resource::Nofile);
    let (Some(mut current), maximum) = (limit.current, limit.maximum) else {
        // Unlimited.
        return max_connections;
    };
    if current < wanted {
        let raised = maximum.map_or(wanted, |m| wanted.min(m));
        if setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(raised),
                maximum,
            },
        )
        .is_ok()
        {
            current = raised;
        }
    }
    let fits = current.saturating_sub(DESCRIPTORS_SPARE) as usize;
    if fits < max_connections {
        tracing::warn!(
            max_connections,
            open_files = current,
            "the open-file limit (ulimit -n) is too low for max_connections: serving at most this many connections instead"
        );
        return fits.max(16);
    }
    max_connections
}

/// Set when the server stops, in every request's extensions: a response that streams
/// (server-sent events) ends then, so that stopping does not wait for it.
#[derive(Clone)]
pub struct Stopping(pub tokio::sync::watch::Receiver<bool>);

/// Serves `router` on `listener` until `stop` is set, then lets every open connection
/// finish its request in flight and close.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Listen,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let limits = Listen {
        max_connections: fit_descriptors(limits.max_connections),
        ..limits
    };
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
        let place = Arc::new(place);
        let evict = place.evict.clone();
        let tracked = place.clone();
        let router = router.clone();
        let stopped = stop.clone();
        // Busy from the moment a head has arrived until the answer is ready; waiting (and
        // so evictable) otherwise.
        let service = tower::service_fn(move |mut req: axum::extract::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req.extensions_mut().insert(Stopping(stopped.clone()));
            let (router, place) = (router.clone(), tracked.clone());
            async move {
                place.busy(true);
                let answer = router.oneshot(req).await;
                place.busy(false);
                answer
            }
        });
        let mut stopping = stop.clone();
        connections.spawn(async move {
            let _place = place;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::pin!(conn);
            enum End {
                Closed(Result<(), hyper::Error>),
                Stopping,
                Evicted,
            }
            let end = tokio::select! {
                r = conn.as_mut() => End::Closed(r),
                _ = stopping.wait_for(|s| *s) => End::Stopping,
                _ = evict.notified() => End::Evicted,
            };
            let finished = match end {
                End::Closed(r) => Some(r),
                End::Stopping => None,
                // Made room for a newer connection. Chosen while waiting for a head, but a
                // head may have arrived since: that request is still answered, briefly.
                End::Evicted => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(EVICTED_GRACE, conn.as_mut()).await;
                    return;
                }
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
    fn places_are_capped_per_address_and_a_full_house_evicts_the_longest_waiting() {
        let open = Arc::new(Mutex::new(Open::default()));
        let limits = Listen {
            header_timeout: Duration::from_secs(1),
            max_connections: 3,
            per_address: 2,
        };
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let c: IpAddr = "192.0.2.3".parse().unwrap();
        let p1 = admit(&open, a, &limits).unwrap();
        let p2 = admit(&open, a, &limits).unwrap();
        assert!(admit(&open, a, &limits).is_none(), "a third from one address");
        let p3 = admit(&open, b, &limits).unwrap();
        // The house is full. p1 is busy with a request, p2 waits longest for a head.
        p1.busy(true);
        let p4 = admit(&open, c, &limits).expect("a newcomer evicts a waiting connection");
        assert!(
            tokio_test_notified(&p2.evict) && !tokio_test_notified(&p1.evict),
            "the longest waiting, never the busy one"
        );
        drop(p2);
        // Now p1 is busy, p3 and p4 wait: p3 (older) goes next.
        let _p5 = admit(&open, a, &limits).unwrap();
        assert!(tokio_test_notified(&p3.evict) && !tokio_test_notified(&p4.evict));
        drop(p3);
        // Everyone busy: refused.
        p4.busy(true);
        _p5.busy(true);
        assert!(admit(&open, c, &limits).is_none(), "all busy: refused");
        drop(p1);
        assert!(admit(&open, c, &limits).is_some(), "a place given back is free again");
    }

    /// Whether `n` holds a notification (taken without waiting).
    fn tokio_test_notified(n: &tokio::sync::Notify) -> bool {
        use std::future::Future;
        let fut = n.notified();
        tokio::pin!(fut);
        let waker = std::task::Waker::noop();
        fut.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_ready()
    }
}
