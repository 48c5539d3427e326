# Independent reference numbers for the renxing-io raster tests (stdlib + numpy).
import gzip, struct, math, numpy as np
# ESRI ASCII DEM
lines = open('cn/wuhan/dem_hanriver_srtm.asc').read().split('\n')
hdr = {}
i = 0
while lines[i].split()[0].lower() in ('ncols','nrows','xllcorner','yllcorner','cellsize','nodata_value'):
    k, v = lines[i].split(); hdr[k.lower()] = v; i += 1
rows = [l.split() for l in lines[i:] if l.strip()]
print(hdr, 'data lines', len(rows), set(len(r) for r in rows))
v = np.array([[float(x) for x in r] for r in rows], dtype=np.float32)
nd = np.float32(float(hdr['nodata_value']))
d = v[v != nd]
print('dem cells', v.size, 'data', d.size, 'min', d.min(), 'max', d.max(), 'sum', math.fsum(d.astype(np.float64)), 'first', v[0,0], 'last', v[-1,-1])
# Surfer 6 binary
b = gzip.open('hazard/SC22000_VE__M1.grd.gz').read()
nx, ny, xlo, xhi, ylo, yhi, zlo, zhi = struct.unpack('<hh6d', b[4:56])
z = np.frombuffer(b[56:], dtype='<f4').reshape(ny, nx)
data = z[(z != -9999) & (z < 1.7e38)]
print('surfer', nx, ny, 'dx', (xhi-xlo)/(nx-1), 'dy', (yhi-ylo)/(ny-1), 'data', data.size, 'wet', int((data>0).sum()), 'sum', math.fsum(data.astype(np.float64)), 'max', data.max())
print('south-west node value', z[0,0], 'north-west node', z[-1,0], 'argmax (row from south, col)', np.unravel_index(np.argmax(np.where(z<1e38, z, -1)), z.shape))
