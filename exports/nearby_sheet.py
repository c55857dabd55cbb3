"""The nearby finder's result as a sheet a doctor hands to a resident (PDF, Chinese) or a CSV.

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
from geo.crs import local_metric_crs  # noqa: E402
from geo.errors import AnalysisError  # noqa: E402
from geo.nearby import NearbyResult  # noqa: E402

_LAYER_ZH = {"venues": "体育场馆", "school_facilities": "学校体育设施", "greenways": "绿道/健身步道"}
_KIND_ZH = {"stadium": "体育场", "gymnasium": "体育馆", "pool": "游泳馆", "court": "球场", "pitch": "足球场",
            "fitness_square": "健身广场", "fitness_trail": "健身步道", "gym": "健身房", "park_fitness": "公园健身点",
            "track_field": "田径场", "other": "其他"}
_FEE_ZH = {"free": "免费", "low_cost": "低收费", "paid": "收费"}
_DAYS_ZH = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
#: Columns of the CSV, in order, with their Chinese headers.
CSV_COLUMNS = {"rank": "序号", "name": "名称", "layer": "类别", "kind": "类型", "distance_m": "步行距离(m)",
               "walk_min": "步行时间(分钟)", "opening_hours": "开放时间", "fee": "收费", "booking_required": "需预约",
               "address": "地址", "lon": "经度", "lat": "纬度", "feature_id": "要素编号"}
MAX_ROWS = 12


def _yes_no(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "—"
    return "是" if bool(v) else "否"


def _text(v: object, mapping: dict[str, str] | None = None) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "—"
    return (mapping or {}).get(str(v), str(v))


def hours_zh(text: object) -> str:
    """OSM opening hours as a resident reads them: ``Mo-Su 07:00-22:00`` → ``每天 07:00-22:00``."""
    if text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
        return "未登记"
    out = str(text).replace("24/7", "全天开放").replace("Mo-Su", "每天")
    for en, zh in (("Mo", "周一"), ("Tu", "周二"), ("We", "周三"), ("Th", "周四"), ("Fr", "周五"),
                   ("Sa", "周六"), ("Su", "周日"), ("PH", "节假日"), ("SH", "学校假期"), (" off", " 不开放"),
                   ("-周", "至周"), ("; ", "；")):
        out = out.replace(en, zh)
    return out


def sheet_rows(result: NearbyResult) -> pd.DataFrame:
    """The ranked resources with Chinese headers and values, as printed and exported."""
    t = result.table
    return pd.DataFrame({
        "序号": t["rank"], "名称": t["name"].map(_text), "类别": t["layer"].map(lambda v: _LAYER_ZH.get(v, v)),
        "类型": t["kind"].map(lambda v: _text(v, _KIND_ZH)),
        "步行": [f"{d:,.0f} m / {m:.0f} 分钟" for d, m in zip(t["distance_m"], t["walk_min"])],
        "开放时间": t["opening_hours"].map(hours_zh),
        "收费": t["fee"].map(lambda v: _text(v, _FEE_ZH)), "需预约": t["booking_required"].map(_yes_no),
    })


def write_nearby_csv(result: NearbyResult, path: str | os.PathLike[str]) -> Path:
    """The ranked list as UTF-8 CSV with a BOM (Excel opens it with the Chinese intact)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = result.table.reindex(columns=list(CSV_COLUMNS)).rename(columns=CSV_COLUMNS)
    frame["步行距离(m)"] = frame["步行距离(m)"].round(1)
    frame["步行时间(分钟)"] = frame["步行时间(分钟)"].round(1)
    tmp = target.with_name(f".{target.stem}.tmp.csv")
    frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    os.replace(tmp, target)
    return target


def _when(result: NearbyResult) -> str:
    if result.slot is None:
        return "不限时段"
    s = result.slot
    extra = ("（节假日）" if s.public_holiday else "") + ("（学校假期）" if s.school_holiday else "")
    return f"{_DAYS_ZH[s.weekday]} {s.minute // 60:02d}:{s.minute % 60:02d}{extra}"


