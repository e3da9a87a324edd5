//! The pages' shared frame: escaping, the accessible layout (language, skip link,
//! landmarks, visible focus, AA contrast) and the stylesheet. Text comes from Fluent.

use crate::i18n::Locales;

/// Percent-encodes a value for a query string: everything but ASCII letters, digits and
/// `-._~`.
pub fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Escapes text for HTML content and attribute values.
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

/// Escaped text with line breaks kept as paragraphs.
pub fn paragraphs(s: &str) -> String {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("<p>{}</p>", esc(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Colours checked for WCAG 2.1 AA: text #1b1b1b on #ffffff (17:1), links #0b4f9c (8:1),
/// buttons white on #0b5d1e (7.6:1), muted #4a4a4a (8.9:1). Focus: a 3 px outline.
/// Reflow (1.4.10): long words such as e-mail and PEC addresses break, so nothing scrolls
/// sideways at 320 CSS px.
pub const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1.05rem;line-height:1.5;color:#1b1b1b;background:#fff;overflow-wrap:anywhere}
.skip{position:absolute;left:-999px;top:0;background:#fff;color:#0b4f9c;padding:.5rem}
.skip:focus{left:.5rem}
header,main,footer{max-width:44rem;margin:0 auto;padding:1rem}
header{display:flex;justify-content:space-between;align-items:center;flex-wrap:wrap;gap:.5rem;border-bottom:1px solid #d0d0d0}
header .brand{font-weight:700}
nav ul{list-style:none;margin:0;padding:0;display:flex;gap:.75rem}
a{color:#0b4f9c}
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #b35900;outline-offset:2px}
.button,button{display:inline-block;background:#0b5d1e;color:#fff;border:0;border-radius:.4rem;padding:.6rem 1.1rem;font-size:1rem;font-weight:600;text-decoration:none;cursor:pointer}
.button:hover,button:hover{background:#08461a}
button.choice{background:#fff;color:#0b5d1e;border:2px solid #0b5d1e;margin:.25rem .25rem 0 0}
label{display:block;font-weight:600;margin-top:.75rem}
input,select,textarea{font-size:1rem;font-family:inherit;padding:.5rem;border:1px solid #6b6b6b;border-radius:.3rem;width:100%;max-width:30rem;color:#1b1b1b;background:#fff}
.row{display:flex;gap:.5rem;align-items:flex-end;flex-wrap:wrap}
.row input{flex:1}
.log{list-style:none;padding:0;margin:1rem 0;min-height:6rem}
.log li{margin:.5rem 0;padding:.6rem .8rem;border-radius:.6rem;max-width:90%;white-space:pre-wrap}
.log .me{background:#e6f0fa;margin-left:auto}
.log .bot{background:#f1f1f1}
.who{display:block;font-size:.85rem;font-weight:700;color:#4a4a4a}
.qr svg{width:12rem;height:12rem}
footer{color:#4a4a4a;font-size:.9rem;border-top:1px solid #d0d0d0}
.log .note{background:#fff8e1;border:1px dashed #6b6b6b}
.cards{list-style:none;padding:0}
.cards li{border:1px solid #d0d0d0;border-radius:.5rem;padding:.25rem 1rem;margin:.75rem 0}
.cards h2{font-size:1.15rem;margin:.5rem 0}
.overdue{color:#a00000;font-weight:700}
dl.facts{display:grid;grid-template-columns:minmax(7rem,auto) 1fr;gap:.25rem 1rem}
dl.facts dt{font-weight:700}
dl.facts dd{margin:0}
fieldset{border:1px solid #d0d0d0;border-radius:.4rem;margin:.75rem 0;padding:.25rem 1rem .75rem}
legend{font-weight:600}
label.check{display:flex;gap:.5rem;align-items:center;font-weight:400;margin-top:.4rem}
label.check input{width:auto}
.hint{color:#4a4a4a;font-size:.95rem;margin:.25rem 0}
.secret code{font-size:1.3rem;padding:.4rem .6rem;background:#f1f1f1;border-radius:.3rem;user-select:all}
.scroll{overflow-x:auto}
table{border-collapse:collapse}
.scroll th,.scroll td{padding:.3rem .6rem;border-bottom:1px solid #d0d0d0;text-align:left;vertical-align:top}
.scroll th{white-space:nowrap}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
"#;

/// A whole page. `body` is already-escaped HTML; `langs` are (code, href, label) links.
pub fn page(
    locales: &Locales,
    lang: &str,
    title: &str,
    brand: &str,
    langs: &[(String, String, String)],
    body: &str,
    script: &str,
) -> String {
    let t = |id: &str| esc(&locales.format(lang, id, None).unwrap_or_default());
    let nav = if langs.len() > 1 {
        let items: String = langs
            .iter()
            .map(|(code, href, label)| {
                let current = if code == lang { " aria-current=\"true\"" } else { "" };
                format!(
                    "<li><a href=\"{}\" lang=\"{}\" hreflang=\"{}\"{current}>{}</a></li>",
                    esc(href),
                    esc(code),
                    esc(code),
                    esc(label)
                )
            })
            .collect();
        format!("<nav aria-label=\"{}\"><ul>{items}</ul></nav>", t("page-language"))
    } else {
        String::new()
    };
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">{skip}</a>\n<header><span class=\"brand\">{brand}</span>{nav}</header>\n<main id=\"main\" tabindex=\"-1\">\n{body}\n</main>\n<footer><p>{footer}</p></footer>\n{script}</body>\n</html>\n",
        lang = esc(lang),
        title = esc(title),
        brand = esc(brand),
        skip = t("page-skip"),
        footer = t("page-footer"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">L'ò & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;L&#39;ò &amp; co&lt;/a&gt;"
        );
        assert_eq!(paragraphs("uno\n\n<due>"), "<p>uno</p>\n<p>&lt;due&gt;</p>");
    }
}
