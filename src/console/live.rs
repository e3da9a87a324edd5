//! Live updates without reloading (the inbox's rows, the broadcasts' progress): a small
//! script, shipped inside the binary and served from `/staff/console.js` (no inline script,
//! so a strict CSP forbids them), polls each live region of the page and swaps it in.
//!
//! Polling rather than server-sent events: one short request every 10 s per open inbox is
//! nothing for a desk of a few operators, and it survives proxies that buffer streams. The
//! page works without the script (the filter form and a reload do the same).

use axum::http::header;
use axum::response::IntoResponse;

/// How the script behaves, for whoever reads it:
/// - every element with `data-live` is a region kept fresh: its content comes from its
///   `data-src` (same origin, the session cookie) every `data-every` milliseconds (the
///   inbox's rows every 10 s, a sending broadcast's progress every 3 s);
/// - the new content replaces the old only when it differs, and never while the keyboard
///   focus is inside it (an operator tabbing through the list keeps their place);
/// - the status line named by `data-status` (`role="status"`, a polite live region) is
///   updated only when the summary changes, so a screen reader announces news, not every
///   poll;
/// - a region whose content carries `data-final` stops polling (a broadcast finished);
/// - a failed poll (session expired, server restarting) is retried at the next tick.
pub const SCRIPT: &str = r#"(function () {
  'use strict';
  if (!window.fetch || !document.querySelectorAll) return;
  function summary(el) {
    var first = el.querySelector('[data-summary]');
    return first ? first.getAttribute('data-summary') : '';
  }
  function keep(region) {
    var every = Number(region.getAttribute('data-every')) || 10000;
    var status = document.getElementById(region.getAttribute('data-status') || '');
    function poll() {
      fetch(region.getAttribute('data-src'), { credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null || html === region.innerHTML) return;
          if (region.contains(document.activeElement)) return;
          var before = summary(region);
          region.innerHTML = html;
          var after = summary(region);
          if (status && after && after !== before) status.textContent = after;
        })
        .catch(function () {})
        .then(function () {
          if (!region.querySelector('[data-final]')) window.setTimeout(poll, every);
        });
    }
    if (!region.querySelector('[data-final]')) window.setTimeout(poll, every);
  }
  var regions = document.querySelectorAll('[data-live]');
  for (var i = 0; i < regions.length; i++) keep(regions[i]);
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
