#!/usr/bin/env python3
"""Side-by-side benchmark: nearest shelter on the Beijing walk network.

One run times the same job (defined in tests/reference/README.md) with
  (a) networkx, end to end (read CSVs, build graph, component, snap, Dijkstra) and Dijkstra alone,
  (b) scipy.sparse.csgraph (same reading/snapping code, csgraph Dijkstra from a super-source),
  (c) pandana, if importable (nearest_pois; it snaps POIs to the nearest NODE at zero cost, so it
      answers a different question: its numbers are reported separately and checked against an
      exact node-snapped Dijkstra, not against the reference),
  (d) Renxing through its CLI (`renxing access ... --profile walk --metric distance`),
and compares Renxing's per-node distances with networkx's (max abs / rel difference).

Renxing is run with `--timings`, which prints its phase times (read, graph, snap, search, write)
as JSON on stderr; the script prints them beside networkx's phases, with the ratios networkx /
renxing end to end and for the search alone.

Renxing's origins are points (the coordinates of the main-component nodes), snapped to the
nearest link. Where two nodes share the very same coordinates (the 2012 Beijing network has such
pairs: overlapping carriageways, bridges), the point lies on links of both, the snap picks one (the
lowest link index) and the origin gets the distance of the other node of the pair. Such nodes
are compared against the networkx distance of the co-located node they match best, and counted.

Usage (peer tools from scripts/setup_peers.sh):
  $HOME/.cache/peers/venv/bin/python scripts/compare_networkx.py \
      [--renxing target/release/renxing] [--repeat 3] [--data-dir /work/shared/data/cn/beijing]

Exit status: 0 when every tool that ran agrees (Renxing within --tol relative of networkx),
1 on a disagreement, 2 on bad input. A missing or failing Renxing binary is reported and skipped
(exit 0) unless --require-renxing is given. Nothing here is a hard-coded result: all numbers are
computed in this run (the committed reference JSON is only read to flag drift).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import math
import os
import platform
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
import beijing_walk_shelters as ref  # noqa: E402


# ----------------------------------------------------------------------------------- machine info
def machine_info() -> list[str]:
    lines = []
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    lines.append(f"nproc (usable cores): {affinity}  os.cpu_count(): {os.cpu_count()}")
    model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines.append(f"cpu: {model or platform.processor() or 'unknown'}")
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            mem = {k: v.strip() for k, v in (ln.split(":", 1) for ln in f if ":" in ln)}
        lines.append(f"memory: total {mem.get('MemTotal')}, available {mem.get('MemAvailable')}")
    except OSError:
        pass
    try:
        lines.append("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    except OSError:
        pass
    lines.append(f"os: {platform.platform()}")
    vers = [f"python {platform.python_version()}"]
    for name in ("numpy", "scipy", "networkx", "pandas", "pandana"):
        try:
            vers.append(f"{name} {importlib.import_module(name).__version__}")
        except Exception:  # optional peers
            vers.append(f"{name} -")
    lines.append("versions: " + ", ".join(vers))
    return lines


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def dist_stats(d: np.ndarray) -> dict:
    n = len(d)
    out = {
        "n": n, "mean": float(np.mean(d)), "median": float(np.median(d)),
        "max": float(np.max(d)),
    }
    for th in ref.THRESHOLDS_M:
        out[f"le_{int(th)}"] = float(np.sum(d <= th)) / n
    return out


def diff_stats(got: np.ndarray, want: np.ndarray) -> tuple[float, float]:
    """Max absolute and max relative difference (relative to max(|want|, 1 m))."""
    diff = np.abs(got - want)
    both_inf = np.isinf(got) & np.isinf(want)
    diff = np.where(both_inf, 0.0, diff)
    rel = diff / np.maximum(np.abs(np.where(np.isfinite(want), want, 1.0)), 1.0)
    return float(np.max(diff)), float(np.max(rel))


# ------------------------------------------------------------------------------------ the peers
def run_networkx(data_dir: str):
    res = ref.run_networkx(data_dir, audit=False)
    return res, res.timings["total_s"], res.timings["nx_dijkstra_s"]


def run_scipy(data_dir: str):
    t0 = time.perf_counter()
    nodes = ref.read_nodes(os.path.join(data_dir, ref.NODES_FILE))
    er = ref.read_walk_edges(os.path.join(data_dir, ref.EDGES_FILE), nodes)
    _, slon, slat = ref.read_shelters(os.path.join(data_dir, ref.SHELTERS_FILE))
    net = ref.build_network(nodes, er)
    px, py = ref.project(slon, slat, net.lon0, net.lat0)
    snap = ref.snap_points(net, px, py, audit=False)
    costs = ref.source_costs(net, snap)
    mat = ref.scipy_matrix(net, costs)
    t1 = time.perf_counter()
    d = ref.scipy_dijkstra(mat)
    t2 = time.perf_counter()
    return d, t2 - t0, t2 - t1


def pandana_available() -> bool:
    try:
        importlib.import_module("pandana")
        return True
    except Exception:
        return False


def run_pandana(data_dir: str, maxdist: float):
    """pandana end to end: (distances aligned with net.node_ids, timings, net, POI nodes)."""
    import pandas as pd
    import pandana

    t0 = time.perf_counter()
    nodes = ref.read_nodes(os.path.join(data_dir, ref.NODES_FILE))
    er = ref.read_walk_edges(os.path.join(data_dir, ref.EDGES_FILE), nodes)
    _, slon, slat = ref.read_shelters(os.path.join(data_dir, ref.SHELTERS_FILE))
    net = ref.build_network(nodes, er)
    px, py = ref.project(slon, slat, net.lon0, net.lat0)
    idx = pd.Index(np.arange(len(net.node_ids)), name="node")
    t1 = time.perf_counter()
    pn = pandana.Network(
        pd.Series(net.x, index=idx),
        pd.Series(net.y, index=idx),
        pd.Series(net.edge_a),
        pd.Series(net.edge_b),
        pd.DataFrame({"length": net.edge_len}),
        twoway=True,
    )
    t2 = time.perf_counter()
    pn.set_pois("shelter", maxdist, 1, pd.Series(px), pd.Series(py))
    res = pn.nearest_pois(maxdist, "shelter", num_pois=1, max_distance=math.inf)
    t3 = time.perf_counter()
    d = res[1].reindex(idx).to_numpy(dtype=np.float64)
    poi_nodes = pn.get_node_ids(pd.Series(px), pd.Series(py)).to_numpy(dtype=np.int64)
    tm = {"total_s": t3 - t0, "ch_build_s": t2 - t1, "query_s": t3 - t2}
    return d, tm, net, poi_nodes


def node_snapped_exact(net, poi_nodes: np.ndarray) -> np.ndarray:
    """Exact Dijkstra for pandana's definition: shelters sit on their nearest node at cost 0."""
    from scipy.sparse.csgraph import dijkstra

    mat = ref.scipy_matrix(net, {int(n): 0.0 for n in poi_nodes})
    n = len(net.node_ids)
    return dijkstra(mat, directed=True, indices=n)[:n]


