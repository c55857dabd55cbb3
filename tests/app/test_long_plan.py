"""A long analysis by one person does not stall the others: HiGHS lets go of the interpreter while it branches, so
while one session's exact plan runs, another session's page runs to its end (a solver holding the interpreter would
keep that page waiting until the plan stopped). No timing is asserted, only which ended first."""

from __future__ import annotations

import threading
import time

import numpy as np
from scipy import sparse
from streamlit.testing.v1 import AppTest

from geo.planning import PlanningProblem, solve
from tests.app.test_pages import APP, on_demo  # noqa: F401 (the fixture)

#: The plan's time limit (s): five times a page's run here (about 4 s), and the problem below is not solved to optimality
#: within it on this machine kind (HiGHS stops at the limit with a feasible plan).
LIMIT = 20.0


def _hard_problem(n_candidates: int = 1500, n_cells: int = 12_000, reach: int = 60) -> PlanningProblem:
    """A covering problem with overlapping random catchments: many near-equal plans to branch between."""
    rng = np.random.default_rng(7)
    cols = np.concatenate([rng.choice(n_cells, reach, replace=False) for _ in range(n_candidates)])
    rows = np.repeat(np.arange(n_candidates), reach)
    distance = sparse.csr_matrix((rng.uniform(50.0, 950.0, len(cols)), (rows, cols)), shape=(n_candidates, n_cells))
    return PlanningProblem(weights=rng.integers(1, 200, n_cells).astype(float), distance=distance,
                           existing_distance=np.full(n_cells, np.inf), cutoff=1000.0,
                           candidate_ids=np.array([f"c{k}" for k in range(n_candidates)]))


def test_a_page_runs_to_its_end_while_an_exact_plan_runs(on_demo):  # noqa: F811
    problem = _hard_problem()
    branching = threading.Event()
    ended: dict[str, float] = {}
    plans: list = []

    def plan() -> None:
        plans.append(solve(problem, "mclp", p=60, method="exact", time_limit=LIMIT,
                           progress=lambda fraction, note: branching.set()))
        ended["plan"] = time.monotonic()

    worker = threading.Thread(target=plan, daemon=True)
    worker.start()
    assert branching.wait(LIMIT), "the exact plan did not start"
    at = AppTest.from_file(APP, default_timeout=LIMIT).run()
    at.switch_page("views/coverage_page.py").run()
    ended["page"] = time.monotonic()
    worker.join(LIMIT + 30)
    assert not at.exception and at.metric  # the other person's page, with its figures
    assert ended["page"] < ended["plan"], "the page waited for the plan"
    assert plans and len(plans[0].sites) == 60  # the plan itself still came (stopped at its limit)
