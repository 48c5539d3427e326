#!/usr/bin/env python3
"""Side-by-side benchmark: many-to-many shortest walking distances on the Beijing walk network.

One run answers the same origin-destination matrices with
  (a) pandana 0.8: contraction hierarchy built by `pandana.Network` (timed as preprocessing), then
      `Network.shortest_path_lengths` over every pair (timed as query);
  (b) scipy.sparse.csgraph.dijkstra from the destinations, full rows (the walk graph is
      undirected, so distances from destinations equal distances to them); the answer key;
  (c) Renxing through its CLI: `renxing od ... --profile walk --metric distance --timings
      --no-cache`, wall time measured around the process (reading, building the hierarchy,
      queries and writing the CSV included);
and compares every pair with scipy (max absolute / relative difference: Renxing should be within
1e-9 relative; pandana stores every link as whole millimetres, so its answers run a few mm short:
median ~3e-8 relative, up to ~6e-5 on a short pair of many links).

Instance: the main component of the Beijing 2012 walk graph, built exactly as in
tests/reference/beijing_walk_shelters.py (imported). Origins and destinations are main-component
nodes whose (lon, lat) no other node of the nodes file has (a point given at a co-located node
could snap to the twin node, which is another question), drawn without replacement with
numpy default_rng(--seed): 1,000 destinations, then 1,000 origins, then 10,000 origins (the
origin sets are drawn independently of the destinations, so a node can be both; its distance is 0).
Sizes: 1,000 x 1,000 and 10,000 x 1,000 (skip the latter with --skip-big).

Each peer runs in its own Python subprocess (this file with --worker), so its peak memory is the
worker's VmHWM from /proc/self/status (the C++ heap included; the worker also reports its VmHWM
after imports and loading the arrays, to show the tool's own share). Renxing's peak is its VmHWM
sampled while it runs. (ru_maxrss of a child is not used: Linux carries the parent's high-water
mark across fork + exec.)

Usage (peer tools from scripts/setup_peers.sh):
  $HOME/.cache/peers/venv/bin/python scripts/compare_routing.py \
      [--renxing target/release/renxing] [--data-dir /work/shared/data/cn/beijing] \
      [--seed 20250601] [--skip-big] [--repeat 1] [--require-renxing] [--json out.json]

Exit status: 0 when everything that ran agrees (a missing or failing Renxing binary is reported
and skipped unless --require-renxing), 1 on a disagreement (Renxing beyond --tol, or pandana more than
0.5 m from scipy on some pair), 2 on bad input. Every number printed is computed in
this run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
except ImportError:  # pragma: no cover - environment hint
    sys.exit("numpy missing: run scripts/setup_peers.sh, then $HOME/.cache/peers/venv/bin/python")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import beijing_walk_shelters as ref  # noqa: E402

DEFAULT_SEED = 20250601
N_DEST = 1000
SIZES = (("1000x1000", 1000), ("10000x1000", 10000))
PANDANA_UNREACHABLE = 4294967.295
# Renxing phases (its `timings {...}` JSON) counted as query time: names containing these words;
# phases naming "write" only are neither query nor preprocessing.
QUERY_PHASE_WORDS = ("query", "search", "matrix")
PANDANA_ABS_TOL_M = 0.5  # sanity bound only: pandana truncates every edge to whole millimetres


def vm_kb(field: str) -> float | None:
    """A field of /proc/self/status (VmHWM, VmRSS) in MB."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


