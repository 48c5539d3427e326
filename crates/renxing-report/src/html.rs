//! `report.html`: one self-contained page — no scripts, fonts or tiles from the network — so it
//! opens the same on an offline bureau workstation as in a browser online.
//!
//! Contents: headline figures; a map (inline SVG, equirectangular with the longitude scaled by the
//! cosine of the middle latitude) with admin units coloured by the share of people within the
//! emergency-shelter walking distance, shelters as blue dots and people beyond that distance as red
//! dots; a stacked bar chart of distance bands per unit; the unit table with the deficiency ranking;
//! notes and caveats; the network report; the standard values used with their clauses.

use std::fmt::Write;

use geo_types::MultiPolygon;
use renxing_exam::shelter_exam::UnitResult;

use crate::ReportInput;
use crate::summary::Summary;

/// Most red "beyond" dots drawn on the map; beyond that every k-th is drawn and the caption says so.
const MAX_MAP_POINTS: usize = 20_000;

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Colour for a share in [0, 1]: red → yellow → green.
pub fn share_colour(share: Option<f64>) -> String {
    let Some(s) = share else { return "#cccccc".into() };
    let s = s.clamp(0.0, 1.0);
    let (a, b, t) = if s < 0.5 {
        ((215, 48, 39), (254, 224, 139), s / 0.5)
    } else {
        ((254, 224, 139), (26, 152, 80), (s - 0.5) / 0.5)
    };
    let mix = |x: i32, y: i32| (x as f64 + (y - x) as f64 * t).round() as i32;
    format!("#{:02x}{:02x}{:02x}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

struct View {
    minx: f64,
    maxy: f64,
    kx: f64,
    scale: f64,
    width: f64,
    height: f64,
}

impl View {
    fn new(units: &[&MultiPolygon<f64>], width: f64) -> Option<View> {
        let mut b = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
        for mp in units {
            for poly in mp.iter() {
                for c in poly.exterior().coords() {
                    b = (b.0.min(c.x), b.1.min(c.y), b.2.max(c.x), b.3.max(c.y));
                }
            }
        }
        if !b.0.is_finite() || b.2 <= b.0 || b.3 <= b.1 {
            return None;
        }
        let kx = ((b.1 + b.3) / 2.0).to_radians().cos();
        let scale = width / ((b.2 - b.0) * kx);
        Some(View {
            minx: b.0,
            maxy: b.3,
            kx,
            scale,
            width,
            height: (b.3 - b.1) * scale,
        })
    }

    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.minx) * self.kx * self.scale, (self.maxy - lat) * self.scale)
    }

    fn inside(&self, lon: f64, lat: f64) -> bool {
        let (x, y) = self.xy(lon, lat);
        (0.0..=self.width).contains(&x) && (0.0..=self.height).contains(&y)
    }
}

fn fmt_share(s: Option<f64>) -> String {
    s.map_or("–".into(), |v| format!("{:.1} %", v * 100.0))
}

fn fmt_num(v: f64) -> String {
    let s = format!("{:.0}", v);
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}")
}

