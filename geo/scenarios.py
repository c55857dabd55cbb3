"""Planning scenarios: a plan's inputs and results as plain data, and side-by-side comparison.

A scenario records what was asked (problem, p or target, cutoff, layers, time slot,
candidates) and what came out (the sites, covered residents before and after, per-unit
rates, the largest remaining gaps), so the store can keep it and a bureau can compare
several (:func:`compare_scenarios`).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.gaps import defined_gaps
from geo.planning import PlanResult
from geo.units import UnitAssignment, coverage_by_unit
from geo.whatif import WhatIf


def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def scenario_payload(plan: PlanResult, candidates: gpd.GeoDataFrame, whatif: WhatIf, *, layer: str,
                     threshold: float, units: UnitAssignment | None = None, inputs: dict | None = None,
                     top_gaps: int = 5, boundaries: gpd.GeoDataFrame | None = None) -> dict:
    """Evaluate ``plan``'s sites as new ``layer`` facilities and describe the scenario as JSON-able data; its
    gaps are the product's (:func:`geo.gaps.defined_gaps`, cut at the street boundaries of ``boundaries``)."""
    chosen = candidates.iloc[plan.sites].to_crs(4326)
    pts = chosen.geometry.representative_point()
    outcome = whatif.evaluate(add=chosen[["geometry"]], add_layer=layer)
    change = outcome.change
    row = change[(change["layer"] == layer) & (change["threshold_m"] == threshold)].iloc[0]
    payload = {
        "inputs": {**(inputs or {}), "problem": plan.problem, "method": plan.method, "layer": layer,
                   "threshold_m": threshold, "slot": whatif.slot.label() if whatif.slot else None},
        "plan": {"status": plan.status, "objective": _plain(plan.objective), "bound": _plain(plan.bound),
                 "gap": _plain(plan.gap), "seconds": _plain(plan.seconds),
                 "messages": [{"code": m.code, "values": {k: _plain(v) for k, v in m.values.items()}}
                              for m in plan.messages]},
        "sites": [{"candidate_id": str(r.candidate_id), "name": "" if r.name is None else str(r.name),
                   "site_kind": str(r.site_kind),
                   "lon": float(p.x), "lat": float(p.y)} for r, p in zip(chosen.itertuples(), pts)],
        "covered_before": _plain(row["covered_before"]), "covered_after": _plain(row["covered_after"]),
        "rate_before": _plain(row["rate_before"]), "rate_after": _plain(row["rate_after"]),
        "residents": _plain(float(whatif.base.population.sum())),
        "is_estimate": bool(whatif.base.demand.is_estimate),
    }
    if units is not None:
        per_unit = coverage_by_unit(outcome.result, units, layer=layer)
        per_unit = per_unit[per_unit["threshold_m"] == threshold]
        payload["by_unit"] = [{"code": str(r.code), "name": str(r.name), "residents": _plain(r.residents),
                               "rate": _plain(r.rate)} for r in per_unit.itertuples()]
    gaps = defined_gaps(outcome.result, layer, threshold, boundaries)
    payload["gaps"] = {"count": int(len(gaps)),
                       "top": [{"rank": int(g.rank), "uncovered_residents": _plain(g.uncovered_residents),
                                "area_km2": _plain(g.area_km2)} for g in gaps.head(top_gaps).itertuples()]}
    return payload


def scenario_sites(scenario: dict) -> gpd.GeoDataFrame:
    """A saved scenario's new sites as points (EPSG:4326), numbered by ``rank`` in the order chosen."""
    sites = scenario.get("sites", [])
    return gpd.GeoDataFrame({"rank": np.arange(1, len(sites) + 1), "name": [s["name"] for s in sites],
                             "site_kind": [s["site_kind"] for s in sites]},
                            geometry=gpd.points_from_xy([s["lon"] for s in sites], [s["lat"] for s in sites]),
                            crs=4326)


#: The rows of :func:`compare_scenarios` and how each reads: "text", "count", "metres", "percent", "list" or
#: "sites" (each site as (name or None, site kind, candidate id), shown by name or by kind and number).
MEASURES: dict[str, str] = {
    "problem": "problem", "method": "method", "threshold_m": "metres", "slot": "slot", "new_sites": "count",
    "status": "status", "covered_before": "count", "covered_after": "count", "newly_covered": "count",
    "rate_before": "percent", "rate_after": "percent", "gaps_left": "count", "largest_gap": "count",
    "sites": "sites",
}
#: Rows of one unit's coverage rate are named ``UNIT_ROW + unit name``.
UNIT_ROW = "unit:"


def compare_scenarios(scenarios: Sequence[dict]) -> pd.DataFrame:
    """Saved scenarios side by side: one column per scenario, one row per measure (codes of
    :data:`MEASURES`, then ``unit:<name>`` rows of each unit's coverage rate); values as stored."""
    columns = {}
    for sc in scenarios:
        name = sc.get("name") or f"#{len(columns) + 1}"
        before, after = sc["covered_before"] or 0, sc["covered_after"] or 0
        col = {
            "problem": sc["inputs"]["problem"], "method": sc["inputs"]["method"],
            "threshold_m": sc["inputs"]["threshold_m"], "slot": sc["inputs"].get("slot"),
            "new_sites": len(sc["sites"]), "status": sc["plan"]["status"],
            "covered_before": before, "covered_after": after, "newly_covered": after - before,
            "rate_before": sc.get("rate_before"), "rate_after": sc["rate_after"], "gaps_left": sc["gaps"]["count"],
            "largest_gap": sc["gaps"]["top"][0]["uncovered_residents"] if sc["gaps"]["top"] else 0,
            "sites": [(s["name"] or None, s["site_kind"], s.get("candidate_id", "")) for s in sc["sites"]],
        }
        for unit in sc.get("by_unit", []):
            col[UNIT_ROW + str(unit["name"])] = unit["rate"]
        columns[name] = col
    return pd.DataFrame(columns)
