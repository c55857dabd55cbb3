"""Values of mixed kinds (a scenario comparison's rows) as text in the page's language."""

from __future__ import annotations

import math

from geo.errors import AnalysisError
from geo.facilities import TimeSlot
from i18n import t
from i18n.values import site_name, slot_text


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_measure(kind: str, value: object, lang: str) -> str:
    """``value`` read as ``kind`` ("count", "percent", "metres", "list", "sites", "problem", "method", "status",
    "slot")."""
    if kind == "slot":
        if _missing(value) or value == "":
            return t("any_time", lang)
        try:
            return slot_text(TimeSlot.parse(str(value)), lang)
        except AnalysisError:
            return str(value)
    if _missing(value):
        return "—"
    if kind == "count":
        return f"{float(value):,.0f}"
    if kind == "percent":
        return f"{float(value):.1%}"
    if kind == "metres":
        return f"{float(value):,.0f} m"
    if kind == "list":
        items = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
        return ("、" if lang != "en" else ", ").join(items)
    if kind == "sites":  # (name or None, site kind, candidate id): unnamed sites by their kind and number
        return ("、" if lang != "en" else ", ").join(site_name(name, site_kind, cid, lang)
                                                     for name, site_kind, cid in value)
    if kind in ("problem", "method", "status"):
        key = {"problem": "problem_", "method": "method_", "status": "status_"}[kind] + \
            str(value).lower().replace("-", "").replace(" ", "_")
        shown = t(key, lang)
        return shown if shown != key else str(value)
    return str(value)


def format_change(kind: str, before: object, after: object, lang: str) -> str:
    """What changes from ``before`` to ``after`` (two scenarios' values of one ``kind``): a signed count, a
    difference in percentage points, the sites added and dropped; ``—`` where nothing is to compare."""
    if kind == "sites":
        was, now = list(before or []), list(after or [])
        ids_was, ids_now = {s[2] for s in was}, {s[2] for s in now}
        added = [site_name(*s, lang) for s in now if s[2] not in ids_was]
        dropped = [site_name(*s, lang) for s in was if s[2] not in ids_now]
        sep = ", " if lang == "en" else "、"
        parts = ([f"+ {sep.join(added)}"] if added else []) + ([f"− {sep.join(dropped)}"] if dropped else [])
        return ("; " if lang == "en" else "；").join(parts) or t("no_change", lang)
    if _missing(before) or _missing(after) or kind not in ("count", "percent"):
        return "—"
    if kind == "count":
        return f"{float(after) - float(before):+,.0f}"
    return t("points_change", lang, pp=f"{(float(after) - float(before)) * 100:+.1f}")


def indicator_label(code: str, lang: str) -> str:
    """An evaluation indicator's name (``service_coverage_1000m`` → ``1000 米服务覆盖率``)."""
    if code.startswith("service_coverage_") and code.endswith("m"):
        return t("ind_service_coverage", lang, m=code[len("service_coverage_"):-1])
    shown = t(f"ind_{code}", lang)
    return shown if shown != f"ind_{code}" else code


def indicator_value(code: str, value: object, lang: str) -> str:
    """An indicator's value (or target) as it reads: shares in percent, area in m², hours, scores."""
    if _missing(value):
        return "—"
    v = float(value)
    if code == "m2_per_resident":
        return f"{v:.2f} m²"
    if code == "weekly_open_hours":
        return t("hours_a_week", lang, h=f"{v:.1f}")
    if code == "satisfaction":
        return f"{v:.1f}"
    return f"{v:.1%}"


_GEOMETRIES = {"Point": ("点", "point"), "MultiPoint": ("多点", "multipoint"), "LineString": ("线", "line"),
               "MultiLineString": ("多线", "multiline"), "Polygon": ("面", "polygon"),
               "MultiPolygon": ("多面", "multipolygon")}


def geometry_label(name: str, lang: str) -> str:
    """A geometry type as a person names it (``Polygon`` → ``面``)."""
    pair = _GEOMETRIES.get(name)
    return name if pair is None else pair[lang == "en"]


__all__ = ["format_measure", "indicator_label", "indicator_value", "geometry_label"]