# ------------------------------------------------------------------------------------- Renxing
def write_renxing_inputs(tmp: str, data_dir: str, net) -> tuple[str, str]:
    origins = os.path.join(tmp, "origins.csv")
    with open(origins, "w", encoding="utf-8", newline="") as f:
        f.write("id,lon,lat\n")
        for nid, lon, lat in zip(net.node_ids.tolist(), net.lon.tolist(), net.lat.tolist()):
            f.write(f"{nid},{lon!r},{lat!r}\n")
    dests = os.path.join(tmp, "shelters.csv")
    src = os.path.join(data_dir, ref.SHELTERS_FILE)
    with open(src, newline="", encoding="utf-8") as fin, open(
        dests, "w", encoding="utf-8", newline=""
    ) as fout:
        fout.write("id,lon,lat\n")
        for r in csv.DictReader(fin):
            # copy the text verbatim so both tools parse the very same digits
            fout.write(f"{r['sid']},{r['lon_wgs84']},{r['lat_wgs84']}\n")
    return origins, dests


def renxing_command(exe: str, data_dir: str, origins: str, dests: str, out: str) -> list[str]:
    return [
        exe, "access",
        "--nodes", os.path.join(data_dir, ref.NODES_FILE),
        "--edges", os.path.join(data_dir, ref.EDGES_FILE),
        "--origins", origins,
        "--destinations", dests,
        "--profile", "walk",
        "--metric", "distance",
        "--out", out,
        "--timings",
    ]


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size of a running process (VmHWM in /proc), in MB."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_timed(cmd: list[str], timeout: float):
    """Run cmd; return (wall seconds, exit code, peak RSS in MB or None, stderr text).

    The peak RSS is the child's VmHWM sampled every 2 ms while it runs. (ru_maxrss from wait4
    is useless here: Linux carries the parent's high-water mark across fork + exec, so it reports
    this Python process's own ~300 MB.)"""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        rss = None
        try:
            if hasattr(os, "wait4"):
                deadline = time.monotonic() + timeout
                while True:
                    hwm = _vm_hwm_mb(proc.pid)
                    if hwm is not None:
                        rss = hwm if rss is None else max(rss, hwm)
                    pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
                    if pid:
                        break
                    if time.monotonic() > deadline:
                        proc.kill()
                        os.wait4(proc.pid, 0)
                        raise subprocess.TimeoutExpired(cmd, timeout)
                    time.sleep(0.002)
                code = os.waitstatus_to_exitcode(status)
                proc.returncode = code
            else:
                code = proc.wait(timeout=timeout)
        finally:
            wall = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return wall, code, rss, text


