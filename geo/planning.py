"""Location-allocation: where new sites cover the most residents who are left out today.

A :class:`PlanningProblem` holds the residents per demand cell, the walking distance from
each candidate site to the cells it reaches within the cutoff (a sparse matrix, from
:meth:`geo.reach.NetworkReach.catchments`), and each cell's distance to the nearest
existing facility (existing facilities count as already placed).  Four problems:

- :func:`maximal_covering` (MCLP): p new sites maximising newly covered residents;
- :func:`set_covering` (LSCP): the fewest sites reaching a target coverage;
- :func:`p_median`: p sites minimising the average walk (distances capped at the cutoff);
- :func:`capacitated_covering`: new sites serve at most their capacity.

Each solves exactly — a MILP built sparsely over the pairs within the cutoff and solved
with HiGHS under a time limit, whose status is reported honestly ("optimal" only when
proven, otherwise "feasible" with its gap to HiGHS's bound) — or by a fast heuristic
(greedy plus swaps) that reports its gap to the best bound it can prove.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np
from scipy import sparse

from geo.errors import AnalysisError
from geo.notes import Note, ProgressFn, note, report

Method = Literal["exact", "heuristic"]
Kind = Literal["mclp", "lscp", "pmedian", "capacitated"]
PROBLEMS: tuple[str, ...] = ("mclp", "lscp", "pmedian", "capacitated")
_INF = highspy.kHighsInf


@dataclass(frozen=True)
class PlanningProblem:
    """Demand, candidates and what is already covered.

    Attributes
    ----------
    weights : ndarray
        Residents per demand cell.
    distance : scipy.sparse.csr_matrix
        Candidates × cells; stored entries are walking distances within ``cutoff``.
    existing_distance : ndarray
        Per cell, distance to the nearest existing facility (``inf`` beyond the cutoff).
    cutoff : float
        Walking distance that counts as covered (metres).
    capacity : ndarray, optional
        Residents each candidate can serve (capacitated covering).
    candidate_ids : ndarray
        Labels of the candidates, for reports.
    """

    weights: np.ndarray
    distance: sparse.csr_matrix
    existing_distance: np.ndarray
    cutoff: float
    candidate_ids: np.ndarray
    capacity: np.ndarray | None = None
    notes: tuple[Note, ...] = ()

    def __post_init__(self) -> None:
        n_cand, n_cells = self.distance.shape
        if self.weights.shape != (n_cells,) or self.existing_distance.shape != (n_cells,):
            raise AnalysisError(f"Shapes differ: {n_cand} candidates × {n_cells} cells, but "
                                f"{self.weights.shape[0]} weights and {self.existing_distance.shape[0]} distances.")
        if len(self.candidate_ids) != n_cand:
            raise AnalysisError(f"{len(self.candidate_ids)} candidate ids for {n_cand} candidates.")
        if not np.isfinite(self.cutoff) or self.cutoff <= 0:
            raise AnalysisError(f"The cutoff must be a positive distance, not {self.cutoff}.")
        if (self.weights < 0).any():
            raise AnalysisError("Residents per cell must be 0 or more.")

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites."""
        return self.distance.shape[0]

    @property
    def covered_now(self) -> np.ndarray:
        """Cells within the cutoff of an existing facility."""
        return self.existing_distance <= self.cutoff

    @property
    def total(self) -> float:
        """All residents."""
        return float(self.weights.sum())

    def cover_matrix(self) -> sparse.csr_matrix:
        """Candidates × cells, 1 where the candidate reaches the cell within the cutoff."""
        a = self.distance.copy()
        a.data = (a.data <= self.cutoff).astype(np.float64)
        a.eliminate_zeros()
        return a


@dataclass
class PlanResult:
    """The chosen sites and how good they are, honestly labelled.

    ``status`` is ``"optimal"`` only when proven (exact solve), ``"feasible"`` otherwise;
    ``bound`` is the best bound known on the objective and ``gap`` the relative distance
    to it (0 when proven optimal; ``None`` when no bound is known).
    """

    problem: str
    method: str
    sites: np.ndarray
    objective: float
    status: str
    bound: float | None
    gap: float | None
    seconds: float
    covered: float | None = None
    coverage_rate: float | None = None
    messages: list[Note] = field(default_factory=list)

    def site_ids(self, ids: np.ndarray) -> list:
        """Labels of the chosen sites."""
        return [ids[j] for j in self.sites]

    def describe(self) -> str:
        """One line for a report."""
        gap = "unknown" if self.gap is None else f"{self.gap:.2%}"
        return (f"{self.problem} ({self.method}): {len(self.sites)} site(s), objective {self.objective:,.1f}, "
                f"{self.status}, gap to bound {gap}, {self.seconds:.2f} s")


def _gap(objective: float, bound: float | None) -> float | None:
    if bound is None or not np.isfinite(bound):
        return None
    return abs(bound - objective) / max(abs(bound), 1e-9)


def _check_method(method: str) -> None:
    if method not in ("exact", "heuristic"):
        raise AnalysisError(f"method must be 'exact' or 'heuristic', not {method!r}.")


