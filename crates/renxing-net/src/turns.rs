//! Turn restrictions: forbidden sequences of links, built into the graph itself.
//!
//! # What a restriction forbids
//!
//! A restriction of the source ([`crate::road::TurnRestriction`], from OSM `type=restriction` relations) is
//! resolved onto the graph as **forbidden arc sequences**. An arc is one link travelled in one
//! direction.
//!
//! - **Via node.** The pattern is `[from arc into the node, to arc out of it]`.
//!   - A `no_*` restriction forbids every such pair.
//!   - An `only_*` restriction forbids, after each from arc, every arc out of the node other than
//!     the allowed to arcs.
//!   - When `from` and `to` are the same way, the pair uses the same link only for a U-turn
//!     (`*_u_turn`); for any other value it uses the way's other links at the node.
//! - **Via ways.** The pattern runs through the via ways: the shortest chain of via-way arcs (in
//!   arcs) from where a from arc ends to a node where a to arc starts. For `only_*`, every
//!   departure from that path is forbidden.
//!
//! A restriction that cannot be placed is counted in the [`TurnReport`] by reason, and the first
//! [`MAX_LISTED`] are named. Reasons:
//! - its via node, or one of its ways, is not in the routable graph: the profile does not route
//!   it, or it was cut off from the kept component (one-way roads crossing the edge of an
//!   extract often are);
//! - its ways do not meet at the via;
//! - the directions it names cannot be travelled (a one-way from way leaving the node).
//!
//! # How the graph carries them
//!
//! The graph stays node-based, so the hierarchy, matrices and isochrones need no turn tables.
//! Instead, the nodes where a restriction's history matters are copied:
//!
//! 1. The patterns form an Aho–Corasick automaton over arcs. Its states are the proper prefixes
//!    of the patterns; its failure links follow the longest suffix that is also a prefix.
//! 2. Every state other than the empty one becomes a **copy** of the node where its last arc
//!    ends: "at this junction, having just come along these arcs".
//! 3. An arc of the expanded graph leaves a node (or copy) in state `s` over a link. It goes to
//!    the copy of the automaton's next state, or to the plain node when no prefix remains.
//! 4. An arc whose next state completes a pattern is left out.
//!
//! The result has the same shortest routes as a search that tracks the whole history, and it is
//! exact for overlapping and chained restrictions, not only single turns. A test checks this
//! against a Dijkstra that does track the history.
//!
//! Copies share the position of their node. Copied links share the geometry, length, time and
//! source edge of their road link. Links `0..road_links` are the road links that points snap to;
//! copies follow them ([`Graph::members`] lists a road link's copies). On a graph with
//! restrictions only a few hundred links are copied, so preprocessing and queries cost the same
//! as without.
//!
//! **Who is bound.**
//! - Restrictions bind motor cars: the `drive` profile.
//! - Pedestrians are not bound by them.
//! - Emergency vehicles are not bound by them: PRC Road Traffic Safety Law art. 53 frees them from
//!   route and direction rules.
//!
//! The profile's `turn_restrictions` flag says which of these applies.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::Serialize;

use crate::graph::{Graph, Link};
use crate::road::{RoadData, TurnVia};

/// What happened to the restrictions of the road data on one graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TurnReport {
    /// Restrictions in the road data.
    pub restrictions: usize,
    /// Restrictions placed on the graph.
    pub applied: usize,
    /// Restrictions left out, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// The first [`MAX_LISTED`] restrictions left out: (source id, reason).
    pub skipped_list: Vec<(String, String)>,
    /// Forbidden arc sequences they became (an `only_*` restriction gives one per forbidden
    /// continuation).
    pub forbidden_sequences: usize,
    /// Node and link copies added to carry them.
    pub node_copies: usize,
    pub link_copies: usize,
}

/// How many skipped restrictions [`TurnReport::skipped_list`] names.
pub const MAX_LISTED: usize = 100;

/// An arc of the graph before expansion: `link << 1 | 1` when travelled from `b` to `a`.
type ArcId = u32;

fn arc(link: u32, backward: bool) -> ArcId {
    link << 1 | backward as u32
}

fn arc_link(a: ArcId) -> u32 {
    a >> 1
}

fn tail(links: &[Link], a: ArcId) -> u32 {
    let l = &links[arc_link(a) as usize];
    if a & 1 == 0 { l.a } else { l.b }
}

fn head(links: &[Link], a: ArcId) -> u32 {
    let l = &links[arc_link(a) as usize];
    if a & 1 == 0 { l.b } else { l.a }
}

