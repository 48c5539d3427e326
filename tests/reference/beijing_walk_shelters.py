#!/usr/bin/env python3
"""Independent reference: walking distance from every node of the Beijing walk network to its
nearest emergency shelter.

This script is the oracle for Renxing's Rust implementation of the same job. It is written from
the definition below (see tests/reference/README.md), not from the Rust code, and uses only the
Python standard library, numpy and networkx (scipy is used for an optional cross-check).

Definition
----------
1. Walk graph: rows of the edges CSV whose `highway` is in WALK_HIGHWAYS (mirrors
   crates/renxing-net/profiles.toml [walk]). Undirected (the `oneway` column is ignored).
   Weight = `length_m`. Self-loops (u == v) are dropped. Parallel edges between the same
   unordered pair keep the minimum length.
2. Main component: the largest connected component by node count.
3. Local projection: lon0/lat0 = (min+max)/2 of the main component's node lon/lat;
   x = R*cos(lat0*pi/180)*(lon-lon0)*pi/180, y = R*(lat-lat0)*pi/180, R = 6371008.8 m.
4. Each shelter (lon_wgs84, lat_wgs84) snaps to the nearest edge of the main component, each edge a
   straight segment a->b between its end nodes in that projection:
   t = clamp(((p-a).(b-a))/|b-a|^2, 0, 1) (t = 0 when |b-a| = 0), s = |p - (a + t(b-a))|.
   Exact brute-force search over all edges (numpy, shelters in chunks). Ties on s keep the first
   edge in edge order (edges sorted by (min(u,v), max(u,v)), endpoint a = the smaller node id).
   The shelter reaches a at cost s + t*len and b at cost s + (1-t)*len, len = the edge weight.
5. Multi-source Dijkstra: one virtual source node joined to every snapped endpoint with the
   smallest such cost, then networkx.single_source_dijkstra_path_length from it over the main
   component. (networkx's multi_source_dijkstra_path_length has no initial costs.)
6. Outputs: a JSON summary and a sample CSV (node_id % 32 == 0) next to this script.

Floats are parsed with Python's float() (correctly rounded, like Rust's str::parse::<f64>), never
with pandas' default fast parser.

Run:  $HOME/.cache/peers/venv/bin/python tests/reference/beijing_walk_shelters.py
      [--data-dir /work/shared/data/cn/beijing] [--out-dir tests/reference] [--no-write]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

try:
    import numpy as np
except ImportError:  # pragma: no cover - environment hint
    sys.exit("numpy missing: run scripts/setup_peers.sh, then $HOME/.cache/peers/venv/bin/python")

# Mirrors crates/renxing-net/profiles.toml [walk] (speeds are irrelevant for distance).
WALK_HIGHWAYS = frozenset(
    [
        "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link",
        "tertiary", "tertiary_link", "unclassified", "residential", "living_street", "service",
        "road", "track", "pedestrian", "footway", "path", "cycleway", "crossing", "steps",
    ]
)
EARTH_RADIUS_M = 6371008.8
DEFAULT_DATA_DIR = "/work/shared/data/cn/beijing"
NODES_FILE = "beijing_osm2012_nodes.csv"
EDGES_FILE = "beijing_osm2012_edges.csv"
SHELTERS_FILE = "shelters_myshelter.csv"
SAMPLE_MODULUS = 32
THRESHOLDS_M = (500.0, 2000.0, 3000.0)
SNAP_CHUNK = 64  # shelters per brute-force block (64 x ~40k edges x 8 B ~ 20 MB per array)


class InputError(Exception):
    """Bad input: the message names the file, the line and what is wrong."""


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _reader(path: str, required: list[str]):
    f = open(path, newline="", encoding="utf-8")
    rd = csv.DictReader(f)
    missing = [c for c in required if c not in (rd.fieldnames or [])]
    if missing:
        f.close()
        raise InputError(f"{path}: line 1: missing column(s) {missing}; header is {rd.fieldnames}")
    return f, rd


def _check_row(path: str, line: int, row: dict) -> None:
    if None in row:
        raise InputError(f"{path}: line {line}: more fields than the header has")
    if any(v is None for v in row.values()):
        raise InputError(f"{path}: line {line}: fewer fields than the header has")


def _num(path: str, line: int, col: str, text: str, kind=float):
    try:
        val = kind(text)
    except (TypeError, ValueError):
        raise InputError(f"{path}: line {line}: column {col!r}: not a number: {text!r}") from None
    if kind is float and not math.isfinite(val):
        raise InputError(f"{path}: line {line}: column {col!r}: not finite: {text!r}")
    return val


def read_nodes(path: str) -> dict[int, tuple[float, float]]:
    f, rd = _reader(path, ["node_id", "lon", "lat"])
    out: dict[int, tuple[float, float]] = {}
    with f:
        for r in rd:
            i = rd.line_num
            _check_row(path, i, r)
            nid = _num(path, i, "node_id", r["node_id"], int)
            if nid in out:
                raise InputError(f"{path}: line {i}: duplicate node_id {nid}")
            out[nid] = (_num(path, i, "lon", r["lon"]), _num(path, i, "lat", r["lat"]))
    return out


@dataclass
class EdgeRead:
    rows_total: int = 0
    rows_walk: int = 0
    self_loops: int = 0
    # unordered pair (min id, max id) -> min length
    pairs: dict[tuple[int, int], float] = field(default_factory=dict)


def read_walk_edges(path: str, nodes: dict[int, tuple[float, float]]) -> EdgeRead:
    f, rd = _reader(path, ["u", "v", "length_m", "highway"])
    er = EdgeRead()
    with f:
        for r in rd:
            i = rd.line_num
            _check_row(path, i, r)
            er.rows_total += 1
            if r["highway"] not in WALK_HIGHWAYS:
                continue
            er.rows_walk += 1
            u = _num(path, i, "u", r["u"], int)
            v = _num(path, i, "v", r["v"], int)
            length = _num(path, i, "length_m", r["length_m"])
            if length < 0:
                raise InputError(f"{path}: line {i}: negative length_m {length}")
            for nid in (u, v):
                if nid not in nodes:
                    raise InputError(f"{path}: line {i}: node {nid} is not in the nodes file")
            if u == v:
                er.self_loops += 1
                continue
            key = (u, v) if u < v else (v, u)
            old = er.pairs.get(key)
            if old is None or length < old:
                er.pairs[key] = length
    return er


def read_shelters(path: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    f, rd = _reader(path, ["sid", "lon_wgs84", "lat_wgs84"])
    ids, lons, lats = [], [], []
    with f:
        for r in rd:
            i = rd.line_num
            _check_row(path, i, r)
            ids.append(r["sid"])
            lons.append(_num(path, i, "lon_wgs84", r["lon_wgs84"]))
            lats.append(_num(path, i, "lat_wgs84", r["lat_wgs84"]))
    return ids, np.array(lons, dtype=np.float64), np.array(lats, dtype=np.float64)


def components(pairs) -> list[set[int]]:
    """Connected components of the undirected pair list (union-find, iterative)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for u, v in pairs:
        parent.setdefault(u, u)
        parent.setdefault(v, v)
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)
    groups: dict[int, set[int]] = {}
    for x in parent:
        groups.setdefault(find(x), set()).add(x)
    return list(groups.values())


