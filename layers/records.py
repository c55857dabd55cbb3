"""Record tables: venue usage, satisfaction surveys, bookings' resources and courses, incidents and aggregated
health indicators, read and checked like layers.

Records have no geometry; they point at stored features (a venue's ``feature_id``) or
units (a boundary ``code``).  A delivery is read from CSV/XLSX with Chinese or English
headers, refused whole if it carries personal identifiers, and checked row by row: every
problem names the spreadsheet row, the column and the value, and what would be accepted.
References to venues or units that are not stored are listed, never dropped silently.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.disclosure import derived_counts, disclosures
from geo.errors import OpeningHoursError
from geo.hours import OpeningHours, parse_opening_hours
from geo.notes import Note, note
from geo.slots import DAY_KINDS
from geo.usage import daily_ceiling, open_hours_per_day
from layers.catalogue import FieldSpec
from layers.errors import InputFileError, LayerValidationError, PersonalDataError, Problem, ValidationReport
from layers.health import (
    INDICATORS,
    cumulative_indicators,
    delivered_people,
    indicator_parts,
    min_count,
    numerators,
    row_level_columns,
)
from layers.privacy import check_personal_data
from layers.tables import FIRST_ROW, normalize_header, read_table
from layers.validate import coerce_column

PERIODS = ("day", "week")
#: Layers a course or a bookable resource may be at.
PLACE_LAYERS = ("venues", "school_facilities", "health_stations", "greenways")  # greenways: at their entrances
EXERCISE_TYPES = ("aerobic", "strength", "taichi", "balance", "ball_games", "swimming")
INTENSITIES = ("low", "moderate", "vigorous")
TARGET_GROUPS = ("general", "hypertension", "diabetes", "elderly", "youth", "overweight")
INSTRUCTOR_TYPES = ("social_instructor", "health_coach", "pe_teacher")
WHO_MAY_BOOK = ("everyone", "street", "community", "group")
MEASURES = ("visits", "bookings")
INCIDENT_KINDS = ("cardiac_arrest", "collapse", "injury", "heat_illness", "other")
#: A survey's period: a year, a quarter, a half or a month (2026, 2026Q3, 2026H2, 2026-09).
PERIOD_PATTERN = re.compile(r"^\d{4}(Q[1-4]|H[12]|-(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True)
class RecordSpec:
    """The schema of one record table: its fields, its key, the header names accepted."""

    name: str
    label_zh: str
    label_en: str
    department: str
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]
    synonyms: dict[str, tuple[str, ...]]

    @property
    def field_names(self) -> list[str]:
        """Stored columns, in order."""
        return [f.name for f in self.fields]


RECORDS: dict[str, RecordSpec] = {spec.name: spec for spec in (
    RecordSpec(
        "venue_usage", "场馆使用记录", "Venue usage", "sports",
        fields=(
            FieldSpec("venue_id", "text", "场馆编号", "Venue id", required=True),
            FieldSpec("date", "date", "日期", "Date", required=True,
                      description="The day, or any day of the week for weekly counts (stored as its Monday)."),
            FieldSpec("period", "text", "统计周期", "Period", required=True, choices=PERIODS),
            FieldSpec("measure", "text", "口径", "Measure", required=True, choices=MEASURES),
            FieldSpec("count", "int", "人次", "Count", required=True, minimum=0, maximum=1_000_000),
            FieldSpec("source", "text", "数据来源", "Source"),
        ),
        key=("venue_id", "date", "period", "measure"),
        synonyms={
            "venue_id": ("venue_id", "场馆编号", "场馆id", "编号", "feature_id", "id"),
            "venue_name": ("venue_name", "场馆名称", "场馆", "名称", "name", "venue"),
            "date": ("date", "日期", "统计日期", "day", "week", "周"),
            "period": ("period", "周期", "统计周期"),
            "measure": ("measure", "口径", "类型", "type"),
            "count": ("count", "人次", "次数", "人数", "visits", "bookings", "预约数", "入场人次", "使用人次"),
        },
    ),
    RecordSpec(
        "satisfaction", "居民满意度调查", "Residents' satisfaction survey", "alliance",
        fields=(
            FieldSpec("unit_code", "text", "单元代码", "Unit code", required=True),
            FieldSpec("period", "text", "调查期", "Period", required=True,
                      description="2026, 2026Q3, 2026H2 or 2026-09"),
            FieldSpec("score", "float", "满意度得分", "Score", required=True, minimum=0, maximum=100),
            FieldSpec("respondents", "int", "样本数", "Respondents", required=True, minimum=1, maximum=1_000_000),
            FieldSpec("source", "text", "数据来源", "Source"),
        ),
        key=("unit_code", "period"),
        synonyms={
            "unit_code": ("unit_code", "code", "代码", "街道代码", "社区代码", "区划代码", "单元代码"),
            "period": ("period", "调查期", "期次", "季度", "年度", "quarter"),
            "score": ("score", "满意度", "得分", "满意度得分", "平均分"),
            "respondents": ("respondents", "样本数", "人数", "有效样本", "n"),
        },
    ),
    RecordSpec(
        "courses", "健身课程", "Fitness courses", "alliance",
        fields=(
            FieldSpec("course_id", "text", "课程编号", "Course id", required=True),
            FieldSpec("title", "text", "课程名称", "Title", required=True),
            FieldSpec("place_layer", "text", "场所类型", "Place layer", required=True, choices=PLACE_LAYERS),
            FieldSpec("place_id", "text", "场所编号", "Place id", required=True),
            FieldSpec("schedule", "hours", "上课时间", "Schedule", required=True,
                      description="Like opening hours: 周二、周四 19:00-20:00 (each span one session)."),
            FieldSpec("capacity", "int", "名额", "Places", required=True, minimum=1, maximum=500),
            FieldSpec("exercise_type", "text", "运动类型", "Exercise type", required=True, choices=EXERCISE_TYPES),
            FieldSpec("intensity", "text", "强度", "Intensity", required=True, choices=INTENSITIES),
            FieldSpec("target_group", "text", "适用人群", "Target group", required=True, choices=TARGET_GROUPS),
            FieldSpec("instructor_type", "text", "指导人员", "Instructor", choices=INSTRUCTOR_TYPES),
            FieldSpec("first_day", "date", "开课日期", "First day"),
            FieldSpec("last_day", "date", "结课日期", "Last day"),
            FieldSpec("source", "text", "数据来源", "Source"),
        ),
        key=("course_id",),
        synonyms={
            "course_id": ("course_id", "课程编号", "编号", "id"),
            "title": ("title", "课程名称", "课程", "名称", "name"),
            "place_layer": ("place_layer", "场所类型", "场所图层"),
            "place_id": ("place_id", "场所编号", "地点编号", "场馆编号"),
            "schedule": ("schedule", "上课时间", "时间", "课表"),
            "capacity": ("capacity", "名额", "人数上限", "容量"),
            "exercise_type": ("exercise_type", "运动类型", "项目类型"),
            "intensity": ("intensity", "强度", "运动强度"),
            "target_group": ("target_group", "适用人群", "人群", "对象"),
            "instructor_type": ("instructor_type", "指导人员", "教练类型", "指导员"),
            "first_day": ("first_day", "开课日期", "开始日期"),
            "last_day": ("last_day", "结课日期", "结束日期"),
        },
    ),
    RecordSpec(
        "bookable", "可预约资源", "Bookable resources", "alliance",
        fields=(
            FieldSpec("resource_id", "text", "资源编号", "Resource id", required=True),
            FieldSpec("place_layer", "text", "场所类型", "Place layer", required=True, choices=PLACE_LAYERS),
            FieldSpec("place_id", "text", "场所编号", "Place id", required=True),
            FieldSpec("unit", "text", "场地单元", "Unit", description="A court, lane or pitch: 1号场, 3道."),
            FieldSpec("capacity", "int", "每时段名额", "Places per slot", required=True, minimum=1, maximum=10_000),
            FieldSpec("slot_minutes", "int", "时段长度（分钟）", "Slot length (min)", required=True, minimum=15,
                      maximum=480),
            FieldSpec("hours", "hours", "预约时间", "Booking hours",
                      description="Empty: the place's own opening hours."),
            FieldSpec("who_may_book", "text", "可预约对象", "Who may book", choices=WHO_MAY_BOOK),
            FieldSpec("area_code", "text", "限定区域代码", "Area code",
                      description="The street or community whose residents may book (who = street/community)."),
            FieldSpec("days_ahead", "int", "可提前天数", "Days ahead", minimum=0, maximum=60),
            FieldSpec("max_active", "int", "每人有效预约上限", "Active bookings per person", minimum=1, maximum=20),
            FieldSpec("cancel_hours", "int", "取消截止（小时）", "Cancel deadline (h)", minimum=0, maximum=72),
            FieldSpec("source", "text", "数据来源", "Source"),
        ),
        key=("resource_id",),
        synonyms={
            "resource_id": ("resource_id", "资源编号", "编号", "id"),
            "place_layer": ("place_layer", "场所类型", "场所图层"),
            "place_id": ("place_id", "场所编号", "场馆编号", "设施编号"),
            "unit": ("unit", "场地单元", "场地", "单元"),
            "capacity": ("capacity", "每时段名额", "名额", "容量"),
            "slot_minutes": ("slot_minutes", "时段长度", "时段长度（分钟）", "时段分钟"),
            "hours": ("hours", "预约时间", "开放时间"),
            "who_may_book": ("who_may_book", "who", "可预约对象", "预约对象"),
            "area_code": ("area_code", "限定区域代码", "区域代码"),
            "days_ahead": ("days_ahead", "可提前天数", "提前天数"),
            "max_active": ("max_active", "每人有效预约上限", "每人上限"),
            "cancel_hours": ("cancel_hours", "取消截止（小时）", "取消截止"),
        },
    ),
    RecordSpec(
        "closures", "停用日期与校历", "Closed days and school calendar", "alliance",
        fields=(
            FieldSpec("resource_id", "text", "资源编号", "Resource id", required=True,
                      description="* for every resource of the department."),
            FieldSpec("first_day", "date", "开始日期", "First day", required=True),
            FieldSpec("last_day", "date", "结束日期", "Last day", required=True),
            FieldSpec("day_kind", "text", "日期类型", "Day kind", required=True, choices=DAY_KINDS),
            FieldSpec("reason", "text", "原因", "Reason"),
            FieldSpec("source", "text", "数据来源", "Source"),
        ),
        key=("resource_id", "first_day"),
        synonyms={
            "resource_id": ("resource_id", "资源编号", "编号"),
            "first_day": ("first_day", "开始日期", "起始日期", "日期"),
            "last_day": ("last_day", "结束日期", "截止日期"),
            "day_kind": ("day_kind", "日期类型", "类型"),
            "reason": ("reason", "原因", "说明", "备注"),
        },
    ),
    RecordSpec(
        "health_indicators", "健康指标（汇总）", "Health indicators (aggregates)", "health",
        fields=(
            FieldSpec("unit_code", "text", "单元代码", "Unit code", required=True,
                      description="A community's or a street's boundary code."),
            FieldSpec("period", "text", "统计期", "Period", required=True,
                      description="2026, 2026Q3, 2026H2 or 2026-09"),
            FieldSpec("indicator", "text", "指标", "Indicator", required=True, choices=tuple(INDICATORS)),
            FieldSpec("count", "int", "人数", "Count", minimum=0, maximum=10_000_000,
                      description="For a count indicator; a count below k is refused."),
            FieldSpec("rate", "float", "比例", "Rate", minimum=0, maximum=1,
                      description="For a rate indicator, with its denominator."),
            FieldSpec("denominator", "int", "分母人数", "Denominator", minimum=1, maximum=10_000_000),
            FieldSpec("source", "text", "数据来源", "Source"),
        ),
        key=("unit_code", "period", "indicator"),
        synonyms={
            "unit_code": ("unit_code", "code", "代码", "社区代码", "街道代码", "区划代码", "单元代码"),
            "period": ("period", "统计期", "期次", "年度", "季度"),
            "indicator": ("indicator", "指标", "指标代码", "指标名称"),
            "count": ("count", "人数", "数量", "例数"),
            "rate": ("rate", "比例", "率", "比率"),
            "denominator": ("denominator", "分母", "分母人数", "监测人数", "测试人数"),
        },
    ),
    RecordSpec(
        "incidents", "应急事件", "Incidents", "alliance",
        fields=(
            FieldSpec("incident_id", "text", "事件编号", "Incident id", required=True),
            FieldSpec("place_layer", "text", "场所类型", "Place layer", required=True, choices=PLACE_LAYERS),
            FieldSpec("place_id", "text", "场所编号", "Place id", required=True),
            FieldSpec("occurred_at", "text", "发生时间", "Occurred at", required=True,
                      description="Local time, YYYY-MM-DD HH:MM."),
            FieldSpec("incident_kind", "text", "事件类型", "Kind", required=True, choices=INCIDENT_KINDS),
            FieldSpec("where_in_place", "text", "场内位置", "Where in the place",
                      description="A court, a stand, a lane; never a person."),
            FieldSpec("source", "text", "数据来源", "Source"),
        ),
        key=("incident_id",),
        synonyms={
            "incident_id": ("incident_id", "事件编号", "编号"),
            "place_layer": ("place_layer", "场所类型"),
            "place_id": ("place_id", "场所编号", "场馆编号"),
            "occurred_at": ("occurred_at", "发生时间", "时间"),
            "incident_kind": ("incident_kind", "事件类型", "类型"),
            "where_in_place": ("where_in_place", "场内位置", "位置"),
        },
    ),
)}


@dataclass
class RecordPlan:
    """A checked delivery, ready to commit: the stored form, the report, unknown references."""

    kind: str
    source: str
    frame: pd.DataFrame
    report: ValidationReport
    row_numbers: np.ndarray
    unknown: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[Note] = field(default_factory=list)

    @property
    def valid(self) -> pd.DataFrame:
        """Rows without any problem."""
        keep = ~np.isin(self.row_numbers, list(self.report.bad_rows))
        return self.frame.loc[keep].reset_index(drop=True)

    def summary(self) -> str:
        """One line: rows read, valid, refused; unknown references."""
        text = (f"{self.source}: {self.report.n_rows} row(s), {len(self.valid)} valid, "
                f"{len(self.report.bad_rows)} with problems")
        if len(self.unknown):
            text += f"; {len(self.unknown)} unknown reference(s)"
        return text + "."


def get_record_spec(kind: str) -> RecordSpec:
    """The spec of record table ``kind``; an error listing the kinds there are."""
    if kind not in RECORDS:
        raise InputFileError(f"Unknown record table {kind!r}; there are {', '.join(RECORDS)}.")
    return RECORDS[kind]


def _map_headers(frame: pd.DataFrame, spec: RecordSpec, name: str) -> pd.DataFrame:
    normed = {c: normalize_header(c) for c in frame.columns}
    out = pd.DataFrame(index=frame.index)
    for target, names in spec.synonyms.items():
        wanted = [normalize_header(n) for n in names]
        hit = next((c for w in wanted for c in frame.columns if normed[c] == w), None)
        if hit is not None:
            out[target] = frame[hit]
    return out


def _resolve_venues(frame: pd.DataFrame, venues: pd.DataFrame | None, rows: np.ndarray,
                    problems: list[Problem]) -> tuple[pd.Series, pd.DataFrame]:
    """Venue ids, from the id column or else from an unambiguous name; unknown ones listed."""
    def clean(v: object) -> str | None:
        return None if v is None or pd.isna(v) or not str(v).strip() else str(v).strip()

    n = len(frame)
    ids = [clean(v) for v in (frame["venue_id"] if "venue_id" in frame.columns else [None] * n)]
    names = [clean(v) for v in (frame["venue_name"] if "venue_name" in frame.columns else [None] * n)]
    unknown = []
    if venues is None:
        return pd.Series(ids, index=frame.index, dtype=object), pd.DataFrame(columns=["row", "venue_id", "venue_name"])
    known = set(venues["feature_id"].astype(str))
    by_name = venues.groupby(venues["name"].astype(str).str.strip())["feature_id"].agg(list)
    for i in range(n):
        vid, vname = ids[i], names[i]
        if vid is None and vname is not None:
            hits = by_name.get(vname, [])
            if len(hits) == 1:
                ids[i] = str(hits[0])
                continue
            if len(hits) > 1:
                problems.append(Problem.coded(int(rows[i]), "venue_name", vname, "check.venue_name_ambiguous",
                                              n=len(hits), ids=[str(h) for h in hits]))
                continue
            unknown.append((int(rows[i]), None, vname))
            problems.append(Problem.coded(int(rows[i]), "venue_name", vname, "check.venue_name_unknown"))
        elif vid is not None and vid not in known:
            unknown.append((int(rows[i]), vid, vname))
            problems.append(Problem.coded(int(rows[i]), "venue_id", vid, "check.venue_id_unknown"))
    return (pd.Series(ids, index=frame.index, dtype=object),
            pd.DataFrame(unknown, columns=["row", "venue_id", "venue_name"]))


def check_records(table: pd.DataFrame, kind: str, *, source: str, venues: pd.DataFrame | None = None,
                  unit_codes: set[str] | None = None, first_row: int = FIRST_ROW,
                  today: pd.Timestamp | None = None, residents: float | None = None,
                  parents: dict[str, str] | None = None, stored: pd.DataFrame | None = None) -> RecordPlan:
    """Check a delivery (columns already read as text) against record table ``kind``.

    Parameters
    ----------
    venues : DataFrame, optional
        Stored venues (``feature_id``, ``name``; ``capacity`` and ``opening_hours`` when
        stored): usage rows must name one of them, and count no more than the venue can have
        taken in a day (:func:`geo.usage.daily_ceiling`).
    residents : float, optional
        Residents of the area (the population layer's total), for the same bound.
    parents, stored : optional
        For health aggregates: each unit's parent code (the boundaries) and the aggregates already stored;
        a row that, with them, makes a count of fewer than k people derivable (a unit minus its parts, a
        period minus an earlier one, a total minus its subgroup: :mod:`geo.disclosure`) is refused.
    unit_codes : set of str, optional
        Stored boundary codes: survey rows must name one of them.
    first_row : int
        Row number of the first record in the file, for messages (2: after a header).
    """
    spec = get_record_spec(kind)
    _refuse_personal(table, kind, source)
    frame = _map_headers(table.reset_index(drop=True), spec, source)
    _require_columns(frame, spec, kind, list(table.columns), source)
    rows = np.arange(first_row, first_row + len(frame))
    report = ValidationReport(layer=kind, source=source, n_rows=len(frame))
    problems = report.problems
    unknown, notes = pd.DataFrame(), []
    if kind == "venue_usage":
        unknown = _usage_words(frame, venues, rows, problems)
    if kind == "health_indicators" and "indicator" in frame.columns:
        frame["indicator"] = _indicator_codes(frame["indicator"])
    out = _typed(frame, spec, source, rows, problems)
    if kind == "venue_usage":
        notes = _check_usage(out, venues, residents, today, rows, problems)
    elif kind == "health_indicators":
        _check_aggregates(out, rows, problems)
        _check_derivable(out, rows, problems, parents or {}, stored)
    if kind in ("satisfaction", "health_indicators"):
        unknown = _check_periods_and_units(out, unit_codes, rows, problems, unknown)
    _check_ranges(out, rows, problems)
    _check_duplicates(out, spec, rows, problems)
    problems.sort(key=lambda p: (p.row or 0, p.field))
    return RecordPlan(kind, source, out.reset_index(drop=True), report, rows, unknown, notes)


def _refuse_personal(table: pd.DataFrame, kind: str, source: str) -> None:
    """Refuse a delivery with personal identifiers, and health data by person rather than as aggregates."""
    check_personal_data(table, source=source)
    if kind == "health_indicators" and row_level_columns(table.columns):
        raise PersonalDataError.coded("health.row_level", file=source,
                                      columns=", ".join(row_level_columns(table.columns)))


def _require_columns(frame: pd.DataFrame, spec: RecordSpec, kind: str, columns: list, source: str) -> None:
    """Refuse a delivery without a column for each required field, naming the headers that would be read."""
    needed = [f.name for f in spec.fields if f.required and f.name not in ("period", "measure")]
    if kind == "venue_usage":  # a venue is named by its id or its name
        needed = [n for n in needed if n != "venue_id"]
        if "venue_id" not in frame.columns and "venue_name" not in frame.columns:
            needed.insert(0, "venue_id")
    missing = [n for n in needed if n not in frame.columns]
    if missing:
        accepted = "; ".join(f"{m}: {', '.join(spec.synonyms[m])}" for m in missing)
        raise InputFileError(f"{source}: no column for {', '.join(missing)}. Columns are "
                             f"{', '.join(map(str, columns))}; name them ({accepted}).")


#: Usage periods and measures as a department writes them.
_USAGE_WORDS = (("period", {"日": "day", "天": "day", "周": "week"}),
                ("measure", {"入场": "visits", "人次": "visits", "预约": "bookings"}))


def _usage_words(frame: pd.DataFrame, venues: pd.DataFrame | None, rows: np.ndarray,
                 problems: list[Problem]) -> pd.DataFrame:
    """Usage rows' venues resolved to ids (the rows naming no stored venue returned), period and measure in codes
    (a day's visits where the file says nothing)."""
    frame["venue_id"], unknown = _resolve_venues(frame, venues, rows, problems)
    frame["period"] = frame["period"] if "period" in frame.columns else "day"
    frame["measure"] = frame["measure"] if "measure" in frame.columns else "visits"
    for col, zh in _USAGE_WORDS:
        frame[col] = frame[col].map(lambda v, zh=zh: zh.get(str(v).strip(), str(v).strip().lower())
                                    if v is not None and not (isinstance(v, float) and np.isnan(v)) else v)
    return unknown


def _indicator_codes(column: pd.Series) -> pd.Series:
    """Indicators named in either language as their codes (高血压规范管理人数 → hypertension_managed)."""
    names = {n: code for code, i in INDICATORS.items() for n in (i.label_zh, i.label_en, i.label_en.lower())}
    return column.map(lambda v: names.get(str(v).strip(), v) if isinstance(v, str) else v)


def _typed(frame: pd.DataFrame, spec: RecordSpec, source: str, rows: np.ndarray,
           problems: list[Problem]) -> pd.DataFrame:
    """Every field of the table in its stored type (the file's name as the source where none is given; one
    respondent per row where the survey does not count them)."""
    out = pd.DataFrame(index=frame.index)
    for f in spec.fields:
        col = frame[f.name] if f.name in frame.columns else pd.Series([None] * len(frame), index=frame.index)
        if f.name == "source":
            col = col.where(~col.isna(), source)
        if f.name == "respondents" and f.name not in frame.columns:
            col = pd.Series([1] * len(frame), index=frame.index)
        out[f.name] = coerce_column(f, col, rows, problems)
    return out


def _check_usage(out: pd.DataFrame, venues: pd.DataFrame | None, residents: float | None,
                 today: pd.Timestamp | None, rows: np.ndarray, problems: list[Problem]) -> list:
    """Usage counts: no future day, no more than the venue can take in (:func:`_check_plausible`); a week's count
    dated on its Monday (the note saying so returned)."""
    day = (today or pd.Timestamp.now()).date()
    for i, d in enumerate(out["date"]):
        if d is not None and d > day:
            problems.append(Problem.coded(int(rows[i]), "date", str(d), "check.future", today=str(day)))
    _check_plausible(out, venues, residents, rows, problems)
    weekly = (out["period"] == "week").to_numpy() & out["date"].notna().to_numpy()
    if not weekly.any():
        return []
    out.loc[weekly, "date"] = [d - pd.Timedelta(days=d.weekday()).to_pytimedelta() for d in out.loc[weekly, "date"]]
    return [note("records.weekly_monday", n=int(weekly.sum()))]


def _check_periods_and_units(out: pd.DataFrame, unit_codes: set[str] | None, rows: np.ndarray,
                             problems: list[Problem], unknown: pd.DataFrame) -> pd.DataFrame:
    """Periods written as a year, quarter or month; units that are stored (the rows naming others returned)."""
    for i, p in enumerate(out["period"]):
        if p is not None and not PERIOD_PATTERN.match(str(p)):
            problems.append(Problem.coded(int(rows[i]), "period", p, "check.not_period"))
    if unit_codes is None:
        return unknown
    bad = (out["unit_code"].notna() & ~out["unit_code"].isin(unit_codes)).to_numpy()
    for i in np.flatnonzero(bad):
        problems.append(Problem.coded(int(rows[i]), "unit_code", out["unit_code"].iloc[i], "check.unit_unknown"))
    return pd.DataFrame({"row": rows[bad], "unit_code": out.loc[bad, "unit_code"].to_numpy()})


def _check_ranges(out: pd.DataFrame, rows: np.ndarray, problems: list[Problem]) -> None:
    """A range ends on or after its first day."""
    if "last_day" not in out.columns or "first_day" not in out.columns:
        return
    both = (out["first_day"].notna() & out["last_day"].notna()).to_numpy()
    for i in np.flatnonzero(both):
        if out["last_day"].iloc[i] < out["first_day"].iloc[i]:
            problems.append(Problem.coded(int(rows[i]), "last_day", str(out["last_day"].iloc[i]),
                                          "check.before_first_day", first=str(out["first_day"].iloc[i])))


def _check_duplicates(out: pd.DataFrame, spec: RecordSpec, rows: np.ndarray, problems: list[Problem]) -> None:
    """One row per key: a second count of a venue's day and measure, or a repeated key, is noted on each row."""
    key = list(spec.key)
    dup = (out[key].astype(str).duplicated(keep=False) & out[key].notna().all(axis=1)).to_numpy()
    for i in np.flatnonzero(dup):
        if spec.name == "venue_usage":
            problems.append(Problem.coded(int(rows[i]), "date", str(out["date"].iloc[i]), "check.second_count",
                                          measure=str(out["measure"].iloc[i]), venue=str(out["venue_id"].iloc[i])))
        else:
            problems.append(Problem.coded(int(rows[i]), key[0], str(out[key[0]].iloc[i]), "check.duplicate_key"))


def unit_parents(boundaries: pd.DataFrame | None) -> dict[str, str]:
    """Each stored unit's parent code (for the health aggregates' levels)."""
    if boundaries is None or "parent_code" not in boundaries.columns:
        return {}
    return {str(c): str(p) for c, p in zip(boundaries["code"], boundaries["parent_code"]) if isinstance(p, str) and p}


def venue_facts(venues: pd.DataFrame | None) -> pd.DataFrame | None:
    """The stored venues' columns a usage delivery is checked against (id, name, capacity, hours)."""
    if venues is None:
        return None
    return pd.DataFrame(venues[[c for c in ("feature_id", "name", "capacity", "opening_hours") if c in venues.columns]])


def _check_plausible(out: pd.DataFrame, venues: pd.DataFrame | None, residents: float | None, rows: np.ndarray,
                     problems: list[Problem]) -> None:
    """Each usage count within what its venue can have taken (a week's count over seven days)."""
    if venues is None or out.empty:
        return
    by_id = venues.assign(feature_id=venues["feature_id"].astype(str)).drop_duplicates("feature_id") \
        .set_index("feature_id")
    ids = out["venue_id"].astype(object).where(out["venue_id"].notna(), None)
    at = by_id.reindex(ids.astype(str).to_numpy())
    capacity = pd.to_numeric(at["capacity"], errors="coerce").to_numpy(dtype=float) if "capacity" in at.columns \
        else np.full(len(out), np.nan)
    weekly = (out["period"] == "week").to_numpy()
    hours = np.full(len(out), np.nan)  # that day's open hours, or a day's mean in that week
    parsed: dict[str, OpeningHours | None] = {}
    texts = at["opening_hours"].to_numpy() if "opening_hours" in at.columns else [None] * len(out)
    for i, (text, day) in enumerate(zip(texts, out["date"])):
        if not isinstance(text, str) or not text.strip() or day is None or pd.isna(day):
            continue
        if text not in parsed:
            try:
                parsed[text] = parse_opening_hours(text)
            except OpeningHoursError:
                parsed[text] = None  # the venue's own check names unreadable hours; here they bound nothing
        if (h := parsed[text]) is not None:
            hours[i] = open_hours_per_day(h, week_of=day) if weekly[i] else h.day_minutes(day.weekday(), on=day) / 60
    ceiling = daily_ceiling(capacity, hours, residents)
    count = pd.to_numeric(out["count"], errors="coerce").to_numpy(dtype=float)
    per_day = count / np.where(weekly, 7, 1)
    for i in np.flatnonzero(np.isfinite(per_day) & (per_day > ceiling)):
        problems.append(Problem.coded(int(rows[i]), "count", f"{count[i]:.0f}", "check.usage_implausible",
                                      venue=str(ids.iloc[i]), per_day=f"{per_day[i]:,.0f}",
                                      ceiling=f"{ceiling[i]:,.0f}"))


def _check_derivable(out: pd.DataFrame, rows: np.ndarray, problems: list[Problem], parents: dict[str, str],
                     stored: pd.DataFrame | None) -> None:
    """No count of fewer than k people derivable from what would be stored after this delivery: the stored rows
    it does not replace and its rows without a problem.  A refused row is left out of what would be stored,
    so the check repeats until no more rows are refused (a street whose small community was refused is then
    judged against the communities that remain)."""
    k = min_count()
    new = out.dropna(subset=["unit_code", "period", "indicator"]).copy()
    new.index = [f"row-{int(rows[i])}" for i in new.index]
    keep = stored if stored is not None and len(stored) else None
    if keep is not None:
        keys = set(zip(new["unit_code"].astype(str), new["period"].astype(str), new["indicator"]))
        keep = keep[[key not in keys for key in zip(keep["unit_code"].astype(str), keep["period"].astype(str),
                                                    keep["indicator"])]]
        keep = keep.set_axis([f"stored-{i}" for i in range(len(keep))])
    refused = {f"row-{p.row}" for p in problems if p.row is not None}
    while True:
        kept = new[~new.index.isin(refused)]
        both = pd.concat([kept, keep]) if keep is not None else kept
        found = [d for d in disclosures(derived_counts(delivered_people(both), parents,
                                                       cumulative=cumulative_indicators(), parts=indicator_parts()),
                                        k, involving=set(kept.index))
                 if d.kind not in ("delivered", "denominator")]  # a small count itself: the k rule's, said once
        if not found:
            return
        for d in found:
            label = next(t[0] for t in d.terms if t[0] in set(kept.index))
            if label in refused:
                continue
            refused.add(label)
            part = "numerator" if d.other == "denominator" else d.indicator
            problems.append(Problem.coded(int(str(label).removeprefix("row-")), "count", f"{d.value:.0f}",
                                          f"health.derivable_{d.kind}", k=k, unit=d.unit, period=d.period,
                                          other=d.other, part=part, people=f"{d.value:.0f}"))


def _check_aggregates(out: pd.DataFrame, rows: np.ndarray, problems: list[Problem]) -> None:
    """Each health row: a count for a count indicator, a rate with its denominator for a rate one, and never
    fewer than k people (the report shows "< k", not the small number)."""
    k = min_count()
    people = numerators(out)
    for i, (code, count, rate, denom) in enumerate(zip(out["indicator"], out["count"], out["rate"],
                                                       out["denominator"])):
        ind = INDICATORS.get(code) if code is not None else None
        if ind is None:
            continue
        if ind.kind == "count" and (count is None or pd.isna(count)):
            problems.append(Problem.coded(int(rows[i]), "count", "", "health.no_count", indicator=code))
        elif ind.kind == "rate" and (rate is None or pd.isna(rate) or denom is None or pd.isna(denom)):
            problems.append(Problem.coded(int(rows[i]), "denominator", "", "health.rate_without_denominator",
                                          indicator=code))
        elif not pd.isna(people.iloc[i]) and 0 < people.iloc[i] < k:
            field = "count" if ind.kind == "count" else "rate"
            problems.append(Problem.coded(int(rows[i]), field, f"< {k}", "health.below_k", k=k))


def prepare_records(path: str | os.PathLike[str], kind: str, *, venues: pd.DataFrame | None = None,
                    unit_codes: set[str] | None = None, today: pd.Timestamp | None = None,
                    residents: float | None = None, parents: dict[str, str] | None = None,
                    stored: pd.DataFrame | None = None) -> RecordPlan:
    """Read a CSV/XLSX delivery of record table ``kind`` and check it (nothing is written).

    Raises
    ------
    InputFileError
        Unreadable or empty file, a needed column missing, or personal identifiers.
    """
    p = Path(path)
    return check_records(read_table(p), kind, source=p.name, venues=venues, unit_codes=unit_codes, today=today,
                         residents=residents, parents=parents, stored=stored)


def commit_records(store, plan: RecordPlan, *, user: str, mode: str = "upsert",
                   keep_valid: bool = False, department: str | None = None) -> int:
    """Write a checked delivery; returns the new version of the record table.

    Raises
    ------
    LayerValidationError
        When rows have problems and ``keep_valid`` is False, or no row is valid; nothing
        is written.
    """
    if not plan.report.ok and (not keep_valid or plan.valid.empty):
        raise LayerValidationError(plan.report)
    return store.records.write(plan.kind, plan.valid, mode=mode, user=user, source=plan.source,
                               department=department)


__all__ = ["RECORDS", "RecordSpec", "RecordPlan", "get_record_spec", "check_records", "prepare_records", "venue_facts",
           "commit_records", "unit_parents", "PERIODS", "MEASURES"]
