"""The legend drawn inside a web map: every drawn layer by its symbol, land-use classes, colour ramps.

A legend row is a :class:`LegendEntry` (a symbol, a colour, a label); :func:`layer_entries`
names what the map draws (points as dots, lines as strokes, boundaries as outlines, land
use by class, school facilities open or not), :func:`ramp_entry` explains an image
overlay (population per cell, covered share) by its colours and end values, and
:func:`legend_element` renders them, escaping every label here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import folium
import geopandas as gpd
from matplotlib import colormaps
from matplotlib.colors import to_hex

from i18n import t
from i18n.values import value_label
from layers.styles import LAND_USE_COLORS, STYLES, style_label
from webmap.escape import html_text

Symbol = Literal["dot", "ring", "line", "outline", "fill", "star", "ramp", "classes"]


@dataclass(frozen=True)
class LegendEntry:
    """One row of a legend: ``symbol`` in ``color``; a ramp has ``colors`` and its two end labels; "classes"
    lists ``items`` (colour, label) of one layer's classes (land use) compactly under ``label``."""

    symbol: Symbol
    color: str
    label: str
    colors: tuple[str, ...] = ()
    low: str = ""
    high: str = ""
    width: float = 2.0
    items: tuple[tuple[str, str], ...] = ()


def _levels(frame: gpd.GeoDataFrame) -> tuple[str, ...]:
    return tuple(dict.fromkeys(frame["level"].astype(str))) if "level" in frame.columns else ()


def layer_entries(frames: Mapping[str, gpd.GeoDataFrame], lang: str) -> list[LegendEntry]:
    """Legend rows of the drawn layers, the top-most first, each by the symbol the map draws it with."""
    out: list[LegendEntry] = []
    for name in reversed(list(STYLES)):
        frame = frames.get(name)
        if frame is None or frame.empty:
            continue
        style = STYLES[name]
        text = style_label(name, lang, levels=_levels(frame) if name == "boundaries" else ())
        if name == "land_use":
            codes = [c for c in LAND_USE_COLORS if "land_use" in frame.columns and (frame["land_use"] == c).any()]
            out.append(LegendEntry("classes", style.color, text,
                                   items=tuple((LAND_USE_COLORS[c], value_label("land_use", c, lang)) for c in codes)))
        elif name == "school_facilities" and style.closed_color:
            out.append(LegendEntry("dot", style.color, t("legend_of", lang, layer=text, value=t("open_yes", lang))))
            out.append(LegendEntry("dot", style.closed_color,
                                   t("legend_of", lang, layer=text, value=t("open_no", lang))))
        elif style.kind == "point":
            out.append(LegendEntry("ring" if style.fill_color else "dot", style.color, text))
        elif style.kind in ("line", "outline"):
            out.append(LegendEntry("line" if style.kind == "line" else "outline", style.color, text,
                                   width=style.web_size))
        else:
            out.append(LegendEntry("fill", style.color, text))
    return out


def ramp_entry(cmap: str, label: str, low: str, high: str, *, steps: int = 7) -> LegendEntry:
    """A colour ramp of matplotlib's ``cmap`` from ``low`` to ``high`` (their labels)."""
    colors = tuple(to_hex(colormaps[cmap](k / (steps - 1))) for k in range(steps))
    return LegendEntry("ramp", colors[-1], label, colors=colors, low=low, high=high)


def _swatch(e: LegendEntry) -> str:
    base = "display:inline-block;vertical-align:middle;margin-right:5px;"
    if e.symbol == "dot":
        return f"<span style='{base}width:10px;height:10px;border-radius:50%;background:{e.color};" \
               f"border:1px solid #fff;box-shadow:0 0 0 1px {e.color}'></span>"
    if e.symbol == "ring":
        return f"<span style='{base}width:8px;height:8px;border-radius:50%;background:#fff;" \
               f"border:2px solid {e.color}'></span>"
    if e.symbol == "star":
        return f"<span style='{base}color:{e.color};font-size:14px;line-height:10px'>★</span>"
    if e.symbol == "line":
        return f"<span style='{base}width:18px;height:{max(min(e.width, 6), 1):g}px;background:{e.color}'></span>"
    if e.symbol == "outline":
        return f"<span style='{base}width:14px;height:10px;border:2px solid {e.color}'></span>"
    if e.symbol == "fill":
        return f"<span style='{base}width:14px;height:10px;background:{e.color};border:1px solid #bbb'></span>"
    gradient = ",".join(e.colors)
    return f"<span style='{base}width:70px;height:10px;background:linear-gradient(to right,{gradient})'></span>"


def legend_html(entries: Sequence[LegendEntry], title: str) -> str:
    """The legend's HTML: every label escaped here, colours are ours."""
    rows = []
    for e in entries:
        if e.symbol == "classes":
            cells = "".join(f"<span style='white-space:nowrap;margin-right:7px'>"
                            f"{_swatch(LegendEntry('fill', color, ''))}{html_text(text)}</span>"
                            for color, text in e.items)
            rows.append(f"<div style='margin-top:2px'>{html_text(e.label)}<div style='max-width:230px;"
                        f"line-height:18px'>{cells}</div></div>")
        elif e.symbol == "ramp":
            rows.append(f"<div style='margin-top:3px'>{html_text(e.label)}<br>"
                        f"<span style='font-size:11px'>{html_text(e.low)}</span> {_swatch(e)}"
                        f"<span style='font-size:11px'>{html_text(e.high)}</span></div>")
        else:
            rows.append(f"<div>{_swatch(e)}{html_text(e.label)}</div>")
    return (f"<div class='onemap-legend' style='position:absolute;left:10px;bottom:38px;z-index:1000;"
            f"max-height:60%;overflow-y:auto;background:rgba(255,255,255,.9);padding:6px 9px;border-radius:4px;"
            f"font:12px sans-serif;line-height:17px;box-shadow:0 1px 4px rgba(0,0,0,.3)'>"
            f"<details open><summary style='cursor:pointer;font-weight:bold'>{html_text(title)}</summary>"
            f"{''.join(rows)}</details></div>")


def legend_element(entries: Sequence[LegendEntry], title: str) -> folium.Element:
    """The legend as an element of the map's page (bottom left, inside the map)."""
    return folium.Element(legend_html(entries, title))


__all__ = ["LegendEntry", "layer_entries", "ramp_entry", "legend_html", "legend_element"]
