#!/usr/bin/env python3
"""Peer comparison: solve a facility-siting model with PySAL spopt on Renxing's inputs.

This script only *calls* spopt (spopt.locate) with the CBC solver through PuLP; it contains no
formulation of its own. It reads the same three CSV files Renxing reads, builds the demand x site
cost matrix in the row order of the demand and candidates files, hands it to
``<Model>.from_cost_matrix``, solves with ``pulp.PULP_CBC_CMD(msg=False)`` and writes one JSON.

Peer tools: ``$HOME/.cache/peers/venv/bin/pip install spopt pulp`` (tested: spopt 0.7.0,
pulp 3.3.2 with its bundled CBC).

Models (--model) and the spopt call behind each:
  lscp          LSCP.from_cost_matrix(cost, S)                  [--capacity-col: CLSCP-SO, see below]
  lscp-b        LSCPB.from_cost_matrix(cost, S, solver)         (solves an LSCP first, inside build)
  mclp          MCLP.from_cost_matrix(cost, w, S, p)
  p-median      PMedian.from_cost_matrix(cost, w, p)
  cp-median     PMedian.from_cost_matrix(cost, w, p, facility_capacities=cap)   (needs --capacity-col)
  p-center      PCenter.from_cost_matrix(cost, p)
  p-dispersion  PDispersion.from_cost_matrix(site_cost, p)      (needs --site-costs; no demand)
  cmclp         not offered by spopt 0.7.0: writes {"status": "unsupported"} and exits 3
--preselected-col COL (candidates file; 1/true/yes/y/t = preselected) is passed as
predefined_facilities_arr (as site indices) to every model. --fulfill-predefined adds
fulfill_predefined_fac=True for p-median/cp-median (spopt then forces each predefined facility's
assigned weight to EQUAL its capacity). With lscp, --capacity-col switches spopt to its
capacitated CLSCP-SO (demand quantities = weights, continuous split assignment).

Inputs
  --demand D.csv      one row per demand point. Id column: --demand-id-col, else the first column
                      (file order) whose values are unique and all appear as demand ids in the cost
                      file. Weight: --weight-col, else POP2000 if present, else `weight`, else 1.
  --candidates C.csv  one row per candidate site. Id column: --site-id-col, else NAME, else id.
  --costs M.csv       --costs-format long (default): one row per (demand, site) pair; columns from
                      --long-cols DEMAND_COL,SITE_COL,COST_COL, else auto: cost = first of
                      cost/distance/time/travel_time/dist; site = a column whose values are all
                      site ids; demand = a column whose values are all demand ids. Every pair must
                      be present exactly once.
                      --costs-format dense: header `<anything>,<site ids...>`, one row per demand
                      id (first column); columns/rows are re-ordered to the candidates/demand files.
  --costs euclidean   no cost file: cost = great-circle (haversine) distance in metres between each
                      demand point's lon/lat and each candidate's lon/lat, R = 6371008.8 m,
                      2R*asin(min(1, sqrt(h))), h = sin^2(dphi/2) + cos(phi1)cos(phi2)sin^2(dlambda/2),
                      vectorised numpy float64 (row blocks of 4096 demand points). lon/lat columns
                      of both files: --lon-col/--lat-col, else the first of long/lon/lng/longitude/x
                      and lat/latitude/y (as for --make-site-costs). Demand id column:
                      --demand-id-col, else id, else NAME, else the first column with unique
                      values. Building this matrix is timed in seconds_build (and on its own in
                      seconds_costs), not in seconds_read. --costs-format is ignored.
  --site-costs SC.csv p-dispersion only: long CSV with columns from,to,cost (site ids). A missing
                      (a,b) falls back to (b,a); the diagonal is 0.
  All ids are read as text (e.g. "060750479.01" stays as written).

Helper mode (no model is solved):
  spopt_site.py --make-site-costs OUT.csv --candidates C.csv [--site-id-col COL]
                [--lon-col COL] [--lat-col COL]
  writes the site x site great-circle (haversine) distance in metres, R = 6371008.8 m, as a long
  CSV with header `from,to,cost`: from = site id, to = site id, cost = metres, one row per ordered
  pair from != to, in candidates-file order (from-major). lon/lat columns default to the first of
  long/lon/lng/longitude/x and lat/latitude/y.

Output JSON (--out): model, spopt_version, pulp_version, status (PuLP status name), selected (site
ids in candidates-file order), objective (PuLP objective value; CBC's solution file carries
continuous variables to ~8 significant digits, so p-center's W and p-dispersion's D come out
rounded, e.g. 7403.0638: use max_cost / min_pairwise_cost for exact values), seconds_total (from process start,
interpreter start-up and imports included; start-up read from /proc on Linux), seconds_read
(reading CSVs, building the matrix from a cost file), seconds_build (spopt from_cost_matrix,
plus the haversine matrix with --costs euclidean; that part alone is seconds_costs), seconds_solve
(spopt .solve, i.e. CBC), peak_rss_mb (this Python process's peak resident set size,
getrusage(RUSAGE_SELF).ru_maxrss / 1024, taken just before the JSON is written),
peak_rss_children_mb (RUSAGE_CHILDREN, i.e. the CBC runs; Linux carries the parent's RSS at
fork time into a child's maxrss, so this is never below the Python RSS at the fork and only tells
CBC's own peak when that is larger),
n_demand, n_sites, and per model:
  p-median/cp-median  total_weight, weighted_mean_cost (= objective / total weight), spopt_mean_dist,
                      max_assigned_load / capacity facts for cp-median
  p-center            max_cost (max over demand of the cost to its nearest selected site)
  lscp/lscp-b/mclp    covered_demand_share (covered weight / total weight), uncovered (number of
                      demand points with no selected site at cost <= S, same test spopt uses)
  mclp                spopt_n_cli_uncov, spopt_perc_cov (spopt's own counts, from its X_i values)
  lscp-b              covered_twice (demand points with >= 2 selected sites within S, recomputed),
                      lscp_min_facilities (the LSCP optimum spopt carried over as p),
                      spopt_backup_perc (spopt's sum(U_i) / n * 100)
  p-dispersion        min_pairwise_cost (recomputed over the selected sites)
Exit status: 0 solved to optimality, 1 solver status not optimal, 2 bad input, 3 unsupported model.
"""
import os
import time

