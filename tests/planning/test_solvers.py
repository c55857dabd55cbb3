"""Exact solvers equal brute-force enumeration; heuristics stay under their proven bounds."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from geo.errors import AnalysisError
from geo.planning import PlanningProblem, capacitated_covering, marginal_curve, maximal_covering, p_median, set_covering

CUTOFF = 500.0


def small_problem(seed: int, n_cells: int = 28, n_cand: int = 8) -> PlanningProblem:
    rng = np.random.default_rng(seed)
    cells = rng.uniform(0, 2000, (n_cells, 2))
    cands = rng.uniform(0, 2000, (n_cand, 2))
    d = np.hypot(*(cands[:, None, :] - cells[None, :, :]).transpose(2, 0, 1)) * 1.2
    within = d <= CUTOFF
    dist = sparse.csr_matrix(np.where(within, d, 0.0))
    dist = sparse.csr_matrix((d[within], np.nonzero(within)), shape=d.shape)
    existing = np.where(rng.random(n_cells) < 0.25, rng.uniform(0, CUTOFF, n_cells), np.inf)
    return PlanningProblem(weights=rng.integers(10, 200, n_cells).astype(float), distance=dist,
                           existing_distance=existing, cutoff=CUTOFF, candidate_ids=np.arange(n_cand),
                           capacity=rng.integers(100, 600, n_cand).astype(float))


def _covered(problem: PlanningProblem, sites) -> np.ndarray:
    cov = problem.covered_now.copy()
    dense = problem.distance.toarray()
    for j in sites:
        cov |= (dense[j] > 0) & (dense[j] <= CUTOFF)
    return cov


def brute_mclp(problem, p):
    base = problem.weights[problem.covered_now].sum()
    return max(problem.weights[_covered(problem, s)].sum() - base
               for s in combinations(range(problem.n_candidates), p))


def brute_lscp(problem, target):
    for k in range(0, problem.n_candidates + 1):
        if any(problem.weights[_covered(problem, s)].sum() >= target * problem.total - 1e-9
               for s in combinations(range(problem.n_candidates), k)):
            return k
    return None


def brute_median(problem, p):
    dense = problem.distance.toarray()
    base = np.minimum(problem.existing_distance, CUTOFF)
    best = np.inf
    for s in combinations(range(problem.n_candidates), p):
        cur = base.copy()
        for j in s:
            cur = np.where(dense[j] > 0, np.minimum(cur, dense[j]), cur)
        best = min(best, (problem.weights * cur).sum() / problem.weights.sum())
    return best


def brute_capacitated(problem, p):
    dense = problem.distance.toarray()
    need = ~problem.covered_now
    best = 0.0
    for s in combinations(range(problem.n_candidates), p):
        pairs = [(j, i) for j in s for i in np.flatnonzero(need & (dense[j] > 0))]
        if not pairs:
            continue
        w = problem.weights
        c = -np.array([w[i] for _, i in pairs])
        rows, b = [], []
        for i in {i for _, i in pairs}:
            rows.append([1.0 if pi == i else 0.0 for _, pi in pairs])
            b.append(1.0)
        for j in s:
            rows.append([w[pi] if pj == j else 0.0 for pj, pi in pairs])
            b.append(problem.capacity[j])
        res = linprog(c, A_ub=np.array(rows), b_ub=np.array(b), bounds=(0, 1), method="highs")
        best = max(best, -res.fun)
    return best


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_exact_equals_brute_force(seed):
    problem = small_problem(seed)
    for p in (1, 2, 3):
        exact = maximal_covering(problem, p, method="exact")
        assert exact.status == "optimal" and exact.gap == 0.0
        assert exact.objective == pytest.approx(brute_mclp(problem, p))
        heur = maximal_covering(problem, p)
        assert heur.objective <= exact.objective + 1e-6 <= heur.bound + 1e-6
        med = p_median(problem, p, method="exact")
        assert med.objective == pytest.approx(brute_median(problem, p))
        assert p_median(problem, p).objective >= med.objective - 1e-6
        cap = capacitated_covering(problem, p, method="exact")
        assert cap.objective == pytest.approx(brute_capacitated(problem, p), rel=1e-6)
        assert capacitated_covering(problem, p).objective <= cap.objective + 1e-6
    reachable = problem.weights[_covered(problem, range(problem.n_candidates))].sum() / problem.total
    target = min(0.9 * reachable + 0.1 * problem.weights[problem.covered_now].sum() / problem.total, reachable)
    lscp = set_covering(problem, target, method="exact")
    assert lscp.objective == brute_lscp(problem, target) and lscp.coverage_rate >= target - 1e-9
    heur = set_covering(problem, target)
    assert heur.objective >= lscp.objective and heur.coverage_rate >= target - 1e-9
    assert heur.bound <= lscp.objective


def test_bad_requests_answer_clearly():
    problem = small_problem(7)
    with pytest.raises(AnalysisError, match="only 8 candidates"):
        maximal_covering(problem, 9)
    # Three cells; the only candidate reaches two of them: 100 % is out of reach.
    tiny = PlanningProblem(np.array([10.0, 20.0, 30.0]),
                           sparse.csr_matrix((np.array([100.0, 200.0]), (np.array([0, 0]), np.array([0, 1]))),
                                             shape=(1, 3)),
                           np.full(3, np.inf), CUTOFF, np.array(["site-1"]))
    with pytest.raises(AnalysisError, match=r"with every one of the 1 candidates open, 50.0% .*30 residents remain"):
        set_covering(tiny, 1.0)
    assert set_covering(tiny, 0.5).objective == 1
    with pytest.raises(AnalysisError, match="method must be"):
        maximal_covering(problem, 2, method="guess")
    no_cap = PlanningProblem(problem.weights, problem.distance, problem.existing_distance, CUTOFF,
                             problem.candidate_ids)
    with pytest.raises(AnalysisError, match="needs a capacity"):
        capacitated_covering(no_cap, 2)


def test_time_limit_gives_an_honest_status():
    rng = np.random.default_rng(0)
    n_cells, n_cand = 3000, 400
    rows = rng.integers(0, n_cand, 60_000)
    cols = rng.integers(0, n_cells, 60_000)
    dist = sparse.csr_matrix((rng.uniform(1, CUTOFF, 60_000), (rows, cols)), shape=(n_cand, n_cells))
    problem = PlanningProblem(rng.uniform(1, 100, n_cells), dist, np.full(n_cells, np.inf), CUTOFF,
                              np.arange(n_cand))
    result = maximal_covering(problem, 25, method="exact", time_limit=0.5)
    assert result.status in ("optimal", "feasible")
    if result.status == "feasible":
        assert result.gap > 0 and any(m.code == "plan.stopped" and m.values["gap"] > 0 for m in result.messages)


def test_marginal_curve_flattens_and_stays_under_its_bound():
    problem = small_problem(5, n_cells=60, n_cand=12)
    curve = marginal_curve(problem, 6)
    added = [r["added_by_this_site"] for r in curve]
    assert added == sorted(added, reverse=True)  # greedy gains never grow
    for row in curve:
        assert row["bound"] >= row["newly_covered"] - 1e-9
        exact = maximal_covering(problem, row["sites"], method="exact").objective
        assert row["newly_covered"] <= exact + 1e-6 <= row["bound"] + 1e-6
