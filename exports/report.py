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
from exports.text_fit import display_width, wrap_cell
from geo.coverage import CoverageResult  # noqa: E402
from geo.definitions import GAP_LEVEL  # noqa: E402
from geo.errors import AnalysisError  # noqa: E402
from geo.gaps import defined_gaps, gap_table  # noqa: E402
from geo.units import (  # noqa: E402
    SPORTS_AREA_TARGET_M2_PER_RESIDENT,
    assign_units,
    coverage_by_unit,
    school_open_share_by_unit,
    sports_area_by_unit,
)
from i18n.definitions import circle_label, figure_label, labelled_summary, share_text  # noqa: E402
from i18n.names import place_name  # noqa: E402
from i18n.notes import render_note  # noqa: E402
from i18n.values import value_label  # noqa: E402

_LEVEL_ZH = {"district": "区", "street": "街道", "community": "社区"}
#: Every label of the report in each language (the rest come from :mod:`i18n.definitions`).
LABELS: dict[str, tuple[str, str]] = {
    "title": ("全民健身设施覆盖报告", "Fitness facility coverage report"),
    "figure": ("指标", "Figure"), "distance": ("步行距离(米)", "Walk (m)"), "minutes": ("步行时间(分钟)", "Walk (min)"),
    "residents": ("常住人口", "Residents"), "covered": ("覆盖人口", "Residents covered"),
    "uncovered": ("未覆盖人口", "Residents not covered"), "rate": ("覆盖率", "Coverage"),
    "method": ("距离算法", "Distance"), "status": ("状态", "Status"), "code": ("代码", "Code"),
    "name": ("名称", "Name"), "per_capita": ("人均体育场地面积(m²)", "Sports area per resident (m²)"),
    "meets": ("达到{target}m²目标", "Meets the {target} m² target"), "yes": ("是", "yes"), "no": ("否", "no"),
    "school_open": ("学校体育设施开放比例", "Share of school facilities open to the public"),
    "rank": ("排名", "Rank"), "area": ("面积(km²)", "Area (km²)"), "lon": ("中心经度", "Centre longitude"),
    "lat": ("中心纬度", "Centre latitude"), "notes": ("说明", "Notes"), "summary": ("总体", "Summary"),
    "by": ("按{level}", "By {level}"), "need_by": ("重点人群按{level}", "Need groups by {level}"),
    "gaps": ("主要缺口", "Largest gaps"), "rates_by": ("各{level}覆盖率", "Coverage by {level}"),
    "target": ("目标 {target} m²", "target {target} m²"),
    "need_title": ("重点人群可达适配设施比例（按{level}，估算）",
                   "Need groups within reach of the facilities that serve them (by {level}, estimates)"),
    "gaps_title": ("主要覆盖缺口（按未覆盖人口排序）", "Largest coverage gaps (by residents not covered)"),
    "by_title": ("按{level}统计", "By {level}"), "need_share": ("{group}可达适配设施比例", "{group} within reach"),
    "estimate": ("人口为估算值，所有人数均为估算。", "The population is an estimate; every count of residents is."),
    "need_note": ("重点人群可达比例为估算：卫健委汇总人数按人口分布到网格后计算，取整到 1%，不是任何人的实际人数。",
                  "Need groups' shares are estimates: the health commission's aggregates spread over the grid by "
                  "population, rounded to whole percent; they are no count of anyone."),
}
_LEVELS = {"district": ("区", "district"), "street": ("街道", "street"), "community": ("社区", "community")}


def label(key: str, lang: str = "zh", **values: object) -> str:
    """One of the report's labels in ``lang``."""
    zh, en = LABELS[key]
    return (en if lang == "en" else zh).format(**values)


def level_name(level: str, lang: str = "zh") -> str:
    """A unit level's name in ``lang`` (区 / district …)."""
    zh, en = _LEVELS.get(level, (level, level))
    return en if lang == "en" else zh


