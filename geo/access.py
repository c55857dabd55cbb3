"""Supply–demand accessibility: the two-step floating catchment area family (2SFCA).

Step 1, for each facility j: the supply-to-demand ratio of its catchment,
``R_j = S_j / Σ_k P_k W(d_kj)`` over demand cells k within the catchment.
Step 2, for each demand cell i: ``A_i = Σ_j R_j W(d_ij)`` over the facilities whose
catchment holds i.  With ``W = 1`` inside ``d0`` this is the 2SFCA of Luo & Wang (2003);
with stepped weights per distance zone it is the enhanced 2SFCA (E2SFCA) of Luo & Qi
(2009), whose published weights 1.00 / 0.68 / 0.22 are :data:`E2SFCA_LUO_QI_WEIGHTS`; a
continuous Gaussian decay (Dai 2010) is :func:`gaussian_weight`.

Distances come from a :class:`~geo.reach.Catchments` matrix (network walking distance),
so the catchments follow the streets.  ``A_i`` is supply per resident (e.g. m² of sports
area per resident, or places per resident when supply is capacity).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from geo.errors import AnalysisError
from geo.reach import Catchments

#: Zone weights 1.00 / 0.68 / 0.22 used by Luo & Qi (2009) for three travel-time zones.
E2SFCA_LUO_QI_WEIGHTS: tuple[float, float, float] = (1.0, 0.68, 0.22)


def step_weight(zone_edges: Sequence[float], weights: Sequence[float]) -> Callable[[np.ndarray], np.ndarray]:
    """Stepped decay: ``weights[k]`` for distances in ``(zone_edges[k-1], zone_edges[k]]``.

    ``zone_edges`` are increasing upper bounds (the first zone starts at 0); beyond the
    last the weight is 0.
    """
    edges = np.asarray(zone_edges, dtype=float)
    w = np.asarray(weights, dtype=float)
    if len(edges) != len(w) or len(edges) == 0 or np.any(np.diff(edges) <= 0) or np.any(w < 0):
        raise AnalysisError("Stepped weights need one non-negative weight per zone and increasing zone edges; "
                            f"got edges {list(edges)} and weights {list(w)}.")

    def weight(d: np.ndarray) -> np.ndarray:
        k = np.searchsorted(edges, d, side="left")
        return np.where(k < len(w), w[np.minimum(k, len(w) - 1)], 0.0)

    return weight


def gaussian_weight(d0: float) -> Callable[[np.ndarray], np.ndarray]:
    """Dai (2010) Gaussian decay: 1 at distance 0, 0 at ``d0``, bell-shaped between."""
    if d0 <= 0:
        raise AnalysisError(f"The catchment size d0 must be positive, not {d0}.")
    floor = np.exp(-0.5)

    def weight(d: np.ndarray) -> np.ndarray:
        g = (np.exp(-0.5 * (np.asarray(d) / d0) ** 2) - floor) / (1.0 - floor)
        return np.where(np.asarray(d) <= d0, g, 0.0)

    return weight


@dataclass(frozen=True)
class AccessResult:
    """``ratio`` per facility (supply per weighted resident in its catchment) and
    ``access`` per demand cell (supply per resident within reach)."""

    ratio: np.ndarray
    access: np.ndarray
    catchment_demand: np.ndarray
    d0: float


def two_step_fca(catchments: Catchments | sparse.spmatrix, supply: np.ndarray, population: np.ndarray, *,
                 d0: float | None = None,
                 weight: Callable[[np.ndarray], np.ndarray] | None = None) -> AccessResult:
    """2SFCA (``weight=None``) or an enhanced 2SFCA with the given distance decay.

    Parameters
    ----------
    catchments : Catchments or sparse matrix
        Facilities × demand cells; stored entries are distances (0 is a distance).
    supply : ndarray
        Per facility: capacity, area, or another measure of what it offers.
    population : ndarray
        Residents per demand cell.
    d0 : float, optional
        Catchment size; default the catchments' limit.
    weight : callable, optional
        Distance → weight in [0, 1]; default 1 inside ``d0``.

    Raises
    ------
    AnalysisError
        Shapes that do not match, negative supply or population, or ``d0`` beyond the
        distances the catchments were computed for.
    """
    matrix, d0 = _matrix_and_d0(catchments, d0)
    supply = np.asarray(supply, dtype=float)
    population = np.asarray(population, dtype=float)
    n_fac, n_dem = matrix.shape
    if supply.shape != (n_fac,) or population.shape != (n_dem,):
        raise AnalysisError(f"Shapes differ: catchments are {n_fac} facilities × {n_dem} cells, supply has "
                            f"{supply.shape[0]} values and population {population.shape[0]}.")
    ratio, demand_j = catchment_ratio(matrix, supply, population, d0=d0, weight=weight)
    access = access_from_ratio(matrix, ratio, d0=d0, weight=weight)
    return AccessResult(ratio=ratio, access=access, catchment_demand=demand_j, d0=d0)


def _matrix_and_d0(catchments: Catchments | sparse.spmatrix, d0: float | None) -> tuple[sparse.csr_matrix, float]:
    matrix = catchments.matrix if isinstance(catchments, Catchments) else sparse.csr_matrix(catchments)
    limit = catchments.limit if isinstance(catchments, Catchments) else np.inf
    d0 = limit if d0 is None else float(d0)
    if not np.isfinite(d0):
        raise AnalysisError("Give d0: the catchment matrix does not say how far it reaches.")
    if d0 > limit:
        raise AnalysisError(f"d0 = {d0:g} m is beyond the {limit:g} m the catchments were computed for.")
    return sparse.csr_matrix(matrix), d0


def _entries(matrix: sparse.csr_matrix, d0: float, weight: Callable[[np.ndarray], np.ndarray] | None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Facility, cell and weight of every pair within ``d0``, facility by facility and cell by cell in index
    order — the order the sums are taken in, so a partition holding a subset of both sums alike."""
    coo = matrix.sorted_indices().tocoo()
    inside = coo.data <= d0
    rows, cols, dist = coo.row[inside], coo.col[inside], coo.data[inside]
    w = np.ones_like(dist) if weight is None else np.asarray(weight(dist), dtype=float)
    return rows, cols, w


