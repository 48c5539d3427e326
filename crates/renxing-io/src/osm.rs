//! OpenStreetMap extracts (PBF and XML): roads, facilities and buildings.
//!
//! # The two file formats
//!
//! **OSM XML** (`.osm`, also gzip-compressed `.osm.gz`) is the text form served by the OSM API,
//! Overpass and JOSM: a root `<osm>` element holding
//!
//! - `<node id=… lat=… lon=…>` — a point in WGS84 degrees, optionally with `<tag k=… v=…/>`
//!   children;
//! - `<way id=…>` — an ordered list of `<nd ref=…/>` node references plus tags; a way whose first
//!   and last reference are the same node is *closed* (a ring: a roundabout, a building outline);
//! - `<relation id=…>` — `<member type=node|way|relation ref=… role=…/>` plus tags. Two types
//!   are kept: `type=multipolygon`, with their way members and roles (`outer`, `inner`; an empty
//!   role counts as `outer`), and `type=restriction` (turn restrictions: `from` and `to` ways, a
//!   `via` node or via ways), with their node members too.
//!
//! Elements marked `action="delete"` (JOSM) or `visible="false"` (history exports) are skipped.
//! `<bounds>`, `<note>`, `<meta>` and `<changeset>` are ignored.
//!
//! **OSM PBF** (`.osm.pbf`) is the binary form: a sequence of *blobs*, each a 4-byte big-endian
//! header length, a protobuf `BlobHeader` (type `OSMHeader` or `OSMData`, data size) and a
//! zlib-compressed (or raw) protobuf block. Data blocks hold string tables and groups of plain
//! nodes, *dense nodes* (delta-coded ids and coordinates, the usual encoding), ways
//! (delta-coded references) and relations. Blobs are decoded in parallel (rayon). Files whose
//! header requires a feature other than `OsmSchema-V0.6` / `DenseNodes` (for instance history
//! files) are refused. Compressions other than zlib (lzma, zstd) are reported as errors.
//!
//! [`read_osm`] tells them apart by content (gzip magic, a leading `<`, or an `OSMHeader` blob
//! header), falling back on the extension. Errors name the file and, for XML, the line; for
//! PBF, the blob index and its byte offset — a truncated download is reported as such.
//!
//! # What is built from it
//!
//! - [`roads`] / [`roads_with_report`]: a [`RoadData`] of junction nodes and edges — see the
//!   function docs for which `highway` values are roads, the one-way and access rules;
//! - [`facilities`]: schools, parks, hospitals, shelters… as points or polygons with geodesic
//!   area — see [`facility_kind`] for the tag rules;
//! - [`buildings`]: building footprints with area and levels.
//!
//! Lengths are haversine metres ([`renxing_geo::distance::haversine_m`]); areas are geodesic on
//! the WGS84 ellipsoid (Karney's algorithm, via `geo::GeodesicArea`).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, SeekFrom};
use std::path::Path;
use std::str::FromStr;

use geo::{Centroid, Contains, GeodesicArea, Orient, orient::Direction};
use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon};
use rayon::prelude::*;
use renxing_geo::distance::haversine_m;
use renxing_net::road::{Oneway, RoadData, RoadEdge, RoadNode, TurnRestriction, TurnVia};

use crate::error::{IoError, Result};

/// Tags of an element as (key, value) pairs, in file order.
pub type Tags = Vec<(String, String)>;

/// The value of tag `key`, if present.
pub fn tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A node that carries tags (untagged nodes only live in [`OsmData::nodes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OsmNode {
    pub id: i64,
    pub lon: f64,
    pub lat: f64,
    pub tags: Tags,
}

/// A way: ordered node references and tags.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmWay {
    pub id: i64,
    pub refs: Vec<i64>,
    pub tags: Tags,
}

impl OsmWay {
    /// First and last reference are the same node (and there are at least 4 references).
    pub fn is_closed(&self) -> bool {
        self.refs.len() >= 4 && self.refs.first() == self.refs.last()
    }
}

/// A way member of a multipolygon relation.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmMember {
    pub way_id: i64,
    /// `outer`, `inner`, or whatever the file says (empty is read as `outer`).
    pub role: String,
}

/// A `type=multipolygon` or `type=restriction` relation with its way and node members.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmRelation {
    pub id: i64,
    pub tags: Tags,
    pub members: Vec<OsmMember>,
    /// Node members as (node id, role), in file order.
    pub node_members: Vec<(i64, String)>,
}

/// The content of an OSM file, as far as Renxing uses it.
#[derive(Debug, Clone, Default)]
pub struct OsmData {
    /// The file it was read from.
    pub source: String,
    /// Coordinates (lon, lat) of every node, tagged or not.
    pub nodes: HashMap<i64, (f64, f64)>,
    /// Nodes with at least one tag, sorted by id.
    pub tagged_nodes: Vec<OsmNode>,
    /// All ways, sorted by id.
    pub ways: Vec<OsmWay>,
    /// Multipolygon relations, sorted by id.
    pub relations: Vec<OsmRelation>,
    /// Turn restriction relations (`type=restriction`), sorted by id.
    pub restrictions: Vec<OsmRelation>,
    /// Relations of every type seen in the file (only multipolygons and restrictions are kept).
    pub relations_seen: usize,
}

impl OsmData {
    fn coord(&self, id: i64) -> Option<(f64, f64)> {
        self.nodes.get(&id).copied()
    }
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Read an OSM XML (`.osm`, `.osm.gz`) or PBF (`.osm.pbf`) file.
pub fn read_osm(path: &Path) -> Result<OsmData> {
    let mut head = [0u8; 64];
    let n = {
        let mut f = File::open(path).map_err(|e| IoError::os(path, e))?;
        read_up_to(&mut f, &mut head).map_err(|e| IoError::os(path, e))?
    };
    let head = &head[..n];
    if n == 0 {
        return Err(IoError::new(path, "empty file: neither OSM XML nor OSM PBF"));
    }
    let mut data = match sniff(head) {
        Sniffed::Gzip => {
            let f = File::open(path).map_err(|e| IoError::os(path, e))?;
            read_xml_from(path, BufReader::new(flate2::read::MultiGzDecoder::new(f)), true)?
        }
        Sniffed::Xml => {
            let f = File::open(path).map_err(|e| IoError::os(path, e))?;
            read_xml_from(path, BufReader::new(f), false)?
        }
        Sniffed::Pbf => read_pbf(path)?,
        Sniffed::Unknown => {
            let name = path.to_string_lossy().to_ascii_lowercase();
            if name.ends_with(".pbf") {
                read_pbf(path)?
            } else if name.ends_with(".osm") || name.ends_with(".xml") {
                let f = File::open(path).map_err(|e| IoError::os(path, e))?;
                read_xml_from(path, BufReader::new(f), false)?
            } else {
                return Err(IoError::at(
                    path,
                    "byte 0",
                    "neither OSM XML (starts with '<') nor OSM PBF (starts with an OSMHeader blob) nor gzip",
                ));
            }
        }
    };
    data.source = path.display().to_string();
    data.tagged_nodes.sort_by_key(|n| n.id);
    data.ways.sort_by_key(|w| w.id);
    data.relations.sort_by_key(|r| r.id);
    data.restrictions.sort_by_key(|r| r.id);
    Ok(data)
}

enum Sniffed {
    Gzip,
    Xml,
    Pbf,
    Unknown,
}

fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Sniffed::Gzip;
    }
    let body = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    if body.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'<') {
        return Sniffed::Xml;
    }
    // PBF: u32 header length, then the BlobHeader protobuf whose field 1 (tag 0x0A) is the
    // type string "OSMHeader" (length 9).
    if head.len() >= 15 && head[4] == 0x0A && head[5] == 9 && &head[6..15] == b"OSMHeader" {
        return Sniffed::Pbf;
    }
    Sniffed::Unknown
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

// ----------------------------------- PBF ------------------------------------------------------

/// What one blob contributes.
#[derive(Default)]
struct Part {
    nodes: Vec<(i64, f64, f64)>,
    tagged: Vec<OsmNode>,
    ways: Vec<OsmWay>,
    relations: Vec<OsmRelation>,
    restrictions: Vec<OsmRelation>,
    relations_seen: usize,
}

const PBF_BATCH: usize = 64;

fn read_pbf(path: &Path) -> Result<OsmData> {
    use osmpbf::BlobReader;
    let file = File::open(path).map_err(|e| IoError::os(path, e))?;
    let file_len = file.metadata().map_err(|e| IoError::os(path, e))?.len();
    let mut reader = BlobReader::new_seekable(BufReader::new(file))
        .map_err(|e| IoError::new(path, format!("cannot open PBF: {e}")))?;
    let mut data = OsmData::default();
    let mut batch: Vec<(usize, u64, osmpbf::Blob)> = Vec::with_capacity(PBF_BATCH);
    let mut index = 0usize;
    loop {
        let pos = reader
            .seek_raw(SeekFrom::Current(0))
            .map_err(|e| IoError::at(path, format!("blob {index}"), format!("cannot seek: {e}")))?;
        match reader.next() {
            None => {
                if pos < file_len {
                    return Err(IoError::at(
                        path,
                        format!("blob {index} at byte {pos}"),
                        format!(
                            "file ends after {} stray bytes that are not a complete blob (file truncated?)",
                            file_len - pos
                        ),
                    ));
                }
                break;
            }
            Some(Err(e)) => {
                let hint = if pos < file_len {
                    " (file truncated or corrupt?)"
                } else {
                    ""
                };
                return Err(IoError::at(
                    path,
                    format!("blob {index} at byte {pos} of {file_len}"),
                    format!("cannot read blob: {e}{hint}"),
                ));
            }
            Some(Ok(blob)) => {
                batch.push((index, pos, blob));
                index += 1;
                if batch.len() >= PBF_BATCH {
                    decode_batch(path, &mut batch, &mut data)?;
                }
            }
        }
    }
    decode_batch(path, &mut batch, &mut data)?;
    if index == 0 {
        return Err(IoError::new(path, "no blob in PBF file"));
    }
    Ok(data)
}

fn decode_batch(path: &Path, batch: &mut Vec<(usize, u64, osmpbf::Blob)>, data: &mut OsmData) -> Result<()> {
    let parts: Vec<Result<Part>> = batch
        .par_iter()
        .map(|(i, pos, blob)| {
            // osmpbf may panic on some corrupt inputs (unknown enum values); turn that into an
            // error naming the blob rather than aborting.
            catch_quietly(|| decode_blob(blob))
                .unwrap_or_else(|msg| Err(format!("corrupt data (decoder failed: {msg})")))
                .map_err(|m| IoError::at(path, format!("blob {i} at byte {pos}"), m))
        })
        .collect();
    batch.clear();
    for part in parts {
        let part = part?;
        data.nodes
            .extend(part.nodes.into_iter().map(|(id, lon, lat)| (id, (lon, lat))));
        data.tagged_nodes.extend(part.tagged);
        data.ways.extend(part.ways);
        data.relations.extend(part.relations);
        data.restrictions.extend(part.restrictions);
        data.relations_seen += part.relations_seen;
    }
    Ok(())
}

thread_local! {
    /// Set while [`catch_quietly`] runs on this thread: the panic hook then stays silent.
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f`, turning a panic inside it into `Err(message)` without the panic hook printing to
/// stderr (corrupt input is reported as one error line, not a panic trace). The hook installed
/// once here defers to the previous hook for every other panic.
fn catch_quietly<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET_PANICS.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    QUIET_PANICS.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET_PANICS.with(|q| q.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_string())
    })
}