def _check_p(problem: PlanningProblem, p: int) -> None:
    if p < 1:
        raise AnalysisError(f"p must be at least 1, not {p}.")
    if p > problem.n_candidates:
        raise AnalysisError(f"p = {p} new sites asked for, but there are only {problem.n_candidates} candidates; "
                            "add candidates or lower p.")


# --- MILP with HiGHS ----------------------------------------------------------------------


@dataclass
class _Model:
    """A MILP in column-wise sparse form: variables are candidate sites first."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: sparse.csc_matrix
    maximize: bool
    offset: float = 0.0


class _NoSolution(Exception):
    """HiGHS stopped (time limit) before finding any feasible answer."""


def _solve(model: _Model, n_sites: int, time_limit: float, start: np.ndarray | None = None,
           progress: ProgressFn | None = None,
           span: tuple[float, float] = (0.0, 1.0)) -> tuple[np.ndarray, float, str, float | None, list[str]]:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if progress is not None:
        def tick(event) -> None:  # HiGHS calls this while it branches: time used and the gap so far
            out = event.data_out
            gap = out.mip_gap if np.isfinite(out.mip_gap) and out.mip_gap < 1e6 else None
            report(progress, span[0] + (span[1] - span[0]) * out.running_time / max(time_limit, 1e-9),
                   "progress.exact",
                   seconds=out.running_time, limit=time_limit, gap="—" if gap is None else f"{gap:.2%}")

        h.cbMipInterrupt.subscribe(tick)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", 1e-6)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.matrix.shape[1], model.matrix.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = model.cost, model.lower, model.upper
    lp.row_lower_, lp.row_upper_ = model.row_lower, model.row_upper
    lp.offset_ = model.offset
    lp.sense_ = highspy.ObjSense.kMaximize if model.maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = model.matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = model.matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = model.matrix.data.astype(np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in model.integer]
    h.passModel(lp)
    if start is not None:
        warm = highspy.HighsSolution()
        warm.col_value = list(map(float, start))
        h.setSolution(warm)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    messages = []
    if status == highspy.HighsModelStatus.kInfeasible:
        raise AnalysisError("The problem has no solution (infeasible) with these inputs.")
    has_solution = info.primal_solution_status == 2
    if not has_solution:
        raise _NoSolution(h.modelStatusToString(status))
    values = np.asarray(h.getSolution().col_value)
    sites = np.flatnonzero(values[:n_sites] > 0.5)
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    if status == highspy.HighsModelStatus.kOptimal:
        label = "optimal"
    else:
        label = "feasible"
        gap = _gap(objective, bound)
        reason = h.modelStatusToString(status).lower()
        messages.append(note("plan.stopped_no_bound", reason=reason, limit=time_limit) if gap is None
                        else note("plan.stopped", reason=reason, limit=time_limit, gap=gap))
    return sites, objective, label, bound, messages


def _with_final_gap(messages: list[Note], gap: float | None) -> list[Note]:
    """Messages with HiGHS's stop note restated against the final bound (HiGHS's own bound joined with ours)."""
    out = []
    for m in messages:
        if m.code in ("plan.stopped", "plan.stopped_no_bound"):
            values = {k: v for k, v in m.values.items() if k != "gap"}
            m = note("plan.stopped_no_bound", **values) if gap is None else note("plan.stopped", **values, gap=gap)
        out.append(m)
    return out


def _lp_bound(model: _Model, time_limit: float) -> float | None:
    """The LP relaxation's optimum: a bound on the MILP (None if HiGHS does not finish)."""
    relaxed = _Model(**{**model.__dict__, "integer": np.zeros_like(model.integer)})
    try:
        _sites, value, status, _b, _m = _solve(relaxed, 0, time_limit)
    except _NoSolution:
        return None
    return value if status == "optimal" else None


def _columns(blocks: list[sparse.spmatrix]) -> sparse.csc_matrix:
    return sparse.hstack(blocks, format="csc")