@dataclass
class Network:
    """Main component of the walk graph, with projected coordinates."""

    node_ids: np.ndarray  # sorted node ids of the main component
    x: np.ndarray  # projected coordinates, aligned with node_ids
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    lon0: float
    lat0: float
    edge_a: np.ndarray  # edges sorted by (a, b), a < b: indices into node_ids
    edge_b: np.ndarray
    edge_len: np.ndarray
    stats: dict


def project(lon, lat, lon0: float, lat0: float):
    k = math.pi / 180.0
    x = EARTH_RADIUS_M * math.cos(lat0 * k) * (np.asarray(lon, dtype=np.float64) - lon0) * k
    y = EARTH_RADIUS_M * (np.asarray(lat, dtype=np.float64) - lat0) * k
    return x, y


def build_network(nodes: dict[int, tuple[float, float]], er: EdgeRead) -> Network:
    comps = components(er.pairs.keys())
    comps.sort(key=lambda c: (-len(c), min(c)))
    if not comps:
        raise InputError("no walk edges in the edges file")
    main = comps[0]
    walk_nodes = sum(len(c) for c in comps)
    main_pairs = sorted(k for k in er.pairs if k[0] in main)
    node_ids = np.array(sorted(main), dtype=np.int64)
    index = {int(n): i for i, n in enumerate(node_ids)}
    lon = np.array([nodes[int(n)][0] for n in node_ids], dtype=np.float64)
    lat = np.array([nodes[int(n)][1] for n in node_ids], dtype=np.float64)
    lon0 = (float(lon.min()) + float(lon.max())) / 2.0
    lat0 = (float(lat.min()) + float(lat.max())) / 2.0
    x, y = project(lon, lat, lon0, lat0)
    edge_a = np.array([index[a] for a, _ in main_pairs], dtype=np.int64)
    edge_b = np.array([index[b] for _, b in main_pairs], dtype=np.int64)
    edge_len = np.array([er.pairs[k] for k in main_pairs], dtype=np.float64)
    stats = {
        "edge_rows_total": er.rows_total,
        "edge_rows_walk": er.rows_walk,
        "walk_self_loops_dropped": er.self_loops,
        "walk_edges_undirected": len(er.pairs),
        "walk_parallel_or_reverse_rows_merged": er.rows_walk - er.self_loops - len(er.pairs),
        "walk_nodes": walk_nodes,
        "components": len(comps),
        "second_component_nodes": len(comps[1]) if len(comps) > 1 else 0,
        "main_component_nodes": len(main),
        "main_component_edges": len(main_pairs),
        "nodes_outside_main": walk_nodes - len(main),
        "edges_outside_main": len(er.pairs) - len(main_pairs),
        "lon0": lon0,
        "lat0": lat0,
    }
    return Network(node_ids, x, y, lon, lat, lon0, lat0, edge_a, edge_b, edge_len, stats)