_T0 = time.perf_counter()


def _startup_offset():
    """Seconds between process start and _T0 (Linux /proc; 0.0 elsewhere)."""
    try:
        with open("/proc/self/stat") as fh:
            stat = fh.read()
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except Exception:
        return 0.0


_STARTUP = _startup_offset()

import argparse  # noqa: E402
import resource  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

MODELS = ["lscp", "lscp-b", "mclp", "p-median", "p-center", "p-dispersion", "cp-median", "cmclp"]
EARTH_R = 6371008.8
TRUE_WORDS = {"1", "true", "yes", "y", "t"}


class InputError(Exception):
    pass


def elapsed_total():
    return _STARTUP + (time.perf_counter() - _T0)


def read_text_csv(path):
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"no such file: {path}")
    df.columns = [str(c) for c in df.columns]
    return df


def pick_site_id_col(cand, wanted):
    if wanted:
        if wanted not in cand.columns:
            raise InputError(f"--site-id-col {wanted!r} not in candidates columns {list(cand.columns)}")
        return wanted
    for c in ("NAME", "id"):
        if c in cand.columns:
            return c
    raise InputError("candidates file has neither NAME nor id column; give --site-id-col")


def unique_ids(values, what):
    ids = [str(v) for v in values]
    seen = set()
    dups = [v for v in ids if v in seen or seen.add(v)]
    if dups:
        raise InputError(f"duplicate {what} ids, e.g. {dups[:3]}")
    return ids


def pick_weight(dem, wanted):
    if wanted:
        if wanted not in dem.columns:
            raise InputError(f"--weight-col {wanted!r} not in demand columns {list(dem.columns)}")
        col = wanted
    elif "POP2000" in dem.columns:
        col = "POP2000"
    elif "weight" in dem.columns:
        col = "weight"
    else:
        return None, np.ones(len(dem))
    try:
        w = dem[col].astype(float).to_numpy()
    except ValueError as exc:
        raise InputError(f"weight column {col!r} is not numeric: {exc}")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise InputError(f"weight column {col!r} has negative or non-finite values")
    return col, w