def _uncovered_reachable(problem: PlanningProblem) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Cells not covered today that some candidate reaches, and the cover matrix on them."""
    a = problem.cover_matrix()
    reach = np.asarray(a.sum(axis=0)).ravel() > 0
    cells = np.flatnonzero(reach & ~problem.covered_now & (problem.weights > 0))
    return cells, a[:, cells].tocsr()


def build_mclp(problem: PlanningProblem, p: int, *, need: float | None = None) -> _Model:
    """The covering MILP over uncovered, reachable cells, built sparsely.

    MCLP (``need`` None): max Σ w_i z_i  s.t.  z_i ≤ Σ_{j covers i} y_j,  Σ y_j ≤ p.
    LSCP (``need`` given): min Σ y_j  s.t.  z_i ≤ Σ_{j covers i} y_j,  Σ w_i z_i ≥ need.
    """
    cells, a = _uncovered_reachable(problem)
    w = problem.weights[cells]
    n_c, n_d = problem.n_candidates, len(cells)
    lscp = need is not None
    last_y = sparse.csc_matrix((1, n_c)) if lscp else sparse.csc_matrix(np.ones((1, n_c)))
    last_z = sparse.csc_matrix(w[None, :]) if lscp else sparse.csc_matrix((1, n_d))
    y_block = sparse.vstack([-a.T.tocsc(), last_y], format="csc")
    z_block = sparse.vstack([sparse.identity(n_d, format="csc"), last_z], format="csc")
    return _Model(cost=np.concatenate((np.ones(n_c), np.zeros(n_d)) if lscp else (np.zeros(n_c), w)),
                  lower=np.zeros(n_c + n_d), upper=np.ones(n_c + n_d),
                  integer=np.concatenate((np.ones(n_c, bool), np.zeros(n_d, bool))),
                  row_lower=np.concatenate((np.full(n_d, -_INF), [need if lscp else -_INF])),
                  row_upper=np.concatenate((np.zeros(n_d), [_INF if lscp else p])),
                  matrix=_columns([y_block, z_block]), maximize=not lscp)


# --- heuristics ---------------------------------------------------------------------------


def _greedy_cover(a: sparse.csr_matrix, w: np.ndarray, p: int, start: np.ndarray | None = None,
                  stop_at: float | None = None, progress: ProgressFn | None = None,
                  span: tuple[float, float] = (0.0, 1.0)) -> tuple[list[int], np.ndarray, list[float]]:
    """Add the site with the largest newly covered weight, p times (or until ``stop_at``)."""
    count = np.zeros(a.shape[1], dtype=np.int64)
    chosen: list[int] = []
    curve: list[float] = []
    for j in (start if start is not None else []):
        chosen.append(int(j))
        count[a.indices[a.indptr[j]:a.indptr[j + 1]]] += 1
    covered = float(w[count > 0].sum())
    while len(chosen) < p:
        gain = a @ (w * (count == 0))
        if chosen:
            gain[chosen] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        count[a.indices[a.indptr[j]:a.indptr[j + 1]]] += 1
        covered += float(gain[j])
        curve.append(covered)
        done = covered / stop_at if stop_at else len(chosen) / max(p, 1)
        report(progress, span[0] + (span[1] - span[0]) * min(done, 1.0), "progress.greedy",
               k=len(chosen), p=p if stop_at is None else "…")
        if stop_at is not None and covered >= stop_at - 1e-9:
            break
    return chosen, count, curve


def _swap_improve(a: sparse.csr_matrix, w: np.ndarray, chosen: list[int], count: np.ndarray,
                  max_rounds: int, progress: ProgressFn | None = None,
                  span: tuple[float, float] = (0.0, 1.0)) -> tuple[list[int], np.ndarray]:
    """1-swaps (drop one chosen site, add one other) while any improves the covered weight."""
    chosen = list(chosen)
    for r in range(max_rounds):
        report(progress, span[0] + (span[1] - span[0]) * r / max(max_rounds, 1), "progress.swaps", round=r + 1)
        free_gain = a @ (w * (count == 0))
        best = (1e-9, None, None)
        for pos, j in enumerate(chosen):
            cells = a.indices[a.indptr[j]:a.indptr[j + 1]]
            only = cells[count[cells] == 1]
            loss = float(w[only].sum())
            mask = np.zeros(a.shape[1])
            mask[only] = w[only]
            gain = free_gain + a @ mask
            gain[chosen] = -np.inf
            k = int(np.argmax(gain))
            if gain[k] - loss > best[0]:
                best = (gain[k] - loss, pos, k)
        if best[1] is None:
            break
        _, pos, k = best
        old = chosen[pos]
        count[a.indices[a.indptr[old]:a.indptr[old + 1]]] -= 1
        count[a.indices[a.indptr[k]:a.indptr[k + 1]]] += 1
        chosen[pos] = k
    return chosen, count


def _cover_bound(a: sparse.csr_matrix, w: np.ndarray, count: np.ndarray, p: int, value: float) -> float:
    """Upper bound on the best p-site cover: f(S) + the p largest marginal gains w.r.t. S
    (Nemhauser, Wolsey & Fisher 1978; valid because coverage is submodular), never more than
    everyone any site reaches."""
    gain = a @ (w * (count == 0))
    top = np.sort(gain)[::-1][:p]
    return min(value + float(top.sum()), float(w.sum()))


def _top_sum(v: np.ndarray, p: int) -> tuple[float, np.ndarray]:
    """The sum of the p largest entries and which they are."""
    if p >= len(v):
        return float(v.sum()), np.arange(len(v))
    top = np.argpartition(-v, p - 1)[:p]
    return float(v[top].sum()), top


def _subgradient(evaluate, start: np.ndarray, upper: np.ndarray | None, target: float, *, iters: int,
                 progress: ProgressFn | None, span: tuple[float, float]) -> float:
    """Minimise a Lagrangian bound L(λ) ≥ optimum by projected subgradient steps (Polyak's step size
    towards ``target``, the best answer known); ``evaluate(λ)`` returns (L, subgradient)."""
    lam = start.copy()
    best = np.inf
    theta, stale = 2.0, 0
    for k in range(iters):
        value, g = evaluate(lam)
        if not np.isfinite(best) or value < best - 1e-9 * max(abs(best), 1.0):
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 15:
                theta, stale = theta / 2, 0
        if k % 10 == 0:
            report(progress, span[0] + (span[1] - span[0]) * k / iters, "progress.bound", k=k, n=iters)
        norm = float(g @ g)
        if norm <= 0 or best - target <= 1e-9 * max(abs(target), 1.0) or theta < 1e-4:
            break
        lam = lam - theta * (value - target) / norm * g
        np.maximum(lam, 0.0, out=lam)
        if upper is not None:
            np.minimum(lam, upper, out=lam)
    return best


def _lagrangian_cover_bound(a: sparse.csr_matrix, w: np.ndarray, p: int, target: float, *, iters: int = 400,
                            progress: ProgressFn | None = None, span: tuple[float, float] = (0.0, 1.0)) -> float:
    """Upper bound on the p-site cover from relaxing "a cell counts only if a chosen site reaches it":
    L(μ) = Σ max(0, w_i − μ_i) + the p largest Σ_{i reached by j} μ_i, minimised over 0 ≤ μ ≤ w."""
    at = a.T.tocsr()

    def evaluate(mu: np.ndarray) -> tuple[float, np.ndarray]:
        value, top = _top_sum(a @ mu, p)
        free = w > mu
        g = np.asarray(at[:, top].sum(axis=1)).ravel() - free
        return float(np.maximum(w - mu, 0).sum()) + value, g

    return _subgradient(evaluate, w.astype(np.float64), w.astype(np.float64), target, iters=iters,
                        progress=progress, span=span)


def maximal_covering(problem: PlanningProblem, p: int, *, method: Method = "heuristic",
                     time_limit: float = 60.0, lp_bound: bool = False,
                     progress: ProgressFn | None = None) -> PlanResult:
    """p new sites maximising the residents newly covered within the cutoff.

    The objective counts only residents not covered by an existing facility today.  The
    heuristic's bound is the best of three valid ones — the submodular bound (its value plus
    the p largest remaining gains), a Lagrangian bound, and everyone any candidate reaches —
    so it never exceeds the residents some choice could cover; ``lp_bound=True`` also solves
    the LP relaxation.  ``progress`` hears how far the work is.
    """
    _check_p(problem, p)
    t0 = time.perf_counter()
    cells, a = _uncovered_reachable(problem)
    w = problem.weights[cells]
    covered_before = float(problem.weights[problem.covered_now].sum())
    _check_method(method)
    chosen, count, _ = _greedy_cover(a, w, p, progress=progress, span=(0.0, 0.4))
    chosen, count = _swap_improve(a, w, chosen, count, max_rounds=5 * p, progress=progress, span=(0.4, 0.6))
    objective = float(w[count > 0].sum())
    bound = min(_cover_bound(a, w, count, p, objective),
                _lagrangian_cover_bound(a, w, p, objective, progress=progress, span=(0.6, 0.8)))
    sites, status, messages = np.array(sorted(chosen)), "feasible", []
    if bound - objective <= 1e-9 * max(bound, 1.0):
        status, bound = "optimal", objective  # the bound proves it
    if method == "heuristic" and lp_bound:
        relaxed = _lp_bound(build_mclp(problem, p), time_limit)
        bound = min(bound, relaxed) if relaxed is not None else bound
        if bound - objective <= 1e-9 * max(bound, 1.0):
            status = "optimal"  # the bound proves it
    if method == "exact" and status != "optimal":
        # The heuristic's answer is HiGHS's starting point, so a time limit never leaves nothing.
        start = np.zeros(problem.n_candidates + len(cells))
        start[chosen] = 1.0
        start[problem.n_candidates:] = (count > 0).astype(float)
        known = bound
        try:
            sites, objective, status, bound, messages = _solve(build_mclp(problem, p), problem.n_candidates,
                                                               time_limit, start=start, progress=progress,
                                                               span=(0.8, 1.0))
            bound = min(bound, known)
        except _NoSolution as exc:
            messages = [note("plan.highs_no_answer", limit=time_limit, reason=str(exc))]
    if len(sites) < p:
        messages.append(note("plan.few_sites", n=len(sites)))
    report(progress, 1.0, "progress.done")
    gap = 0.0 if status == "optimal" else _gap(objective, bound)
    messages = _with_final_gap(messages, gap)
    result = PlanResult("MCLP", method, np.asarray(sites, dtype=np.int64), objective, status, bound,
                        gap, time.perf_counter() - t0,
                        covered=covered_before + objective,
                        coverage_rate=(covered_before + objective) / problem.total if problem.total else None,
                        messages=messages)
    return result


def set_covering(problem: PlanningProblem, target: float = 1.0, *, method: Method = "heuristic",
                 time_limit: float = 60.0, lp_bound: bool = False, progress: ProgressFn | None = None) -> PlanResult:
    """The fewest new sites bringing coverage to ``target`` (a share of all residents).

    The heuristic's bound counts how many of the largest single-site gains the target
    needs; ``lp_bound=True`` also rounds up the LP relaxation for a tighter one.

    Raises
    ------
    AnalysisError
        When even every candidate together cannot reach the target; the message gives the
        coverage that is reachable.
    """
    if not 0 < target <= 1:
        raise AnalysisError(f"target is a share of residents in (0, 1], not {target}.")
    t0 = time.perf_counter()
    cells, a = _uncovered_reachable(problem)
    w = problem.weights[cells]
    covered_before = float(problem.weights[problem.covered_now].sum())
    need = target * problem.total - covered_before
    best_possible = covered_before + float(w.sum())
    if need <= 1e-9:
        return PlanResult("LSCP", method, np.zeros(0, dtype=np.int64), 0.0, "optimal", 0.0, 0.0,
                          time.perf_counter() - t0, covered=covered_before,
                          coverage_rate=covered_before / problem.total,
                          messages=[note("plan.target_met")])
    if best_possible < target * problem.total - 1e-6:
        raise AnalysisError(
            f"A coverage of {target:.1%} cannot be reached: with every one of the {problem.n_candidates} candidates "
            f"open, {best_possible / problem.total:.1%} of residents are within {problem.cutoff:g} m "
            f"({problem.total - best_possible:,.0f} residents remain beyond reach). Add candidates near them, "
            "or ask for a lower target.")
    gains = np.sort(np.asarray(a @ w))[::-1]
    lower = int(np.searchsorted(np.cumsum(gains), need - 1e-9) + 1)
    _check_method(method)
    chosen, count, _ = _greedy_cover(a, w, problem.n_candidates, stop_at=need, progress=progress, span=(0.0, 0.6))
    # Drop sites the others make redundant, least useful first.
    for j in sorted(chosen, key=lambda j: float(w[a.indices[a.indptr[j]:a.indptr[j + 1]]].sum())):
        cells_j = a.indices[a.indptr[j]:a.indptr[j + 1]]
        loss = float(w[cells_j[count[cells_j] == 1]].sum())
        if float(w[count > 0].sum()) - loss >= need - 1e-9:
            count[cells_j] -= 1
            chosen.remove(j)
    sites, objective, status = np.array(sorted(chosen)), float(len(chosen)), "feasible"
    bound, messages = float(lower), []
    if method == "heuristic" and lp_bound:
        relaxed = _lp_bound(build_mclp(problem, problem.n_candidates, need=need), time_limit)
        if relaxed is not None:
            bound = max(bound, float(np.ceil(relaxed - 1e-6)))
        if bound >= objective:
            status = "optimal"  # the bound proves it
    if method == "exact" and status != "optimal":
        n_c = problem.n_candidates
        start = np.zeros(n_c + len(cells))
        start[chosen] = 1.0
        start[n_c:] = (count > 0).astype(float)
        try:
            sites, objective, status, bound, messages = _solve(build_mclp(problem, n_c, need=need), n_c,
                                                               time_limit, start=start, progress=progress,
                                                               span=(0.6, 1.0))
            objective = float(len(sites))  # a count: no solver round-off
            bound = max(float(np.ceil(bound - 1e-6)), float(lower))
        except _NoSolution as exc:
            messages = [note("plan.highs_no_answer", limit=time_limit, reason=str(exc))]
    sites = np.asarray(sites, dtype=np.int64)
    covered = covered_before + float(w[np.asarray(a[sites].sum(axis=0)).ravel() > 0].sum())
    gap = 0.0 if status == "optimal" else (objective - bound) / max(objective, 1.0)
    report(progress, 1.0, "progress.done")
    return PlanResult("LSCP", method, sites, objective, status, bound, gap, time.perf_counter() - t0,
                      covered=covered, coverage_rate=covered / problem.total, messages=messages)


def _base_cost(problem: PlanningProblem) -> np.ndarray:
    return np.minimum(problem.existing_distance, problem.cutoff)


def _improving_pairs(problem: PlanningProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(candidate, cell, saving) for pairs where the candidate is nearer than today's option."""
    coo = problem.distance.tocoo()
    saving = _base_cost(problem)[coo.col] - coo.data
    keep = (saving > 0) & (problem.weights[coo.col] > 0)
    return coo.row[keep], coo.col[keep], saving[keep]