fn map_svg(input: &ReportInput) -> String {
    let polys: Vec<&MultiPolygon<f64>> = input.units.iter().map(|u| &u.geometry).collect();
    let Some(v) = View::new(&polys, 900.0) else {
        return "<p>No admin-unit geometry to draw.</p>".into();
    };
    let exam = input.exam;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="-10 -10 {:.0} {:.0}" width="100%" role="img" aria-label="map of shelter coverage">"#,
        v.width + 20.0,
        v.height + 20.0
    );
    for (u, r) in input.units.iter().zip(&exam.units) {
        let mut d = String::new();
        for poly in u.geometry.iter() {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (i, c) in ring.coords().enumerate() {
                    let (x, y) = v.xy(c.x, c.y);
                    let _ = write!(d, "{}{:.1} {:.1} ", if i == 0 { "M" } else { "L" }, x, y);
                }
                d.push_str("Z ");
            }
        }
        let _ = write!(
            svg,
            r##"<path class="unit" d="{d}" fill="{}" fill-opacity="0.75" stroke="#333" stroke-width="1" fill-rule="evenodd"><title>{} {}: {} within {} m</title></path>"##,
            share_colour(r.share_within_emergency),
            escape(&u.code),
            escape(&u.name),
            fmt_share(r.share_within_emergency),
            exam.params.emergency_distance_m
        );
    }
    // People beyond the emergency distance.
    let beyond: Vec<usize> = exam
        .points
        .iter()
        .filter(|p| p.band > renxing_exam::shelter_exam::Band::Emergency)
        .map(|p| p.point)
        .filter(|&i| input.population.points[i].count > 0.0)
        .collect();
    let step = beyond.len().div_ceil(MAX_MAP_POINTS).max(1);
    svg.push_str(r##"<g fill="#b2182b" fill-opacity="0.55">"##);
    for &i in beyond.iter().step_by(step) {
        let p = &input.population.points[i];
        if v.inside(p.lon, p.lat) {
            let (x, y) = v.xy(p.lon, p.lat);
            let _ = write!(svg, r#"<circle cx="{x:.1}" cy="{y:.1}" r="1.3"/>"#);
        }
    }
    svg.push_str("</g>");
    svg.push_str(r##"<g fill="#2166ac" stroke="#fff" stroke-width="0.6">"##);
    for s in input.shelters {
        if v.inside(s.lon, s.lat) {
            let (x, y) = v.xy(s.lon, s.lat);
            let _ = write!(
                svg,
                r#"<circle class="shelter" cx="{x:.1}" cy="{y:.1}" r="3"><title>{}</title></circle>"#,
                escape(&s.name)
            );
        }
    }
    svg.push_str("</g>");
    for (u, r) in input.units.iter().zip(&exam.units) {
        use geo::Centroid;
        if let Some(c) = u.geometry.centroid() {
            let (x, y) = v.xy(c.x(), c.y());
            let _ = write!(
                svg,
                r##"<text x="{x:.1}" y="{y:.1}" font-size="13" text-anchor="middle" fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke">{} {}</text>"##,
                escape(&u.name),
                fmt_share(r.share_within_emergency)
            );
        }
    }
    svg.push_str("</svg>");
    let inside = exam.shelters.iter().filter(|r| r.unit.is_some()).count();
    let caption = format!(
        "Blue: shelters ({inside} inside the units, {} outside; those outside the map frame are not drawn). Red: population points beyond {} m of walking{}. Units coloured by the share of people within {} m (red 0 % → green 100 %).",
        input.shelters.len() - inside,
        exam.params.emergency_distance_m,
        if step > 1 {
            format!(" (every {step}th of {} drawn)", beyond.len())
        } else {
            String::new()
        },
        exam.params.emergency_distance_m
    );
    format!("{svg}<p class=\"caption\">{}</p>", escape(&caption))
}

fn chart_svg(units: &[UnitResult], p: &renxing_exam::shelter_exam::ExamParams) -> String {
    let row = 26.0;
    let (label_w, bar_w) = (180.0, 640.0);
    let h = row * units.len() as f64 + 40.0;
    let mut svg = format!(
        r#"<svg id="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {h}" width="100%" role="img" aria-label="distance bands per unit">"#,
        label_w + bar_w + 20.0
    );
    let bands = [
        ("#1a9850", format!("≤ {} m", p.emergency_distance_m)),
        ("#a6d96a", format!("≤ {} m", p.fixed_distance_m)),
        ("#fee08b", format!("≤ {} m", p.fixed_distance_max_m)),
        ("#d73027", "beyond / unreachable".to_string()),
    ];
    for (i, u) in units.iter().enumerate() {
        let y = i as f64 * row;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" font-size="12" text-anchor="end">{}</text>"#,
            label_w - 6.0,
            y + 16.0,
            escape(&u.name)
        );
        if u.population <= 0.0 {
            continue;
        }
        let parts = [
            u.population_within_emergency,
            u.population_within_fixed - u.population_within_emergency,
            u.population_within_fixed_max - u.population_within_fixed,
            u.population_beyond_any,
        ];
        let mut x = label_w;
        for (v, (col, name)) in parts.iter().zip(&bands) {
            let w = (v / u.population).max(0.0) * bar_w;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{col}"><title>{}: {} {}</title></rect>"#,
                y + 4.0,
                row - 8.0,
                escape(&u.name),
                escape(name),
                fmt_share(Some(v / u.population))
            );
            x += w;
        }
    }
    let ly = units.len() as f64 * row + 16.0;
    let mut lx = label_w;
    for (col, name) in &bands {
        let _ = write!(
            svg,
            r#"<rect x="{lx}" y="{ly}" width="12" height="12" fill="{col}"/><text x="{}" y="{}" font-size="12">{}</text>"#,
            lx + 16.0,
            ly + 11.0,
            escape(name)
        );
        lx += 160.0;
    }
    svg.push_str("</svg>");
    svg
}

