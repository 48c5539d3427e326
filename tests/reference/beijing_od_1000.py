#!/usr/bin/env python3
"""Independent reference: shortest paths between 1,000 origin-destination node pairs on the
Beijing 2012 road network, for the walk profile (metric distance) and the drive profile (metric
time).

This script is the oracle for Renxing's point-to-point routing (`renxing od` and the contraction
hierarchy behind it). It is written from the definition in tests/reference/README.md
("beijing_od_1000"), not from the Rust code, with networkx Dijkstra as the answer and
scipy.sparse.csgraph as a cross-check. It reuses the CSV readers of beijing_walk_shelters.py.

Definition (short)
------------------
* Classes and speeds: crates/renxing-net/profiles.toml ([walk] and [drive] speeds_kmh); a row
  whose `highway` is not a key of the profile (including the empty value) is not routable.
  Self-loops (u == v) are dropped.
* walk: undirected (one-way rules do not apply); one link per unordered node pair with the
  minimum length and, separately, the minimum time of its rows; largest connected component.
* drive: the edges CSV is a directed edge list (each direction of a two-way street is its own
  row), read as Renxing reads it with `directed = true` / `--directed-edges`: every row is an
  arc u -> v, whatever its `oneway` cell says. One arc per ordered pair with the minimum length
  and the minimum time of its rows; largest strongly connected component.
* time of a row = length_m / (speed_kmh / 3.6).
* Pairs: nodes of the kept component whose (lon, lat) is shared by no other node of the nodes
  file, sorted by node_id; pairs (o, d) drawn with numpy default_rng(SEED), o != d, no repeated
  pair; walk pairs first, then drive pairs, from the same generator.
* cost = networkx.single_source_dijkstra(G, o, d) on the profile's metric; distance_m and time_s
  are summed along networkx's returned path in path order (one of them equals cost).

Run:  $HOME/.cache/peers/venv/bin/python tests/reference/beijing_od_1000.py
      [--data-dir /work/shared/data/cn/beijing] [--repo-dir .] [--out FILE] [--no-write]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import beijing_walk_shelters as ref  # noqa: E402  (readers, InputError, sha256_of)

try:
    import numpy as np
except ImportError:  # pragma: no cover - environment hint
    sys.exit("numpy missing: run scripts/setup_peers.sh, then $HOME/.cache/peers/venv/bin/python")

SEED = 20250601
PAIRS = 1000
OUT_FILE = "beijing_od_1000.csv"
PROFILES_TOML = os.path.join("crates", "renxing-net", "profiles.toml")
# metric minimised per profile
METRICS = {"walk": "distance", "drive": "time"}
ONEWAY_BOTH = ("", "0", "no", "false", "f", "n")
ONEWAY_FORWARD = ("1", "yes", "true", "t", "y")
ONEWAY_BACKWARD = ("-1", "reverse")


def read_profiles(path: str) -> dict:
    """{profile: {"oneway": bool, "speeds_kmh": {class: km/h}}} from profiles.toml."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ref.InputError(f"{path}: {exc}") from None
    out = {}
    for name in ("walk", "drive"):
        sec = doc.get(name)
        if not isinstance(sec, dict) or not isinstance(sec.get("speeds_kmh"), dict):
            raise ref.InputError(f"{path}: no [{name}] table with speeds_kmh")
        speeds = {}
        for cls, kmh in sec["speeds_kmh"].items():
            if not isinstance(kmh, (int, float)) or not kmh > 0 or not math.isfinite(kmh):
                raise ref.InputError(f"{path}: [{name}.speeds_kmh] {cls} = {kmh!r} is not > 0")
            speeds[cls] = float(kmh)
        out[name] = {"oneway": bool(sec.get("oneway", False)), "speeds_kmh": speeds}
    return out