@dataclass
class Snap:
    edge: np.ndarray  # index into the network's edge arrays
    t: np.ndarray
    s: np.ndarray
    ties: int  # shelters whose best s is shared by another edge with a different foot point
    gap: np.ndarray  # s of the runner-up edge with a different foot point, minus the best s


def snap_points(
    net: Network, px: np.ndarray, py: np.ndarray, chunk: int = SNAP_CHUNK, audit: bool = True
) -> Snap:
    """Exact nearest segment for each point (brute force over all edges, in blocks).

    audit=True also measures, per point, the gap to the best edge with a different foot point
    (costs about as much as the search itself; the benchmark turns it off).
    """
    ax, ay = net.x[net.edge_a], net.y[net.edge_a]
    dx, dy = net.x[net.edge_b] - ax, net.y[net.edge_b] - ay
    d2 = dx * dx + dy * dy
    safe_d2 = np.where(d2 > 0.0, d2, 1.0)
    n = len(px)
    best_e = np.empty(n, dtype=np.int64)
    best_t = np.empty(n, dtype=np.float64)
    best_s = np.empty(n, dtype=np.float64)
    ties = 0
    gaps = np.full(n, np.inf)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        qx = px[lo:hi, None] - ax[None, :]
        qy = py[lo:hi, None] - ay[None, :]
        t = (qx * dx[None, :] + qy * dy[None, :]) / safe_d2[None, :]
        t = np.where(d2[None, :] > 0.0, np.clip(t, 0.0, 1.0), 0.0)
        ex = qx - t * dx[None, :]
        ey = qy - t * dy[None, :]
        s = np.hypot(ex, ey)
        e = np.argmin(s, axis=1)  # first minimum = first edge in edge order
        rows = np.arange(hi - lo)
        best_e[lo:hi] = e
        best_t[lo:hi] = t[rows, e]
        best_s[lo:hi] = s[rows, e]
        # Tie audit: the runner-up among edges whose foot point is more than 1e-6 m away from
        # the chosen one (edges sharing the chosen foot point, e.g. all edges at a node, give the
        # same Dijkstra result). A gap below 1e-9 m counts as a tie.
        if not audit:
            continue
        fx = ax[None, :] + t * dx[None, :]
        fy = ay[None, :] + t * dy[None, :]
        for r in range(hi - lo):
            far = np.hypot(fx[r] - fx[r, e[r]], fy[r] - fy[r, e[r]]) > 1e-6
            if np.any(far):
                gap = float(np.min(s[r][far])) - float(s[r, e[r]])
                gaps[lo + r] = gap
                if gap <= 1e-9:
                    ties += 1
    return Snap(best_e, best_t, best_s, ties, gaps)