/// Arcs out of and into every node of a graph not yet expanded.
struct Arcs {
    out: Vec<Vec<ArcId>>,
    into: Vec<Vec<ArcId>>,
}

impl Arcs {
    fn of(n: usize, links: &[Link]) -> Arcs {
        let mut out = vec![Vec::new(); n];
        let mut into = vec![Vec::new(); n];
        for (li, l) in links.iter().enumerate() {
            let li = li as u32;
            if l.forward {
                out[l.a as usize].push(arc(li, false));
                into[l.b as usize].push(arc(li, false));
            }
            if l.backward {
                out[l.b as usize].push(arc(li, true));
                into[l.a as usize].push(arc(li, true));
            }
        }
        Arcs { out, into }
    }
}

/// Resolve restrictions onto a graph (before expansion) as forbidden arc sequences, each of at
/// least two arcs, consecutive.
pub fn forbidden_sequences(graph: &Graph, road: &RoadData, report: &mut TurnReport) -> Vec<Vec<ArcId>> {
    if road.turn_restrictions.is_empty() {
        return Vec::new();
    }
    let links = &graph.links;
    let arcs = Arcs::of(graph.node_count(), links);
    let named: HashSet<&str> = road
        .turn_restrictions
        .iter()
        .flat_map(|r| {
            let via: &[String] = match &r.via {
                TurnVia::Ways(w) => w,
                TurnVia::Node(_) => &[],
            };
            r.from.iter().chain(&r.to).chain(via).map(String::as_str)
        })
        .collect();
    let mut links_of_way: HashMap<&str, Vec<u32>> = HashMap::new();
    for (li, l) in links.iter().enumerate() {
        let id = road.edges[l.source_edge].source_id.as_str();
        if named.contains(id) {
            links_of_way.entry(id).or_default().push(li as u32);
        }
    }
    let mut node_of_road = HashMap::new();
    for r in &road.turn_restrictions {
        if let TurnVia::Node(n) = r.via {
            node_of_road.insert(n, u32::MAX);
        }
    }
    for (g, &r) in graph.node_source.iter().enumerate() {
        if let Some(slot) = node_of_road.get_mut(&r) {
            *slot = g as u32;
        }
    }
    let set = |ways: &[String]| -> HashSet<u32> {
        ways.iter()
            .flat_map(|w| links_of_way.get(w.as_str()).into_iter().flatten().copied())
            .collect()
    };
    let mut out = Vec::new();
    report.restrictions = road.turn_restrictions.len();
    for r in &road.turn_restrictions {
        let (from, to) = (set(&r.from), set(&r.to));
        let u_turn = r.value.ends_with("u_turn");
        let same_way = {
            let (mut f, mut t) = (r.from.clone(), r.to.clone());
            f.sort();
            t.sort();
            f == t
        };
        // Which (from arc, to arc) pairs the restriction names, given the arcs around a node.
        let pair_ok = |f: ArcId, t: ArcId| {
            if same_way && u_turn {
                arc_link(f) == arc_link(t)
            } else {
                arc_link(f) != arc_link(t)
            }
        };
        let via_ways = match &r.via {
            TurnVia::Ways(w) => Some(set(w)),
            TurnVia::Node(_) => None,
        };
        let found: Result<Vec<Vec<ArcId>>, &str> = match &r.via {
            _ if from.is_empty() || to.is_empty() || via_ways.as_ref().is_some_and(|v| v.is_empty()) => {
                Err("a member way is not in the routable graph (profile or kept component)")
            }
            TurnVia::Node(n) => {
                let v = node_of_road[n];
                if v == u32::MAX {
                    Err("via node outside the routable graph")
                } else {
                    let froms: Vec<ArcId> = arcs.into[v as usize]
                        .iter()
                        .copied()
                        .filter(|a| from.contains(&arc_link(*a)))
                        .collect();
                    let tos: Vec<ArcId> = arcs.out[v as usize]
                        .iter()
                        .copied()
                        .filter(|a| to.contains(&arc_link(*a)))
                        .collect();
                    turn_patterns(&froms, &[], &tos, &arcs.out[v as usize], r.only, pair_ok)
                }
            }
            // Through via ways the to arc never shares a link with the last via arc; a U-turn
            // there is onto the from way's other carriageway or itself, both named by `to`.
            TurnVia::Ways(_) => {
                via_way_patterns(links, &arcs, &from, via_ways.as_ref().unwrap(), &to, r.only, |p, t| {
                    arc_link(p) != arc_link(t)
                })
            }
        };
        let why = match found {
            Ok(p) if !p.is_empty() => {
                report.applied += 1;
                out.extend(p);
                continue;
            }
            Ok(_) => "nothing to forbid at the via",
            Err(why) => why,
        };
        *report.skipped.entry(why.to_string()).or_default() += 1;
        if report.skipped_list.len() < MAX_LISTED {
            report.skipped_list.push((r.source_id.clone(), why.to_string()));
        }
    }
    out.sort();
    out.dedup();
    report.forbidden_sequences = out.len();
    out
}

