#!/usr/bin/env python3
"""Write the OpenQuake reference values that tests/gmpe.rs compares Renxing's GMPEs against.

Run with the OpenQuake virtual environment (openquake.engine 3.26):

    $HOME/.cache/peers/venv-oq/bin/python scripts/compare_oq_gmpe.py [SHARED_DATA_DIR]

SHARED_DATA_DIR defaults to ../shared/data beside the checkout. The script reads the Nepal demo
rupture (exposure/nepal/fault_rupture.xml, M7.0, rake 90, dip 30) and a deterministic subset of
the distinct asset locations of exposure/nepal/exposure_model.csv, lets openquake.hazardlib build
the rupture surfaces and measure the distances, and evaluates BooreAtkinson2008 and
ChiouYoungs2014 for PGA, PGV, SA(0.2) and SA(1.0). Everything is computed by OpenQuake itself;
this script only sets up the cases and writes CSV files to tests/reference/gmpe/:

  <case>_rupture.csv   rupture context OpenQuake derived (mag, rake, dip, ztor, width, hypo depth)
  <case>_sites.csv     site index, lon, lat and OpenQuake's rrup, rjb, rx, ry0, rhypo
  <case>_<gsim>.csv    per site, site-condition variant and IMT: ln mean, sigma, tau, phi

Cases:
  nepal_fault15  the simple-fault rupture meshed at 15 km, as the demo's job.ini
                 (rupture_mesh_spacing = 15); medians for both GMPEs
  nepal_fault1   the same fault meshed at 1 km (distances only: the fine mesh approaches the
                 exact plane that Renxing measures)
  nepal_plane    the same fault written as a singlePlaneRupture (corners from OpenQuake's own
                 simple-fault construction), whose distances OpenQuake computes analytically;
                 medians for rakes 0 and -90 (strike-slip and normal terms; 90 is above)

Sites: every 15th distinct asset location (every 45th for nepal_plane).
Site-condition variants (the job.ini's reference site plus two that exercise other terms;
nepal_fault15 uses job+soft for BA08, which ignores z1pt0, and all three for CY14;
nepal_plane uses job for BA08 and job+soft for CY14):
  job      vs30 760 measured, z1pt0 100 m (reference_depth_to_1pt0km_per_sec)
  z1def    vs30 760 measured, z1pt0 unknown (-999: the GMPE's own Vs30-based mean)
  soft     vs30 250 inferred, z1pt0 unknown (non-linear site terms, inferred-Vs30 sigma)
"""
import csv
import math
import os
import sys

import numpy as np

from openquake.hazardlib import nrml, sourceconverter
from openquake.hazardlib.contexts import simple_cmaker
from openquake.hazardlib.geo import Point, geodetic
from openquake.hazardlib.geo.mesh import Mesh
from openquake.hazardlib.gsim.boore_atkinson_2008 import BooreAtkinson2008
from openquake.hazardlib.gsim.chiou_youngs_2014 import ChiouYoungs2014
from openquake.hazardlib.imt import from_string

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, 'tests', 'reference', 'gmpe')
IMTS = ['PGA', 'PGV', 'SA(0.2)', 'SA(1.0)']
VARIANTS = {'job': (760.0, True, 100.0), 'z1def': (760.0, True, -999.0), 'soft': (250.0, False, -999.0)}
FMT = '%.10g'


def distinct_locations(path, every):
    seen, out = set(), []
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            key = (row['lon'], row['lat'])
            if key not in seen:
                seen.add(key)
                out.append((float(row['lon']), float(row['lat'])))
    return out[::every]


def read_rupture(path, mesh_spacing):
    conv = sourceconverter.RuptureConverter(rupture_mesh_spacing=mesh_spacing)
    [node] = nrml.read(path)
    return conv.convert_node(node)


def distances(rup, sites):
    lons = np.array([s[0] for s in sites])
    lats = np.array([s[1] for s in sites])
    mesh = Mesh(lons, lats, np.zeros_like(lons))
    surf = rup.surface
    return {
        'rrup': surf.get_min_distance(mesh),
        'rjb': surf.get_joyner_boore_distance(mesh),
        'rx': surf.get_rx_distance(mesh),
        'ry0': surf.get_ry0_distance(mesh),
        'rhypo': rup.hypocenter.distance_to_mesh(mesh),
    }


def rupture_params(rup):
    return {'mag': rup.mag, 'rake': rup.rake, 'dip': rup.surface.get_dip(),
            'ztor': rup.surface.get_top_edge_depth(), 'width': rup.surface.get_width(),
            'hypo_depth': rup.hypocenter.depth}


def write_rows(name, header, rows):
    path = os.path.join(OUT, name)
    with open(path, 'w', newline='') as f:
        f.write(','.join(header) + '\n')
        for r in rows:
            f.write(','.join(v if isinstance(v, str) else FMT % v for v in r) + '\n')
    print('wrote', os.path.relpath(path, ROOT), len(rows), 'rows')


