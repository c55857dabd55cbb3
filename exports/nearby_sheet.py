"""The nearby finder's result as a sheet a doctor hands to a resident (PDF, Chinese or English) or a CSV.

One A4 page: where the walk starts and when, a small map of the streets with the
resources numbered, the ranked list (walk, opening hours, fee, booking), and space for
the exercise prescription.  Text is set in the installed CJK font and embedded as
TrueType, so a printer without Chinese fonts prints it right.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from pyproj import Transformer  # noqa: E402

from exports.print_map import cjk_font  # noqa: E402
from exports.sheets import write_csv
from exports.text_fit import wrap_cell  # noqa: E402
from geo.crs import local_metric_crs  # noqa: E402
from geo.definitions import LIFE_CIRCLES, WALK_SPEED_M_PER_MIN  # noqa: E402
from geo.errors import AnalysisError  # noqa: E402
from geo.nearby import NearbyResult  # noqa: E402
from i18n.names import place_name, romanised  # noqa: E402
from i18n.notes import render_note  # noqa: E402
from i18n.values import VALUE_LABELS, hours_text, slot_text, value_label  # noqa: E402

#: Columns of the CSV, in order, with their Chinese headers.
CSV_COLUMNS = {"rank": "序号", "name": "名称", "layer": "类别", "kind": "类型", "distance_m": "步行距离(m)",
               "walk_min": "步行时间(分钟)", "opening_hours": "开放时间", "fee": "收费", "booking_required": "需预约",
               "address": "地址", "lon": "经度", "lat": "纬度", "feature_id": "要素编号"}
#: The same columns' English headers.
CSV_COLUMNS_EN = {"rank": "#", "name": "Name", "layer": "Layer", "kind": "Kind", "distance_m": "Walk (m)",
                  "walk_min": "Walk (min)", "opening_hours": "Opening hours", "fee": "Fee",
                  "booking_required": "Booking", "address": "Address", "lon": "Longitude", "lat": "Latitude",
                  "feature_id": "Feature id"}
#: The sheet's own words: key → (Chinese, English).
WORDS: dict[str, tuple[str, str]] = {
    "title": ("健身资源就近推荐单", "Fitness resources near you"),
    "any_time": ("不限时段", "any time"), "start": ("出发点", "Start"), "id": ("编号 {id}", "id {id}"),
    "head": ("出发点：{label}（{where}）\n时段：{when}    步行范围：{minutes:.0f} 分钟（约 {metres:,.0f} m）"
             "    共 {n} 处开放资源", "Start: {label} ({where})\nWhen: {when}    Walk: {minutes:.0f} min "
             "(about {metres:,.0f} m)    {n} open resource(s)"),
    "issuer": ("开具单位：{issuer}", "Issued by: {issuer}"), "date": ("日期：{date}", "Date: {date}"),
    "circle": ("虚线圈：直线 {metres:,.0f} m（实际按道路步行距离筛选）",
               "Dashed circle: {metres:,.0f} m in a straight line (the list follows the walk along streets)"),
    "none": ("步行范围内此时段没有开放的健身资源，请扩大范围或更换时段。",
             "No fitness resource within the walk is open at this time; walk further or pick another time."),
    "left_out": ("另有 {n} 处资源未列出，见资源清单（CSV）", "{n} more are not listed; see the list (CSV)"),
    "explain": ("说明：距离为沿道路的步行距离，时间按生活圈折算（{circles}，其外每分钟 {speed:g} 米）。",
                "Notes: distances are walked along streets; minutes follow the life circles ({circles}, then "
                "{speed:g} m a minute)."),
    "prescription": ("运动处方：", "Exercise prescription:"),
    "signature": ("医生签名：______________        复测日期：______________",
                  "Doctor's signature: ______________        Check again on: ______________"),
    "not_stated": ("未登记", "not stated"), "minutes": ("分钟", "min"), "joiner": ("；", "; "),
}


def word(key: str, lang: str = "zh", **values: object) -> str:
    """One of the sheet's own words in ``lang``."""
    return WORDS[key][lang == "en"].format(**values)
MAX_ROWS = 12
#: The sheet's columns: key → (Chinese, English) header.
SHEET_HEADERS: dict[str, tuple[str, str]] = {
    "rank": ("序号", "#"), "name": ("名称", "Name"), "layer": ("类别", "Layer"), "kind": ("类型", "Kind"),
    "walk": ("步行", "Walk"), "opening_hours": ("开放时间", "Opening hours"), "fee": ("收费", "Fee"),
    "booking_required": ("需预约", "Booking"), "address": ("地址", "Address")}


def _shown(value: object, field: str, lang: str) -> str:
    text = value_label(field, value, lang)
    return text if text else "—"


