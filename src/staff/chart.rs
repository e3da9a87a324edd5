//! Bar charts as SVG, drawn on the server for the annual report (issue 22): grouped bars
//! with a value axis, ticks, category labels and a legend, as one `<svg role="img">` with
//! its `<title>` and `<desc>` (the figures themselves go in a table beside the chart).
//!
//! Pure functions returning a String: no dependency, no script, no `style` attribute (SVG
//! presentation attributes only, which the pages' Content-Security-Policy allows), every text
//! escaped. A masked count ("<5") is never drawn as a number: it has no real value here at
//! all, only a hatched bar up to the masking threshold, marked in the legend.

use std::fmt::Write;

use crate::markup::esc;

/// Series colours, each at least 4.5:1 against white (and so against each other's labels).
pub const COLOURS: &[&str] = &["#1f5fa8", "#a64b00", "#2e7d32", "#6a1b9a", "#00695c", "#ad1457"];
/// Text and axes.
const INK: &str = "#1a1a1a";
/// Grid lines (decoration only: the tick labels carry the values).
const GRID: &str = "#c8c8c8";

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
/// The plot's baseline: below it the category labels, then the legend.
const BASE: f64 = HEIGHT - 64.0;

/// One figure as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Shown(u64),
    /// Too small to publish: drawn as masked, never as its number.
    Masked,
}

impl Value {
    /// A published cell read back: a whole count is shown; anything else ("<5", "n/d", a
    /// rate) is masked.
    pub fn parse(published: &str) -> Value {
        published.trim().parse().map_or(Value::Masked, Value::Shown)
    }
}

/// One series: its name (for the legend) and a value per category.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Value>,
}

/// A bar chart, its texts already in the reader's language (unescaped: the chart escapes).
#[derive(Debug, Clone)]
pub struct Chart {
    /// Unique on the page: the chart's element ids start with it.
    pub id: String,
    pub title: String,
    /// The longer description read by assistive technology.
    pub desc: String,
    /// The categories along the horizontal axis (months, categories…).
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// How a masked value reads in a bar's tooltip ("<5").
    pub masked_value: String,
    /// The legend's entry for hatched bars ("hatched: fewer than 5, not to scale").
    pub masked_note: String,
    /// The height a masked bar is drawn to: the masking threshold, so the bar says "somewhere
    /// below this", whatever the real count.
    pub masked_height: u64,
}

/// The id as safe for an XML id: ASCII letters, digits and `-` only.
fn safe_id(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s
    } else {
        format!("c-{s}")
    }
}

/// The step between ticks: 1, 2 or 5 times a power of ten, about five ticks to `max`.
pub fn tick_step(max: u64) -> u64 {
    let rough = (max as f64 / 5.0).max(1.0);
    let mut power = 1u64;
    loop {
        for m in [1, 2, 5] {
            if (m * power) as f64 >= rough {
                return m * power;
            }
        }
        power = power.saturating_mul(10);
    }
}

/// The width of an average character of the labels, in the chart's units.
const CHAR_W: f64 = 6.5;

