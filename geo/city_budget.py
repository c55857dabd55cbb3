"""Planning decomposed by city: each city's maximal covering on its own workers, and a province's budget of
new sites shared between cities by their marginal gains.

A province plans city by city — cities are far apart, so a new site in one covers nobody in another
— and either gives each city its own budget, or holds one budget for the province and asks where the
next site covers most.  For the second, every city's *curve* is computed (the residents newly covered
by the best 0, 1, …, P sites found, :func:`geo.planning.maximal_covering` for each count, on a Dask
worker per city when a client is given), the budget is handed out site by site to the city whose
next site gains most, and then sites are exchanged between cities while moving one from a city to
another gains residents.  On concave curves (the usual shape: each further site covers fewer new
residents) the result is the best split of the budget over those curves; the exchange repairs the
rare step where a heuristic's curve is not concave.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from geo.errors import AnalysisError
from geo.planning import PlanningProblem, PlanResult, maximal_covering


def split_problem(problem: PlanningProblem, cell_city: Sequence[str], candidate_city: Sequence[str]
                  ) -> dict[str, PlanningProblem]:
    """One problem per city: its own cells and its own candidates (a candidate covers its city's cells only).

    ``cell_city`` and ``candidate_city`` name the city of every cell and candidate (empty or ``None``:
    in no city, left out).
    """
    cell_city = np.asarray(cell_city, dtype=object)
    candidate_city = np.asarray(candidate_city, dtype=object)
    if len(cell_city) != len(problem.weights) or len(candidate_city) != problem.n_candidates:
        raise AnalysisError(f"{len(cell_city)} cell cities for {len(problem.weights)} cells, "
                            f"{len(candidate_city)} candidate cities for {problem.n_candidates} candidates.")
    out = {}
    names = sorted({c for c in cell_city if c} & {c for c in candidate_city if c})
    for city in names:
        cells = np.flatnonzero(cell_city == city)
        cands = np.flatnonzero(candidate_city == city)
        dist = sparse.csr_matrix(problem.distance)[cands][:, cells]
        out[city] = PlanningProblem(weights=problem.weights[cells], distance=dist.tocsr(),
                                    existing_distance=problem.existing_distance[cells], cutoff=problem.cutoff,
                                    candidate_ids=problem.candidate_ids[cands],
                                    capacity=None if problem.capacity is None else problem.capacity[cands])
    return out


def city_curve(problem: PlanningProblem, p_max: int) -> list[PlanResult | None]:
    """The best plan found for 0 … ``p_max`` new sites of one city (``None`` for 0 sites)."""
    plans: list[PlanResult | None] = [None]
    for k in range(1, min(p_max, problem.n_candidates) + 1):
        plans.append(maximal_covering(problem, k))
    return plans


def gains(plans: Sequence[PlanResult | None]) -> np.ndarray:
    """Residents newly covered by 0, 1, … sites: never fewer with more sites (a plan may keep an earlier one)."""
    values = np.array([0.0] + [p.objective for p in plans[1:]])
    return np.maximum.accumulate(values)


def allocate(curves: Mapping[str, np.ndarray], total: int) -> dict[str, int]:
    """Sites per city for a province's budget of ``total``: the next site each time to the city it gains most
    in, then single sites moved between cities while that gains residents (ties: the first city by name)."""
    if total < 0:
        raise AnalysisError(f"The budget must be 0 or more sites, not {total}.")
    names = sorted(curves)
    take = {c: 0 for c in names}
    room = sum(len(curves[c]) - 1 for c in names)
    for _ in range(min(total, room)):
        best = max((c for c in names if take[c] + 1 < len(curves[c])),
                   key=lambda c: (curves[c][take[c] + 1] - curves[c][take[c]], -names.index(c)))
        take[best] += 1
    while True:  # exchange: move one site where it gains more than it loses
        move, delta = None, 1e-9
        for a in names:
            if take[a] == 0:
                continue
            loss = curves[a][take[a]] - curves[a][take[a] - 1]
            for b in names:
                if b != a and take[b] + 1 < len(curves[b]):
                    gain = curves[b][take[b] + 1] - curves[b][take[b]]
                    if gain - loss > delta:
                        move, delta = (a, b), gain - loss
        if move is None:
            return take
        take[move[0]] -= 1
        take[move[1]] += 1


@dataclass
class CityPlans:
    """The plan of every city: how many sites, which, and whom they cover."""

    table: pd.DataFrame  # city, sites, newly_covered, covered, residents, coverage_rate, site_ids
    plans: dict[str, PlanResult | None]

    @property
    def newly_covered(self) -> float:
        """Residents newly covered in the whole province."""
        return float(self.table["newly_covered"].sum())


def plan_by_city(problems: Mapping[str, PlanningProblem], *, total: int | None = None,
                 per_city: Mapping[str, int] | None = None, client=None) -> CityPlans:
    """Every city's MCLP: with its own budget (``per_city``), or sharing a province's ``total`` by marginal gains.

    With a Dask ``client`` each city is solved on a worker (its curve for a province budget).
    """
    if (total is None) == (per_city is None):
        raise AnalysisError("Give either a budget per city or one budget for the province, not both.")
    names = sorted(problems)
    wanted = {c: int((per_city or {}).get(c, 0)) for c in names} if per_city is not None else \
        {c: int(total) for c in names}
    if client is None:
        curves = {c: city_curve(problems[c], wanted[c]) for c in names}
    else:
        futures = client.map(city_curve, [problems[c] for c in names], [wanted[c] for c in names],
                             key=[f"onemap-city-plan-{c}-{wanted[c]}" for c in names], retries=2)
        curves = dict(zip(names, client.gather(futures)))
    take = {c: len(curves[c]) - 1 for c in names} if per_city is not None else \
        allocate({c: gains(curves[c]) for c in names}, int(total))
    rows, chosen = [], {}
    for c in names:
        plan = curves[c][take[c]] if take[c] else None
        chosen[c] = plan
        problem = problems[c]
        before = float(problem.weights[problem.covered_now].sum())
        new = plan.objective if plan is not None else 0.0
        rows.append({"city": c, "sites": take[c], "newly_covered": new, "covered": before + new,
                     "residents": problem.total,
                     "coverage_rate": (before + new) / problem.total if problem.total else np.nan,
                     "site_ids": [] if plan is None else [str(s) for s in plan.site_ids(problem.candidate_ids)]})
    return CityPlans(pd.DataFrame(rows), chosen)


__all__ = ["split_problem", "city_curve", "gains", "allocate", "plan_by_city", "CityPlans"]
