import osmium, sys, collections
c=collections.Counter()
for o in osmium.FileProcessor(sys.argv[1], osmium.osm.NODE):
    t=dict(o.tags)
    for k in ('amenity','leisure','tourism','emergency','building','place'):
        if k in t: c['%s=%s'%(k,t[k])]+=1
print(sorted(c.items(), key=lambda x:-x[1])[:60])