# ------------------------------------------------------------------------------------- workers
def worker(tool: str, npz: str, size: str, result: str) -> int:
    """Run one peer on one size; print one JSON line; save the [origins x destinations] matrix."""
    if tool == "pandana":
        import pandana
        import pandas as pd
    else:
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra
    z = np.load(npz)
    x, y = z["x"], z["y"]
    ea, eb, el = z["edge_a"], z["edge_b"], z["edge_len"]
    orig, dest = z[f"origins_{size}"], z["destinations"]
    n = len(x)
    base = vm_kb("VmHWM")
    if tool == "pandana":
        # pair arrays built before the clock starts (inputs, not work)
        nodes_a = np.repeat(orig, len(dest))
        nodes_b = np.tile(dest, len(orig))
        t0 = time.perf_counter()
        idx = pd.Index(np.arange(n), name="node")
        net = pandana.Network(
            pd.Series(x, index=idx), pd.Series(y, index=idx), pd.Series(ea), pd.Series(eb),
            pd.DataFrame({"length": el}), twoway=True,
        )
        t1 = time.perf_counter()
        lens = net.shortest_path_lengths(nodes_a, nodes_b, imp_name="length")
        t2 = time.perf_counter()
        mat = np.asarray(lens, dtype=np.float64).reshape(len(orig), len(dest))
        mat[mat == PANDANA_UNREACHABLE] = np.inf
    elif tool == "scipy":
        t0 = time.perf_counter()
        vals = np.concatenate([el, el])
        vals = np.where(vals == 0.0, 1e-300, vals)  # csgraph drops explicit zeros
        m = csr_matrix((vals, (np.concatenate([ea, eb]), np.concatenate([eb, ea]))), shape=(n, n))
        t1 = time.perf_counter()
        rows = dijkstra(m, directed=True, indices=dest)  # [destinations x all nodes]
        mat = np.ascontiguousarray(rows[:, orig].T)
        t2 = time.perf_counter()
    else:
        raise SystemExit(f"unknown worker {tool}")
    np.save(result, mat)
    print(json.dumps({"prep_s": t1 - t0, "query_s": t2 - t1, "peak_mb": vm_kb("VmHWM"),
                      "baseline_mb": base, "pairs": int(mat.size)}))
    return 0


def run_worker(tool: str, npz: str, size: str, tmp: str, timeout: float):
    out = os.path.join(tmp, f"{tool}_{size}.npy")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", tool, "--npz", npz,
           "--size", size, "--result", out]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        tail = "\n    ".join(p.stderr.strip().splitlines()[-10:])
        raise RuntimeError(f"{tool} worker failed (exit {p.returncode}):\n    {tail}")
    info = json.loads(p.stdout.strip().splitlines()[-1])
    info["process_wall_s"] = wall
    return info, np.load(out)


# ------------------------------------------------------------------------------------- Renxing
def find_renxing(path: str) -> str | None:
    exe = path
    if not os.path.isabs(exe) and not os.path.exists(exe):
        exe = os.path.join(REPO, exe)
    if os.path.isfile(exe) and os.access(exe, os.X_OK):
        return exe
    return shutil.which(path)


def write_points(path: str, ids, lon, lat) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("id,lon,lat\n")
        for i, a, b in zip(ids.tolist(), lon.tolist(), lat.tolist()):
            f.write(f"{i},{a!r},{b!r}\n")  # repr: the exact float64 the nodes file gives