def evaluate(gsim, params, dist, variants, rakes):
    """Rows (site, rake, vs30, measured, z1pt0, imt, ln_mean, sigma, tau, phi) from OpenQuake."""
    imts = [from_string(i) for i in IMTS]
    cmaker = simple_cmaker([gsim], IMTS)
    n = len(dist['rrup'])
    rows = []
    for rake in rakes:
        for vname in variants:
            vs30, measured, z1 = VARIANTS[vname]
            ctx = cmaker.new_ctx(n)
            ctx.mag = params['mag']
            ctx.rake = rake
            ctx.dip = params['dip']
            ctx.ztor = params['ztor']
            ctx.width = params['width']
            ctx.hypo_depth = params['hypo_depth']
            for k in ('rrup', 'rjb', 'rx', 'ry0', 'rhypo'):
                if k in ctx.dtype.names:
                    ctx[k] = dist[k]
            ctx.vs30 = vs30
            if 'vs30measured' in ctx.dtype.names:
                ctx.vs30measured = measured
            if 'z1pt0' in ctx.dtype.names:
                ctx.z1pt0 = z1
            ctx.sids = np.arange(n)
            out = cmaker.get_mean_stds([ctx], split_by_mag=False)[:, 0]  # (4, M, N)
            for s in range(n):
                for m, imt in enumerate(imts):
                    rows.append((str(s), FMT % rake, FMT % vs30, '1' if measured else '0', FMT % z1,
                                 imt.string, out[0, m, s], out[1, m, s], out[2, m, s], out[3, m, s]))
    return rows


def plane_xml(rup_nrml_path, out_path):
    """The simple fault as one plane, corners built the way OpenQuake builds simple faults."""
    [node] = nrml.read(rup_nrml_path)
    geom = node.simpleFaultGeometry
    coords = [float(x) for x in (~geom.LineString.posList)]
    trace = [Point(coords[i], coords[i + 1]) for i in range(0, len(coords), 2)]
    dip, usd, lsd = ~geom.dip, ~geom.upperSeismoDepth, ~geom.lowerSeismoDepth
    az = (trace[0].azimuth(trace[-1]) + 90.0) % 360
    ht, hb = usd / math.tan(math.radians(dip)), lsd / math.tan(math.radians(dip))
    top = [geodetic.point_at(p.longitude, p.latitude, az, ht) for p in trace]
    bot = [geodetic.point_at(p.longitude, p.latitude, az, hb) for p in trace]
    hypo = node.hypocenter
    # 5 decimals: OpenQuake's NRML reader rounds longitudes and latitudes to 5 decimals anyway, so
    # writing them rounded makes both readers see the same corners.
    corner = '        <{0} lon="{1:.5f}" lat="{2:.5f}" depth="{3!r}"/>\n'
    text = ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<nrml xmlns:gml="http://www.opengis.net/gml" xmlns="http://openquake.org/xmlns/nrml/0.4">\n'
            '  <singlePlaneRupture>\n'
            f'    <magnitude>{~node.magnitude}</magnitude>\n'
            f'    <rake>{~node.rake}</rake>\n'
            f'    <hypocenter lat="{hypo["lat"]}" lon="{hypo["lon"]}" depth="{hypo["depth"]}"/>\n'
            '    <planarSurface>\n'
            + corner.format('topLeft', float(top[0][0]), float(top[0][1]), float(usd))
            + corner.format('topRight', float(top[1][0]), float(top[1][1]), float(usd))
            + corner.format('bottomLeft', float(bot[0][0]), float(bot[0][1]), float(lsd))
            + corner.format('bottomRight', float(bot[1][0]), float(bot[1][1]), float(lsd))
            + '    </planarSurface>\n  </singlePlaneRupture>\n</nrml>\n')
    with open(out_path, 'w') as f:
        f.write(text)
    print('wrote', os.path.relpath(out_path, ROOT))


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, '..', 'shared', 'data')
    nepal = os.path.join(shared, 'exposure', 'nepal')
    rup_path = os.path.join(nepal, 'fault_rupture.xml')
    os.makedirs(OUT, exist_ok=True)
    sites = distinct_locations(os.path.join(nepal, 'exposure_model.csv'), 15)
    plane_path = os.path.join(OUT, 'nepal_plane_rupture.xml')
    plane_xml(rup_path, plane_path)
    cases = [
        ('nepal_fault15', read_rupture(rup_path, 15.0), sites, [90.0], True),
        ('nepal_fault1', read_rupture(rup_path, 1.0), sites, None, False),
        ('nepal_plane', read_rupture(plane_path, 15.0), sites[::3], [0.0, -90.0], True),
    ]
    variants = {'nepal_fault15': (['job', 'soft'], ['job', 'z1def', 'soft']),
                'nepal_plane': (['job'], ['job', 'soft'])}
    for name, rup, sts, rakes, with_gmpe in cases:
        params = rupture_params(rup)
        write_rows(f'{name}_rupture.csv', list(params), [tuple(params.values())])
        dist = distances(rup, sts)
        write_rows(f'{name}_sites.csv', ['site', 'lon', 'lat', 'rrup', 'rjb', 'rx', 'ry0', 'rhypo'],
                   [(str(i), s[0], s[1]) + tuple(dist[k][i] for k in ('rrup', 'rjb', 'rx', 'ry0', 'rhypo'))
                    for i, s in enumerate(sts)])
        if not with_gmpe:
            continue
        header = ['site', 'rake', 'vs30', 'vs30measured', 'z1pt0', 'imt', 'ln_mean', 'sigma', 'tau', 'phi']
        write_rows(f'{name}_BooreAtkinson2008.csv', header,
                   evaluate(BooreAtkinson2008(), params, dist, variants[name][0], rakes))
        write_rows(f'{name}_ChiouYoungs2014.csv', header,
                   evaluate(ChiouYoungs2014(), params, dist, variants[name][1], rakes))


if __name__ == '__main__':
    main()
