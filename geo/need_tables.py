"""A need group's table per unit as every output shows it: computed once (:func:`need_table`) and published
as modelled estimates (:func:`published`: people to the nearest ten, shares to whole percent, the word
估算/estimate beside them), so the coverage page, the export files, the district report and the command
line show the same figures and none shows what another hides.

The rule (:mod:`geo.disclosure`): these are estimates, not counts of anyone; the counts of real people — the
deliveries and what arithmetic on them gives — are protected at the door (import and database).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.coverage import CoverageResult
from geo.disclosure import estimate_people, estimate_share, published_people, published_shares
from geo.errors import AnalysisError
from geo.need import (
    Clause,
    NeedGroup,
    level_of_codes,
    matched_coverage,
    need_by_unit,
    need_weights,
)
from geo.units import UnitAssignment, assign_units

#: Modelled numbers of people a need table shows (published rounded).
COUNT_COLUMNS = ["need", "covered", "uncovered"]


def published(table: pd.DataFrame) -> pd.DataFrame:
    """The need table as it is published: every modelled number of people rounded to
    :data:`geo.disclosure.ESTIMATE_BASE`, every share to :data:`geo.disclosure.SHARE_STEP`; the outreach order
    from the unrounded estimates (the order, not the values, is what it gives)."""
    out = table.copy()
    for col in COUNT_COLUMNS + ["residents"]:
        if col in out:
            out[col] = published_people(out[col])
    for col in ("rate", "need_rate"):
        if col in out:
            out[col] = published_shares(out[col])
    return out


@dataclass
class NeedTable:
    """One need group's published table per unit, with what it was computed from."""

    group: NeedGroup
    period: str | None
    level: str
    basis: str  # "matched" (the group's facilities) or "layer" (a layer within a threshold)
    assign: UnitAssignment
    shown: pd.DataFrame
    need_total: float  # the group's people placed in the grid, published rounded
    covered_total: float  # those within reach, published rounded
    rate_total: float  # their share, published
    reported: pd.Series  # per row: whether the aggregates hold a count for the unit (else it is unknown, not 0)
    crs: object = None  # of the units' geometry (the demand grid's)

    def frame(self) -> gpd.GeoDataFrame:
        """The published table with each unit's boundary (in the demand's CRS)."""
        return gpd.GeoDataFrame(self.shown.assign(geometry=self.assign.units["geometry"].to_numpy()),
                                geometry="geometry", crs=self.crs)


def need_table(result: CoverageResult, boundaries: gpd.GeoDataFrame, code: str, counts: Mapping[str, float], *,
               period: str | None = None, engine=None, layers: Mapping[str, pd.DataFrame] | None = None,
               clauses: tuple[Clause, ...] | None = None, covered_cells: np.ndarray | None = None,
               layer: str | None = None, threshold: float | None = None) -> NeedTable:
    """The need group ``code`` (unit code → people) per unit of the level it was reported at, covered by the
    group's facilities (``clauses`` searched with ``engine`` over ``layers``, or ``covered_cells`` already
    searched) or by ``layer`` within ``threshold``; published as estimates (:func:`published`).

    Raises
    ------
    AnalysisError
        When the counts' unit codes match no boundary.
    ValueError
        When no coverage basis is given (a programming error).
    """
    level = level_of_codes(boundaries, counts)
    if level is None:
        raise AnalysisError.coded("need.no_units", group=code)
    assign = assign_units(result.demand, boundaries, level=level)
    group = need_weights(code, counts, result.demand, assign)
    if covered_cells is None and clauses is not None:
        if engine is None or layers is None:
            raise ValueError("a matching needs the engine and the facility layers to search")
        covered_cells = matched_coverage(engine, layers, clauses)
    if covered_cells is not None:
        table, basis = need_by_unit(result, group, assign, covered_cells=covered_cells), "matched"
    elif layer is not None and threshold is not None:
        table, basis = need_by_unit(result, group, assign, layer=layer, threshold=threshold), "layer"
    else:
        raise ValueError("a need table needs the group's facilities or a layer and a walk")
    reported = table["code"].astype(str).isin({str(c) for c in counts}).reset_index(drop=True)
    need, covered = float(table["need"].sum()), float(table["covered"].sum())
    return NeedTable(group, period, level, basis, assign, published(table), estimate_people(need),
                     estimate_people(covered), estimate_share(covered / need) if need > 0 else float("nan"),
                     reported, result.demand.crs)


__all__ = ["COUNT_COLUMNS", "NeedTable", "need_table", "published"]