def read_od_output(path: str, o_ids: np.ndarray, d_ids: np.ndarray) -> tuple[np.ndarray, dict]:
    """Renxing's od CSV (any row order) as an [origins x destinations] distance matrix."""
    import pandas as pd

    try:
        df = pd.read_csv(path, usecols=["origin_id", "destination_id", "distance_m"],
                         dtype={"origin_id": str, "destination_id": str, "distance_m": str},
                         keep_default_na=False)
    except ValueError as exc:
        raise RuntimeError(f"{path}: {exc}") from None
    o_pos = pd.Series(np.arange(len(o_ids)), index=[str(i) for i in o_ids.tolist()])
    d_pos = pd.Series(np.arange(len(d_ids)), index=[str(i) for i in d_ids.tolist()])
    oi = o_pos.reindex(df["origin_id"].str.strip()).to_numpy()
    di = d_pos.reindex(df["destination_id"].str.strip()).to_numpy()
    unknown = np.isnan(oi) | np.isnan(di)
    text = df["distance_m"].str.strip()
    empty = text.str.lower().isin(["", "nan", "inf", "infinity", "none", "null"]).to_numpy()
    dist = pd.to_numeric(text.where(~empty, "inf"), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(dist)
    if bad.any():
        k = int(np.argmax(bad))
        raise RuntimeError(f"{path}: line {k + 2}: distance_m is not a number: {text.iloc[k]!r}")
    ok = ~unknown
    flat = oi[ok].astype(np.int64) * len(d_ids) + di[ok].astype(np.int64)
    mat = np.full(len(o_ids) * len(d_ids), np.nan)
    mat[flat] = dist[ok]
    dup = len(flat) - len(np.unique(flat))
    info = {"rows": int(len(df)), "unknown_ids": int(unknown.sum()), "duplicate_pairs": int(dup),
            "empty_distance": int(empty.sum()), "pairs_missing": int(np.isnan(mat).sum())}
    return mat.reshape(len(o_ids), len(d_ids)), info


def run_renxing(args, exe, tmp, size, o_idx, d_idx, net, cnx):
    o_csv = os.path.join(tmp, f"origins_{size}.csv")
    d_csv = os.path.join(tmp, "destinations.csv")
    out = os.path.join(tmp, f"renxing_{size}.csv")
    write_points(o_csv, net.node_ids[o_idx], net.lon[o_idx], net.lat[o_idx])
    write_points(d_csv, net.node_ids[d_idx], net.lon[d_idx], net.lat[d_idx])
    cmd = [exe, "od",
           "--nodes", os.path.join(args.data_dir, ref.NODES_FILE),
           "--edges", os.path.join(args.data_dir, ref.EDGES_FILE),
           "--origins", o_csv, "--destinations", d_csv,
           "--profile", "walk", "--metric", "distance",
           "--out", out, "--timings",
           *([] if args.renxing_cache else ["--no-cache"]), *args.renxing_arg]
    walls, peaks, phases = [], [], []
    for _ in range(args.repeat):
        if os.path.exists(out):
            os.remove(out)
        wall, code, peak, err = cnx.run_timed(cmd, args.timeout)
        if code != 0:
            tail = "\n    ".join(err.strip().splitlines()[-12:])
            raise RuntimeError(f"exit code {code}; stderr tail:\n    {tail}")
        walls.append(wall)
        if peak is not None:
            peaks.append(peak)
        tm = cnx.parse_timings(err)
        if tm:
            phases.append(tm)
    if not os.path.isfile(out):
        raise RuntimeError(f"exit 0 but no output file {out}")
    mat, info = read_od_output(out, net.node_ids[o_idx], net.node_ids[d_idx])
    ph = {k: statistics.median([p[k] for p in phases if k in p]) for k in phases[0]} if phases else {}
    return {"cmd": " ".join(cmd), "wall_s": statistics.median(walls), "peak_mb": max(peaks) if peaks else None,
            "phases_s": ph, "output": info}, mat


# ---------------------------------------------------------------------------------------- main
def diff_stats(got: np.ndarray, want: np.ndarray) -> dict:
    """Max absolute and relative (to max(want, 1 m)) difference over pairs both answered."""
    both = np.isfinite(got) & np.isfinite(want)
    d = np.abs(got[both] - want[both])
    rel = d / np.maximum(np.abs(want[both]), 1.0)
    out = {"max_abs_m": float(d.max()) if d.size else math.nan,
           "max_rel": float(rel.max()) if rel.size else math.nan,
           "median_rel": float(np.median(rel)) if rel.size else math.nan,
           "mean_signed_m": float(np.mean(got[both] - want[both])) if d.size else math.nan,
           "pairs_compared": int(both.sum()),
           "finite_mismatch": int(np.sum(np.isfinite(got) != np.isfinite(want)))}
    out["worst_rel"] = {"want_m": math.nan, "got_m": math.nan}
    if rel.size:
        k = int(np.argmax(rel))
        out["worst_rel"] = {"want_m": float(want[both][k]), "got_m": float(got[both][k])}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=ref.DEFAULT_DATA_DIR)
    ap.add_argument("--renxing", default="target/release/renxing",
                    help="renxing binary (relative paths: from cwd, else from the repo root)")
    ap.add_argument("--renxing-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for `renxing od` (repeatable; write --renxing-arg=--flag for a flag)")
    ap.add_argument("--renxing-cache", action="store_true",
                    help="let renxing use its hierarchy cache (default: --no-cache, so every run "
                         "builds the hierarchy; with the cache, runs after the first load it)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--skip-big", action="store_true", help="skip the 10,000 x 1,000 matrix")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool and size; medians shown")
    ap.add_argument("--tol", type=float, default=1e-9, help="max relative difference Renxing vs scipy")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess")
    ap.add_argument("--no-pandana", action="store_true")
    ap.add_argument("--require-renxing", action="store_true",
                    help="exit 1 when the renxing binary is missing or fails")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (CSV inputs/outputs)")
    ap.add_argument("--json", metavar="PATH", help="also write all measurements as JSON")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--npz", help=argparse.SUPPRESS)
    ap.add_argument("--size", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.npz, args.size, args.result)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    for name in (ref.NODES_FILE, ref.EDGES_FILE):
        if not os.path.isfile(os.path.join(args.data_dir, name)):
            print(f"SKIP: {os.path.join(args.data_dir, name)} not found", file=sys.stderr)
            return 0
    import compare_networkx as cnx  # machine_info, run_timed (VmHWM sampling), parse_timings

    print("== machine")
    for line in cnx.machine_info():
        print("  " + line)

    t0 = time.perf_counter()
    try:
        nodes = ref.read_nodes(os.path.join(args.data_dir, ref.NODES_FILE))
        er = ref.read_walk_edges(os.path.join(args.data_dir, ref.EDGES_FILE), nodes)
    except ref.InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    net = ref.build_network(nodes, er)
    count: dict[tuple[float, float], int] = {}
    for p in nodes.values():
        count[p] = count.get(p, 0) + 1
    unique = np.array([count[(a, b)] == 1 for a, b in zip(net.lon.tolist(), net.lat.tolist())])
    cand = np.flatnonzero(unique)
    rng = np.random.default_rng(args.seed)
    d_idx = np.sort(rng.choice(cand, N_DEST, replace=False))
    origin_sets = {label: np.sort(rng.choice(cand, k, replace=False)) for label, k in SIZES}
    sizes = [s for s in SIZES if not (args.skip_big and s[1] > 1000)]
    g = net.stats
    print("\n== instance")
    print(f"  walk graph main component: {g['main_component_nodes']} nodes / {g['main_component_edges']} "
          f"undirected edges ({g['components']} components); {len(cand)} nodes with a unique position "
          f"(read + build {time.perf_counter() - t0:.1f} s)")
    print(f"  seed {args.seed}: {N_DEST} destinations; origins " +
          ", ".join(f"{label} ({len(np.intersect1d(origin_sets[label], d_idx))} also destinations)"
                    for label, _ in sizes))

    exe = find_renxing(args.renxing)
    tmp = tempfile.mkdtemp(prefix="renxing_od_cmp_")
    report: dict = {"seed": args.seed, "repeat": args.repeat, "sizes": {}}
    status = 0
    try:
        npz = os.path.join(tmp, "instance.npz")
        np.savez(npz, x=net.x, y=net.y, edge_a=net.edge_a, edge_b=net.edge_b, edge_len=net.edge_len,
                 destinations=d_idx, **{f"origins_{label}": origin_sets[label] for label, _ in sizes})
        tools = ["scipy"] + ([] if args.no_pandana else ["pandana"])
        for label, _k in sizes:
            o_idx = origin_sets[label]
            rep: dict = {"pairs": int(len(o_idx) * len(d_idx))}
            report["sizes"][label] = rep
            mats = {}
            print(f"\n== {label} ({rep['pairs']:,} pairs)", flush=True)
            for tool in tools:
                runs = []
                try:
                    for _ in range(args.repeat):
                        info, mat = run_worker(tool, npz, label, tmp, args.timeout)
                        runs.append(info)
                        print(f"  {tool}: preprocessing {info['prep_s']:.3f} s, query {info['query_s']:.3f} s, "
                              f"peak {info['peak_mb']:.0f} MB (after imports+load {info['baseline_mb']:.0f} MB)",
                              flush=True)
                except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                    rep[tool] = {"status": f"FAILED: {exc}"}
                    print(f"  {tool}: FAILED: {exc}")
                    if tool == "scipy":
                        status = 1
                    continue
                mats[tool] = mat
                rep[tool] = {
                    "status": "OK",
                    "prep_s": statistics.median(r["prep_s"] for r in runs),
                    "query_s": statistics.median(r["query_s"] for r in runs),
                    "peak_mb": max(r["peak_mb"] for r in runs),
                    "baseline_mb": min(r["baseline_mb"] for r in runs),
                    "process_wall_s": statistics.median(r["process_wall_s"] for r in runs),
                }
                rep[tool]["total_s"] = rep[tool]["prep_s"] + rep[tool]["query_s"]
            if "scipy" not in mats:
                continue
            want = mats["scipy"]
            rep["scipy_stats"] = {"mean_m": float(want.mean()), "max_m": float(want.max()),
                                  "unreachable": int(np.sum(~np.isfinite(want)))}
            if "pandana" in mats:
                rep["pandana_vs_scipy"] = diff_stats(mats["pandana"], want)
                if not rep["pandana_vs_scipy"]["max_abs_m"] <= PANDANA_ABS_TOL_M:
                    status = 1
            # Renxing
            if exe is None:
                rep["renxing"] = {"status": f"SKIP: no executable at {args.renxing!r} "
                                            "(build it: cargo build --release -p renxing-cli)"}
            else:
                try:
                    rx, mat = run_renxing(args, exe, tmp, label, o_idx, d_idx, net, cnx)
                except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                    rep["renxing"] = {"status": f"FAILED: {exc}"}
                else:
                    rx["vs_scipy"] = diff_stats(mat, want)
                    v = rx["vs_scipy"]
                    ok = (v["max_rel"] <= args.tol and rx["output"]["pairs_missing"] == 0
                          and rx["output"]["unknown_ids"] == 0 and v["finite_mismatch"] == 0)
                    rx["status"] = "OK" if ok else f"MISMATCH (tolerance {args.tol:g} relative)"
                    if not ok:
                        status = 1
                    rep["renxing"] = rx
            st = rep["renxing"]["status"]
            if args.require_renxing and st != "OK":
                status = 1
    finally:
        if args.keep_tmp:
            print(f"\n(temp dir kept: {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------------------------------ summary
    for label, rep in report["sizes"].items():
        print(f"\n== answers {label}")
        if "scipy_stats" in rep:
            s = rep["scipy_stats"]
            print(f"  scipy (answer key): mean {s['mean_m']:.3f} m, max {s['max_m']:.3f} m, "
                  f"unreachable {s['unreachable']}")
        if "pandana_vs_scipy" in rep:
            v = rep["pandana_vs_scipy"]
            print(f"  pandana vs scipy: max abs {v['max_abs_m']:.3g} m, max rel {v['max_rel']:.3g} "
                  f"(scipy {v['worst_rel']['want_m']!r} m, pandana {v['worst_rel']['got_m']!r} m), median rel "
                  f"{v['median_rel']:.3g}, mean signed {v['mean_signed_m']:.3g} m (pandana truncates each edge "
                  f"to whole mm), {v['finite_mismatch']} reachability mismatches")
        rx = rep.get("renxing", {})
        print(f"  renxing: {rx.get('status', '-')}")
        if "vs_scipy" in rx:
            v, o = rx["vs_scipy"], rx["output"]
            print(f"    vs scipy: max abs {v['max_abs_m']:.3g} m, max rel {v['max_rel']:.3g} "
                  f"(scipy {v['worst_rel']['want_m']!r} m, renxing {v['worst_rel']['got_m']!r} m) over "
                  f"{v['pairs_compared']:,} pairs; {v['finite_mismatch']} reachability mismatches")
            print(f"    output: {o['rows']:,} rows, {o['pairs_missing']} pairs missing, {o['unknown_ids']} "
                  f"unknown ids, {o['duplicate_pairs']} duplicate pairs, {o['empty_distance']} empty distances")
            if rx.get("phases_s"):
                print("    phases (s): " + ", ".join(f"{k} {v:.3f}" for k, v in rx["phases_s"].items()))
            print(f"    command: {rx['cmd']}")

        print(f"\n== timings {label} (median of {args.repeat} run(s))")
        print(f"  {'tool':<22} {'preproc s':>10} {'query s':>10} {'total s':>10} {'peak MB':>9} {'vs renxing':>11}")
        rx_total = rx.get("wall_s")
        for tool, name in (("pandana", "pandana CH"), ("scipy", "scipy csgraph dijkstra"), ("renxing", "renxing od (CLI)")):
            t = rep.get(tool)
            if not t or "wall_s" not in t and "total_s" not in t:
                continue
            if tool == "renxing":
                ph = t.get("phases_s") or {}
                is_q = [k for k in ph if any(w in k for w in QUERY_PHASE_WORDS)]
                q = sum(ph[k] for k in is_q) if is_q else None
                prep = sum(v for k, v in ph.items() if k not in is_q and "write" not in k)
                total = t["wall_s"]
                peak = t["peak_mb"]
                prep_s = f"{prep:10.3f}" if ph else f"{'-':>10}"
            else:
                q, total, peak = t["query_s"], t["total_s"], t["peak_mb"]
                prep_s = f"{t['prep_s']:10.3f}"
            q_s = f"{q:10.3f}" if q is not None else f"{'-':>10}"
            ratio = f"{total / rx_total:10.2f}x" if rx_total else f"{'-':>11}"
            peak_s = f"{peak:9.0f}" if peak is not None else f"{'-':>9}"
            print(f"  {name:<22} {prep_s} {q_s} {total:10.3f} {peak_s} {ratio}")
        print("  vs renxing = tool total / renxing total (above 1: slower than Renxing).")
        print("  peers: total = preprocessing + query inside a worker process that got the graph as arrays "
              "(no CSV reading); peak = the worker's VmHWM.")
        print("  renxing: total = process wall time (reads both CSVs, builds the graph, preprocesses, "
              "snaps, queries, writes the CSV); query = its phases named query/search/matrix (may include "
              "writing, e.g. matrix_and_write); preproc = its other phases except write.")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2, sort_keys=True, default=str)
            f.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