def read_edge_rows(path: str, nodes: dict) -> list[tuple[int, int, float, str, str]]:
    """Every row as (u, v, length_m, highway, oneway cell), validated; errors name the line."""
    f, rd = ref._reader(path, ["u", "v", "length_m", "highway", "oneway"])
    rows = []
    with f:
        for r in rd:
            i = rd.line_num
            ref._check_row(path, i, r)
            u = ref._num(path, i, "u", r["u"], int)
            v = ref._num(path, i, "v", r["v"], int)
            length = ref._num(path, i, "length_m", r["length_m"])
            if length < 0:
                raise ref.InputError(f"{path}: line {i}: negative length_m {length}")
            for nid in (u, v):
                if nid not in nodes:
                    raise ref.InputError(f"{path}: line {i}: node {nid} is not in the nodes file")
            ow = r["oneway"].strip().lower()
            if ow not in ONEWAY_BOTH + ONEWAY_FORWARD + ONEWAY_BACKWARD:
                raise ref.InputError(f"{path}: line {i}: column 'oneway': unknown value {ow!r}")
            rows.append((u, v, length, r["highway"].strip(), ow))
    return rows


def build_arcs(rows, speeds: dict, reading: str) -> tuple[dict, dict]:
    """Arcs of one profile: {(from, to): [min length, min time]} plus counts.

    reading: "undirected" (walk: every row both ways), "directed" (every row u -> v only) or
    "oneway-column" (the row's oneway cell decides; used only for an audit of the drive graph).
    """
    arcs: dict[tuple[int, int], list[float]] = {}
    n_rows = n_loops = 0
    for u, v, length, hw, ow in rows:
        kmh = speeds.get(hw)
        if kmh is None:
            continue
        n_rows += 1
        if u == v:
            n_loops += 1
            continue
        t = length / (kmh / 3.6)
        if reading == "undirected" or (reading == "oneway-column" and ow in ONEWAY_BOTH):
            dirs = ((u, v), (v, u))
        elif reading == "directed" or ow in ONEWAY_FORWARD:
            dirs = ((u, v),)
        else:
            dirs = ((v, u),)
        for key in dirs:
            cur = arcs.get(key)
            if cur is None:
                arcs[key] = [length, t]
            else:
                cur[0] = min(cur[0], length)
                cur[1] = min(cur[1], t)
    return arcs, {"rows_routable": n_rows, "self_loops_dropped": n_loops}


