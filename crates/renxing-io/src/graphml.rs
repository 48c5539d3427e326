//! OSMnx road graphs saved as GraphML (`ox.save_graphml`).
//!
//! # Format
//!
//! GraphML is XML. `<key id="d5" for="node" attr.name="x" attr.type="string"/>` elements
//! declare attributes (optionally with a `<default>` value); the `<graph edgedefault=…>`
//! element holds graph-level `<data>` (OSMnx writes `crs`, `created_with`, `simplified`), then
//! `<node id=…>` and `<edge source=… target=…>` elements whose `<data key="d5">text</data>`
//! children give attribute values. OSMnx writes every value as a string, Python style:
//!
//! | element | attribute (`attr.name`) | meaning here |
//! |---|---|---|
//! | node | `x`, `y` | longitude, latitude (or easting/northing in the graph `crs`) |
//! | node | `street_count`, `highway`, `ref` | ignored |
//! | edge | `length` | metres (OSMnx: great-circle length along the geometry) |
//! | edge | `highway` | OSM class; a merged edge of a simplified graph may carry a Python list `['primary', 'secondary']`: **the first element is taken** |
//! | edge | `oneway` | `True`/`False` — informative only, see below |
//! | edge | `name`, `access`, `osmid` | as in OSM; lists likewise reduced to the first element (`osmid` keeps all, for `source_id`) |
//! | edge | `geometry` | `LINESTRING (x y, …)` from source to target; absent for a straight edge |
//!
//! **Direction.** OSMnx graphs are directed multigraphs: a two-way street is stored as two
//! edges, `u→v` and `v→u`, each with `oneway=False`; a one-way street as one edge. The edge list
//! therefore already encodes which way one may travel, and every edge of a directed graph is
//! imported as [`Oneway::Forward`] (`oneway=False` on it means "the street is two-way", not
//! "this edge may be used backwards" — the backward edge is its twin). Edges of an undirected
//! graph (`edgedefault="undirected"`, e.g. after `ox.get_undirected`) are [`Oneway::No`].
//!
//! Node ids are the OSM node ids (integers); a non-integer id falls back to the node's `osmid`
//! attribute, else its position in the file. The graph `crs` attribute (default WGS84) is
//! honoured: projected graphs (`ox.project_graph`) are converted back to WGS84. Access is
//! derived from the `access` and `highway` attributes with the OSM rules
//! ([`crate::osm::access_of`]). When `length` is missing the haversine length along the
//! geometry is used. Errors name the file and the line.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use quick_xml::events::Event;
use renxing_geo::crs::{Crs, Transformer};
use renxing_net::road::{Oneway, RoadData, RoadEdge, RoadNode};

use crate::error::{IoError, Result};
use crate::network_csv::{parse_wkt_linestring, polyline_length, shape_between};
use crate::osm::{access_of, line_of_byte, resolve_ref};

/// Options of [`read_graphml_with`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphmlOptions {
    /// Coordinate system of node `x`/`y` and geometries; None = the graph's `crs` attribute,
    /// WGS84 when it has none.
    pub crs: Option<Crs>,
}

/// Read an OSMnx GraphML road graph (coordinates in the graph's declared `crs`).
pub fn read_graphml(path: &Path) -> Result<RoadData> {
    read_graphml_with(path, &GraphmlOptions::default())
}

/// First element of a Python list literal (`['a', 'b']` → `a`), or the value itself.
pub fn first_of_list(v: &str) -> &str {
    let t = v.trim();
    match t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        Some(inner) => {
            let first = inner.split(',').next().unwrap_or("").trim();
            first.trim_matches(|c| c == '\'' || c == '"')
        }
        None => t,
    }
}

/// All elements of a Python list literal of scalars, or the value itself.
fn list_items(v: &str) -> Vec<&str> {
    let t = v.trim();
    match t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        Some(inner) => inner
            .split(',')
            .map(|s| s.trim().trim_matches(|c| c == '\'' || c == '"'))
            .filter(|s| !s.is_empty())
            .collect(),
        None => vec![t],
    }
}

struct Key {
    name: String,
    domain: String,
    default: Option<String>,
}

/// An element whose `<data>` children are being collected.
enum Owner {
    Node {
        id: String,
        byte: u64,
    },
    Edge {
        source: String,
        target: String,
        directed: Option<bool>,
        byte: u64,
    },
}

struct RawNode {
    id: String,
    byte: u64,
    data: HashMap<String, String>,
}

struct RawEdge {
    source: String,
    target: String,
    directed: Option<bool>,
    byte: u64,
    data: HashMap<String, String>,
}