/// Patterns of one restriction at the node where `path` (possibly empty) ends after each from
/// arc: `no_*` forbids `[f, path…, t]` for the named pairs; `only_*` forbids every other
/// continuation there, and every departure from `path` on the way.
fn turn_patterns(
    froms: &[ArcId],
    path: &[ArcId],
    tos: &[ArcId],
    out_of_end: &[ArcId],
    only: bool,
    pair_ok: impl Fn(ArcId, ArcId) -> bool,
) -> Result<Vec<Vec<ArcId>>, &'static str> {
    if froms.is_empty() || tos.is_empty() {
        return Err("from or to way does not meet the via in a direction it may be travelled");
    }
    let last = |f: ArcId| path.last().copied().unwrap_or(f);
    let mut pats = Vec::new();
    for &f in froms {
        let allowed: Vec<ArcId> = tos.iter().copied().filter(|&t| pair_ok(last(f), t)).collect();
        if allowed.is_empty() {
            continue;
        }
        let mut prefix = vec![f];
        prefix.extend_from_slice(path);
        if only {
            for &x in out_of_end.iter().filter(|x| !allowed.contains(x)) {
                let mut p = prefix.clone();
                p.push(x);
                pats.push(p);
            }
        } else {
            for &t in &allowed {
                let mut p = prefix.clone();
                p.push(t);
                pats.push(p);
            }
        }
    }
    if pats.is_empty() && !only {
        return Err("from or to way does not meet the via in a direction it may be travelled");
    }
    Ok(pats)
}

/// Patterns of a restriction through via ways: for each from arc, the shortest chain of via-way
/// arcs (breadth first) from its head to a node with a to arc.
fn via_way_patterns(
    links: &[Link],
    arcs: &Arcs,
    from: &HashSet<u32>,
    via: &HashSet<u32>,
    to: &HashSet<u32>,
    only: bool,
    pair_ok: impl Fn(ArcId, ArcId) -> bool + Copy,
) -> Result<Vec<Vec<ArcId>>, &'static str> {
    let mut froms: Vec<ArcId> = Vec::new();
    for &l in from {
        for back in [false, true] {
            let a = arc(l, back);
            let ok = if back {
                links[l as usize].backward
            } else {
                links[l as usize].forward
            };
            if ok
                && arcs.out[head(links, a) as usize]
                    .iter()
                    .any(|x| via.contains(&arc_link(*x)))
            {
                froms.push(a);
            }
        }
    }
    froms.sort();
    let mut pats = Vec::new();
    for f in froms {
        // Breadth-first over via arcs from the head of f; the first node with a to arc ends it.
        let start = head(links, f);
        let mut came: HashMap<u32, ArcId> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        let mut seen = HashSet::from([start]);
        let mut end = None;
        while let Some(v) = queue.pop_front() {
            if v != start && arcs.out[v as usize].iter().any(|x| to.contains(&arc_link(*x))) {
                end = Some(v);
                break;
            }
            for &x in &arcs.out[v as usize] {
                let w = head(links, x);
                if via.contains(&arc_link(x)) && seen.insert(w) {
                    came.insert(w, x);
                    queue.push_back(w);
                }
            }
        }
        let Some(end) = end else { continue };
        let mut path = Vec::new();
        let mut v = end;
        while v != start {
            let x = came[&v];
            path.push(x);
            v = tail(links, x);
        }
        path.reverse();
        let tos: Vec<ArcId> = arcs.out[end as usize]
            .iter()
            .copied()
            .filter(|x| to.contains(&arc_link(*x)))
            .collect();
        let Ok(mut p) = turn_patterns(&[f], &path, &tos, &arcs.out[end as usize], only, pair_ok) else {
            continue;
        };
        if only {
            // Leaving the via path early is a departure too.
            let mut prefix = vec![f];
            for &step in &path {
                let at = tail(links, step);
                for &x in arcs.out[at as usize].iter().filter(|&&x| x != step) {
                    let mut q = prefix.clone();
                    q.push(x);
                    p.push(q);
                }
                prefix.push(step);
            }
        }
        pats.extend(p);
    }
    if pats.is_empty() {
        return Err("via ways do not join the from and to ways");
    }
    Ok(pats)
}

