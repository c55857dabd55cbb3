"""The pages' tables: chosen columns, headers in the page's language, values formatted once here.

A page names the columns it shows and how each reads — a count (thousands separators, no
".0"), a share (percent), metres, minutes, a coded value shown by its label — and
:func:`show_table` renames, converts and configures them, so no page shows ``candidate_id``,
``0.4804547619047619`` or ``track_field``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from i18n.names import place_name
from i18n.values import hours_text, value_label

#: How a column reads: "text", "place" (a place's name: with its pinyin in English; a "text" column of
#: :data:`PLACE_COLUMNS` is one), "count", "percent", "bar" (a share drawn as a bar), "decimal", "metres",
#: "minutes", "km2", "datetime", "hours" (OSM opening hours), or "label:<field>" (a coded value by its label).
Kind = str


#: Text columns that hold a place's name: in English mode shown with the name's pinyin beside it.
PLACE_COLUMNS = frozenset({"name", "unit_name", "place_name", "venue_name", "street", "place", "site", "label"})


def _config(title: str, kind: Kind, lang: str = "zh") -> Any:
    cc = st.column_config
    if kind == "count":
        return cc.NumberColumn(title, format="localized")
    if kind == "percent":
        return cc.NumberColumn(title, format="percent")
    if kind == "bar":
        return cc.ProgressColumn(title, format="percent", min_value=0.0, max_value=1.0)
    if kind == "decimal":
        return cc.NumberColumn(title, format="%.2f")
    if kind == "degrees":  # longitude / latitude: about a metre
        return cc.NumberColumn(title, format="%.5f")
    if kind == "metres":
        return cc.NumberColumn(title, format="%d m")
    if kind == "minutes":
        return cc.NumberColumn(title, format="%.0f min" if lang == "en" else "%.0f 分钟")
    if kind == "km2":
        return cc.NumberColumn(title, format="%.2f km²")
    if kind == "datetime":
        return cc.DatetimeColumn(title, format="YYYY-MM-DD HH:mm")
    return cc.TextColumn(title)


def _numbers(series: pd.Series) -> pd.Series:
    """Numbers, with nothing shown for a missing or unbounded one (nothing within reach is ``inf``)."""
    got = pd.to_numeric(series, errors="coerce").astype(float)
    return got.where(np.isfinite(got))


def _values(series: pd.Series, kind: Kind, lang: str) -> pd.Series:
    if kind in ("count", "metres"):
        return _numbers(series).round().astype("Int64")
    if kind in ("percent", "bar", "decimal", "degrees", "minutes", "km2"):
        return _numbers(series)
    if kind == "datetime":
        return pd.to_datetime(series, errors="coerce", utc=True)
    if kind == "hours":
        return series.map(lambda v: hours_text(str(v), lang) if isinstance(v, str) and v else "")
    if kind.startswith("label:"):
        field = kind.split(":", 1)[1]
        return series.map(lambda v: value_label(field, v, lang)).astype(object)
    if kind == "place":
        return series.map(lambda v: place_name(v, lang)).astype(object)
    return series.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                      else str(v)).astype(object)


def prepare(frame: pd.DataFrame, columns: Mapping[str, tuple[str, Kind]], lang: str) -> tuple[pd.DataFrame, dict]:
    """``frame``'s listed columns (in that order) renamed to their titles and converted, and their column configs."""
    out = pd.DataFrame(index=frame.index)
    config = {}
    for col, (title, kind) in columns.items():
        if col not in frame.columns:
            continue
        if kind == "text" and col in PLACE_COLUMNS:
            kind = "place"
        out[title] = _values(frame[col], kind, lang)
        config[title] = _config(title, kind, lang)
    return out.reset_index(drop=True), config


def show_table(frame: pd.DataFrame, columns: Mapping[str, tuple[str, Kind]], lang: str, **kwargs: Any):
    """Show ``frame`` as :func:`prepare` makes it (``kwargs`` go to ``st.dataframe``: key, height, on_select …)."""
    shown, config = prepare(frame, columns, lang)
    return show_prepared(shown, config, lang, **kwargs)


def show_prepared(shown: pd.DataFrame, config: dict, lang: str, **kwargs: Any):
    """Show a table :func:`prepare` (or :func:`shared_table`) made."""
    if shown.empty and "on_select" not in kwargs:  # Streamlit would print "empty" in English
        from i18n import t

        st.caption(t("no_rows", lang))
        return None
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("placeholder", "—")  # a missing value, in any language
    kwargs.setdefault("width", "stretch")
    return st.dataframe(shown, column_config=config, **kwargs)


def shared_table(key: tuple, make: Callable[[], pd.DataFrame], columns: Mapping[str, tuple[str, Kind]],
                 lang: str) -> tuple[pd.DataFrame, dict]:
    """:func:`prepare` of ``make()``, made once for every session that asks with the same ``key`` — which must name
    everything the rows depend on (inputs, layer versions); the table returned is shared: read it, never change it."""
    return _shared(key, tuple(columns.items()), lang, make)


@st.cache_resource(show_spinner=False, max_entries=32)
def _shared(key: tuple, columns: tuple, lang: str, _make: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    return prepare(_make(), dict(columns), lang)


__all__ = ["prepare", "show_table", "show_prepared", "shared_table"]
