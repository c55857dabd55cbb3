"""The pages' charts, drawn with Altair (bundled with Streamlit, rendered offline).

Every axis title and legend label is passed in by the page in its language; shares are
drawn as percentages and counts with thousands separators, so a chart reads like the table
beside it.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st


def rate_bars(frame: pd.DataFrame, *, name: str, rate: str, name_title: str, rate_title: str) -> alt.Chart:
    """Horizontal bars of ``rate`` (0 … 1) per ``name``, highest first, each labelled with its percentage."""
    data = frame[[name, rate]].dropna().sort_values(rate, ascending=False)
    base = alt.Chart(data).encode(
        y=alt.Y(f"{name}:N", sort=None, title=name_title, axis=alt.Axis(labelLimit=220, labelOverlap=False)),
        x=alt.X(f"{rate}:Q", title=rate_title, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip(f"{name}:N", title=name_title), alt.Tooltip(f"{rate}:Q", title=rate_title, format=".1%")])
    bars = base.mark_bar(color="#1a9641")
    text = base.mark_text(align="left", dx=3, fontSize=11).encode(text=alt.Text(f"{rate}:Q", format=".1%"))
    return (bars + text).properties(height=max(30 * len(data), 90))


def value_bars(frame: pd.DataFrame, *, name: str, value: str, name_title: str, value_title: str,
               fmt: str = ",.2f") -> alt.Chart:
    """Horizontal bars of ``value`` per ``name``, largest first, each labelled (a league table)."""
    data = frame[[name, value]].dropna().sort_values(value, ascending=False)
    base = alt.Chart(data).encode(
        y=alt.Y(f"{name}:N", sort=None, title=name_title, axis=alt.Axis(labelLimit=220, labelOverlap=False)),
        x=alt.X(f"{value}:Q", title=value_title),
        tooltip=[alt.Tooltip(f"{name}:N", title=name_title), alt.Tooltip(f"{value}:Q", title=value_title, format=fmt)])
    text = base.mark_text(align="left", dx=3, fontSize=11).encode(text=alt.Text(f"{value}:Q", format=fmt))
    return (base.mark_bar(color="#2171b5") + text).properties(height=max(30 * len(data), 90))


def marginal_chart(curve: pd.DataFrame, *, sites_title: str, covered_title: str, covered_label: str,
                   bound_label: str) -> alt.Chart:
    """Residents covered after k new sites (greedy, nested), with the proven most any k sites could cover above."""
    long = pd.concat([
        pd.DataFrame({"sites": curve["sites"], "residents": curve["covered"], "rate": curve["rate"],
                      "series": covered_label}),
        pd.DataFrame({"sites": curve["sites"], "residents": curve["bound_covered"], "rate": curve["bound_rate"],
                      "series": bound_label}),
    ], ignore_index=True)
    color = alt.Color("series:N", title=None, scale=alt.Scale(domain=[covered_label, bound_label],
                                                              range=["#1a9641", "#9e9e9e"]),
                      legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=480))
    dash = alt.StrokeDash("series:N", scale=alt.Scale(domain=[covered_label, bound_label], range=[[1, 0], [5, 4]]),
                          legend=None)
    return alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("sites:O", title=sites_title, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("residents:Q", title=covered_title, axis=alt.Axis(format=",.0f"), scale=alt.Scale(zero=False)),
        color=color, strokeDash=dash,
        tooltip=[alt.Tooltip("sites:O", title=sites_title), alt.Tooltip("series:N", title=" "),
                 alt.Tooltip("residents:Q", title=covered_title, format=",.0f"),
                 alt.Tooltip("rate:Q", format=".1%", title="%")]).properties(height=240)


def share_lines(frame: pd.DataFrame, *, when: str, series: dict[str, str], when_title: str,
                share_title: str) -> alt.Chart:
    """Shares (0 … 1) over time: dates on x, percentages on y, one line per column of ``series`` (column → label)."""
    long = frame.melt(id_vars=[when], value_vars=list(series), var_name="column", value_name="share")
    long["series"] = long.pop("column").map(series)
    return alt.Chart(long.dropna(subset=["share"])).mark_line(point=True).encode(
        x=alt.X(f"{when}:T", title=when_title, axis=alt.Axis(format="%Y-%m-%d", labelAngle=0)),
        y=alt.Y("share:Q", title=share_title, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip(f"{when}:T", title=when_title, format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("series:N", title=" "), alt.Tooltip("share:Q", title=share_title, format=".1%")],
    ).properties(height=220)


def show_chart(chart: alt.TopLevelMixin) -> None:
    """Draw ``chart`` across the column at the height it asks for (Streamlit would otherwise squash a layer)."""
    height = getattr(chart, "height", alt.Undefined)
    st.altair_chart(chart, width="stretch", height=int(height) + 60 if isinstance(height, int) else "content")


__all__ = ["rate_bars", "value_bars", "marginal_chart", "share_lines", "show_chart"]