@dataclass
class DistrictReport:
    """The report's tables (column names in its language) and its notes; ``kinds`` says how each column is
    printed (``coverage`` and ``share``, ``count``, ``degrees``, ``minutes``, ``metres``, ``number``)."""

    title: str
    layer: str
    summary: pd.DataFrame
    units: dict[str, pd.DataFrame]
    gaps: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    date: str = ""
    need: dict[str, pd.DataFrame] = field(default_factory=dict)  # level → each need group's share (protected)
    lang: str = "zh"
    kinds: dict[str, str] = field(default_factory=dict)


def district_report(result: CoverageResult, boundaries: gpd.GeoDataFrame, *, venues: gpd.GeoDataFrame,
                    school_facilities: gpd.GeoDataFrame | None = None, layer: str = "venues",
                    levels: tuple[str, ...] = ("district", "street"), gap_threshold: float = 500.0,
                    top_gaps: int = 10, title: str | None = None,
                    need: Mapping[str, Mapping[str, float]] | None = None,
                    engine=None, need_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
                    lang: str = "zh") -> DistrictReport:
    """Gather the report's tables for ``layer`` at every threshold of the result, in ``lang``.

    Every coverage column says what it counts and at which life circle (:mod:`i18n.definitions`); gaps are
    the product's (:func:`geo.gaps.defined_gaps`: cut by street and into pieces of about 1 km²), each named
    by its unit and located by its centre. With ``need`` (indicator → unit code → people, from the health
    commission's aggregates) and the ``engine`` that made the result, each level gains a table of every
    need group's share within reach of the facilities that serve it (:func:`geo.need.need_rates_by_unit`), a
    modelled estimate published to whole percent as on every surface (:mod:`geo.disclosure`); no count of a
    need group is printed.

    Raises
    ------
    AnalysisError
        When ``layer`` is not in the result or a level has no boundary.
    """
    if layer not in result.thresholds:
        raise AnalysisError(f"The coverage result has no layer {layer!r}; it has {', '.join(result.thresholds)}.")
    L = lambda key, **v: label(key, lang, **v)  # noqa: E731
    kinds: dict[str, str] = {}
    summary = labelled_summary(result.summary(), lang)
    summary = summary[summary["layer"] == layer].drop(columns="layer")
    summary["minutes"] = summary["minutes"].round(1)
    renamed = {"figure": L("figure"), "threshold_m": L("distance"), "minutes": L("minutes"),
               "residents": L("residents"), "covered": L("covered"), "uncovered": L("uncovered"), "rate": L("rate"),
               "method": L("method"), "status": L("status")}
    summary["method"] = summary["method"].map(lambda v: value_label("method", v, lang))
    summary["status"] = summary["status"].map(lambda v: value_label("coverage_status", v, lang))
    summary = summary.rename(columns=renamed)
    kinds.update({L("distance"): "metres", L("minutes"): "minutes", L("residents"): "count", L("covered"): "count",
                  L("uncovered"): "count", L("rate"): "share"})
    tables = {}
    notes = list(dict.fromkeys(result.notes))
    for level in levels:
        units = assign_units(result.demand, boundaries, level=level)
        notes += list(units.notes)
        cov = coverage_by_unit(result, units, layer=layer)
        wide = cov.pivot_table(index=["code", "name"], columns="threshold_m", values=["rate", "uncovered"],
                               sort=False)
        out = pd.DataFrame({L("code"): [c for c, _ in wide.index],
                            L("name"): [place_name(n, lang) for _, n in wide.index]})
        residents = cov.drop_duplicates(["code"]).set_index("code")["residents"]
        out[L("residents")] = residents.reindex(out[L("code")]).to_numpy()
        kinds[L("residents")] = "count"
        for th in result.thresholds[layer]:
            rate_col = figure_label(layer, th, lang)
            out[rate_col] = wide[("rate", th)].to_numpy()
            uncovered_col = f"{L('uncovered')} · {circle_label(th, lang)}"
            out[uncovered_col] = wide[("uncovered", th)].to_numpy()
            kinds[rate_col], kinds[uncovered_col] = "coverage", "count"
        area = sports_area_by_unit(units, result.demand, venues, school_facilities=school_facilities)
        area = area.set_index("code").reindex(out[L("code")])
        out[L("per_capita")] = area["m2_per_resident"].to_numpy()
        kinds[L("per_capita")] = "number"
        meets = L("meets", target=f"{SPORTS_AREA_TARGET_M2_PER_RESIDENT:g}")
        out[meets] = area["meets_target"].map({True: L("yes"), False: L("no")}).to_numpy()
        if school_facilities is not None:
            share = school_open_share_by_unit(units, school_facilities).set_index("code").reindex(out[L("code")])
            out[L("school_open")] = share["share_open"].to_numpy()
            kinds[L("school_open")] = "share"
        tables[level] = out
    gaps = gap_table(defined_gaps(result, layer, gap_threshold, boundaries)).head(top_gaps)
    gaps = gaps.assign(unit_name=gaps["unit_name"].map(lambda n: place_name(n, lang)))
    gaps = gaps[["rank", "unit_name", "uncovered_residents", "area_km2", "lon", "lat"]].rename(columns={
        "rank": L("rank"), "unit_name": level_name(GAP_LEVEL, lang), "uncovered_residents": L("uncovered"),
        "area_km2": L("area"), "lon": L("lon"), "lat": L("lat")})
    kinds.update({L("rank"): "count", L("area"): "number", L("lon"): "degrees", L("lat"): "degrees"})
    need_tables = {} if not need or engine is None else _need_tables(
        engine, boundaries, levels, need, dict(need_layers or {}) | {"venues": venues,
                                                                  "school_facilities": school_facilities},
        lang, kinds)
    said = [render_note(n, lang) for n in dict.fromkeys(notes)]
    if need_tables:
        said.append(L("need_note"))
    if result.demand.is_estimate:
        said.insert(0, L("estimate"))
    return DistrictReport(title=title or L("title"), layer=layer, summary=summary, units=tables, gaps=gaps,
                          notes=said, date=dt.date.today().isoformat(), need=need_tables, lang=lang, kinds=kinds)