class RenxingOutputError(Exception):
    pass


def parse_timings(stderr: str) -> dict | None:
    """The phase timings `renxing access --timings` prints: a line `timings {json}`."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("timings "):
            try:
                obj = json.loads(line[len("timings "):])
            except json.JSONDecodeError:
                return None
            if isinstance(obj, dict):
                return {k: float(v) for k, v in obj.items() if isinstance(v, (int, float))}
    return None


def colocated_targets(net, got: np.ndarray, want: np.ndarray, tol: float):
    """Per node, the networkx distance Renxing's value is to be compared with.

    A node sharing its exact coordinates with other main-component nodes is compared with the
    closest of the networkx distances of its group (see the module doc). Returns the targets,
    the number of co-located nodes and groups, and how many took a twin's distance."""
    groups: dict[tuple[float, float], list[int]] = {}
    for i, key in enumerate(zip(net.lon.tolist(), net.lat.tolist())):
        groups.setdefault(key, []).append(i)
    target = want.copy()
    n_nodes = n_groups = n_twin = 0
    for members in groups.values():
        if len(members) < 2:
            continue
        n_groups += 1
        n_nodes += len(members)
        for i in members:
            if not np.isfinite(got[i]):
                continue
            best = min(members, key=lambda j: abs(got[i] - want[j]))
            own_ok = abs(got[i] - want[i]) <= tol * max(abs(want[i]), 1.0)
            if best != i and not own_ok:
                target[i] = want[best]
                n_twin += 1
    return target, n_nodes, n_groups, n_twin


