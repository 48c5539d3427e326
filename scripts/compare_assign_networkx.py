#!/usr/bin/env python3
"""Peer side of `cargo bench -p renxing-scenario --bench assign_peer`: solve one transportation
instance with networkx's network simplex and print the result as JSON on stdout.

The instance directory holds three CSV files written by the bench (integers only, because
networkx's network simplex is exact only on integer data):
  supply.csv    point,people
  capacity.csv  facility,places
  arcs.csv      point,facility,cost        (travel time in deciseconds)
and penalty.txt: the cost of one unserved person.

As a min-cost flow: every point supplies its people; each facility passes at most its places to
one sink; each point may also send people straight to the sink at the penalty (unserved). The
sink demands all the people.

Output: {"objective": int, "unserved": int, "build_s": float, "solve_s": float,
         "nodes": int, "edges": int}
Usage: python compare_assign_networkx.py DIR
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path


def read(path: Path, columns: int) -> list[list[int]]:
    with path.open(newline="") as f:
        rows = csv.reader(f)
        next(rows)
        out = []
        for line, row in enumerate(rows, start=2):
            if len(row) != columns:
                sys.exit(f"{path}:{line}: expected {columns} fields, got {len(row)}")
            try:
                out.append([int(x) for x in row])
            except ValueError:
                sys.exit(f"{path}:{line}: not an integer: {row}")
        return out


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    import networkx as nx

    d = Path(sys.argv[1])
    supply = read(d / "supply.csv", 2)
    capacity = read(d / "capacity.csv", 2)
    arcs = read(d / "arcs.csv", 3)
    penalty = int((d / "penalty.txt").read_text().strip())

    t0 = time.perf_counter()
    g = nx.DiGraph()
    total = 0
    for i, s in supply:
        g.add_node(("p", i), demand=-s)
        g.add_edge(("p", i), "sink", weight=penalty)
        total += s
    for j, c in capacity:
        g.add_node(("f", j), demand=0)
        g.add_edge(("f", j), "sink", weight=0, capacity=c)
    g.add_node("sink", demand=total)
    for i, j, c in arcs:
        g.add_edge(("p", i), ("f", j), weight=c)
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    cost, flow = nx.network_simplex(g)
    solve_s = time.perf_counter() - t0

    unserved = sum(flow[("p", i)]["sink"] for i, _ in supply)
    print(
        json.dumps(
            {
                "objective": cost,
                "unserved": unserved,
                "build_s": build_s,
                "solve_s": solve_s,
                "nodes": g.number_of_nodes(),
                "edges": g.number_of_edges(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
