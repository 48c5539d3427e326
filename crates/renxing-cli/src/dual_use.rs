//! `[[scenario]]` sections of a project: dual-use (平急两用) scenarios run beside the exam, their
//! results joining the run's GeoPackage, summary and report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Context as _, Result, anyhow, bail};
use renxing_exam::population::{PopulationPoint, Unit, UnitLocator};
use renxing_exam::standard::StandardProfile;
use renxing_io::gpkg::{Feature, FieldType, GeometryKind, Layer, Value};
use renxing_net::cch::LinkCosts;
use renxing_net::graph::Graph;
use renxing_net::snap::SnapIndex;
use renxing_report::html::escape;
use renxing_report::page::{Section, table};
use renxing_scenario::Role;
use renxing_scenario::assign::{AssignOptions, Network, assign, assignable, link_loads};
use renxing_scenario::balance::{Balance, FacilityState, balance, conflicts};
use renxing_scenario::catalogue::{Facility, Offer, Rules, catalogue, fmt_num};
use renxing_scenario::demand::{DemandTable, demand};
use renxing_scenario::scenario::Scenario;
use serde_json::json;

use crate::layers::{attr, parse_crs};
use crate::project::Project;

/// What the scenarios add to a run.
#[derive(Default)]
pub struct ScenarioOutputs {
    pub lines: Vec<String>,
    pub sections: Vec<Section>,
    pub layers: Vec<Layer>,
    pub summary: serde_json::Value,
    pub timings: Vec<(String, f64)>,
}

pub struct ScenarioContext<'a> {
    pub project: &'a Project,
    pub standard: &'a StandardProfile,
    pub graph: &'a Graph,
    pub units: &'a [Unit],
    pub population: &'a [PopulationPoint],
    pub access_speed_mps: f64,
    pub max_snap_m: f64,
}

/// Facilities of the project: OSM files, then CSV lists.
pub fn load_facilities(p: &Project) -> Result<Vec<Facility>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in &p.facilities.osm {
        let path = p.resolve(f);
        let osm = renxing_io::osm::read_osm(&path).with_context(|| format!("[facilities] osm {}", path.display()))?;
        for fac in renxing_io::osm::facilities(&osm) {
            // Extracts of neighbouring boxes overlap: an object in two of them counts once.
            if seen.insert(fac.osm_id.clone()) {
                out.push(Facility::from_osm(&fac, &path.display().to_string()));
            }
        }
    }
    for c in &p.facilities.csv {
        let path = p.resolve(&c.path);
        let kind: renxing_io::osm::FacilityKind = c
            .kind
            .parse()
            .map_err(|e| anyhow!("[facilities] csv {}: {e}", path.display()))?;
        let opts = renxing_io::points::PointsCsvOptions {
            id_column: c.id_column.clone(),
            lon_column: c.lon_column.clone(),
            lat_column: c.lat_column.clone(),
            crs: parse_crs(&c.crs, "[facilities] csv crs")?,
        };
        let points = renxing_io::points::read_points_csv(&path, &opts)?;
        for (row, pt) in points.iter().enumerate() {
            let num = |col: &str| -> Result<Option<f64>> {
                match attr(pt, col).map(str::trim).filter(|v| !v.is_empty()) {
                    None => Ok(None),
                    Some(v) => match v.parse::<f64>() {
                        Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                        _ => bail!(
                            "{} record {} (id {}): column {col} = '{v}' is not a number ≥ 0",
                            path.display(),
                            row + 1,
                            pt.id
                        ),
                    },
                }
            };
            let mut measured = BTreeMap::new();
            for (k, _) in &pt.attrs {
                if let Some(r) = k.strip_prefix("capacity_") {
                    let role: Role = r
                        .parse()
                        .map_err(|e: String| anyhow!("{}: column {k}: {e}", path.display()))?;
                    if let Some(v) = num(k)? {
                        measured.insert(role, v);
                    }
                }
            }
            out.push(Facility {
                id: pt.id.clone(),
                name: attr(pt, "name").unwrap_or("").to_string(),
                kind: Some(kind),
                lon: pt.lon,
                lat: pt.lat,
                site_area_m2: num("site_area_m2")?,
                floor_area_m2: num("floor_area_m2")?,
                rooms: num("rooms")?,
                beds: num("beds")?,
                seats: num("capacity")?,
                tags: Vec::new(),
                measured,
                source: path.display().to_string(),
            });
        }
    }
    Ok(out)
}

struct Done {
    scenario: Scenario,
    balance: Balance,
}