/// Aho–Corasick automaton over arc ids.
struct Automaton {
    /// Per state: children by arc, failure state, whether a pattern ends here (or at a suffix).
    next: Vec<HashMap<ArcId, u32>>,
    fail: Vec<u32>,
    forbidden: Vec<bool>,
    /// Last arc of each state (unused for the root).
    last: Vec<ArcId>,
}

impl Automaton {
    fn new(patterns: &[Vec<ArcId>]) -> Automaton {
        let mut a = Automaton {
            next: vec![HashMap::new()],
            fail: vec![0],
            forbidden: vec![false],
            last: vec![0],
        };
        for p in patterns {
            let mut s = 0u32;
            for &x in p {
                s = match a.next[s as usize].get(&x) {
                    Some(&t) => t,
                    None => {
                        let t = a.next.len() as u32;
                        a.next.push(HashMap::new());
                        a.fail.push(0);
                        a.forbidden.push(false);
                        a.last.push(x);
                        a.next[s as usize].insert(x, t);
                        t
                    }
                };
            }
            a.forbidden[s as usize] = true;
        }
        // Failure links breadth first, children in arc order for determinism.
        let mut queue: VecDeque<u32> = VecDeque::new();
        let mut kids: Vec<(ArcId, u32)> = a.next[0].iter().map(|(&x, &t)| (x, t)).collect();
        kids.sort();
        queue.extend(kids.iter().map(|k| k.1));
        while let Some(s) = queue.pop_front() {
            let mut kids: Vec<(ArcId, u32)> = a.next[s as usize].iter().map(|(&x, &t)| (x, t)).collect();
            kids.sort();
            for (x, t) in kids {
                let f = a.step(a.fail[s as usize], x);
                a.fail[t as usize] = f;
                // Past a completed pattern (its suffix, or its parent) nothing is reachable.
                a.forbidden[t as usize] |= a.forbidden[f as usize] || a.forbidden[s as usize];
                queue.push_back(t);
            }
        }
        a
    }

    fn step(&self, mut s: u32, x: ArcId) -> u32 {
        loop {
            if let Some(&t) = self.next[s as usize].get(&x) {
                return t;
            }
            if s == 0 {
                return 0;
            }
            s = self.fail[s as usize];
        }
    }
}