fn owned_tags<'a>(it: impl Iterator<Item = (&'a str, &'a str)>) -> Tags {
    it.map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn check_lon_lat(id: i64, lon: f64, lat: f64) -> std::result::Result<(), String> {
    if lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
        Ok(())
    } else {
        Err(format!("node {id} has coordinates out of range: lon {lon}, lat {lat}"))
    }
}

/// Nanodegrees to degrees. Dividing the exact integer by 1e9 gives the correctly rounded
/// value, i.e. the same `f64` as parsing the decimal text of an XML file.
fn deg(nano: i64) -> f64 {
    nano as f64 / 1e9
}

fn decode_blob(blob: &osmpbf::Blob) -> std::result::Result<Part, String> {
    use osmpbf::{BlobDecode, RelMemberType};
    let mut part = Part::default();
    match blob.decode().map_err(|e| format!("cannot decode blob: {e}"))? {
        BlobDecode::OsmHeader(h) => {
            for f in h.required_features() {
                if f != "OsmSchema-V0.6" && f != "DenseNodes" {
                    return Err(format!(
                        "PBF requires feature '{f}', which this reader does not support"
                    ));
                }
            }
        }
        BlobDecode::OsmData(block) => {
            for group in block.groups() {
                let mut add_node = |id: i64, lon: f64, lat: f64, tags: Tags| -> std::result::Result<(), String> {
                    check_lon_lat(id, lon, lat)?;
                    part.nodes.push((id, lon, lat));
                    if !tags.is_empty() {
                        part.tagged.push(OsmNode { id, lon, lat, tags });
                    }
                    Ok(())
                };
                for n in group.nodes() {
                    add_node(n.id(), deg(n.nano_lon()), deg(n.nano_lat()), owned_tags(n.tags()))?;
                }
                for n in group.dense_nodes() {
                    add_node(n.id(), deg(n.nano_lon()), deg(n.nano_lat()), owned_tags(n.tags()))?;
                }
                for w in group.ways() {
                    part.ways.push(OsmWay {
                        id: w.id(),
                        refs: w.refs().collect(),
                        tags: owned_tags(w.tags()),
                    });
                }
                for r in group.relations() {
                    part.relations_seen += 1;
                    let tags = owned_tags(r.tags());
                    let restriction = match tag(&tags, "type") {
                        Some("multipolygon") => false,
                        Some("restriction") => true,
                        _ => continue,
                    };
                    let mut members = Vec::new();
                    let mut node_members = Vec::new();
                    for m in r.members() {
                        let role = || {
                            m.role()
                                .map(str::to_string)
                                .map_err(|e| format!("relation {}: bad member role: {e}", r.id()))
                        };
                        match m.member_type {
                            RelMemberType::Way => members.push(OsmMember {
                                way_id: m.member_id,
                                role: role()?,
                            }),
                            RelMemberType::Node if restriction => node_members.push((m.member_id, role()?)),
                            _ => {}
                        }
                    }
                    let rel = OsmRelation {
                        id: r.id(),
                        tags,
                        members,
                        node_members,
                    };
                    if restriction {
                        part.restrictions.push(rel);
                    } else {
                        part.relations.push(rel);
                    }
                }
            }
        }
        BlobDecode::Unknown(_) => {}
    }
    Ok(part)
}

// ----------------------------------- XML ------------------------------------------------------

/// 1-based line number of byte `pos` of a (plain) file, for error messages.
pub(crate) fn line_of_byte(path: &Path, pos: u64) -> Option<usize> {
    let f = File::open(path).ok()?;
    let mut r = BufReader::new(f).take(pos);
    let mut line = 1usize;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).ok()?;
        if n == 0 {
            break;
        }
        if buf.last() == Some(&b'\n') {
            line += 1;
        }
    }
    Some(line)
}

/// Position text for an XML error at byte `pos`: `line N` (plain files) or `byte N`
/// (decompressed streams, where lines of the compressed file mean nothing).
pub(crate) fn xml_position(path: &Path, pos: u64, compressed: bool) -> String {
    if let Some(l) = (!compressed).then(|| line_of_byte(path, pos)).flatten() {
        return format!("line {l}");
    }
    format!("byte {pos} (uncompressed)")
}

/// Resolve a general reference event (`&amp;`, `&#x4E2D;`…) to text.
pub(crate) fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> std::result::Result<String, String> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Ok(c.to_string()),
        Ok(None) => {
            let name = r.decode().map_err(|e| e.to_string())?;
            quick_xml::escape::resolve_xml_entity(&name)
                .map(str::to_string)
                .ok_or_else(|| format!("unknown entity &{name};"))
        }
        Err(e) => Err(e.to_string()),
    }
}

enum Current {
    None,
    /// An element being read, with the depth at which it opened.
    Node(OsmNode, usize),
    Way(OsmWay, usize),
    Relation(OsmRelation, usize),
    /// A skipped element (deleted / invisible) and its depth.
    Skip(usize),
}

fn read_xml_from<R: BufRead>(path: &Path, input: R, compressed: bool) -> Result<OsmData> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut data = OsmData::default();
    // Names of the open elements; its length is the depth of the next element.
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut seen_root = false;
    let mut cur = Current::None;
    let err_at = |reader: &quick_xml::Reader<R>, msg: String| {
        IoError::at(path, xml_position(path, reader.buffer_position(), compressed), msg)
    };
    loop {
        let ev = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => {
                return Err(IoError::at(
                    path,
                    xml_position(path, reader.error_position(), compressed),
                    format!("malformed XML: {e}"),
                ));
            }
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let depth = stack.len();
                let name = e.name().as_ref().to_vec();
                if depth == 0 {
                    if seen_root {
                        return Err(err_at(&reader, "a second root element after </osm>".to_string()));
                    }
                    if name != b"osm" {
                        return Err(err_at(
                            &reader,
                            format!(
                                "root element is <{}>, not <osm>: not an OSM XML file",
                                String::from_utf8_lossy(&name)
                            ),
                        ));
                    }
                    seen_root = true;
                } else {
                    let attrs = read_attrs(e).map_err(|m| err_at(&reader, m))?;
                    handle_start(&name, &attrs, depth, &mut cur, &mut data).map_err(|m| err_at(&reader, m))?;
                }
                if matches!(ev, Event::Empty(_)) {
                    finish(&mut cur, depth, &mut data);
                } else {
                    stack.push(name);
                }
            }
            Event::End(_) => {
                stack.pop();
                finish(&mut cur, stack.len(), &mut data);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err(IoError::new(path, "no <osm> root element: not an OSM XML file"));
    }
    if let Some(open) = stack.last() {
        return Err(err_at(
            &reader,
            format!("file ends inside <{}> (truncated?)", String::from_utf8_lossy(open)),
        ));
    }
    Ok(data)
}

fn read_attrs(e: &quick_xml::events::BytesStart<'_>) -> std::result::Result<Vec<(Vec<u8>, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("malformed attribute: {err}"))?;
        let v = crate::xml::attribute_value(&a)?;
        out.push((a.key.as_ref().to_vec(), v));
    }
    Ok(out)
}

fn attr<'a>(attrs: &'a [(Vec<u8>, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key.as_bytes()).map(|(_, v)| v.as_str())
}

fn req_attr<T: FromStr>(attrs: &[(Vec<u8>, String)], elem: &str, key: &str) -> std::result::Result<T, String> {
    let v = attr(attrs, key).ok_or_else(|| format!("<{elem}> without '{key}' attribute"))?;
    v.trim()
        .parse::<T>()
        .map_err(|_| format!("<{elem}> has a bad '{key}' value '{v}'"))
}

/// An element opens at `depth` (1 for children of `<osm>`).
fn handle_start(
    name: &[u8],
    attrs: &[(Vec<u8>, String)],
    depth: usize,
    cur: &mut Current,
    data: &mut OsmData,
) -> std::result::Result<(), String> {
    if let Current::Skip(_) = cur {
        return Ok(());
    }
    let skipped = attr(attrs, "action") == Some("delete") || attr(attrs, "visible") == Some("false");
    match (name, &mut *cur) {
        (b"node", Current::None) => {
            let id: i64 = req_attr(attrs, "node", "id")?;
            if skipped {
                *cur = Current::Skip(depth);
                return Ok(());
            }
            let lat: f64 = req_attr(attrs, "node", "lat").map_err(|m| format!("node {id}: {m}"))?;
            let lon: f64 = req_attr(attrs, "node", "lon").map_err(|m| format!("node {id}: {m}"))?;
            check_lon_lat(id, lon, lat)?;
            data.nodes.insert(id, (lon, lat));
            *cur = Current::Node(
                OsmNode {
                    id,
                    lon,
                    lat,
                    tags: Vec::new(),
                },
                depth,
            );
        }
        (b"way", Current::None) => {
            let id: i64 = req_attr(attrs, "way", "id")?;
            *cur = if skipped {
                Current::Skip(depth)
            } else {
                Current::Way(
                    OsmWay {
                        id,
                        refs: Vec::new(),
                        tags: Vec::new(),
                    },
                    depth,
                )
            };
        }
        (b"relation", Current::None) => {
            let id: i64 = req_attr(attrs, "relation", "id")?;
            data.relations_seen += 1;
            *cur = if skipped {
                Current::Skip(depth)
            } else {
                Current::Relation(
                    OsmRelation {
                        id,
                        tags: Vec::new(),
                        members: Vec::new(),
                        node_members: Vec::new(),
                    },
                    depth,
                )
            };
        }
        (b"tag", Current::Node(..) | Current::Way(..) | Current::Relation(..)) => {
            let k = attr(attrs, "k").ok_or("<tag> without 'k' attribute")?;
            let v = attr(attrs, "v").ok_or("<tag> without 'v' attribute")?;
            let t = (k.to_string(), v.to_string());
            match cur {
                Current::Node(n, _) => n.tags.push(t),
                Current::Way(w, _) => w.tags.push(t),
                Current::Relation(r, _) => r.tags.push(t),
                _ => {}
            }
        }
        (b"nd", Current::Way(w, _)) => {
            let r: i64 = req_attr(attrs, "nd", "ref").map_err(|m| format!("way {}: {m}", w.id))?;
            w.refs.push(r);
        }
        (b"member", Current::Relation(rel, _)) => {
            let ty = attr(attrs, "type").ok_or_else(|| format!("relation {}: <member> without 'type'", rel.id))?;
            let r: i64 = req_attr(attrs, "member", "ref").map_err(|m| format!("relation {}: {m}", rel.id))?;
            let role = attr(attrs, "role").unwrap_or("").to_string();
            match ty {
                "way" => rel.members.push(OsmMember { way_id: r, role }),
                "node" => rel.node_members.push((r, role)),
                _ => {}
            }
        }
        _ => {
            // <bounds>, <note>, <meta>, <changeset>, unknown children: ignored.
        }
    }
    Ok(())
}

