import osmium, sys, collections
class H(osmium.SimpleHandler):
    def __init__(s):
        super().__init__(); s.c=collections.Counter(); s.hw=collections.Counter(); s.nodes=0; s.ways=0; s.rels=0; s.mp=0
    def node(s,n): s.nodes+=1
    def way(s,w):
        s.ways+=1
        t=dict((k,v) for k,v in w.tags)
        if 'highway' in t: s.c['highway_ways']+=1; s.hw[t['highway']]+=1
        if 'building' in t and t['building']!='no': s.c['building_ways']+=1
        for k in ('leisure','amenity'):
            if k in t: s.c['way_%s=%s'%(k,t[k])]+=1
    def relation(s,r):
        s.rels+=1
        t=dict((k,v) for k,v in r.tags)
        if t.get('type')=='multipolygon':
            s.mp+=1
            if 'building' in t: s.c['building_rels']+=1
            for k in ('leisure','amenity'):
                if k in t: s.c['rel_%s=%s'%(k,t[k])]+=1
h=H(); h.apply_file(sys.argv[1])
print(h.nodes,h.ways,h.rels,'mp',h.mp)
print(sorted(h.hw.items(), key=lambda x:-x[1]))
print({k:v for k,v in h.c.items() if not k.startswith('way_') or v>0})
