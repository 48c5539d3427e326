//! A self-contained HTML page of sections (headline figures, tables, maps) for analyses other than
//! the shelter exam, e.g. the earthquake and flood risk reports of `renxing risk`.
//!
//! Maps are inline SVG in an equirectangular projection with longitude scaled by the cosine of the
//! middle latitude (as in [`crate::html`]): points or grid cells coloured by a five-grade scale
//! (1 高 high … 5 低 low, 0 not graded) with a legend, and optional polylines (e.g. a fault trace)
//! and polygons (admin units). No script, font or tile comes from the network.

use std::fmt::Write;

use crate::html::escape;

/// Colours of grades 0 (not graded) and 1 (high) … 5 (low): red → green, ColorBrewer RdYlGn.
pub const GRADE_COLOURS: [&str; 6] = ["#bdbdbd", "#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"];

/// Grade labels of the legend, index = grade.
pub const GRADE_LABELS: [&str; 6] = [
    "未分级 not graded",
    "1 高 high",
    "2 中高 mid-high",
    "3 中 mid",
    "4 中低 mid-low",
    "5 低 low",
];

/// Most marks drawn on one map; beyond that every k-th is drawn and the caption says so.
pub const MAX_MARKS: usize = 40_000;

/// One section of a page: a heading and HTML blocks.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub heading: String,
    pub blocks: Vec<String>,
}

impl Section {
    pub fn new(heading: &str) -> Section {
        Section {
            heading: heading.to_string(),
            blocks: Vec::new(),
        }
    }

    /// A paragraph of plain text (escaped).
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.blocks.push(format!("<p>{}</p>", escape(s)));
        self
    }

    /// Raw HTML (a table or map made by this module).
    pub fn html(&mut self, s: String) -> &mut Self {
        self.blocks.push(s);
        self
    }

    /// A bullet list of plain-text items.
    pub fn list(&mut self, items: &[String]) -> &mut Self {
        if !items.is_empty() {
            let mut s = String::from("<ul>");
            for i in items {
                let _ = write!(s, "<li>{}</li>", escape(i));
            }
            s.push_str("</ul>");
            self.blocks.push(s);
        }
        self
    }
}

/// A whole page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub title: String,
    /// Headline figures: (label, value).
    pub headline: Vec<(String, String)>,
    pub sections: Vec<Section>,
}