/// Called when the element opened at `depth` closes.
fn finish(cur: &mut Current, depth: usize, data: &mut OsmData) {
    let opened = match cur {
        Current::Node(_, d) | Current::Way(_, d) | Current::Relation(_, d) | Current::Skip(d) => *d,
        Current::None => return,
    };
    if opened != depth {
        return;
    }
    match std::mem::replace(cur, Current::None) {
        Current::Node(n, _) if !n.tags.is_empty() => data.tagged_nodes.push(n),
        Current::Way(w, _) => data.ways.push(w),
        Current::Relation(mut r, _) if tag(&r.tags, "type") == Some("multipolygon") => {
            r.node_members.clear(); // as in PBF: only restrictions keep their node members
            data.relations.push(r)
        }
        Current::Relation(r, _) if tag(&r.tags, "type") == Some("restriction") => data.restrictions.push(r),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Roads
// ---------------------------------------------------------------------------------------------

/// `highway` values that are not roads or paths and are left out of [`roads`]: planned or
/// disused ways (`proposed`, `planned`, `construction`, `abandoned`, `disused`, `razed`,
/// `demolished`, `removed`, `no`), stop/platform outlines (`platform`, `bus_stop`), areas and
/// points (`rest_area`, `services`, `emergency_bay`, `elevator`, `crossing`, `traffic_signals`,
/// `street_lamp`, `turning_circle`, `stop`, `give_way`), and ways no pedestrian or car may use
/// (`bus_guideway`, `raceway`, `escape`). Any other value, including unknown ones, is a road.
pub const NOT_ROADS: &[&str] = &[
    "proposed",
    "planned",
    "construction",
    "abandoned",
    "disused",
    "razed",
    "demolished",
    "removed",
    "no",
    "platform",
    "bus_stop",
    "rest_area",
    "services",
    "emergency_bay",
    "elevator",
    "crossing",
    "traffic_signals",
    "street_lamp",
    "turning_circle",
    "stop",
    "give_way",
    "bus_guideway",
    "raceway",
    "escape",
];

/// `highway` values closed to cars whatever the other tags say (`access_drive = false`).
pub const PATH_LIKE: &[&str] = &[
    "footway",
    "pedestrian",
    "steps",
    "path",
    "cycleway",
    "bridleway",
    "corridor",
    "trail",
];

/// What [`roads_with_report`] did with the ways of the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoadImportReport {
    /// Ways with a `highway` tag.
    pub highway_ways: usize,
    /// Ways turned into edges.
    pub ways_used: usize,
    /// Ways left out, by reason: `highway=<value>` for [`NOT_ROADS`] values, `area=yes`.
    pub ways_skipped: Vec<(String, usize)>,
    /// Node references of road ways whose node is not in the file (the way is cut there).
    pub missing_node_refs: usize,
    /// Road ways with at least one missing node.
    pub ways_with_missing_nodes: usize,
    /// Road ways with fewer than two located nodes in a row (nothing to draw).
    pub ways_without_segment: usize,
    pub edges: usize,
    /// Sum of `length_m` over all edges.
    pub total_length_m: f64,
    /// `type=restriction` relations in the file.
    pub restrictions_seen: usize,
    /// Restrictions kept in [`RoadData::turn_restrictions`] (they bind motor cars).
    pub restrictions_kept: usize,
    /// Restrictions left out, by reason (see [`turn_restriction_of`]).
    pub restrictions_skipped: Vec<(String, usize)>,
}

/// Road network of the file; see [`roads_with_report`].
pub fn roads(osm: &OsmData) -> RoadData {
    roads_with_report(osm).0
}

/// The one-way rule of a way's tags.
///
/// `oneway=yes|1|true` → [`Oneway::Forward`]; `oneway=-1|reverse` → [`Oneway::Backward`];
/// `oneway=no|0|false|reversible|alternating` → [`Oneway::No`] (reversible lanes change
/// direction during the day: both directions are possible). Without an explicit value,
/// `junction=roundabout|circular` and `highway=motorway|motorway_link` imply `Forward`.
pub fn oneway_of(tags: &[(String, String)]) -> Oneway {
    match tag(tags, "oneway").map(str::trim) {
        Some("yes" | "1" | "true") => return Oneway::Forward,
        Some("-1" | "reverse") => return Oneway::Backward,
        Some("no" | "0" | "false" | "reversible" | "alternating") => return Oneway::No,
        _ => {}
    }
    if matches!(tag(tags, "junction"), Some("roundabout" | "circular"))
        || matches!(tag(tags, "highway"), Some("motorway" | "motorway_link"))
    {
        return Oneway::Forward;
    }
    Oneway::No
}

/// (`access_walk`, `access_drive`) of a way's tags.
///
/// `access=no|private` closes it to both; `foot=no|private` to walking; `motor_vehicle`,
/// `motorcar` or `vehicle` `=no|private` to driving; [`PATH_LIKE`] highways are never drivable.
/// A more specific permission overrides `access=no|private`: `foot=yes|designated|permissive`
/// reopens walking, `motor_vehicle|motorcar=yes|designated|permissive` reopens driving (not on
/// path-like ways).
pub fn access_of(tags: &[(String, String)]) -> (bool, bool) {
    let no = |k: &str| matches!(tag(tags, k), Some("no" | "private"));
    let yes = |k: &str| matches!(tag(tags, k), Some("yes" | "designated" | "permissive"));
    let highway = tag(tags, "highway").unwrap_or("");
    let path_like = PATH_LIKE.contains(&highway);
    let closed = no("access");
    let walk = (!closed || yes("foot")) && !no("foot");
    let drive = !path_like
        && (!closed || yes("motor_vehicle") || yes("motorcar"))
        && !no("motor_vehicle")
        && !no("motorcar")
        && !no("vehicle");
    (walk, drive)
}

/// Road network of the file, and what was left out.
///
/// Ways with a `highway` tag become roads unless the value is in [`NOT_ROADS`] or the way is an
/// area (`area=yes`, e.g. a pedestrian square outline). Each road way is cut at *junctions* —
/// nodes used by two or more road ways (or twice by one), and the ends of ways — into one
/// [`RoadEdge`] per piece, with intermediate points in `shape` and `length_m` the haversine
/// length along them. A node reference missing from the file (clipped extracts) cuts the way
/// there: no straight line is drawn across the gap; such references are counted in the report.
/// Nodes of the result are the junctions, with their OSM ids, in order of first use; edges
/// follow way id order. Edges keep the raw `highway` value, the `name`, `source_id = "way/<id>"`,
/// [`oneway_of`] and [`access_of`]; profiles are applied later by `renxing-net`.
pub fn roads_with_report(osm: &OsmData) -> (RoadData, RoadImportReport) {
    let mut report = RoadImportReport::default();
    let mut skipped: HashMap<String, usize> = HashMap::new();
    // Selected ways, each as runs of located node ids.
    let mut runs_of: Vec<(&OsmWay, Vec<Vec<i64>>)> = Vec::new();
    for w in &osm.ways {
        let Some(hw) = tag(&w.tags, "highway") else {
            continue;
        };
        report.highway_ways += 1;
        if NOT_ROADS.contains(&hw) {
            *skipped.entry(format!("highway={hw}")).or_default() += 1;
            continue;
        }
        if tag(&w.tags, "area") == Some("yes") {
            *skipped.entry("area=yes".to_string()).or_default() += 1;
            continue;
        }
        let mut runs: Vec<Vec<i64>> = Vec::new();
        let mut run: Vec<i64> = Vec::new();
        let mut missing = 0usize;
        for &r in &w.refs {
            if osm.nodes.contains_key(&r) {
                if run.last() != Some(&r) {
                    run.push(r);
                }
            } else {
                missing += 1;
                if run.len() >= 2 {
                    runs.push(std::mem::take(&mut run));
                } else {
                    run.clear();
                }
            }
        }
        if run.len() >= 2 {
            runs.push(run);
        }
        if missing > 0 {
            report.missing_node_refs += missing;
            report.ways_with_missing_nodes += 1;
        }
        if runs.is_empty() {
            report.ways_without_segment += 1;
            continue;
        }
        runs_of.push((w, runs));
    }
    // Junctions: used twice or more, or an end of a run.
    let mut uses: HashMap<i64, u32> = HashMap::new();
    let mut junction: HashSet<i64> = HashSet::new();
    for (_, runs) in &runs_of {
        for run in runs {
            for &n in run {
                *uses.entry(n).or_default() += 1;
            }
            junction.insert(run[0]);
            junction.insert(run[run.len() - 1]);
        }
    }
    junction.extend(uses.iter().filter(|(_, c)| **c >= 2).map(|(n, _)| *n));

    let mut data = RoadData {
        source: osm.source.clone(),
        ..Default::default()
    };
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut node_index = |id: i64, data: &mut RoadData| -> usize {
        *index.entry(id).or_insert_with(|| {
            let (lon, lat) = osm.nodes[&id];
            data.nodes.push(RoadNode { id, lon, lat });
            data.nodes.len() - 1
        })
    };
    for (w, runs) in &runs_of {
        report.ways_used += 1;
        let highway = tag(&w.tags, "highway").unwrap_or("").to_string();
        let name = tag(&w.tags, "name").unwrap_or("").to_string();
        let oneway = oneway_of(&w.tags);
        let (access_walk, access_drive) = access_of(&w.tags);
        for run in runs {
            let mut start = run[0];
            let mut shape: Vec<(f64, f64)> = Vec::new();
            let mut length = 0.0;
            let mut prev = osm.nodes[&start];
            for &n in &run[1..] {
                let p = osm.nodes[&n];
                length += haversine_m(prev.0, prev.1, p.0, p.1);
                prev = p;
                if junction.contains(&n) {
                    let u = node_index(start, &mut data);
                    let v = node_index(n, &mut data);
                    data.edges.push(RoadEdge {
                        u,
                        v,
                        length_m: length,
                        highway: highway.clone(),
                        oneway,
                        access_walk,
                        access_drive,
                        name: name.clone(),
                        source_id: format!("way/{}", w.id),
                        shape: std::mem::take(&mut shape),
                    });
                    report.total_length_m += length;
                    length = 0.0;
                    start = n;
                } else {
                    shape.push(p);
                }
            }
        }
    }
    report.edges = data.edges.len();
    let mut skipped: Vec<(String, usize)> = skipped.into_iter().collect();
    skipped.sort();
    report.ways_skipped = skipped;

    let road_ways: HashMap<i64, (i64, i64)> = runs_of
        .iter()
        .map(|(w, _)| (w.id, (w.refs[0], w.refs[w.refs.len() - 1])))
        .collect();
    let mut skipped: HashMap<String, usize> = HashMap::new();
    for r in &osm.restrictions {
        report.restrictions_seen += 1;
        match turn_restriction_of(r, &road_ways, &index) {
            Ok(t) => data.turn_restrictions.push(t),
            Err(why) => *skipped.entry(why).or_default() += 1,
        }
    }
    report.restrictions_kept = data.turn_restrictions.len();
    let mut skipped: Vec<(String, usize)> = skipped.into_iter().collect();
    skipped.sort();
    report.restrictions_skipped = skipped;
    (data, report)
}

/// The turn restriction for motor cars that a `type=restriction` relation states, or why it
/// states none that [`roads_with_report`] can keep.
///
/// - **Value**: the first of `restriction:motorcar`, `restriction:motor_vehicle`,
///   `restriction:vehicle` and `restriction`; `no_*` forbids the turn, `only_*` forbids every
///   other. A relation with only other `restriction:<mode>` keys (hgv, bus, bicycle…) does not bind
///   cars; neither does one whose `except` lists `motorcar`, `motor_vehicle` or `vehicle`.
/// - **Time**: restrictions limited in time (`day_on`, `hour_on`, or only a
///   `restriction:conditional` value) are left out: a plan works with the permanent network.
/// - **Members**: at least one `from` and one `to` way, and either one `via` node or one or more
///   `via` ways; every member way must be a road of the file and the via node a road junction.
///   As OSM requires, each `from` and `to` way must start or end at the via node (or at an end of
///   a via way): a way running through the via would make the turn ambiguous.
/// - `restriction:conditional` next to a plain value is ignored: the plain value holds.
///
/// `road_ways` maps each road way to its first and last node.
pub fn turn_restriction_of(
    r: &OsmRelation,
    road_ways: &HashMap<i64, (i64, i64)>,
    road_nodes: &HashMap<i64, usize>,
) -> std::result::Result<TurnRestriction, String> {
    let value = [
        "restriction:motorcar",
        "restriction:motor_vehicle",
        "restriction:vehicle",
        "restriction",
    ]
    .iter()
    .find_map(|k| tag(&r.tags, k))
    .map(str::trim);
    let Some(value) = value else {
        return Err(if tag(&r.tags, "restriction:conditional").is_some() {
            "time-conditional only (restriction:conditional)".to_string()
        } else if let Some((k, _)) = r.tags.iter().find(|(k, _)| k.starts_with("restriction:")) {
            format!("not for motor cars ({k})")
        } else {
            "no restriction value".to_string()
        });
    };
    if let Some(except) = tag(&r.tags, "except")
        && except
            .split(';')
            .any(|m| matches!(m.trim(), "motorcar" | "motor_vehicle" | "vehicle"))
    {
        return Err("motor cars excepted (except=…)".to_string());
    }
    if tag(&r.tags, "day_on").is_some() || tag(&r.tags, "hour_on").is_some() {
        return Err("time-limited (day_on/hour_on)".to_string());
    }
    let only = if value.starts_with("only_") {
        true
    } else if value.starts_with("no_") {
        false
    } else {
        return Err(format!("unknown restriction value '{value}'"));
    };
    let ways = |role: &str| -> Vec<i64> { r.members.iter().filter(|m| m.role == role).map(|m| m.way_id).collect() };
    let (from, to, via_ways) = (ways("from"), ways("to"), ways("via"));
    let via_nodes: Vec<i64> = r
        .node_members
        .iter()
        .filter(|(_, role)| role == "via")
        .map(|(n, _)| *n)
        .collect();
    if from.is_empty() || to.is_empty() {
        return Err("no from or no to way".to_string());
    }
    if !matches!((via_nodes.len(), via_ways.is_empty()), (1, true) | (0, false)) {
        return Err("via must be one node or one or more ways".to_string());
    }
    if from
        .iter()
        .chain(&to)
        .chain(&via_ways)
        .any(|w| !road_ways.contains_key(w))
    {
        return Err("member way not a road of the file".to_string());
    }
    let ends = |w: &i64| road_ways[w];
    let via_ends: HashSet<i64> = match via_nodes.as_slice() {
        [n] if via_ways.is_empty() => HashSet::from([*n]),
        _ => via_ways.iter().flat_map(|w| [ends(w).0, ends(w).1]).collect(),
    };
    if from
        .iter()
        .chain(&to)
        .any(|w| !via_ends.contains(&ends(w).0) && !via_ends.contains(&ends(w).1))
    {
        return Err("from or to way does not start or end at the via".to_string());
    }
    let via = match (via_nodes.as_slice(), via_ways.is_empty()) {
        ([n], true) => match road_nodes.get(n) {
            Some(&i) => TurnVia::Node(i),
            None => return Err("via node not a road junction of the file".to_string()),
        },
        ([], false) => TurnVia::Ways(via_ways.iter().map(|w| format!("way/{w}")).collect()),
        _ => return Err("via must be one node or one or more ways".to_string()),
    };
    Ok(TurnRestriction {
        source_id: format!("relation/{}", r.id),
        value: value.to_string(),
        only,
        from: from.iter().map(|w| format!("way/{w}")).collect(),
        via,
        to: to.iter().map(|w| format!("way/{w}")).collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Polygons
// ---------------------------------------------------------------------------------------------

/// Problems met while building point/polygon features.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeometryReport {
    /// Node references whose node is not in the file.
    pub missing_node_refs: usize,
    /// Rings that could not be closed (open way chains, missing member ways or nodes); the
    /// ring is skipped.
    pub rings_not_closed: usize,
    /// Multipolygon member ways not in the file.
    pub missing_member_ways: usize,
    /// Inner rings lying in no outer ring (skipped).
    pub orphan_inner_rings: usize,
    /// Features left without any geometry (no located node at all).
    pub features_without_location: usize,
}

/// Coordinates of a ring given as node ids, or None (counted) when a node is missing.
fn ring_coords(osm: &OsmData, ids: &[i64], rep: &mut GeometryReport) -> Option<LineString<f64>> {
    let mut pts = Vec::with_capacity(ids.len());
    let mut missing = 0;
    for id in ids {
        match osm.coord(*id) {
            Some((x, y)) => pts.push(Coord { x, y }),
            None => missing += 1,
        }
    }
    if missing > 0 {
        rep.missing_node_refs += missing;
        return None;
    }
    Some(LineString::from(pts))
}

/// Join way node lists into closed rings by shared end nodes. Returns the rings and the number
/// of chains that could not be closed.
fn assemble_rings(mut pieces: Vec<Vec<i64>>) -> (Vec<Vec<i64>>, usize) {
    pieces.retain(|p| p.len() >= 2);
    let mut rings = Vec::new();
    let mut open: Vec<Option<Vec<i64>>> = Vec::new();
    for p in pieces {
        if p.len() >= 4 && p.first() == p.last() {
            rings.push(p);
        } else {
            open.push(Some(p));
        }
    }
    // End node → indices of open pieces that start or end there.
    let mut ends: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, p) in open.iter().enumerate() {
        if let Some(p) = p {
            ends.entry(p[0]).or_default().push(i);
            ends.entry(p[p.len() - 1]).or_default().push(i);
        }
    }
    let mut not_closed = 0;
    for i in 0..open.len() {
        let Some(mut chain) = open[i].take() else {
            continue;
        };
        loop {
            if chain.len() >= 4 && chain.first() == chain.last() {
                rings.push(chain);
                break;
            }
            let end = chain[chain.len() - 1];
            let next = ends
                .get(&end)
                .and_then(|c| c.iter().copied().find(|&j| open[j].is_some()));
            match next {
                Some(j) => {
                    let Some(mut p) = open[j].take() else { break };
                    if p[0] != end {
                        p.reverse();
                    }
                    chain.extend_from_slice(&p[1..]);
                }
                None => {
                    not_closed += 1;
                    break;
                }
            }
        }
    }
    (rings, not_closed)
}

/// Geometry of a closed way, or None (counted in `rep`).
fn way_polygon(osm: &OsmData, w: &OsmWay, rep: &mut GeometryReport) -> Option<MultiPolygon<f64>> {
    if !w.is_closed() {
        rep.rings_not_closed += 1;
        return None;
    }
    match ring_coords(osm, &w.refs, rep) {
        Some(ring) => Some(MultiPolygon(vec![Polygon::new(ring, vec![])]).orient(Direction::Default)),
        None => {
            rep.rings_not_closed += 1;
            None
        }
    }
}

/// Geometry of a multipolygon relation, or None when no outer ring could be built.
fn relation_polygon(
    osm: &OsmData,
    way_index: &HashMap<i64, usize>,
    r: &OsmRelation,
    rep: &mut GeometryReport,
) -> Option<MultiPolygon<f64>> {
    let mut outer_pieces = Vec::new();
    let mut inner_pieces = Vec::new();
    for m in &r.members {
        match way_index.get(&m.way_id) {
            Some(&i) => {
                let refs = osm.ways[i].refs.clone();
                if m.role == "inner" {
                    inner_pieces.push(refs);
                } else {
                    outer_pieces.push(refs);
                }
            }
            None => {
                rep.missing_member_ways += 1;
            }
        }
    }
    let (outer_rings, n1) = assemble_rings(outer_pieces);
    let (inner_rings, n2) = assemble_rings(inner_pieces);
    rep.rings_not_closed += n1 + n2;
    let mut polys: Vec<Polygon<f64>> = Vec::new();
    for ring in &outer_rings {
        match ring_coords(osm, ring, rep) {
            Some(ls) => polys.push(Polygon::new(ls, vec![])),
            None => rep.rings_not_closed += 1,
        }
    }
    if polys.is_empty() {
        return None;
    }
    for ring in &inner_rings {
        let Some(ls) = ring_coords(osm, ring, rep) else {
            rep.rings_not_closed += 1;
            continue;
        };
        let probe = Point::from(ls.0[0]);
        // The smallest outer ring containing the inner ring's first vertex.
        let host = polys
            .iter()
            .enumerate()
            .filter(|(_, p)| p.contains(&probe) || p.exterior().0.contains(&ls.0[0]))
            .min_by(|a, b| {
                let aa = geo::Area::unsigned_area(a.1);
                let bb = geo::Area::unsigned_area(b.1);
                aa.total_cmp(&bb)
            })
            .map(|(i, _)| i);
        match host {
            Some(i) => polys[i].interiors_push(ls),
            None => rep.orphan_inner_rings += 1,
        }
    }
    Some(MultiPolygon(polys).orient(Direction::Default))
}

/// Geodesic area (m²) of a lon/lat multipolygon, exterior rings minus holes.
pub fn geodesic_area_m2(mp: &MultiPolygon<f64>) -> f64 {
    mp.0.iter()
        .map(|p| p.orient(Direction::Default).geodesic_area_unsigned())
        .sum()
}

fn centroid_of(mp: &MultiPolygon<f64>) -> Option<(f64, f64)> {
    if let Some(c) = mp.centroid().filter(|c| c.x().is_finite() && c.y().is_finite()) {
        return Some((c.x(), c.y()));
    }
    mean_point(mp.0.iter().flat_map(|p| p.exterior().0.iter().map(|c| (c.x, c.y))))
}

fn mean_point(pts: impl Iterator<Item = (f64, f64)>) -> Option<(f64, f64)> {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0usize);
    for (x, y) in pts {
        sx += x;
        sy += y;
        n += 1;
    }
    (n > 0).then(|| (sx / n as f64, sy / n as f64))
}

/// Leading number of a tag value: `"3"`, `"3.5"`, `"4;5"` → 4, `"12 m"` → 12; None otherwise.
pub fn parse_leading_number(v: &str) -> Option<f64> {
    let v = v.trim();
    let end = v
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map(|(i, _)| i)
        .unwrap_or(v.len());
    let x: f64 = v[..end].parse().ok()?;
    x.is_finite().then_some(x)
}

/// One feature of a kind found by tags, with its geometry.
struct Feature<'a> {
    osm_id: String,
    tags: &'a [(String, String)],
    lon: f64,
    lat: f64,
    geometry: Option<MultiPolygon<f64>>,
}

