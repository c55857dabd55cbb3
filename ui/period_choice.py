"""The export page's choice of a monthly or quarterly report: which period, whose, and the moment it is read at."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from i18n import t
from i18n.values import value_label
from layers.catalogue import DEPARTMENTS

#: How many past periods the page offers.
MONTHS_BACK, QUARTERS_BACK = 12, 8


@dataclass(frozen=True)
class PeriodChoice:
    """A period label, whose report, and the pin of a period still running (``None``: the period's end)."""

    period: str
    department: str
    as_of: dt.datetime | None


def period_labels(kind: str, today: dt.date) -> list[str]:
    """The current and past periods, newest first: ``2026-12``, ``2026-11`` … or ``2026Q4``, ``2026Q3`` …"""
    if kind == "quarter":
        now = pd.Period(today, freq="Q")
        return [f"{(now - k).year}Q{(now - k).quarter}" for k in range(QUARTERS_BACK)]
    now = pd.Period(today, freq="M")
    return [(now - k).strftime("%Y-%m") for k in range(MONTHS_BACK)]


def period_widgets(at: Any, lang: str) -> PeriodChoice:
    """Widgets for the period report in column ``at``; a running period is read as of now (shown)."""
    kind = at.radio(t("period_kind", lang), ["month", "quarter"], horizontal=True, key="export_period_kind",
                    format_func=lambda k: t(f"period_{k}", lang))
    now = dt.datetime.now().replace(second=0, microsecond=0)
    labels = period_labels(kind, now.date())
    period = at.selectbox(t("period", lang), labels, key="export_period")
    department = at.selectbox(t("period_for", lang), ["alliance", *[d for d in DEPARTMENTS if d != "alliance"]],
                              key="export_period_department",
                              format_func=lambda d: value_label("department", d, lang))
    running = period == labels[0]
    if running:
        st.caption(t("period_running", lang, when=f"{now:%Y-%m-%d %H:%M}"))
    else:
        st.caption(t("period_pinned", lang))
    return PeriodChoice(period, department, now if running else None)


__all__ = ["PeriodChoice", "period_widgets", "period_labels"]
