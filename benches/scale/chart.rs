//! The scale bench's chart: each phase's time and memory high-water against N, as a small
//! SVG (two panels, N on a logarithmic axis), and the size of a directory.

use std::fmt::Write;
use std::path::Path;

use super::Row;

/// The size of the files under `dir`, in MiB.
pub fn dir_mib(dir: &Path) -> f64 {
    fn walk(p: &Path) -> u64 {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| match e.metadata() {
                        Ok(m) if m.is_dir() => walk(&e.path()),
                        Ok(m) => m.len(),
                        Err(_) => 0,
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(dir) as f64 / (1024.0 * 1024.0)
}

/// `chart OUT.svg RUN.txt...`: the chart of runs made one N at a time (each run's printed
/// table rows; the phases' names are those of this file).
pub fn from_runs(args: &[String]) {
    const PHASES: [&str; 6] = [
        "start-up",
        "broadcast, one comune",
        "emergency, every comune",
        "annual report, every comune",
        "subscriber export, largest comune",
        "retention sweep",
    ];
    let mut rows = Vec::new();
    for file in &args[1..] {
        for line in std::fs::read_to_string(file).expect("a run's output").lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (Some(n), Some(phase)) = (cells.get(1).and_then(|c| c.parse().ok()), cells.get(2)) else {
                continue;
            };
            let Some(phase) = PHASES.iter().find(|p| p == &phase) else {
                continue;
            };
            rows.push(Row {
                n,
                phase,
                seconds: cells[3].parse().unwrap_or(0.0),
                hwm_mib: cells[4].parse().unwrap_or(0.0),
                detail: String::new(),
            });
        }
    }
    std::fs::write(&args[0], svg(&rows)).unwrap();
    println!("{} rows drawn in {}", rows.len(), args[0]);
}

const COLOURS: [&str; 6] = ["#0066cc", "#d1344c", "#008055", "#cc7a00", "#5c2f91", "#4d4d4d"];
const W: f64 = 360.0;
const H: f64 = 220.0;
const PAD: f64 = 46.0;

/// Both panels: seconds (left, logarithmic) and VmHWM in MiB (right, with the 250 MiB
/// target), one line per phase.
pub fn svg(rows: &[Row]) -> String {
    let mut phases: Vec<&str> = Vec::new();
    for r in rows {
        if !phases.contains(&r.phase) {
            phases.push(r.phase);
        }
    }
    let mut ns: Vec<usize> = rows.iter().map(|r| r.n).collect();
    ns.sort_unstable();
    ns.dedup();
    let legend_h = 18.0 * phases.len() as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="11">"#,
        2.0 * W + 20.0,
        H + 30.0 + legend_h
    );
    out.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let seconds: Vec<f64> = rows.iter().map(|r| r.seconds.max(0.01)).collect();
    let (smin, smax) = bounds(&seconds, true);
    panel(
        &mut out,
        0.0,
        "seconds (log)",
        rows,
        &phases,
        &ns,
        |r| r.seconds.max(0.01),
        (smin, smax),
        true,
        None,
    );
    let hwm: Vec<f64> = rows.iter().map(|r| r.hwm_mib).chain([250.0]).collect();
    let (hmin, hmax) = bounds(&hwm, false);
    panel(
        &mut out,
        W + 20.0,
        "VmHWM MiB",
        rows,
        &phases,
        &ns,
        |r| r.hwm_mib,
        (hmin, hmax),
        false,
        Some(250.0),
    );
    for (k, p) in phases.iter().enumerate() {
        let y = H + 30.0 + 18.0 * k as f64;
        let _ = write!(
            out,
            r#"<rect x="{PAD}" y="{}" width="14" height="4" fill="{}"/><text x="{}" y="{}">{p}</text>"#,
            y - 4.0,
            COLOURS[k % COLOURS.len()],
            PAD + 20.0,
            y
        );
    }
    out.push_str("</svg>\n");
    out
}

fn bounds(values: &[f64], log: bool) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    if log {
        (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil()))
    } else {
        (0.0, (hi * 1.05 / 100.0).ceil() * 100.0)
    }
}

#[allow(clippy::too_many_arguments)]
fn panel(
    out: &mut String,
    x0: f64,
    title: &str,
    rows: &[Row],
    phases: &[&str],
    ns: &[usize],
    value: impl Fn(&Row) -> f64,
    (lo, hi): (f64, f64),
    log: bool,
    target: Option<f64>,
) {
    let (left, right, top, bottom) = (x0 + PAD, x0 + W - 10.0, 20.0, H - 10.0);
    let (nlo, nhi) = (
        (*ns.first().unwrap_or(&1) as f64).log10(),
        (*ns.last().unwrap_or(&10) as f64).log10(),
    );
    let x = |n: usize| {
        if nhi > nlo {
            left + ((n as f64).log10() - nlo) / (nhi - nlo) * (right - left)
        } else {
            (left + right) / 2.0
        }
    };
    let y = |v: f64| {
        let f = if log {
            (v.log10() - lo.log10()) / (hi.log10() - lo.log10())
        } else {
            (v - lo) / (hi - lo)
        };
        bottom - f.clamp(0.0, 1.0) * (bottom - top)
    };
    let _ = write!(
        out,
        r##"<text x="{left}" y="12" font-weight="bold">{title}</text><line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/><line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#999"/>"##
    );
    for &n in ns {
        let label = if n >= 1_000_000 {
            format!("{}M", n / 1_000_000)
        } else {
            format!("{}k", n / 1000)
        };
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">{label}</text>"#,
            x(n),
            bottom + 14.0
        );
    }
    let ticks: Vec<f64> = if log {
        let mut t = Vec::new();
        let mut v = lo;
        while v <= hi * 1.001 {
            t.push(v);
            v *= 10.0;
        }
        t
    } else {
        let step = if hi > 1000.0 { 500.0 } else { 100.0 };
        (0..=(hi / step) as u32).map(|k| f64::from(k) * step).collect()
    };
    for t in ticks {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" text-anchor="end">{t}</text><line x1="{left}" y1="{yy}" x2="{right}" y2="{yy}" stroke="#eee"/>"##,
            left - 4.0,
            y(t) + 4.0,
            yy = y(t)
        );
    }
    if let Some(t) = target {
        let _ = write!(
            out,
            r##"<line x1="{left}" y1="{yy}" x2="{right}" y2="{yy}" stroke="#d1344c" stroke-dasharray="4 3"/><text x="{}" y="{}" fill="#d1344c" text-anchor="end">target {t}</text>"##,
            right,
            y(t) - 3.0,
            yy = y(t)
        );
    }
    for (k, p) in phases.iter().enumerate() {
        let points: Vec<String> = rows
            .iter()
            .filter(|r| r.phase == *p)
            .map(|r| format!("{:.1},{:.1}", x(r.n), y(value(r))))
            .collect();
        let colour = COLOURS[k % COLOURS.len()];
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        for pt in &points {
            let (px, py) = pt.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(out, r#"<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>"#);
        }
    }
}