/// All tagged nodes (when `nodes_ok`), ways and multipolygon relations that `want` accepts,
/// each with its geometry. A way or relation that yields no polygon is kept as a point at the
/// mean of its located nodes when `points_ok`, else dropped (and counted).
fn features<'a>(
    osm: &'a OsmData,
    want: impl Fn(&[(String, String)]) -> bool,
    nodes_ok: bool,
    points_ok: bool,
    rep: &mut GeometryReport,
) -> Vec<Feature<'a>> {
    let mut out = Vec::new();
    let mut push = |osm_id: String,
                    tags: &'a [(String, String)],
                    poly: Option<MultiPolygon<f64>>,
                    fallback: &mut dyn Iterator<Item = (f64, f64)>,
                    rep: &mut GeometryReport| {
        if let Some((lon, lat)) = poly.as_ref().and_then(centroid_of) {
            out.push(Feature {
                osm_id,
                tags,
                lon,
                lat,
                geometry: poly,
            });
        } else if points_ok {
            match mean_point(fallback) {
                Some((lon, lat)) => out.push(Feature {
                    osm_id,
                    tags,
                    lon,
                    lat,
                    geometry: None,
                }),
                None => rep.features_without_location += 1,
            }
        } else {
            rep.features_without_location += 1;
        }
    };
    if nodes_ok {
        for n in &osm.tagged_nodes {
            if want(&n.tags) {
                push(
                    format!("node/{}", n.id),
                    &n.tags,
                    None,
                    &mut std::iter::once((n.lon, n.lat)),
                    rep,
                );
            }
        }
    }
    for w in &osm.ways {
        if !want(&w.tags) {
            continue;
        }
        // Open ways are points for facilities; for buildings they are unclosable outlines.
        let poly = if w.is_closed() || !points_ok {
            way_polygon(osm, w, rep)
        } else {
            None
        };
        let mut located = w.refs.iter().filter_map(|r| osm.coord(*r));
        push(format!("way/{}", w.id), &w.tags, poly, &mut located, rep);
    }
    let way_index: HashMap<i64, usize> = osm.ways.iter().enumerate().map(|(i, w)| (w.id, i)).collect();
    for r in &osm.relations {
        if !want(&r.tags) {
            continue;
        }
        let poly = relation_polygon(osm, &way_index, r, rep);
        let mut located = r
            .members
            .iter()
            .filter_map(|m| way_index.get(&m.way_id))
            .flat_map(|&i| osm.ways[i].refs.iter())
            .filter_map(|id| osm.coord(*id));
        push(format!("relation/{}", r.id), &r.tags, poly, &mut located, rep);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Facilities
// ---------------------------------------------------------------------------------------------

/// Routine function of a facility (its emergency roles come from standard profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FacilityKind {
    School,
    University,
    Kindergarten,
    Park,
    Garden,
    Square,
    Stadium,
    SportsCentre,
    Pitch,
    Hospital,
    Clinic,
    Hotel,
    ExhibitionCentre,
    CommunityCentre,
    Warehouse,
    Parking,
    AssemblyPoint,
    EmergencyShelter,
}

