"""Print maps: PNG or PDF with title, legend, scale bar, north arrow, source and date.

Drawn with matplotlib in a local metric projection.  Every Chinese character is set in
a CJK font the project installs (WenQuanYi Micro Hei, Debian ``fonts-wqy-microhei``), and
PDFs embed it as TrueType, so no label turns into boxes.  Without a CJK font the print
map refuses to run rather than print tofu.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import FancyArrow, Patch  # noqa: E402

from exports.text_fit import wrap_cell  # noqa: E402
from geo.crs import local_metric_crs  # noqa: E402
from geo.errors import AnalysisError  # noqa: E402
from i18n.names import romanised  # noqa: E402
from i18n.values import crs_text  # noqa: E402
from layers.catalogue import CATALOGUE, DEPARTMENTS  # noqa: E402
from layers.styles import LAND_USE_COLORS, STYLES, Style, style_label  # noqa: E402

#: CJK font families tried in order.
CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
                "SimHei", "Microsoft YaHei")
#: The map's own words: key → (Chinese, English).
WORDS: dict[str, tuple[str, str]] = {
    "coverage_none": ("未覆盖（步行范围内无设施）", "Not covered (no facility within the walk)"),
    "legend": ("图例", "Legend"), "north": ("北 N", "N"), "km": ("{n:g} 千米", "{n:g} km"),
    "m": ("{n:g} 米", "{n:g} m"),
    "footer": ("数据来源：{source}    制图日期：{day}    坐标系：{crs}", "Source: {source}    Made: {day}    "
                                                                "Coordinate system: {crs}"),
}
#: The legend's second coverage entry (Chinese).
COVERAGE_NONE = WORDS["coverage_none"][0]


def word(key: str, lang: str = "zh", **values: object) -> str:
    """One of the map's own words in ``lang``."""
    return WORDS[key][lang == "en"].format(**values)
#: Paper sizes (mm, landscape).
PAPER_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0), "A2": (594.0, 420.0)}


def cjk_font() -> font_manager.FontProperties:
    """The first installed CJK font of :data:`CJK_FAMILIES`.

    Raises
    ------
    AnalysisError
        When none is installed (the message names the Debian package).
    """
    for entry in font_manager.fontManager.ttflist:
        if entry.name in CJK_FAMILIES:
            return font_manager.FontProperties(fname=entry.fname)
    for path in ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",):
        if os.path.exists(path):
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path)
    raise AnalysisError("No CJK font is installed, so Chinese labels would print as boxes. Install one "
                        "(Debian/Ubuntu: apt-get install fonts-wqy-microhei; `make setup` does it).")


def _styles() -> dict[str, Style]:
    """The shared styles (layers/styles.py) of everything a print map can draw."""
    return dict(STYLES)


def _nice_length(span_m: float) -> float:
    target = span_m / 5
    exp = 10 ** np.floor(np.log10(target))
    for step in (1, 2, 5, 10):
        if step * exp >= target:
            return float(step * exp)
    return float(10 * exp)


def _draw(ax, name: str, frame: gpd.GeoDataFrame, style: Style, label: str, lang: str = "zh") -> object:
    geoms = frame.geometry
    if name == "coverage" and "share" in frame.columns:  # covered share per cell, red (none) to green (all)
        frame.plot(ax=ax, column="share", cmap="RdYlGn", vmin=0.0, vmax=1.0, alpha=style.alpha, linewidth=0,
                   zorder=1.5)
        cmap = matplotlib.colormaps["RdYlGn"]
        return (Patch(facecolor=cmap(1.0), alpha=style.alpha, label=label),
                Patch(facecolor=cmap(0.0), alpha=style.alpha, label=word("coverage_none", lang)))
    if style.kind in ("area", "fill"):
        colors = style.color
        if name == "land_use" and "land_use" in frame.columns:
            colors = [LAND_USE_COLORS.get(v, style.color) for v in frame["land_use"]]
        frame.plot(ax=ax, color=colors, alpha=style.alpha, linewidth=0, zorder=1 if name == "land_use" else 3)
        if name == "gaps":
            frame.boundary.plot(ax=ax, color=style.color, linewidth=0.8, zorder=3.1)
        return Patch(facecolor=style.color, alpha=max(style.alpha, 0.4), label=label)
    if style.kind in ("line", "outline"):
        lines = shapely.get_parts(geoms.boundary.to_numpy() if style.kind == "outline" else geoms.to_numpy())
        segs = [np.asarray(g.coords)[:, :2] for g in lines if not g.is_empty]
        ax.add_collection(LineCollection(segs, colors=style.color, linewidths=style.print_size,
                                         zorder=4 if style.kind == "outline" else 2))
        return Line2D([0], [0], color=style.color, lw=max(style.print_size, 1.0), label=label)
    pts = geoms.representative_point()
    face = style.fill_color or style.color
    edge = style.color if style.fill_color else "white"
    marker = "*" if name == "new_sites" else "o"
    ax.scatter(pts.x, pts.y, s=style.print_size, c=face, edgecolors=edge, linewidths=0.8 if style.fill_color else 0.5,
               marker=marker, zorder=6 if name == "new_sites" else 5)
    return Line2D([0], [0], marker=marker, color="none", markerfacecolor=face, markeredgecolor=edge,
                  markersize=9 if marker == "*" else 7, label=label)


