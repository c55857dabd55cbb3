"""The alliance's monthly and quarterly report (月报/季报), per department and for the alliance, in Chinese or
English.

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
import threading
from collections import OrderedDict
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
from exports.text_fit import wrap_cell
from geo.coverage import ANY_LAYER  # noqa: E402
from geo.definitions import CIRCLE_METRES, LIFE_CIRCLES  # noqa: E402
from geo.errors import AnalysisError  # noqa: E402
from geo.gaps import defined_gaps, gap_table  # noqa: E402
from geo.indicators import DEPARTMENT_LAYERS, compute_indicators  # noqa: E402
from geo.inputs import engine_from_readers  # noqa: E402
from geo.usage import venue_usage  # noqa: E402
from i18n.definitions import circle_label, figure_label  # noqa: E402
from i18n.names import place_name  # noqa: E402
from i18n.values import value_label  # noqa: E402
from layers.catalogue import CATALOGUE, DEPARTMENTS  # noqa: E402
from layers.errors import InputFileError  # noqa: E402
from layers.stores.field_report_table import CLOSED  # noqa: E402
from layers.stores.snapshot import snapshot_as_of  # noqa: E402
from office.field_reports import reports_as_of  # noqa: E402

_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|Q([1-4]))$")
GAP_THRESHOLD_M = CIRCLE_METRES["10min"]
TOP_GAPS = 10
#: The gap table's columns (Chinese; the report's language is applied where it is written).
GAP_COLUMNS = ("排名", "街道", "未覆盖人口", "面积(km²)", "中心经度", "中心纬度")


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
    """The report's tables (headers and values in :attr:`lang`), its maps' geometry and what it was read from."""

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
    lang: str = "zh"

    @property
    def kinds(self) -> dict[str, str]:
        """How each column prints, by its header in the report's language."""
        return {ENGLISH.get(k, k) if self.lang == "en" else k: v for k, v in KINDS.items()}


def _utc(moment: dt.datetime) -> pd.Timestamp:
    """The end of a local second (the server's clock, as field reports are stamped) in UTC, as the version log
    keeps time: a write during that second counts as done by then."""
    return pd.Timestamp(moment.astimezone()).tz_convert("UTC") + pd.Timedelta(microseconds=999_999)


def records_at(store, kind: str, moment: pd.Timestamp) -> pd.DataFrame | None:
    """Record table ``kind`` at its last version written by ``moment`` (``None`` when there was none)."""
    version = _record_version(store, kind, moment)
    return None if version is None else store.records.read(kind, version=version)


def _record_version(store, kind: str, moment: pd.Timestamp) -> int | None:
    """The last version of record table ``kind`` written by ``moment`` (``None`` when there was none)."""
    log = store.history(kind)
    log = log[(log["kind"] == "records") & (log["changed_at"] <= moment)]
    return None if log.empty else int(log["layer_version"].max())


_ENGINES: OrderedDict[tuple, object] = OrderedDict()
_ENGINES_LOCK = threading.Lock()


def _engine_of(store, snap) -> object:
    """The coverage engine of the layer versions ``snap`` pins (a stored version never changes, so two pins that read
    the same versions — this period and the last, when no layer changed in between — share one engine)."""
    key = (store.description, tuple(sorted(snap.versions.items())))
    with _ENGINES_LOCK:
        if key in _ENGINES:
            _ENGINES.move_to_end(key)
            return _ENGINES[key]
    engine = engine_from_readers(snap.vector, snap.raster)
    with _ENGINES_LOCK:
        _ENGINES[key] = engine
        while len(_ENGINES) > 4:
            _ENGINES.popitem(last=False)
    return engine


def clear_engines() -> None:
    """Forget the engines and figures kept for earlier reports (a benchmark's cold start)."""
    with _ENGINES_LOCK:
        _ENGINES.clear()
        _FIGURES.clear()


#: Figures of earlier reports, by what they were computed from (see :func:`_figures_at`).
_FIGURES: OrderedDict[tuple, dict] = OrderedDict()