/// `label` in lines of at most `width` characters, broken between words, at most `max`
/// lines: what does not fit ends the last line with "…".
fn label_lines(label: &str, width: usize, max: usize) -> Vec<String> {
    let len = |s: &str| s.chars().count();
    let cut = |s: &str| {
        format!(
            "{}…",
            s.chars()
                .take(width.saturating_sub(1))
                .collect::<String>()
                .trim_end_matches([' ', ','])
        )
    };
    let words: Vec<&str> = label.split_whitespace().collect();
    let (mut lines, mut current, mut i) = (Vec::new(), String::new(), 0);
    while i < words.len() && lines.len() < max {
        let word = words[i];
        if current.is_empty() || len(&current) + 1 + len(word) <= width {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
            i += 1;
        } else {
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|l| if len(&l) > width { cut(&l) } else { l })
        .collect();
    if i < words.len() {
        if let Some(last) = lines.last_mut() {
            if !last.ends_with('…') {
                *last = if len(last) < width {
                    format!("{last}…")
                } else {
                    cut(last)
                };
            }
        }
    }
    lines
}

/// A coordinate as written: one decimal.
fn n(x: f64) -> String {
    format!("{x:.1}")
}

/// Grouped vertical bars: one group per category, one bar per series, with the value axis
/// from 0, its ticks and grid, the category labels and a legend.
pub fn bars(c: &Chart) -> String {
    let id = safe_id(&c.id);
    let any_masked = c.series.iter().any(|s| s.values.contains(&Value::Masked));
    let shown_max = c
        .series
        .iter()
        .flat_map(|s| s.values.iter())
        .filter_map(|v| match v {
            Value::Shown(n) => Some(*n),
            Value::Masked => None,
        })
        .max()
        .unwrap_or(0);
    let max = shown_max.max(if any_masked { c.masked_height } else { 0 }).max(1);
    let step = tick_step(max);
    let top = max.div_ceil(step) * step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = BASE - TOP;
    let y = |v: u64| BASE - v as f64 / top as f64 * plot_h;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
viewBox=\"0 0 {w} {h}\" width=\"100%\" font-family=\"sans-serif\" font-size=\"12\" fill=\"{INK}\">\
<title id=\"{id}-title\">{title}</title><desc id=\"{id}-desc\">{desc}</desc><defs>",
        w = WIDTH,
        h = HEIGHT,
        title = esc(&c.title),
        desc = esc(&c.desc),
    );
    for (i, _) in c.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let _ = write!(
            out,
            "<pattern id=\"{id}-hatch-{i}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>\
<rect width=\"2\" height=\"6\" fill=\"{colour}\"/></pattern>"
        );
    }
    out.push_str("</defs>");
    // The value axis: grid, ticks and their labels.
    out.push_str("<g aria-hidden=\"true\">");
    let mut v = 0;
    while v <= top {
        let _ = write!(
            out,
            "<line x1=\"{l}\" y1=\"{y}\" x2=\"{r}\" y2=\"{y}\" stroke=\"{g}\" stroke-width=\"1\"/>\
<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{v}</text>",
            l = n(LEFT),
            r = n(WIDTH - RIGHT),
            y = n(y(v)),
            g = if v == 0 { INK } else { GRID },
            tx = n(LEFT - 6.0),
            ty = n(y(v) + 4.0),
        );
        v += step;
    }
    let _ = write!(
        out,
        "<line x1=\"{x}\" y1=\"{t}\" x2=\"{x}\" y2=\"{b}\" stroke=\"{INK}\" stroke-width=\"1\"/></g>",
        x = n(LEFT),
        t = n(TOP),
        b = n(BASE),
    );
    // The bars, each with its value as a tooltip.
    let groups = c.categories.len().max(1) as f64;
    let gw = plot_w / groups;
    let bw = gw * 0.8 / c.series.len().max(1) as f64;
    for (j, category) in c.categories.iter().enumerate() {
        let gx = LEFT + j as f64 * gw;
        for (i, s) in c.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let x = gx + gw * 0.1 + i as f64 * bw;
            let (height, fill, stroke, shown) = match s.values.get(j).copied().unwrap_or(Value::Shown(0)) {
                Value::Shown(v) => (BASE - y(v), colour.to_string(), String::new(), v.to_string()),
                Value::Masked => (
                    BASE - y(c.masked_height),
                    format!("url(#{id}-hatch-{i})"),
                    format!(" stroke=\"{colour}\" stroke-width=\"1\""),
                    c.masked_value.clone(),
                ),
            };
            let _ = write!(
                out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{fill}\"{stroke}>\
<title>{tip}</title></rect>",
                x = n(x),
                y = n(BASE - height),
                w = n(bw),
                h = n(height),
                tip = esc(&format!("{category}, {}: {shown}", s.name)),
            );
        }
        // Wrapped to the group's width, two lines at most (the full name is in the
        // tooltip and in the data table beside the chart).
        let lines = label_lines(category, ((gw - 4.0) / CHAR_W).floor().max(3.0) as usize, 2);
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" aria-hidden=\"true\"{small}>",
            x = n(gx + gw / 2.0),
            y = n(BASE + 16.0),
            small = if lines.len() > 1 { " font-size=\"11\"" } else { "" },
        );
        for (k, line) in lines.iter().enumerate() {
            let _ = write!(
                out,
                "<tspan x=\"{x}\" dy=\"{dy}\">{line}</tspan>",
                x = n(gx + gw / 2.0),
                dy = if k == 0 { "0" } else { "13" },
                line = esc(line),
            );
        }
        out.push_str("</text>");
    }
    // The legend, one swatch a series, and the hatch when a value is masked.
    out.push_str("<g aria-hidden=\"true\">");
    let mut lx = LEFT;
    let ly = HEIGHT - 24.0;
    let mut entry = |out: &mut String, fill: &str, stroke: &str, label: &str| {
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{fill}\"{stroke}/>\
<text x=\"{tx}\" y=\"{ty}\">{label}</text>",
            x = n(lx),
            y = n(ly),
            tx = n(lx + 18.0),
            ty = n(ly + 10.0),
            label = esc(label),
        );
        lx += 18.0 + 7.0 * label.chars().count() as f64 + 20.0;
    };
    for (i, s) in c.series.iter().enumerate() {
        entry(&mut out, COLOURS[i % COLOURS.len()], "", &s.name);
    }
    if any_masked {
        entry(
            &mut out,
            &format!("url(#{id}-hatch-0)"),
            &format!(" stroke=\"{}\" stroke-width=\"1\"", COLOURS[0]),
            &c.masked_note,
        );
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: Vec<Value>) -> Chart {
        Chart {
            id: "t".into(),
            title: "Iscritti & <cancellati>".into(),
            desc: "Barre \"raggruppate\" per mese".into(),
            categories: (1..=values.len()).map(|i| format!("m{i}")).collect(),
            series: vec![Series {
                name: "Nuove iscrizioni".into(),
                values,
            }],
            masked_value: "<5".into(),
            masked_note: "tratteggio: meno di 5".into(),
            masked_height: 5,
        }
    }

    /// The bars' heights, in order (the legend's swatches are 12 high and come last).
    fn heights(svg: &str) -> Vec<f64> {
        svg.split("<rect x=")
            .skip(1)
            .filter(|r| r.contains("<title>"))
            .map(|r| {
                let h = r.split("height=\"").nth(1).unwrap();
                h[..h.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn long_labels_wrap_between_words_and_are_cut_with_an_ellipsis() {
        assert_eq!(label_lines("gen", 8, 2), ["gen"]);
        assert_eq!(
            label_lines("linguaggio offensivo o scurrile", 14, 2),
            ["linguaggio", "offensivo o…"]
        );
        assert_eq!(label_lines("diffamazione", 14, 2), ["diffamazione"]);
        assert_eq!(label_lines("attacco personale", 14, 2), ["attacco", "personale"]);
        let cut = label_lines("offesa verso gruppi etnici, politici, religiosi o minoranze", 14, 2);
        assert_eq!(cut.len(), 2);
        assert!(cut.iter().all(|l| l.chars().count() <= 14), "{cut:?}");
        assert!(cut[1].ends_with('…'), "{cut:?}");
        assert_eq!(label_lines("supercalifragilistico", 8, 2), ["superca…"]);
    }

    #[test]
    fn bars_are_proportional_to_their_values() {
        let svg = bars(&chart(vec![
            Value::Shown(10),
            Value::Shown(20),
            Value::Shown(40),
            Value::Shown(0),
        ]));
        let h = heights(&svg);
        assert_eq!(h.len(), 4, "{svg}");
        assert!(
            (h[1] / h[0] - 2.0).abs() < 0.02 && (h[2] / h[0] - 4.0).abs() < 0.02,
            "{h:?}"
        );
        assert_eq!(h[3], 0.0);
        // The axis reaches the largest value with round ticks.
        assert!(svg.contains(">40</text>") && svg.contains(">0</text>"), "{svg}");
        assert_eq!((tick_step(4), tick_step(40), tick_step(1234)), (1, 10, 500));
    }

    #[test]
    fn a_masked_value_is_hatched_to_the_threshold_never_drawn_as_a_number() {
        assert_eq!(Value::parse("<5"), Value::Masked);
        assert_eq!(Value::parse("n/d"), Value::Masked);
        assert_eq!(Value::parse("12"), Value::Shown(12));
        let masked = bars(&chart(vec![Value::Shown(100), Value::Masked]));
        let h = heights(&masked);
        // Drawn to the threshold (5 of 100), hatched, and said "<5", with the legend's note.
        assert!((h[1] / h[0] - 0.05).abs() < 0.01, "{h:?}");
        assert!(masked.contains("fill=\"url(#t-hatch-0)\""), "{masked}");
        assert!(
            masked.contains("<title>m2, Nuove iscrizioni: &lt;5</title>"),
            "{masked}"
        );
        assert!(masked.contains("tratteggio: meno di 5"), "{masked}");
        // Whatever the hidden count (1 to 4), the drawing is the same.
        let alone = bars(&chart(vec![Value::Masked]));
        assert!(!alone.contains(": 3<") && !alone.contains(": 1<"), "{alone}");
        assert!(!bars(&chart(vec![Value::Shown(3)])).contains("hatch-0)\""));
    }

    #[test]
    fn the_chart_is_an_accessible_image_with_escaped_text_and_no_style() {
        let svg = bars(&chart(vec![Value::Shown(7)]));
        assert!(svg
            .starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"t-title t-desc\""));
        assert!(
            svg.contains("<title id=\"t-title\">Iscritti &amp; &lt;cancellati&gt;</title>"),
            "{svg}"
        );
        assert!(
            svg.contains("<desc id=\"t-desc\">Barre &quot;raggruppate&quot; per mese</desc>"),
            "{svg}"
        );
        assert!(!svg.contains("style=") && !svg.contains("<script"), "{svg}");
        assert!(svg.ends_with("</svg>"));
        let mut odd = chart(vec![Value::Shown(1)]);
        odd.id = "1 \"x\"".into();
        odd.categories = vec!["<b>".into()];
        let svg = bars(&odd);
        assert!(svg.contains("id=\"c-1--x--title\"") && svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
    }
}