def pick_demand_id_col(dem, wanted, cost_demand_ids):
    if wanted:
        if wanted not in dem.columns:
            raise InputError(f"--demand-id-col {wanted!r} not in demand columns {list(dem.columns)}")
        return wanted
    for c in dem.columns:
        vals = dem[c].tolist()
        if len(set(vals)) == len(vals) and set(vals) <= cost_demand_ids:
            return c
    raise InputError("no demand-file column has unique values that all appear as demand ids in the "
                     "cost file; give --demand-id-col")


def detect_long_cols(costs, site_ids, dem, long_cols):
    """Return (demand_col, site_col, cost_col) of the long cost file."""
    if long_cols:
        parts = [p.strip() for p in long_cols.split(",")]
        if len(parts) != 3:
            raise InputError("--long-cols wants DEMAND_COL,SITE_COL,COST_COL")
        for p in parts:
            if p not in costs.columns:
                raise InputError(f"--long-cols: {p!r} not in cost columns {list(costs.columns)}")
        return tuple(parts)
    cost_col = next((c for c in ("cost", "distance", "time", "travel_time", "dist")
                     if c in costs.columns), None)
    if cost_col is None:
        raise InputError(f"cannot tell the cost column among {list(costs.columns)}; give --long-cols")
    site_set = set(site_ids)
    rest = [c for c in costs.columns if c != cost_col]
    site_col = next((c for c in rest if set(costs[c]) <= site_set), None)
    if site_col is None:
        raise InputError("no cost-file column holds only candidate site ids; give --long-cols")
    rest = [c for c in rest if c != site_col]
    dem_value_sets = [set(dem[c]) for c in dem.columns]
    demand_col = next((c for c in rest if any(set(costs[c]) <= s for s in dem_value_sets)), None)
    if demand_col is None:
        raise InputError("no cost-file column holds only demand ids; give --long-cols")
    return demand_col, site_col, cost_col


def to_float(series, what):
    try:
        v = series.astype(float).to_numpy()
    except ValueError as exc:
        raise InputError(f"{what} is not numeric: {exc}")
    if np.any(np.isnan(v)):
        raise InputError(f"{what} has NaN/empty values")
    return v


def build_matrix_long(costs, dcol, scol, ccol, demand_ids, site_ids):
    di = {d: i for i, d in enumerate(demand_ids)}
    si = {s: j for j, s in enumerate(site_ids)}
    rows = costs[dcol].map(di)
    cols = costs[scol].map(si)
    keep = rows.notna() & cols.notna()
    r = rows[keep].astype(int).to_numpy()
    c = cols[keep].astype(int).to_numpy()
    v = to_float(costs.loc[keep, ccol], f"cost column {ccol!r}")
    m = np.full((len(demand_ids), len(site_ids)), np.nan)
    count = np.zeros(m.shape, dtype=np.int64)
    np.add.at(count, (r, c), 1)
    if count.max(initial=0) > 1:
        i, j = np.argwhere(count > 1)[0]
        raise InputError(f"pair ({demand_ids[i]}, {site_ids[j]}) appears {count[i, j]} times")
    m[r, c] = v
    missing = int(np.isnan(m).sum())
    if missing:
        i, j = np.argwhere(np.isnan(m))[0]
        raise InputError(f"{missing} (demand, site) pairs have no cost, e.g. ({demand_ids[i]}, {site_ids[j]})")
    return m


def build_matrix_dense(costs, demand_ids, site_ids):
    idcol = costs.columns[0]
    missing_sites = [s for s in site_ids if s not in costs.columns]
    if missing_sites:
        raise InputError(f"dense cost file lacks site columns {missing_sites[:5]}")
    rows = unique_ids(costs[idcol], "dense-cost demand")
    pos = {d: k for k, d in enumerate(rows)}
    missing = [d for d in demand_ids if d not in pos]
    if missing:
        raise InputError(f"dense cost file lacks demand rows {missing[:5]}")
    sub = costs.iloc[[pos[d] for d in demand_ids]][site_ids]
    return np.column_stack([to_float(sub[s], f"dense cost column {s!r}") for s in site_ids])


