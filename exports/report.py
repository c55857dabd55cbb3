"""The district report: coverage per district and street, per-capita area, open schools, top gaps.

:func:`district_report` gathers the tables from a coverage result; :func:`write_report_xlsx`
writes them as workbook sheets with a native bar chart, :func:`write_report_pdf` as a
printable PDF with charts, in Chinese.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from exports.print_map import cjk_font  # noqa: E402
from exports.sheets import excel_writer, write_sheet
from geo.coverage import CoverageResult  # noqa: E402
from geo.errors import AnalysisError  # noqa: E402
from geo.gaps import gap_areas, gap_table  # noqa: E402
from geo.units import (  # noqa: E402
    SPORTS_AREA_TARGET_M2_PER_RESIDENT,
    assign_units,
    coverage_by_unit,
    school_open_share_by_unit,
    sports_area_by_unit,
)
from i18n.notes import render_note  # noqa: E402

_LEVEL_ZH = {"district": "区", "street": "街道", "community": "社区"}
#: What a suppressed share reads in the report.
SUPPRESSED = "已隐去"


@dataclass
class DistrictReport:
    """The report's tables (Chinese column names) and its notes."""

    title: str
    layer: str
    summary: pd.DataFrame
    units: dict[str, pd.DataFrame]
    gaps: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    date: str = ""
    need: dict[str, pd.DataFrame] = field(default_factory=dict)  # level → each need group's share (protected)


def district_report(result: CoverageResult, boundaries: gpd.GeoDataFrame, *, venues: gpd.GeoDataFrame,
                    school_facilities: gpd.GeoDataFrame | None = None, layer: str = "venues",
                    levels: tuple[str, ...] = ("district", "street"), gap_threshold: float = 500.0,
                    top_gaps: int = 10, gap_piece_km2: float = 1.0,
                    title: str = "全民健身设施覆盖报告", need: Mapping[str, Mapping[str, float]] | None = None,
                    engine=None, need_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
                    min_count: int = 10) -> DistrictReport:
    """Gather the report's tables for ``layer`` at every threshold of the result.

    Gaps are cut at the finest level's boundaries and into pieces of about ``gap_piece_km2``
    (see :func:`geo.gaps.gap_areas`), each named by its unit and located by its centre.
    With ``need`` (indicator → unit code → people, from the health commission's aggregates) and the
    ``engine`` that made the result, each level gains a table of every need group's share within
    reach of the facilities that serve it (:func:`geo.need.need_rates_by_unit`): shares resting on
    fewer than ``min_count`` people read 已隐去, and no count of a need group is printed.

    Raises
    ------
    AnalysisError
        When ``layer`` is not in the result or a level has no boundary.
    """
    if layer not in result.thresholds:
        raise AnalysisError(f"The coverage result has no layer {layer!r}; it has {', '.join(result.thresholds)}.")
    summary = result.summary()
    summary = summary[summary["layer"] == layer].rename(columns={
        "threshold_m": "步行距离(米)", "minutes": "步行时间(分钟)", "residents": "常住人口", "covered": "覆盖人口",
        "uncovered": "未覆盖人口", "rate": "覆盖率", "method": "距离算法", "status": "状态"}).drop(columns="layer")
    tables = {}
    notes = list(dict.fromkeys(result.notes))
    for level in levels:
        units = assign_units(result.demand, boundaries, level=level)
        notes += list(units.notes)
        cov = coverage_by_unit(result, units, layer=layer)
        wide = cov.pivot_table(index=["code", "name"], columns="threshold_m", values=["rate", "uncovered"],
                               sort=False)
        out = pd.DataFrame({"代码": [c for c, _ in wide.index], "名称": [n for _, n in wide.index]})
        residents = cov.drop_duplicates(["code"]).set_index("code")["residents"]
        out["常住人口"] = residents.reindex(out["代码"]).to_numpy()
        for th in result.thresholds[layer]:
            out[f"{th:g}米覆盖率"] = wide[("rate", th)].to_numpy()
            out[f"{th:g}米未覆盖人口"] = wide[("uncovered", th)].to_numpy()
        area = sports_area_by_unit(units, result.demand, venues, school_facilities=school_facilities)
        area = area.set_index("code").reindex(out["代码"])
        out["人均体育场地面积(m²)"] = area["m2_per_resident"].to_numpy()
        out[f"达到{SPORTS_AREA_TARGET_M2_PER_RESIDENT:g}m²目标"] = area["meets_target"].map(
            {True: "是", False: "否"}).to_numpy()
        if school_facilities is not None:
            share = school_open_share_by_unit(units, school_facilities).set_index("code").reindex(out["代码"])
            out["学校体育设施开放比例"] = share["share_open"].to_numpy()
        tables[level] = out
    finest = assign_units(result.demand, boundaries, level=levels[-1])
    gaps = gap_table(gap_areas(result, layer, gap_threshold, units=finest, max_km2=gap_piece_km2)).head(top_gaps)
    gaps = gaps[["rank", "unit_name", "uncovered_residents", "area_km2", "lon", "lat"]].rename(columns={
        "rank": "排名", "unit_name": _LEVEL_ZH.get(levels[-1], levels[-1]), "uncovered_residents": "未覆盖人口",
        "area_km2": "面积(km²)", "lon": "中心经度", "lat": "中心纬度"})
    need_tables = {} if not need or engine is None else _need_tables(
        engine, boundaries, levels, need, dict(need_layers or {}) | {"venues": venues,
                                                                  "school_facilities": school_facilities},
        min_count)
    said = [render_note(n, "zh") for n in dict.fromkeys(notes)]
    if need_tables:
        said.append(f"重点人群覆盖比例按卫健委汇总人数估算；人数少于 {min_count} 的比例及可据以相减推算的比例已隐去。")
    if result.demand.is_estimate:
        said.insert(0, "人口为估算值，所有人数均为估算。")
    return DistrictReport(title=title, layer=layer, summary=summary, units=tables, gaps=gaps,
                          notes=said, date=dt.date.today().isoformat(), need=need_tables)