impl Page {
    pub fn to_html(&self) -> String {
        let mut head = String::new();
        for (k, v) in &self.headline {
            let _ = write!(
                head,
                "<div class=\"fig\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>",
                escape(v),
                escape(k)
            );
        }
        let mut body = String::new();
        for s in &self.sections {
            let _ = write!(body, "<h2>{}</h2>", escape(&s.heading));
            for b in &s.blocks {
                body.push_str(b);
                body.push('\n');
            }
        }
        format!(
            r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }}
.figs {{ display: flex; flex-wrap: wrap; gap: 1em; }}
.fig {{ border: 1px solid #ddd; padding: .6em 1em; min-width: 10em; }}
.fig .v {{ font-size: 1.4em; font-weight: bold; }} .fig .k {{ color: #555; font-size: .9em; }}
table {{ border-collapse: collapse; font-size: .85em; margin: .5em 0; }}
th, td {{ border: 1px solid #ddd; padding: .2em .5em; }} th {{ background: #f3f3f3; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.legend span {{ display: inline-block; width: 1em; height: 1em; margin: 0 .3em 0 1em; vertical-align: middle; border: 1px solid #999; }}
figcaption {{ font-size: .85em; color: #555; }}
</style></head><body>
<h1>{title}</h1>
<div class="figs">{head}</div>
{body}
<p style="color:#777;font-size:.8em">Renxing {version}</p>
</body></html>
"#,
            title = escape(&self.title),
            version = env!("CARGO_PKG_VERSION"),
        )
    }
}

/// A table: header cells and rows of cells; cells that parse as numbers are right-aligned.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><tr>");
    for h in headers {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let numeric = c.replace([',', '%', ' '], "").parse::<f64>().is_ok();
            let _ = write!(s, "<td{}>{}</td>", if numeric { " class=\"n\"" } else { "" }, escape(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

/// A number with thousands separators and `decimals` decimals.
pub fn fmt_thousands(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if v < 0.0 && out.chars().any(|c| c != '0' && c != '.' && c != ',') {
        out.insert(0, '-');
    }
    out
}

/// A mark on a map: a point, or a cell given by its corners (west, south, east, north).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    Point { lon: f64, lat: f64, grade: u8 },
    Cell { w: f64, s: f64, e: f64, n: f64, grade: u8 },
}

/// What a map shows.
#[derive(Debug, Clone, Default)]
pub struct MapSpec<'a> {
    pub marks: &'a [Mark],
    /// Polylines (lon, lat), drawn black on top.
    pub lines: &'a [Vec<(f64, f64)>],
    /// Polygon rings (lon, lat), drawn as grey outlines under the marks.
    pub outlines: &'a [Vec<(f64, f64)>],
    pub caption: &'a str,
    /// Radius of point marks in pixels.
    pub radius: f64,
    /// Legend labels per grade (index 0 = not graded … 5); `None` = the hazard grades
    /// [`GRADE_LABELS`]. Grades with an empty label are left out of the legend.
    pub labels: Option<[&'a str; 6]>,
}

/// An SVG map with a grade legend (`<figure>`); a note when there is nothing to draw.
pub fn grade_map(spec: &MapSpec<'_>, width: f64) -> String {
    let mut b = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut grow = |x: f64, y: f64| {
        if x.is_finite() && y.is_finite() {
            b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        }
    };
    for m in spec.marks {
        match *m {
            Mark::Point { lon, lat, .. } => grow(lon, lat),
            Mark::Cell { w, s, e, n, .. } => {
                grow(w, s);
                grow(e, n);
            }
        }
    }
    for l in spec.lines.iter().chain(spec.outlines) {
        for &(x, y) in l {
            grow(x, y);
        }
    }
    if !(b.0.is_finite() && b.2 > b.0 && b.3 > b.1) {
        return format!("<p>{} — nothing to draw.</p>", escape(spec.caption));
    }
    let pad_x = (b.2 - b.0) * 0.02;
    let pad_y = (b.3 - b.1) * 0.02;
    let (minx, maxx, miny, maxy) = (b.0 - pad_x, b.2 + pad_x, b.1 - pad_y, b.3 + pad_y);
    let kx = ((miny + maxy) / 2.0).to_radians().cos();
    let scale = width / ((maxx - minx) * kx);
    let height = (maxy - miny) * scale;
    let xy = |lon: f64, lat: f64| ((lon - minx) * kx * scale, (maxy - lat) * scale);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<figure><svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.1} {height:.1}" style="background:#f8fbff;border:1px solid #ccc">"##
    );
    let path_of = |ring: &[(f64, f64)]| {
        let mut d = String::new();
        for (i, &(x, y)) in ring.iter().enumerate() {
            let (px, py) = xy(x, y);
            let _ = write!(d, "{}{px:.1},{py:.1}", if i == 0 { "M" } else { "L" });
        }
        d
    };
    for r in spec.outlines {
        let _ = write!(
            svg,
            r##"<path d="{}Z" fill="none" stroke="#888" stroke-width="0.6"/>"##,
            path_of(r)
        );
    }
    let step = spec.marks.len().div_ceil(MAX_MARKS).max(1);
    // Draw low grades first so that high ones stay on top.
    let mut order: Vec<usize> = (0..spec.marks.len()).step_by(step).collect();
    let grade = |m: &Mark| match *m {
        Mark::Point { grade, .. } | Mark::Cell { grade, .. } => grade,
    };
    order.sort_by_key(|&i| std::cmp::Reverse(grade(&spec.marks[i]).wrapping_sub(1)));
    for i in order {
        match spec.marks[i] {
            Mark::Point { lon, lat, grade } => {
                let (x, y) = xy(lon, lat);
                let _ = write!(
                    svg,
                    r##"<circle cx="{x:.1}" cy="{y:.1}" r="{:.1}" fill="{}" stroke="#555" stroke-width="0.2"/>"##,
                    spec.radius,
                    GRADE_COLOURS[(grade as usize).min(5)]
                );
            }
            Mark::Cell { w, s, e, n, grade } => {
                let (x0, y0) = xy(w, n);
                let (x1, y1) = xy(e, s);
                let _ = write!(
                    svg,
                    r##"<rect x="{x0:.2}" y="{y0:.2}" width="{:.2}" height="{:.2}" fill="{}"/>"##,
                    (x1 - x0).max(0.4),
                    (y1 - y0).max(0.4),
                    GRADE_COLOURS[(grade as usize).min(5)]
                );
            }
        }
    }
    for l in spec.lines {
        let _ = write!(
            svg,
            r##"<path d="{}" fill="none" stroke="#000" stroke-width="2"/>"##,
            path_of(l)
        );
    }
    svg.push_str("</svg>");
    let labels = spec.labels.unwrap_or(GRADE_LABELS);
    let mut legend = String::from("<div class=\"legend\">");
    for g in [1, 2, 3, 4, 5, 0] {
        if labels[g].is_empty() {
            continue;
        }
        let _ = write!(
            legend,
            "<span style=\"background:{}\"></span>{}",
            GRADE_COLOURS[g],
            escape(labels[g])
        );
    }
    legend.push_str("</div>");
    let thinned = if step > 1 {
        format!(" (every {step}th of {} marks drawn)", spec.marks.len())
    } else {
        String::new()
    };
    let _ = write!(
        svg,
        "{legend}<figcaption>{}{}</figcaption></figure>",
        escape(spec.caption),
        escape(&thinned)
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_and_decimals() {
        assert_eq!(fmt_thousands(1234567.891, 1), "1,234,567.9");
        assert_eq!(fmt_thousands(-1234.0, 0), "-1,234");
        assert_eq!(fmt_thousands(-0.01, 1), "0.0");
        assert_eq!(fmt_thousands(f64::NAN, 0), "–");
    }

    #[test]
    fn map_draws_marks_and_legend() {
        let marks = [
            Mark::Point {
                lon: 84.0,
                lat: 28.0,
                grade: 1,
            },
            Mark::Point {
                lon: 85.0,
                lat: 27.0,
                grade: 5,
            },
        ];
        let svg = grade_map(
            &MapSpec {
                marks: &marks,
                caption: "t",
                radius: 2.0,
                ..Default::default()
            },
            600.0,
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(GRADE_COLOURS[1]) && svg.contains("中高"));
        assert!(grade_map(&MapSpec::default(), 600.0).contains("nothing to draw"));
    }
}