def _lagrangian_median_bound(cand: np.ndarray, cell: np.ndarray, value: np.ndarray, n_c: int, n_cells: int, p: int,
                             target: float, *, iters: int = 400, progress: ProgressFn | None = None,
                             span: tuple[float, float] = (0.0, 1.0)) -> float:
    """Upper bound on the walking saved by p new sites, from relaxing "a cell saves through one site only":
    L(λ) = Σ λ_i + the p largest Σ_{cells of j} max(0, w_i s_ij − λ_i), minimised over λ ≥ 0.
    ``value`` is w_i s_ij per (candidate, cell) pair."""
    def evaluate(lam: np.ndarray) -> tuple[float, np.ndarray]:
        extra = np.maximum(value - lam[cell], 0.0)
        total, top = _top_sum(np.bincount(cand, weights=extra, minlength=n_c), p)
        in_top = np.zeros(n_c, dtype=bool)
        in_top[top] = True
        used = in_top[cand] & (extra > 0)
        g = 1.0 - np.bincount(cell[used], minlength=n_cells)
        return float(lam.sum()) + total, g

    return _subgradient(evaluate, np.zeros(n_cells), None, target, iters=iters, progress=progress, span=span)


def p_median(problem: PlanningProblem, p: int, *, method: Method = "heuristic",
             time_limit: float = 60.0, progress: ProgressFn | None = None) -> PlanResult:
    """p new sites minimising the residents' average walk to the nearest facility.

    Walks are capped at the cutoff (a resident farther than that from everything counts
    the cutoff), so the objective is the capped average in metres.  The lower bound is the
    best of: every candidate open at once, and a Lagrangian bound on the walking p sites can
    save; it is never negative.
    """
    _check_p(problem, p)
    t0 = time.perf_counter()
    w = problem.weights
    base_total = float((w * _base_cost(problem)).sum())
    cand, cell, saving = _improving_pairs(problem)
    n_c = problem.n_candidates
    _check_method(method)
    heuristic_sites, heuristic_total = _greedy_median(problem, p, cand, cell, saving, progress=progress,
                                                      span=(0.0, 0.5))
    all_open = np.zeros(len(w))
    np.maximum.at(all_open, cell, saving)  # each cell's best saving with every candidate open
    saved = _lagrangian_median_bound(cand, cell, w[cell] * saving, n_c, len(w), p, base_total - heuristic_total,
                                     progress=progress, span=(0.5, 0.8))
    lower_total = max(base_total - float((w * all_open).sum()), base_total - saved, 0.0)
    sites, total, status, bound, messages = heuristic_sites, heuristic_total, "feasible", lower_total, []
    if total - lower_total <= 1e-9 * max(total, 1.0):
        status, bound = "optimal", total
    if method == "exact" and status != "optimal":
        n_x = len(cand)
        cells_used, cell_row = np.unique(cell, return_inverse=True)
        # Columns: y (n_c) then x (n_x).  Rows: Σ_j x_ij ≤ 1 per cell; x_ij - y_j ≤ 0 per pair; Σ y ≤ p.
        n_rows = len(cells_used) + n_x + 1
        x_rows = np.concatenate((cell_row, len(cells_used) + np.arange(n_x)))
        x_cols = np.concatenate((np.arange(n_x), np.arange(n_x)))
        x_block = sparse.csc_matrix((np.ones(2 * n_x), (x_rows, x_cols)), shape=(n_rows, n_x))
        y_rows = np.concatenate((len(cells_used) + np.arange(n_x), np.full(n_c, n_rows - 1)))
        y_cols = np.concatenate((cand, np.arange(n_c)))
        y_vals = np.concatenate((-np.ones(n_x), np.ones(n_c)))
        y_block = sparse.csc_matrix((y_vals, (y_rows, y_cols)), shape=(n_rows, n_c))
        model = _Model(cost=np.concatenate((np.zeros(n_c), -(w[cell] * saving))),
                       lower=np.zeros(n_c + n_x), upper=np.ones(n_c + n_x),
                       integer=np.concatenate((np.ones(n_c, bool), np.zeros(n_x, bool))),
                       row_lower=np.full(n_rows, -_INF),
                       row_upper=np.concatenate((np.ones(len(cells_used)), np.zeros(n_x), [p])),
                       matrix=_columns([y_block, x_block]), maximize=False, offset=base_total)
        try:
            sites, total, status, bound, messages = _solve(model, n_c, time_limit, progress=progress, span=(0.8, 1.0))
            bound = max(bound, lower_total)
        except _NoSolution as exc:
            messages = [note("plan.highs_no_answer", limit=time_limit, reason=str(exc))]
    people = max(float(w.sum()), 1e-9)
    objective = total / people
    gap = 0.0 if status == "optimal" else (total - bound) / max(total, 1e-9)
    messages = _with_final_gap(messages, gap)
    report(progress, 1.0, "progress.done")
    return PlanResult("p-median", method, np.asarray(sorted(sites), dtype=np.int64), objective, status,
                      bound / people, gap, time.perf_counter() - t0, messages=messages)


