"""The demo city's aggregated health indicators (clearly synthetic): the health commission's delivery per
community for 2026 — hypertension and diabetes under management, residents 60+, fitness-test failures, the
children's overweight rate — older and more hypertensive in the old town, and with some cells below k, which
the import refuses and reports (so the stored data never holds them, and a unit without a stored count reads
"not reported").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.demand import demand_from_raster
from geo.units import assign_units
from layers.records import check_records, unit_parents

SEED = 20_261_119
PERIOD = "2026"
SOURCE = "demo city (synthetic) health commission aggregates"


def health_delivery(city) -> pd.DataFrame:
    """The delivery as the health commission would send it (every cell, small ones included)."""
    rng = np.random.default_rng(SEED)
    boundaries = city.layers["boundaries"]
    demand = demand_from_raster(city.population_tif)
    assign = assign_units(demand, boundaries, level="community")
    n = len(assign.units)
    idx = np.where(assign.cell_unit >= 0, assign.cell_unit, n)
    residents = np.bincount(idx, weights=demand.population, minlength=n + 1)[:n]
    units = assign.units.copy()
    units["x"] = [g.centroid.x for g in units.geometry]
    river_x = np.median(units["x"])
    rows = []
    for (code, x), people in zip(units[["code", "x"]].itertuples(index=False), residents):
        old_town = x < river_x
        f = rng.uniform(0.9, 1.1, 5)
        tested = people * 0.02 * f[3]
        children = people * 0.008 * f[4]
        counts = {"aged_60_plus": people * (0.24 if old_town else 0.12) * f[0],
                  "hypertension_managed": people * (0.15 if old_town else 0.07) * f[1],
                  "diabetes_managed": people * (0.05 if old_town else 0.03) * f[2],
                  "fitness_test_failed": tested * (0.11 if old_town else 0.07)}
        for indicator, value in counts.items():
            rows.append({"unit_code": code, "period": PERIOD, "indicator": indicator, "count": int(round(value)),
                         "rate": None, "denominator": None})
        rows.append({"unit_code": code, "period": PERIOD, "indicator": "child_overweight_rate", "count": None,
                     "rate": round(float(rng.uniform(0.12, 0.22)), 3), "denominator": int(round(children))})
    return pd.DataFrame(rows)


def write_health_records(store, city, *, user: str = "demo-builder") -> tuple[int, int]:
    """Check the delivery as an import does and store its valid rows; returns (stored, refused)."""
    plan = check_records(health_delivery(city), "health_indicators", source=SOURCE,
                         unit_codes=set(city.layers["boundaries"]["code"].astype(str)),
                         parents=unit_parents(city.layers["boundaries"]))
    valid = plan.valid
    store.records.write("health_indicators", valid, mode="replace", user=user, source=SOURCE)
    return len(valid), len(plan.report.bad_rows)


__all__ = ["health_delivery", "write_health_records", "PERIOD"]