def source_costs(net: Network, snap: Snap) -> dict[int, float]:
    """Smallest initial cost at each node index reached by a snapped shelter."""
    costs: dict[int, float] = {}
    for e, t, s in zip(snap.edge, snap.t, snap.s):
        length = float(net.edge_len[e])
        for node, c in (
            (int(net.edge_a[e]), float(s) + float(t) * length),
            (int(net.edge_b[e]), float(s) + (1.0 - float(t)) * length),
        ):
            if c < costs.get(node, math.inf):
                costs[node] = c
    return costs


def networkx_graph(net: Network):
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(len(net.node_ids)))
    g.add_weighted_edges_from(
        zip(net.edge_a.tolist(), net.edge_b.tolist(), net.edge_len.tolist()), weight="weight"
    )
    return g


VIRTUAL_SOURCE = -1


def networkx_dijkstra(g, costs: dict[int, float], n_nodes: int) -> np.ndarray:
    """Multi-source Dijkstra via one virtual source; g is modified and restored."""
    import networkx as nx

    g.add_node(VIRTUAL_SOURCE)
    g.add_weighted_edges_from(
        ((VIRTUAL_SOURCE, node, c) for node, c in costs.items()), weight="weight"
    )
    try:
        dist = nx.single_source_dijkstra_path_length(g, VIRTUAL_SOURCE, weight="weight")
    finally:
        g.remove_node(VIRTUAL_SOURCE)
    out = np.full(n_nodes, np.inf)
    for node, d in dist.items():
        if node != VIRTUAL_SOURCE:
            out[node] = d
    return out


def scipy_matrix(net: Network, costs: dict[int, float]):
    """CSR matrix over node indices 0..n-1 plus a super-source n (edges out of it only)."""
    from scipy.sparse import csr_matrix

    n = len(net.node_ids)
    src_nodes = np.fromiter(costs.keys(), dtype=np.int64, count=len(costs))
    src_cost = np.fromiter(costs.values(), dtype=np.float64, count=len(costs))
    rows = np.concatenate([net.edge_a, net.edge_b, np.full(len(costs), n)])
    cols = np.concatenate([net.edge_b, net.edge_a, src_nodes])
    vals = np.concatenate([net.edge_len, net.edge_len, src_cost])
    # csgraph treats explicit zeros as "no edge"; zero-length edges need a tiny stand-in that
    # is removed again below (it never changes a distance by more than 1e-300 * hops).
    vals = np.where(vals == 0.0, 1e-300, vals)
    return csr_matrix((vals, (rows, cols)), shape=(n + 1, n + 1))


def scipy_dijkstra(mat) -> np.ndarray:
    from scipy.sparse.csgraph import dijkstra

    n = mat.shape[0] - 1
    d = dijkstra(mat, directed=True, indices=n)
    return d[:n]


@dataclass
class Result:
    net: Network
    shelter_ids: list[str]
    snap: Snap
    costs: dict[int, float]
    dist: np.ndarray
    timings: dict


def run_networkx(data_dir: str, audit: bool = True) -> Result:
    """The whole job with networkx (read, build, component, snap, Dijkstra), timed by stage."""
    tm: dict[str, float] = {}
    t0 = time.perf_counter()
    nodes = read_nodes(os.path.join(data_dir, NODES_FILE))
    er = read_walk_edges(os.path.join(data_dir, EDGES_FILE), nodes)
    sids, slon, slat = read_shelters(os.path.join(data_dir, SHELTERS_FILE))
    t1 = time.perf_counter()
    net = build_network(nodes, er)
    t2 = time.perf_counter()
    px, py = project(slon, slat, net.lon0, net.lat0)
    snap = snap_points(net, px, py, audit=audit)
    costs = source_costs(net, snap)
    t3 = time.perf_counter()
    g = networkx_graph(net)
    t4 = time.perf_counter()
    dist = networkx_dijkstra(g, costs, len(net.node_ids))
    t5 = time.perf_counter()
    tm.update(
        read_s=t1 - t0, component_s=t2 - t1, snap_s=t3 - t2, nx_graph_s=t4 - t3,
        nx_dijkstra_s=t5 - t4, total_s=t5 - t0,
    )
    return Result(net, sids, snap, costs, dist, tm)