def build_site_matrix(path, site_ids):
    sc = read_text_csv(path)
    for c in ("from", "to", "cost"):
        if c not in sc.columns:
            raise InputError(f"--site-costs needs columns from,to,cost; has {list(sc.columns)}")
    si = {s: j for j, s in enumerate(site_ids)}
    n = len(site_ids)
    m = np.full((n, n), np.nan)
    a = sc["from"].map(si)
    b = sc["to"].map(si)
    keep = a.notna() & b.notna()
    m[a[keep].astype(int).to_numpy(), b[keep].astype(int).to_numpy()] = to_float(sc.loc[keep, "cost"], "site cost")
    np.fill_diagonal(m, 0.0)
    m = np.where(np.isnan(m), m.T, m)
    if np.isnan(m).any():
        i, j = np.argwhere(np.isnan(m))[0]
        raise InputError(f"site pair ({site_ids[i]}, {site_ids[j]}) has no cost in either direction")
    return m


def haversine_m(lon1, lat1, lon2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_R * math.asin(min(1.0, math.sqrt(h)))


def haversine_matrix(lon1, lat1, lon2, lat2, block=4096):
    """Great-circle distance in metres, rows = points (lon1, lat1), columns = (lon2, lat2)."""
    lon1, lat1, lon2, lat2 = (np.asarray(a, dtype=np.float64) for a in (lon1, lat1, lon2, lat2))
    p1, l1 = np.radians(lat1), np.radians(lon1)
    p2, l2 = np.radians(lat2), np.radians(lon2)
    cos2 = np.cos(p2)
    out = np.empty((p1.size, p2.size), dtype=np.float64)
    for a in range(0, p1.size, block):
        b = min(a + block, p1.size)
        dphi = p2[None, :] - p1[a:b, None]
        dlam = l2[None, :] - l1[a:b, None]
        h = np.sin(dphi / 2.0) ** 2 + (np.cos(p1[a:b])[:, None] * cos2[None, :]) * np.sin(dlam / 2.0) ** 2
        np.sqrt(h, out=h)
        np.minimum(h, 1.0, out=h)
        np.arcsin(h, out=h)
        out[a:b] = (2.0 * EARTH_R) * h
    return out


def lonlat(df, args, what):
    lon_c = args.lon_col or next((c for c in ("long", "lon", "lng", "longitude", "x") if c in df.columns), None)
    lat_c = args.lat_col or next((c for c in ("lat", "latitude", "y") if c in df.columns), None)
    if lon_c is None or lat_c is None or lon_c not in df.columns or lat_c not in df.columns:
        raise InputError(f"cannot find lon/lat columns in the {what} file {list(df.columns)}; "
                         "give --lon-col/--lat-col")
    lon = to_float(df[lon_c], f"{what} {lon_c}")
    lat = to_float(df[lat_c], f"{what} {lat_c}")
    if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 360):
        raise InputError(f"{what} lon/lat out of range (columns {lon_c}, {lat_c})")
    return lon, lat


def pick_demand_id_col_plain(dem, wanted):
    if wanted:
        if wanted not in dem.columns:
            raise InputError(f"--demand-id-col {wanted!r} not in demand columns {list(dem.columns)}")
        return wanted
    for c in ["id", "NAME"] + list(dem.columns):
        if c in dem.columns and dem[c].nunique() == len(dem):
            return c
    raise InputError("no demand-file column has unique values; give --demand-id-col")


def make_site_costs(args):
    cand = read_text_csv(args.candidates)
    scol = pick_site_id_col(cand, args.site_id_col)
    ids = unique_ids(cand[scol], "site")
    lon_c = args.lon_col or next((c for c in ("long", "lon", "lng", "longitude", "x") if c in cand.columns), None)
    lat_c = args.lat_col or next((c for c in ("lat", "latitude", "y") if c in cand.columns), None)
    if lon_c is None or lat_c is None:
        raise InputError("cannot find lon/lat columns; give --lon-col/--lat-col")
    lon = to_float(cand[lon_c], lon_c)
    lat = to_float(cand[lat_c], lat_c)
    with open(args.make_site_costs, "w") as fh:
        fh.write("from,to,cost\n")
        for i, a in enumerate(ids):
            for j, b in enumerate(ids):
                if i != j:
                    fh.write(f"{a},{b},{repr(haversine_m(lon[i], lat[i], lon[j], lat[j]))}\n")
    print(f"wrote {len(ids) * (len(ids) - 1)} rows to {args.make_site_costs}", file=sys.stderr)