def _need_tables(engine, boundaries: gpd.GeoDataFrame, levels: tuple[str, ...],
                 need: Mapping[str, Mapping[str, float]], layers: Mapping[str, gpd.GeoDataFrame],
                 lang: str, kinds: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Per level: code, name and each need group's share within reach of its facilities (an estimate to whole
    percent; — where the unit has nobody in the group)."""
    from geo.need import need_rates_by_unit
    from layers.health import INDICATORS, configured_matching

    out = {}
    for level in levels:
        units = assign_units(engine.demand, boundaries, level=level)
        rates, _city = need_rates_by_unit(engine, boundaries, units, need, layers, configured_matching())
        table = pd.DataFrame({label("code", lang): units.units["code"].to_numpy(),
                              label("name", lang): [place_name(n, lang) for n in units.units["name"]]})
        for code in need:
            if f"need_{code}" not in rates:
                continue
            ind = INDICATORS.get(code)
            group = (ind.group_en if lang == "en" else ind.group_zh) if ind is not None else code
            title = label("need_share", lang, group=group)
            kinds[title] = "share"
            table[title] = rates[f"need_{code}"].to_numpy()
        if len(table.columns) > 2:
            out[level] = table
    return out


def write_report_xlsx(report: DistrictReport, path: str | os.PathLike[str]) -> Path:
    """The report as a workbook in its language: summary, one sheet per level (with a bar chart of its
    coverage), top gaps, notes."""
    from openpyxl.chart import BarChart, Reference

    lang = report.lang
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.xlsx")
    with excel_writer(tmp) as xl:
        write_sheet(xl, report.summary, label("summary", lang))
        for level, table in report.units.items():
            sheet = label("by", lang, level=level_name(level, lang))[:31]
            write_sheet(xl, table, sheet)
            ws = xl.sheets[sheet]
            rate_cols = [i + 1 for i, c in enumerate(table.columns) if _is_coverage(report, c)]
            if rate_cols and len(table) > 1:
                chart = BarChart()
                chart.title = label("rates_by", lang, level=level_name(level, lang))
                for col in rate_cols:
                    chart.add_data(Reference(ws, min_col=col, min_row=1, max_row=len(table) + 1), titles_from_data=True)
                chart.set_categories(Reference(ws, min_col=2, min_row=2, max_row=len(table) + 1))
                chart.y_axis.number_format = "0%"
                ws.add_chart(chart, f"{chr(ord('A') + min(len(table.columns) + 1, 25))}2")
        for level, table in report.need.items():
            write_sheet(xl, table, label("need_by", lang, level=level_name(level, lang)))
        write_sheet(xl, report.gaps, label("gaps", lang))
        write_sheet(xl, pd.DataFrame({label("notes", lang): report.notes or ["—"]}), label("notes", lang))
    os.replace(tmp, target)
    return target


def _is_coverage(report: DistrictReport, column: object) -> bool:
    """A per-unit coverage column (the shares the charts draw)."""
    return report.kinds.get(str(column)) == "coverage"


#: Rows of a table on one PDF page (a longer table continues on the next).
ROWS_PER_PAGE = 24


def report_cell(kind: str, value: object) -> str:
    """One value as the report prints it, by its column's kind: counts without decimals, shares in percent to
    one decimal (as every surface prints them), degrees to 1 m, minutes whole."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "—"
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        return str(value)
    if kind in ("share", "coverage"):
        return share_text(float(value))
    if kind == "degrees":
        return f"{float(value):.5f}"
    if kind in ("count", "metres"):
        return f"{float(value):,.0f}"
    if kind == "minutes":
        return f"{float(value):.0f}" if abs(float(value) - round(float(value))) < 0.05 else f"{float(value):.1f}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return f"{float(value):,.2f}"