fn attr_of(e: &quick_xml::events::BytesStart<'_>, key: &[u8]) -> std::result::Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("malformed attribute: {err}"))?;
        if a.key.as_ref() == key {
            let v = crate::xml::attribute_value(&a)?;
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// Read an OSMnx GraphML road graph; see the module doc.
pub fn read_graphml_with(path: &Path, opts: &GraphmlOptions) -> Result<RoadData> {
    let file = File::open(path).map_err(|e| IoError::os(path, e))?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(file));
    let at_line = |byte: u64| match line_of_byte(path, byte) {
        Some(l) => format!("line {l}"),
        None => format!("byte {byte}"),
    };
    let mut buf = Vec::new();
    let mut keys: HashMap<String, Key> = HashMap::new();
    let mut graph_data: HashMap<String, String> = HashMap::new();
    let mut edgedefault_directed = true;
    let mut nodes: Vec<RawNode> = Vec::new();
    let mut edges: Vec<RawEdge> = Vec::new();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut owner: Option<(Owner, HashMap<String, String>)> = None;
    let mut in_graph = false;
    let mut data_key: Option<String> = None;
    let mut key_default: Option<(String, String)> = None; // (key id, text) while in <key><default>
    let mut current_key: Option<String> = None;
    let mut text = String::new();
    let mut in_text = false;
    let mut graphs = 0usize;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| IoError::at(path, at_line(reader.error_position()), format!("malformed XML: {e}")))?;
        let pos = reader.buffer_position();
        let err = |m: String| IoError::at(path, at_line(pos), m);
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = e.local_name().as_ref().to_vec();
                if stack.is_empty() && name != b"graphml" {
                    return Err(err(format!(
                        "root element is <{}>, not <graphml>: not a GraphML file",
                        String::from_utf8_lossy(&name)
                    )));
                }
                match name.as_slice() {
                    b"key" => {
                        let id = attr_of(e, b"id")
                            .map_err(&err)?
                            .ok_or_else(|| err("<key> without id".into()))?;
                        let an = attr_of(e, b"attr.name").map_err(&err)?.unwrap_or_else(|| id.clone());
                        let domain = attr_of(e, b"for").map_err(&err)?.unwrap_or_else(|| "all".into());
                        keys.insert(
                            id.clone(),
                            Key {
                                name: an,
                                domain,
                                default: None,
                            },
                        );
                        if !empty {
                            current_key = Some(id);
                        }
                    }
                    b"default" => {
                        if let Some(k) = &current_key {
                            key_default = Some((k.clone(), String::new()));
                            text.clear();
                            in_text = !empty;
                        }
                    }
                    b"graph" => {
                        graphs += 1;
                        if graphs > 1 {
                            return Err(err("more than one (or a nested) <graph>: not supported".into()));
                        }
                        if let Some(d) = attr_of(e, b"edgedefault").map_err(&err)? {
                            edgedefault_directed = d != "undirected";
                        }
                        in_graph = !empty;
                    }
                    b"node" => {
                        let id = attr_of(e, b"id")
                            .map_err(&err)?
                            .ok_or_else(|| err("<node> without id".into()))?;
                        owner = Some((Owner::Node { id, byte: pos }, HashMap::new()));
                    }
                    b"edge" => {
                        let source = attr_of(e, b"source")
                            .map_err(&err)?
                            .ok_or_else(|| err("<edge> without source".into()))?;
                        let target = attr_of(e, b"target")
                            .map_err(&err)?
                            .ok_or_else(|| err("<edge> without target".into()))?;
                        let directed = attr_of(e, b"directed").map_err(&err)?.map(|d| d == "true");
                        owner = Some((
                            Owner::Edge {
                                source,
                                target,
                                directed,
                                byte: pos,
                            },
                            HashMap::new(),
                        ));
                    }
                    b"data" => {
                        let k = attr_of(e, b"key")
                            .map_err(&err)?
                            .ok_or_else(|| err("<data> without key".into()))?;
                        data_key = Some(k);
                        text.clear();
                        in_text = !empty;
                        if empty {
                            store_data(&mut owner, in_graph, &mut graph_data, data_key.take(), String::new());
                        }
                    }
                    _ => {}
                }
                if empty {
                    finish_owner(&name, &mut owner, &mut nodes, &mut edges);
                } else {
                    stack.push(name);
                }
            }
            Event::Text(ref t) if in_text => {
                text.push_str(&t.xml10_content().map_err(|e| err(format!("bad text: {e}")))?);
            }
            Event::CData(ref t) if in_text => {
                text.push_str(&String::from_utf8_lossy(t.as_ref()));
            }
            Event::GeneralRef(ref r) if in_text => {
                text.push_str(&resolve_ref(r).map_err(&err)?);
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                match name.as_slice() {
                    b"data" => {
                        in_text = false;
                        store_data(
                            &mut owner,
                            in_graph,
                            &mut graph_data,
                            data_key.take(),
                            std::mem::take(&mut text),
                        );
                    }
                    b"default" => {
                        in_text = false;
                        if let Some(key) = key_default.take().and_then(|(k, _)| keys.get_mut(&k)) {
                            key.default = Some(std::mem::take(&mut text));
                        }
                    }
                    b"key" => current_key = None,
                    b"graph" => in_graph = false,
                    _ => {}
                }
                finish_owner(&name, &mut owner, &mut nodes, &mut edges);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if let Some(open) = stack.last() {
        return Err(IoError::at(
            path,
            at_line(reader.buffer_position()),
            format!("file ends inside <{}> (truncated?)", String::from_utf8_lossy(open)),
        ));
    }
    if graphs == 0 {
        return Err(IoError::new(path, "no <graph> element: not a GraphML graph"));
    }

    // Attribute values by name, with key defaults.
    let named = |data: &HashMap<String, String>, domain: &str| -> HashMap<String, String> {
        let mut out: HashMap<String, String> = HashMap::new();
        for k in keys.values().filter(|k| k.domain == domain || k.domain == "all") {
            if let Some(d) = &k.default {
                out.insert(k.name.clone(), d.clone());
            }
        }
        for (id, v) in data {
            let name = keys.get(id).map(|k| k.name.clone()).unwrap_or_else(|| id.clone());
            out.insert(name, v.clone());
        }
        out
    };

    let gd = named(&graph_data, "graph");
    let crs = match (opts.crs, gd.get("crs")) {
        (Some(c), _) => c,
        (None, Some(c)) => c
            .parse::<Crs>()
            .map_err(|e| IoError::new(path, format!("graph attribute crs: {e}")))?,
        (None, None) => Crs::Wgs84,
    };
    let tf = Transformer::to_wgs84(crs).map_err(|e| IoError::new(path, format!("coordinate system {crs}: {e}")))?;

    let mut data = RoadData {
        source: path.display().to_string(),
        ..Default::default()
    };
    let mut index: HashMap<String, usize> = HashMap::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        let a = named(&n.data, "node");
        let pos = || at_line(n.byte);
        let num = |names: &[&str]| -> Result<f64> {
            let (k, v) = names
                .iter()
                .find_map(|k| a.get(*k).map(|v| (*k, v)))
                .ok_or_else(|| IoError::at(path, pos(), format!("node {} has no '{}' attribute", n.id, names[0])))?;
            v.trim()
                .parse::<f64>()
                .map_err(|_| IoError::at(path, pos(), format!("node {}: '{k}' value '{v}' is not a number", n.id)))
        };
        let (x, y) = (num(&["x", "lon"])?, num(&["y", "lat"])?);
        let (lon, lat) = tf
            .apply(x, y)
            .map_err(|e| IoError::at(path, pos(), format!("node {}: {e}", n.id)))?;
        let id =
            n.id.trim()
                .parse::<i64>()
                .ok()
                .or_else(|| a.get("osmid").and_then(|v| v.trim().parse::<i64>().ok()))
                .unwrap_or(i as i64);
        if index.insert(n.id.clone(), data.nodes.len()).is_some() {
            return Err(IoError::at(path, pos(), format!("duplicate node id '{}'", n.id)));
        }
        data.nodes.push(RoadNode { id, lon, lat });
    }

    for (i, e) in edges.iter().enumerate() {
        let a = named(&e.data, "edge");
        let pos = || at_line(e.byte);
        let end = |id: &str| {
            index.get(id).copied().ok_or_else(|| {
                IoError::at(
                    path,
                    pos(),
                    format!("edge refers to node '{id}', which is not in the graph"),
                )
            })
        };
        let (u, v) = (end(&e.source)?, end(&e.target)?);
        let pu = (data.nodes[u].lon, data.nodes[u].lat);
        let pv = (data.nodes[v].lon, data.nodes[v].lat);
        let shape = match a.get("geometry").map(|g| g.trim()).filter(|g| !g.is_empty()) {
            Some(wkt) => {
                let pts = parse_wkt_linestring(wkt).map_err(|m| IoError::at(path, pos(), format!("geometry: {m}")))?;
                let pts = pts
                    .into_iter()
                    .map(|(x, y)| tf.apply(x, y))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|err| IoError::at(path, pos(), format!("geometry: {err}")))?;
                shape_between(pts, pu, pv)
            }
            None => Vec::new(),
        };
        let length_m = match a.get("length").map(|l| l.trim()).filter(|l| !l.is_empty()) {
            Some(l) => {
                let l: f64 = l
                    .parse()
                    .map_err(|_| IoError::at(path, pos(), format!("edge length '{l}' is not a number")))?;
                if !l.is_finite() || l < 0.0 {
                    return Err(IoError::at(
                        path,
                        pos(),
                        format!("edge length {l} is not a non-negative number"),
                    ));
                }
                l
            }
            None => polyline_length(pu, &shape, pv),
        };
        let first = |k: &str| a.get(k).map(|v| first_of_list(v).to_string()).unwrap_or_default();
        let highway = first("highway");
        let mut tags: Vec<(String, String)> = vec![("highway".into(), highway.clone())];
        for k in ["access", "foot", "motor_vehicle", "motorcar", "vehicle"] {
            if a.contains_key(k) {
                tags.push((k.to_string(), first(k)));
            }
        }
        let (access_walk, access_drive) = access_of(&tags);
        let directed = e.directed.unwrap_or(edgedefault_directed);
        let source_id = match a.get("osmid") {
            Some(ids) => format!("way/{}", list_items(ids).join(",")),
            None => format!("edge {i}"),
        };
        data.edges.push(RoadEdge {
            u,
            v,
            length_m,
            highway,
            oneway: if directed { Oneway::Forward } else { Oneway::No },
            access_walk,
            access_drive,
            name: first("name"),
            source_id,
            shape,
        });
    }
    Ok(data)
}

