"""Health disclosure control, defined once: what of the health commission's aggregates may be published.

Two kinds of figure come from the health data, and they are treated differently:

* **Counts of real people** — each delivered aggregate (a unit's count; a rate's numerator and its
  denominator) and whatever arithmetic on the deliveries gives: a unit's delivery minus the sum of its
  sub-units' (*levels*), one period minus another of a cumulative indicator (*periods*), a total minus its
  subgroup — a rate's denominator minus its numerator, or an indicator declared part of another
  (*subgroup*).  :func:`derived_counts` lists them all for a set of deliveries; none may lie between 1 and
  k − 1 (:func:`disclosures`), so the import refuses a delivery that, with what is stored, would make one
  derivable, and the database refuses the same rows written directly.  No output prints a delivered count.
* **Modelled estimates** — a delivered count spread over its unit's cells by population and read through
  coverage: the people of a group within reach, its share covered, per unit at any level.  They follow from
  the deliveries and public data and are not counts of anyone; hiding some of them protects nobody while
  promising something the product does not do.  They are published on every surface one way only: people
  rounded to :data:`ESTIMATE_BASE` (:func:`estimate_people`), shares to :data:`SHARE_STEP`
  (:func:`estimate_share`), with the word 估算/estimate.

The protection of real people rests on the door, not on the rounding: a count of at least k may be known
(it is what the health commission itself publishes), and taken together the published estimates do narrow
a delivered count (to within a fraction of a person in the demo's audit); what no combination may give is
a group of 1 … k − 1, or tell an empty group from a small one.  ``tests/properties/test_disclosure_audit.py``
writes every published figure as linear constraints and checks each count of real people with HiGHS
against that standard (README, "Health data").  The rounding keeps every surface consistent and free of
false precision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Modelled people are published to the nearest this many.
ESTIMATE_BASE = 10
#: Modelled shares are published to this step (whole percent).
SHARE_STEP = 0.01
#: A year-to-date period of the same year: ``2026``, ``2026H2``, ``2026Q3``, ``2026-09``.
_PERIOD = re.compile(r"^(\d{4})(?:H([12])|Q([1-4])|-(\d{2}))?$")


def estimate_people(value: object) -> float:
    """A modelled number of people as published: rounded half up to :data:`ESTIMATE_BASE` (NaN stays NaN)."""
    x = pd.to_numeric(value, errors="coerce")
    return float(np.floor(x / ESTIMATE_BASE + 0.5) * ESTIMATE_BASE) if np.isfinite(x) else float("nan")


def estimate_share(value: object) -> float:
    """A modelled share as published: rounded half up to :data:`SHARE_STEP` (NaN stays NaN)."""
    x = pd.to_numeric(value, errors="coerce")
    return float(np.floor(x / SHARE_STEP + 0.5) * SHARE_STEP) if np.isfinite(x) else float("nan")


def published_people(values) -> np.ndarray:
    """:func:`estimate_people` over an array."""
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    return np.where(np.isfinite(x), np.floor(x / ESTIMATE_BASE + 0.5) * ESTIMATE_BASE, np.nan)


def published_shares(values) -> np.ndarray:
    """:func:`estimate_share` over an array."""
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    return np.where(np.isfinite(x), np.floor(x / SHARE_STEP + 0.5) * SHARE_STEP, np.nan)


@dataclass(frozen=True)
class Derivation:
    """A count of real people the deliveries give: ``value`` = Σ sign × a row's people over ``terms``.

    ``terms`` are (row label, field, sign): field ``"people"`` (the row's count or a rate's numerator) or
    ``"denominator"``.  ``kind`` is one of delivered, denominator, levels, periods, subgroup; ``unit``,
    ``indicator``, ``period`` and ``other`` say which figures it takes apart (for the message).
    """

    kind: str
    indicator: str
    unit: str
    period: str
    value: float
    terms: tuple[tuple[object, str, int], ...]
    other: str = ""


def _year_to_date(period: str) -> tuple[int, int] | None:
    """(year, the last month the period covers), or None when it is not a period of one year."""
    m = _PERIOD.match(str(period))
    if m is None:
        return None
    year, half, quarter, month = m.groups()
    end = 12 if not (half or quarter or month) else 6 * int(half) if half else 3 * int(quarter) if quarter \
        else int(month)
    return int(year), end


def derived_counts(rows: pd.DataFrame, parents: Mapping[str, str], *, cumulative: frozenset[str] = frozenset(),
                   parts: Mapping[str, str] | None = None) -> list[Derivation]:
    """Every count of real people the deliveries ``rows`` give, alone and combined.

    Parameters
    ----------
    rows : DataFrame
        ``unit_code``, ``period``, ``indicator``, ``people`` (the count, or a rate's numerator) and
        ``denominator`` (a rate's, else empty); the index labels the rows in the terms.
    parents : mapping
        Unit code → its parent's code (levels: a parent's delivery minus its children's).
    cumulative : set of indicator codes
        Indicators counted from the start of the year: a later period minus an earlier one of the same year
        is the people counted in between.
    parts : mapping
        Indicator → the indicator it is a subgroup of (the total minus the subgroup is people too).
    """
    parts = dict(parts or {})
    out: list[Derivation] = []
    frame = rows.assign(unit_code=rows["unit_code"].astype(str), period=rows["period"].astype(str))
    people = pd.to_numeric(frame["people"], errors="coerce").astype(float)  # missing: NaN, never pd.NA
    denom = pd.to_numeric(frame["denominator"], errors="coerce").astype(float) if "denominator" in frame else \
        pd.Series(np.nan, index=frame.index)
    for label, r, n, d in zip(frame.index, frame.itertuples(index=False), people, denom):
        if np.isfinite(n):
            out.append(Derivation("delivered", r.indicator, r.unit_code, r.period, float(n), ((label, "people", 1),)))
        if np.isfinite(d):
            out.append(Derivation("denominator", r.indicator, r.unit_code, r.period, float(d),
                                  ((label, "denominator", 1),)))
            if np.isfinite(n):  # those measured and not in the group
                out.append(Derivation("subgroup", r.indicator, r.unit_code, r.period, float(d - n),
                                      ((label, "denominator", 1), (label, "people", -1)), other="denominator"))
    keyed = {(r.indicator, r.period, r.unit_code): (label, n) for label, r, n in
             zip(frame.index, frame.itertuples(index=False), people) if np.isfinite(n)}
    children: dict[str, list[str]] = {}
    for child, parent in parents.items():
        if parent and str(parent) != str(child):
            children.setdefault(str(parent), []).append(str(child))
    for (indicator, period, unit), (label, n) in keyed.items():
        kids = [keyed[(indicator, period, c)] for c in children.get(unit, ()) if (indicator, period, c) in keyed]
        if kids:  # the parent's people not in any delivered child
            out.append(Derivation("levels", indicator, unit, period, float(n - sum(k[1] for k in kids)),
                                  ((label, "people", 1), *((k[0], "people", -1) for k in kids)),
                                  other=",".join(sorted(c for c in children[unit] if (indicator, period, c) in keyed))))
        if indicator in cumulative and (ytd := _year_to_date(period)) is not None:
            for (i2, p2, u2), (label2, n2) in keyed.items():
                other = _year_to_date(p2) if i2 == indicator and u2 == unit else None
                if other is not None and other[0] == ytd[0] and other[1] < ytd[1]:
                    out.append(Derivation("periods", indicator, unit, period, float(n - n2),
                                          ((label, "people", 1), (label2, "people", -1)), other=p2))
        total = parts.get(indicator)
        if total is not None and (total, period, unit) in keyed:
            label2, n2 = keyed[(total, period, unit)]
            out.append(Derivation("subgroup", indicator, unit, period, float(n2 - n),
                                  ((label2, "people", 1), (label, "people", -1)), other=total))
    return out


def disclosures(derivations: list[Derivation], k: int, *, involving: set | None = None) -> list[Derivation]:
    """The derivations that give between 1 and ``k`` − 1 people (only those using a row of ``involving``, when
    given: the rows being added)."""
    small = [d for d in derivations if 0 < round(d.value) < k]
    if involving is None:
        return small
    return [d for d in small if any(term[0] in involving for term in d.terms)]


__all__ = ["ESTIMATE_BASE", "SHARE_STEP", "estimate_people", "estimate_share", "published_people",
           "published_shares", "Derivation", "derived_counts", "disclosures"]
