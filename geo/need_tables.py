"""A need group's table per unit as every output shows it: computed once (:func:`need_table`), with its counts
below k suppressed and complementary cells blanked (:func:`protected`), so the coverage page, the export
files, the district report and the command line show the same protected figures.

Suppression, not rounding: see :mod:`layers.health` for why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.coverage import CoverageResult
from geo.errors import AnalysisError
from geo.need import (
    Clause,
    NeedGroup,
    level_of_codes,
    matched_coverage,
    need_by_unit,
    need_weights,
    parent_codes,
    small_cells,
)
from geo.units import UnitAssignment, assign_units

#: Counts a need table shows; each is suppressed below k (with complementary cells).
COUNT_COLUMNS = ["need", "covered", "uncovered"]


def protected(table: pd.DataFrame, parents: pd.Series | None = None, *, k: int) -> tuple[pd.DataFrame, pd.Series]:
    """The need table as it may be shown: counts below ``k`` blanked with complementary cells (in the column,
    inside each parent unit, whose rate the indicators show, and along the row, where need = covered +
    uncovered), the rates whose numerator was blanked blanked too, and the outreach rank counted over the
    shown units only (a gap in the ranks would place a blanked unit); with a per-row flag of what was
    suppressed."""
    mask = small_cells(table, COUNT_COLUMNS, k, within=parents, row_sum=True)
    out = table.copy()
    for col in COUNT_COLUMNS:
        out[col] = pd.to_numeric(out[col], errors="coerce").where(~mask[col], np.nan)
    hidden = mask.any(axis=1)
    out.loc[hidden, "rate"] = np.nan
    out.loc[mask["need"], "need_rate"] = np.nan
    if "outreach_rank" in out:
        order = out[~hidden & (pd.to_numeric(out["need"], errors="coerce") > 0)].sort_values(
            ["uncovered", "code"], ascending=[False, True]).index
        out["outreach_rank"] = pd.Series(np.arange(1, len(order) + 1), index=order).reindex(out.index).astype(
            "Int64")
    return out, pd.Series(hidden.to_numpy(), index=out.index)


@dataclass
class NeedTable:
    """One need group's protected table per unit, with what it was computed from."""

    group: NeedGroup
    period: str | None
    level: str
    basis: str  # "matched" (the group's facilities) or "layer" (a layer within a threshold)
    assign: UnitAssignment
    shown: pd.DataFrame
    hidden: pd.Series
    k: int
    need_total: float  # the group's people placed in the grid (shown only when not below k)
    covered_total: float
    reported: pd.Series  # per row: whether the aggregates hold a count for the unit (else it is unknown, not 0)
    crs: object = None  # of the units' geometry (the demand grid's)

    def frame(self) -> gpd.GeoDataFrame:
        """The protected table with each unit's boundary (in the demand's CRS)."""
        return gpd.GeoDataFrame(self.shown.assign(geometry=self.assign.units["geometry"].to_numpy()),
                                geometry="geometry", crs=self.crs)


def need_table(result: CoverageResult, boundaries: gpd.GeoDataFrame, code: str, counts: Mapping[str, float], *,
               k: int, period: str | None = None, engine=None, layers: Mapping[str, pd.DataFrame] | None = None,
               clauses: tuple[Clause, ...] | None = None, covered_cells: np.ndarray | None = None,
               layer: str | None = None, threshold: float | None = None) -> NeedTable:
    """The need group ``code`` (unit code → people) per unit of the level it was reported at, covered by the
    group's facilities (``clauses`` searched with ``engine`` over ``layers``, or ``covered_cells`` already
    searched) or by ``layer`` within ``threshold``; protected at ``k``.

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
    shown, hidden = protected(table, parent_codes(boundaries, table["code"]), k=k)
    reported = table["code"].astype(str).isin({str(c) for c in counts}).reset_index(drop=True)
    return NeedTable(group, period, level, basis, assign, shown, hidden, k, float(table["need"].sum()),
                     float(table["covered"].sum()), reported, result.demand.crs)


__all__ = ["COUNT_COLUMNS", "NeedTable", "need_table", "protected"]
