//! Live updates of the inbox without reloading: a small script, shipped inside the binary
//! and served from `/staff/console.js` (no inline script, so a strict CSP can forbid them),
//! polls the page's rows every few seconds and swaps them in.
//!
//! Polling rather than server-sent events: one short request every 10 s per open inbox is
//! nothing for a desk of a few operators, and it survives proxies that buffer streams. The
//! page works without the script (the filter form and a reload do the same).

use axum::http::header;
use axum::response::IntoResponse;

/// How the script behaves, for whoever reads it:
/// - the rows come from the container's `data-src` (same origin, the session cookie);
/// - the new rows replace the old ones only when they differ, and never while the keyboard
///   focus is inside them (an operator tabbing through the list keeps their place);
/// - the status line (`role="status"`, a polite live region) is updated only when the
///   summary changes, so a screen reader announces news, not every poll;
/// - a failed poll (session expired, server restarting) is retried at the next tick.
pub const SCRIPT: &str = r#"(function () {
  'use strict';
  var rows = document.getElementById('inbox-rows');
  var status = document.getElementById('inbox-status');
  if (!rows || !status || !window.fetch) return;
  var every = Number(rows.getAttribute('data-every')) || 10000;
  function summary(el) {
    var first = el.querySelector('[data-summary]');
    return first ? first.getAttribute('data-summary') : '';
  }
  function poll() {
    fetch(rows.getAttribute('data-src'), { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null || html === rows.innerHTML) return;
        if (rows.contains(document.activeElement)) return;
        var before = summary(rows);
        rows.innerHTML = html;
        var after = summary(rows);
        if (after && after !== before) status.textContent = after;
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
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
