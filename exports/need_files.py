"""A need group's published table per unit as a file: CSV or XLSX, GeoPackage, GeoJSON or a zipped Shapefile.

Only the published table (:func:`geo.need_tables.need_table`: modelled estimates, people to the nearest ten
and shares to whole percent, :mod:`geo.disclosure`) is ever written; the column titles say they are estimates.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from exports.files import write_tables, write_vectors
from geo.errors import AnalysisError
from geo.need_tables import COUNT_COLUMNS, NeedTable
from i18n import t
from i18n.names import place_name

#: Table column → string key of its title (in the file's language).
_TITLES = {"outreach_rank": "outreach_rank_short", "code": "unit_code", "name": None,
           "residents": "residents", "need": "need_people_short", "need_rate": "need_share_of_residents",
           "covered": None, "uncovered": "need_uncovered", "rate": "need_rate"}
TABLE_SUFFIXES = (".csv", ".xlsx")
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".zip")


def need_frame(table: NeedTable, lang: str) -> gpd.GeoDataFrame:
    """The published table with titled columns, in EPSG:4326, ordered by outreach rank. A unit the aggregates
    hold no count for has empty figures (its group is unknown, not 0), and a column says whether it was
    reported."""
    shown = table.shown.assign(geometry=table.assign.units["geometry"].to_numpy())
    shown["reported"] = table.reported.to_numpy()
    shown = shown.sort_values(["outreach_rank", "code"], na_position="last")
    titles = {}
    for col, key in _TITLES.items():
        titles[col] = (t(f"level_{table.level}", lang) if col == "name" else
                       t("need_covered_matched", lang) if col == "covered" and table.basis == "matched" else
                       t("need_covered_short", lang) if col == "covered" else t(key, lang))
    out = pd.DataFrame({titles[c]: shown[c].to_numpy() for c in _TITLES})
    out[titles["name"]] = [place_name(n, lang) for n in shown["name"]]
    known = shown["reported"].to_numpy()
    for col in COUNT_COLUMNS + ["residents", "rate", "need_rate"]:
        out[titles[col]] = pd.to_numeric(shown[col], errors="coerce").where(known, np.nan).to_numpy()
    out[titles["outreach_rank"]] = pd.array(shown["outreach_rank"].to_numpy(), dtype="Int64")
    out[t("need_reported_column", lang)] = [t("answer_yes" if ok else "answer_no", lang) for ok in known]
    frame = gpd.GeoDataFrame(out, geometry=shown["geometry"].to_numpy(), crs=table.crs)
    return frame.to_crs(4326)


def write_need(table: NeedTable, path: str | os.PathLike[str], lang: str) -> Path:
    """The published need table as ``path`` (its suffix picks the format).

    Raises
    ------
    AnalysisError
        An extension that is neither a table nor a vector format.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    name = f"{t('need_file', lang)}-{table.group.name}"
    if suffix in TABLE_SUFFIXES:
        frame = need_frame(table, lang)
        return write_tables({name: pd.DataFrame(frame.drop(columns="geometry"))}, target)
    if suffix in VECTOR_SUFFIXES:
        return write_vectors({table.group.name: need_frame(table, lang)}, target)
    raise AnalysisError.coded("need.file_format", file=target.name,
                              formats=", ".join(TABLE_SUFFIXES + VECTOR_SUFFIXES))


__all__ = ["need_frame", "write_need", "TABLE_SUFFIXES", "VECTOR_SUFFIXES"]