pub fn run_scenarios(cx: &ScenarioContext<'_>) -> Result<ScenarioOutputs> {
    let p = cx.project;
    let mut out = ScenarioOutputs::default();
    if p.scenario.is_empty() {
        if !p.compound.is_empty() {
            bail!("[[compound]] needs [[scenario]] sections");
        }
        return Ok(out);
    }
    let t = Instant::now();
    let facilities = load_facilities(p)?;
    if facilities.is_empty() {
        bail!("[[scenario]]: no facility loaded — list OSM files or CSV lists under [facilities]");
    }
    let ids: Vec<String> = facilities.iter().map(|f| f.id.clone()).collect();
    let locator = UnitLocator::new(cx.units);
    let fac_unit: Vec<Option<usize>> = facilities.iter().map(|f| locator.locate(f.lon, f.lat)).collect();
    let idx = SnapIndex::new(cx.graph);
    let fac_snap: Vec<_> = facilities
        .iter()
        .map(|f| idx.snap(cx.graph, f.lon, f.lat).filter(|s| s.offset_m <= cx.max_snap_m))
        .collect();
    let residents: Vec<_> = cx
        .population
        .iter()
        .map(|q| (q.id.clone(), q.lon, q.lat, q.count, q.unit))
        .collect();
    out.timings
        .push(("scenarios: facilities".into(), t.elapsed().as_secs_f64()));
    let mut done: Vec<Done> = Vec::new();
    let mut summaries = Vec::new();
    for entry in &p.scenario {
        let t = Instant::now();
        let path = p.resolve(&entry.file);
        let (sc, profile) = Scenario::load(&path, cx.standard)?;
        if done.iter().any(|d| d.scenario.name == sc.name) {
            bail!("{}: scenario name '{}' is used twice", path.display(), sc.name);
        }
        let rules = Rules::builtin_cn(&profile)?;
        let offers = catalogue(&facilities, &rules);
        // Hazard.
        let grid = match sc.hazard.as_ref().and_then(|h| h.flood_depth.as_ref()) {
            None => None,
            Some(f) => {
                let g = renxing_io::raster::read_grid(f, None)?;
                if g.crs != renxing_geo::crs::Crs::Wgs84 {
                    bail!(
                        "{}: flood raster {} is in {:?}; give it in WGS84 lon/lat",
                        path.display(),
                        f.display(),
                        g.crs
                    );
                }
                Some(g)
            }
        };
        let depth_fn = |lon: f64, lat: f64| {
            grid.as_ref()
                .map_or(0.0, |g| renxing_risk::flood::depth_at(g, lon, lat))
        };
        let states: Vec<FacilityState> = facilities
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let d = depth_fn(f.lon, f.lat);
                let limit = sc.hazard.as_ref().map_or(f64::INFINITY, |h| h.unavailable_depth_m);
                FacilityState {
                    unit: fac_unit[i],
                    unavailable: (d >= limit && d > 0.0).then(|| format!("flooded {d:.2} m ≥ {limit} m")),
                }
            })
            .collect();
        let dt = demand(
            &sc,
            &residents,
            &|lon, lat| locator.locate(lon, lat),
            grid.as_ref().map(|_| &depth_fn as &(dyn Fn(f64, f64) -> f64 + Sync)),
        );
        let bal = balance(&sc.roles, &offers, &states, &ids, &dt, cx.units.len());
        out.timings.push((
            format!("scenario {}: demand and balance", sc.name),
            t.elapsed().as_secs_f64(),
        ));
        // Network with closures.
        let mut costs = LinkCosts::of(cx.graph);
        let mut closed = 0;
        if let (Some(g), Some(h)) = (&grid, &sc.hazard)
            && h.close_roads
        {
            let threshold = profile.get("flood.road_closure_depth_walk_m")?;
            let depths: Vec<f64> = (0..cx.graph.links.len())
                .map(|l| {
                    cx.graph
                        .link_polyline(l)
                        .iter()
                        .map(|&(x, y)| renxing_risk::flood::depth_at(g, x, y))
                        .fold(0.0, f64::max)
                })
                .collect();
            let rep = renxing_net::hazard::apply_depths(
                &mut costs,
                &depths,
                threshold,
                renxing_net::hazard::Slowdown::None,
                cx.graph.road_links,
            );
            closed = rep.closed_links;
        }
        let net = Network {
            graph: cx.graph,
            costs: &costs,
            access_speed_mps: cx.access_speed_mps,
        };
        let mut assign_json = Vec::new();
        let mut section = Section::new(&format!(
            "Dual-use scenario {} — {} ({})",
            sc.name,
            if sc.title.is_empty() {
                sc.family.as_str()
            } else {
                &sc.title
            },
            sc.family.zh()
        ));
        balance_section(&mut section, &sc, &bal, &dt, &offers, &facilities, &states, cx.units);
        // Demand points snapped once for all the scenario's assignments.
        let psn: Vec<_> = if sc.assign.is_empty() {
            Vec::new()
        } else {
            dt.points
                .iter()
                .map(|q| idx.snap(cx.graph, q.lon, q.lat).filter(|s| s.offset_m <= cx.max_snap_m))
                .collect()
        };
        for a in &sc.assign {
            let t = Instant::now();
            let Some(ph) = sc.phases_h.iter().position(|&x| (x - a.at_h).abs() < 1e-9) else {
                bail!(
                    "{}: [[assign]] {} at {}: not one of the phases",
                    path.display(),
                    a.role,
                    sc.phase_label(a.at_h)
                );
            };
            let amount = &dt.by_role[&a.role][ph];
            let (fac, uncapacitated) = assignable(&offers, &states, a.role, a.at_h, amount.iter().sum());
            let fsn: Vec<_> = fac.iter().map(|&(f, _)| fac_snap[f]).collect();
            let cap: Vec<f64> = fac.iter().map(|x| x.1).collect();
            let res = assign(&net, &psn, amount, &fsn, &cap, AssignOptions::default())?;
            let loads = link_loads(&net, &psn, &fsn, &res.flows);
            let secs = t.elapsed().as_secs_f64();
            out.timings
                .push((format!("scenario {}: assignment {}", sc.name, a.role), secs));
            let total: f64 = amount.iter().sum();
            let unserved: f64 = res.unserved.iter().sum();
            let served = total - unserved;
            let max_t = res.flows.iter().map(|f| f.time_s).fold(0.0, f64::max);
            let flow_rate = profile.get("crowd.walkway_flow_p_per_m_min")?;
            let mut busiest: Vec<(usize, f64)> = loads.iter().copied().enumerate().filter(|x| x.1 > 0.0).collect();
            busiest.sort_by(|x, y| y.1.total_cmp(&x.1));
            let clearance = a.clearance_min;
            assign_json.push(json!({
                "role": a.role, "at_h": a.at_h, "demand": total, "served": served, "unserved": unserved,
                "facilities": cap.len(), "mean_time_min": if served > 0.0 { res.total_time_s / served / 60.0 } else { 0.0 },
                "max_time_min": max_t / 60.0, "closed_links": closed, "cut_off_points": res.cut_off,
                "lp_rounds": res.rounds, "arcs": res.arcs, "seconds": secs, "uncapacitated": uncapacitated,
            }));
            out.lines.push(format!(
                "scenario {}: {} at {}: {} of {} served by {} facilities{}, mean walk {:.1} min, max {:.1} min ({} pricing rounds)",
                sc.name,
                a.role,
                sc.phase_label(a.at_h),
                fmt_num(served.round()),
                fmt_num(total.round()),
                cap.len(),
                if uncapacitated {
                    " (capacities unknown: nearest facility, uncapacitated)"
                } else {
                    ""
                },
                if served > 0.0 { res.total_time_s / served / 60.0 } else { 0.0 },
                max_t / 60.0,
                res.rounds
            ));
            assign_section(
                &mut section,
                &sc,
                a.role,
                a.at_h,
                &res,
                &dt,
                &fac,
                &facilities,
                cx.units,
                &busiest,
                cx.graph,
                flow_rate,
                clearance,
                closed,
            );
            if uncapacitated {
                section.text(&format!(
                    "No {} has a known capacity in the data: the assignment above sends everyone to the nearest one as if it held them all, so it gives walking times only, not places.",
                    a.role
                ));
            }
            let lname = layer_name(&sc.name);
            out.layers
                .push(assignment_layer(&lname, a.role, &res, &dt, &fac, &facilities));
            out.layers
                .push(links_layer(&lname, a.role, &busiest, cx.graph, flow_rate, clearance));
        }
        summaries.push(scenario_summary(
            &sc,
            &bal,
            &dt,
            &offers,
            &states,
            &facilities,
            cx.units,
            assign_json,
        ));
        out.layers
            .extend(scenario_layers(&sc, &bal, &offers, &states, &facilities, cx.units));
        out.sections.push(section);
        done.push(Done {
            scenario: sc,
            balance: bal,
        });
    }
    // Compounds.
    let mut compounds = Vec::new();
    for c in &p.compound {
        let parts: Vec<(&str, &Balance)> = c
            .scenarios
            .iter()
            .map(|n| {
                done.iter()
                    .find(|d| &d.scenario.name == n)
                    .map(|d| (d.scenario.name.as_str(), &d.balance))
                    .ok_or_else(|| anyhow!("[[compound]] {}: no scenario named '{n}'", c.name))
            })
            .collect::<Result<_>>()?;
        if parts.len() < 2 {
            bail!("[[compound]] {}: name at least two scenarios", c.name);
        }
        let cf = conflicts(&parts);
        let mut s = Section::new(&format!("Compound scenario {}: {}", c.name, c.scenarios.join(" + ")));
        s.text(&format!(
            "{} facilities are needed by more than one emergency role when these scenarios happen at once; each can serve one function at a time, so the balances above overstate the supply by the capacities below.",
            cf.len()
        ));
        let rows: Vec<Vec<String>> = cf
            .iter()
            .take(50)
            .map(|x| {
                let f = &facilities[x.facility];
                vec![
                    f.id.clone(),
                    f.name.clone(),
                    f.kind.map_or(String::new(), |k| k.to_string()),
                    x.claims
                        .iter()
                        .map(|(sn, r, cap)| format!("{sn}: {r} {}", fmt_num(*cap)))
                        .collect::<Vec<_>>()
                        .join("; "),
                ]
            })
            .collect();
        s.html(table(
            &["facility", "name", "kind", "claims (scenario: role capacity)"],
            &rows,
        ));
        out.sections.push(s);
        out.layers.push(Layer {
            name: format!("dual_conflicts_{}", layer_name(&c.name)),
            description: format!(
                "Facilities claimed by two roles at once in compound scenario {}",
                c.name
            ),
            kind: Some(GeometryKind::Point),
            fields: vec![
                ("facility".into(), FieldType::Text),
                ("name".into(), FieldType::Text),
                ("claims".into(), FieldType::Text),
            ],
            features: cf
                .iter()
                .map(|x| {
                    let f = &facilities[x.facility];
                    Feature {
                        geometry: Some(geo_types::Point::new(f.lon, f.lat).into()),
                        values: vec![
                            Value::Text(f.id.clone()),
                            Value::Text(f.name.clone()),
                            Value::Text(
                                x.claims
                                    .iter()
                                    .map(|(sn, r, cap)| format!("{sn}:{r}:{cap}"))
                                    .collect::<Vec<_>>()
                                    .join(";"),
                            ),
                        ],
                    }
                })
                .collect(),
        });
        compounds.push(json!({"name": c.name, "scenarios": c.scenarios, "conflicts": cf.len(),
            "facilities": cf.iter().map(|x| json!({"facility": facilities[x.facility].id, "claims": x.claims})).collect::<Vec<_>>()}));
        out.lines
            .push(format!("compound {}: {} facilities claimed twice", c.name, cf.len()));
    }
    out.summary = json!({"scenarios": summaries, "compounds": compounds, "facilities": facilities.len()});
    Ok(out)
}

