"""A need group's protected table per unit as a file: CSV or XLSX (suppressed cells read "已隐去"/"suppressed"),
GeoPackage, GeoJSON or a zipped Shapefile (suppressed counts are empty and a column says so).

Only the protected table (:func:`geo.need_tables.need_table`) is ever written: no file holds a
count below k or a rate whose numerator was blanked.
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

#: Table column → string key of its title (in the file's language).
_TITLES = {"outreach_rank": "outreach_rank_short", "code": "unit_code", "name": None,
           "residents": "residents", "need": "need_people_short", "need_rate": "need_share_of_residents",
           "covered": None, "uncovered": "need_uncovered", "rate": "need_rate"}
TABLE_SUFFIXES = (".csv", ".xlsx")
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".zip")


def need_frame(table: NeedTable, lang: str, *, marks: bool) -> gpd.GeoDataFrame:
    """The protected table with titled columns, in EPSG:4326, ordered by outreach rank; with ``marks`` the
    suppressed cells hold the word "suppressed" (for spreadsheets), else they are empty and the
    suppressed column says which rows were touched (for GIS files, whose columns keep one type). A unit the
    aggregates hold no count for reads "not reported" (or is empty), not 0: its group is unknown."""
    shown = table.shown.assign(geometry=table.assign.units["geometry"].to_numpy())
    shown["suppressed"] = table.hidden.to_numpy()
    shown["reported"] = table.reported.to_numpy()
    shown = shown.sort_values(["outreach_rank", "code"], na_position="last")
    word, unknown = t("need_suppressed", lang), t("need_not_reported", lang)
    titles = {}
    for col, key in _TITLES.items():
        titles[col] = (t(f"level_{table.level}", lang) if col == "name" else
                       t("need_covered_matched", lang) if col == "covered" and table.basis == "matched" else
                       t("need_covered_short", lang) if col == "covered" else t(key, lang))
    out = pd.DataFrame({titles[c]: shown[c].to_numpy() for c in _TITLES})
    known = shown["reported"].to_numpy()
    out[titles["residents"]] = pd.to_numeric(shown["residents"], errors="coerce").round().to_numpy()
    for col, digits in [(c, 0) for c in COUNT_COLUMNS] + [("rate", 4), ("need_rate", 4)]:
        values = pd.to_numeric(shown[col], errors="coerce").round(digits).where(known, np.nan)
        if marks:
            out[titles[col]] = [unknown if not ok else word if pd.isna(v) else f"{v:.0f}" if not digits else v
                                for v, ok in zip(values, known)]
        else:
            out[titles[col]] = values.to_numpy()
    out[titles["outreach_rank"]] = pd.array(shown["outreach_rank"].to_numpy(), dtype="Int64")
    out[t("need_suppressed_column", lang, k=table.k)] = [t("answer_yes" if h else "answer_no", lang)
                                                         for h in shown["suppressed"]]
    frame = gpd.GeoDataFrame(out, geometry=shown["geometry"].to_numpy(), crs=table.crs)
    return frame.to_crs(4326)


def write_need(table: NeedTable, path: str | os.PathLike[str], lang: str) -> Path:
    """The protected need table as ``path`` (its suffix picks the format).

    Raises
    ------
    AnalysisError
        An extension that is neither a table nor a vector format.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    name = f"{t('need_file', lang)}-{table.group.name}"
    if suffix in TABLE_SUFFIXES:
        frame = need_frame(table, lang, marks=True)
        return write_tables({name: pd.DataFrame(frame.drop(columns="geometry"))}, target)
    if suffix in VECTOR_SUFFIXES:
        return write_vectors({table.group.name: need_frame(table, lang, marks=False)}, target)
    raise AnalysisError.coded("need.file_format", file=target.name,
                              formats=", ".join(TABLE_SUFFIXES + VECTOR_SUFFIXES))


__all__ = ["need_frame", "write_need", "TABLE_SUFFIXES", "VECTOR_SUFFIXES"]