def read_renxing_output(path: str, node_ids: np.ndarray) -> tuple[np.ndarray, dict]:
    """Per-origin minimum distance_m aligned with node_ids (inf when absent/unreachable)."""
    pos = {int(n): i for i, n in enumerate(node_ids.tolist())}
    d = np.full(len(node_ids), np.inf)
    seen = np.zeros(len(node_ids), dtype=bool)
    info = {"rows": 0, "unknown_origins": 0, "empty_distance": 0, "destinations": set(),
            "speed_min_mps": math.inf, "speed_max_mps": 0.0}
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.DictReader(f)
        need = ["origin_id", "distance_m"]
        missing = [c for c in need if c not in (rd.fieldnames or [])]
        if missing:
            raise RenxingOutputError(
                f"{path}: line 1: missing column(s) {missing}: {rd.fieldnames}"
            )
        for r in rd:
            line = rd.line_num
            info["rows"] += 1
            try:
                oid = int(r["origin_id"])
            except (TypeError, ValueError):
                raise RenxingOutputError(
                    f"{path}: line {line}: origin_id is not an integer: {r['origin_id']!r}"
                ) from None
            i = pos.get(oid)
            if i is None:
                info["unknown_origins"] += 1
                continue
            seen[i] = True
            text = (r.get("distance_m") or "").strip()
            if text == "" or text.lower() in ("nan", "inf", "infinity", "none", "null"):
                info["empty_distance"] += 1
                continue
            try:
                val = float(text)
            except ValueError:
                raise RenxingOutputError(
                    f"{path}: line {line}: distance_m is not a number: {text!r}"
                ) from None
            if val < d[i]:
                d[i] = val
            if r.get("destination_id"):
                info["destinations"].add(r["destination_id"])
            ts = (r.get("time_s") or "").strip()
            try:
                tv = float(ts)
                if tv > 0 and val > 0:
                    info["speed_min_mps"] = min(info["speed_min_mps"], val / tv)
                    info["speed_max_mps"] = max(info["speed_max_mps"], val / tv)
            except ValueError:
                pass
    info["origins_missing"] = int(np.sum(~seen))
    info["destinations"] = len(info["destinations"])
    return d, info


def run_renxing(args, net, nx_dist: np.ndarray, report: dict) -> tuple[list[float], float | None]:
    exe = args.renxing
    if not os.path.isabs(exe) and not os.path.exists(exe):
        exe = os.path.join(REPO, exe)
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        found = shutil.which(args.renxing)
        if found is None:
            report["renxing_status"] = (
                f"SKIP: no executable at {args.renxing!r} "
                "(build it: cargo build --release -p renxing-cli)"
            )
            return [], None
        exe = found
    tmp = tempfile.mkdtemp(prefix="renxing_cmp_")
    try:
        origins, dests = write_renxing_inputs(tmp, args.data_dir, net)
        out = os.path.join(tmp, "out.csv")
        cmd = renxing_command(exe, args.data_dir, origins, dests, out)
        report["renxing_command"] = " ".join(cmd)
        times, rss, phases = [], [], []
        for _ in range(args.repeat):
            if os.path.exists(out):
                os.remove(out)
            try:
                wall, code, peak, err = run_timed(cmd, args.timeout)
            except (OSError, subprocess.TimeoutExpired) as exc:
                report["renxing_status"] = f"FAILED to run: {exc}"
                return [], None
            if code != 0:
                tail = "\n    ".join(err.strip().splitlines()[-15:])
                report["renxing_status"] = f"FAILED: exit code {code}; stderr tail:\n    {tail}"
                return [], None
            times.append(wall)
            if peak is not None:
                rss.append(peak)
            tm = parse_timings(err)
            if tm is not None:
                phases.append(tm)
        if phases:
            report["renxing_phases_median_s"] = {
                k: median([p[k] for p in phases if k in p]) for k in phases[0]
            }
        if not os.path.isfile(out):
            report["renxing_status"] = f"FAILED: exit 0 but no output file {out}"
            return [], None
        try:
            d, info = read_renxing_output(out, net.node_ids)
        except (RenxingOutputError, OSError, UnicodeDecodeError) as exc:
            report["renxing_status"] = f"FAILED: bad output: {exc}"
            return times, max(rss) if rss else None
        report["renxing_output"] = info
        finite = np.isfinite(d)
        report["renxing_stats"] = dist_stats(d[finite]) if np.any(finite) else None
        raw_abs, raw_rel = diff_stats(d, nx_dist)
        target, n_col, n_grp, n_twin = colocated_targets(net, d, nx_dist, args.tol)
        abs_d, rel_d = diff_stats(d, target)
        report["renxing_vs_networkx"] = {"max_abs_m": abs_d, "max_rel": rel_d,
                                         "nodes_compared": int(len(d)),
                                         "nodes_not_finite": int(np.sum(~finite)),
                                         "raw_max_abs_m": raw_abs, "raw_max_rel": raw_rel,
                                         "colocated_nodes": n_col, "colocated_groups": n_grp,
                                         "colocated_took_twin": n_twin}
        ok = rel_d <= args.tol and info["origins_missing"] == 0 and np.all(finite)
        if not ok:
            worst = int(np.argmax(np.abs(np.where(finite, d, 1e300) - target)))
            report["renxing_worst_node"] = {
                "node_id": int(net.node_ids[worst]),
                "renxing_m": float(d[worst]),
                "networkx_m": float(target[worst]),
            }
        report["renxing_status"] = "OK" if ok else f"MISMATCH (tolerance {args.tol:g} relative)"
        if args.keep_tmp:
            report["renxing_tmp"] = tmp
        return times, max(rss) if rss else None
    finally:
        if not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------------- main