def _median_total(problem: PlanningProblem, sites: list[int]) -> tuple[float, np.ndarray]:
    cur = _base_cost(problem).copy()
    for j in sites:
        lo, hi = problem.distance.indptr[j], problem.distance.indptr[j + 1]
        cells = problem.distance.indices[lo:hi]
        np.minimum.at(cur, cells, problem.distance.data[lo:hi])
    return float((problem.weights * cur).sum()), cur


def _greedy_median(problem: PlanningProblem, p: int, cand: np.ndarray, cell: np.ndarray, saving: np.ndarray,
                   progress: ProgressFn | None = None,
                   span: tuple[float, float] = (0.0, 1.0)) -> tuple[list[int], float]:
    """Greedy additions, then one pass of swaps (Teitz–Bart) over the chosen sites."""
    w = problem.weights
    d = _base_cost(problem)[cell] - saving  # each pair's distance
    chosen: list[int] = []
    cur = _base_cost(problem).copy()
    for _ in range(p):
        gain = np.bincount(cand, weights=w[cell] * np.maximum(cur[cell] - d, 0), minlength=problem.n_candidates)
        gain[chosen] = -1
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        _, cur = _median_total(problem, chosen)
        report(progress, span[0] + (span[1] - span[0]) * 0.7 * len(chosen) / p, "progress.greedy", k=len(chosen), p=p)
    total, cur = _median_total(problem, chosen)
    for pos in range(len(chosen)):
        others = chosen[:pos] + chosen[pos + 1:]
        _, cur_wo = _median_total(problem, others)
        gain = np.bincount(cand, weights=w[cell] * np.maximum(cur_wo[cell] - d, 0), minlength=problem.n_candidates)
        gain[others] = -1
        k = int(np.argmax(gain))
        trial = others + [k]
        t_total, _ = _median_total(problem, trial)
        if t_total < total - 1e-9:
            chosen, total = trial, t_total
    return chosen, total


