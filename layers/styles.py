"""How each layer (and each drawn analysis result) looks, and what a legend calls it: one table for the web
maps (:mod:`webmap.folium_map`) and the print maps (:mod:`exports.print_map`).

Layer names in the legend come from the catalogue (one label per layer, in Chinese and English); things an
analysis draws (gaps, new sites …) carry their own labels here.  The order of :data:`STYLES` is the drawing
order, lowest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from layers.catalogue import CATALOGUE, LAND_USES

Kind = Literal["fill", "area", "line", "outline", "point"]


@dataclass(frozen=True)
class Style:
    """One drawn thing: colour and kind; point radius or line width on the web map; size and alpha on paper."""

    color: str
    kind: Kind
    web_size: float = 6.0
    print_size: float = 18.0
    alpha: float = 1.0
    fill: bool = True
    closed_color: str | None = None
    fill_color: str | None = None
    label_zh: str | None = None
    label_en: str | None = None


STYLES: dict[str, Style] = {
    "land_use": Style("#eeeeee", "fill", alpha=0.8),
    "coverage": Style("#1a9641", "area", alpha=0.6, label_zh="已覆盖（步行范围内有设施）",
                      label_en="Covered (a facility within the walk)"),
    "gaps": Style("#e31a1c", "area", alpha=0.35, label_zh="覆盖缺口（按未覆盖人口排序）",
                  label_en="Gap areas (ranked by residents not covered)"),
    "service_areas": Style("#1f78b4", "area", alpha=0.2, label_zh="服务范围", label_en="Service areas"),
    "walk_network": Style("#9a9a9a", "line", web_size=1, print_size=0.4),
    "boundaries": Style("#6a3d9a", "outline", web_size=2, print_size=1.2, fill=False),
    "greenways": Style("#1b9e3a", "line", web_size=5, print_size=2.5),
    "greenway_entrances": Style("#0b6b25", "point", web_size=4, print_size=10, fill_color="#ffffff"),
    "candidate_sites": Style("#7b3294", "point", web_size=4, print_size=10),
    "metro_stations": Style("#222222", "point", web_size=6, print_size=12),
    "health_stations": Style("#f28e2b", "point"),
    "aeds": Style("#1b9e3a", "point", web_size=5, print_size=14, fill_color="#ffffff"),
    "hospitals": Style("#b2182b", "point", web_size=9, print_size=30),
    "school_facilities": Style("#1f5fbf", "point", closed_color="#9ec3f0"),
    "venues": Style("#d62728", "point"),
    "new_sites": Style("#7b3294", "point", web_size=9, print_size=180, label_zh="规划新增场地",
                       label_en="Planned new sites"),
}
LAND_USE_COLORS: dict[str, str] = {
    "residential": "#f4ead8", "park": "#c7e9b4", "water": "#a6cee3", "commercial": "#f6cccc",
    "industrial": "#dddddd", "education": "#e5d8f2", "green": "#d9f0c9", "vacant": "#f7f5e1", "other": "#eeeeee"}
assert set(LAND_USE_COLORS) >= set(LAND_USES)
#: Boundary levels as a legend names them.
BOUNDARY_LABELS: dict[str, tuple[str, str]] = {
    "district": ("区界", "District boundaries"), "street": ("街道边界", "Street boundaries"),
    "community": ("社区边界", "Community boundaries")}


#: Boundary levels inside a sentence.
LEVEL_WORDS: dict[str, tuple[str, str]] = {"district": ("区", "district"), "street": ("街道", "street"),
                                           "community": ("社区", "community")}


def style_label(name: str, lang: str = "zh", *, levels: tuple[str, ...] = ()) -> str:
    """What the legend calls ``name`` in ``lang``; boundaries are named by the levels drawn."""
    en = lang == "en"
    if name == "boundaries" and levels:
        known = [lv for lv in levels if lv in BOUNDARY_LABELS]
        if len(known) == 1:
            return BOUNDARY_LABELS[known[0]][en]
        if known:  # several levels drawn: one entry naming them
            words = [LEVEL_WORDS[lv][en] for lv in known]
            return f"Boundaries ({', '.join(words)})" if en else f"行政边界（{'、'.join(words)}）"
    style = STYLES.get(name)
    if style is not None and style.label_zh:
        return style.label_en if en else style.label_zh
    spec = CATALOGUE.get(name)
    if spec is not None:
        return spec.label_en if en else spec.label_zh
    return name


__all__ = ["Style", "STYLES", "LAND_USE_COLORS", "BOUNDARY_LABELS", "style_label"]