def kept_component(arcs: dict, strong: bool) -> tuple[set[int], dict]:
    """Largest weakly (strong=False) or strongly connected component, by node count."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_edges_from(arcs.keys())
    comps = list(nx.strongly_connected_components(g) if strong else nx.weakly_connected_components(g))
    comps.sort(key=lambda c: (-len(c), min(c)))
    if not comps:
        raise ref.InputError("no routable edge for this profile")
    if len(comps) > 1 and len(comps[0]) == len(comps[1]):
        raise RuntimeError("two largest components of equal size: the kept one is ambiguous")
    main = comps[0]
    stats = {
        "nodes_routable": g.number_of_nodes(),
        "components": len(comps),
        "kept_nodes": len(main),
        "kept_arcs": sum(1 for a, b in arcs if a in main and b in main),
        "second_component_nodes": len(comps[1]) if len(comps) > 1 else 0,
    }
    return main, stats


def unique_position_ids(nodes: dict) -> set[int]:
    """Node ids whose (lon, lat) no other node of the nodes file has."""
    count: dict[tuple[float, float], int] = {}
    for p in nodes.values():
        count[p] = count.get(p, 0) + 1
    return {nid for nid, p in nodes.items() if count[p] == 1}


def sample_pairs(rng, candidates: np.ndarray, n: int) -> list[tuple[int, int]]:
    pairs, seen = [], set()
    while len(pairs) < n:
        i, j = rng.integers(0, len(candidates), size=2)
        o, d = int(candidates[i]), int(candidates[j])
        if o == d or (o, d) in seen:
            continue
        seen.add((o, d))
        pairs.append((o, d))
    return pairs


def nx_graph(arcs: dict, keep: set[int]):
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(sorted(keep))
    g.add_edges_from(
        (a, b, {"distance": w[0], "time": w[1]}) for (a, b), w in arcs.items() if a in keep and b in keep
    )
    return g


def route_pairs(g, pairs, metric: str) -> list[dict]:
    import networkx as nx

    out = []
    for o, d in pairs:
        cost, path = nx.single_source_dijkstra(g, o, target=d, weight=metric)
        dist = tim = 0.0
        for a, b in zip(path, path[1:]):
            e = g[a][b]
            dist += e["distance"]
            tim += e["time"]
        again = dist if metric == "distance" else tim
        if again != cost:  # same additions in the same order: must be bit-identical
            raise RuntimeError(f"path sum {again!r} != Dijkstra cost {cost!r} for {o}->{d}")
        out.append({"o": o, "d": d, "cost": cost, "distance_m": dist, "time_s": tim, "hops": len(path) - 1})
    return out


class Csr:
    """Arcs of the kept component as CSR over dense indices (for scipy and the tie audit)."""

    def __init__(self, arcs: dict, keep: set[int]):
        self.ids = np.array(sorted(keep), dtype=np.int64)
        self.pos = {int(n): i for i, n in enumerate(self.ids)}
        kept = [(self.pos[a], self.pos[b], w[0], w[1]) for (a, b), w in arcs.items() if a in keep and b in keep]
        self.src = np.array([k[0] for k in kept], dtype=np.int64)
        self.dst = np.array([k[1] for k in kept], dtype=np.int64)
        self.w = {"distance": np.array([k[2] for k in kept]), "time": np.array([k[3] for k in kept])}
        order = np.argsort(self.dst, kind="stable")  # incoming arcs per node, for the audit
        self.in_first = np.searchsorted(self.dst[order], np.arange(len(self.ids) + 1))
        self.in_order = order

    def matrix(self, metric: str):
        from scipy.sparse import csr_matrix

        n = len(self.ids)
        vals = self.w[metric]
        # csgraph treats explicit zeros as missing arcs: stand-in 1e-300 (never changes a sum)
        vals = np.where(vals == 0.0, 1e-300, vals)
        return csr_matrix((vals, (self.src, self.dst)), shape=(n, n))


def scipy_check_and_tie_audit(csr: Csr, res: list[dict], metric: str) -> dict:
    """Recompute every cost with csgraph.dijkstra, and for each pair the smallest and largest
    value of the other metric over ALL cost-optimal paths (a path is optimal when each of its
    arcs is tight: dist[a] + w(a, b) = dist[b] within 1e-9 relative)."""
    from scipy.sparse.csgraph import dijkstra

    other = "time" if metric == "distance" else "distance"
    mat = csr.matrix(metric)
    origins = sorted({r["o"] for r in res})
    oi = np.array([csr.pos[o] for o in origins])
    t0 = time.perf_counter()
    rows = dijkstra(mat, directed=True, indices=oi)
    scipy_s = time.perf_counter() - t0
    row_of = {o: k for k, o in enumerate(origins)}
    w_m, w_o = csr.w[metric], csr.w[other]
    max_rel = 0.0
    ambiguous = []
    for r in res:
        dist = rows[row_of[r["o"]]]
        s, t = csr.pos[r["o"]], csr.pos[r["d"]]
        want = r["cost"]
        rel = abs(dist[t] - want) / max(want, 1e-300)
        max_rel = max(max_rel, rel)
        tol = 1e-9 * max(dist[t], 1.0)
        # nodes on some optimal path: backward search from d over tight incoming arcs
        on = {t}
        stack = [t]
        tight_arcs = []
        while stack:
            b = stack.pop()
            for k in csr.in_order[csr.in_first[b]:csr.in_first[b + 1]]:
                a = int(csr.src[k])
                if abs(dist[a] + w_m[k] - dist[b]) <= tol:
                    tight_arcs.append((a, b, k))
                    if a not in on:
                        on.add(a)
                        stack.append(a)
        # min / max of the other metric over the tight DAG, nodes in order of dist
        lo = {s: 0.0}
        hi = {s: 0.0}
        into: dict[int, list] = {}
        for a, b, k in tight_arcs:
            into.setdefault(b, []).append((a, k))
        for b in sorted(on, key=lambda x: dist[x]):
            if b == s:
                continue
            cand = [(lo[a] + w_o[k], hi[a] + w_o[k]) for a, k in into.get(b, []) if a in lo]
            if cand:
                lo[b] = min(c[0] for c in cand)
                hi[b] = max(c[1] for c in cand)
        key = "distance_m" if other == "distance" else "time_s"
        r["other_min"], r["other_max"] = lo[t], hi[t]
        got = r[key]
        if not (lo[t] - 1e-9 * max(lo[t], 1.0) <= got <= hi[t] + 1e-9 * max(hi[t], 1.0)):
            raise RuntimeError(f"{r['o']}->{r['d']}: {key} {got!r} outside the optimal range [{lo[t]!r}, {hi[t]!r}]")
        if hi[t] - lo[t] > 1e-9 * max(hi[t], 1.0):
            ambiguous.append(r)
    return {"scipy_s": scipy_s, "scipy_max_rel_diff": max_rel, "ambiguous": ambiguous}


def audit_other_reading(rows, speeds: dict, kept: set[int], res: list[dict]) -> dict:
    """Drive graph read with the oneway column instead (Renxing without --directed-edges):
    how its strong component and the reference costs change."""
    from scipy.sparse.csgraph import dijkstra

    arcs, _ = build_arcs(rows, speeds, "oneway-column")
    keep2, st = kept_component(arcs, strong=True)
    out = {"kept_nodes": st["kept_nodes"], "kept_arcs": st["kept_arcs"],
           "nodes_only_in_directed": len(kept - keep2), "nodes_only_in_oneway_column": len(keep2 - kept)}
    csr = Csr(arcs, keep2)
    usable = [r for r in res if r["o"] in keep2 and r["d"] in keep2]
    origins = sorted({r["o"] for r in usable})
    d = dijkstra(csr.matrix("time"), directed=True, indices=np.array([csr.pos[o] for o in origins]))
    row_of = {o: k for k, o in enumerate(origins)}
    diff = [r for r in usable if abs(d[row_of[r["o"]], csr.pos[r["d"]]] - r["cost"]) > 1e-9 * r["cost"]]
    out["pairs_outside_component"] = len(res) - len(usable)
    out["pairs_cost_differs"] = len(diff)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=ref.DEFAULT_DATA_DIR)
    ap.add_argument("--repo-dir", default=os.path.dirname(os.path.dirname(HERE)),
                    help="checkout holding crates/renxing-net/profiles.toml")
    ap.add_argument("--out", default=os.path.join(HERE, OUT_FILE))
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--pairs", type=int, default=PAIRS, help="pairs per profile")
    ap.add_argument("--no-write", action="store_true", help="print the summary only")
    args = ap.parse_args(argv)
    nodes_p = os.path.join(args.data_dir, ref.NODES_FILE)
    edges_p = os.path.join(args.data_dir, ref.EDGES_FILE)
    prof_p = os.path.join(args.repo_dir, PROFILES_TOML)
    for p in (nodes_p, edges_p, prof_p):
        if not os.path.isfile(p):
            print(f"SKIP: {p} not found", file=sys.stderr)
            return 0
    t_start = time.perf_counter()
    try:
        profiles = read_profiles(prof_p)
        nodes = ref.read_nodes(nodes_p)
        rows = read_edge_rows(edges_p, nodes)
    except ref.InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if set(profiles["walk"]["speeds_kmh"]) != ref.WALK_HIGHWAYS:
        print("note: walk classes of profiles.toml differ from beijing_walk_shelters.WALK_HIGHWAYS", file=sys.stderr)
    unique = unique_position_ids(nodes)
    print(f"inputs: {len(nodes)} nodes ({len(nodes) - len(unique)} share their position with another node), "
          f"{len(rows)} edge rows")
    for p in (nodes_p, edges_p, prof_p):
        print(f"  sha256 {ref.sha256_of(p)}  {p}")
    rng = np.random.default_rng(args.seed)
    results = {}
    status = 0
    for prof in ("walk", "drive"):
        t0 = time.perf_counter()
        metric = METRICS[prof]
        reading = "undirected" if prof == "walk" else "directed"
        arcs, cnt = build_arcs(rows, profiles[prof]["speeds_kmh"], reading)
        keep, st = kept_component(arcs, strong=(prof == "drive"))
        cand = np.array(sorted(keep & unique), dtype=np.int64)
        pairs = sample_pairs(rng, cand, args.pairs)
        g = nx_graph(arcs, keep)
        t1 = time.perf_counter()
        res = route_pairs(g, pairs, metric)
        t2 = time.perf_counter()
        audit = scipy_check_and_tie_audit(Csr(arcs, keep), res, metric)
        results[prof] = res
        print(f"\n== {prof} (metric {metric}, reading {reading})")
        print(f"  routable rows {cnt['rows_routable']}, self-loops dropped {cnt['self_loops_dropped']}, "
              f"arcs {len(arcs)} (directed; a two-way link counts twice)")
        print(f"  components {st['components']}; kept {st['kept_nodes']} nodes / {st['kept_arcs']} arcs "
              f"(second largest {st['second_component_nodes']} nodes); sampling among {len(cand)} nodes")
        costs = np.array([r["cost"] for r in res])
        dm = np.array([r["distance_m"] for r in res])
        ts = np.array([r["time_s"] for r in res])
        hops = np.array([r["hops"] for r in res])
        print(f"  cost mean {float(costs.mean())!r}, min {float(costs.min())!r}, max {float(costs.max())!r}")
        print(f"  distance_m mean {dm.mean():.6f}, time_s mean {ts.mean():.6f}, hops mean {hops.mean():.1f} "
              f"(max {hops.max()})")
        print(f"  scipy cross-check: max relative difference {audit['scipy_max_rel_diff']:.3g}")
        amb = audit["ambiguous"]
        print(f"  pairs whose other metric differs between cost-optimal paths: {len(amb)}")
        for r in amb[:20]:
            print(f"    {r['o']}->{r['d']}: cost {r['cost']!r}, other metric in [{r['other_min']!r}, {r['other_max']!r}]")
        if audit["scipy_max_rel_diff"] > 1e-12:
            print("error: scipy and networkx disagree", file=sys.stderr)
            status = 1
        if prof == "drive":
            alt = audit_other_reading(rows, profiles[prof]["speeds_kmh"], keep, res)
            print(f"  audit, same file read with the oneway column (no --directed-edges): kept {alt['kept_nodes']} "
                  f"nodes / {alt['kept_arcs']} arcs ({alt['nodes_only_in_directed']} nodes only in the directed "
                  f"reading, {alt['nodes_only_in_oneway_column']} only in the other); of the {len(res)} pairs "
                  f"{alt['pairs_outside_component']} fall outside its component and {alt['pairs_cost_differs']} "
                  f"get another cost")
        print(f"  time: graph + sampling {t1 - t0:.1f} s, networkx {t2 - t1:.1f} s, "
              f"scipy check + tie audit {time.perf_counter() - t2:.1f} s")
    print(f"\ntotal {time.perf_counter() - t_start:.1f} s")
    if not args.no_write:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            f.write("profile,metric,origin_node_id,destination_node_id,cost,distance_m,time_s\n")
            for prof in ("walk", "drive"):
                for r in results[prof]:
                    f.write(f"{prof},{METRICS[prof]},{r['o']},{r['d']},{r['cost']!r},"
                            f"{r['distance_m']!r},{r['time_s']!r}\n")
        print(f"wrote {args.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
