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
from geo.disclosure import estimate_share, published_shares
from geo.notes import Note, note
from geo.planning import PlanningProblem
from geo.units import UnitAssignment, assign_units


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


def need_by_unit(result: CoverageResult, group: NeedGroup, assign: UnitAssignment, *, layer: str | None = None,
                 threshold: float | None = None, covered_cells: np.ndarray | None = None) -> pd.DataFrame:
    """Per unit: residents, the group's people (``need``) and its share of residents, those covered — within
    ``threshold`` of a ``layer`` facility, or ``covered_cells`` (a mask per demand cell, e.g. from
    :func:`matched_coverage`) — the rest, the coverage rate, the bivariate class (need tertile ×
    coverage-shortfall tertile) and the outreach rank (most people in need beyond reach first)."""
    n_units = len(assign.units)
    idx = np.where(assign.cell_unit >= 0, assign.cell_unit, n_units)
    cells = covered_cells if covered_cells is not None else result.covered(layer, threshold)
    residents = np.bincount(idx, weights=result.population, minlength=n_units + 1)[:n_units]
    need = np.bincount(idx, weights=group.weights, minlength=n_units + 1)[:n_units]
    covered = np.bincount(idx, weights=group.weights * np.asarray(cells, dtype=float),
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


@dataclass(frozen=True)
class Clause:
    """One kind of facility that serves a need: a layer, optionally only features whose ``field`` holds one of
    ``values`` (for a ``;``-list such as services, any of them), open at ``slot`` (``Sat 10:00``), within
    ``within_m`` metres on foot."""

    layer: str
    within_m: float
    field: str | None = None
    values: tuple[str, ...] = ()
    slot: str | None = None


#: Which facilities serve which need, by default (metres at 60 m a minute: 900 m is 15 minutes).
DEFAULT_MATCHING: dict[str, tuple[Clause, ...]] = {
    "hypertension_managed": (
        Clause("health_stations", 900.0, "services", ("exercise_prescription",)),
        Clause("venues", 900.0, "venue_kind", ("fitness_square", "park_fitness", "fitness_trail", "gym"))),
    "diabetes_managed": (
        Clause("health_stations", 900.0, "services", ("exercise_prescription",)),
        Clause("venues", 900.0, "venue_kind", ("fitness_square", "park_fitness", "fitness_trail", "gym"))),
    "aged_60_plus": (
        Clause("venues", 300.0, "venue_kind", ("fitness_square", "park_fitness")),
        Clause("greenways", 300.0)),
    "child_overweight_rate": (
        Clause("school_facilities", 1000.0, "open_to_public", ("True",), slot="Sat 10:00"),),
    "fitness_test_failed": (
        Clause("venues", 500.0), Clause("school_facilities", 500.0, "open_to_public", ("True",)),
        Clause("greenways", 500.0)),
}


def load_matching(path) -> dict[str, tuple[Clause, ...]]:
    """A matching from JSON (``{"aged_60_plus": [{"layer": "venues", "within_m": 300, "field": "venue_kind",
    "values": ["fitness_square"]}]}``), over the defaults for the groups it names.

    Raises
    ------
    AnalysisError
        When the file is not such a mapping, naming the group and clause at fault.
    """
    import json
    from pathlib import Path

    from geo.errors import AnalysisError

    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        out = dict(DEFAULT_MATCHING)
        for group, clauses in raw.items():
            out[str(group)] = tuple(Clause(str(c["layer"]), float(c["within_m"]), c.get("field"),
                                           tuple(str(v) for v in c.get("values", ())), c.get("slot"))
                                    for c in clauses)
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnalysisError(f"{path}: not a need matching ({exc}); write {{group: [{{layer, within_m, field, "
                            "values, slot}}]}}.") from None


def _matches(frame, clause: Clause) -> set[str]:
    """Feature ids of ``frame`` that the clause's field filter keeps (all without a filter; none when the
    layer or the field is not stored)."""
    if frame is None:
        return set()
    if clause.field is None:
        return set(frame["feature_id"].astype(str))
    if clause.field not in frame.columns:
        return set()
    wanted = set(clause.values)
    keep = [any(part.strip() in wanted for part in str(v).split(";")) for v in frame[clause.field]]
    return set(frame.loc[keep, "feature_id"].astype(str))


def matched_coverage(engine, layers: Mapping[str, pd.DataFrame], clauses: tuple[Clause, ...]) -> np.ndarray:
    """Per demand cell: whether any of ``clauses`` is met — a matching facility (open at the clause's slot)
    within its distance, on the engine's network (one search per clause)."""
    from geo.facilities import TimeSlot

    fs = engine.facilities
    t = fs.table
    covered = np.zeros(len(engine.demand), dtype=bool)
    for clause in clauses:
        if clause.layer not in fs.layers:
            continue
        ids = _matches(layers.get(clause.layer), clause)
        mask = fs.layer_mask(clause.layer) & t["feature_id"].astype(str).isin(ids).to_numpy() \
            & fs.open_mask(TimeSlot.parse(clause.slot) if clause.slot else None)
        if mask.any():
            covered |= engine.reach.nearest(mask, cutoff=clause.within_m).distance <= clause.within_m
    return covered


def level_of_codes(boundaries: pd.DataFrame, codes) -> str | None:
    """The boundary level most of ``codes`` are at (the level aggregates were reported at); ``None`` if none."""
    hits = boundaries[boundaries["code"].astype(str).isin({str(c) for c in codes})]
    return None if hits.empty else str(hits["level"].value_counts().idxmax())


def need_rates_by_unit(engine, boundaries, assign: UnitAssignment, groups: Mapping[str, Mapping[str, float]],
                       layers: Mapping[str, pd.DataFrame], matching: Mapping[str, tuple[Clause, ...]]
                       ) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per unit of ``assign`` (and for the whole city): the share of each need group within reach of the
    facilities that serve it, published as estimates (:func:`geo.disclosure.published_shares`: whole percent);
    NaN where a unit holds nobody of the group."""
    n_units = len(assign.units)
    idx = np.where(assign.cell_unit >= 0, assign.cell_unit, n_units)
    table = pd.DataFrame({"code": assign.units["code"].to_numpy()})
    city: dict[str, float] = {}
    for name, counts in groups.items():
        level = level_of_codes(boundaries, counts)
        if level is None:
            continue
        fine = assign_units(engine.demand, boundaries, level=level)
        group = need_weights(name, counts, engine.demand, fine)
        cells = matched_coverage(engine, layers, matching.get(name, ()))
        need = np.bincount(idx, weights=group.weights, minlength=n_units + 1)[:n_units]
        cov = np.bincount(idx, weights=group.weights * cells, minlength=n_units + 1)[:n_units]
        with np.errstate(invalid="ignore", divide="ignore"):
            table[f"need_{name}"] = published_shares(np.where(need > 0, cov / need, np.nan))
        total, got = float(group.weights.sum()), float((group.weights * cells).sum())
        city[f"need_{name}"] = estimate_share(got / total) if total > 0 else float("nan")
    return table, city


def serves_need(table: pd.DataFrame, layers: Mapping[str, pd.DataFrame], clauses: tuple[Clause, ...]) -> np.ndarray:
    """Rows of a nearby finder's table (``layer``, ``feature_id``, ``distance_m``) that serve a need group: a
    facility one of ``clauses`` keeps, within its distance. (Opening times are the finder's own slot.)"""
    keep = np.zeros(len(table), dtype=bool)
    for clause in clauses:
        ids = _matches(layers.get(clause.layer), clause)
        keep |= ((table["layer"] == clause.layer) & table["feature_id"].astype(str).isin(ids)
                 & (table["distance_m"] <= clause.within_m)).to_numpy()
    return keep


def need_problem(problem: PlanningProblem, group: NeedGroup) -> PlanningProblem:
    """The same planning problem (candidates, distances, what exists) weighed by a need group's people."""
    return replace(problem, weights=np.asarray(group.weights, float))


def need_demand(demand: Demand, group: NeedGroup) -> Demand:
    """The demand with a need group's estimated people in place of residents (an estimate)."""
    return replace(demand, population=np.asarray(group.weights, float), label=group.name, is_estimate=True,
                   notes=list(demand.notes) + list(group.notes))


__all__ = ["NeedGroup", "need_weights", "mixed", "need_coverage", "need_by_unit", "need_problem", "need_demand",
           "BIVARIATE_COLOURS", "Clause", "DEFAULT_MATCHING",
           "load_matching", "matched_coverage", "level_of_codes",
           "need_rates_by_unit", "serves_need"]
