//! Road data as importers deliver it, before any profile is applied.
//!
//! Every road importer of `renxing-io` (OSM PBF/XML, node/edge CSV, GraphML) produces a
//! [`RoadData`]: junction nodes in WGS84 and edges carrying their OSM `highway` class, one-way
//! flag and length. Profiles ([`crate::profile`]) turn it into routable graphs.

/// Direction rule of an edge, OSM style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Oneway {
    /// Both directions.
    No,
    /// Only from `u` to `v`.
    Forward,
    /// Only from `v` to `u` (`oneway=-1`).
    Backward,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoadNode {
    /// Identifier in the source (OSM node id, CSV node id…).
    pub id: i64,
    pub lon: f64,
    pub lat: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoadEdge {
    /// Index into [`RoadData::nodes`].
    pub u: usize,
    pub v: usize,
    /// Length in metres along the edge geometry.
    pub length_m: f64,
    /// OSM `highway` value; empty when the source had none ("untagged").
    pub highway: String,
    pub oneway: Oneway,
    /// `access=no|private` (or `foot=no` for walking / `motor_vehicle=no` for driving) excludes it.
    pub access_walk: bool,
    pub access_drive: bool,
    pub name: String,
    /// Identifier of the edge in the source (way id, CSV line number…), for reports.
    pub source_id: String,
    /// Intermediate shape points (lon, lat) between `u` and `v`, excluding both ends; empty for a
    /// straight edge.
    pub shape: Vec<(f64, f64)>,
}

/// Where a turn restriction turns: at one junction, or along a chain of ways.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnVia {
    /// Index into [`RoadData::nodes`].
    Node(usize),
    /// Source ids of the via ways (`way/<id>`), in the order the source lists them.
    Ways(Vec<String>),
}

/// A turn restriction for motor cars, as the source states it (OSM `type=restriction`
/// relations): from one of the `from` ways, through `via`, onto one of the `to` ways.
/// [`crate::turns`] resolves it onto a graph.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnRestriction {
    /// Identifier in the source (`relation/<id>`), for reports.
    pub source_id: String,
    /// The `restriction` value (`no_left_turn`, `only_straight_on`…).
    pub value: String,
    /// `only_*` (every other continuation is forbidden) rather than `no_*`.
    pub only: bool,
    /// Source ids (`way/<id>`) of the `from` and `to` ways, as on [`RoadEdge::source_id`].
    pub from: Vec<String>,
    pub via: TurnVia,
    pub to: Vec<String>,
}

/// A road network as imported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoadData {
    pub nodes: Vec<RoadNode>,
    pub edges: Vec<RoadEdge>,
    /// Turn restrictions for motor cars (empty when the source has none or cannot carry them).
    pub turn_restrictions: Vec<TurnRestriction>,
    /// Where it came from (file path), for reports.
    pub source: String,
}

impl RoadEdge {
    /// The polyline of the edge from `u` to `v` in lon/lat, given the node table.
    pub fn polyline(&self, nodes: &[RoadNode]) -> Vec<(f64, f64)> {
        let mut line = Vec::with_capacity(self.shape.len() + 2);
        line.push((nodes[self.u].lon, nodes[self.u].lat));
        line.extend_from_slice(&self.shape);
        line.push((nodes[self.v].lon, nodes[self.v].lat));
        line
    }
}

impl RoadData {
    /// The part of the network inside a lon/lat box: nodes within it and the edges with both
    /// ends within it (renumbered; order kept). For tests and benchmarks on sub-networks.
    pub fn clip(&self, lon_min: f64, lat_min: f64, lon_max: f64, lat_max: f64) -> RoadData {
        let mut new_id = vec![usize::MAX; self.nodes.len()];
        let mut nodes = Vec::new();
        for (slot, n) in new_id.iter_mut().zip(&self.nodes) {
            if n.lon >= lon_min && n.lon <= lon_max && n.lat >= lat_min && n.lat <= lat_max {
                *slot = nodes.len();
                nodes.push(n.clone());
            }
        }
        let edges = self
            .edges
            .iter()
            .filter(|e| new_id[e.u] != usize::MAX && new_id[e.v] != usize::MAX)
            .map(|e| RoadEdge {
                u: new_id[e.u],
                v: new_id[e.v],
                ..e.clone()
            })
            .collect();
        let turn_restrictions = self
            .turn_restrictions
            .iter()
            .filter_map(|r| {
                let via = match &r.via {
                    TurnVia::Node(n) if new_id[*n] == usize::MAX => return None,
                    TurnVia::Node(n) => TurnVia::Node(new_id[*n]),
                    TurnVia::Ways(w) => TurnVia::Ways(w.clone()),
                };
                Some(TurnRestriction { via, ..r.clone() })
            })
            .collect();
        RoadData {
            nodes,
            edges,
            turn_restrictions,
            source: format!(
                "{} clipped to {lon_min:.4},{lat_min:.4},{lon_max:.4},{lat_max:.4}",
                self.source
            ),
        }
    }
}