impl FacilityKind {
    pub const ALL: [FacilityKind; 18] = [
        FacilityKind::School,
        FacilityKind::University,
        FacilityKind::Kindergarten,
        FacilityKind::Park,
        FacilityKind::Garden,
        FacilityKind::Square,
        FacilityKind::Stadium,
        FacilityKind::SportsCentre,
        FacilityKind::Pitch,
        FacilityKind::Hospital,
        FacilityKind::Clinic,
        FacilityKind::Hotel,
        FacilityKind::ExhibitionCentre,
        FacilityKind::CommunityCentre,
        FacilityKind::Warehouse,
        FacilityKind::Parking,
        FacilityKind::AssemblyPoint,
        FacilityKind::EmergencyShelter,
    ];

    /// snake_case name, e.g. `sports_centre`, `emergency_shelter`.
    pub fn as_str(&self) -> &'static str {
        match self {
            FacilityKind::School => "school",
            FacilityKind::University => "university",
            FacilityKind::Kindergarten => "kindergarten",
            FacilityKind::Park => "park",
            FacilityKind::Garden => "garden",
            FacilityKind::Square => "square",
            FacilityKind::Stadium => "stadium",
            FacilityKind::SportsCentre => "sports_centre",
            FacilityKind::Pitch => "pitch",
            FacilityKind::Hospital => "hospital",
            FacilityKind::Clinic => "clinic",
            FacilityKind::Hotel => "hotel",
            FacilityKind::ExhibitionCentre => "exhibition_centre",
            FacilityKind::CommunityCentre => "community_centre",
            FacilityKind::Warehouse => "warehouse",
            FacilityKind::Parking => "parking",
            FacilityKind::AssemblyPoint => "assembly_point",
            FacilityKind::EmergencyShelter => "emergency_shelter",
        }
    }
}

impl std::fmt::Display for FacilityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A facility kind name that is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown facility kind '{0}': use one of school, university, kindergarten, park, garden, square, stadium, sports_centre, pitch, hospital, clinic, hotel, exhibition_centre, community_centre, warehouse, parking, assembly_point, emergency_shelter"
)]
pub struct UnknownFacilityKind(pub String);

impl FromStr for FacilityKind {
    type Err = UnknownFacilityKind;
    /// Accepts the snake_case names (case-insensitive; `-` and spaces read as `_`).
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        FacilityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| UnknownFacilityKind(s.to_string()))
    }
}

/// A facility found in OSM data.
#[derive(Debug, Clone, PartialEq)]
pub struct Facility {
    /// `node/1`, `way/2` or `relation/3`.
    pub osm_id: String,
    pub kind: FacilityKind,
    /// `name` tag, or empty.
    pub name: String,
    /// The point, or the centroid of the polygon.
    pub lon: f64,
    pub lat: f64,
    /// Geodesic area of the polygon in m²; None for points.
    pub area_m2: Option<f64>,
    /// `building:levels`, when given.
    pub levels: Option<f64>,
    pub geometry: Option<MultiPolygon<f64>>,
    pub tags: Vec<(String, String)>,
}

/// Facility kind of a tag set, or None. Rules, first match wins:
///
/// 1. `emergency=assembly_point` → assembly_point; `emergency=shelter`, or `amenity=shelter`
///    with `shelter_type=emergency`, → emergency_shelter. (Plain `amenity=shelter` is a bus,
///    picnic or weather shelter in OSM practice and is *not* taken.) Explicit emergency tags come
///    first: they are rarer and more specific than the routine function.
/// 2. `amenity=` school, university, kindergarten, hospital, clinic, parking, community_centre,
///    exhibition_centre → the kind of the same name; without an `amenity`, `healthcare=hospital`
///    or `healthcare=clinic` likewise.
/// 3. `leisure=` park, garden, stadium, sports_centre, pitch → the same name.
/// 4. `tourism=hotel` → hotel.
/// 5. `place=square`, or `highway=pedestrian` with `area=yes`, → square.
/// 6. `building=warehouse`, `landuse=warehouse` or `industrial=warehouse` → warehouse.
/// 7. otherwise a `name` containing 避难场所 or 避难所 (Chinese "emergency shelter") →
///    emergency_shelter — Chinese shelters are often only named as such.
pub fn facility_kind(tags: &[(String, String)]) -> Option<FacilityKind> {
    use FacilityKind as K;
    let t = |k: &str| tag(tags, k);
    match t("emergency") {
        Some("assembly_point") => return Some(K::AssemblyPoint),
        Some("shelter") => return Some(K::EmergencyShelter),
        _ => {}
    }
    if t("amenity") == Some("shelter") && t("shelter_type") == Some("emergency") {
        return Some(K::EmergencyShelter);
    }
    let by_amenity = |v: &str| match v {
        "school" => Some(K::School),
        "university" => Some(K::University),
        "kindergarten" => Some(K::Kindergarten),
        "hospital" => Some(K::Hospital),
        "clinic" => Some(K::Clinic),
        "parking" => Some(K::Parking),
        "community_centre" => Some(K::CommunityCentre),
        "exhibition_centre" => Some(K::ExhibitionCentre),
        _ => None,
    };
    match t("amenity") {
        Some(v) => {
            if let Some(k) = by_amenity(v) {
                return Some(k);
            }
        }
        None => match t("healthcare") {
            Some("hospital") => return Some(K::Hospital),
            Some("clinic") => return Some(K::Clinic),
            _ => {}
        },
    }
    match t("leisure") {
        Some("park") => return Some(K::Park),
        Some("garden") => return Some(K::Garden),
        Some("stadium") => return Some(K::Stadium),
        Some("sports_centre") => return Some(K::SportsCentre),
        Some("pitch") => return Some(K::Pitch),
        _ => {}
    }
    if t("tourism") == Some("hotel") {
        return Some(K::Hotel);
    }
    if t("place") == Some("square") || (t("highway") == Some("pedestrian") && t("area") == Some("yes")) {
        return Some(K::Square);
    }
    if t("building") == Some("warehouse") || t("landuse") == Some("warehouse") || t("industrial") == Some("warehouse") {
        return Some(K::Warehouse);
    }
    if t("name").is_some_and(|n| n.contains("避难场所") || n.contains("避难所")) {
        return Some(K::EmergencyShelter);
    }
    None
}

