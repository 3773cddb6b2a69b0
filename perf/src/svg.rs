//! Minimal SVG charts (no plotting dependency): bar-chart panels and a line chart.

use std::fmt::Write as _;

/// Colours per series or PMD, in order.
pub const PALETTE: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
];

/// Escapes text for SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A "nice" axis maximum >= `v`: 1, 2 or 5 times a power of ten.
pub fn nice_max(v: f64) -> f64 {
    if v.is_nan() || v <= 0.0 || v.is_infinite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v * 0.999_999 {
            return m * p;
        }
    }
    10.0 * p
}

/// A value formatted with about three significant digits.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// An axis tick: integers without decimals, others as [`fmt_num`].
pub fn fmt_tick(v: f64) -> String {
    if v.is_finite() && v == v.round() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        fmt_num(v)
    }
}

/// One bar: a value and an optional spread (drawn as a whisker).
#[derive(Clone, Debug)]
pub struct Bar {
    /// Label under the bar.
    pub label: String,
    /// Height.
    pub value: f64,
    /// Whisker from `lo` to `hi` (e.g. the quartiles).
    pub spread: Option<(f64, f64)>,
    /// Fill colour.
    pub color: String,
}

/// A panel of bars.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// Y axis label.
    pub unit: String,
    /// The bars.
    pub bars: Vec<Bar>,
}

const PANEL_W: f64 = 420.0;
const PANEL_H: f64 = 320.0;
const MARGIN_L: f64 = 60.0;
const MARGIN_T: f64 = 50.0;
const MARGIN_B: f64 = 50.0;

fn header(w: f64, h: f64, title: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>
"#,
        w / 2.0,
        esc(title)
    );
    s
}

fn y_axis(s: &mut String, x0: f64, y0: f64, w: f64, h: f64, max: f64, unit: &str) {
    for i in 0..=5 {
        let v = max * f64::from(i) / 5.0;
        let y = y0 + h - h * f64::from(i) / 5.0;
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 + w,
            x0 - 5.0,
            y + 4.0,
            fmt_tick(v)
        );
    }
    let _ = writeln!(
        s,
        r##"<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{:.1}" stroke="#333"/><line x1="{x0}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/><text transform="translate({:.1},{:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
        y0 + h,
        y0 + h,
        x0 + w,
        y0 + h,
        x0 - 45.0,
        y0 + h / 2.0,
        esc(unit)
    );
}

/// Bar-chart panels side by side in one SVG, with `title` over all and `note` under.
pub fn bars(title: &str, panels: &[Panel], note: &str) -> String {
    let width = PANEL_W * panels.len().max(1) as f64;
    let height = PANEL_H + 30.0;
    let mut s = header(width, height, title);
    for (pi, p) in panels.iter().enumerate() {
        let px = PANEL_W * pi as f64;
        let x0 = px + MARGIN_L;
        let y0 = MARGIN_T;
        let w = PANEL_W - MARGIN_L - 20.0;
        let h = PANEL_H - MARGIN_T - MARGIN_B;
        let top = p
            .bars
            .iter()
            .map(|b| b.spread.map_or(b.value, |(_, hi)| hi.max(b.value)))
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let max = nice_max(top);
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="42" text-anchor="middle" font-weight="bold">{}</text>"#,
            x0 + w / 2.0,
            esc(&p.title)
        );
        y_axis(&mut s, x0, y0, w, h, max, &p.unit);
        let n = p.bars.len().max(1) as f64;
        let slot = w / n;
        let bw = slot * 0.6;
        let ypos = |v: f64| y0 + h - h * (v / max).clamp(0.0, 1.0);
        for (i, b) in p.bars.iter().enumerate() {
            let cx = x0 + slot * (i as f64 + 0.5);
            if b.value.is_finite() {
                let y = ypos(b.value);
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{y:.1}" width="{bw:.1}" height="{:.1}" fill="{}"/><text x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    cx - bw / 2.0,
                    y0 + h - y,
                    esc(&b.color),
                    y - 4.0,
                    fmt_num(b.value)
                );
            }
            if let Some((lo, hi)) = b.spread.filter(|(l, h)| l.is_finite() && h.is_finite()) {
                let _ = writeln!(
                    s,
                    r##"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="#000"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#000"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#000"/>"##,
                    ypos(lo),
                    ypos(hi),
                    cx - 4.0,
                    ypos(lo),
                    cx + 4.0,
                    ypos(lo),
                    cx - 4.0,
                    ypos(hi),
                    cx + 4.0,
                    ypos(hi)
                );
            }
            let _ = writeln!(
                s,
                r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                y0 + h + 18.0,
                esc(&b.label)
            );
        }
    }
    let _ = writeln!(
        s,
        r##"<text x="10" y="{:.1}" font-size="11" fill="#555">{}</text>"##,
        height - 10.0,
        esc(note)
    );
    s.push_str("</svg>\n");
    s
}

