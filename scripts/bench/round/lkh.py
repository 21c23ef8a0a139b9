"""Guichet's round ordering vs LKH-3 (through the `elkai` package) on the same rounds.

Reads the JSON written by `shared/examples/round_instances.rs` on standard input, solves each
round with LKH-3 as an open path from the fixed start, and prints, per number of stops, the
ratio of our path length to LKH's (mean and worst) and the time per ordering of both.

The open path with a fixed start, as a symmetric TSP: node 0 is the start, 1..n the stops and
n + 1 a free end F with d(F, start) = 0 and d(F, stop) = M for every stop. F has two tour
neighbours. A tour with F beside the start costs M + (an open path from the start through
all stops, ending at F's other neighbour). A tour with F between two stops a and b costs 2M +
(a path from a to b through all the other nodes, the start among them), and such a path is at
most D (the largest distance between two nodes) shorter than the best path from the start:
from a...u-start-v...b, the path start-u...a-v...b removes (start, v) and adds (a, v) <= D.
So with M > D every optimal tour puts F beside the start, and its cost minus M is the best
open path. (With M = 0 F could sit anywhere and the start would not be fixed.) The distances
are integer decimetres, as LKH works on integers; M = 2D + 1. Both paths are then measured
again in floating metres with the same haversine as `geo`, so the ratio does not depend on
the rounding.
"""

import json
import math
import statistics
import sys
import time

import elkai

RUNS = 10  # LKH runs per round (elkai's default)


def distance(radius, a, b):
    """`geo`'s Haversine distance in metres between [lat, lon] pairs."""
    lat1, lat2 = math.radians(a[0]), math.radians(b[0])
    dlat = math.radians(b[0] - a[0])
    dlon = math.radians(b[1] - a[1])
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(h))


def path_length(radius, start, stops, order):
    total, at = 0.0, start
    for i in order:
        total += distance(radius, at, stops[i])
        at = stops[i]
    return total


def lkh_order(radius, start, stops):
    """LKH's order of the stops (indices) and its solve time in seconds."""
    points = [start] + stops
    n = len(points)
    dm = [[round(10 * distance(radius, p, q)) for q in points] for p in points]
    big = 2 * max(max(row) for row in dm) + 1
    free_end = n
    for i, row in enumerate(dm):
        row.append(0 if i == 0 else big)
    dm.append([0] + [big] * (n - 1) + [0])

    started = time.perf_counter()
    tour = elkai.DistanceMatrix(dm).solve_tsp(runs=RUNS)
    seconds = time.perf_counter() - started

    tour = tour[:-1]  # elkai repeats the first node at the end
    k = tour.index(0)
    tour = tour[k:] + tour[:k]
    if tour[1] == free_end:
        tour = [0] + tour[1:][::-1]
    if tour[-1] != free_end:
        sys.exit(f"LKH's tour does not put the free end beside the start: {tour}")
    return [node - 1 for node in tour[1:-1]], seconds


def main():
    data = json.load(sys.stdin)
    radius = data["earth_radius_m"]
    by_size = {}
    for r in data["rounds"]:
        start, stops = r["start"], r["stops"]
        assert sorted(r["order"]) == list(range(len(stops))), "our order is not a permutation"
        ours = path_length(radius, start, stops, r["order"])
        if abs(ours - r["total_m"]) > 1e-6 * max(ours, 1.0):
            sys.exit(f"our length {r['total_m']} differs from the recomputed {ours}")
        order, seconds = lkh_order(radius, start, stops)
        assert sorted(order) == list(range(len(stops))), "LKH's order is not a permutation"
        lkh = path_length(radius, start, stops, order)
        by_size.setdefault(r["stops_count"], []).append((ours / lkh, r["ms"], seconds * 1e3))

    print(f"elkai {elkai_version()} (LKH-3), RUNS = {RUNS}; ratio = our length / LKH's")
    print("| stops | rounds | ratio mean | ratio worst | ratio best | ours, median ms | LKH, mean ms |")
    print("|---|---|---|---|---|---|---|")
    for n, rows in sorted(by_size.items()):
        ratios = [x[0] for x in rows]
        print(
            f"| {n} | {len(rows)} | {statistics.mean(ratios):.4f} | {max(ratios):.4f} "
            f"| {min(ratios):.4f} | {statistics.median(x[1] for x in rows):.2f} "
            f"| {statistics.mean(x[2] for x in rows):.0f} |"
        )


def elkai_version():
    from importlib.metadata import version

    return version("elkai")


if __name__ == "__main__":
    main()