/// Facilities of the file; see [`facilities_with_report`].
pub fn facilities(osm: &OsmData) -> Vec<Facility> {
    facilities_with_report(osm).0
}

/// Facilities of the file (kinds by [`facility_kind`]), nodes first, then ways, then
/// multipolygon relations, each in id order.
///
/// Nodes are points. Closed ways and multipolygon relations (rings assembled from their way
/// members; roles `inner`/other) are polygons with their geodesic area and centroid. A ring that
/// cannot be closed (open chain, member way or node missing from the extract) is skipped and
/// counted; if the feature is left with no polygon it is kept as a point at the mean of its
/// located nodes (a clipped school is still a school), without area. Open ways are such points
/// too.
pub fn facilities_with_report(osm: &OsmData) -> (Vec<Facility>, GeometryReport) {
    let mut rep = GeometryReport::default();
    let feats = features(osm, |t| facility_kind(t).is_some(), true, true, &mut rep);
    let out = feats
        .into_iter()
        .filter_map(|f| {
            let kind = facility_kind(f.tags)?;
            Some(Facility {
                osm_id: f.osm_id,
                kind,
                name: tag(f.tags, "name").unwrap_or("").to_string(),
                lon: f.lon,
                lat: f.lat,
                area_m2: f.geometry.as_ref().map(geodesic_area_m2),
                levels: tag(f.tags, "building:levels").and_then(parse_leading_number),
                geometry: f.geometry,
                tags: f.tags.to_vec(),
            })
        })
        .collect();
    (out, rep)
}

// ---------------------------------------------------------------------------------------------
// Buildings
// ---------------------------------------------------------------------------------------------

/// A building footprint.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    /// `way/2` or `relation/3`.
    pub osm_id: String,
    /// The `building` value (`yes`, `residential`, `school`…).
    pub kind: String,
    pub name: String,
    pub footprint: MultiPolygon<f64>,
    /// Geodesic area of the footprint in m².
    pub area_m2: f64,
    /// `building:levels` (leading number), else None.
    pub levels: Option<f64>,
    /// `height` in metres (leading number), else None.
    pub height_m: Option<f64>,
    /// Centroid of the footprint.
    pub lon: f64,
    pub lat: f64,
}

/// Buildings of the file; see [`buildings_with_report`].
pub fn buildings(osm: &OsmData) -> Vec<Building> {
    buildings_with_report(osm).0
}

