import networkx as nx, collections, math
G=nx.read_graphml('/work/shared/data/cn/shenzhen/transbigdata_test_G_futian.graphml')
print(type(G), G.number_of_nodes(), G.number_of_edges(), G.graph)
E=list(G.edges(keys=True,data=True))
tot=sum(float(d['length']) for u,v,k,d in E); print('total length', round(tot,3))
hw=collections.Counter(d.get('highway','') for u,v,k,d in E)
print('list highways', sum(1 for h in hw if h.startswith('[')), sum(c for h,c in hw.items() if h.startswith('[')))
first=collections.Counter((d.get('highway','')[2:].split("'")[0] if d.get('highway','').startswith('[') else d.get('highway','')) for u,v,k,d in E)
print(sorted(first.items(), key=lambda x:-x[1]))
print('oneway', collections.Counter(d.get('oneway') for u,v,k,d in E))
print('with geometry', sum(1 for u,v,k,d in E if 'geometry' in d))
print('access', collections.Counter(d.get('access') for u,v,k,d in E))
print('named', sum(1 for u,v,k,d in E if d.get('name')))
print('list names', sum(1 for u,v,k,d in E if d.get('name','').startswith('[')))
print('parallel', sum(1 for u,v,k,d in E if k>0))
print('selfloop', sum(1 for u,v,k,d in E if u==v))
# shape points
R=6371008.8
def hav(a,b):
    (lo1,la1),(lo2,la2)=a,b
    p1,p2=math.radians(la1),math.radians(la2); dp=p2-p1; dl=math.radians(lo2-lo1)
    h=math.sin(dp/2)**2+math.cos(p1)*math.cos(p2)*math.sin(dl/2)**2
    return 2*R*math.asin(min(1,math.sqrt(h)))
shp=0; hl=0
for u,v,k,d in E:
    if 'geometry' in d:
        pts=[tuple(map(float,p.split())) for p in d['geometry'][d['geometry'].index('(')+1:-1].split(',')]
        shp+=len(pts)-2; hl+=sum(hav(pts[i],pts[i+1]) for i in range(len(pts)-1))
    else:
        a=(float(G.nodes[u]['x']),float(G.nodes[u]['y'])); b=(float(G.nodes[v]['x']),float(G.nodes[v]['y'])); hl+=hav(a,b)
print('shape points', shp, 'haversine total', round(hl,3))
import ast
def first(s):
    if s is None: return None
    return ast.literal_eval(s)[0] if s.startswith('[') else s
PATH={"footway","pedestrian","steps","path","cycleway","bridleway","corridor","trail"}
nw=nd=0
for u,v,k,d in E:
    h=first(d.get('highway')) or ''; a=first(d.get('access'))
    closed=a in ('no','private')
    nw+=closed; nd+= closed or h in PATH
print('walk false', nw, 'drive false', nd)
print('untagged', sum(1 for u,v,k,d in E if not d.get('highway')))