/// The graph with the forbidden sequences built in (see the module doc). Links keep their
/// indices; copies are appended.
pub fn expand(mut graph: Graph, patterns: &[Vec<ArcId>], report: &mut TurnReport) -> Graph {
    if patterns.is_empty() {
        return graph;
    }
    let auto = Automaton::new(patterns);
    let n = graph.node_count() as u32;
    let links = std::mem::take(&mut graph.links);
    let arcs = Arcs::of(n as usize, &links);
    // Node of each state: the plain node for the root, a copy for every other non-forbidden state.
    let mut copy_of_node: Vec<u32> = Vec::new();
    let mut node_of_state = vec![u32::MAX; auto.next.len()];
    for (s, slot) in node_of_state.iter_mut().enumerate().skip(1) {
        if !auto.forbidden[s] {
            *slot = n + copy_of_node.len() as u32;
            copy_of_node.push(head(&links, auto.last[s]));
        }
    }
    // Expanded arcs per link: (backward, tail, head).
    let mut per_link: Vec<Vec<(bool, u32, u32)>> = vec![Vec::new(); links.len()];
    let target = |s: u32, x: ArcId| -> Option<u32> {
        let t = auto.step(s, x);
        if auto.forbidden[t as usize] {
            None
        } else if t == 0 {
            Some(head(&links, x))
        } else {
            Some(node_of_state[t as usize])
        }
    };
    for (v, out) in arcs.out.iter().enumerate() {
        for &x in out {
            let h = target(0, x).expect("a single arc completes no pattern");
            per_link[arc_link(x) as usize].push((x & 1 == 1, v as u32, h));
        }
    }
    for s in 1..auto.next.len() as u32 {
        if auto.forbidden[s as usize] {
            continue;
        }
        let at = head(&links, auto.last[s as usize]);
        for &x in &arcs.out[at as usize] {
            if let Some(h) = target(s, x) {
                per_link[arc_link(x) as usize].push((x & 1 == 1, node_of_state[s as usize], h));
            }
        }
    }
    // Rebuild the link list: each road link keeps its index (two-way where its plain arcs still
    // mirror each other); every other expanded arc becomes a one-way copy.
    let mut out_links = links.clone();
    let mut copy_of_link = Vec::new();
    let mut shapes_extra = Vec::new();
    let one_way = |l: &Link, (back, t, h): (bool, u32, u32)| Link {
        a: if back { h } else { t },
        b: if back { t } else { h },
        forward: !back,
        backward: back,
        ..l.clone()
    };
    for (li, members) in per_link.iter().enumerate() {
        let l = &links[li];
        let plain_f = members.iter().position(|m| !m.0 && m.1 == l.a);
        let plain_b = members.iter().position(|m| m.0 && m.1 == l.b);
        let mut rest: Vec<usize> = (0..members.len()).collect();
        match (plain_f, plain_b) {
            (Some(f), Some(b)) if members[f].2 == l.b && members[b].2 == l.a => {
                rest.retain(|&i| i != f && i != b); // unchanged two-way link
            }
            (Some(f), _) => {
                out_links[li] = one_way(l, members[f]);
                rest.retain(|&i| i != f);
            }
            (None, Some(b)) => {
                out_links[li] = one_way(l, members[b]);
                rest.retain(|&i| i != b);
            }
            (None, None) => unreachable!("every arc leaves its plain tail"),
        }
        for i in rest {
            out_links.push(one_way(l, members[i]));
            copy_of_link.push(li as u32);
            shapes_extra.push(graph.shapes[li].clone());
        }
    }
    report.node_copies = copy_of_node.len();
    report.link_copies = copy_of_link.len();
    graph.shapes.extend(shapes_extra);
    for &v in &copy_of_node {
        graph.node_source.push(graph.node_source[v as usize]);
        graph.lon.push(graph.lon[v as usize]);
        graph.lat.push(graph.lat[v as usize]);
    }
    graph.set_links(out_links, copy_of_link, copy_of_node);
    graph
}

/// The graph of a profile with the road data's restrictions in it, and the report.
pub fn apply(graph: Graph, road: &RoadData) -> (Graph, TurnReport) {
    let mut report = TurnReport::default();
    let patterns = forbidden_sequences(&graph, road, &mut report);
    let g = expand(graph, &patterns, &mut report);
    (g, report)
}

/// Costs from `seeds` to every node of a graph *without* restrictions built in, by a Dijkstra
/// over (node, last arcs) states that refuses any arc completing a forbidden sequence: the slow,
/// obvious reference [`expand`] is tested against. `patterns` are those of
/// [`forbidden_sequences`] on this graph; the cost of a node is the cheapest over its states.
pub fn dijkstra_with_history(
    graph: &Graph,
    links: &crate::cch::LinkCosts,
    metric: crate::access::Metric,
    patterns: &[Vec<ArcId>],
    seeds: &[(u32, crate::cch::Cost2)],
) -> Vec<crate::cch::Cost2> {
    use crate::cch::{Item, UNREACHED, add, better};
    use std::collections::BinaryHeap;
    let keep = patterns.iter().map(Vec::len).max().unwrap_or(1) - 1;
    let forbidden: HashSet<&[ArcId]> = patterns.iter().map(Vec::as_slice).collect();
    let arcs = Arcs::of(graph.node_count(), &graph.links);
    // States (node, last arcs), numbered in order of discovery, with their best cost.
    let mut id_of: HashMap<(u32, Vec<ArcId>), u32> = HashMap::new();
    let mut states = Vec::new();
    let mut heap = BinaryHeap::new();
    type States = Vec<(u32, Vec<ArcId>, crate::cch::Cost2)>;
    let mut offer = |v: u32, hist: Vec<ArcId>, c, states: &mut States, heap: &mut BinaryHeap<Item>| {
        let id = *id_of.entry((v, hist.clone())).or_insert_with(|| {
            states.push((v, hist, UNREACHED));
            states.len() as u32 - 1
        });
        if better(c, states[id as usize].2) {
            states[id as usize].2 = c;
            heap.push(Item(c, id));
        }
    };
    for &(v, c) in seeds {
        offer(v, Vec::new(), c, &mut states, &mut heap);
    }
    let mut dist = vec![UNREACHED; graph.node_count()];
    while let Some(Item(c, id)) = heap.pop() {
        let (v, hist, b) = states[id as usize].clone();
        if better(b, c) {
            continue; // stale entry
        }
        if better(c, dist[v as usize]) {
            dist[v as usize] = c;
        }
        for &x in &arcs.out[v as usize] {
            let l = arc_link(x) as usize;
            if !links.open[l] {
                continue;
            }
            let mut seq = hist.clone();
            seq.push(x);
            if (0..seq.len().saturating_sub(1)).any(|i| forbidden.contains(&seq[i..])) {
                continue;
            }
            if seq.len() > keep {
                seq.drain(..seq.len() - keep);
            }
            offer(
                head(&graph.links, x),
                seq,
                add(c, links.pair(metric, l)),
                &mut states,
                &mut heap,
            );
        }
    }
    dist
}