/// Closed ways and multipolygon relations with a `building` tag other than `no`, ways first,
/// each in id order. Building nodes and unclosable outlines are skipped (counted in the report).
pub fn buildings_with_report(osm: &OsmData) -> (Vec<Building>, GeometryReport) {
    let mut rep = GeometryReport::default();
    let is_building = |t: &[(String, String)]| matches!(tag(t, "building"), Some(v) if v != "no");
    let feats = features(osm, is_building, false, false, &mut rep);
    let out = feats
        .into_iter()
        .filter_map(|f| {
            let footprint = f.geometry?;
            Some(Building {
                osm_id: f.osm_id,
                kind: tag(f.tags, "building").unwrap_or("yes").to_string(),
                name: tag(f.tags, "name").unwrap_or("").to_string(),
                area_m2: geodesic_area_m2(&footprint),
                footprint,
                levels: tag(f.tags, "building:levels").and_then(parse_leading_number),
                height_m: tag(f.tags, "height").and_then(parse_leading_number),
                lon: f.lon,
                lat: f.lat,
            })
        })
        .collect();
    (out, rep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_data;

    fn write_tmp(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn turn_restriction_rules() {
        // Ways: 1 from node 10 to 11, 2 from 11 to 12, 3 from 9 through 11 to 13, 4 from 12 to 14.
        let ways: HashMap<i64, (i64, i64)> = [(1, (10, 11)), (2, (11, 12)), (3, (9, 13)), (4, (12, 14))].into();
        let nodes: HashMap<i64, usize> = [(11, 0), (12, 1)].into();
        let rel = |tags: &[(&str, &str)], from: i64, via: Option<i64>, via_way: Option<i64>, to: i64| OsmRelation {
            id: 7,
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            members: [(from, "from"), (to, "to")]
                .into_iter()
                .chain(via_way.map(|w| (w, "via")))
                .map(|(way_id, role)| OsmMember {
                    way_id,
                    role: role.into(),
                })
                .collect(),
            node_members: via.map(|n| (n, "via".to_string())).into_iter().collect(),
        };
        let of = |r: &OsmRelation| turn_restriction_of(r, &ways, &nodes);
        let t = of(&rel(&[("restriction", "no_left_turn")], 1, Some(11), None, 2)).unwrap();
        assert_eq!(
            (t.value.as_str(), t.only, t.via.clone()),
            ("no_left_turn", false, TurnVia::Node(0))
        );
        assert_eq!(
            (t.from, t.to, t.source_id),
            (
                vec!["way/1".to_string()],
                vec!["way/2".to_string()],
                "relation/7".into()
            )
        );
        // The car-specific key wins over the general one.
        let t = of(&rel(
            &[
                ("restriction", "no_left_turn"),
                ("restriction:motorcar", "only_straight_on"),
            ],
            1,
            Some(11),
            None,
            2,
        ));
        assert!(t.unwrap().only);
        let err = |tags: &[(&str, &str)], from, via, via_way, to| of(&rel(tags, from, via, via_way, to)).unwrap_err();
        assert_eq!(
            err(&[("restriction:hgv", "no_left_turn")], 1, Some(11), None, 2),
            "not for motor cars (restriction:hgv)"
        );
        assert_eq!(
            err(
                &[("restriction", "no_left_turn"), ("except", "bus;motorcar")],
                1,
                Some(11),
                None,
                2
            ),
            "motor cars excepted (except=…)"
        );
        assert_eq!(
            err(
                &[("restriction", "no_left_turn"), ("hour_on", "07:00")],
                1,
                Some(11),
                None,
                2
            ),
            "time-limited (day_on/hour_on)"
        );
        assert_eq!(
            err(&[("restriction", "give_way")], 1, Some(11), None, 2),
            "unknown restriction value 'give_way'"
        );
        // Way 3 runs through node 11: ambiguous, refused.
        assert_eq!(
            err(&[("restriction", "no_left_turn")], 3, Some(11), None, 2),
            "from or to way does not start or end at the via"
        );
        assert_eq!(
            err(&[("restriction", "no_left_turn")], 1, Some(11), None, 99),
            "member way not a road of the file"
        );
        // Through a via way: from 1, along 2, onto 4.
        let t = of(&rel(&[("restriction", "no_u_turn")], 1, None, Some(2), 4)).unwrap();
        assert_eq!(t.via, TurnVia::Ways(vec!["way/2".into()]));
        assert_eq!(
            err(&[("restriction", "no_u_turn")], 1, Some(11), Some(2), 4),
            "via must be one node or one or more ways"
        );
    }

    fn kinds(f: &[Facility]) -> Vec<(&'static str, usize, usize, f64)> {
        let mut by: std::collections::BTreeMap<&'static str, (usize, usize, f64)> = Default::default();
        for x in f {
            let e = by.entry(x.kind.as_str()).or_default();
            e.0 += 1;
            if let Some(a) = x.area_m2 {
                e.1 += 1;
                e.2 += a;
            }
        }
        by.into_iter().map(|(k, (n, np, a))| (k, n, np, a)).collect()
    }

    fn count(edges: &[RoadEdge], f: impl Fn(&RoadEdge) -> bool) -> usize {
        edges.iter().filter(|e| f(e)).count()
    }

    /// Expected per-kind (count, count with polygon, polygon area m²) compared with a tolerance
    /// of 1 m² (both sides use Karney's geodesic area on WGS84).
    fn assert_kinds(got: &[(&str, usize, usize, f64)], want: &[(&str, usize, usize, f64)]) {
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0, g.1, g.2), (w.0, w.1, w.2), "{got:?}");
            assert!((g.3 - w.3).abs() < 1.0, "{}: area {} vs {}", g.0, g.3, w.3);
        }
    }

    // Expected numbers of the shared-data tests come from independent Python scripts
    // (tests/reference/osm/roads.py and fac.py)
    // (pyosmium 4.x to parse, plain Python for the road rules of this module, libosmium's
    // multipolygon assembler for polygons and pyproj's Geod(ellps='WGS84') for areas), run on
    // the same files while writing this module.

    #[test]
    fn helsinki_pbf_roads() {
        let Some(p) = shared_data::file("osm/helsinki.osm.pbf") else {
            return;
        };
        let osm = read_osm(&p).unwrap();
        assert_eq!(
            (osm.nodes.len(), osm.ways.len(), osm.relations_seen),
            (24_260, 5_130, 620)
        );
        assert_eq!(osm.relations.len(), 110); // type=multipolygon
        let (roads, rep) = roads_with_report(&osm);
        // Data README: 2,650 highway ways. Python reference: 2,467 used, 4,685 edges,
        // 93,433.9 m, 755 missing node refs in 171 ways, 3,595 junction nodes,
        // 759 one-way edges, 120 closed to walking, 3,277 closed to driving.
        assert_eq!(rep.highway_ways, 2_650);
        assert_eq!(rep.ways_used, 2_467);
        assert_eq!(
            rep.ways_skipped,
            vec![
                ("area=yes".to_string(), 53),
                ("highway=construction".to_string(), 3),
                ("highway=crossing".to_string(), 1),
                ("highway=elevator".to_string(), 2),
                ("highway=platform".to_string(), 55),
            ]
        );
        assert_eq!(
            (
                rep.missing_node_refs,
                rep.ways_with_missing_nodes,
                rep.ways_without_segment
            ),
            (755, 171, 69)
        );
        assert_eq!((roads.edges.len(), roads.nodes.len()), (4_685, 3_595));
        assert!((rep.total_length_m - 93_433.9).abs() < 0.1, "{}", rep.total_length_m);
        let sum: f64 = roads.edges.iter().map(|e| e.length_m).sum();
        assert!((sum - rep.total_length_m).abs() < 1e-6);
        assert_eq!(count(&roads.edges, |e| e.oneway == Oneway::Forward), 759);
        assert_eq!(count(&roads.edges, |e| e.oneway == Oneway::Backward), 0);
        assert_eq!(count(&roads.edges, |e| !e.access_walk), 120);
        assert_eq!(count(&roads.edges, |e| !e.access_drive), 3_277);
        // Geometry: each edge's length is the haversine length of its polyline.
        for e in roads.edges.iter().take(200) {
            let line = e.polyline(&roads.nodes);
            let l: f64 = line
                .windows(2)
                .map(|w| haversine_m(w[0].0, w[0].1, w[1].0, w[1].1))
                .sum();
            assert!((l - e.length_m).abs() < 1e-6);
            assert!(e.source_id.starts_with("way/"));
        }
    }

    #[test]
    fn helsinki_pbf_facilities_and_buildings() {
        let Some(p) = shared_data::file("osm/helsinki.osm.pbf") else {
            return;
        };
        let osm = read_osm(&p).unwrap();
        let (f, _) = facilities_with_report(&osm);
        // README: 16 parks (ways; +1 park relation here), 3 schools, 6 university sites,
        // 3 clinics (amenity=clinic nodes; +1 healthcare=clinic here).
        assert_kinds(
            &kinds(&f),
            &[
                ("clinic", 4, 0, 0.0),
                ("community_centre", 3, 0, 0.0),
                ("garden", 1, 1, 49_768.0),
                ("hotel", 27, 3, 3_584.0),
                ("park", 17, 12, 197_229.0),
                ("parking", 43, 26, 7_921.0),
                ("pitch", 6, 6, 20_215.0),
                ("school", 3, 3, 9_743.0),
                ("sports_centre", 4, 0, 0.0),
                ("square", 50, 39, 67_648.0),
                ("university", 6, 5, 62_774.0),
            ],
        );
        let school = f.iter().find(|x| x.kind == FacilityKind::School).unwrap();
        assert!(school.osm_id.starts_with("way/") && school.geometry.is_some());
        assert!((24.9..25.0).contains(&school.lon) && (60.1..60.2).contains(&school.lat));
        // 446 footprints (of 433 building ways + 67 building multipolygons, those whose rings
        // close inside the extract), 514,188 m², 149 with building:levels.
        let (b, brep) = buildings_with_report(&osm);
        assert_eq!(b.len(), 446);
        let area: f64 = b.iter().map(|b| b.area_m2).sum();
        assert!((area - 514_188.3).abs() < 1.0, "{area}");
        assert_eq!(b.iter().filter(|b| b.levels.is_some()).count(), 149);
        assert_eq!(brep.features_without_location, 54);
        assert!(brep.rings_not_closed > 0 && brep.missing_node_refs > 0);
    }

    /// PBF and XML of the same data agree. Needs an XML copy of helsinki.osm.pbf (made with
    /// pyosmium: `for o in osmium.FileProcessor(pbf): writer.add(o)`), named by
    /// `RENXING_HELSINKI_OSM_XML`; skipped otherwise. Run once while writing this module: equal
    /// counts, total road length equal to 1e-6 m, building area equal to 1e-3 m².
    #[test]
    fn helsinki_pbf_and_xml_agree() {
        let Some(pbf) = shared_data::file("osm/helsinki.osm.pbf") else {
            return;
        };
        let Ok(xml) = std::env::var("RENXING_HELSINKI_OSM_XML") else {
            eprintln!("SKIP: set RENXING_HELSINKI_OSM_XML to an XML conversion of helsinki.osm.pbf");
            return;
        };
        let a = read_osm(&pbf).unwrap();
        let b = read_osm(Path::new(&xml)).unwrap();
        assert_eq!(a.nodes, b.nodes);
        assert_eq!(a.ways, b.ways);
        assert_eq!(a.relations, b.relations);
        assert_eq!(a.tagged_nodes.len(), b.tagged_nodes.len());
        let (ra, rb) = (roads_with_report(&a).1, roads_with_report(&b).1);
        assert_eq!((ra.edges, ra.missing_node_refs), (rb.edges, rb.missing_node_refs));
        assert!((ra.total_length_m - rb.total_length_m).abs() < 1e-6);
        let area = |o: &OsmData| buildings(o).iter().map(|b| b.area_m2).sum::<f64>();
        assert!((area(&a) - area(&b)).abs() < 1e-3);
        assert_eq!(facilities(&a).len(), facilities(&b).len());
    }

    #[test]
    fn kouvola_pbf() {
        let Some(p) = shared_data::file("osm/kouvola.osm.pbf") else {
            return;
        };
        let osm = read_osm(&p).unwrap();
        let (roads, rep) = roads_with_report(&osm);
        // README: 343 highway ways incl. motorway. Python reference: 331 used, 704 edges,
        // 66,120.4 m (the README's "49 km" could not be reproduced: the sum of all highway
        // ways, bridging no gap, is 66,120 m too), 446 missing refs, 77 one-way edges.
        assert_eq!(
            (rep.highway_ways, rep.ways_used, rep.missing_node_refs),
            (343, 331, 446)
        );
        assert_eq!((roads.edges.len(), roads.nodes.len()), (704, 555));
        assert!((rep.total_length_m - 66_120.4).abs() < 0.1, "{}", rep.total_length_m);
        assert_eq!(count(&roads.edges, |e| e.oneway == Oneway::Forward), 77);
        assert!(
            roads
                .edges
                .iter()
                .filter(|e| e.highway == "motorway")
                .all(|e| e.oneway == Oneway::Forward)
        );
        assert_eq!(count(&roads.edges, |e| !e.access_drive), 253);
        let (b, _) = buildings_with_report(&osm);
        // README: 2,219 buildings; 2,171 footprints close inside the extract (Python ref).
        assert_eq!(b.len(), 2_171);
        let area: f64 = b.iter().map(|b| b.area_m2).sum();
        assert!((area - 341_291.7).abs() < 1.0, "{area}");
        assert_kinds(
            &kinds(&facilities(&osm)),
            &[
                ("kindergarten", 1, 0, 0.0),
                ("park", 1, 0, 0.0),
                ("parking", 12, 10, 8_462.0),
                ("pitch", 2, 2, 4_716.0),
                ("school", 1, 0, 0.0),
            ],
        );
    }

    #[test]
    fn shanghai_xml_roads() {
        let Some(p) = shared_data::file("cn/shanghai/shanghai_center.osm") else {
            return;
        };
        let osm = read_osm(&p).unwrap();
        // Overpass export of highway ways only (with complete nodes), no POI tags.
        assert_eq!((osm.nodes.len(), osm.ways.len()), (21_786, 4_701));
        let (roads, rep) = roads_with_report(&osm);
        // Python reference: 4,701 ways used, 7,077 edges, 975,348.1 m, 4,588 nodes,
        // one-way 4,122 forward + 9 backward, 181 closed to walking, 17 closed to driving.
        assert_eq!((rep.ways_used, rep.missing_node_refs), (4_701, 0));
        assert_eq!((roads.edges.len(), roads.nodes.len()), (7_077, 4_588));
        assert!((rep.total_length_m - 975_348.1).abs() < 0.1, "{}", rep.total_length_m);
        assert_eq!(count(&roads.edges, |e| e.oneway == Oneway::Forward), 4_122);
        assert_eq!(count(&roads.edges, |e| e.oneway == Oneway::Backward), 9);
        assert_eq!(count(&roads.edges, |e| !e.access_walk), 181);
        assert_eq!(count(&roads.edges, |e| !e.access_drive), 17);
        assert!(roads.edges.iter().any(|e| !e.name.is_empty()));
        assert!(facilities(&osm).is_empty());
    }

    #[test]
    fn beijing_region5_xml() {
        let Some(p) = shared_data::file("cn/beijing/osm_2015/region5.osm") else {
            return;
        };
        let osm = read_osm(&p).unwrap();
        // Raw OSM API export; its elements are not sorted by id (the reader sorts them).
        assert_eq!(
            (osm.nodes.len(), osm.ways.len(), osm.relations_seen),
            (9_534, 1_885, 452)
        );
        let (roads, rep) = roads_with_report(&osm);
        // Python reference: 1,183 highway ways, 98 highway=platform skipped, 2,342 edges,
        // 364,227.4 m, 1,764 nodes, 1,278 forward + 2 backward one-way edges.
        assert_eq!((rep.highway_ways, rep.ways_used), (1_183, 1_085));
        assert_eq!(rep.ways_skipped, vec![("highway=platform".to_string(), 98)]);
        assert_eq!((roads.edges.len(), roads.nodes.len()), (2_342, 1_764));
        assert!((rep.total_length_m - 364_227.4).abs() < 0.1, "{}", rep.total_length_m);
        assert_eq!(count(&roads.edges, |e| e.oneway == Oneway::Forward), 1_278);
        assert_eq!(count(&roads.edges, |e| e.oneway == Oneway::Backward), 2);
        assert_eq!(count(&roads.edges, |e| !e.access_walk), 7);
        assert_eq!(count(&roads.edges, |e| !e.access_drive), 479);
        assert_kinds(
            &kinds(&facilities(&osm)),
            &[
                ("hospital", 4, 1, 5_105.0),
                ("hotel", 4, 3, 18_500.0),
                ("park", 16, 16, 2_165_797.0),
                ("parking", 11, 8, 31_127.0),
                ("pitch", 15, 15, 81_628.0),
                ("school", 4, 3, 38_544.0),
                ("sports_centre", 3, 2, 1_314.0),
                ("stadium", 2, 2, 14_470.0),
                ("university", 3, 3, 498_805.0),
            ],
        );
        let b = buildings(&osm);
        assert_eq!(b.len(), 487);
        let area: f64 = b.iter().map(|b| b.area_m2).sum();
        assert!((area - 798_724.2).abs() < 1.0, "{area}");
    }

    #[test]
    fn truncated_pbf_is_one_clear_error() {
        let Some(p) = shared_data::file("osm/helsinki.osm.pbf") else {
            return;
        };
        let bytes = std::fs::read(&p).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cut = write_tmp(&dir, "cut.osm.pbf", &bytes[..10_000]);
        let e = read_osm(&cut).unwrap_err();
        eprintln!("{e}");
        let pos = e.position.clone().unwrap();
        assert!(
            pos.starts_with("blob ") && pos.contains("at byte ") && pos.ends_with("of 10000"),
            "{e}"
        );
        assert!(e.message.contains("truncated"), "{e}");
        assert_eq!(e.path, cut);
        // Garbage after a valid file is reported too.
        let mut extra = bytes.clone();
        extra.extend_from_slice(&[0, 0]);
        let e = read_osm(&write_tmp(&dir, "extra.osm.pbf", &extra)).unwrap_err();
        assert!(e.position.unwrap().contains(&format!("byte {}", bytes.len())));
    }

    #[test]
    fn malformed_xml_gives_line() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write_tmp(
            &dir,
            "bad.osm",
            b"<?xml version=\"1.0\"?>\n<osm version=\"0.6\">\n <node id=\"1\" lat=\"1\" lon=\"2\">\n  <tag k=\"a\" v=\"b\">\n </node>\n</osm>\n",
        );
        let e = read_osm(&bad).unwrap_err();
        assert_eq!(e.position.as_deref(), Some("line 5"), "{e}");
        assert!(e.message.contains("malformed XML"), "{e}");

        let bad = write_tmp(
            &dir,
            "lat.osm",
            b"<osm>\n<node id=\"7\" lat=\"x\" lon=\"2\"/>\n</osm>\n",
        );
        let e = read_osm(&bad).unwrap_err();
        assert_eq!(e.position.as_deref(), Some("line 2"), "{e}");
        assert!(e.message.contains("node 7") && e.message.contains("'lat'"), "{e}");

        let bad = write_tmp(
            &dir,
            "range.osm",
            b"<osm>\n\n<node id=\"7\" lat=\"95\" lon=\"2\"/>\n</osm>\n",
        );
        let e = read_osm(&bad).unwrap_err();
        assert_eq!(e.position.as_deref(), Some("line 3"), "{e}");

        let cut = write_tmp(
            &dir,
            "cut.osm",
            b"<osm>\n<node id=\"1\" lat=\"1\" lon=\"2\"/>\n<way id=\"3\">\n",
        );
        let e = read_osm(&cut).unwrap_err();
        assert!(e.message.contains("file ends inside <way>"), "{e}");

        let other = write_tmp(&dir, "x.osm", b"<graphml></graphml>");
        assert!(read_osm(&other).unwrap_err().message.contains("not an OSM XML file"));
        let junk = write_tmp(&dir, "x.bin", b"hello world, not osm");
        assert!(read_osm(&junk).unwrap_err().message.contains("neither OSM XML"));
        let empty = write_tmp(&dir, "e.osm", b"");
        assert!(read_osm(&empty).is_err());
    }

    /// Hand-made file: a multipolygon park built from two open outer ways (one reversed), an
    /// inner ring, a missing member way and an unclosable chain; a small road network.
    const FIXTURE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
 <bounds minlat="0" minlon="0" maxlat="0.01" maxlon="0.01"/>
 <node id="1" lat="0" lon="0"/>
 <node id="2" lat="0" lon="0.01"/>
 <node id="3" lat="0.01" lon="0.01"/>
 <node id="4" lat="0.01" lon="0"/>
 <node id="5" lat="0.004" lon="0.004"/>
 <node id="6" lat="0.004" lon="0.006"/>
 <node id="7" lat="0.006" lon="0.006"/>
 <node id="8" lat="0.006" lon="0.004"/>
 <node id="9" lat="0.002" lon="0.002"/>
 <node id="50" lat="0.001" lon="0.001"><tag k="amenity" v="school"/><tag k="name" v="A &amp; B"/></node>
 <node id="51" lat="0.001" lon="0.002" action="delete"><tag k="amenity" v="school"/></node>
 <node id="101" lat="0" lon="0"/>
 <node id="102" lat="0" lon="0.001"/>
 <node id="103" lat="0" lon="0.002"/>
 <node id="104" lat="0.001" lon="0.001"/>
 <node id="105" lat="0" lon="0.003"/>
 <node id="106" lat="0" lon="0.004"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/></way>
 <way id="11"><nd ref="1"/><nd ref="4"/><nd ref="3"/></way>
 <way id="12"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/></way>
 <way id="14"><nd ref="9"/><nd ref="2"/></way>
 <way id="15"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="5"/><tag k="building" v="school"/><tag k="building:levels" v="3;4"/></way>
 <way id="30"><nd ref="101"/><nd ref="102"/><nd ref="102"/><nd ref="103"/><tag k="highway" v="residential"/><tag k="name" v="Main"/></way>
 <way id="31"><nd ref="102"/><nd ref="104"/><tag k="highway" v="footway"/><tag k="oneway" v="-1"/></way>
 <way id="32"><nd ref="101"/><nd ref="104"/><tag k="highway" v="bus_stop"/></way>
 <way id="33"><nd ref="103"/><nd ref="999"/><nd ref="105"/><nd ref="106"/><tag k="highway" v="service"/><tag k="access" v="private"/></way>
 <relation id="20">
  <member type="way" ref="10" role="outer"/>
  <member type="way" ref="11" role=""/>
  <member type="way" ref="12" role="inner"/>
  <member type="way" ref="13" role="outer"/>
  <member type="way" ref="14" role="outer"/>
  <member type="node" ref="9" role="label"/>
  <tag k="type" v="multipolygon"/><tag k="leisure" v="park"/><tag k="name" v="Test park"/>
 </relation>
 <relation id="21"><member type="way" ref="30" role=""/><tag k="type" v="route"/></relation>
