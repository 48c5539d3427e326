# Independent reference for facilities()/buildings(): pyosmium parse + libosmium multipolygon
# assembly (osmium area handler) + pyproj geodesic areas (WGS84 ellipsoid).
import osmium, sys, collections
from pyproj import Geod
G=Geod(ellps='WGS84')
def kind(t):
    g=t.get
    if g('emergency')=='assembly_point': return 'assembly_point'
    if g('emergency')=='shelter': return 'emergency_shelter'
    if g('amenity')=='shelter' and g('shelter_type')=='emergency': return 'emergency_shelter'
    am={'school','university','kindergarten','hospital','clinic','parking','community_centre','exhibition_centre'}
    if g('amenity') is not None:
        if g('amenity') in am: return g('amenity')
    elif g('healthcare') in ('hospital','clinic'): return g('healthcare')
    if g('leisure') in ('park','garden','stadium','sports_centre','pitch'): return g('leisure')
    if g('tourism')=='hotel': return 'hotel'
    if g('place')=='square' or (g('highway')=='pedestrian' and g('area')=='yes'): return 'square'
    if 'warehouse' in (g('building'),g('landuse'),g('industrial')): return 'warehouse'
    n=g('name') or ''
    if '避难场所' in n or '避难所' in n: return 'emergency_shelter'
    return None
class H(osmium.SimpleHandler):
    def __init__(s):
        super().__init__(); s.areas={}
    def area(s,a):
        t=dict(a.tags); typ='way' if a.from_way() else 'relation'
        area=0.0
        for outer in a.outer_rings():
            lon=[n.lon for n in outer]; lat=[n.lat for n in outer]
            area+=abs(G.polygon_area_perimeter(lon,lat)[0])
            for inner in a.inner_rings(outer):
                area-=abs(G.polygon_area_perimeter([n.lon for n in inner],[n.lat for n in inner])[0])
        s.areas[(typ,a.orig_id())]=(t,area)
h=H(); h.apply_file(sys.argv[1], locations=True)
fac=collections.Counter(); facpoly=collections.Counter(); facarea=collections.defaultdict(float)
# nodes
for o in osmium.FileProcessor(sys.argv[1], osmium.osm.NODE):
    k=kind(dict(o.tags))
    if k: fac[k]+=1
ways={}; rels={}
for o in osmium.FileProcessor(sys.argv[1], osmium.osm.WAY|osmium.osm.RELATION):
    t=dict(o.tags)
    if o.is_way(): ways[o.id]=t
    elif t.get('type')=='multipolygon': rels[o.id]=t
bld=0; bldarea=0.0; bldlev=0
for typ,coll in (('way',ways),('relation',rels)):
    for i,t in coll.items():
        k=kind(t)
        got=h.areas.get((typ,i))
        if k:
            fac[k]+=1  # kept as point even without polygon (if any located node) - approx
            if got: facpoly[k]+=1; facarea[k]+=got[1]
        if t.get('building') not in (None,'no') and got:
            bld+=1; bldarea+=got[1]
            if 'building:levels' in t: bldlev+=1
print('facilities', sorted(fac.items()))
print('with polygon', sorted(facpoly.items()))
print('area', sorted((k,round(v)) for k,v in facarea.items()))
print('buildings', bld, round(bldarea), 'with levels', bldlev)
