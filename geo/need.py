"""Need groups as demand (体卫融合): residents with hypertension, aged 60+ … spread from their unit's aggregate count
over its residential cells in proportion to population, so coverage, units and planning run with demand = a
need group (or a weighted mix), labelled as estimates.

The distances are the coverage run's: a need group only re-weighs the cells, so any number of
groups costs one distance pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from geo.coverage import CoverageResult
from geo.demand import Demand
from geo.notes import Note, note
from geo.planning import PlanningProblem
from geo.units import UnitAssignment


@dataclass(frozen=True)
class NeedGroup:
    """One need group's estimated residents per demand cell, and what was left unplaced."""

    name: str
    weights: np.ndarray
    total: float
    placed: float
    notes: tuple[Note, ...] = ()


def need_weights(name: str, counts: Mapping[str, float], demand: Demand, assign: UnitAssignment) -> NeedGroup:
    """Spread ``counts`` (unit code → people in the group) over each unit's demand cells in proportion to their
    residents. A unit with a count but no resident in the grid cannot be placed (said in the notes); a unit
    without a count gets none (its group is unknown, not zero)."""
    n_units = len(assign.units)
    idx = np.where(assign.cell_unit >= 0, assign.cell_unit, n_units)
    residents = np.bincount(idx, weights=demand.population, minlength=n_units + 1)[:n_units]
    code_of = {str(c): i for i, c in enumerate(assign.units["code"])}
    per_unit = np.zeros(n_units + 1)
    unplaced, unknown = [], []
    for code, count in counts.items():
        i = code_of.get(str(code))
        if i is None:
            unknown.append(str(code))
        elif residents[i] <= 0:
            unplaced.append(str(code))
        else:
            per_unit[i] = float(count)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(residents > 0, per_unit[:n_units] / residents, 0.0)
    weights = demand.population * np.append(share, 0.0)[idx]
    total = float(sum(float(c) for c in counts.values()))
    notes = [note("need.estimate", group=name)]
    if unplaced:
        notes.append(note("need.unplaced", n=len(unplaced), units=unplaced[:10]))
    if unknown:
        notes.append(note("need.unknown_units", n=len(unknown), units=unknown[:10]))
    return NeedGroup(name, weights, total, float(weights.sum()), tuple(notes))


def mixed(groups: Mapping[str, NeedGroup], mix: Mapping[str, float], name: str = "mix") -> NeedGroup:
    """A weighted combination of groups (``{"hypertension_managed": 1.0, "aged_60_plus": 0.5}``)."""
    weights = sum(float(w) * groups[g].weights for g, w in mix.items())
    total = sum(float(w) * groups[g].total for g, w in mix.items())
    notes = tuple(n for g in mix for n in groups[g].notes)
    return NeedGroup(name, np.asarray(weights, float), float(total), float(np.sum(weights)), notes)


def need_coverage(result: CoverageResult, groups: Mapping[str, NeedGroup], *, layer: str,
                  assign: UnitAssignment | None = None) -> pd.DataFrame:
    """Per need group and threshold (and per unit with ``assign``): people in the group, those within the
    threshold of a ``layer`` facility, and the rate — from the run's own distances."""
    rows = []
    n_units = len(assign.units) if assign is not None else 0
    idx = np.where(assign.cell_unit >= 0, assign.cell_unit, n_units) if assign is not None else None
    for name, g in groups.items():
        for th in result.thresholds[layer]:
            covered = result.covered(layer, th)
            if assign is None:
                need, cov = g.placed, float(g.weights[covered].sum())
                rows.append({"group": name, "threshold_m": th, "need": need, "covered": cov,
                             "rate": cov / need if need > 0 else np.nan})
                continue
            need = np.bincount(idx, weights=g.weights, minlength=n_units + 1)[:n_units]
            cov = np.bincount(idx, weights=g.weights * covered, minlength=n_units + 1)[:n_units]
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.where(need > 0, cov / need, np.nan)
            rows.extend({"group": name, "threshold_m": th, "code": c, "name": nm, "need": n, "covered": v,
                         "rate": r} for c, nm, n, v, r in zip(assign.units["code"], assign.units["name"], need, cov,
                                                               rate))
    return pd.DataFrame(rows)