def _figures_at(store, moment: dt.datetime, period: Period, department: str) -> tuple[dict, object]:
    """:func:`_indicator_figures`, kept per what they are computed from — the layer versions pinned at ``moment``,
    the survey and usage record versions then, the period and the department.  A stored version never changes, so
    the same key is the same figures: the previous period's end, reported again next month (or the same report
    asked twice), is not computed again."""
    snap = snapshot_as_of(store, _utc(moment), label=f"{moment:%Y-%m-%d %H:%M}")
    key = (store.description, tuple(sorted(snap.versions.items())),
           _record_version(store, "satisfaction", _utc(moment)), _record_version(store, "venue_usage", _utc(moment)),
           period.start, period.end, department)
    with _ENGINES_LOCK:
        if key in _FIGURES:
            _FIGURES.move_to_end(key)
            return dict(_FIGURES[key]), snap
    figures, _ = _indicator_figures(store, moment, period, department, snap=snap)
    with _ENGINES_LOCK:
        _FIGURES[key] = dict(figures)
        while len(_FIGURES) > 16:
            _FIGURES.popitem(last=False)
    return figures, snap


def _indicator_figures(store, moment: dt.datetime, period: Period, department: str, *,
                       snap=None) -> tuple[dict, object]:
    """City figures at ``moment`` (empty when the layers were not stored then), and the snapshot (``snap``: the one
    pinned at ``moment``, when the caller has it)."""
    snap = snap or snapshot_as_of(store, _utc(moment), label=f"{moment:%Y-%m-%d %H:%M}")
    boundaries, venues = snap.vector("boundaries"), snap.vector("venues")
    if boundaries is None or venues is None or snap.raster("population") is None:
        return {}, snap
    engine = _engine_of(store, snap)
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
#: Each indicator row's English label, by key.
INDICATOR_EN = {
    "open_rate": "School sports facilities open to the public", "weekly_open_hours":
        "Mean weekly open hours of open school facilities", "meets_hours_rate": "Share meeting the opening-hours rule",
    **{f"coverage_{c.metres:g}": figure_label(ANY_LAYER, c.metres, "en") for c in LIFE_CIRCLES},
    "own_coverage": "The department's facilities: service coverage at 1000 m",
    "m2_per_resident": "Sports area per resident (m²)", "satisfaction": "Residents' satisfaction (score)",
    "stations_with_fitness_rate":
        f"Health stations with fitness resources within {circle_label(CIRCLE_METRES['10min'], 'en')}",
    "utilisation": "Mean venue utilisation (this period's usage records)", "visits": "Venue visits (this period)",
}
#: Every header and fixed word of the report: Chinese (as the tables are gathered) → English.
ENGLISH = {
    "指标": "Indicator", "本期": "This period", "上期": "Previous period", "变化": "Change", "口径": "Kind",
    "分组": "Group", "本期收到": "Received", "本期办结": "Resolved", "本期驳回": "Rejected",
    "期末未办结": "Open at the end",
    "期末超期": "Overdue at the end", "办结中位时长（小时）": "Median hours to resolve", "合计": "Total",
    "排名": "Rank", "街道": "Street", "未覆盖人口": "Residents not covered", "面积(km²)": "Area (km²)",
    "中心经度": "Centre longitude", "中心纬度": "Centre latitude", "图层": "Layer", "所属部门": "Department",
    "本期版本数": "Versions this period", "写入要素数": "Features written", "期末版本": "Version at the end",
    "期末要素数": "Features at the end", "操作人": "Written by", "类型": "Kind", "版本": "Version",
    "项目": "Item", "内容": "Value", "报告": "Report", "报告期": "Period", "数据时点": "Data as of", "说明": "Notes",
}
#: Sheet and page titles: key → (Chinese, English).
TITLES = {
    "cover": ("封面", "Cover"), "indicators": ("指标", "Indicators"),
    "by_department": ("问题反馈按部门", "Reports by department"),
    "by_category": ("问题反馈按类别", "Reports by category"), "gaps": ("主要缺口", "Largest gaps"),
    "changes": ("图层变更", "Layer changes"), "snapshot": ("数据快照", "Data read"), "notes": ("说明", "Notes"),
    "indicators_page": ("{title} · 指标（数据时点 {pin}）", "{title} · indicators (data as of {pin})"),
    "by_department_page": ("问题反馈办理情况（按部门）", "Field reports handled (by department)"),
    "by_category_page": ("问题反馈办理情况（按类别）", "Field reports handled (by category)"),
    "gaps_page": ("主要覆盖缺口（{circle}，按未覆盖人口排序）",
                  "Largest coverage gaps ({circle}, by residents not covered)"),
    "changes_page": ("本期图层变更（来自版本记录）", "Layer changes this period (from the version log)"),
    "gap_maps": ("{circle}覆盖缺口（红）与周边设施（蓝）",
                 "Gaps beyond {circle} (red) and the facilities around them (blue)"),
    "gap_map": ("缺口 {rank}：{street}\n未覆盖 {n:,.0f} 人", "Gap {rank}: {street}\n{n:,.0f} not covered"),
    "points": ("个百分点", " pp"), "span": ("{a} 至 {b}", "{a} to {b}"),
}


