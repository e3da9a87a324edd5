//! Per-client pace of the public routes (`/c`, `/try`, `/staff/login`): a token bucket per
//! address, bounded in number, and the client's address itself, read from a trusted reverse
//! proxy's `X-Forwarded-For` when there is one.
//!
//! Owns the buckets and the 429 decision. Must not log an address (personal data), nor
//! believe `X-Forwarded-For` from a peer that is not a configured proxy.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::limits::Bucket;
use super::Server;
use crate::config::Pace;

/// Addresses whose buckets are kept at once; past it, full buckets (they behave as none)
/// are forgotten, then the least recently used.
const MAX_ADDRESSES: usize = 10_000;

/// Requests refused with 429 on the public routes, all buckets together (`/metrics`).
pub static LIMITED: AtomicU64 = AtomicU64::new(0);

/// One bucket per address.
#[derive(Default)]
pub struct AddressPace {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl AddressPace {
    /// Takes a token of `from`'s bucket; `Err(wait)` until the next one when it is empty.
    pub fn take(&self, from: IpAddr, pace: Pace, now: Instant) -> Result<(), Duration> {
        let (burst, rate) = (f64::from(pace.burst), pace.per_second());
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(&from) && buckets.len() >= MAX_ADDRESSES {
            buckets.retain(|_, b| now.saturating_duration_since(b.last).as_secs_f64() * rate < burst);
            if buckets.len() >= MAX_ADDRESSES {
                if let Some(oldest) = buckets.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| *k) {
                    buckets.remove(&oldest);
                }
            }
        }
        let taken = buckets
            .entry(from)
            .or_insert_with(|| Bucket::full(burst, now))
            .take(rate, burst, now);
        if taken.is_err() {
            let n = LIMITED.fetch_add(1, Ordering::Relaxed) + 1;
            // Once per thousand refusals, never with the address.
            if n == 1 || n.is_multiple_of(1000) {
                tracing::warn!(limited = n, "public requests refused past their per-address pace");
            }
        }
        taken
    }

    /// Addresses tracked now.
    pub fn len(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy, in which case the
/// last address in `X-Forwarded-For` that is not itself a trusted proxy (the one the proxies
/// saw; what a client writes at the start of the header is not believed).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.ip().to_canonical();
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .map(|a| a.to_canonical())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

/// A 429 with `Retry-After` (whole seconds, at least 1) and a short text.
pub fn too_many(wait: Duration, text: String) -> Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(axum::http::header::RETRY_AFTER, seconds.to_string())],
        text,
    )
        .into_response()
}

/// The buckets of the public pages, shared by the routes that take [`pages`].
#[derive(Default)]
pub struct Paces {
    pub pages: AddressPace,
    pub login: AddressPace,
}

/// Middleware of the public pages: the address's `pages` pace, then the page.
pub async fn pages(
    State((s, paces)): State<(Server, std::sync::Arc<Paces>)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let from = client_ip(peer, request.headers(), &s.config.pace.trusted_proxies);
    match paces.pages.take(from, s.config.pace.pages, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let lang = match request.uri().query().unwrap_or("").split('&').any(|kv| kv == "lang=fr") {
                true => "fr",
                false => "it",
            };
            too_many(
                wait,
                s.engine
                    .locales
                    .format(lang, "too-many-requests", None)
                    .unwrap_or_default(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_its_pace_and_others_are_apart() {
        let p = AddressPace::default();
        let pace = Pace {
            burst: 3,
            per_minute: 60,
        };
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(p.take(a, pace, t0).is_ok());
        }
        let wait = p.take(a, pace, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO, "{wait:?}");
        assert!(p.take(b, pace, t0).is_ok(), "another address has its own bucket");
        assert!(p.take(a, pace, t0 + Duration::from_secs(1)).is_ok(), "one a second");
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 198.51.100.4".parse().unwrap());
        let from_proxy = SocketAddr::new(proxy, 4000);
        let stranger = SocketAddr::new("192.0.2.8".parse().unwrap(), 4000);
        // The proxy appended the address it saw, last; the first was written by the client.
        assert_eq!(
            client_ip(from_proxy, &h, &[proxy]),
            "198.51.100.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(stranger, &h, &[proxy]),
            stranger.ip(),
            "not a proxy: header ignored"
        );
        assert_eq!(client_ip(from_proxy, &h, &[]), proxy, "no proxy configured");
        assert_eq!(client_ip(from_proxy, &HeaderMap::new(), &[proxy]), proxy);
        // Two proxies in a row: the last address that is not one of them.
        let second: IpAddr = "198.51.100.4".parse().unwrap();
        assert_eq!(
            client_ip(from_proxy, &h, &[proxy, second]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }
}