</osm>
"#;

    #[test]
    fn fixture_polygons_and_roads() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_tmp(&dir, "fixture.osm", FIXTURE.as_bytes());
        let osm = read_osm(&p).unwrap();
        assert_eq!((osm.relations.len(), osm.relations_seen), (1, 2));
        assert!(!osm.tagged_nodes.iter().any(|n| n.id == 51));

        let (f, rep) = facilities_with_report(&osm);
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].osm_id.as_str(), f[0].kind, f[0].name.as_str()),
            ("node/50", FacilityKind::School, "A & B")
        );
        assert_eq!(f[0].area_m2, None);
        let park = &f[1];
        assert_eq!((park.osm_id.as_str(), park.kind), ("relation/20", FacilityKind::Park));
        // pyproj Geod(ellps="WGS84"): outer 1,230,907.205 m² − inner 49,236.288 m².
        let area = park.area_m2.unwrap();
        assert!((area - 1_181_670.917).abs() < 0.01, "{area}");
        let g = park.geometry.as_ref().unwrap();
        assert_eq!((g.0.len(), g.0[0].interiors().len()), (1, 1));
        assert!((park.lon - 0.005).abs() < 1e-9 && (park.lat - 0.005).abs() < 1e-9);
        assert_eq!((rep.missing_member_ways, rep.rings_not_closed), (1, 1));

        let b = buildings(&osm);
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].kind.as_str(), b[0].levels), ("school", Some(3.0)));

        let (roads, rep) = roads_with_report(&osm);
        assert_eq!(rep.ways_skipped, vec![("highway=bus_stop".to_string(), 1)]);
        assert_eq!((rep.missing_node_refs, rep.ways_with_missing_nodes), (1, 1));
        let ids: Vec<i64> = roads.nodes.iter().map(|n| n.id).collect();
        assert_eq!(ids, vec![101, 102, 103, 104, 105, 106]);
        let e: Vec<(usize, usize, &str, Oneway, bool, bool)> = roads
            .edges
            .iter()
            .map(|e| (e.u, e.v, e.source_id.as_str(), e.oneway, e.access_walk, e.access_drive))
            .collect();
        assert_eq!(
            e,
            vec![
                (0, 1, "way/30", Oneway::No, true, true),
                (1, 2, "way/30", Oneway::No, true, true),
                (1, 3, "way/31", Oneway::Backward, true, false),
                (4, 5, "way/33", Oneway::No, false, false),
            ]
        );
        // Each edge spans 0.001° on the equator or a meridian: 111.195 m on the sphere.
        for e in &roads.edges {
            assert!((e.length_m - 111.195_08).abs() < 1e-3 && e.shape.is_empty());
        }
        assert_eq!(roads.edges[0].name, "Main");
    }

    #[test]
    fn tag_rules() {
        let t = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Tags>();
        assert_eq!(oneway_of(&t(&[("highway", "motorway")])), Oneway::Forward);
        assert_eq!(oneway_of(&t(&[("highway", "motorway"), ("oneway", "no")])), Oneway::No);
        assert_eq!(oneway_of(&t(&[("junction", "roundabout")])), Oneway::Forward);
        assert_eq!(oneway_of(&t(&[("oneway", "reversible")])), Oneway::No);
        assert_eq!(oneway_of(&t(&[("oneway", "true")])), Oneway::Forward);
        assert_eq!(oneway_of(&t(&[("oneway", "-1")])), Oneway::Backward);
        assert_eq!(
            access_of(&t(&[("highway", "residential"), ("access", "private")])),
            (false, false)
        );
        assert_eq!(
            access_of(&t(&[("highway", "residential"), ("access", "no"), ("foot", "yes")])),
            (true, false)
        );
        assert_eq!(access_of(&t(&[("highway", "primary"), ("foot", "no")])), (false, true));
        assert_eq!(
            access_of(&t(&[("highway", "primary"), ("motorcar", "no")])),
            (true, false)
        );
        assert_eq!(access_of(&t(&[("highway", "steps")])), (true, false));
        let k = |kv: &[(&str, &str)]| facility_kind(&t(kv));
        assert_eq!(k(&[("amenity", "shelter")]), None);
        assert_eq!(
            k(&[("amenity", "shelter"), ("shelter_type", "emergency")]),
            Some(FacilityKind::EmergencyShelter)
        );
        assert_eq!(
            k(&[("leisure", "park"), ("emergency", "assembly_point")]),
            Some(FacilityKind::AssemblyPoint)
        );
        assert_eq!(
            k(&[("highway", "pedestrian"), ("area", "yes")]),
            Some(FacilityKind::Square)
        );
        assert_eq!(
            k(&[("landuse", "industrial"), ("industrial", "warehouse")]),
            Some(FacilityKind::Warehouse)
        );
        assert_eq!(k(&[("healthcare", "hospital")]), Some(FacilityKind::Hospital));
        assert_eq!(
            k(&[("name", "朝阳公园应急避难场所")]),
            Some(FacilityKind::EmergencyShelter)
        );
        assert_eq!(
            k(&[("amenity", "restaurant"), ("leisure", "garden")]),
            Some(FacilityKind::Garden)
        );
        for kind in FacilityKind::ALL {
            assert_eq!(kind.as_str().parse::<FacilityKind>(), Ok(kind));
        }
        assert_eq!("Sports Centre".parse::<FacilityKind>(), Ok(FacilityKind::SportsCentre));
        assert!("mall".parse::<FacilityKind>().is_err());
        assert_eq!(parse_leading_number("12 m"), Some(12.0));
        assert_eq!(parse_leading_number("2.5"), Some(2.5));
        assert_eq!(parse_leading_number("many"), None);
    }

    #[test]
    fn gzip_xml_is_read() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.osm.gz");
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&p).unwrap(), flate2::Compression::fast());
        gz.write_all(FIXTURE.as_bytes()).unwrap();
        gz.finish().unwrap();
        let osm = read_osm(&p).unwrap();
        assert_eq!(roads(&osm).edges.len(), 4);
    }
}