def capacitated_covering(problem: PlanningProblem, p: int, *, method: Method = "heuristic",
                         time_limit: float = 60.0, progress: ProgressFn | None = None) -> PlanResult:
    """p new sites serving residents not covered today, each up to its capacity.

    A cell's residents may be shared between sites; a site serves only cells within the
    cutoff and at most ``capacity`` residents.
    """
    _check_p(problem, p)
    if problem.capacity is None:
        raise AnalysisError("Capacitated covering needs a capacity per candidate (e.g. venue capacity).")
    cap = np.asarray(problem.capacity, dtype=np.float64)
    if (cap < 0).any() or not np.isfinite(cap).all():
        raise AnalysisError("Capacities must be finite and 0 or more.")
    t0 = time.perf_counter()
    cells, a = _uncovered_reachable(problem)
    w = problem.weights[cells]
    n_c = problem.n_candidates
    standalone = np.minimum(cap, np.asarray(a @ w))
    upper = min(float(np.sort(standalone)[::-1][:p].sum()), float(w.sum()))
    _check_method(method)
    heuristic_sites, heuristic_value = _greedy_capacitated(a, w, cap, p)
    report(progress, 0.5, "progress.greedy", k=len(heuristic_sites), p=p)
    sites, objective, status, bound, messages = heuristic_sites, heuristic_value, "feasible", upper, []
    if upper - objective <= 1e-9 * max(upper, 1.0):
        status, bound = "optimal", objective
    if method == "exact" and status != "optimal":
        coo = a.tocoo()
        n_x = coo.nnz
        n_d = len(cells)
        # Columns: y, then x per (candidate, cell) pair as a share of the cell's residents.
        # Rows: Σ_j x_ij ≤ 1 per cell; Σ_i w_i x_ij - cap_j y_j ≤ 0 per site; x_ij - y_j ≤ 0; Σ y ≤ p.
        r_cell = coo.col
        r_site = n_d + coo.row
        r_link = n_d + n_c + np.arange(n_x)
        n_rows = n_d + n_c + n_x + 1
        x_block = sparse.csc_matrix((np.concatenate((np.ones(n_x), w[coo.col], np.ones(n_x))),
                                     (np.concatenate((r_cell, r_site, r_link)), np.tile(np.arange(n_x), 3))),
                                    shape=(n_rows, n_x))
        y_block = sparse.csc_matrix((np.concatenate((-cap, -np.ones(n_x), np.ones(n_c))),
                                     (np.concatenate((n_d + np.arange(n_c), r_link, np.full(n_c, n_rows - 1))),
                                      np.concatenate((np.arange(n_c), coo.row, np.arange(n_c))))),
                                    shape=(n_rows, n_c))
        model = _Model(cost=np.concatenate((np.zeros(n_c), w[coo.col])), lower=np.zeros(n_c + n_x),
                       upper=np.ones(n_c + n_x), integer=np.concatenate((np.ones(n_c, bool), np.zeros(n_x, bool))),
                       row_lower=np.full(n_rows, -_INF),
                       row_upper=np.concatenate((np.ones(n_d), np.zeros(n_c + n_x), [p])),
                       matrix=_columns([y_block, x_block]), maximize=True)
        try:
            sites, objective, status, bound, messages = _solve(model, n_c, time_limit, progress=progress,
                                                               span=(0.5, 1.0))
            bound = min(bound, upper)
        except _NoSolution as exc:
            messages = [note("plan.highs_no_answer", limit=time_limit, reason=str(exc))]
    covered_before = float(problem.weights[problem.covered_now].sum())
    gap = 0.0 if status == "optimal" else _gap(objective, bound)
    messages = _with_final_gap(messages, gap)
    report(progress, 1.0, "progress.done")
    return PlanResult("capacitated", method, np.asarray(sorted(sites), dtype=np.int64), objective, status, bound,
                      gap, time.perf_counter() - t0, covered=covered_before + objective,
                      coverage_rate=(covered_before + objective) / problem.total if problem.total else None,
                      messages=messages)


