"""Benchmark: need-weighted coverage for five need groups against one population coverage run, same city.

The city-scale case of ``bench_coverage`` (about 500,000 street nodes, 1,000,000 populated
cells, 5,000 facilities in four layers) with 400 synthetic communities (a 20 × 20 grid of
units), each with five aggregate counts (hypertension, diabetes, 60+, failed fitness tests,
overweight children). Prints the population run, the five groups' spreading and coverage
(overall and per unit) from the same distances, and the ratio (target: under 1.20 — the
distances are shared).

Run: ``make bench-need`` or ``python -m bench.bench_need [--side 708]``.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bench.bench_coverage import synthetic_city, synthetic_demand, synthetic_facilities
from geo.coverage import CoverageEngine
from geo.need import need_by_unit, need_coverage, need_weights
from geo.need_tables import published
from geo.network import network_from_edges
from geo.units import assign_units
from layers.records import check_records

GROUPS = ("hypertension_managed", "diabetes_managed", "aged_60_plus", "fitness_test_failed", "child_overweight")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=708, help="grid nodes per side (708 → 501k nodes)")
    parser.add_argument("--cells", type=int, default=1000, help="demand cells per side (1000 → 1M)")
    parser.add_argument("--units", type=int, default=20, help="communities per side (20 → 400)")
    args = parser.parse_args(argv)
    x, y, u, v = synthetic_city(args.side)
    net = network_from_edges(x, y, u, v, crs="EPSG:4547")
    extent = (args.side - 1) * 50.0
    demand = synthetic_demand(400_000, 3_300_000, extent, args.cells)
    engine = CoverageEngine(demand, synthetic_facilities(400_000, 3_300_000, extent), network=net)
    step = extent / args.units
    boxes = [shapely.box(400_000 + i * step, 3_300_000 + j * step, 400_000 + (i + 1) * step,
                         3_300_000 + (j + 1) * step) for i in range(args.units) for j in range(args.units)]
    units = gpd.GeoDataFrame({"code": [f"c{k:04d}" for k in range(len(boxes))], "name": None,
                              "level": "community"}, geometry=boxes, crs="EPSG:4547")
    engine.run()  # warm, as the app is after loading
    t = time.perf_counter()
    result = engine.run()
    t_pop = time.perf_counter() - t
    print(f"city: {net.n_nodes:,} nodes, {len(demand):,} cells, {len(units)} communities")
    print(f"population coverage (4 layers × 3 thresholds, per cell): {t_pop:.2f} s")
    assign = assign_units(demand, units, level="community")  # once per boundaries, as the app caches it
    rng = np.random.default_rng(19)
    t = time.perf_counter()
    groups = {g: need_weights(g, dict(zip(units["code"], rng.integers(10, 5000, len(units)))), demand, assign)
              for g in GROUPS}
    overall = need_coverage(result, groups, layer="venues")
    per_unit = [published(need_by_unit(result, groups[g], assign, layer="venues", threshold=500.0))
                for g in GROUPS]  # as every surface publishes them (geo.disclosure)
    t_need = time.perf_counter() - t
    print(f"5 need groups: spread per unit, coverage at 3 thresholds and published per-unit tables: {t_need:.2f} s")
    print(f"ratio (population run + 5 need groups) / population run: {(t_pop + t_need) / t_pop:.2f} "
          "(target < 1.20)")
    # the door: a delivery of the five groups for every community and every street above them (a column of the
    # grid), in two quarters, checked against what is stored as the import checks it
    parents = {code: f"s{k // args.units:02d}" for k, code in enumerate(units["code"])}
    rows = []
    for period in ("2026Q1", "2026Q2"):
        for g in ("hypertension_managed", "diabetes_managed", "aged_60_plus", "fitness_test_failed"):
            counts = rng.integers(10, 5000, len(units))
            rows += [{"unit_code": c, "period": period, "indicator": g, "count": int(n)} for c, n in
                     zip(units["code"], counts)]
            for street in sorted(set(parents.values())):
                total = sum(int(n) for c, n in zip(units["code"], counts) if parents[c] == street)
                rows.append({"unit_code": street, "period": period, "indicator": g, "count": total})
    delivery = pd.DataFrame(rows).assign(rate="", denominator="").astype(str)
    t = time.perf_counter()
    plan = check_records(delivery, "health_indicators", source="bench.csv", parents=parents)
    t_door = time.perf_counter() - t
    print(f"the door: {len(delivery):,} rows checked for derivable small counts (levels, periods, parts) in "
          f"{t_door:.2f} s ({len(plan.report.problems)} refusals)")
    print(overall.pivot(index="group", columns="threshold_m", values="rate").round(3).to_string())
    assert all(len(p) == len(units) for p in per_unit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
