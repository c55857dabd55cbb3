"""Aggregated health indicators (体卫融合): the catalogue of indicators, the smallest count that may be stored
(k, a policy the health commission owns) and the checks a delivery passes.

Health data enters only as aggregates per unit (community or street) and period. A delivery
is refused whole when it looks like row-level data (personal identifiers, measurement columns
such as 血压, or the same unit, period and indicator more than once); a row whose count — or,
for a rate, whose numerator (rate × denominator) — is below k is refused and reported, and so is
a row that, with what is stored, would let anyone work out fewer than k people by subtraction
(:mod:`geo.disclosure`), so the store never holds — and no arithmetic on it gives — a count of
fewer than k real people.

What outputs show of these counts are modelled estimates, rounded one way on every surface
(:mod:`geo.disclosure`); the delivered counts themselves appear in no output.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from config.settings import settings

#: The default smallest count of people stored or derivable.
DEFAULT_MIN_COUNT = 10
#: Below this, k protects nobody; a setting lower than it is refused.
MIN_ALLOWED_K = 3


@dataclass(frozen=True)
class Indicator:
    """One aggregated health indicator: its names, whether it is a count or a rate (with a denominator), and
    the need group it measures (residents to weigh demand by)."""

    code: str
    label_zh: str
    label_en: str
    kind: str  # "count" or "rate"
    group_zh: str
    group_en: str
    #: Counted from the start of the year (a later period minus an earlier one is the people counted between).
    cumulative: bool = False
    #: The indicator this one is a subgroup of (the total minus this is people too).
    part_of: str | None = None


INDICATORS: dict[str, Indicator] = {i.code: i for i in (
    Indicator("hypertension_managed", "高血压规范管理人数", "Residents with managed hypertension", "count",
              "高血压人群", "Hypertensive residents"),
    Indicator("diabetes_managed", "糖尿病规范管理人数", "Residents with managed diabetes", "count",
              "糖尿病人群", "Diabetic residents"),
    Indicator("aged_60_plus", "60岁以上常住人口", "Residents aged 60 and over", "count", "60岁以上居民",
              "Residents aged 60+"),
    Indicator("fitness_test_failed", "体质测定不合格人数", "Residents who failed the fitness test", "count",
              "体质测定不合格者", "Residents failing the fitness test", cumulative=True),
    Indicator("child_overweight_rate", "儿童青少年超重肥胖率", "Children's overweight and obesity rate", "rate",
              "超重肥胖儿童青少年", "Overweight children"),
)}
#: Column names that mark row-level health data (one person per row), refused whole.
ROW_LEVEL_COLUMNS = ("姓名", "身份证", "出生日期", "性别", "年龄", "血压", "血糖", "体重", "身高", "bmi", "诊断",
                     "病历", "name", "birth", "sex", "gender", "age", "weight", "height", "diagnosis")


def min_count() -> int:
    """k: the smallest count stored or shown (the ``health_min_count`` setting, default 10, at least 3)."""
    return settings().health_min_count


def configured_matching() -> dict:
    """Which facilities serve which need: the JSON file named by the ``need_matching`` setting over the
    defaults (the same for the pages, the indicators, the reports and the command line)."""
    from geo.need import DEFAULT_MATCHING, load_matching

    path = settings().need_matching
    return load_matching(path) if path else DEFAULT_MATCHING


def row_level_columns(columns) -> list[str]:
    """The columns whose names mark row-level (per-person) health data."""
    out = []
    for c in columns:
        name = str(c).strip().lower()
        if any(word in name for word in ROW_LEVEL_COLUMNS):
            out.append(str(c))
    return out


def cumulative_indicators() -> frozenset[str]:
    """Indicators counted from the start of the year."""
    return frozenset(c for c, i in INDICATORS.items() if i.cumulative)


def indicator_parts() -> dict[str, str]:
    """Indicator → the indicator it is a subgroup of."""
    return {c: i.part_of for c, i in INDICATORS.items() if i.part_of}


def delivered_people(rows: pd.DataFrame) -> pd.DataFrame:
    """Stored or delivered aggregates as :func:`geo.disclosure.derived_counts` reads them: unit, period,
    indicator, people (the count or a rate's numerator) and the denominator."""
    return pd.DataFrame({"unit_code": rows["unit_code"].astype(str), "period": rows["period"].astype(str),
                         "indicator": rows["indicator"], "people": numerators(rows),
                         "denominator": pd.to_numeric(rows["denominator"], errors="coerce")}, index=rows.index)


def numerators(frame: pd.DataFrame) -> pd.Series:
    """The people each row counts: its count, or for a rate its rate × denominator (rounded)."""
    count = pd.to_numeric(frame["count"], errors="coerce")
    from_rate = (pd.to_numeric(frame["rate"], errors="coerce") * pd.to_numeric(frame["denominator"], errors="coerce"))
    return count.where(count.notna(), from_rate.round())


def group_counts(rows: pd.DataFrame, indicator: str, period: str | None = None) -> tuple[dict[str, float], str | None]:
    """Unit code → people for ``indicator`` in ``period`` (default the latest stored), from stored aggregates:
    the count, or a rate's numerator; and the period used."""
    rows = rows[rows["indicator"] == indicator]
    if rows.empty:
        return {}, None
    period = period or str(sorted(rows["period"].astype(str))[-1])
    rows = rows[rows["period"].astype(str) == period]
    people = numerators(rows)
    return {str(c): float(p) for c, p in zip(rows["unit_code"], people) if pd.notna(p)}, period


def stored_need(rows: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Every need group the stored aggregates hold: indicator → (unit code → people, latest period)."""
    if rows.empty:
        return {}
    return {code: counts for code in INDICATORS if (counts := group_counts(rows, code)[0])}


__all__ = ["stored_need", "cumulative_indicators", "indicator_parts", "delivered_people",
           "INDICATORS", "Indicator", "min_count", "numerators", "row_level_columns", "group_counts",
           "DEFAULT_MIN_COUNT", "configured_matching"]