def summary(res: Result, data_dir: str) -> dict:
    d = res.dist
    if not np.all(np.isfinite(d)):
        raise RuntimeError(f"{int(np.sum(~np.isfinite(d)))} main-component nodes unreachable")
    n = len(d)
    out = {
        "definition": "tests/reference/README.md",
        "inputs_sha256": {
            name: sha256_of(os.path.join(data_dir, name))
            for name in (NODES_FILE, EDGES_FILE, SHELTERS_FILE)
        },
        "walk_highways": sorted(WALK_HIGHWAYS),
        "graph": res.net.stats,
        "shelters": len(res.shelter_ids),
        "shelters_snapped": int(len(res.snap.edge)),
        "snap_ties_with_different_foot_point": res.snap.ties,
        "snap_min_gap_to_runner_up_m": float(res.snap.gap.min()),
        "shelters_snap_le_100m": int(np.sum(res.snap.s <= 100.0)),
        "shelters_snap_le_1000m": int(np.sum(res.snap.s <= 1000.0)),
        "snap_distance_max_m": float(res.snap.s.max()),
        "snap_distance_mean_m": float(res.snap.s.mean()),
        "snap_distance_median_m": float(np.median(res.snap.s)),
        "source_nodes": len(res.costs),
        "nodes": n,
        "distance_mean_m": float(d.mean()),
        "distance_median_m": float(np.median(d)),
        "distance_max_m": float(d.max()),
        "distance_max_node_id": int(res.net.node_ids[int(np.argmax(d))]),
        "sample_rows": int(np.sum(res.net.node_ids % SAMPLE_MODULUS == 0)),
    }
    for th in THRESHOLDS_M:
        out[f"share_le_{int(th)}m"] = float(np.sum(d <= th)) / n
        out[f"nodes_le_{int(th)}m"] = int(np.sum(d <= th))
    return out


def write_outputs(res: Result, summ: dict, out_dir: str) -> tuple[str, str]:
    js = os.path.join(out_dir, "beijing_walk_shelters.json")
    with open(js, "w", encoding="utf-8") as f:
        json.dump(summ, f, indent=2, sort_keys=True)
        f.write("\n")
    sample = os.path.join(out_dir, "beijing_walk_shelters_sample.csv")
    with open(sample, "w", encoding="utf-8", newline="") as f:
        f.write("node_id,distance_m\n")
        for nid, d in zip(res.net.node_ids.tolist(), res.dist.tolist()):
            if nid % SAMPLE_MODULUS == 0:
                f.write(f"{nid},{d!r}\n")
    return js, sample


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ap.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--no-write", action="store_true", help="print the summary only")
    ap.add_argument("--no-scipy-check", action="store_true")
    args = ap.parse_args(argv)
    for name in (NODES_FILE, EDGES_FILE, SHELTERS_FILE):
        if not os.path.isfile(os.path.join(args.data_dir, name)):
            print(f"SKIP: {os.path.join(args.data_dir, name)} not found", file=sys.stderr)
            return 0
    try:
        res = run_networkx(args.data_dir)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summ = summary(res, args.data_dir)
    if not args.no_scipy_check:
        t0 = time.perf_counter()
        d2 = scipy_dijkstra(scipy_matrix(res.net, res.costs))
        res.timings["scipy_check_s"] = time.perf_counter() - t0
        diff = np.abs(d2 - res.dist)
        rel = float(np.max(diff / np.maximum(res.dist, 1.0)))
        summ["scipy_crosscheck_max_abs_diff_m"] = float(diff.max())
        if rel > 1e-12:
            print(f"error: scipy and networkx disagree (max rel diff {rel:g})", file=sys.stderr)
            return 1
    print(json.dumps(summ, indent=2, sort_keys=True))
    print("timings (s): " + ", ".join(f"{k}={v:.3f}" for k, v in res.timings.items()))
    if not args.no_write:
        for p in write_outputs(res, summ, args.out_dir):
            print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