/// Whether a route, as arcs of the graph without restrictions, contains a forbidden sequence.
pub fn breaks_a_restriction(patterns: &[Vec<ArcId>], route: &[ArcId]) -> bool {
    patterns
        .iter()
        .any(|p| route.windows(p.len()).any(|w| w == p.as_slice()))
}

/// The arc (of the graph without restrictions) that a link of a graph with restrictions
/// travels, in direction `forward` (from its `a` to its `b` end) or not.
pub fn arc_of(graph: &Graph, link: usize, forward: bool) -> ArcId {
    arc(graph.road_link(link) as u32, !forward)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Metric;
    use crate::cch::{Cch, Customized, LinkCosts, UNREACHED, to_units};
    use crate::profile::{Mode, Profile};
    use crate::road::{Oneway, RoadEdge, RoadNode, TurnRestriction};
    use crate::test_city::{Rng, city};

    fn plain(mode: Mode) -> Profile {
        Profile {
            turn_restrictions: false,
            ..Profile::builtin(mode)
        }
    }

    /// Random consecutive arc sequences of two and three arcs on a graph.
    fn random_patterns(g: &Graph, n: usize, seed: u64) -> Vec<Vec<ArcId>> {
        let arcs = Arcs::of(g.node_count(), &g.links);
        let mut rng = Rng(seed);
        let mut out = Vec::new();
        while out.len() < n {
            let v = (rng.next() * g.node_count() as f64) as usize;
            let Some(&first) = arcs.into[v].get((rng.next() * arcs.into[v].len() as f64) as usize) else {
                continue;
            };
            let mut p = vec![first];
            let len = if rng.next() < 0.3 { 3 } else { 2 };
            while p.len() < len {
                let at = head(&g.links, *p.last().unwrap()) as usize;
                let outs = &arcs.out[at];
                if outs.is_empty() {
                    break;
                }
                p.push(outs[(rng.next() * outs.len() as f64) as usize]);
            }
            if p.len() == len {
                out.push(p);
            }
        }
        out
    }

    /// Expanded graph (CCH and plain Dijkstra) equals the history-tracking reference from many
    /// sources, for node-via and chained restrictions that overlap.
    #[test]
    fn expansion_equals_history_dijkstra_on_random_restrictions() {
        for (seed, count) in [(3u64, 60usize), (11, 150), (29, 400)] {
            let base = Graph::build(&city(16, seed), &plain(Mode::Drive));
            let pats = random_patterns(&base, count, seed * 7 + 1);
            let mut report = TurnReport::default();
            let g = expand(base.clone(), &pats, &mut report);
            assert!(report.node_copies > 0 && report.link_copies > 0);
            assert_eq!(g.road_links, base.links.len());
            assert_eq!(g.road_nodes, base.node_count());
            for metric in [Metric::Distance, Metric::Time] {
                let cch = Cch::build(&g);
                let cust = Customized::new(&cch, &g, metric, LinkCosts::of(&g));
                let base_costs = LinkCosts::of(&base);
                let mut rng = Rng(seed);
                let mut differs = 0;
                for _ in 0..12 {
                    let s = (rng.next() * base.node_count() as f64) as u32;
                    let seeds = [(s, [0.0, 0.0])];
                    let want = dijkstra_with_history(&base, &base_costs, metric, &pats, &seeds);
                    let plain_dij = crate::cch::dijkstra_pairs(&base, &base_costs, metric, &seeds);
                    let mut got_all = Vec::new();
                    cust.sweep_from(&[seeds.to_vec()], true, &mut got_all, None);
                    for v in 0..base.node_count() as u32 {
                        let got = g
                            .at_junction(v)
                            .map(|c| got_all[cch.rank[c as usize] as usize * crate::cch::LANES])
                            .fold(UNREACHED, |a, b| if crate::cch::better(b, a) { b } else { a });
                        assert_eq!(got, want[v as usize], "seed {seed}, from {s} to {v}, {metric:?}");
                        differs += (want[v as usize] != plain_dij[v as usize]) as usize;
                    }
                }
                assert!(differs > 0, "the restrictions change some routes (seed {seed})");
            }
        }
    }

    fn edge(u: usize, v: usize, way: &str) -> RoadEdge {
        RoadEdge {
            u,
            v,
            length_m: 100.0,
            highway: "residential".into(),
            oneway: Oneway::No,
            access_walk: true,
            access_drive: true,
            name: String::new(),
            source_id: way.into(),
            shape: vec![],
        }
    }

    fn ring(u: usize, v: usize, way: &str) -> RoadEdge {
        RoadEdge {
            length_m: 250.0,
            ..edge(u, v, way)
        }
    }

    /// A crossroads (centre 0; arms of 100 m: 1 north, 2 east, 3 south, 4 west) joined by an
    /// outer ring of 250 m links, so every forbidden turn has a longer way round.
    fn crossroads(restrictions: Vec<TurnRestriction>) -> RoadData {
        let at = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (0.0, -1.0), (-1.0, 0.0)];
        RoadData {
            nodes: at
                .iter()
                .enumerate()
                .map(|(i, &(x, y))| RoadNode {
                    id: i as i64,
                    lon: 116.0 + x * 1e-3,
                    lat: 39.9 + y * 1e-3,
                })
                .collect(),
            edges: vec![
                edge(0, 1, "way/1"),
                edge(0, 2, "way/2"),
                edge(0, 3, "way/3"),
                edge(0, 4, "way/4"),
                ring(1, 2, "way/12"),
                ring(2, 3, "way/23"),
                ring(3, 4, "way/34"),
                ring(4, 1, "way/41"),
            ],
            turn_restrictions: restrictions,
            source: "crossroads".into(),
        }
    }

    fn restriction(value: &str, from: &str, via: TurnVia, to: &str) -> TurnRestriction {
        TurnRestriction {
            source_id: "relation/1".into(),
            value: value.into(),
            only: value.starts_with("only_"),
            from: vec![from.into()],
            via,
            to: vec![to.into()],
        }
    }

    fn metres(g: &Graph, from: u32, to: u32) -> f64 {
        let c = crate::cch::dijkstra_pairs(g, &LinkCosts::of(g), Metric::Distance, &[(from, [0.0, 0.0])]);
        g.at_junction(to)
            .map(|v| crate::cch::from_units(c[v as usize][0]))
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn no_and_only_restrictions_at_a_crossroads() {
        let drive = Profile::builtin(Mode::Drive);
        // From the south arm (3) heading north through the centre: straight on is arm 1.
        let free = Graph::build(&crossroads(vec![]), &drive);
        assert_eq!(metres(&free, 3, 1), 200.0);
        assert_eq!(metres(&free, 3, 4), 200.0);

        let no_straight = crossroads(vec![restriction("no_straight_on", "way/3", TurnVia::Node(0), "way/1")]);
        let g = Graph::build(&no_straight, &drive);
        let rep = g.report.turns.clone().unwrap();
        assert_eq!((rep.applied, rep.forbidden_sequences), (1, 1));
        // 3 → 0 → 1 is forbidden: turn right at 0, U-turn at 2, and straight over 0 (4 × 100 m;
        // U-turns at junctions are allowed unless a restriction says otherwise).
        assert_eq!(metres(&g, 3, 1), 400.0);
        assert_eq!(metres(&g, 3, 4), 200.0, "other turns stay");
        assert_eq!(metres(&g, 1, 3), 200.0, "the opposite direction is not restricted");
        let base = Graph::build(&no_straight, &plain(Mode::Drive));
        let mut r = TurnReport::default();
        let pats = forbidden_sequences(&base, &no_straight, &mut r);
        let want = dijkstra_with_history(
            &base,
            &LinkCosts::of(&base),
            Metric::Distance,
            &pats,
            &[(3, [0.0, 0.0])],
        );
        assert_eq!(to_units(metres(&g, 3, 1)), want[1][0]);

        // only_right_turn from the south arm (heading north, right is east = arm 2).
        let only = crossroads(vec![restriction("only_right_turn", "way/3", TurnVia::Node(0), "way/2")]);
        let g = Graph::build(&only, &drive);
        let rep = g.report.turns.clone().unwrap();
        // Forbidden: onto 1, 4, and the U-turn back onto 3.
        assert_eq!((rep.applied, rep.forbidden_sequences), (1, 3));
        assert_eq!(metres(&g, 3, 2), 200.0);
        assert_eq!((metres(&g, 3, 1), metres(&g, 3, 4)), (400.0, 250.0));

        // no_u_turn on one way; a walking graph ignores restrictions.
        let u = crossroads(vec![restriction("no_u_turn", "way/3", TurnVia::Node(0), "way/3")]);
        let g = Graph::build(&u, &drive);
        assert_eq!(g.report.turns.as_ref().unwrap().forbidden_sequences, 1);
        let walk = Graph::build(&u, &Profile::builtin(Mode::Walk));
        assert!(walk.report.turns.is_none() && walk.links.len() == walk.road_links);
    }

    #[test]
    fn via_way_restriction_forbids_the_chain_only() {
        // From arm 3 through the centre and along way/1 to node 1, then not onto the ring 41.
        let r = crossroads(vec![TurnRestriction {
            via: TurnVia::Ways(vec!["way/1".into()]),
            ..restriction("no_left_turn", "way/3", TurnVia::Node(0), "way/41")
        }]);
        let g = Graph::build(&r, &Profile::builtin(Mode::Drive));
        let rep = g.report.turns.clone().unwrap();
        assert_eq!((rep.applied, rep.forbidden_sequences), (1, 1), "{rep:?}");
        let free = Graph::build(&crossroads(vec![]), &Profile::builtin(Mode::Drive));
        assert_eq!(metres(&g, 3, 1), 200.0, "the via path itself is allowed");
        assert_eq!(metres(&g, 0, 4), 100.0);
        // A point on the ring link 41, 10 m from node 1: 3 → 0 → 1 → onto 41 is the forbidden
        // chain; the best remaining is 3 → 0 → 2, U-turn, 2 → 0 → 1, then onto 41 (410 m).
        let to_point = |g: &Graph| {
            let cch = Cch::build(g);
            let cust = Customized::new(&cch, g, Metric::Distance, LinkCosts::of(g));
            let at = crate::matrix::Attach {
                cust: &cust,
                graph: g,
                access_speed_mps: 1.0,
            };
            let l41 = (0..g.road_links)
                .find(|&l| r.edges[g.links[l].source_edge].source_id == "way/41")
                .unwrap();
            let along = if g.junction(g.links[l41].a) == 1 { 10.0 } else { 240.0 };
            let snap = crate::snap::Snap {
                link: l41 as u32,
                along_m: along,
                offset_m: 0.0,
            };
            let c = crate::cch::dijkstra_pairs(g, &cust.links, Metric::Distance, &[(3, [0.0, 0.0])]);
            at.enter(&snap)
                .unwrap()
                .iter()
                .map(|&(v, w)| crate::cch::from_units(crate::cch::add(c[v as usize], w)[0]))
                .fold(f64::INFINITY, f64::min)
        };
        assert_eq!((to_point(&free), to_point(&g)), (210.0, 410.0));
        // Every route agrees with the history-tracking reference.
        let base = Graph::build(&r, &plain(Mode::Drive));
        let mut rr = TurnReport::default();
        let pats = forbidden_sequences(&base, &r, &mut rr);
        assert_eq!(pats.len(), 1);
        assert_eq!(pats[0].len(), 3);
        for s in 0..5u32 {
            let want = dijkstra_with_history(
                &base,
                &LinkCosts::of(&base),
                Metric::Distance,
                &pats,
                &[(s, [0.0, 0.0])],
            );
            for t in 0..5u32 {
                assert_eq!(to_units(metres(&g, s, t)), want[t as usize][0], "{s} → {t}");
            }
        }
    }

    #[test]
    fn unplaceable_restrictions_are_reported_by_reason() {
        let r = crossroads(vec![
            restriction("no_left_turn", "way/12", TurnVia::Node(0), "way/3"),
            restriction("no_left_turn", "way/3", TurnVia::Ways(vec!["way/23".into()]), "way/1"),
        ]);
        let g = Graph::build(&r, &Profile::builtin(Mode::Drive));
        let rep = g.report.turns.clone().unwrap();
        assert_eq!(rep.applied, 0);
        assert_eq!(rep.restrictions, 2);
        assert_eq!(rep.skipped.values().sum::<usize>(), 2, "{rep:?}");
        assert_eq!(g.links.len(), g.road_links);
    }
}