def _greedy_capacitated(a: sparse.csr_matrix, w: np.ndarray, cap: np.ndarray, p: int) -> tuple[list[int], float]:
    """Open the site serving the most still-unserved residents (up to its capacity), p times."""
    left = w.astype(np.float64).copy()
    chosen: list[int] = []
    served = 0.0
    for _ in range(p):
        gain = np.minimum(cap, np.asarray(a @ left))
        gain[chosen] = -1
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        cells = a.indices[a.indptr[j]:a.indptr[j + 1]]
        room = cap[j]
        for i in cells[np.argsort(-left[cells])]:  # fill from the fullest cells
            take = min(left[i], room)
            left[i] -= take
            room -= take
            if room <= 0:
                break
        served += cap[j] - room
        chosen.append(j)
    return chosen, served


def solve(problem: PlanningProblem, kind: Kind, *, p: int = 5, target: float = 0.95, method: Method = "heuristic",
          time_limit: float = 60.0, lp_bound: bool = False, progress: ProgressFn | None = None) -> PlanResult:
    """Solve one of the four problems: the one place the app and the command line choose a solver.

    ``p`` is the number of new sites (MCLP, p-median, capacitated); ``target`` the coverage
    share LSCP must reach; ``lp_bound`` asks the heuristics for the LP relaxation's bound too.
    """
    if kind == "mclp":
        return maximal_covering(problem, p, method=method, time_limit=time_limit, lp_bound=lp_bound, progress=progress)
    if kind == "lscp":
        return set_covering(problem, target, method=method, time_limit=time_limit, lp_bound=lp_bound,
                            progress=progress)
    if kind == "pmedian":
        return p_median(problem, p, method=method, time_limit=time_limit, progress=progress)
    if kind == "capacitated":
        return capacitated_covering(problem, p, method=method, time_limit=time_limit, progress=progress)
    raise AnalysisError(f"Planning problem {kind!r} is not one of {', '.join(PROBLEMS)}.")