def sheet_rows(result: NearbyResult, lang: str = "zh") -> pd.DataFrame:
    """The ranked resources with headers and values in ``lang`` (Chinese on the printed sheet)."""
    t = result.table
    en = lang == "en"
    minutes = word("minutes", lang)
    columns = {
        "rank": t["rank"].astype(int),
        "name": t["name"].map(lambda v: place_name(v, lang) or "—"),
        "layer": t["layer"].map(lambda v: _shown(v, "layer", lang)),
        "kind": t["kind"].map(lambda v: _shown(v, "venue_kind", lang) if v in VALUE_LABELS["venue_kind"]
                              else _shown(v, "facility_kind", lang)),
        "walk": [f"{d:,.0f} m / {m:.0f} {minutes}" for d, m in zip(t["distance_m"], t["walk_min"])],
        "opening_hours": t["opening_hours"].map(lambda v: hours_text(str(v), lang)
                                                if isinstance(v, str) and v.strip() else word("not_stated", lang)),
        "fee": t["fee"].map(lambda v: _shown(v, "fee", lang)),
        "booking_required": t["booking_required"].map(lambda v: _shown(v, "booking_required", lang)),
        "address": t["address"].map(lambda v: _shown(v, "address", lang)),
    }
    return pd.DataFrame({SHEET_HEADERS[k][en]: v for k, v in columns.items()})


def sheet_target(path: str | os.PathLike[str]):
    """A sheet's path (.pdf to print, .png to preview; its folder made) and the CJK font to set it in.

    Raises
    ------
    AnalysisError
        When ``path`` is neither .pdf nor .png, or no CJK font is installed.
    """
    target = Path(path)
    if target.suffix.lower() not in (".pdf", ".png"):
        raise AnalysisError(f"The sheet is written as .pdf (to print) or .png (to preview); "
                            f"{target.name} is neither.")
    font = cjk_font()
    target.parent.mkdir(parents=True, exist_ok=True)
    return target, font


