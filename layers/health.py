"""Aggregated health indicators (体卫融合): the catalogue of indicators, the smallest count that may be stored
or shown (k, a policy the health commission owns), the checks a delivery passes, and the suppression every
output applies.

Health data enters only as aggregates per unit (community or street) and period. A delivery
is refused whole when it looks like row-level data (personal identifiers, measurement columns
such as 血压, or the same unit, period and indicator more than once); a row whose count — or,
for a rate, whose numerator (rate × denominator) — is below k is refused and reported, so the
store never holds a count below k.

Outputs derived from stored counts (need-group residents covered per unit, estimates) can be
small again: :func:`suppress_small` blanks every count below k and, where a table also shows
the total, one more count (the next smallest) so no suppressed cell can be recovered by
subtraction (complementary suppression). Suppression, not rounding to a base: a rounded
count near k still tells a small cell's size within the base, and planners read the exact
counts of every cell that is large enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from config.settings import settings

#: The default smallest count shown or stored (cells below it are suppressed).
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


INDICATORS: dict[str, Indicator] = {i.code: i for i in (
    Indicator("hypertension_managed", "高血压规范管理人数", "Residents with managed hypertension", "count",
              "高血压人群", "Hypertensive residents"),
    Indicator("diabetes_managed", "糖尿病规范管理人数", "Residents with managed diabetes", "count",
              "糖尿病人群", "Diabetic residents"),
    Indicator("aged_60_plus", "60岁以上常住人口", "Residents aged 60 and over", "count", "60岁以上居民",
              "Residents aged 60+"),
    Indicator("fitness_test_failed", "体质测定不合格人数", "Residents who failed the fitness test", "count",
              "体质测定不合格者", "Residents failing the fitness test"),
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


def numerators(frame: pd.DataFrame) -> pd.Series:
    """The people each row counts: its count, or for a rate its rate × denominator (rounded)."""
    count = pd.to_numeric(frame["count"], errors="coerce")
    from_rate = (pd.to_numeric(frame["rate"], errors="coerce") * pd.to_numeric(frame["denominator"], errors="coerce"))
    return count.where(count.notna(), from_rate.round())


def suppress_small(frame: pd.DataFrame, columns: list[str], *, k: int | None = None, total_shown: bool = True,
                   within: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts of ``columns`` below k blanked (``NaN``) with complementary cells — in the whole column where
    its total is shown, and inside each group of ``within`` (each unit's parent) — so no blank can be
    recovered by subtraction (:func:`geo.need.small_cells`). Returns the table and the mask of what was
    blanked. A count of exactly 0 is shown (nobody to protect); 1 … k-1 never are.
    """
    from geo.need import small_cells

    k = min_count() if k is None else k
    mask = small_cells(frame, columns, k, within=within, total_shown=total_shown)
    out = frame.copy()
    for col in columns:
        out[col] = pd.to_numeric(out[col], errors="coerce").where(~mask[col], np.nan)
    return out, mask


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


__all__ = ["stored_need",
           "INDICATORS", "Indicator", "min_count", "numerators", "row_level_columns", "suppress_small", "group_counts",
           "DEFAULT_MIN_COUNT", "configured_matching"]