def _need_tables(engine, boundaries: gpd.GeoDataFrame, levels: tuple[str, ...],
                 need: Mapping[str, Mapping[str, float]], layers: Mapping[str, gpd.GeoDataFrame],
                 min_count: int) -> dict[str, pd.DataFrame]:
    """Per level: code, name and each need group's share within reach of its facilities (已隐去 where
    suppressed, — where the unit has nobody in the group)."""
    from geo.need import need_rates_by_unit
    from layers.health import INDICATORS, configured_matching

    out = {}
    for level in levels:
        units = assign_units(engine.demand, boundaries, level=level)
        rates, _city = need_rates_by_unit(engine, boundaries, units, need, layers, configured_matching(),
                                          min_count=min_count, marks=True)
        table = pd.DataFrame({"代码": units.units["code"].to_numpy(), "名称": units.units["name"].to_numpy()})
        for code in need:
            if f"need_{code}" not in rates:
                continue
            title = f"{INDICATORS[code].group_zh if code in INDICATORS else code}可达适配设施比例"
            table[title] = [SUPPRESSED if hidden else v for v, hidden in
                            zip(rates[f"need_{code}"], rates[f"need_{code}_suppressed"])]
        if len(table.columns) > 2:
            out[level] = table
    return out


def write_report_xlsx(report: DistrictReport, path: str | os.PathLike[str]) -> Path:
    """The report as a workbook: summary, one sheet per level (with a bar chart), top gaps, notes."""
    from openpyxl.chart import BarChart, Reference

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.xlsx")
    with excel_writer(tmp) as xl:
        write_sheet(xl, report.summary, "总体")
        for level, table in report.units.items():
            sheet = f"按{_LEVEL_ZH.get(level, level)}"
            write_sheet(xl, table, sheet)
            ws = xl.sheets[sheet]
            rate_cols = [i + 1 for i, c in enumerate(table.columns) if str(c).endswith("覆盖率")]
            if rate_cols and len(table) > 1:
                chart = BarChart()
                chart.title = f"各{_LEVEL_ZH.get(level, level)}覆盖率"
                for col in rate_cols:
                    chart.add_data(Reference(ws, min_col=col, min_row=1, max_row=len(table) + 1), titles_from_data=True)
                chart.set_categories(Reference(ws, min_col=2, min_row=2, max_row=len(table) + 1))
                chart.y_axis.number_format = "0%"
                ws.add_chart(chart, f"{chr(ord('A') + min(len(table.columns) + 1, 25))}2")
        for level, table in report.need.items():
            write_sheet(xl, table, f"重点人群按{_LEVEL_ZH.get(level, level)}")
        write_sheet(xl, report.gaps, "主要缺口")
        write_sheet(xl, pd.DataFrame({"说明": report.notes or ["—"]}), "说明")
    os.replace(tmp, target)
    return target


#: Rows of a table on one PDF page (a longer table continues on the next).
ROWS_PER_PAGE = 24