/// A `<data>` value belongs to the open node/edge, else to the graph.
fn store_data(
    owner: &mut Option<(Owner, HashMap<String, String>)>,
    in_graph: bool,
    graph_data: &mut HashMap<String, String>,
    key: Option<String>,
    value: String,
) {
    let Some(key) = key else { return };
    match owner {
        Some((_, map)) => {
            map.insert(key, value);
        }
        None if in_graph => {
            graph_data.insert(key, value);
        }
        None => {}
    }
}

/// Store the node or edge that just closed.
fn finish_owner(
    name: &[u8],
    owner: &mut Option<(Owner, HashMap<String, String>)>,
    nodes: &mut Vec<RawNode>,
    edges: &mut Vec<RawEdge>,
) {
    let closes = matches!(
        (name, owner.as_ref()),
        (b"node", Some((Owner::Node { .. }, _))) | (b"edge", Some((Owner::Edge { .. }, _)))
    );
    if !closes {
        return;
    }
    match owner.take() {
        Some((Owner::Node { id, byte }, data)) => nodes.push(RawNode { id, byte, data }),
        Some((
            Owner::Edge {
                source,
                target,
                directed,
                byte,
            },
            data,
        )) => edges.push(RawEdge {
            source,
            target,
            directed,
            byte,
            data,
        }),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_data;
    use renxing_geo::distance::haversine_m;

    #[test]
    fn shenzhen_futian_osmnx() {
        let Some(p) = shared_data::file("cn/shenzhen/transbigdata_test_G_futian.graphml") else {
            return;
        };
        let d = read_graphml(&p).unwrap();
        // Data README: 1,751 nodes / 4,009 edges. Independent figures from networkx 3.x
        // (`nx.read_graphml`, plain Python): total `length` 337,342.582 m; 2,065 edges with a
        // geometry holding 10,196 inner points (haversine along them: 337,342.648 m);
        // 50 edges with a list-valued highway; first-of-list classes: 890 residential,
        // 726 footway, 720 service…; 91 edges access=no|private; 1,155 closed to driving
        // (those + footway/path/pedestrian/steps/cycleway); 1,714 named; 4 self-loops.
        assert_eq!((d.nodes.len(), d.edges.len()), (1_751, 4_009));
        let total: f64 = d.edges.iter().map(|e| e.length_m).sum();
        assert!((total - 337_342.582).abs() < 1e-3, "{total}");
        assert_eq!(d.edges.iter().map(|e| e.shape.len()).sum::<usize>(), 10_196);
        let along: f64 = d
            .edges
            .iter()
            .map(|e| {
                e.polyline(&d.nodes)
                    .windows(2)
                    .map(|w| haversine_m(w[0].0, w[0].1, w[1].0, w[1].1))
                    .sum::<f64>()
            })
            .sum();
        assert!((along - 337_342.648).abs() < 0.01, "{along}");
        let hw = |h: &str| d.edges.iter().filter(|e| e.highway == h).count();
        assert_eq!(
            (hw("residential"), hw("footway"), hw("service"), hw("")),
            (890, 726, 720, 0)
        );
        assert!(d.edges.iter().all(|e| !e.highway.contains('[')));
        assert!(d.edges.iter().all(|e| e.oneway == Oneway::Forward));
        assert_eq!(d.edges.iter().filter(|e| !e.access_walk).count(), 91);
        assert_eq!(d.edges.iter().filter(|e| !e.access_drive).count(), 1_155);
        assert_eq!(d.edges.iter().filter(|e| !e.name.is_empty()).count(), 1_714);
        assert_eq!(d.edges.iter().filter(|e| e.u == e.v).count(), 4);
        // First node and edge of the file.
        assert_eq!(
            (d.nodes[0].id, d.nodes[0].lon, d.nodes[0].lat),
            (278_659_481, 114.0397861, 22.5444302)
        );
        let e = &d.edges[1];
        assert_eq!((d.nodes[e.u].id, d.nodes[e.v].id), (278_659_481, 7_975_286_429));
        assert_eq!(
            (e.name.as_str(), e.highway.as_str(), e.source_id.as_str()),
            ("新闻路", "tertiary", "way/855206669")
        );
        assert_eq!(e.shape, vec![(114.0392495, 22.5444216)]);
    }

    #[test]
    fn small_graphs_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let w = |name: &str, s: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, s).unwrap();
            p
        };
        let ok = w(
            "g.graphml",
            r#"<?xml version="1.0"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="x" for="node" attr.name="x"/><key id="y" for="node" attr.name="y"/>
<key id="h" for="edge" attr.name="highway"><default>residential</default></key>
<key id="n" for="edge" attr.name="name"/><key id="a" for="edge" attr.name="access"/>
<graph edgedefault="undirected">
<node id="a"><data key="x">116.0</data><data key="y">40.0</data></node>
<node id="b"><data key="x">116.001</data><data key="y">40.0</data></node>
<edge source="a" target="b"><data key="n">A &amp; B&#x8DEF;</data><data key="h">['footway', 'path']</data><data key="a">['private', 'yes']</data></edge>
<edge source="b" target="a"/>
</graph></graphml>"#,
        );
        let d = read_graphml(&ok).unwrap();
        assert_eq!(d.nodes.iter().map(|n| n.id).collect::<Vec<_>>(), vec![0, 1]);
        let e = &d.edges[0];
        assert_eq!(
            (e.name.as_str(), e.highway.as_str(), e.oneway),
            ("A & B路", "footway", Oneway::No)
        );
        assert_eq!((e.access_walk, e.access_drive), (false, false));
        let expect = haversine_m(116.0, 40.0, 116.001, 40.0);
        assert!((e.length_m - expect).abs() < 1e-9);
        assert_eq!(
            (d.edges[1].highway.as_str(), d.edges[1].access_drive),
            ("residential", true)
        );

        let bad = w(
            "bad.graphml",
            "<graphml>\n<graph>\n<node id=\"1\">\n</edge>\n</graph></graphml>",
        );
        let e = read_graphml(&bad).unwrap_err();
        assert_eq!(e.position.as_deref(), Some("line 4"), "{e}");

        let dangling = w(
            "d.graphml",
            "<graphml><key id=\"x\" for=\"node\" attr.name=\"x\"/><key id=\"y\" for=\"node\" attr.name=\"y\"/>\n<graph>\n<node id=\"1\"><data key=\"x\">1</data><data key=\"y\">2</data></node>\n<edge source=\"1\" target=\"2\"/>\n</graph></graphml>",
        );
        let e = read_graphml(&dangling).unwrap_err();
        assert_eq!(e.position.as_deref(), Some("line 4"), "{e}");
        assert!(e.message.contains("node '2'"), "{e}");

        let nox = w("nox.graphml", "<graphml><graph>\n<node id=\"1\"/>\n</graph></graphml>");
        let e = read_graphml(&nox).unwrap_err();
        assert!(
            e.message.contains("no 'x' attribute") && e.position.as_deref() == Some("line 2"),
            "{e}"
        );

        let other = w("o.xml", "<osm></osm>");
        assert!(read_graphml(&other).unwrap_err().message.contains("not a GraphML file"));
    }

    #[test]
    fn python_lists() {
        assert_eq!(first_of_list("['primary', 'secondary']"), "primary");
        assert_eq!(first_of_list("tertiary"), "tertiary");
        assert_eq!(list_items("[1, 2]"), vec!["1", "2"]);
    }
}
