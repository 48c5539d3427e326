# Independent reference for renxing_io::osm::roads_with_report (pyosmium parse, python logic).
import osmium, sys, math, collections
R=6371008.8
def hav(a,b):
    (lo1,la1),(lo2,la2)=a,b
    p1,p2=math.radians(la1),math.radians(la2); dp=p2-p1; dl=math.radians(lo2-lo1)
    h=math.sin(dp/2)**2+math.cos(p1)*math.cos(p2)*math.sin(dl/2)**2
    return 2*R*math.asin(min(1,math.sqrt(h)))
NOT={"proposed","planned","construction","abandoned","disused","razed","demolished","removed","no","platform","bus_stop","rest_area","services","emergency_bay","elevator","crossing","traffic_signals","street_lamp","turning_circle","stop","give_way","bus_guideway","raceway","escape"}
PATH={"footway","pedestrian","steps","path","cycleway","bridleway","corridor","trail"}
nodes={}; ways=[]
for o in osmium.FileProcessor(sys.argv[1]):
    if o.is_node(): nodes[o.id]=(o.location.lon,o.location.lat)
    elif o.is_way(): ways.append((o.id,[n.ref for n in o.nodes],dict(o.tags)))
ways.sort()
hw_ways=0; skipped=collections.Counter(); missing=0; wmiss=0; noseg=0; sel=[]
for wid,refs,t in ways:
    if 'highway' not in t: continue
    hw_ways+=1; hw=t['highway']
    if hw in NOT: skipped['highway='+hw]+=1; continue
    if t.get('area')=='yes': skipped['area=yes']+=1; continue
    runs=[]; run=[]; m=0
    for r in refs:
        if r in nodes:
            if not run or run[-1]!=r: run.append(r)
        else:
            m+=1
            if len(run)>=2: runs.append(run)
            run=[]
    if len(run)>=2: runs.append(run)
    if m: missing+=m; wmiss+=1
    if not runs: noseg+=1; continue
    sel.append((wid,t,runs))
uses=collections.Counter(); J=set()
for _,_,runs in sel:
    for run in runs:
        for n in run: uses[n]+=1
        J.add(run[0]); J.add(run[-1])
J|={n for n,c in uses.items() if c>=2}
def oneway(t):
    o=t.get('oneway','').strip()
    if o in ('yes','1','true'): return 'F'
    if o in ('-1','reverse'): return 'B'
    if o in ('no','0','false','reversible','alternating'): return 'N'
    if t.get('junction') in ('roundabout','circular') or t.get('highway') in ('motorway','motorway_link'): return 'F'
    return 'N'
def access(t):
    no=lambda k: t.get(k) in ('no','private'); yes=lambda k: t.get(k) in ('yes','designated','permissive')
    closed=no('access')
    walk=(not closed or yes('foot')) and not no('foot')
    drive=(t.get('highway') not in PATH) and (not closed or yes('motor_vehicle') or yes('motorcar')) and not no('motor_vehicle') and not no('motorcar') and not no('vehicle')
    return walk,drive
edges=0; total=0.0; used=set(); ow=collections.Counter(); nw=0; nd=0; untag=0
for wid,t,runs in sel:
    for run in runs:
        start=run[0]; L=0.0; prev=nodes[start]
        for n in run[1:]:
            p=nodes[n]; L+=hav(prev,p); prev=p
            if n in J:
                edges+=1; total+=L; used.add(start); used.add(n); L=0.0; start=n
                ow[oneway(t)]+=1; w,d=access(t); nw+=not w; nd+=not d
print(dict(highway_ways=hw_ways, ways_used=len(sel), skipped=sorted(skipped.items()), missing=missing, ways_with_missing=wmiss, noseg=noseg, edges=edges, total_m=round(total,1), junction_nodes=len(used), oneway=dict(ow), walk_false=nd and nw, drive_false=nd))
