"""The one place where stored values become HTML on a map.

Folium's pop-ups and tooltips, Leaflet's ``bindTooltip`` and the marker cluster's rows all
put text into ``innerHTML``, and folium writes tooltip text into a JavaScript template
literal.  Every value that a map shows passes through :func:`html_text` first, so a venue
named ``<img src=x onerror=…>`` shows those characters and runs nothing; the characters
that matter inside a template literal (a backtick, ``$``, a backslash) are written as HTML
character references, which display as themselves.  (The pages' charts are SVG written by
matplotlib, whose writer escapes every text it places: ``ui/charts.py``.)
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

_JS_TEMPLATE = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def html_text(value: object) -> str:
    """``value`` as text that is safe in HTML and in a JavaScript template literal ("" for missing)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        value = "是" if value else "否"
    return html.escape(str(value), quote=True).translate(_JS_TEMPLATE)


def html_column(values: pd.Series) -> pd.Series:
    """:func:`html_text` of every value of a column."""
    return values.map(html_text).astype(object)


__all__ = ["html_text", "html_column"]