fn layer_name(name: &str) -> String {
    name.replace('-', "_")
}

fn unit_name(units: &[Unit], u: Option<usize>) -> String {
    u.map_or("whole area".into(), |u| format!("{} {}", units[u].code, units[u].name))
}

#[allow(clippy::too_many_arguments)]
fn balance_section(
    s: &mut Section,
    sc: &Scenario,
    bal: &Balance,
    dt: &DemandTable,
    offers: &[Offer],
    facilities: &[Facility],
    states: &[FacilityState],
    units: &[Unit],
) {
    s.text(&format!(
        "Family {} ({}), scenario file {}. Phases: {}.",
        sc.family.as_str(),
        sc.family.zh(),
        sc.file.display(),
        sc.phases_h
            .iter()
            .map(|&t| sc.phase_label(t))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut items: Vec<String> = sc
        .demands
        .iter()
        .map(|d| format!("demand {} ({}): {}", d.role, model_name(&d.model), d.source))
        .collect();
    items.extend(sc.assumptions.iter().map(|a| format!("{} — {}", a.text, a.source)));
    s.list(&items);
    for &role in &sc.roles {
        let whole: Vec<_> = bal.rows.iter().filter(|r| r.role == role && r.unit.is_none()).collect();
        s.html(phase_chart(
            sc,
            role,
            &whole.iter().map(|r| (r.demand, r.supply)).collect::<Vec<_>>(),
        ));
        let mut rows = Vec::new();
        for r in bal.rows.iter().filter(|r| r.role == role) {
            rows.push(vec![
                unit_name(units, r.unit),
                sc.phase_label(dt.phases_h[r.phase]),
                fmt_num(r.demand.round()),
                fmt_num(r.supply.round()),
                fmt_num(r.surplus.round()),
                r.unknown.to_string(),
            ]);
        }
        s.html(format!(
            "<details><summary>{} ({}) per unit and phase ({})</summary>{}</details>",
            role,
            role.zh(),
            role.unit(),
            table(
                &[
                    "unit",
                    "phase",
                    "demand",
                    "supply ready",
                    "surplus (−gap)",
                    "capacity unknown"
                ],
                &rows
            )
        ));
        let met: Vec<Vec<String>> = bal
            .met
            .iter()
            .filter(|m| m.role == role)
            .map(|m| {
                vec![
                    unit_name(units, m.unit),
                    fmt_num(m.peak_demand.round()),
                    if m.peak_demand <= 0.0 {
                        "no demand".into()
                    } else {
                        m.met_from_h.map_or("never".into(), |h| sc.phase_label(h))
                    },
                ]
            })
            .collect();
        s.html(table(&["unit", "peak demand", "met from"], &met));
        let conv = &bal.conversions[&role];
        let rows: Vec<Vec<String>> = conv
            .iter()
            .filter(|c| c.needed)
            .take(30)
            .enumerate()
            .map(|(k, c)| {
                let f = &facilities[c.facility];
                vec![
                    (k + 1).to_string(),
                    f.id.clone(),
                    f.name.clone(),
                    f.kind.map_or(String::new(), |k| k.to_string()),
                    format!("{} h", fmt_num(c.hours)),
                    fmt_num(c.capacity),
                    fmt_num(c.cumulative),
                ]
            })
            .collect();
        let needed = conv.iter().filter(|c| c.needed).count();
        let unknown = offers
            .iter()
            .filter(|o| o.role == role && o.capacity.is_none() && states[o.facility].unavailable.is_none())
            .count();
        s.text(&format!(
            "{role}: {needed} conversions needed for the peak (of {} with a known capacity); {unknown} candidate facilities have an unknown capacity and are not counted.",
            conv.len()
        ));
        if !rows.is_empty() {
            s.html(table(
                &[
                    "order",
                    "facility",
                    "name",
                    "kind",
                    "ready after",
                    "capacity",
                    "cumulative",
                ],
                &rows,
            ));
        }
    }
    let unavailable: Vec<String> = states
        .iter()
        .enumerate()
        .filter_map(|(i, st)| {
            st.unavailable
                .as_ref()
                .map(|r| format!("{} {} — {r}", facilities[i].id, facilities[i].name))
        })
        .collect();
    if !unavailable.is_empty() {
        s.text(&format!(
            "{} facilities are unavailable in this scenario:",
            unavailable.len()
        ));
        s.list(&unavailable[..unavailable.len().min(50)]);
    }
    if !dt.epidemic_curve.is_empty() {
        let peak = dt
            .epidemic_curve
            .iter()
            .max_by(|a, b| a[3].total_cmp(&b[3]))
            .expect("non-empty");
        let last = dt.epidemic_curve.last().expect("non-empty");
        s.text(&format!(
            "Epidemic (SEIR): infectious peak {} on day {}; {} ever infected by day {}.",
            fmt_num(peak[3].round()),
            peak[0],
            fmt_num((last[3] + last[4]).round()),
            last[0]
        ));
    }
}

fn model_name(m: &renxing_scenario::scenario::DemandModel) -> String {
    use renxing_scenario::scenario::DemandModel as D;
    match m {
        D::PopulationShare { share, key } => format!(
            "{} of residents{}",
            share,
            key.as_ref().map_or(String::new(), |k| format!(" ({k})"))
        ),
        D::FloodDepth { threshold_m, share } => format!("{share} of residents in water ≥ {threshold_m} m"),
        D::Epidemic { care_share, stay_days } => format!("{care_share} of infections, stay {stay_days} d"),
        D::Per10k { rate } => format!("{rate} per 10,000 residents"),
        D::Venue { ticket_share } => format!("venue capacity × {ticket_share}"),
        D::Visitors { m2_per_visitor } => format!("scenic area ÷ {m2_per_visitor} m²/visitor"),
    }
}

/// Demand (red) and supply ready (blue) over the phases, an inline SVG.
fn phase_chart(sc: &Scenario, role: Role, v: &[(f64, f64)]) -> String {
    let (w, h, l, b) = (560.0, 180.0, 70.0, 30.0);
    let max = v.iter().flat_map(|x| [x.0, x.1]).fold(0.0, f64::max).max(1.0);
    let n = v.len().max(2) as f64 - 1.0;
    let xy = |k: usize, y: f64| {
        (
            l + (w - l - 10.0) * k as f64 / n,
            10.0 + (h - b - 10.0) * (1.0 - y / max),
        )
    };
    let path = |f: &dyn Fn(&(f64, f64)) -> f64| {
        v.iter()
            .enumerate()
            .map(|(k, x)| {
                let (px, py) = xy(k, f(x));
                format!("{px:.1},{py:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut s = format!(
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-size=\"10\"><line x1=\"{l}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>",
        h - b,
        w - 10.0,
        h - b
    );
    let _ = write!(
        s,
        "<text x=\"4\" y=\"14\">{}</text><text x=\"4\" y=\"{}\">0</text>",
        escape(&fmt_num(max.round())),
        h - b
    );
    for k in 0..v.len() {
        let (px, _) = xy(k, 0.0);
        let _ = write!(
            s,
            "<text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            h - 12.0,
            escape(&sc.phase_label(sc.phases_h[k]))
        );
    }
    let _ = write!(
        s,
        "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{}\"/><polyline fill=\"none\" stroke=\"#2471a3\" stroke-width=\"2\" points=\"{}\"/></svg><figcaption>{} ({}): demand (red) and converted supply ready (blue), whole area, {}</figcaption></figure>",
        path(&|x| x.0),
        path(&|x| x.1),
        role,
        role.zh(),
        role.unit()
    );
    s
}

#[allow(clippy::too_many_arguments)]
fn assign_section(
    s: &mut Section,
    sc: &Scenario,
    role: Role,
    at_h: f64,
    res: &renxing_scenario::assign::Assignment,
    dt: &DemandTable,
    fac: &[(usize, f64)],
    facilities: &[Facility],
    units: &[Unit],
    busiest: &[(usize, f64)],
    graph: &Graph,
    flow_rate: f64,
    clearance: Option<f64>,
    closed: usize,
) {
    let total_unserved: f64 = res.unserved.iter().sum();
    s.text(&format!(
        "Assignment of {role} demand at {} on the walking network{}: exact minimum total walking time under the facilities' capacities (column generation, {} pricing rounds, {} candidate pairs); {} people unserved, {} demand points cut off from every facility.",
        sc.phase_label(at_h),
        if closed > 0 { format!(" with {closed} flooded links closed") } else { String::new() },
        res.rounds,
        res.arcs,
        fmt_num(total_unserved.round()),
        res.cut_off
    ));
    let mut per: Vec<(f64, f64, f64, f64)> = vec![(0.0, 0.0, 0.0, 0.0); units.len() + 1];
    for f in &res.flows {
        let u = dt.points[f.point].unit.unwrap_or(units.len());
        per[u].0 += f.amount;
        per[u].1 += f.amount * f.time_s;
        per[u].2 = per[u].2.max(f.time_s);
    }
    for (i, q) in res.unserved.iter().enumerate() {
        per[dt.points[i].unit.unwrap_or(units.len())].3 += q;
    }
    let rows: Vec<Vec<String>> = per
        .iter()
        .enumerate()
        .filter(|(_, x)| x.0 + x.3 > 0.0)
        .map(|(u, x)| {
            vec![
                if u < units.len() {
                    unit_name(units, Some(u))
                } else {
                    "outside units".into()
                },
                fmt_num(x.0.round()),
                fmt_num(x.3.round()),
                format!("{:.1}", if x.0 > 0.0 { x.1 / x.0 / 60.0 } else { 0.0 }),
                format!("{:.1}", x.2 / 60.0),
            ]
        })
        .collect();
    s.html(table(
        &["unit", "served", "unserved", "mean walk (min)", "max walk (min)"],
        &rows,
    ));
    let mut loads: Vec<(usize, f64)> = fac.iter().enumerate().map(|(k, _)| (k, res.load[k])).collect();
    loads.sort_by(|a, b| b.1.total_cmp(&a.1));
    let rows: Vec<Vec<String>> = loads
        .iter()
        .take(15)
        .map(|&(k, l)| {
            let f = &facilities[fac[k].0];
            vec![
                f.id.clone(),
                f.name.clone(),
                fmt_num(l.round()),
                fmt_num(fac[k].1),
                format!("{:.0} %", 100.0 * l / fac[k].1),
            ]
        })
        .collect();
    s.html(table(&["facility", "name", "assigned", "capacity", "load"], &rows));
    let rows: Vec<Vec<String>> = busiest
        .iter()
        .take(10)
        .map(|&(l, load)| {
            let per_m = load / flow_rate;
            vec![
                graph.links[l].source_edge.to_string(),
                fmt_num(load.round()),
                format!("{per_m:.0}"),
                clearance.map_or("—".into(), |c| format!("{:.1}", per_m / c)),
            ]
        })
        .collect();
    s.text(&format!(
        "Busiest links on the shortest paths. Clearance time per metre of walkway = people ÷ {flow_rate} persons/m/min (HCM 2010 walkway capacity){}; road widths are not in the network data, so the time at the real width is left to the reader.",
        clearance.map_or(String::new(), |c| format!("; width needed to clear within the scenario's {c} min target"))
    ));
    s.html(table(
        &["road edge", "people", "clearance (min × m)", "width needed (m)"],
        &rows,
    ));
}

fn assignment_layer(
    lname: &str,
    role: Role,
    res: &renxing_scenario::assign::Assignment,
    dt: &DemandTable,
    fac: &[(usize, f64)],
    facilities: &[Facility],
) -> Layer {
    Layer {
        name: format!("dual_{lname}_{role}_assignment"),
        description: format!("Demand point → facility flows of {role} (straight lines; people and walking time)"),
        kind: Some(GeometryKind::LineString),
        fields: vec![
            ("point".into(), FieldType::Text),
            ("facility".into(), FieldType::Text),
            ("people".into(), FieldType::Real),
            ("walk_min".into(), FieldType::Real),
        ],
        features: res
            .flows
            .iter()
            .map(|f| {
                let (p, q) = (&dt.points[f.point], &facilities[fac[f.facility].0]);
                Feature {
                    geometry: Some(geo_types::LineString::from(vec![(p.lon, p.lat), (q.lon, q.lat)]).into()),
                    values: vec![
                        Value::Text(p.id.clone()),
                        Value::Text(q.id.clone()),
                        Value::Real(f.amount),
                        Value::Real(f.time_s / 60.0),
                    ],
                }
            })
            .collect(),
    }
}

fn links_layer(
    lname: &str,
    role: Role,
    busiest: &[(usize, f64)],
    graph: &Graph,
    flow_rate: f64,
    clearance: Option<f64>,
) -> Layer {
    Layer {
        name: format!("dual_{lname}_{role}_links"),
        description: format!("People crossing each road link on the way to {role} (shortest paths)"),
        kind: Some(GeometryKind::LineString),
        fields: vec![
            ("people".into(), FieldType::Real),
            ("clearance_min_m".into(), FieldType::Real),
            ("width_needed_m".into(), FieldType::Real),
        ],
        features: busiest
            .iter()
            .map(|&(l, load)| Feature {
                geometry: Some(geo_types::LineString::from(graph.link_polyline(l)).into()),
                values: vec![
                    Value::Real(load),
                    Value::Real(load / flow_rate),
                    clearance.map_or(Value::Null, |c| Value::Real(load / flow_rate / c)),
                ],
            })
            .collect(),
    }
}

fn scenario_layers(
    sc: &Scenario,
    bal: &Balance,
    offers: &[Offer],
    states: &[FacilityState],
    facilities: &[Facility],
    units: &[Unit],
) -> Vec<Layer> {
    let lname = layer_name(&sc.name);
    let order: BTreeMap<usize, (usize, bool)> = bal
        .conversions
        .values()
        .flat_map(|v| v.iter().enumerate().map(|(k, c)| (c.offer, (k + 1, c.needed))))
        .collect();
    let roles = Layer {
        name: format!("dual_{lname}_roles"),
        description: format!("Facilities and the emergency roles they take in scenario {}", sc.name),
        kind: Some(GeometryKind::Point),
        fields: vec![
            ("facility".into(), FieldType::Text),
            ("name".into(), FieldType::Text),
            ("kind".into(), FieldType::Text),
            ("role".into(), FieldType::Text),
            ("capacity".into(), FieldType::Real),
            ("ready_h".into(), FieldType::Real),
            ("basis".into(), FieldType::Text),
            ("unit".into(), FieldType::Text),
            ("unavailable".into(), FieldType::Text),
            ("order".into(), FieldType::Integer),
            ("needed".into(), FieldType::Integer),
        ],
        features: offers
            .iter()
            .enumerate()
            .filter(|(_, o)| sc.roles.contains(&o.role))
            .map(|(k, o)| {
                let f = &facilities[o.facility];
                let st = &states[o.facility];
                let (ord, needed) = order
                    .get(&k)
                    .copied()
                    .map_or((Value::Null, Value::Integer(0)), |(a, b)| {
                        (Value::Integer(a as i64), Value::Integer(b as i64))
                    });
                Feature {
                    geometry: Some(geo_types::Point::new(f.lon, f.lat).into()),
                    values: vec![
                        Value::Text(f.id.clone()),
                        Value::Text(f.name.clone()),
                        Value::Text(f.kind.map_or(String::new(), |k| k.to_string())),
                        Value::Text(o.role.to_string()),
                        o.capacity.map_or(Value::Null, Value::Real),
                        Value::Real(o.hours),
                        Value::Text(o.basis.clone()),
                        Value::Text(st.unit.map_or(String::new(), |u| units[u].code.clone())),
                        st.unavailable.clone().map_or(Value::Null, Value::Text),
                        ord,
                        needed,
                    ],
                }
            })
            .collect(),
    };
    let balance = Layer {
        name: format!("dual_{lname}_balance"),
        description: format!(
            "Demand and converted supply per admin unit, role and phase in scenario {}",
            sc.name
        ),
        kind: Some(GeometryKind::MultiPolygon),
        fields: vec![
            ("unit".into(), FieldType::Text),
            ("name".into(), FieldType::Text),
            ("role".into(), FieldType::Text),
            ("phase_h".into(), FieldType::Real),
            ("demand".into(), FieldType::Real),
            ("supply".into(), FieldType::Real),
            ("surplus".into(), FieldType::Real),
            ("unknown".into(), FieldType::Integer),
            ("met_from_h".into(), FieldType::Real),
        ],
        features: bal
            .rows
            .iter()
            .filter_map(|r| {
                let u = r.unit?;
                let met = bal
                    .met
                    .iter()
                    .find(|m| m.unit == Some(u) && m.role == r.role)
                    .and_then(|m| m.met_from_h);
                Some(Feature {
                    geometry: Some(units[u].geometry.clone().into()),
                    values: vec![
                        Value::Text(units[u].code.clone()),
                        Value::Text(units[u].name.clone()),
                        Value::Text(r.role.to_string()),
                        Value::Real(sc.phases_h[r.phase]),
                        Value::Real(r.demand),
                        Value::Real(r.supply),
                        Value::Real(r.surplus),
                        Value::Integer(r.unknown as i64),
                        met.map_or(Value::Null, Value::Real),
                    ],
                })
            })
            .collect(),
    };
    vec![roles, balance]
}

#[allow(clippy::too_many_arguments)]
fn scenario_summary(
    sc: &Scenario,
    bal: &Balance,
    dt: &DemandTable,
    offers: &[Offer],
    states: &[FacilityState],
    facilities: &[Facility],
    units: &[Unit],
    assign: Vec<serde_json::Value>,
) -> serde_json::Value {
    let roles: Vec<_> = sc
        .roles
        .iter()
        .map(|&role| {
            let whole: Vec<_> = bal
                .rows
                .iter()
                .filter(|r| r.role == role && r.unit.is_none())
                .map(|r| json!({"phase_h": dt.phases_h[r.phase], "demand": r.demand, "supply": r.supply, "surplus": r.surplus}))
                .collect();
            let met: Vec<_> = bal
                .met
                .iter()
                .filter(|m| m.role == role)
                .map(|m| json!({"unit": m.unit.map(|u| units[u].code.clone()), "peak_demand": m.peak_demand, "met_from_h": m.met_from_h}))
                .collect();
            json!({
                "role": role,
                "offers": offers.iter().filter(|o| o.role == role).count(),
                "capacity_unknown": offers.iter().filter(|o| o.role == role && o.capacity.is_none()).count(),
                "conversions_needed": bal.conversions[&role].iter().filter(|c| c.needed).count(),
                "whole_area": whole,
                "met": met,
            })
        })
        .collect();
    json!({
        "name": sc.name, "family": sc.family, "file": sc.file.display().to_string(),
        "phases_h": sc.phases_h, "roles": roles, "assignments": assign,
        "unavailable": states.iter().enumerate().filter_map(|(i, s)| s.unavailable.as_ref().map(|r| json!({"facility": facilities[i].id, "reason": r}))).collect::<Vec<_>>(),
        "overrides": sc.overrides, "assumptions": sc.assumptions,
    })
}
