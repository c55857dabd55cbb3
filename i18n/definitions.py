"""The definitions of :mod:`geo.definitions` said in each language: every label of a life circle, a walk's minutes,
a coverage figure and a gap is made here from the parameters of the run it describes."""

from __future__ import annotations

from geo.definitions import CoverageMeasure, circle_of, minutes_for

_MEASURES = {"all": ("全部健身设施", "all fitness facilities"), "venues": ("体育场馆", "sports venues"),
             "greenways": ("绿道", "greenways"), "school_facilities": ("开放的学校体育设施", "open school facilities"),
             "health_stations": ("健康驿站", "health stations")}


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"


def minutes_text(metres: float, lang: str = "zh") -> str:
    """The minutes of a walk of ``metres``: ``10 分钟`` / ``10 min`` (whole minutes on the life circles)."""
    m = minutes_for(metres)
    shown = f"{m:.0f}" if abs(m - round(m)) < 0.05 else f"{m:.1f}"
    return f"{shown} min" if lang == "en" else f"{shown} 分钟"


def distance_text(metres: float, lang: str = "zh") -> str:
    """``500 米`` / ``500 m``."""
    return f"{_number(metres)} m" if lang == "en" else f"{_number(metres)} 米"


def circle_label(metres: float, lang: str = "zh") -> str:
    """A distance as the pages show it: ``10分钟（500米）`` / ``10 minutes (500 m)`` for a life circle, else
    ``700 米（约 12 分钟）`` / ``700 m (about 12 min)``."""
    circle = circle_of(metres)
    if circle is not None:
        if lang == "en":
            return f"{circle.minutes} minutes ({_number(metres)} m)"
        return f"{circle.minutes}分钟（{_number(metres)}米）"
    if lang == "en":
        return f"{_number(metres)} m (about {minutes_text(metres, 'en')})"
    return f"{_number(metres)} 米（约 {minutes_text(metres, 'zh')}）"


def measure_label(measure: CoverageMeasure | str, lang: str = "zh") -> str:
    """What a coverage figure counts: ``全部健身设施`` / ``all fitness facilities``, ``体育场馆`` …"""
    key = measure.key if isinstance(measure, CoverageMeasure) else str(measure)
    zh, en = _MEASURES.get(key, (key, key))
    return en if lang == "en" else zh


def coverage_label(measure: CoverageMeasure | str, metres: float, lang: str = "zh") -> str:
    """A coverage figure's label: ``全部健身设施 10分钟（500米）覆盖率`` / ``Coverage by all fitness facilities,
    10 minutes (500 m)``."""
    if lang == "en":
        return f"Coverage by {measure_label(measure, 'en')}, {circle_label(metres, 'en')}"
    return f"{measure_label(measure, 'zh')} {circle_label(metres, 'zh')}覆盖率"


def figure_label(layer: str, metres: float, lang: str = "zh") -> str:
    """The label of a coverage result's figure for ``layer`` (``any``: every facility layer) at ``metres``."""
    from geo.definitions import measure_of_layer

    return coverage_label(measure_of_layer(layer), metres, lang)


def share_text(rate: float) -> str:
    """A share as every surface prints it: one decimal of a percent (``47.7%``), ``—`` when there is none."""
    import math

    return "—" if rate is None or (isinstance(rate, float) and math.isnan(rate)) else f"{rate:.1%}"


def labelled_summary(summary, lang: str = "zh"):
    """A coverage result's summary with each row's label (``figure``) and minutes by the definitions."""
    out = summary.copy()
    out.insert(0, "figure", [figure_label(layer, th, lang) for layer, th in zip(out["layer"], out["threshold_m"])])
    return out


def gap_label(metres: float, lang: str = "zh") -> str:
    """What a gap is, for a table's title: ``10分钟（500米）覆盖缺口（按街道、约 1 平方公里切分）``."""
    from geo.definitions import GAP_LEVEL, GAP_PIECE_KM2

    level = {"street": ("街道", "street"), "community": ("社区", "community"), "district": ("区", "district")}
    zh, en = level.get(GAP_LEVEL, (GAP_LEVEL, GAP_LEVEL))
    if lang == "en":
        return f"Gaps beyond {circle_label(metres, 'en')} (cut by {en} and into about {GAP_PIECE_KM2:g} km² pieces)"
    return f"{circle_label(metres, 'zh')}覆盖缺口（按{zh}、约 {GAP_PIECE_KM2:g} 平方公里切分）"


__all__ = ["minutes_text", "distance_text", "circle_label", "measure_label", "coverage_label", "gap_label",
           "figure_label", "share_text", "labelled_summary"]
