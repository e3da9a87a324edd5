//! Server-sent events for pages kept open (the console's inbox, threads and broadcast list;
//! the simulator's replies from an operator): a stream that listens to the bell
//! (`service::bell`) and turns what rang into events, gathered over a quarter of a second so
//! a burst (a broadcast sending hundreds a second) is one event, not hundreds.
//!
//! A stream is bounded in every way a hostile or forgetful client could stretch it: at
//! most `Streams`' number open at once and a few per address (past them: 503 with
//! `Retry-After`, and the page falls back to polling), each closed after [`LIFETIME`]
//! (browsers reconnect by themselves) and at once when the server stops. Events name what
//! changed (a pseudonymous reference), never its content: the page fetches that with its
//! own rights.
//!
//! Must not: read the store or decide who may listen (the handlers do both).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use crate::server::listen::Stopping;
use crate::service::bell::{Heard, Listener};

/// A stream is closed after this long; the browser opens a new one (`retry` below).
pub const LIFETIME: Duration = Duration::from_secs(5 * 60);
/// Rings gathered into one batch of events.
const GATHER: Duration = Duration::from_millis(250);
/// How soon a browser reconnects after a stream ends.
const RETRY: Duration = Duration::from_secs(2);

/// The streams of one kind open now, bounded in all and per address.
pub struct Streams {
    max: usize,
    per_address: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted stream: its place is given back when the stream ends.
pub struct Place {
    streams: Arc<Streams>,
    from: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.from) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.from);
            }
        }
    }
}

impl Streams {
    pub fn new(max: usize, per_address: usize) -> Arc<Streams> {
        Arc::new(Streams {
            max,
            per_address,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a stream from `from`, if one is free.
    pub fn admit(self: &Arc<Self>, from: IpAddr) -> Option<Place> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = open.values().sum();
        let mine = open.get(&from).copied().unwrap_or(0);
        if total >= self.max || mine >= self.per_address {
            return None;
        }
        *open.entry(from).or_default() += 1;
        Some(Place {
            streams: self.clone(),
            from,
        })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open.lock().map(|o| o.values().sum()).unwrap_or(0)
    }
}

/// The answer when no place is free: the page polls instead, and tries again later.
pub fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "30")],
        "too many open streams",
    )
        .into_response()
}

/// An event named `name` carrying `data` (one line).
pub fn event(name: &str, data: &str) -> Event {
    Event::default().event(name).data(data)
}

struct Feed<F> {
    listener: Listener,
    stopping: Option<tokio::sync::watch::Receiver<bool>>,
    until: Instant,
    queue: VecDeque<Event>,
    map: F,
    _place: Place,
}

/// Resolves when the server stops (never without a stop signal).
async fn stopped(stopping: &mut Option<tokio::sync::watch::Receiver<bool>>) {
    match stopping {
        Some(rx) => {
            if rx.wait_for(|s| *s).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

/// The stream: `first` at once, then `map` of every batch of rings heard, until the
/// lifetime ends, the server stops or the bell is gone.
pub fn stream<F>(place: Place, stopping: Option<Stopping>, first: Vec<Event>, listener: Listener, map: F) -> Response
where
    F: FnMut(Vec<Heard>) -> Vec<Event> + Send + 'static,
{
    let mut queue = VecDeque::from(first);
    queue.push_front(Event::default().retry(RETRY).comment("sportello"));
    let feed = Feed {
        listener,
        stopping: stopping.map(|s| s.0),
        until: Instant::now() + LIFETIME,
        queue,
        map,
        _place: place,
    };
    let events = futures_util::stream::unfold(feed, |mut feed| async move {
        loop {
            if let Some(e) = feed.queue.pop_front() {
                return Some((Ok::<_, Infallible>(e), feed));
            }
            let heard = tokio::select! {
                heard = feed.listener.next() => heard,
                _ = tokio::time::sleep_until(feed.until) => return None,
                _ = stopped(&mut feed.stopping) => return None,
            };
            if heard == Heard::Closed {
                return None;
            }
            let mut batch = vec![heard];
            let gathered = Instant::now() + GATHER;
            while let Ok(heard) = tokio::time::timeout_at(gathered, feed.listener.next()).await {
                if heard == Heard::Closed {
                    break;
                }
                batch.push(heard);
            }
            let events = (feed.map)(batch);
            feed.queue.extend(events);
        }
    });
    (
        // Proxies that buffer (nginx) are asked not to.
        [(header::HeaderName::from_static("x-accel-buffering"), "no")],
        Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_bounded_in_all_and_per_address_and_places_come_back() {
        let s = Streams::new(3, 2);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let a1 = s.admit(a).unwrap();
        let _a2 = s.admit(a).unwrap();
        assert!(s.admit(a).is_none(), "two per address");
        let _b1 = s.admit(b).unwrap();
        assert!(s.admit(b).is_none(), "three in all");
        drop(a1);
        assert_eq!(s.open(), 2);
        assert!(s.admit(b).is_some(), "a place given back is free again");
    }
}