def catchment_ratio(catchments: Catchments | sparse.spmatrix, supply: np.ndarray, population: np.ndarray, *,
                    d0: float | None = None, weight: Callable[[np.ndarray], np.ndarray] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Step 1: each facility's supply-to-demand ratio ``R_j`` and its catchment's weighted residents."""
    matrix, d0 = _matrix_and_d0(catchments, d0)
    supply = np.asarray(supply, dtype=float)
    population = np.asarray(population, dtype=float)
    if (supply < 0).any() or not np.isfinite(supply).all():
        raise AnalysisError(f"Supply must be 0 or more for every facility; facility {int(np.argmax(~(supply >= 0)))} "
                            "has a negative or missing value.")
    if (population < 0).any():
        raise AnalysisError("Population must be 0 or more in every cell.")
    rows, cols, w = _entries(matrix, d0, weight)
    demand_j = np.bincount(rows, weights=population[cols] * w, minlength=matrix.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(demand_j > 0, supply / demand_j, 0.0)
    return ratio, demand_j


def access_from_ratio(catchments: Catchments | sparse.spmatrix, ratio: np.ndarray, *, d0: float | None = None,
                      weight: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Step 2: each cell's access ``A_i = Σ_j R_j W(d_ij)`` from the facilities' ratios (step 1)."""
    matrix, d0 = _matrix_and_d0(catchments, d0)
    rows, cols, w = _entries(matrix, d0, weight)
    return np.bincount(cols, weights=np.asarray(ratio, dtype=float)[rows] * w, minlength=matrix.shape[1])