def site_letter(rank: int) -> str:
    """A new site's mark on a print map: A, B, … Z, then AA, AB …"""
    text = ""
    while rank > 0:
        rank, rest = divmod(rank - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


def departments_line(frames: Mapping[str, gpd.GeoDataFrame], lang: str = "zh") -> str:
    """Who the drawn layers come from: ``体育局（体育场馆）；教育局（学校体育设施）`` from their department column
    (the catalogue's owning department for rows without one), in ``lang``."""
    en = lang == "en"
    by_dept: dict[str, list[str]] = {}
    for name, frame in frames.items():
        if name not in CATALOGUE or frame.empty:
            continue
        depts = dict.fromkeys(frame["department"].dropna().astype(str)) if "department" in frame.columns else {}
        for dept in depts or (CATALOGUE[name].department,):  # unstamped rows belong to the layer's department
            by_dept.setdefault(dept, []).append(CATALOGUE[name].label_en if en else CATALOGUE[name].label_zh)
    if en:
        return "; ".join(f"{DEPARTMENTS.get(d, (d, d))[1]} ({', '.join(layers)})" for d, layers in by_dept.items())
    return "；".join(f"{DEPARTMENTS.get(d, (d,))[0]}（{'、'.join(layers)}）" for d, layers in by_dept.items())


def print_map(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike[str], *, title: str,
              source: str | None = None, paper: str = "A4", dpi: int = 200, date: dt.date | None = None,
              unit_labels: gpd.GeoDataFrame | None = None, label_column: str = "name",
              styles: Mapping[str, Style] | None = None, lang: str = "zh") -> Path:
    """Draw ``layers`` (name → GeoDataFrame, any CRS) as a print map and save PNG or PDF.

    Parameters
    ----------
    layers : mapping
        Layer name → frame, drawn in :data:`layers.styles.STYLES` order; unknown names need ``styles``.
    path : path
        ``.png`` or ``.pdf``.
    title : str
        Printed at the top.
    source : str, optional
        The footer's source line (with the date); by default the departments whose features are
        drawn, each with its layers (:func:`departments_line`).

    Analysis results draw with the layers under their own names: ``coverage`` (cells with a
    ``share`` covered, 0 … 1), ``gaps`` and ``new_sites`` (numbered by their ``rank``).
    paper : str
        ``A4``, ``A3`` or ``A2`` landscape.
    dpi : int
        Resolution of a PNG (PDFs are vector).
    unit_labels : GeoDataFrame, optional
        Polygons whose ``label_column`` is written at their centre (e.g. street names; in English with
        their pinyin).
    lang : str
        The map's language: legend, scale, north arrow, footer and coordinate system ("zh" or "en").

    Raises
    ------
    AnalysisError
        No CJK font, an unknown paper, a non-PNG/PDF path, or nothing to draw.
    """
    target = Path(path)
    frames, styles = _checked(layers, target, paper, dpi, styles)
    font = cjk_font()
    bounds = np.array([f.to_crs(4326).total_bounds for f in frames.values()])
    metric = local_metric_crs((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()))
    w_mm, h_mm = PAPER_MM[paper]
    fig = plt.figure(figsize=(w_mm / 25.4, h_mm / 25.4), dpi=dpi)
    fig.canvas.draw_idle = lambda *args, **kwargs: None  # geopandas' draw after each layer: rendered once, on save
    ax = fig.add_axes([0.03, 0.09, 0.72, 0.80])
    handles = []
    for name in [k for k in styles if k in frames]:
        handles.extend(_draw_named(ax, name, frames[name].to_crs(metric), styles[name], lang))
    if unit_labels is not None and len(unit_labels):
        _unit_labels(ax, unit_labels.to_crs(metric), label_column, font, lang)
    _bare_axes(ax)
    _scale_and_north(ax, font, lang)
    fig.text(0.03, 0.93, title, fontproperties=font, fontsize=16, ha="left")
    _legend(fig, handles, font, lang)
    day = (date or dt.date.today()).isoformat()
    source = source or departments_line(frames, lang) or "—"
    fig.text(0.03, 0.04, word("footer", lang, source=source, day=day, crs=crs_text(metric, lang)),
             fontproperties=font, fontsize=8, ha="left", color="#444444", wrap=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig.savefig(target, dpi=dpi)
    plt.close(fig)
    return target


def _checked(layers: Mapping[str, gpd.GeoDataFrame], target: Path, paper: str, dpi: int,
             styles: Mapping[str, Style] | None) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Style]]:
    """The layers with features and the styles to draw them with, after checking what was asked for."""
    if target.suffix.lower() not in (".png", ".pdf"):
        raise AnalysisError(f"{target.name}: print maps are .png or .pdf.")
    if paper not in PAPER_MM:
        raise AnalysisError(f"Paper {paper!r} is not one of {', '.join(PAPER_MM)}.")
    if not 50 <= dpi <= 600:
        raise AnalysisError(f"dpi must be between 50 and 600, not {dpi}.")
    frames = {k: v for k, v in layers.items() if v is not None and len(v)}
    if not frames:
        raise AnalysisError("Nothing to draw: every layer given is empty.")
    styles = {**_styles(), **(styles or {})}
    unknown = [k for k in frames if k not in styles]
    if unknown:
        raise AnalysisError(f"No style for layer(s) {', '.join(unknown)}; pass styles=.")
    return frames, styles