def preselected_indices(cand, col):
    if not col:
        return None
    if col not in cand.columns:
        raise InputError(f"--preselected-col {col!r} not in candidates columns {list(cand.columns)}")
    flags = np.array([str(v).strip().lower() in TRUE_WORDS for v in cand[col]])
    idx = np.flatnonzero(flags)
    if idx.size == 0:
        return None
    if idx.size == len(flags):
        # spopt reads an array as long as the site list as 0/1 dummies, a shorter one as indices.
        return np.ones(len(flags), dtype=np.int64)
    return idx.astype(np.int64)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=MODELS)
    ap.add_argument("--demand")
    ap.add_argument("--candidates")
    ap.add_argument("--costs")
    ap.add_argument("--costs-format", choices=["long", "dense"], default="long")
    ap.add_argument("--p", type=int)
    ap.add_argument("--service", type=float)
    ap.add_argument("--capacity-col")
    ap.add_argument("--preselected-col")
    ap.add_argument("--fulfill-predefined", action="store_true")
    ap.add_argument("--weight-col")
    ap.add_argument("--demand-id-col")
    ap.add_argument("--site-id-col")
    ap.add_argument("--long-cols")
    ap.add_argument("--site-costs")
    ap.add_argument("--time-limit", type=float, help="CBC time limit in seconds (default none)")
    ap.add_argument("--out")
    ap.add_argument("--make-site-costs", metavar="OUT.csv")
    ap.add_argument("--lon-col")
    ap.add_argument("--lat-col")
    args = ap.parse_args(argv)

    try:
        if args.make_site_costs:
            if not args.candidates:
                raise InputError("--make-site-costs needs --candidates")
            make_site_costs(args)
            return 0
        return run(args)
    except InputError as exc:
        print(f"spopt_site.py: {exc}", file=sys.stderr)
        return 2


