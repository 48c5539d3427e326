import osmium, sys, math
R=6371008.8
def hav(a,b):
    (lo1,la1),(lo2,la2)=a,b
    p1,p2=math.radians(la1),math.radians(la2); dp=p2-p1; dl=math.radians(lo2-lo1)
    h=math.sin(dp/2)**2+math.cos(p1)*math.cos(p2)*math.sin(dl/2)**2
    return 2*R*math.asin(min(1,math.sqrt(h)))
nodes={}; tot=0; bycls={}
for o in osmium.FileProcessor(sys.argv[1]):
    if o.is_node(): nodes[o.id]=(o.location.lon,o.location.lat)
    elif o.is_way() and 'highway' in o.tags:
        pts=[nodes[n.ref] for n in o.nodes if n.ref in nodes]
        L=sum(hav(pts[i],pts[i+1]) for i in range(len(pts)-1)); tot+=L
        h=o.tags['highway']; bycls[h]=bycls.get(h,0)+L
print(round(tot), sorted(((k,round(v)) for k,v in bycls.items()), key=lambda x:-x[1]))