def report_cell(column: str, value: object) -> str:
    """One value as the report prints it: counts without decimals, shares in percent, degrees to 1 m."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "—"
    name = str(column)
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):  # a count
        return f"{int(value):,}"
    if "覆盖率" in name or "比例" in name:
        return f"{float(value):.1%}"
    if "经度" in name or "纬度" in name:
        return f"{float(value):.5f}"
    if "人口" in name or "网格" in name or "排名" in name or "米)" in name:
        return f"{float(value):,.0f}"
    if "分钟" in name:
        return f"{float(value):.0f}"
    return f"{float(value):,.2f}"


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _table_page(pdf: PdfPages, title: str, frame: pd.DataFrame, font) -> None:
    """``frame`` on as many A4 landscape pages as it needs, columns as wide as their contents."""
    cells = [[report_cell(c, v) for c, v in zip(frame.columns, row)] for row in frame.itertuples(index=False)]
    headers = [str(c) for c in frame.columns]
    widths = np.array([max([_display_width(h)] + [_display_width(r[j]) for r in cells]) + 2
                       for j, h in enumerate(headers)], dtype=float)
    widths = widths / widths.sum()
    size = 8.0 if len(headers) <= 8 else 6.5
    pages = [cells[k:k + ROWS_PER_PAGE] for k in range(0, len(cells), ROWS_PER_PAGE)] or [[]]
    for n, rows in enumerate(pages, start=1):
        fig = plt.figure(figsize=(11.69, 8.27))
        head = title if len(pages) == 1 else f"{title}（{n}/{len(pages)}）"
        fig.text(0.05, 0.94, head, fontproperties=font, fontsize=14)
        ax = fig.add_axes([0.03, 0.05, 0.94, 0.85])
        ax.axis("off")
        if rows:
            table = ax.table(cellText=rows, colLabels=headers, loc="upper center", cellLoc="center",
                             colWidths=list(widths))
            table.auto_set_font_size(False)
            for (r, _c), cell in table.get_celld().items():
                cell.set_text_props(fontproperties=font, fontsize=size)
                cell.set_height(0.034)
                if r == 0:
                    cell.set_facecolor("#eeeeee")
        pdf.savefig(fig)
        plt.close(fig)


def write_report_pdf(report: DistrictReport, path: str | os.PathLike[str]) -> Path:
    """The report as a PDF in Chinese: summary, per-unit tables and charts, top gaps, notes."""
    font = cjk_font()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.pdf")
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(tmp) as pdf:
        _table_page(pdf, f"{report.title}（{report.date}）· 总体", report.summary, font)
        for level, table in report.units.items():
            rate_cols = [c for c in table.columns if str(c).endswith("覆盖率")]
            if len(table) > 1 and rate_cols:
                fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.69, 8.27))
                x = np.arange(len(table))
                width = 0.8 / len(rate_cols)
                for k, col in enumerate(rate_cols):
                    ax1.bar(x + k * width, table[col].fillna(0), width, label=col)
                ax1.set_xticks(x + 0.4 - width / 2, table["名称"], fontproperties=font, rotation=45, ha="right")
                ax1.set_title(f"各{_LEVEL_ZH.get(level, level)}覆盖率", fontproperties=font)
                ax1.legend(prop=font)
                area = table["人均体育场地面积(m²)"].fillna(0)
                ax2.bar(x, area, color="#1b9e3a")
                ax2.axhline(SPORTS_AREA_TARGET_M2_PER_RESIDENT, color="#e31a1c", ls="--")
                ax2.text(x[-1], SPORTS_AREA_TARGET_M2_PER_RESIDENT, f"目标 {SPORTS_AREA_TARGET_M2_PER_RESIDENT:g} m²",
                         fontproperties=font, ha="right", va="bottom", color="#e31a1c")
                ax2.set_xticks(x, table["名称"], fontproperties=font, rotation=45, ha="right")
                ax2.set_title("人均体育场地面积（m²）", fontproperties=font)
                fig.tight_layout()
                pdf.savefig(fig)
                plt.close(fig)
            _table_page(pdf, f"按{_LEVEL_ZH.get(level, level)}统计", table, font)
        for level, table in report.need.items():
            _table_page(pdf, f"重点人群可达适配设施比例（按{_LEVEL_ZH.get(level, level)}，估算）", table, font)
        _table_page(pdf, "主要覆盖缺口（按未覆盖人口排序）", report.gaps, font)
        _table_page(pdf, "说明", pd.DataFrame({"说明": report.notes or ["—"]}), font)
    os.replace(tmp, target)
    return target
