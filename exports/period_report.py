"""The alliance's monthly and quarterly report (月报/季报), per department and for the alliance, in Chinese.

Every figure is read as it stood at one moment, the *pin*: the period's end (or, for a period
still running, the moment given).  Layers come from the snapshot of the version log at the pin,
record tables (surveys, venue usage) at their last version by then, field reports from their
steps up to then, layer changes from the version log up to then — so the same period and pin
give the same figures whenever the report is made again, whatever was written since.

Sections: the indicators with their change since the previous period's end (open rate, coverage
at 300/500/1000 m, m² per resident, school opening hours, satisfaction, venue utilisation from the
usage records of the period); field reports received / resolved / rejected / open / overdue and
the median hours to close; the ten largest gaps (500 m) with a map of each; and the changes to
each department's layers in the period.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from exports.print_map import cjk_font  # noqa: E402
from exports.report import _table_page  # noqa: E402
from exports.sheets import excel_writer, write_sheet
from geo.coverage import ANY_LAYER  # noqa: E402
from geo.definitions import CIRCLE_METRES, LIFE_CIRCLES  # noqa: E402
from geo.errors import AnalysisError  # noqa: E402
from geo.gaps import defined_gaps, gap_table  # noqa: E402
from geo.indicators import DEPARTMENT_LAYERS, compute_indicators  # noqa: E402
from geo.inputs import engine_from_readers  # noqa: E402
from geo.usage import venue_usage  # noqa: E402
from i18n.definitions import circle_label, figure_label  # noqa: E402
from layers.catalogue import CATALOGUE, DEPARTMENTS  # noqa: E402
from layers.errors import InputFileError  # noqa: E402
from layers.field_reports import reports_as_of  # noqa: E402
from layers.stores.field_report_table import CLOSED  # noqa: E402
from layers.stores.snapshot import snapshot_as_of  # noqa: E402

_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|Q([1-4]))$")
GAP_THRESHOLD_M = CIRCLE_METRES["10min"]
TOP_GAPS = 10


@dataclass(frozen=True)
class Period:
    """A calendar month (``2026-10``) or quarter (``2026Q3``), local time."""

    label: str
    start: dt.datetime
    end: dt.datetime  # the last second

    @property
    def kind_zh(self) -> str:
        """月报 or 季报."""
        return "季报" if "Q" in self.label else "月报"

    def previous(self) -> "Period":
        """The period before, of the same kind."""
        if "Q" in self.label:
            p = pd.Period(self.label, freq="Q") - 1
            return parse_period(f"{p.year}Q{p.quarter}")
        return parse_period((pd.Period(self.label, freq="M") - 1).strftime("%Y-%m"))


def parse_period(text: str) -> Period:
    """``2026-10`` or ``2026Q3`` as a :class:`Period`; a clear error otherwise."""
    m = _PERIOD.match(str(text).strip())
    if not m:
        raise InputFileError.coded("report.period", period=str(text))
    freq = "Q" if m.group(3) else "M"
    p = pd.Period(str(text).strip(), freq=freq)
    return Period(str(text).strip(), p.start_time.to_pydatetime(), p.end_time.floor("s").to_pydatetime())


@dataclass
class PeriodReport:
    """The report's tables (Chinese headers), its maps' geometry and what it was read from."""

    title: str
    department: str
    period: Period
    pinned_at: dt.datetime
    indicators: pd.DataFrame
    reports: pd.DataFrame
    categories: pd.DataFrame
    gaps: pd.DataFrame
    gap_shapes: list = field(default_factory=list)  # (gap polygon, facility points, boundaries) in EPSG:4326
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    snapshot: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)


def _utc(moment: dt.datetime) -> pd.Timestamp:
    """The end of a local second (the server's clock, as field reports are stamped) in UTC, as the version log
    keeps time: a write during that second counts as done by then."""
    return pd.Timestamp(moment.astimezone()).tz_convert("UTC") + pd.Timedelta(microseconds=999_999)


def records_at(store, kind: str, moment: pd.Timestamp) -> pd.DataFrame | None:
    """Record table ``kind`` at its last version written by ``moment`` (``None`` when there was none)."""
    log = store.history(kind)
    log = log[(log["kind"] == "records") & (log["changed_at"] <= moment)]
    if log.empty:
        return None
    return store.records.read(kind, version=int(log["layer_version"].max()))


def _indicator_figures(store, moment: dt.datetime, period: Period, department: str) -> tuple[dict, object]:
    """City figures at ``moment`` (empty when the layers were not stored then), and the snapshot."""
    snap = snapshot_as_of(store, _utc(moment), label=f"{moment:%Y-%m-%d %H:%M}")
    boundaries, venues = snap.vector("boundaries"), snap.vector("venues")
    if boundaries is None or venues is None or snap.raster("population") is None:
        return {}, snap
    engine = engine_from_readers(snap.vector, snap.raster)
    survey = records_at(store, "satisfaction", _utc(moment))
    ind = compute_indicators(engine, boundaries, venues=venues, school_facilities=snap.vector("school_facilities"),
                             survey=survey, level="street", label=snap.label)
    figures = dict(ind.city)
    if department in DEPARTMENT_LAYERS:
        own = ind.departments[(ind.departments["department"] == department)
                              & ind.departments["indicator"].str.startswith("service_coverage")]
        figures["own_coverage"] = float(own["value"].iloc[0]) if len(own) else np.nan
    usage = records_at(store, "venue_usage", _utc(moment))
    if usage is not None and len(usage):
        day = pd.to_datetime(usage["date"])
        usage = usage[(day >= pd.Timestamp(period.start)) & (day <= pd.Timestamp(period.end))]
    if usage is not None and len(usage):
        used = venue_usage(engine, venues, usage).table
        known = used[used["utilisation"].notna()]
        figures["utilisation"] = float(known["utilisation"].mean()) if len(known) else np.nan
        figures["venues_over"] = int((used["status"] == "over").sum())
        figures["visits"] = float(usage.loc[usage["measure"] == "visits", "count"].astype(float).sum())
    figures["_engine"], figures["_boundaries"], figures["_venues"] = engine, boundaries, venues
    return figures, snap


#: (key, label, kind) of the indicator table's rows; kind says how the change is read.
INDICATOR_ROWS = [
    ("open_rate", "学校体育设施开放率", "share"),
    ("weekly_open_hours", "开放学校设施每周平均开放时长（小时）", "number"),
    ("meets_hours_rate", "达到开放时长要求的比例", "share"),
    *((f"coverage_{c.metres:g}", figure_label(ANY_LAYER, c.metres, "zh"), "share") for c in LIFE_CIRCLES),
    ("own_coverage", "本部门设施1000米服务覆盖率", "share"),
    ("m2_per_resident", "人均体育场地面积（m²）", "number"),
    ("satisfaction", "居民满意度（分）", "number"),
    ("stations_with_fitness_rate", f"健康驿站{circle_label(CIRCLE_METRES['10min'], 'zh')}内有健身资源的比例", "share"),
    ("utilisation", "场馆平均利用率（本期使用记录）", "share"),
    ("visits", "场馆入场人次（本期）", "count"),
]


#: How the tables' columns print (see :func:`exports.report.report_cell`).
KINDS = {"排名": "count", "未覆盖人口": "count", "面积(km²)": "number", "中心经度": "degrees", "中心纬度": "degrees",
         "本期收到": "count", "本期办结": "count", "本期驳回": "count", "期末未办结": "count", "期末超期": "count",
         "办结中位时长（小时）": "number", "本期版本数": "count", "写入要素数": "count", "期末版本": "count",
         "期末要素数": "count"}


def _indicator_table(now: dict, before: dict, department: str) -> pd.DataFrame:
    rows = []
    for key, label, kind in INDICATOR_ROWS:
        if key == "own_coverage" and department not in DEPARTMENT_LAYERS:
            continue
        a = now.get(key, np.nan) if now else np.nan
        b = before.get(key, np.nan) if before else np.nan
        change = a - b if np.isfinite(a) and np.isfinite(b) else np.nan
        rows.append({"指标": label, "本期": a, "上期": b, "变化": change, "口径": kind})
    return pd.DataFrame(rows)


def _report_counts(reports: pd.DataFrame, period: Period, by: str, values: list[str]) -> pd.DataFrame:
    start, end = period.start.strftime("%Y-%m-%d %H:%M:%S"), period.end.strftime("%Y-%m-%d %H:%M:%S")
    received = reports["created_at"].between(start, end)
    closed_in = reports["closed_at"].fillna("").astype(str).between(start, end)
    hours = (pd.to_datetime(reports["closed_at"]) - pd.to_datetime(reports["created_at"])).dt.total_seconds() / 3600
    rows = []
    for value in values:
        mine = reports[by] == value
        resolved = mine & closed_in & (reports["status"] == "resolved")
        rows.append({"分组": value, "本期收到": int((mine & received).sum()), "本期办结": int(resolved.sum()),
                     "本期驳回": int((mine & closed_in & (reports["status"] == "rejected")).sum()),
                     "期末未办结": int((mine & ~reports["status"].isin(CLOSED)).sum()),
                     "期末超期": int((mine & ~reports["status"].isin(CLOSED) & reports["overdue"]).sum()),
                     "办结中位时长（小时）": float(hours[resolved].median()) if resolved.any() else np.nan})
    table = pd.DataFrame(rows)
    total = table.drop(columns=["分组", "办结中位时长（小时）"]).sum()
    every = reports[by].isin(values) & closed_in & (reports["status"] == "resolved")
    table.loc[len(table)] = {"分组": "合计", **total.to_dict(),
                             "办结中位时长（小时）": float(hours[every].median()) if every.any() else np.nan}
    return table


CHANGE_COLUMNS = ["图层", "所属部门", "本期版本数", "写入要素数", "期末版本", "期末要素数", "操作人"]


def _changes(store, period: Period, pin: pd.Timestamp, department: str) -> pd.DataFrame:
    rows = []
    start = _utc(period.start) - pd.Timedelta(microseconds=999_999)
    for name, spec in CATALOGUE.items():
        if department != "alliance" and spec.department not in (department, "alliance"):
            continue
        log = store.history(name)
        log = log[(log["changed_at"] >= start) & (log["changed_at"] <= pin) & (log["kind"] != "records")]
        if log.empty:
            continue
        rows.append({"图层": spec.label_zh, "所属部门": DEPARTMENTS[spec.department][0], "本期版本数": len(log),
                     "写入要素数": int(log["n_written"].fillna(0).sum()),
                     "期末版本": int(log["layer_version"].max()), "期末要素数": int(log["n_total"].iloc[-1]),
                     "操作人": "、".join(sorted(set(log["changed_by"].astype(str))))})
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def period_report(store, period: str | Period, *, department: str = "alliance",
                  as_of: dt.datetime | None = None, now: dt.datetime | None = None) -> PeriodReport:
    """Gather the report of ``department`` (or the whole alliance) for ``period``, read at its pin.

    ``as_of`` pins a period still running (at most ``now``); a finished period is pinned at its end.

    Raises
    ------
    InputFileError
        An unknown period or department, or a pin after now.
    """
    period = period if isinstance(period, Period) else parse_period(period)
    if department not in DEPARTMENTS:
        raise AnalysisError(f"Department {department!r} is not one of {', '.join(DEPARTMENTS)}.")
    now = (now or dt.datetime.now()).replace(microsecond=0)
    pin = min(period.end, as_of.replace(microsecond=0)) if as_of is not None else period.end
    if pin > now:
        raise InputFileError.coded("report.period_future", period=period.label)
    if pin < period.start:
        raise InputFileError.coded("report.period", period=f"{period.label} @ {pin:%Y-%m-%d %H:%M}")
    current, snap = _indicator_figures(store, pin, period, department)
    previous, _ = _indicator_figures(store, period.previous().end, period.previous(), department)
    indicators = _indicator_table(current, previous, department)

    reports = reports_as_of(store, pin)
    if department != "alliance":
        reports = reports[reports["department"] == department]
    from i18n.values import value_label
    from layers.field_reports import CATEGORIES

    by_dept = _report_counts(reports, period, "department", list(DEPARTMENTS) if department == "alliance"
                             else [department])
    by_dept["分组"] = by_dept["分组"].map(lambda v: DEPARTMENTS[v][0] if v in DEPARTMENTS else v)
    by_cat = _report_counts(reports, period, "category", list(CATEGORIES))
    by_cat["分组"] = by_cat["分组"].map(lambda v: value_label("category", v, "zh") if v != "合计" else v)

    gaps, shapes, notes = pd.DataFrame(), [], []
    if current:
        layer = DEPARTMENT_LAYERS.get(department, ANY_LAYER)
        engine = current["_engine"]
        result = engine.run([GAP_THRESHOLD_M], layers=[layer] if layer != ANY_LAYER else None)
        areas = defined_gaps(result, layer, GAP_THRESHOLD_M, current["_boundaries"]).head(TOP_GAPS)
        table = gap_table(areas)
        gaps = pd.DataFrame({"排名": table["rank"], "街道": table["unit_name"],
                             "未覆盖人口": table["uncovered_residents"].round(0),
                             "面积(km²)": table["area_km2"].round(3), "中心经度": table["lon"].round(5),
                             "中心纬度": table["lat"].round(5)})
        bounds = current["_boundaries"].to_crs(4326)
        facilities = snap.vector(layer) if layer != ANY_LAYER else current["_venues"]
        for geom in areas.to_crs(4326).geometry:
            shapes.append((geom, facilities.to_crs(4326) if facilities is not None else None, bounds))
    else:
        notes.append(f"截至 {pin:%Y-%m-%d %H:%M}，边界、人口或场馆图层尚未入库，指标与缺口无法计算。")
    if not previous:
        notes.append(f"上期末（{period.previous().end:%Y-%m-%d}）图层尚未入库，指标变化无法计算。")
    utc_pin = _utc(pin)
    snapshot = pd.DataFrame([{"图层": CATALOGUE[n].label_zh if n in CATALOGUE else n, "类型": k, "版本": v}
                             for (n, k), v in sorted(snap.versions.items())], columns=["图层", "类型", "版本"])
    who = "健身联盟" if department == "alliance" else DEPARTMENTS[department][0]
    notes.append(f"全部数字按 {pin:%Y-%m-%d %H:%M:%S}（服务器本地时间）时的数据计算：图层取当时的版本，"
                 "记录表取当时最后一次导入，问题反馈取当时的办理状态；再次生成结果相同。")
    return PeriodReport(title=f"{who}全民健身工作{period.kind_zh}（{period.label}）", department=department,
                        period=period, pinned_at=pin, indicators=indicators, reports=by_dept, categories=by_cat,
                        gaps=gaps, gap_shapes=shapes, changes=_changes(store, period, utc_pin, department),
                        snapshot=snapshot, notes=notes)


def _indicator_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The indicator table as printed: shares in percent, changes in points."""
    out = table[["指标"]].copy()
    for col in ("本期", "上期", "变化"):
        out[col] = [_fmt(v, kind, change=col == "变化") for v, kind in zip(table[col], table["口径"])]
    return out


def _fmt(value: float, kind: str, *, change: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    sign = "+" if change and value > 0 else ""
    if kind == "share":
        return f"{sign}{value * 100:.1f}" + ("个百分点" if change else "%")
    if kind == "count":
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:.2f}"


def write_period_xlsx(report: PeriodReport, path: str | os.PathLike[str]) -> Path:
    """The report as a workbook: indicators, field reports (by department and category), gaps, layer
    changes, the snapshot read and notes; the gap maps as pictures on the gaps sheet."""
    from openpyxl.drawing.image import Image as SheetImage

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.xlsx")
    with excel_writer(tmp) as xl:
        head = pd.DataFrame({"项目": ["报告", "报告期", "数据时点"],
                             "内容": [report.title, f"{report.period.start:%Y-%m-%d} 至 {report.period.end:%Y-%m-%d}",
                                      f"{report.pinned_at:%Y-%m-%d %H:%M:%S}"]})
        write_sheet(xl, head, "封面")
        write_sheet(xl, report.indicators.drop(columns="口径"), "指标")
        write_sheet(xl, report.reports, "问题反馈按部门")
        write_sheet(xl, report.categories, "问题反馈按类别")
        write_sheet(xl, report.gaps, "主要缺口")
        if report.gap_shapes:
            png = target.with_name(f".{target.stem}.gaps.png")
            fig = _gap_figure(report)
            fig.savefig(png, dpi=90)
            plt.close(fig)
            xl.sheets["主要缺口"].add_image(SheetImage(str(png)), "H2")
        write_sheet(xl, report.changes, "图层变更")
        write_sheet(xl, report.snapshot, "数据快照")
        write_sheet(xl, pd.DataFrame({"说明": report.notes or ["—"]}), "说明")
    os.replace(tmp, target)
    target.with_name(f".{target.stem}.gaps.png").unlink(missing_ok=True)
    return target


def _gap_figure(report: PeriodReport):
    """The gaps on small maps (2 × 5 on an A4 landscape page), each with the facilities around it."""
    font = cjk_font()
    fig, axes = plt.subplots(2, 5, figsize=(11.69, 8.27))
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= len(report.gap_shapes):
            continue
        gap, facilities, bounds = report.gap_shapes[k]
        x0, y0, x1, y1 = gap.buffer(0.006).bounds
        bounds.boundary.plot(ax=ax, color="#888888", linewidth=0.5)
        if facilities is not None and len(facilities):
            facilities.plot(ax=ax, color="#1b6ec2", markersize=6, linewidth=1)
        import geopandas as gpd

        gpd.GeoSeries([gap], crs=4326).plot(ax=ax, color="#e31a1c", alpha=0.6)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)))  # degrees of longitude are shorter
        row = report.gaps.iloc[k]
        ax.set_title(f"缺口 {int(row['排名'])}：{row['街道']}\n未覆盖 {row['未覆盖人口']:,.0f} 人",
                     fontproperties=font, fontsize=8)
    fig.suptitle(f"{circle_label(GAP_THRESHOLD_M, 'zh')}覆盖缺口（红）与周边设施（蓝）", fontproperties=font,
                 fontsize=13)
    fig.tight_layout()
    return fig