def write_json(path, obj):
    if isinstance(obj, dict):
        obj["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        obj["peak_rss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    text = json.dumps(obj, indent=2)
    if path:
        with open(path, "w") as fh:
            fh.write(text + "\n")
    else:
        print(text)


def run(args):
    if not args.model:
        raise InputError("--model is required")
    if args.model == "cmclp":
        import spopt
        write_json(args.out, {"model": "cmclp", "spopt_version": spopt.__version__,
                              "status": "unsupported",
                              "note": "spopt.locate.MCLP has no capacity parameter"})
        print("spopt_site.py: spopt has no capacitated MCLP", file=sys.stderr)
        return 3
    if not args.candidates:
        raise InputError("--candidates is required")
    if args.model in ("mclp", "p-median", "cp-median", "p-center", "p-dispersion") and args.p is None:
        raise InputError(f"--p is required for {args.model}")
    if args.model in ("lscp", "lscp-b", "mclp") and args.service is None:
        raise InputError(f"--service is required for {args.model}")
    if args.model == "cp-median" and not args.capacity_col:
        raise InputError("cp-median needs --capacity-col")
    if args.capacity_col and args.model not in ("cp-median", "p-median", "lscp"):
        raise InputError(f"spopt {args.model} takes no capacities")

    t_read = time.perf_counter()
    cand = read_text_csv(args.candidates)
    site_col = pick_site_id_col(cand, args.site_id_col)
    site_ids = unique_ids(cand[site_col], "site")
    predefined = preselected_indices(cand, args.preselected_col)
    capacities = None
    if args.capacity_col:
        if args.capacity_col not in cand.columns:
            raise InputError(f"--capacity-col {args.capacity_col!r} not in candidates columns")
        capacities = to_float(cand[args.capacity_col], f"capacity column {args.capacity_col!r}")

    out = {"model": args.model}
    demand_ids, weights, weight_col, cost = None, None, None, None
    euclid = None  # (demand lon, lat, site lon, lat) when --costs euclidean: built in the build phase
    if args.model == "p-dispersion":
        if not args.site_costs:
            raise InputError("p-dispersion needs --site-costs (long CSV from,to,cost)")
        cost = build_site_matrix(args.site_costs, site_ids)
    else:
        if not (args.demand and args.costs):
            raise InputError("--demand and --costs are required")
        dem = read_text_csv(args.demand)
        if args.costs == "euclidean":
            dem_id_col = pick_demand_id_col_plain(dem, args.demand_id_col)
            demand_ids = unique_ids(dem[dem_id_col], "demand")
            euclid = lonlat(dem, args, "demand") + lonlat(cand, args, "candidates")
            out["costs"] = "euclidean (haversine, metres)"
        elif args.costs_format == "long":
            costs = read_text_csv(args.costs)
            dcol, scol, ccol = detect_long_cols(costs, site_ids, dem, args.long_cols)
            dem_id_col = pick_demand_id_col(dem, args.demand_id_col, set(costs[dcol]))
            demand_ids = unique_ids(dem[dem_id_col], "demand")
            cost = build_matrix_long(costs, dcol, scol, ccol, demand_ids, site_ids)
            out["long_cols"] = [dcol, scol, ccol]
        else:
            costs = read_text_csv(args.costs)
            dem_id_col = pick_demand_id_col(dem, args.demand_id_col, set(costs[costs.columns[0]]))
            demand_ids = unique_ids(dem[dem_id_col], "demand")
            cost = build_matrix_dense(costs, demand_ids, site_ids)
        weight_col, weights = pick_weight(dem, args.weight_col)
        out["demand_id_col"] = dem_id_col
        out["weight_col"] = weight_col
    if cost is not None and not np.all(np.isfinite(cost)):
        raise InputError("cost matrix has non-finite values")
    seconds_read = time.perf_counter() - t_read
    out["site_id_col"] = site_col

    import pulp
    import spopt
    opts = {"msg": False}
    if args.time_limit:
        opts["timeLimit"] = args.time_limit
    solver = pulp.PULP_CBC_CMD(**opts)

    t_build = time.perf_counter()
    if euclid is not None:
        cost = haversine_matrix(*euclid)
        out["seconds_costs"] = time.perf_counter() - t_build
    m = args.model
    try:
        model = build_model(m, args, cost, weights, capacities, predefined, solver)
    except (RuntimeError, ValueError, pulp.PulpError) as exc:
        # spopt rejects some models while building (SpecificationError: capacities below demand;
        # ValueError: CLSCP-SO demand > capacity), and LSCPB solves an LSCP inside
        # from_cost_matrix (RuntimeError when that one is not optimal).
        out.update({"spopt_version": spopt.__version__, "pulp_version": pulp.__version__,
                    "status": "Infeasible" if "infeasible" in str(exc).lower() else "NotSolved",
                    "error": f"during build: {exc}", "selected": [], "objective": None,
                    "seconds_read": seconds_read,
                    "seconds_build": time.perf_counter() - t_build,
                    "seconds_solve": 0.0, "seconds_total": elapsed_total()})
        write_json(args.out, out)
        return 1
    seconds_build = time.perf_counter() - t_build

    t_solve = time.perf_counter()
    status_ok = True
    try:
        model = model.solve() if m == "lscp-b" else model.solve(solver)
    except RuntimeError as exc:  # spopt's check_status: status != Optimal
        status_ok = False
        out["error"] = str(exc)
    seconds_solve = time.perf_counter() - t_solve

    prob = model.problem
    out["spopt_version"] = spopt.__version__
    out["pulp_version"] = pulp.__version__
    out["status"] = pulp.LpStatus.get(prob.status, str(prob.status))
    out["n_demand"] = None if demand_ids is None else len(demand_ids)
    out["n_sites"] = len(site_ids)
    out["p"] = args.p
    out["service"] = args.service
    if status_ok:
        sel = [j for j, y in enumerate(model.fac_vars) if y.value() is not None and y.value() > 0.5]
        out["selected"] = [site_ids[j] for j in sel]
        obj = prob.objective.value()
        out["objective"] = float(obj) if obj is not None else None
        model_facts(out, m, model, cost, weights, sel, args, capacities)
    else:
        out["selected"] = []
        out["objective"] = None
    out["seconds_read"] = seconds_read
    out["seconds_build"] = seconds_build
    out["seconds_solve"] = seconds_solve
    out["seconds_total"] = elapsed_total()
    write_json(args.out, out)
    return 0 if status_ok else 1


def build_model(m, args, cost, weights, capacities, predefined, solver):
    """Call the spopt constructor for model m (all from_cost_matrix)."""
    from spopt.locate import LSCP, LSCPB, MCLP, PCenter, PDispersion, PMedian

    if m == "lscp":
        if capacities is not None:
            model = LSCP.from_cost_matrix(cost, args.service, predefined_facilities_arr=predefined,
                                          demand_quantity_arr=weights,
                                          facility_capacity_arr=capacities)
        else:
            model = LSCP.from_cost_matrix(cost, args.service, predefined_facilities_arr=predefined)
    elif m == "lscp-b":
        model = LSCPB.from_cost_matrix(cost, args.service, solver, predefined_facilities_arr=predefined)
    elif m == "mclp":
        model = MCLP.from_cost_matrix(cost, weights, args.service, args.p,
                                      predefined_facilities_arr=predefined)
    elif m in ("p-median", "cp-median"):
        model = PMedian.from_cost_matrix(cost, weights, args.p, predefined_facilities_arr=predefined,
                                         facility_capacities=capacities,
                                         fulfill_predefined_fac=args.fulfill_predefined)
    elif m == "p-center":
        model = PCenter.from_cost_matrix(cost, args.p, predefined_facilities_arr=predefined)
    elif m == "p-dispersion":
        model = PDispersion.from_cost_matrix(cost, args.p, predefined_facilities_arr=predefined)
    return model


def model_facts(out, m, model, cost, weights, sel, args, capacities):
    if m == "p-dispersion":
        sub = cost[np.ix_(sel, sel)]
        off = sub[~np.eye(len(sel), dtype=bool)]
        out["min_pairwise_cost"] = float(off.min()) if off.size else None
        return
    total_w = float(weights.sum())
    nearest = cost[:, sel].min(axis=1) if sel else np.full(cost.shape[0], np.inf)
    if m in ("p-median", "cp-median"):
        out["total_weight"] = total_w
        out["weighted_mean_cost"] = out["objective"] / total_w
        out["spopt_mean_dist"] = float(model.mean_dist)
        z = np.array([[v.value() or 0.0 for v in row] for row in model.cli_assgn_vars])
        load = weights @ z
        out["assigned_load"] = {site: float(load[j]) for site, j in
                                zip(out["selected"], sel)}
        out["nearest_assignment_objective"] = float(weights @ nearest)
        out["demand_not_at_nearest"] = int(np.sum(np.abs(cost[np.arange(len(z)), z.argmax(axis=1)]
                                                         - nearest) > 1e-9))
        if capacities is not None:
            out["capacities"] = {site: float(capacities[j]) for site, j in zip(out["selected"], sel)}
    elif m == "p-center":
        out["max_cost"] = float(nearest.max())
    else:
        s = args.service
        within = cost[:, sel] <= s
        n_cov = within.sum(axis=1)
        covered = n_cov >= 1
        out["covered_demand_share"] = float(weights[covered].sum() / total_w) if total_w > 0 else None
        out["uncovered"] = int((~covered).sum())
        if m == "mclp":
            out["spopt_n_cli_uncov"] = int(model.n_cli_uncov)
            out["spopt_perc_cov"] = float(model.perc_cov)
        if m == "lscp-b":
            out["covered_twice"] = int((n_cov >= 2).sum())
            out["lscp_min_facilities"] = float(model.lscp_obj_value)
            out["spopt_backup_perc"] = float(model.backup_perc)
            coverable = (cost <= s).sum(axis=1)
            out["demand_with_lt2_candidates"] = int((coverable < 2).sum())


if __name__ == "__main__":
    sys.exit(main())