def write_nearby_csv(result: NearbyResult, path: str | os.PathLike[str], lang: str = "zh") -> Path:
    """The ranked list as UTF-8 CSV with a BOM (Excel opens it with the Chinese intact), headers and coded values
    in ``lang``; longitude and latitude in WGS-84."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = result.table.reindex(columns=list(CSV_COLUMNS)).copy()
    frame["distance_m"] = frame["distance_m"].round(1)
    frame["walk_min"] = frame["walk_min"].round(1)
    frame["layer"] = frame["layer"].map(lambda v: value_label("layer", v, lang))
    frame["kind"] = frame["kind"].map(lambda v: value_label("venue_kind" if v in VALUE_LABELS["venue_kind"]
                                                            else "facility_kind", v, lang))
    for field in ("opening_hours", "fee", "booking_required"):
        frame[field] = frame[field].map(lambda v, f=field: value_label(f, v, lang))
    if lang == "en":
        frame.insert(2, "Name (pinyin)", frame["name"].map(lambda v: romanised(v) if isinstance(v, str) else ""))
    return write_csv(frame.rename(columns=CSV_COLUMNS_EN if lang == "en" else CSV_COLUMNS), target)


def _when(result: NearbyResult, lang: str = "zh") -> str:
    return word("any_time", lang) if result.slot is None else slot_text(result.slot, lang)


def _draw_map(ax, result: NearbyResult, streets: gpd.GeoDataFrame | None, font, lang: str = "zh") -> None:
    o = result.origin
    crs = local_metric_crs((o.lon, o.lat, o.lon, o.lat))
    fwd = Transformer.from_crs(4326, crs, always_xy=True)
    ox, oy = fwd.transform(o.lon, o.lat)
    r = result.limit_m * 1.05
    if streets is not None and len(streets):
        lines = streets.to_crs(crs).clip((ox - r, oy - r, ox + r, oy + r))
        coords, idx = shapely.get_coordinates(shapely.get_parts(lines.geometry.to_numpy()), return_index=True)
        parts = np.split(coords, np.flatnonzero(np.diff(idx)) + 1) if len(coords) else []
        ax.add_collection(LineCollection(parts, colors="#b0b0b0", linewidths=0.6))
    ax.add_patch(plt.Circle((ox, oy), result.limit_m, fill=False, ls="--", color="#3182bd", lw=0.8))
    t = result.table.head(MAX_ROWS)
    x, y = fwd.transform(t["lon"].to_numpy(), t["lat"].to_numpy())
    ax.scatter(x, y, s=90, color="#1b9e3a", zorder=3)
    for k, (xi, yi) in enumerate(zip(np.atleast_1d(x), np.atleast_1d(y)), start=1):
        ax.text(xi, yi, str(k), color="white", ha="center", va="center", fontsize=7, zorder=4, weight="bold")
    ax.scatter([ox], [oy], marker="*", s=220, color="#e31a1c", zorder=5)
    ax.text(ox, oy - r * 0.09, word("start", lang), fontproperties=font, fontsize=8, ha="center", color="#e31a1c")
    ax.set_xlim(ox - r, ox + r)
    ax.set_ylim(oy - r, oy + r)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.02, 0.02, word("circle", lang, metres=result.limit_m), transform=ax.transAxes,
            fontproperties=font, fontsize=6.5, color="#3182bd")


#: Width of each sheet column (share of the table) and the display columns a line of it holds at 7 pt.
_COLUMN_WIDTHS = (0.04, 0.15, 0.09, 0.08, 0.13, 0.19, 0.06, 0.06, 0.20)
_COLUMN_CHARS = (3, 16, 10, 10, 18, 22, 6, 6, 22)
_FONT_PT = 7.0


def draw_table(ax, rows: pd.DataFrame, font, widths: tuple[float, ...] = _COLUMN_WIDTHS,
               chars: tuple[int, ...] = _COLUMN_CHARS) -> int:
    """A table whose long cells (opening hours, names, addresses) wrap inside their cell (``widths``: each
    column's share; ``chars``: display columns a line of it holds); as many rows as the space holds.
    Returns how many rows were drawn."""
    cells = [[wrap_cell(str(v), chars[j]) for j, v in enumerate(r)] for r in rows.astype(str).to_numpy()]
    height_pt = ax.get_position().height * ax.figure.get_figheight() * 72
    line = _FONT_PT * 1.3 / height_pt  # one text line, as a share of the table's height
    lines = [max(text.count("\n") + 1 for text in row) + 0.6 for row in cells]
    used, fits = 1.6, 0
    for n in lines:
        if (used + n) * line > 1.0:
            break
        used, fits = used + n, fits + 1
    cells = cells[:fits]
    table = ax.table(cellText=cells or [[""] * len(rows.columns)], colLabels=list(rows.columns), loc="upper center",
                     cellLoc="center", colWidths=list(widths))
    table.auto_set_font_size(False)
    for (r, _c), cell in table.get_celld().items():
        cell.set_text_props(fontproperties=font, fontsize=_FONT_PT)
        cell.set_height(line * (1.6 if r == 0 else lines[r - 1]))
    return fits


def write_nearby_sheet(result: NearbyResult, path: str | os.PathLike[str], *,
                       streets: gpd.GeoDataFrame | None = None, issuer: str = "",
                       title: str | None = None, date: dt.date | None = None, lang: str = "zh") -> Path:
    """A one-page A4 PDF of the nearby resources in ``lang``, with space for a prescription (or a PNG preview).

    Parameters
    ----------
    result : NearbyResult
    streets : GeoDataFrame, optional
        The walking network, drawn under the resources.
    issuer : str
        Who hands it out (the health station), printed in the header.
    title : str, optional
        The sheet's title (default: the sheet's own, in ``lang``).

    Raises
    ------
    AnalysisError
        When ``path`` is neither .pdf nor .png, or no CJK font is installed.
    """
    target, font = sheet_target(path)
    date = date or dt.date.today()
    rows = sheet_rows(result, lang).head(MAX_ROWS)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.5, 0.965, title or word("title", lang), fontproperties=font, fontsize=18, ha="center", va="top")
        o = result.origin
        where = word("joiner", lang).join(x for x in (word("id", lang, id=o.feature_id) if o.feature_id else "",
                                                       o.place, f"{o.lon:.5f}, {o.lat:.5f}") if x)
        head = (word("head", lang, label=place_name(o.label, lang), where=where, when=_when(result, lang),
                     minutes=result.minutes, metres=result.limit_m, n=len(result.table))
                + (f"\n{word('issuer', lang, issuer=place_name(issuer, lang))}" if issuer else "")
                + f"    {word('date', lang, date=f'{date:%Y-%m-%d}')}")
        fig.text(0.06, 0.925, head, fontproperties=font, fontsize=9, va="top", linespacing=1.6)
        ax = fig.add_axes([0.27, 0.6, 0.46, 0.26])
        _draw_map(ax, result, streets, font, lang)
        tab = fig.add_axes([0.04, 0.205, 0.92, 0.375])
        tab.axis("off")
        left_out = 0
        if len(rows):
            left_out = len(result.table) - draw_table(tab, rows, font)
        else:
            tab.text(0.5, 0.8, word("none", lang), fontproperties=font, fontsize=10, ha="center")
        notes = word("joiner", lang).join([render_note(n, lang) for n in result.notes]
                                          + ([word("left_out", lang, n=left_out)] if left_out else []))
        circles = ("、" if lang != "en" else ", ").join(
            f"{c.minutes} {word('minutes', lang)} {c.metres:g} {'m' if lang == 'en' else '米'}" for c in LIFE_CIRCLES)
        fig.text(0.06, 0.19, word("explain", lang, circles=circles, speed=WALK_SPEED_M_PER_MIN)
                 + (notes and f" {notes}"), fontproperties=font, fontsize=7, va="top", wrap=True)
        fig.text(0.06, 0.155, word("prescription", lang), fontproperties=font, fontsize=11, va="top")
        for k in range(3):
            fig.add_artist(plt.Line2D([0.06, 0.94], [0.12 - k * 0.03] * 2, color="#888888", lw=0.6))
        fig.text(0.06, 0.035, word("signature", lang), fontproperties=font, fontsize=10)
        tmp = target.with_name(f".{target.stem}.tmp{target.suffix.lower()}")
        fig.savefig(tmp, format=target.suffix.lower()[1:], dpi=150)
        plt.close(fig)
    os.replace(tmp, target)
    return target


__all__ = ["sheet_target", "write_nearby_sheet", "write_nearby_csv", "sheet_rows", "draw_table",
           "CSV_COLUMNS"]