def _draw_named(ax, name: str, drawn: gpd.GeoDataFrame, style: Style, lang: str) -> tuple:
    """Layer ``name`` (in the map's metric CRS) in its style; gaps numbered and new sites lettered.  Its legend
    handles are returned."""
    levels = tuple(dict.fromkeys(drawn["level"])) if name == "boundaries" and "level" in drawn.columns else ()
    got = _draw(ax, name, drawn, style, style_label(name, lang, levels=levels), lang)
    if name in ("gaps", "new_sites") and "rank" in drawn.columns:
        offset = 0 if name == "gaps" else 0.018 * (drawn.total_bounds[3] - drawn.total_bounds[1] + 2000)
        for geom, rank in zip(drawn.geometry.representative_point(), drawn["rank"]):
            text = str(int(rank)) if name == "gaps" else site_letter(int(rank))
            ax.text(geom.x, geom.y + offset, text, fontsize=7, ha="center", va="center", zorder=7,
                    color="#7a0000" if name == "gaps" else "#3d0a52", weight="bold",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    return got if isinstance(got, tuple) else (got,)


def _unit_labels(ax, units: gpd.GeoDataFrame, column: str, font, lang: str) -> None:
    """Each unit's name at its centre (in English with its pinyin under it)."""
    for geom, text in zip(units.geometry.representative_point(), units[column]):
        shown = str(text) if lang != "en" or not romanised(str(text)) else f"{text}\n{romanised(str(text))}"
        ax.text(geom.x, geom.y, shown, fontproperties=font, fontsize=7, ha="center", va="center",
                color="#4a2a6a", zorder=6)


def _bare_axes(ax) -> None:
    """Equal scale on both axes, no ticks and no axis labels (a map, not a chart)."""
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def _scale_and_north(ax, font, lang: str) -> None:
    """A scale bar (bottom left) and a north arrow (top right), in map units (metres)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = _nice_length(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + bar], [by, by], color="black", lw=3, solid_capstyle="butt", zorder=7)
    ax.text(bx + bar / 2, by + 0.015 * (y1 - y0), word("km", lang, n=bar / 1000) if bar >= 1000 else
            word("m", lang, n=bar),
            fontproperties=font, fontsize=8, ha="center", va="bottom", zorder=7)
    nx, ny = x1 - 0.06 * (x1 - x0), y1 - 0.16 * (y1 - y0)
    ax.add_patch(FancyArrow(nx, ny, 0, 0.08 * (y1 - y0), width=0.012 * (x1 - x0), head_width=0.035 * (x1 - x0),
                            head_length=0.035 * (y1 - y0), color="black", zorder=7))
    ax.text(nx, ny + 0.125 * (y1 - y0), word("north", lang), fontproperties=font, fontsize=9, ha="center",
            zorder=7)


def _legend(fig, handles: list, font, lang: str) -> None:
    """The legend beside the map; a long entry wraps inside its column instead of running off the page."""
    for handle in handles:
        handle.set_label(wrap_cell(handle.get_label(), 30))
    leg = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.77, 0.89), frameon=False,
                     prop=font, title=word("legend", lang), title_fontproperties=font)
    for text in leg.get_texts():
        text.set_fontsize(9)