def _table_page(pdf, title: str, frame: pd.DataFrame, font, kinds: Mapping[str, str]) -> None:
    """``frame`` on as many A4 landscape pages as it needs, columns as wide as their contents."""
    cells = [[report_cell(kinds.get(str(c), "number"), v) for c, v in zip(frame.columns, row)]
             for row in frame.itertuples(index=False)]
    headers = [str(c) for c in frame.columns]
    size = 8.0 if len(headers) <= 8 else 6.5
    # Columns as wide as their values (a header wraps rather than widening its column beyond twice them).
    content = [max([display_width(r[j]) for r in cells] + [4]) for j in range(len(headers))]
    widths = np.array([max(c, min(display_width(h), max(2 * c, 12))) + 2 for h, c in zip(headers, content)],
                      dtype=float)
    widths = widths / widths.sum()
    room = 0.94 * 11.69 * 72 / (size * 0.6)  # display columns across the page at this size
    chars = [max(int(w * room) - 1, 4) for w in widths]
    headers = [wrap_cell(h, n) for h, n in zip(headers, chars)]
    cells = [[wrap_cell(v, n) for v, n in zip(row, chars)] for row in cells]
    head_lines = max((h.count("\n") + 1 for h in headers), default=1)
    pages = [cells[k:k + ROWS_PER_PAGE] for k in range(0, len(cells), ROWS_PER_PAGE)] or [[]]
    for n, rows in enumerate(pages, start=1):
        fig = plt.figure(figsize=(11.69, 8.27))
        head = title if len(pages) == 1 else f"{title} ({n}/{len(pages)})"
        fig.text(0.05, 0.94, head, fontproperties=font, fontsize=14)
        ax = fig.add_axes([0.03, 0.05, 0.94, 0.85])
        ax.axis("off")
        if rows:
            table = ax.table(cellText=rows, colLabels=headers, loc="upper center", cellLoc="center",
                             colWidths=list(widths))
            table.auto_set_font_size(False)
            lines = [head_lines] + [max(v.count("\n") + 1 for v in row) for row in rows]
            for (r, _c), cell in table.get_celld().items():
                cell.set_text_props(fontproperties=font, fontsize=size)
                cell.set_height(0.034 + 0.02 * (lines[r] - 1))
                if r == 0:
                    cell.set_facecolor("#eeeeee")
        else:  # an empty table is said, not left a blank page
            ax.text(0.5, 0.9, "—", ha="center", va="top", fontproperties=font, fontsize=14)
        pdf.savefig(fig)
        plt.close(fig)


