#!/usr/bin/env python3
"""Independent reference: the headline numbers of the shelter exam of Beijing's two core
districts (东城区 110101, 西城区 110102) with the 1,181 government-designated shelters —
the job of examples/beijing-core/renxing-gov-shelters.toml.

This script is the oracle for `renxing run examples/beijing-core/renxing-gov-shelters.toml`.
It is written from the definition below (see tests/reference/README.md), not from the Rust
code. The walk graph, its main component, the projection, the shelter snapping and the
multi-source Dijkstra are those of beijing_walk_shelters.py (imported from it); the GCJ-02
inverse is the one of wuhan_district_population.py (imported from it). Uses numpy, networkx
and shapely.

Definition
----------
1. Walk graph and main component as in beijing_walk_shelters.py (steps 1-3 of its definition).
2. Admin units: data/beijing/core_districts_gcj02.geojson (properties adcode, name), every
   vertex converted GCJ-02 -> WGS84 by the iterated inverse of the public GCJ-02 formula.
3. Population: the census totals data/beijing/census2020_district_population.csv
   (resident_population_2020, by adcode) are disaggregated onto main-component nodes by road
   length. A node weighs half the length (the merged minimum length_m) of every main-component
   link incident to it. A node belongs to the district whose polygon contains its WGS84
   position (shapely contains, boundary excluded). A district's total is shared among its
   nodes in proportion to weight: node population = total * weight / (sum of the weights of the
   district's nodes). Nodes in no district carry no population.
4. Shelters: /work/shared/data/cn/beijing/shelters_myshelter.csv (lon_wgs84, lat_wgs84), snapped
   to the nearest main-component edge as in the walk reference; shelters with snap distance
   > 1000 m (max_snap_m of the project file) are dropped; the rest seed a multi-source
   Dijkstra (initial costs s + t*len and s + (1-t)*len) over the main component.
5. Every node is its own population point (snap distance 0): its distance is its Dijkstra
   distance.
6. Per district: population (sum of node shares), population with distance <= 500 m
   (emergency), <= 2000 m (fixed), <= 3000 m (fixed max), > 3000 m or unreachable (beyond any),
   the population-weighted mean distance (reachable nodes), the maximum distance over the
   district's nodes; shares = within / population. Shelters per district: all 1,181 shelters
   whose WGS84 point lies inside the polygon (kept or dropped). Also: shelters dropped for snap
   distance > 1000 m, shelters in no district.

Run:  $HOME/.cache/peers/venv/bin/python tests/reference/beijing_core_exam.py
      [--repo-dir .] [--shared-dir /work/shared/data/cn/beijing] [--out-dir tests/reference]
      [--no-write]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import beijing_walk_shelters as walk  # noqa: E402
import wuhan_district_population as wuhan  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import shape  # noqa: E402

DEFAULT_REPO_DIR = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_SHARED_DIR = "/work/shared/data/cn/beijing"
NODES_FILE = "data/beijing/beijing_osm2012_nodes.csv"
EDGES_FILE = "data/beijing/beijing_osm2012_edges.csv"
ADMIN_FILE = "data/beijing/core_districts_gcj02.geojson"
CENSUS_FILE = "data/beijing/census2020_district_population.csv"
SHELTERS_FILE = "shelters_myshelter.csv"
MAX_SNAP_M = 1000.0
EMERGENCY_M = 500.0
FIXED_M = 2000.0
FIXED_MAX_M = 3000.0


InputError = walk.InputError


def read_admin(path: str):
    """[(adcode, name, wgs84 MultiPolygon)] in file order."""
    try:
        with open(path, encoding="utf-8") as f:
            fc = json.load(f)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read GeoJSON: {exc}") from None
    out = []
    for i, feat in enumerate(fc.get("features", [])):
        props = feat.get("properties") or {}
        if "adcode" not in props or "name" not in props:
            raise InputError(f"{path}: feature {i}: no adcode/name property")
        try:
            geom = shape(feat["geometry"])
        except Exception as exc:
            raise InputError(f"{path}: feature {i}: bad geometry: {exc}") from None
        out.append((str(props["adcode"]), str(props["name"]), wuhan.geometry_to_wgs84(geom)))
    if not out:
        raise InputError(f"{path}: no features")
    return out


def read_census(path: str) -> dict[str, float]:
    f, rd = walk._reader(path, ["adcode", "resident_population_2020"])
    out = {}
    with f:
        for r in rd:
            i = rd.line_num
            walk._check_row(path, i, r)
            out[r["adcode"]] = walk._num(
                path, i, "resident_population_2020", r["resident_population_2020"]
            )
    return out


def compute(repo_dir: str, shared_dir: str) -> dict:
    t0 = time.perf_counter()
    nodes = walk.read_nodes(os.path.join(repo_dir, NODES_FILE))
    er = walk.read_walk_edges(os.path.join(repo_dir, EDGES_FILE), nodes)
    net = walk.build_network(nodes, er)
    units = read_admin(os.path.join(repo_dir, ADMIN_FILE))
    census = read_census(os.path.join(repo_dir, CENSUS_FILE))
    sids, slon, slat = walk.read_shelters(os.path.join(shared_dir, SHELTERS_FILE))
    t1 = time.perf_counter()

    n = len(net.node_ids)
    # Road-length weights: half of every incident main-component link.
    weight = np.zeros(n)
    np.add.at(weight, net.edge_a, net.edge_len / 2.0)
    np.add.at(weight, net.edge_b, net.edge_len / 2.0)

    owner = np.full(n, -1, dtype=np.int64)
    nodes_in_several = 0
    nodes_on_boundary = 0
    shelter_unit = np.full(len(sids), -1, dtype=np.int64)
    shelters_on_boundary = 0
    for k, (_, _, geom) in enumerate(units):
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, net.lon, net.lat)
        nodes_on_boundary += int(np.sum(shapely.intersects_xy(geom, net.lon, net.lat) & ~inside))
        nodes_in_several += int(np.sum(inside & (owner >= 0)))
        owner = np.where(inside & (owner < 0), k, owner)
        s_in = shapely.contains_xy(geom, slon, slat)
        shelters_on_boundary += int(np.sum(shapely.intersects_xy(geom, slon, slat) & ~s_in))
        shelter_unit = np.where(s_in & (shelter_unit < 0), k, shelter_unit)

    pop = np.zeros(n)
    unit_weight = []
    for k, (code, _, _) in enumerate(units):
        if code not in census:
            raise InputError(f"{CENSUS_FILE}: no row for adcode {code}")
        m = owner == k
        w = float(np.sum(weight[m]))
        unit_weight.append(w)
        if w > 0:
            pop[m] = census[code] * weight[m] / w

    # Shelters: snap, drop those farther than max_snap_m, Dijkstra from the rest.
    px, py = walk.project(slon, slat, net.lon0, net.lat0)
    snap = walk.snap_points(net, px, py)
    keep = snap.s <= MAX_SNAP_M
    kept = walk.Snap(snap.edge[keep], snap.t[keep], snap.s[keep], 0, snap.gap[keep])
    costs = walk.source_costs(net, kept)
    dist = walk.networkx_dijkstra(walk.networkx_graph(net), costs, n)
    t2 = time.perf_counter()
    # Cross-check with scipy (as the walk reference does).
    d2 = walk.scipy_dijkstra(walk.scipy_matrix(net, costs))
    crosscheck = float(np.max(np.abs(d2 - dist)))
    if crosscheck > 1e-9:
        raise RuntimeError(f"scipy and networkx disagree by {crosscheck} m")

    # Robustness: distance (m, local projection) of nodes and shelters to the unit boundaries.
    segs = []
    for _, _, geom in units:
        for p in geom.geoms:
            for ring in [p.exterior, *p.interiors]:
                c = np.asarray(ring.coords)
                x, y = walk.project(c[:, 0], c[:, 1], net.lon0, net.lat0)
                xy = np.column_stack([x, y])
                segs.extend(shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1)))
    tree = shapely.STRtree(segs)
    _, node_bd = tree.query_nearest(
        shapely.points(net.x, net.y), return_distance=True, all_matches=False
    )
    _, sh_bd = tree.query_nearest(shapely.points(px, py), return_distance=True, all_matches=False)

    def figures(m: np.ndarray) -> dict:
        p = pop[m]
        d = dist[m]
        total = float(np.sum(p))
        reach = np.isfinite(d)
        within = {
            "population_within_emergency": float(np.sum(p[d <= EMERGENCY_M])),
            "population_within_fixed": float(np.sum(p[d <= FIXED_M])),
            "population_within_fixed_max": float(np.sum(p[d <= FIXED_MAX_M])),
        }
        out = {
            "population": total,
            "nodes": int(np.sum(m)),
            "nodes_with_population": int(np.sum(p > 0)),
            **within,
            "population_beyond_any": float(np.sum(p[~(d <= FIXED_MAX_M)])),
            "mean_distance_m": float(np.sum(p[reach] * d[reach]) / np.sum(p[reach])),
            "max_distance_m": float(np.max(d)) if len(d) else None,
            "max_distance_m_over_populated_nodes": float(np.max(d[p > 0])) if np.any(p > 0)
            else None,
        }
        for key, v in within.items():
            out[key.replace("population_", "share_")] = v / total if total > 0 else None
        return out

    per = []
    for k, (code, name, geom) in enumerate(units):
        m = owner == k
        f = figures(m)
        per.append(
            {
                "code": code,
                "name": name,
                "census_population": census[code],
                "road_weight_m": unit_weight[k],
                "shelters": int(np.sum(shelter_unit == k)),
                "shelters_kept": int(np.sum((shelter_unit == k) & keep)),
                "min_node_to_boundary_m": float(np.min(node_bd[m])),
                **f,
            }
        )
    t3 = time.perf_counter()
    allm = owner >= 0
    return {
        "definition": "tests/reference/README.md",
        "inputs_sha256": {
            NODES_FILE: walk.sha256_of(os.path.join(repo_dir, NODES_FILE)),
            EDGES_FILE: walk.sha256_of(os.path.join(repo_dir, EDGES_FILE)),
            ADMIN_FILE: walk.sha256_of(os.path.join(repo_dir, ADMIN_FILE)),
            CENSUS_FILE: walk.sha256_of(os.path.join(repo_dir, CENSUS_FILE)),
            SHELTERS_FILE: walk.sha256_of(os.path.join(shared_dir, SHELTERS_FILE)),
        },
        "params": {
            "max_snap_m": MAX_SNAP_M, "emergency_m": EMERGENCY_M, "fixed_m": FIXED_M,
            "fixed_max_m": FIXED_MAX_M,
        },
        "graph": {
            "main_component_nodes": n,
            "main_component_edges": int(len(net.edge_len)),
            "lon0": net.lon0,
            "lat0": net.lat0,
        },
        "population": {
            "points": int(np.sum(allm)),
            "points_with_population": int(np.sum(pop > 0)),
            "main_nodes_outside_units": int(np.sum(~allm)),
            "nodes_on_boundary": nodes_on_boundary,
            "nodes_in_several_units": nodes_in_several,
            "min_node_to_boundary_m": float(np.min(node_bd)),
        },
        "shelters": {
            "count": len(sids),
            "kept": int(np.sum(keep)),
            "not_snapped": int(np.sum(~keep)),
            "outside_units": int(np.sum(shelter_unit < 0)),
            "on_boundary": shelters_on_boundary,
            "min_shelter_to_boundary_m": float(np.min(sh_bd)),
            "source_nodes": len(costs),
            "min_snap_gap_to_runner_up_m_kept": float(np.min(kept.gap)),
            "snap_ties_with_different_foot_point": snap.ties,
            "largest_kept_snap_m": float(np.max(kept.s)),
            "smallest_dropped_snap_m": float(np.min(snap.s[~keep])) if np.any(~keep) else None,
        },
        "dijkstra_scipy_crosscheck_max_abs_diff_m": crosscheck,
        "total": {"code": "total", "shelters": int(np.sum(shelter_unit >= 0)), **figures(allm)},
        "units": per,
        "timings_s": {"read": round(t1 - t0, 3), "dijkstra": round(t2 - t1, 3),
                      "figures": round(t3 - t2, 3)},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo-dir", default=DEFAULT_REPO_DIR)
    ap.add_argument("--shared-dir", default=DEFAULT_SHARED_DIR)
    ap.add_argument("--out-dir", default=HERE)
    ap.add_argument("--no-write", action="store_true", help="print the summary only")
    args = ap.parse_args(argv)
    paths = [os.path.join(args.repo_dir, p) for p in (NODES_FILE, EDGES_FILE, ADMIN_FILE,
                                                       CENSUS_FILE)]
    paths.append(os.path.join(args.shared_dir, SHELTERS_FILE))
    for p in paths:
        if not os.path.isfile(p):
            print(f"SKIP: {p} not found", file=sys.stderr)
            return 0
    try:
        summ = compute(args.repo_dir, args.shared_dir)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    wuhan.report(summ, args.out_dir, "beijing_core_exam.json", write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
