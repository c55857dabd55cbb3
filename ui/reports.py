"""Validation reports on the pages: every problem of a file as a table in the page's language."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from i18n import render_note, t
from layers.catalogue import CATALOGUE
from layers.errors import Problem, ValidationReport
from ui import show


def field_label(layer: str, name: str, lang: str) -> str:
    """A catalogue field by its label (``venue_kind`` → ``场馆类型``); a file's own column name as it is."""
    spec = CATALOGUE.get(layer)
    for f in spec.all_fields if spec is not None else ():
        if f.name == name:
            return f.label_en if lang == "en" else f.label_zh
    if name in ("geometry", "crs"):
        return t(f"field_{name}", lang)
    return name


def problem_text(problem: Problem, lang: str) -> str:
    """What is wrong, in ``lang`` (the English message when the problem carries no note)."""
    return render_note(problem.note, lang) if problem.note is not None else problem.message


def show_problems(report: ValidationReport, lang: str, *, key: str, limit: int = 500) -> None:
    """The report's headline and its problems (row, field, value, what is wrong), the first ``limit`` of them."""
    show.error(t("report_head", lang, file=report.source, problems=len(report.problems), bad=len(report.bad_rows),
                 rows=report.n_rows))
    rows = [{t("row", lang): t("whole_file", lang) if p.row is None else str(p.row),
             t("field", lang): field_label(report.layer, p.field, lang),
             t("value", lang): "" if p.value is None else str(p.value),
             t("problem", lang): problem_text(p, lang)} for p in report.problems[:limit]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=key)
    if len(report.problems) > limit:
        st.caption(t("more_problems", lang, n=len(report.problems) - limit))


__all__ = ["field_label", "problem_text", "show_problems"]