class _Pages:
    """A PDF's pages as they are drawn, each also kept as a PNG in ``previews`` when given (``<stem>-1.png`` …)."""

    def __init__(self, pdf: PdfPages, stem: str, previews: Path | None) -> None:
        self.pdf, self.stem, self.previews, self.n = pdf, stem, previews, 0

    def savefig(self, fig) -> None:
        """Add ``fig`` as the next page."""
        self.pdf.savefig(fig)
        self.n += 1
        if self.previews is not None:
            self.previews.mkdir(parents=True, exist_ok=True)
            fig.savefig(self.previews / f"{self.stem}-{self.n}.png", dpi=80)


def write_report_pdf(report: DistrictReport, path: str | os.PathLike[str], *,
                     previews: str | os.PathLike[str] | None = None) -> Path:
    """The report as a PDF in its language: summary, per-unit tables and charts, top gaps, notes; with
    ``previews`` (a folder) every page also as a PNG, to look at without a PDF reader."""
    font = cjk_font()
    lang, kinds = report.lang, report.kinds
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.pdf")
    name_col = label("name", lang)
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(tmp) as pages:
        pdf = _Pages(pages, target.stem, Path(previews) if previews is not None else None)
        _table_page(pdf, f"{report.title} ({report.date}) · {label('summary', lang)}", report.summary, font, kinds)
        for level, table in report.units.items():
            rate_cols = [c for c in table.columns if _is_coverage(report, c)]
            if len(table) > 1 and rate_cols:
                fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.69, 8.27))
                x = np.arange(len(table))
                width = 0.8 / len(rate_cols)
                for k, col in enumerate(rate_cols):
                    ax1.bar(x + k * width, table[col].fillna(0), width, label=col)
                ax1.set_xticks(x + 0.4 - width / 2, table[name_col], fontproperties=font, rotation=45, ha="right")
                ax1.set_title(label("rates_by", lang, level=level_name(level, lang)), fontproperties=font)
                ax1.legend(prop=font, fontsize=7)
                area = table[label("per_capita", lang)].fillna(0)
                ax2.bar(x, area, color="#1b9e3a")
                ax2.axhline(SPORTS_AREA_TARGET_M2_PER_RESIDENT, color="#e31a1c", ls="--")
                ax2.text(x[-1], SPORTS_AREA_TARGET_M2_PER_RESIDENT,
                         label("target", lang, target=f"{SPORTS_AREA_TARGET_M2_PER_RESIDENT:g}"),
                         fontproperties=font, ha="right", va="bottom", color="#e31a1c")
                ax2.set_xticks(x, table[name_col], fontproperties=font, rotation=45, ha="right")
                ax2.set_title(label("per_capita", lang), fontproperties=font)
                fig.tight_layout()
                pdf.savefig(fig)
                plt.close(fig)
            _table_page(pdf, label("by_title", lang, level=level_name(level, lang)), table, font, kinds)
        for level, table in report.need.items():
            _table_page(pdf, label("need_title", lang, level=level_name(level, lang)), table, font, kinds)
        _table_page(pdf, label("gaps_title", lang), report.gaps, font, kinds)
        _table_page(pdf, label("notes", lang), pd.DataFrame({label("notes", lang): report.notes or ["—"]}), font,
                    kinds)
    os.replace(tmp, target)
    return target