@dataclass(frozen=True)
class CoverageChange:
    """Residents within the cutoff of a facility before and after the chosen sites are built."""

    before: float
    after: float
    total: float
    covered_after: np.ndarray

    @property
    def added(self) -> float:
        """Residents newly within the cutoff."""
        return self.after - self.before

    @property
    def rate_before(self) -> float:
        """Share covered today."""
        return self.before / self.total if self.total else float("nan")

    @property
    def rate_after(self) -> float:
        """Share covered once the sites are built."""
        return self.after / self.total if self.total else float("nan")


def coverage_change(problem: PlanningProblem, sites: Sequence[int] | np.ndarray) -> CoverageChange:
    """Who is within the cutoff today and once ``sites`` (candidate indices) are built, per demand cell."""
    now = problem.covered_now
    sites = np.asarray(sites, dtype=np.int64)
    reached = np.asarray(problem.cover_matrix()[sites].sum(axis=0)).ravel() > 0 if len(sites) else \
        np.zeros(len(now), dtype=bool)
    after = now | reached
    w = problem.weights
    return CoverageChange(float(w[now].sum()), float(w[after].sum()), problem.total, after)


def plan_notes(problem: PlanningProblem, plan: PlanResult) -> list[Note]:
    """What a planner reads about ``plan``: residents newly covered and the rates, its quality, then its messages."""
    change = coverage_change(problem, plan.sites)
    out = [note("plan.covered", sites=len(plan.sites), added=change.added, before=change.rate_before,
                after=change.rate_after, cutoff=problem.cutoff)]
    if plan.problem == "p-median":
        out.append(note("plan.mean_walk", walk=plan.objective, cutoff=problem.cutoff))
    elif plan.problem == "capacitated":
        out.append(note("plan.served", served=plan.objective))
    if plan.status == "optimal":
        out.append(note("plan.optimal", seconds=plan.seconds))
    elif plan.gap is not None:
        out.append(note("plan.gap", gap=plan.gap, seconds=plan.seconds))
    else:
        out.append(note("plan.no_bound", seconds=plan.seconds))
    return out + list(plan.messages)


def marginal_curve(problem: PlanningProblem, p_max: int, *, known: dict[int, float] | None = None) -> list[dict]:
    """Covered residents after 1 … ``p_max`` new sites (greedy order), each with its bound.

    The greedy order is nested (site k+1 is added to sites 1…k), which is what a bureau
    builds year by year.  ``bound`` is on the residents newly covered; ``bound_covered``
    (today's covered plus that bound) is the most any k sites could cover, on the same
    scale as ``covered``. ``known`` gives bounds already proven for some k (a solved plan's
    ``bound``, which is its objective when it is proven optimal): the curve never states a
    weaker one beside it.
    """
    _check_p(problem, p_max)
    cells, a = _uncovered_reachable(problem)
    w = problem.weights[cells]
    before = float(problem.weights[problem.covered_now].sum())
    chosen, _, curve = _greedy_cover(a, w, p_max)
    rows = []
    for k, value in enumerate(curve, start=1):
        count = np.asarray(a[chosen[:k]].sum(axis=0)).ravel()
        rows.append({"sites": k, "site": int(chosen[k - 1]), "newly_covered": value,
                     "covered": before + value, "rate": (before + value) / problem.total,
                     "added_by_this_site": value - (curve[k - 2] if k > 1 else 0.0),
                     "bound": (bound := min(_cover_bound(a, w, count, k, value), (known or {}).get(k, np.inf))),
                     "bound_covered": before + bound, "bound_rate": (before + bound) / problem.total})
    return rows