fn unit_rows(units: &[UnitResult], order: &[usize]) -> String {
    let mut s = String::new();
    for &i in order {
        let u = &units[i];
        let _ = write!(
            s,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            if u.deficient { "deficient" } else { "ok" },
            u.rank.map_or("–".into(), |r| r.to_string()),
            escape(&u.code),
            escape(&u.name),
            fmt_num(u.population),
            u.shelters,
            escape(&u.capacity_status),
            u.per_capita_m2.map_or("unknown".into(), |v| format!("{v:.2}")),
            fmt_share(u.share_within_emergency),
            fmt_share(u.share_within_fixed),
            fmt_share(u.share_within_fixed_max),
            fmt_num(u.population_beyond_any),
            u.mean_distance_m.map_or("–".into(), |v| format!("{v:.0}")),
            escape(&u.deficiencies.join("; "))
        );
    }
    s
}

/// The whole page.
pub fn report_html(input: &ReportInput, summary: &Summary) -> String {
    let exam = input.exam;
    let p = &exam.params;
    let t = &exam.total;
    // Ranked deficient units first, then the rest by code.
    let mut order: Vec<usize> = exam.ranking.clone();
    let mut rest: Vec<usize> = (0..exam.units.len()).filter(|i| !exam.ranking.contains(i)).collect();
    rest.sort_by(|&a, &b| exam.units[a].code.cmp(&exam.units[b].code));
    order.extend(rest);
    let mut notes = String::new();
    for n in &exam.notes {
        let _ = write!(notes, "<li>{}</li>", escape(n));
    }
    let mut std_rows = String::new();
    for (k, v) in &summary.standard.values {
        let _ = write!(
            std_rows,
            "<tr><td><code>{}</code></td><td class=\"n\">{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(k),
            v.value,
            v.overridden_from.map_or(String::new(), |o| format!(" (standard: {o})")),
            escape(&v.unit),
            escape(&v.source),
            escape(&v.confidence)
        );
    }
    let mut inputs = String::new();
    for (k, v) in &input.inputs {
        let _ = write!(inputs, "<tr><td>{}</td><td>{}</td></tr>", escape(k), escape(v));
    }
    let net = &input.graph.report;
    let untagged: Vec<String> = net
        .untagged_longest
        .iter()
        .take(10)
        .map(|(id, l)| format!("{id} ({:.1} km)", l / 1000.0))
        .collect();
    let excluded: Vec<String> = net
        .excluded_by_class
        .iter()
        .map(|(k, v)| format!("{} {v}", if k.is_empty() { "(none)" } else { k }))
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Renxing shelter exam</title>
<style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#222}}
h1{{font-size:22px}} h2{{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}}
.cards{{display:flex;gap:12px;flex-wrap:wrap}} .card{{background:#f4f6f8;border-radius:6px;padding:10px 14px;min-width:180px}}
.card b{{display:block;font-size:22px}} table{{border-collapse:collapse;width:100%;font-size:13px}}
td,th{{border:1px solid #ddd;padding:4px 6px;vertical-align:top}} #units td:nth-child(-n+3){{white-space:nowrap}} th{{background:#f0f0f0}} td.n{{text-align:right;white-space:nowrap}}
tr.deficient td:first-child{{color:#b2182b;font-weight:bold}} .caption{{font-size:12px;color:#555}} code{{font-size:12px}}
.legend span{{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle;border:1px solid #999}} figcaption{{font-size:12px;color:#555}}
</style></head><body>
<h1>{title}</h1>
<p>Shelter coverage exam (避难场所体检) under the standard profile <b>{std}</b>. Walking distance on the road network to the nearest shelter; emergency service distance {ed} m, fixed-shelter distance {fd}–{fdm} m.</p>
<div class="cards">
<div class="card">Population<b>{pop}</b></div>
<div class="card">Shelters<b>{nsh}</b></div>
<div class="card">Within {ed} m<b id="share-emergency">{se}</b></div>
<div class="card">Within {fd} m<b>{sf}</b></div>
<div class="card">Beyond any shelter<b>{beyond}</b></div>
<div class="card">Deficient units<b>{ndef} / {nunits}</b></div>
</div>
<h2>Map</h2>
{map}
<h2>Distance bands per unit</h2>
{chart}
<h2>Units (deficient first, ranked)</h2>
<table id="units"><thead><tr><th>Rank</th><th>Code</th><th>Name</th><th>Population</th><th>Shelters</th><th>Capacity data</th><th>m²/person</th><th>≤ {ed} m</th><th>≤ {fd} m</th><th>≤ {fdm} m</th><th>Beyond</th><th>Mean distance (m)</th><th>Deficiencies</th></tr></thead>
<tbody>{rows}</tbody></table>
{extra}
<h2>Notes</h2><ul>{notes}<li>Population: {method}.</li></ul>
<h2>Road network</h2>
<p>{src}: {in_e} edges in, {nodes} nodes / {links} links ({km:.1} km) kept in the largest of {comps} connected components; {dn} nodes / {dl} links in other components left out. Untagged edges (no highway class, never routed): {ut} ({utkm:.1} km){utl}. Classes not walkable: {excl}.</p>
<h2>Standard values used</h2>
<table><thead><tr><th>Key</th><th>Value</th><th>Unit</th><th>Source clause</th><th>Confidence</th></tr></thead><tbody>{std_rows}</tbody></table>
<p class="caption">Confidence: C = clause or official text seen in the source; S = secondary source quoting the clause; U = not confirmed against the official text.</p>
<h2>Inputs</h2><table><tbody>{inputs}</tbody></table>
<p class="caption">Written by Renxing {ver}. Results: results.gpkg (layers admin_units, shelters, population_access, walk_network), summary.json.</p>
</body></html>
"#,
        title = escape(input.title),
        std = escape(&input.standard.name),
        ed = p.emergency_distance_m,
        fd = p.fixed_distance_m,
        fdm = p.fixed_distance_max_m,
        pop = fmt_num(t.population),
        nsh = input.shelters.len(),
        se = fmt_share(t.share_within_emergency),
        sf = fmt_share(t.share_within_fixed),
        beyond = fmt_num(t.population_beyond_any),
        ndef = exam.ranking.len(),
        nunits = exam.units.len(),
        map = map_svg(input),
        chart = chart_svg(&exam.units, p),
        rows = unit_rows(&exam.units, &order),
        extra = extra_sections(&input.extra.sections),
        method = escape(&input.population.method),
        src = escape(&net.source),
        in_e = net.input_edges,
        nodes = net.nodes,
        links = net.links,
        km = net.length_km,
        comps = net.components,
        dn = net.dropped_nodes,
        dl = net.dropped_links,
        ut = net.untagged_edges,
        utkm = net.untagged_length_km,
        utl = if untagged.is_empty() {
            String::new()
        } else {
            format!("; longest: {}", escape(&untagged.join(", ")))
        },
        excl = escape(&excluded.join(", ")),
        ver = env!("CARGO_PKG_VERSION"),
    )
}

/// Sections of further analyses, as the exam page's headings and blocks.
fn extra_sections(sections: &[crate::page::Section]) -> String {
    let mut out = String::new();
    for s in sections {
        let _ = write!(out, "<h2>{}</h2>", escape(&s.heading));
        for b in &s.blocks {
            out.push_str(b);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_red_to_green() {
        assert_eq!(share_colour(Some(0.0)), "#d73027");
        assert_eq!(share_colour(Some(1.0)), "#1a9850");
        assert_eq!(share_colour(None), "#cccccc");
    }

    #[test]
    fn numbers_get_thousands_separators_and_text_is_escaped() {
        assert_eq!(fmt_num(21893095.0), "21,893,095");
        assert_eq!(fmt_num(-1234.0), "-1,234");
        assert_eq!(escape("<a&b>"), "&lt;a&amp;b&gt;");
    }
}
