//! Live pages without reloading (the inbox's rows, a conversation's thread, the broadcasts'
//! progress): `/staff/{comune}/events` streams server-sent events when something of the
//! comune changed (`service::bell`), and a small script, shipped inside the binary and
//! served from `/staff/console.js` (no inline script, so a strict CSP forbids them), fetches
//! each region that the change concerns and swaps it in.
//!
//! An event names what changed, never its content: `desk` with a conversation's reference
//! (a pseudonym), `broadcasts`, or `missed` (refresh everything). The region is then read
//! with the page's own session, so the stream leaks nothing a page could not read. Each
//! region also polls slowly (once a minute with the stream open, every `data-every`
//! otherwise): waiting times grow by themselves, and with several processes on one
//! PostgreSQL another replica's changes do not ring here. The page works without the
//! script (the filter form and a reload do the same).

use axum::extract::{ConnectInfo, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::{desk, Console, Staff};
use crate::server::listen::Stopping;
use crate::service::bell::{Heard, Ring};
use crate::web::events::{self, event};

/// How the script behaves, for whoever reads it:
/// - every element with `data-live` is a region kept fresh: its content comes from its
///   `data-src` (same origin, the session cookie);
/// - `data-on` lists what it follows: `inbox` (any conversation), `desk:<ref>` (one
///   conversation), `broadcasts`; the stream is the page's `data-events` (on `<main>`);
/// - an event for a region refreshes it after a quarter of a second (a burst is one
///   fetch); without a stream (an old browser, too many streams, a proxy that cuts it) the
///   region polls every `data-every` milliseconds, with one every minute;
/// - the new content replaces the old only when it differs, and never while the keyboard
///   focus is inside it (an operator tabbing through the list keeps their place: the
///   refresh waits until the focus leaves);
/// - the status line named by `data-status` (`role="status"`, a polite live region) is
///   updated only when the summary changes, so a screen reader announces news, not every
///   refresh;
/// - when the stream opens (and reopens), every region is fetched once: a change between
///   the page's rendering and the stream's opening rang for nobody;
/// - a region whose content carries `data-final` stops (a broadcast finished).
pub const SCRIPT: &str = r#"(function () {
  'use strict';
  if (!window.fetch || !document.querySelectorAll) return;
  var regions = Array.prototype.slice.call(document.querySelectorAll('[data-live]'));
  if (!regions.length) return;
  var streaming = false;
  function summary(el) {
    var first = el.querySelector('[data-summary]');
    return first ? first.getAttribute('data-summary') : '';
  }
  function done(region) { return !!region.querySelector('[data-final]'); }
  function refresh(region) {
    if (region._pending || done(region)) return;
    region._pending = window.setTimeout(function () {
      fetch(region.getAttribute('data-src'), { credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          region._pending = null;
          if (html === null || html === region.innerHTML) return;
          if (region.contains(document.activeElement)) { region._stale = true; return; }
          var status = document.getElementById(region.getAttribute('data-status') || '');
          var before = summary(region);
          region.innerHTML = html;
          region._stale = false;
          var after = summary(region);
          if (status && after && after !== before) status.textContent = after;
        })
        .catch(function () { region._pending = null; });
    }, 250);
  }
  function follows(region, what) {
    var on = (region.getAttribute('data-on') || '').split(' ');
    return on.indexOf(what) >= 0;
  }
  regions.forEach(function (region) {
    var every = Number(region.getAttribute('data-every')) || 10000;
    var ticks = 0;
    window.setInterval(function () {
      ticks += every;
      if (!streaming || ticks >= 60000) { ticks = 0; refresh(region); }
    }, every);
    // A refresh held back while the focus was inside happens when it leaves.
    region.addEventListener('focusout', function () {
      window.setTimeout(function () {
        if (region._stale && !region.contains(document.activeElement)) refresh(region);
      }, 0);
    });
  });
  var main = document.querySelector('[data-events]');
  if (!main || !window.EventSource) return;
  var source = new EventSource(main.getAttribute('data-events'));
  // Whatever changed between the page's rendering and the stream's opening (or during a
  // reconnection) rang for nobody: each region is fetched once when the stream opens.
  source.onopen = function () { streaming = true; regions.forEach(refresh); };
  source.onerror = function () { streaming = false; };
  source.addEventListener('desk', function (e) {
    regions.forEach(function (r) {
      if (follows(r, 'inbox') || follows(r, 'desk:' + e.data)) refresh(r);
    });
  });
  source.addEventListener('broadcasts', function () {
    regions.forEach(function (r) { if (follows(r, 'broadcasts')) refresh(r); });
  });
  source.addEventListener('missed', function () { regions.forEach(refresh); });
})();
"#;

/// `GET /staff/console.js`: the console's script (public: it holds no data).
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
}

/// `GET /staff/{comune}/events`: what changes in the comune's desk and broadcasts, as
/// server-sent events (see the module), for an account that may work on the comune.
pub async fn events(
    State(s): State<Console>,
    staff: Staff,
    Path(comune): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    stopping: Option<Extension<Stopping>>,
) -> Response {
    if let Err(e) = desk::allowed(&s, &staff, &comune) {
        return e.status().into_response();
    }
    let Some(place) = s.streams.admit(peer.ip()) else {
        return events::busy();
    };
    let listener = s.engine.bell.listen();
    events::stream(place, stopping.map(|e| e.0), Vec::new(), listener, move |batch| {
        let mut desks = std::collections::BTreeSet::new();
        let mut broadcasts = false;
        for heard in batch {
            match heard {
                Heard::Ring(ring) if ring.comune() != comune => {}
                Heard::Ring(Ring::Desk(key)) => {
                    desks.insert(desk::reference(&key));
                }
                Heard::Ring(Ring::Broadcasts(_)) => broadcasts = true,
                Heard::Missed => return vec![event("missed", "")],
                Heard::Closed => {}
            }
        }
        let mut out: Vec<_> = desks.iter().map(|r| event("desk", r)).collect();
        if broadcasts {
            out.push(event("broadcasts", ""));
        }
        out
    })
}