def write_period_pdf(report: PeriodReport, path: str | os.PathLike[str]) -> Path:
    """The report as a PDF in Chinese: indicators, field-report counts, gap maps and table, layer changes."""
    font = cjk_font()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.pdf")
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(tmp) as pdf:
        _table_page(pdf, f"{report.title} · 指标（数据时点 {report.pinned_at:%Y-%m-%d %H:%M}）",
                    _indicator_cells(report.indicators), font, KINDS)
        _table_page(pdf, "问题反馈办理情况（按部门）", report.reports, font, KINDS)
        _table_page(pdf, "问题反馈办理情况（按类别）", report.categories, font, KINDS)
        if report.gap_shapes:
            fig = _gap_figure(report)
            pdf.savefig(fig)
            plt.close(fig)
        _table_page(pdf, f"主要覆盖缺口（{circle_label(GAP_THRESHOLD_M, 'zh')}，按未覆盖人口排序）", report.gaps, font,
                    KINDS)
        _table_page(pdf, "本期图层变更（来自版本记录）", report.changes, font, KINDS)
        _table_page(pdf, "说明", pd.DataFrame({"说明": report.notes or ["—"]}), font, KINDS)
    os.replace(tmp, target)
    return target


__all__ = ["Period", "PeriodReport", "parse_period", "period_report", "write_period_xlsx", "write_period_pdf",
           "records_at", "INDICATOR_ROWS"]