/// A named series of (x, y) points.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Line colour.
    pub color: String,
    /// Points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart; with `log2_x` the x axis is logarithmic (base 2), ticks at the points' x.
pub fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log2_x: bool,
    note: &str,
) -> String {
    let width = 640.0;
    let height = 400.0;
    let mut s = header(width, height, title);
    let (x0, y0) = (70.0, 40.0);
    let (w, h) = (width - x0 - 150.0, height - y0 - 80.0);
    let tx = |x: f64| {
        if log2_x {
            x.max(f64::MIN_POSITIVE).log2()
        } else {
            x
        }
    };
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.1.is_finite());
    let (mut xmin, mut xmax, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for &(x, y) in pts {
        xmin = xmin.min(tx(x));
        xmax = xmax.max(tx(x));
        ymax = ymax.max(y);
    }
    if !xmin.is_finite() {
        (xmin, xmax) = (0.0, 1.0);
    }
    if xmax <= xmin {
        xmax = xmin + 1.0;
    }
    let ymax = nice_max(ymax);
    y_axis(&mut s, x0, y0, w, h, ymax, y_label);
    let px = |x: f64| x0 + w * (tx(x) - xmin) / (xmax - xmin);
    let py = |y: f64| y0 + h - h * (y / ymax).clamp(0.0, 1.0);
    let mut xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    for x in xs {
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            px(x),
            y0 + h,
            px(x),
            y0 + h + 5.0,
            px(x),
            y0 + h + 18.0,
            fmt_tick(x)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        x0 + w / 2.0,
        y0 + h + 38.0,
        esc(x_label)
    );
    for (i, se) in series.iter().enumerate() {
        let path: Vec<String> = se
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            path.join(" "),
            esc(&se.color)
        );
        for &(x, y) in se.points.iter().filter(|p| p.1.is_finite()) {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
                px(x),
                py(y),
                esc(&se.color),
                px(x),
                py(y) - 6.0,
                fmt_num(y)
            );
        }
        let ly = y0 + 10.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            x0 + w + 15.0,
            x0 + w + 35.0,
            esc(&se.color),
            x0 + w + 40.0,
            ly + 4.0,
            esc(&se.name)
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="10" y="{:.1}" font-size="11" fill="#555">{}</text>"##,
        height - 10.0,
        esc(note)
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.2), 5.0);
        assert_eq!(nice_max(16.5), 20.0);
        assert_eq!(nice_max(100.0), 100.0);
        assert_eq!(nice_max(101.0), 200.0);
        assert_eq!(nice_max(f64::NAN), 1.0);
        assert_eq!(fmt_num(1234.4), "1234");
        assert_eq!(fmt_num(16.54), "16.5");
        assert_eq!(fmt_num(1.234), "1.23");
        assert_eq!(fmt_num(f64::NAN), "n/a");
        assert_eq!(fmt_tick(64.0), "64");
        assert_eq!(fmt_tick(0.0), "0");
        assert_eq!(fmt_tick(2.5), "2.50");
    }

    #[test]
    fn bar_chart_is_well_formed() {
        let p = Panel {
            title: "cycles/packet".into(),
            unit: "cycles".into(),
            bars: vec![
                Bar {
                    label: "fbnic".into(),
                    value: 40.0,
                    spread: Some((38.0, 42.0)),
                    color: PALETTE[0].into(),
                },
                Bar {
                    label: "null <floor>".into(),
                    value: f64::NAN,
                    spread: None,
                    color: PALETTE[1].into(),
                },
            ],
        };
        let s = bars("t & t", &[p.clone(), p], "note");
        assert!(s.starts_with("<svg"));
        assert!(s.trim_end().ends_with("</svg>"));
        assert!(s.contains("t &amp; t"));
        assert!(s.contains("null &lt;floor&gt;"));
        assert_eq!(s.matches("<rect x=").count(), 2, "NaN bars are not drawn");
        assert!(!s.contains("NaN"));
    }

    #[test]
    fn line_chart_is_well_formed() {
        let se = Series {
            name: "fbnic".into(),
            color: PALETTE[0].into(),
            points: vec![(1.0, 300.0), (2.0, 150.0), (64.0, f64::NAN)],
        };
        let s = lines("burst", "burst size", "cycles/packet", &[se], true, "");
        assert!(s.contains("<polyline"));
        assert_eq!(s.matches("<circle").count(), 2);
        assert!(!s.contains("NaN"));
        assert!(s.trim_end().ends_with("</svg>"));
    }
}
