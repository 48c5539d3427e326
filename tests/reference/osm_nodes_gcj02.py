"""Reference file for the GCJ-02 import test: real OpenStreetMap node positions (WGS84) and the
same points shifted to GCJ-02 by the public forward formula (implemented independently of
Renxing in wuhan_district_population.py).

Renxing's test reads the GCJ-02 columns declared `gcj02` and must land within 5 m of the OSM
positions (the issue's criterion); in practice the inverse is exact to millimetres.

Input: data/beijing/osm2015_region5.osm (ODbL, in the repository). Every 40th node in file order.
Output: tests/reference/osm_nodes_gcj02.csv (id, osm_lon, osm_lat, gcj_lon, gcj_lat).
Rerun: python3 tests/reference/osm_nodes_gcj02.py
"""
import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from wuhan_district_population import wgs84_to_gcj02  # noqa: E402

NODE = re.compile(r'<node id="(-?\d+)"[^>]*?lat="([-0-9.]+)" lon="([-0-9.]+)"')


def main() -> int:
    src = os.path.join(HERE, "..", "..", "data", "beijing", "osm2015_region5.osm")
    out = os.path.join(HERE, "osm_nodes_gcj02.csv")
    rows = []
    with open(src, encoding="utf-8") as f:
        for i, m in enumerate(NODE.finditer(f.read())):
            if i % 40 == 0:
                nid, lat, lon = m.group(1), float(m.group(2)), float(m.group(3))
                glon, glat = wgs84_to_gcj02(lon, lat)
                rows.append((nid, repr(lon), repr(lat), repr(float(glon)), repr(float(glat))))
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "osm_lon", "osm_lat", "gcj_lon", "gcj_lat"])
        w.writerows(rows)
    print(f"{len(rows)} nodes written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