def _draw_map(ax, result: NearbyResult, streets: gpd.GeoDataFrame | None, font) -> None:
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
    ax.text(ox, oy - r * 0.09, "出发点", fontproperties=font, fontsize=8, ha="center", color="#e31a1c")
    ax.set_xlim(ox - r, ox + r)
    ax.set_ylim(oy - r, oy + r)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.02, 0.02, f"虚线圈：直线 {result.limit_m:,.0f} m（实际按道路步行距离筛选）", transform=ax.transAxes,
            fontproperties=font, fontsize=6.5, color="#3182bd")


def write_nearby_sheet(result: NearbyResult, path: str | os.PathLike[str], *,
                       streets: gpd.GeoDataFrame | None = None, issuer: str = "",
                       title: str = "健身资源就近推荐单", date: dt.date | None = None) -> Path:
    """A one-page A4 PDF (Chinese) of the nearby resources, with space for a prescription (or a PNG preview).

    Parameters
    ----------
    result : NearbyResult
    streets : GeoDataFrame, optional
        The walking network, drawn under the resources.
    issuer : str
        Who hands it out (the health station), printed in the header.

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
    date = date or dt.date.today()
    rows = sheet_rows(result).head(MAX_ROWS)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.5, 0.965, title, fontproperties=font, fontsize=18, ha="center", va="top")
        head = (f"出发点：{result.origin.label}（{result.origin.lon:.5f}, {result.origin.lat:.5f}）\n"
                f"时段：{_when(result)}    步行范围：{result.minutes:.0f} 分钟（约 {result.limit_m:,.0f} m）"
                f"    共 {len(result.table)} 处开放资源"
                + (f"\n开具单位：{issuer}" if issuer else "") + f"    日期：{date:%Y-%m-%d}")
        fig.text(0.06, 0.925, head, fontproperties=font, fontsize=9, va="top", linespacing=1.6)
        ax = fig.add_axes([0.2, 0.52, 0.6, 0.33])
        _draw_map(ax, result, streets, font)
        tab = fig.add_axes([0.04, 0.2, 0.92, 0.3])
        tab.axis("off")
        if len(rows):
            table = tab.table(cellText=rows.astype(str).to_numpy(), colLabels=list(rows.columns), loc="upper center",
                              cellLoc="center", colWidths=[0.05, 0.2, 0.12, 0.1, 0.15, 0.22, 0.08, 0.08])
            table.auto_set_font_size(False)
            for cell in table.get_celld().values():
                cell.set_text_props(fontproperties=font, fontsize=7)
        else:
            tab.text(0.5, 0.8, "步行范围内此时段没有开放的健身资源，请扩大范围或更换时段。", fontproperties=font,
                     fontsize=10, ha="center")
        notes = "；".join(result.notes)
        fig.text(0.06, 0.19, ("说明：距离为沿道路的步行距离，按每分钟 "
                              f"{result.walk_speed_m_per_min:g} m 折算时间。" + (notes and f" {notes}")),
                 fontproperties=font, fontsize=7, va="top", wrap=True)
        fig.text(0.06, 0.155, "运动处方：", fontproperties=font, fontsize=11, va="top")
        for k in range(3):
            fig.add_artist(plt.Line2D([0.06, 0.94], [0.12 - k * 0.03] * 2, color="#888888", lw=0.6))
        fig.text(0.06, 0.035, "医生签名：______________        复测日期：______________", fontproperties=font,
                 fontsize=10)
        tmp = target.with_name(f".{target.stem}.tmp{target.suffix.lower()}")
        fig.savefig(tmp, format=target.suffix.lower()[1:], dpi=150)
        plt.close(fig)
    os.replace(tmp, target)
    return target


__all__ = ["write_nearby_sheet", "write_nearby_csv", "sheet_rows", "hours_zh", "CSV_COLUMNS"]
