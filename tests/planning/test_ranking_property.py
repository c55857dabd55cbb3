"""Property: for any planning problem, the ranking's build order and gains are a plain greedy's, ties to the lower
index; ``alone`` is each candidate's own newly covered residents; every candidate has one place."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geo.planning import PlanningProblem
from geo.ranking import rank_candidates
from tests.planning.test_city_planning import _greedy_by_hand

CUTOFF = 1000.0


@st.composite
def problems(draw) -> PlanningProblem:
    n_cand = draw(st.integers(1, 12))
    n_cells = draw(st.integers(1, 30))
    reach = np.array(draw(st.lists(st.booleans(), min_size=n_cand * n_cells, max_size=n_cand * n_cells)))
    dist = np.where(reach.reshape(n_cand, n_cells), draw(st.sampled_from([10.0, 500.0, 999.0])), 0.0)
    weights = np.array(draw(st.lists(st.integers(0, 5), min_size=n_cells, max_size=n_cells)), dtype=float)
    existing = np.array(draw(st.lists(st.sampled_from([100.0, np.inf]), min_size=n_cells, max_size=n_cells)))
    return PlanningProblem(weights=weights, distance=sparse.csr_matrix(dist), existing_distance=existing,
                           cutoff=CUTOFF, candidate_ids=np.array([f"c{j}" for j in range(n_cand)]))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(problems())
def test_the_ranking_is_a_greedy_by_hand(problem):
    ranking = rank_candidates(problem)
    by_hand = _greedy_by_hand(problem)
    assert [int(j) for j in ranking.order[:len(by_hand)]] == [j for j, _ in by_hand]
    assert np.allclose(ranking.marginal[[j for j, _ in by_hand]], [g for _, g in by_hand])
    assert (ranking.marginal[ranking.order[len(by_hand):]] == 0).all()
    a = problem.cover_matrix().toarray() > 0
    assert np.allclose(ranking.alone, a @ np.where(problem.covered_now, 0.0, problem.weights))
    assert sorted(ranking.position) == list(range(1, problem.n_candidates + 1))
    assert all(ranking.position[j] == k + 1 for k, j in enumerate(ranking.order))