def _w(key: str, lang: str, **values: object) -> str:
    return TITLES[key][lang == "en"].format(**values)


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
        rows.append({"_key": key, "指标": label, "本期": a, "上期": b, "变化": change, "口径": kind})
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
        rows.append({"图层": name, "所属部门": spec.department, "本期版本数": len(log),
                     "写入要素数": int(log["n_written"].fillna(0).sum()),
                     "期末版本": int(log["layer_version"].max()), "期末要素数": int(log["n_total"].iloc[-1]),
                     "操作人": sorted(set(log["changed_by"].astype(str)))})
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def period_report(store, period: str | Period, *, department: str = "alliance",
                  as_of: dt.datetime | None = None, now: dt.datetime | None = None, lang: str = "zh") -> PeriodReport:
    """Gather the report of ``department`` (or the whole alliance) for ``period``, read at its pin, in ``lang``.

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
    current, snap = _figures_at(store, pin, period, department)
    previous, _ = _figures_at(store, period.previous().end, period.previous(), department)
    indicators = _indicator_table(current, previous, department)

    reports = reports_as_of(store, pin)
    if department != "alliance":
        reports = reports[reports["department"] == department]
    from office.field_reports import CATEGORIES

    by_dept = _report_counts(reports, period, "department", list(DEPARTMENTS) if department == "alliance"
                             else [department])
    by_dept["分组"] = by_dept["分组"].map(lambda v: value_label("department", v, lang) if v in DEPARTMENTS else v)
    by_cat = _report_counts(reports, period, "category", list(CATEGORIES))
    by_cat["分组"] = by_cat["分组"].map(lambda v: value_label("category", v, lang) if v != "合计" else v)

    gaps, shapes, notes = pd.DataFrame(columns=GAP_COLUMNS), [], []
    if current:
        layer = DEPARTMENT_LAYERS.get(department, ANY_LAYER)
        engine = current["_engine"]
        result = engine.run([GAP_THRESHOLD_M], layers=[layer] if layer != ANY_LAYER else None)
        areas = defined_gaps(result, layer, GAP_THRESHOLD_M, current["_boundaries"]).head(TOP_GAPS)
        table = gap_table(areas)
        gaps = pd.DataFrame(dict(zip(GAP_COLUMNS, (
            table["rank"], table["unit_name"], table["uncovered_residents"].round(0), table["area_km2"].round(3),
            table["lon"].round(5), table["lat"].round(5)))))
        bounds = current["_boundaries"].to_crs(4326)
        facilities = snap.vector(layer) if layer != ANY_LAYER else current["_venues"]
        for geom in areas.to_crs(4326).geometry:
            shapes.append((geom, facilities.to_crs(4326) if facilities is not None else None, bounds))
    else:
        notes.append(f"截至 {pin:%Y-%m-%d %H:%M}，边界、人口或场馆图层尚未入库，指标与缺口无法计算。"
                     if lang != "en" else f"As of {pin:%Y-%m-%d %H:%M} the boundaries, population or venues were "
                     "not stored yet: no indicators or gaps.")
    if not previous:
        notes.append(f"上期末（{period.previous().end:%Y-%m-%d}）图层尚未入库，指标变化无法计算。" if lang != "en" else
                     f"At the previous period's end ({period.previous().end:%Y-%m-%d}) the layers were not stored "
                     "yet: no changes.")
    utc_pin = _utc(pin)
    snapshot = pd.DataFrame([{"图层": n, "类型": k, "版本": v} for (n, k), v in sorted(snap.versions.items())],
                            columns=["图层", "类型", "版本"])
    notes.append(f"全部数字按 {pin:%Y-%m-%d %H:%M:%S}（服务器本地时间）时的数据计算：图层取当时的版本，"
                 "记录表取当时最后一次导入，问题反馈取当时的办理状态；再次生成结果相同。" if lang != "en" else
                 f"Every figure is read as the data stood at {pin:%Y-%m-%d %H:%M:%S} (server time): layers at their "
                 "version then, record tables at their last import by then, field reports at their state then; "
                 "made again, the report gives the same figures.")
    en = lang == "en"
    who = value_label("department", department, lang)
    kind = ("Quarterly" if "Q" in period.label else "Monthly") if en else period.kind_zh
    title = f"{who}: {kind} fitness report ({period.label})" if en else f"{who}全民健身工作{kind}（{period.label}）"
    changes = _changes(store, period, utc_pin, department)
    changes["图层"] = changes["图层"].map(lambda n: value_label("layer", n, lang))
    changes["所属部门"] = changes["所属部门"].map(lambda d: value_label("department", d, lang))
    changes["操作人"] = changes["操作人"].map(lambda names: ("; " if en else "、").join(names))
    snapshot["图层"] = snapshot["图层"].map(lambda n: value_label("layer", n, lang))
    snapshot["类型"] = snapshot["类型"].map(lambda k: value_label("kind", k, lang))
    for table in (by_dept, by_cat):
        table["分组"] = table["分组"].map(lambda v: ENGLISH.get(v, v) if en else v)
    if len(gaps):
        gaps["街道"] = gaps["街道"].map(lambda n: place_name(n, lang))
    indicators["指标"] = [INDICATOR_EN.get(k, label) if en else label
                         for k, label in zip(indicators.pop("_key"), indicators["指标"])]
    if en:
        indicators, by_dept, by_cat, gaps, changes, snapshot = (
            t.rename(columns=lambda c: ENGLISH.get(c, c))
            for t in (indicators, by_dept, by_cat, gaps, changes, snapshot))
    return PeriodReport(title=title, department=department, period=period, pinned_at=pin, indicators=indicators,
                        reports=by_dept, categories=by_cat, gaps=gaps, gap_shapes=shapes, changes=changes,
                        snapshot=snapshot, notes=notes, lang=lang)


def _h(report: PeriodReport, zh: str) -> str:
    """A header of the report, in its language."""
    return ENGLISH.get(zh, zh) if report.lang == "en" else zh


def _indicator_cells(report: PeriodReport) -> pd.DataFrame:
    """The indicator table as printed: shares in percent, changes in points."""
    table = report.indicators
    out = table[[_h(report, "指标")]].copy()
    for col in ("本期", "上期", "变化"):
        out[_h(report, col)] = [_fmt(v, kind, change=col == "变化", lang=report.lang)
                                for v, kind in zip(table[_h(report, col)], table[_h(report, "口径")])]
    return out


def _fmt(value: float, kind: str, *, change: bool = False, lang: str = "zh") -> str:
    if value is None or not np.isfinite(value):
        return "—"
    sign = "+" if change and value > 0 else ""
    if kind == "share":
        return f"{sign}{value * 100:.1f}" + (_w("points", lang) if change else "%")
    if kind == "count":
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:.2f}"


def write_period_xlsx(report: PeriodReport, path: str | os.PathLike[str]) -> Path:
    """The report as a workbook in its language: indicators, field reports (by department and category), gaps,
    layer changes, the snapshot read and notes; the gap maps as pictures on the gaps sheet."""
    from openpyxl.drawing.image import Image as SheetImage

    lang = report.lang
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.xlsx")
    with excel_writer(tmp) as xl:
        head = pd.DataFrame({_h(report, "项目"): [_h(report, "报告"), _h(report, "报告期"), _h(report, "数据时点")],
                             _h(report, "内容"): [report.title, _w("span", lang, a=f"{report.period.start:%Y-%m-%d}",
                                                                  b=f"{report.period.end:%Y-%m-%d}"),
                                                f"{report.pinned_at:%Y-%m-%d %H:%M:%S}"]})
        write_sheet(xl, head, _w("cover", lang))
        write_sheet(xl, report.indicators.drop(columns=_h(report, "口径")), _w("indicators", lang))
        write_sheet(xl, report.reports, _w("by_department", lang))
        write_sheet(xl, report.categories, _w("by_category", lang))
        gap_sheet = _w("gaps", lang)
        write_sheet(xl, report.gaps, gap_sheet)
        if report.gap_shapes:
            png = target.with_name(f".{target.stem}.gaps.png")
            fig = _gap_figure(report)
            fig.savefig(png, dpi=90)
            plt.close(fig)
            xl.sheets[gap_sheet].add_image(SheetImage(str(png)), "H2")
        write_sheet(xl, report.changes, _w("changes", lang))
        write_sheet(xl, report.snapshot, _w("snapshot", lang))
        write_sheet(xl, pd.DataFrame({_h(report, "说明"): report.notes or ["—"]}), _w("notes", lang))
    os.replace(tmp, target)
    target.with_name(f".{target.stem}.gaps.png").unlink(missing_ok=True)
    return target


def _gap_figure(report: PeriodReport):
    """The gaps on small maps (2 × 5 on an A4 landscape page), each with the facilities around it."""
    font = cjk_font()
    lang = report.lang
    fig, axes = plt.subplots(2, 5, figsize=(11.69, 8.27))
    # geopandas asks the canvas to draw after every plot call, and the Agg canvas then renders the whole page:
    # thirty renders of ten maps.  The page is rendered once, when it is saved.
    fig.canvas.draw_idle = lambda *args, **kwargs: None
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
        street = wrap_cell(str(row[_h(report, "街道")]), 24)
        ax.set_title(_w("gap_map", lang, rank=int(row[_h(report, "排名")]), street=street,
                        n=row[_h(report, "未覆盖人口")]), fontproperties=font, fontsize=8)
    fig.suptitle(_w("gap_maps", lang, circle=circle_label(GAP_THRESHOLD_M, lang)), fontproperties=font, fontsize=13)
    fig.tight_layout()
    return fig


def write_period_pdf(report: PeriodReport, path: str | os.PathLike[str]) -> Path:
    """The report as a PDF in its language: indicators, field-report counts, gap maps and table, layer changes."""
    font = cjk_font()
    lang = report.lang
    kinds = report.kinds
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.pdf")
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(tmp) as pdf:
        _table_page(pdf, _w("indicators_page", lang, title=report.title, pin=f"{report.pinned_at:%Y-%m-%d %H:%M}"),
                    _indicator_cells(report), font, kinds)
        _table_page(pdf, _w("by_department_page", lang), report.reports, font, kinds)
        _table_page(pdf, _w("by_category_page", lang), report.categories, font, kinds)
        if report.gap_shapes:
            fig = _gap_figure(report)
            pdf.savefig(fig)
            plt.close(fig)
        _table_page(pdf, _w("gaps_page", lang, circle=circle_label(GAP_THRESHOLD_M, lang)), report.gaps, font,
                    kinds)
        _table_page(pdf, _w("changes_page", lang), report.changes, font, kinds)
        _table_page(pdf, _w("notes", lang), pd.DataFrame({_h(report, "说明"): report.notes or ["—"]}), font, kinds)
    os.replace(tmp, target)
    return target


__all__ = ["Period", "PeriodReport", "parse_period", "period_report", "write_period_xlsx", "write_period_pdf",
           "records_at", "INDICATOR_ROWS"]
