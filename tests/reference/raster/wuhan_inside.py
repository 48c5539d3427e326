# Independent check: WorldPop cells whose centre lies inside the Wuhan boundary (shapely/GEOS).
import json, math, numpy as np, tifffile, shapely
from shapely.geometry import shape
a = tifffile.imread('cn/wuhan/wuhan_pop_age20plus_sum.tif')
with tifffile.TiffFile('cn/wuhan/wuhan_pop_age20plus_sum.tif') as t:
    tags = t.pages[0].tags
    sx, sy, _ = tags[33550].value
    _, _, _, X, Y, _ = tags[33922].value
geom = shape(json.load(open('cn/wuhan/wuhan-boundary.geojson'))['features'][0]['geometry'])
rows, cols = np.nonzero((a != -9999) & ~np.isnan(a))
xc = X + (cols + 0.5) * sx
yc = Y - (rows + 0.5) * sy
inside = shapely.contains_xy(geom, xc, yc)
vals = a[rows, cols].astype(np.float64)
print('cells inside', int(inside.sum()), 'sum inside', repr(math.fsum(vals[inside])),
      'cells outside', int((~inside).sum()), 'sum outside', repr(math.fsum(vals[~inside])))
# all cells (incl nodata) inside
R, C = np.mgrid[0:a.shape[0], 0:a.shape[1]]
allin = shapely.contains_xy(geom, X + (C + 0.5) * sx, Y - (R + 0.5) * sy)
print('all grid cells with centre inside', int(allin.sum()))
