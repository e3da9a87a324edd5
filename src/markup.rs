//! Escaping text for HTML and XML (SVG): the one escaper of the pages (`web`), the console
//! and the report's charts (`staff::chart`). A leaf: imports nothing of the crate.

/// Escapes text for HTML or XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