#: Bivariate classes: need (1 low … 3 high) × coverage shortfall (1 well covered … 3 poorly covered) → colour;
#: high need and low coverage (3, 3) stands out in dark red.
BIVARIATE_COLOURS: dict[tuple[int, int], str] = {
    (1, 1): "#e8e8e8", (2, 1): "#e4d9ac", (3, 1): "#c8b35a",
    (1, 2): "#cbb8d7", (2, 2): "#c8ada0", (3, 2): "#af8e53",
    (1, 3): "#9972af", (2, 3): "#976b82", (3, 3): "#804d36",
}


def _tertile(values: np.ndarray) -> np.ndarray:
    """1, 2 or 3 by the values' tertiles (0 where missing)."""
    out = np.zeros(len(values), dtype=int)
    ok = np.isfinite(values)
    if ok.sum() == 0:
        return out
    lo, hi = np.quantile(values[ok], [1 / 3, 2 / 3])
    out[ok] = 1 + (values[ok] > lo).astype(int) + (values[ok] > hi).astype(int)
    return out


def need_by_unit(result: CoverageResult, group: NeedGroup, assign: UnitAssignment, *, layer: str,
                 threshold: float) -> pd.DataFrame:
    """Per unit: residents, the group's people (``need``) and its share of residents, those within ``threshold``
    of a ``layer`` facility, the rest, the coverage rate, the bivariate class (need tertile × coverage-shortfall
    tertile) and the outreach rank (most people in need beyond reach first)."""
    n_units = len(assign.units)
    idx = np.where(assign.cell_unit >= 0, assign.cell_unit, n_units)
    residents = np.bincount(idx, weights=result.population, minlength=n_units + 1)[:n_units]
    need = np.bincount(idx, weights=group.weights, minlength=n_units + 1)[:n_units]
    covered = np.bincount(idx, weights=group.weights * result.covered(layer, threshold),
                          minlength=n_units + 1)[:n_units]
    with np.errstate(invalid="ignore", divide="ignore"):
        need_rate = np.where(residents > 0, need / residents, np.nan)
        rate = np.where(need > 0, covered / need, np.nan)
    out = pd.DataFrame({"code": assign.units["code"].to_numpy(), "name": assign.units["name"].to_numpy(),
                        "residents": residents, "need": need, "need_rate": need_rate, "covered": covered,
                        "uncovered": need - covered, "rate": rate})
    has_need = need > 0
    out["need_class"] = np.where(has_need, _tertile(np.where(has_need, need_rate, np.nan)), 0)
    out["shortfall_class"] = np.where(has_need, _tertile(np.where(has_need, 1 - rate, np.nan)), 0)
    order = out[has_need].sort_values(["uncovered", "code"], ascending=[False, True]).index
    out["outreach_rank"] = pd.Series(np.arange(1, len(order) + 1), index=order).reindex(out.index).astype("Int64")
    return out


def need_problem(problem: PlanningProblem, group: NeedGroup) -> PlanningProblem:
    """The same planning problem (candidates, distances, what exists) weighed by a need group's people."""
    return replace(problem, weights=np.asarray(group.weights, float))


def need_demand(demand: Demand, group: NeedGroup) -> Demand:
    """The demand with a need group's estimated people in place of residents (an estimate)."""
    return replace(demand, population=np.asarray(group.weights, float), label=group.name, is_estimate=True,
                   notes=list(demand.notes) + list(group.notes))


__all__ = ["NeedGroup", "need_weights", "mixed", "need_coverage", "need_by_unit", "need_problem", "need_demand",
           "BIVARIATE_COLOURS"]
