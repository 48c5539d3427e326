#!/usr/bin/env python3
"""Build a city-scale facility-siting instance for Wuhan from WorldPop (population aged 20+).

usage: make_wuhan_siting.py OUT_DIR [--tif PATH] [--block 5] [--n-candidates 1000]

Input: /work/shared/data/cn/wuhan/wuhan_pop_age20plus_sum.tif (WorldPop, float32, nodata -9999).
The grid is read with tifffile and its GeoTIFF tags (ModelTiepoint, ModelPixelScale,
GeoKeyDirectory). The CRS is GEOGRAPHIC: EPSG:4326 (WGS 84), angular unit degree, raster type
PixelIsArea, pixel size 3 arc-seconds (0.000833333 deg). The "100 m" pixels are therefore only
nominal: at Wuhan's latitude (~30.67 N) one pixel is ~92.7 m north-south by ~79.7 m east-west,
so a 5x5 block ("~500 m cell") is ~463 m x ~399 m (~0.185 km2). The script refuses any other CRS
(projected grids, non-degree units) rather than guess.

Aggregation: pixels are summed in float64 over 5x5 blocks (block row r = pixel rows 5r..5r+4,
block col c = pixel cols 5c..5c+4; the last block row/column is partial where the raster size is
not a multiple of 5). Nodata (-9999), NaN and negative pixels count as 0. Cells with summed
population > 0 are kept.

Outputs (deterministic):
  OUT_DIR/demand.csv      id,lon,lat,weight - one row per kept cell, row-major (r, then c).
                          id = "r{r}c{c}"; lon/lat = centre of the block's footprint clipped to
                          the raster (the plain 5x5 block centre for all but the last partial
                          row/column), NOT the population-weighted centroid; weight = summed
                          population written with repr() (full float64 precision).
  OUT_DIR/candidates.csv  id,lon,lat - the N (default 1000) most populous cells, ties broken by
                          cell id (string order), written in that rank order (most populous
                          first); id = "s" + cell id, lon/lat identical to the demand cell's.
lon/lat are written with repr() as well. Counts and total population are printed to stdout.
"""
import argparse
import os
import sys
import time

import numpy as np
import tifffile

DEFAULT_TIF = "/work/shared/data/cn/wuhan/wuhan_pop_age20plus_sum.tif"


def read_grid(path):
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        geo = tif.geotiff_metadata
        if not geo:
            raise SystemExit(f"{path}: no GeoTIFF tags")
        data = page.asarray()
        nodata = page.tags["GDAL_NODATA"].value if "GDAL_NODATA" in page.tags else None
    model = int(geo.get("GTModelTypeGeoKey", 0))
    gcs = int(geo.get("GeographicTypeGeoKey", 0))
    unit = int(geo.get("GeogAngularUnitsGeoKey", 9102))
    if model != 2 or unit != 9102:
        raise SystemExit(f"{path}: expected a geographic grid in degrees, got model type {model}, "
                         f"angular unit {unit}")
    if int(geo.get("GTRasterTypeGeoKey", 1)) != 1:
        raise SystemExit(f"{path}: expected PixelIsArea")
    tp = geo["ModelTiepoint"]
    sx, sy = geo["ModelPixelScale"][:2]
    # Tiepoint raster (i, j) maps to model (x, y); PixelIsArea: (0, 0) is the top-left corner.
    x0 = tp[3] - tp[0] * sx
    y0 = tp[4] + tp[1] * sy
    nod = float(nodata) if nodata is not None else None
    return data, nod, x0, y0, sx, sy, gcs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--tif", default=DEFAULT_TIF)
    ap.add_argument("--block", type=int, default=5)
    ap.add_argument("--n-candidates", type=int, default=1000)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    data, nodata, x0, y0, sx, sy, gcs = read_grid(args.tif)
    h, w = data.shape
    pix = data.astype(np.float64)
    bad = ~np.isfinite(pix) | (pix < 0)
    if nodata is not None:
        bad |= pix == nodata
    n_nodata = int(bad.sum())
    pix[bad] = 0.0

    b = args.block
    nbr, nbc = -(-h // b), -(-w // b)
    padded = np.zeros((nbr * b, nbc * b))
    padded[:h, :w] = pix
    # Sum within each block in a fixed order (rows, then columns) for reproducibility.
    sums = padded.reshape(nbr, b, nbc, b).sum(axis=3).sum(axis=1)

    # Centre of each block's footprint, clipped to the raster extent (PixelIsArea edges).
    r_lo = np.arange(nbr) * b
    r_hi = np.minimum(r_lo + b, h)
    c_lo = np.arange(nbc) * b
    c_hi = np.minimum(c_lo + b, w)
    lat_c = y0 - (r_lo + r_hi) / 2.0 * sy
    lon_c = x0 + (c_lo + c_hi) / 2.0 * sx

    rr, cc = np.nonzero(sums > 0)  # row-major order
    weights = sums[rr, cc]
    ids = [f"r{r}c{c}" for r, c in zip(rr.tolist(), cc.tolist())]
    lons = lon_c[cc].tolist()  # Python floats: repr() gives the shortest round-trip text
    lats = lat_c[rr].tolist()
    wts = weights.tolist()

    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "demand.csv"), "w") as fh:
        fh.write("id,lon,lat,weight\n")
        fh.writelines(f"{i},{lo!r},{la!r},{wt!r}\n"
                      for i, lo, la, wt in zip(ids, lons, lats, wts))

    n_cand = min(args.n_candidates, len(ids))
    order = sorted(range(len(ids)), key=lambda k: (-wts[k], ids[k]))[:n_cand]
    with open(os.path.join(args.out_dir, "candidates.csv"), "w") as fh:
        fh.write("id,lon,lat\n")
        fh.writelines(f"s{ids[k]},{lons[k]!r},{lats[k]!r}\n" for k in order)

    lat_mid = y0 - h / 2.0 * sy
    m_per_deg = 111_194.93  # 2*pi*6371008.8/360
    print(f"grid: {h} x {w} pixels, EPSG:{gcs} geographic degrees, pixel {sx:.10g} x {sy:.10g} deg "
          f"(~{sx * m_per_deg * np.cos(np.radians(lat_mid)):.1f} m E-W x {sy * m_per_deg:.1f} m N-S "
          f"at lat {lat_mid:.3f})")
    print(f"blocks: {b}x{b} pixels -> {nbr} x {nbc} = {nbr * nbc} cells; "
          f"nodata/invalid pixels: {n_nodata}")
    print(f"demand cells (population > 0): {len(ids)}")
    print(f"total population: {float(weights.sum())!r}")
    print(f"candidates: {n_cand} (cell population {wts[order[-1]]!r} .. {wts[order[0]]!r}; "
          f"sum {float(weights[order].sum())!r})")
    print(f"written to {args.out_dir} in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