def fmt_stats(s: dict | None) -> str:
    if not s:
        return "-"
    return (f"mean {s['mean']:.3f} m, median {s['median']:.3f} m, max {s['max']:.3f} m, "
            f"<=500 m {s['le_500']:.4f}, <=2000 m {s['le_2000']:.4f}, <=3000 m {s['le_3000']:.4f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=ref.DEFAULT_DATA_DIR)
    ap.add_argument("--renxing", default="target/release/renxing",
                    help="renxing binary (relative paths: from cwd, else from the repo root)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the median is shown")
    ap.add_argument("--tol", type=float, default=1e-9, help="max relative difference accepted")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per renxing run")
    ap.add_argument("--pandana-maxdist", type=float, default=100_000.0,
                    help="pandana search radius in metres (large = no cutoff)")
    ap.add_argument("--no-pandana", action="store_true")
    ap.add_argument("--require-renxing", action="store_true",
                    help="exit 1 when the renxing binary is missing or fails")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir with O/D/out CSVs")
    ap.add_argument("--json", metavar="PATH", help="also write all measurements as JSON")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")

    for name in (ref.NODES_FILE, ref.EDGES_FILE, ref.SHELTERS_FILE):
        if not os.path.isfile(os.path.join(args.data_dir, name)):
            print(f"SKIP: {os.path.join(args.data_dir, name)} not found", file=sys.stderr)
            return 0

    print("== machine")
    for line in machine_info():
        print("  " + line)

    report: dict = {"repeat": args.repeat}
    rows: list[tuple[str, float, str]] = []  # (label, median seconds, note)
    status = 0
    try:
        # (a) networkx
        nx_total, nx_dij, nx_phases = [], [], []
        for _ in range(args.repeat):
            res, tot, dij = run_networkx(args.data_dir)
            nx_total.append(tot)
            nx_dij.append(dij)
            nx_phases.append(dict(res.timings))
        net, nx_dist = res.net, res.dist
        report["networkx_stats"] = dist_stats(nx_dist)
        report["graph"] = net.stats
        rows.append(("networkx end to end", median(nx_total), "read+graph+component+snap+Dijkstra"))
        rows.append(("networkx Dijkstra", median(nx_dij), "virtual source, single_source_dijkstra"))

        # (b) scipy
        sp_total, sp_dij = [], []
        for _ in range(args.repeat):
            sp_dist, tot, dij = run_scipy(args.data_dir)
            sp_total.append(tot)
            sp_dij.append(dij)
        rows.append(("scipy end to end", median(sp_total), "same read/snap, csgraph"))
        rows.append(("scipy Dijkstra", median(sp_dij), "csgraph.dijkstra from super-source"))
        a, r = diff_stats(sp_dist, nx_dist)
        report["scipy_vs_networkx"] = {"max_abs_m": a, "max_rel": r}
        if r > 1e-12:
            status = 1

        # (c) pandana
        if args.no_pandana:
            report["pandana_status"] = "SKIP (--no-pandana)"
        elif not pandana_available():
            report["pandana_status"] = "SKIP (pandana not importable)"
        else:
            pd_total, pd_ch, pd_q = [], [], []
            for _ in range(args.repeat):
                pd_dist, tm, pnet, poi_nodes = run_pandana(args.data_dir, args.pandana_maxdist)
                pd_total.append(tm["total_s"])
                pd_ch.append(tm["ch_build_s"])
                pd_q.append(tm["query_s"])
            rows.append(
                ("pandana end to end", median(pd_total), "DIFFERENT definition (node snap)")
            )
            rows.append(("pandana CH build", median(pd_ch), ""))
            rows.append(("pandana nearest_pois", median(pd_q), "set_pois + nearest_pois"))
            exact = node_snapped_exact(pnet, poi_nodes)
            a, r = diff_stats(pd_dist, exact)
            report["pandana_stats"] = dist_stats(pd_dist)
            report["pandana_vs_node_snapped_exact"] = {"max_abs_m": a, "max_rel": r}
            report["pandana_vs_reference_mean_diff_m"] = float(np.mean(pd_dist - nx_dist))
            report["pandana_status"] = "OK (node-snapped definition)"

        # (d) renxing
        rx_times, rx_rss = run_renxing(args, net, nx_dist, report)
        if rx_times:
            rows.append(("renxing CLI end to end", median(rx_times),
                         f"wall, process; peak RSS {rx_rss:.0f} MB" if rx_rss else "wall, process"))
        st = report.get("renxing_status", "")
        if st.startswith("MISMATCH") or st.startswith("FAILED: bad output"):
            status = 1
        elif args.require_renxing and st != "OK":
            status = 1
    except ref.InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    # drift check against the committed reference (read, not hard-coded)
    ref_json = os.path.join(REPO, "tests", "reference", "beijing_walk_shelters.json")
    if os.path.isfile(ref_json):
        with open(ref_json, encoding="utf-8") as f:
            committed = json.load(f)
        drift = abs(committed.get("distance_mean_m", math.nan) - report["networkx_stats"]["mean"])
        report["committed_reference_mean_drift_m"] = drift
        if not drift <= 1e-9 * max(1.0, report["networkx_stats"]["mean"]):
            print(f"WARNING: networkx mean differs from {ref_json} by {drift:g} m "
                  "(inputs or definition changed? rerun tests/reference/beijing_walk_shelters.py)")

    g = net.stats
    print("\n== instance")
    print(f"  walk graph: {g['walk_nodes']} nodes / {g['walk_edges_undirected']} edges in "
          f"{g['components']} components; main component {g['main_component_nodes']} nodes / "
          f"{g['main_component_edges']} edges")
    print(f"  shelters: {len(res.shelter_ids)} (snap distance max {res.snap.s.max():.1f} m, "
          f"median {np.median(res.snap.s):.1f} m)")
    print("\n== results")
    print(f"  networkx (reference): {fmt_stats(report['networkx_stats'])}")
    sv = report["scipy_vs_networkx"]
    print(f"  scipy vs networkx:    max abs {sv['max_abs_m']:.3g} m, max rel {sv['max_rel']:.3g}")
    print(f"  pandana: {report.get('pandana_status')}")
    if "pandana_stats" in report:
        pv = report["pandana_vs_node_snapped_exact"]
        print(f"    pandana (node snap): {fmt_stats(report['pandana_stats'])}")
        print(f"    vs exact node-snapped Dijkstra: max abs {pv['max_abs_m']:.3g} m, "
              f"max rel {pv['max_rel']:.3g} (pandana stores integer millimetres)")
        print(f"    mean(pandana - reference): {report['pandana_vs_reference_mean_diff_m']:.3f} m")
    print(f"  renxing: {report.get('renxing_status')}")
    if "renxing_vs_networkx" in report:
        rv = report["renxing_vs_networkx"]
        print(f"    renxing: {fmt_stats(report.get('renxing_stats'))}")
        print(f"    vs networkx: max abs {rv['max_abs_m']:.3g} m, max rel {rv['max_rel']:.3g} "
              f"over {rv['nodes_compared']} nodes ({rv['nodes_not_finite']} not finite)")
        print(f"    co-located nodes (same coordinates as another node): {rv['colocated_nodes']} "
              f"in {rv['colocated_groups']} groups; {rv['colocated_took_twin']} got the distance "
              f"of their twin (raw max abs {rv['raw_max_abs_m']:.3g} m, raw max rel "
              f"{rv['raw_max_rel']:.3g})")
        info = report["renxing_output"]
        print(f"    output: {info['rows']} rows, {info['origins_missing']} origins missing, "
              f"{info['unknown_origins']} unknown origin ids, {info['empty_distance']} empty "
              f"distances, {info['destinations']} distinct destinations")
        if info["speed_max_mps"] > 0:
            print(f"    implied speed distance_m/time_s: {info['speed_min_mps']:.4f}.."
                  f"{info['speed_max_mps']:.4f} m/s")
        if "renxing_worst_node" in report:
            print(f"    worst node: {report['renxing_worst_node']}")

    print(f"\n== timings (median of {args.repeat} run(s), seconds)")
    width = max(len(r[0]) for r in rows)
    for label, sec, note in rows:
        print(f"  {label:<{width}}  {sec:9.3f}  {note}")
    rx = [sec for label, sec, _ in rows if label.startswith("renxing")]
    rx_ph = report.get("renxing_phases_median_s")
    nx_ph = {k: median([p[k] for p in nx_phases]) for k in nx_phases[0]}
    report["networkx_phases_median_s"] = nx_ph
    if rx_ph:
        print(f"\n== phases (median of {args.repeat} run(s), seconds)")
        print("  phase    networkx  renxing     ratio  note")
        pairs = [
            ("read", nx_ph["read_s"], rx_ph.get("read"),
             "nx: nodes+edges+shelters; renxing: also the 25k-origin CSV"),
            ("graph", nx_ph["component_s"] + nx_ph["nx_graph_s"], rx_ph.get("graph"),
             "nx: component + networkx.Graph"),
            ("snap", nx_ph["snap_s"], rx_ph.get("snap"),
             "nx: shelters only (numpy, exhaustive); renxing: index + shelters + origins"),
            ("search", nx_ph["nx_dijkstra_s"], rx_ph.get("search"),
             "nx: Dijkstra; renxing: multi-source field + nearest per origin"),
            ("write", None, rx_ph.get("write"), "renxing: result CSV"),
            ("total", nx_ph["total_s"], sum(rx_ph.values()), "renxing: sum of its phases"),
        ]
        for name, a, b, note in pairs:
            sa = f"{a:8.4f}" if a is not None else "       -"
            sb = f"{b:8.4f}" if b is not None else "       -"
            ratio = f"{a / b:8.1f}x" if a is not None and b else "        -"
            print(f"  {name:<7} {sa}  {sb}  {ratio}  {note}")
    if rx and rx[0] > 0:
        print(f"  ratio networkx end to end / renxing end to end (process wall): "
              f"{median(nx_total) / rx[0]:.2f}")
        if rx_ph and rx_ph.get("search"):
            print(f"  ratio networkx Dijkstra / renxing search phase: "
                  f"{median(nx_dij) / rx_ph['search']:.2f}")
        print(f"  ratio networkx Dijkstra alone / renxing end to end: {median(nx_dij) / rx[0]:.2f}")
    report["timings_median_s"] = {label: sec for label, sec, _ in rows}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2, sort_keys=True, default=str)
            f.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
