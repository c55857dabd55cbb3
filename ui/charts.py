"""The pages' charts, drawn on the server as SVG (matplotlib) and shown as images.

A chart is text and lines the browser draws at once: no chart library to download and start
in every new browser (Vega cost about half a second on this machine's class), the labels are
text in the page's language (set in the installed CJK font), and every value is escaped by
the SVG writer.  Shares are drawn as percentages and counts with thousands separators, so
a chart reads like the table beside it.

A chart depends only on its data and its words, so it is drawn once per (data, words) for every session that asks
(``st.cache_data``), and it is drawn on its own :class:`~matplotlib.figure.Figure` — not through pyplot's global
figure list — so two sessions drawing at once cannot draw into each other's chart.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import matplotlib
import matplotlib.dates
import pandas as pd
import streamlit as st
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from exports.print_map import cjk_font
from i18n.names import place_name

# Text stays text (in the browser's CJK font), set in the installed CJK font; read by every figure's text.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["font.family"] = [cjk_font().get_name(), "sans-serif"]

_GREEN, _BLUE, _GREY = "#1a9641", "#2171b5", "#9e9e9e"
_LINES = ("#1a9641", "#74add1", "#d73027", "#984ea3")


#: Charts kept drawn, per (data, words); each is a few kB of SVG.
_cache = st.cache_data(show_spinner=False, max_entries=256)


def _figure(width: float, height: float):
    fig = Figure(figsize=(width, height))
    ax = fig.subplots()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9, colors="#444444")
    return fig, ax


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    return re.sub(r"<metadata>.*?</metadata>", "", svg[svg.index("<svg"):], flags=re.S)  # no creator, no date


@_cache
def rate_bars(frame: pd.DataFrame, *, name: str, rate: str, name_title: str, rate_title: str,
              lang: str = "zh") -> str:
    """Horizontal bars of ``rate`` (0 … 1) per ``name`` (a place: with its pinyin in English), highest first, each
    labelled with its percentage."""
    data = frame[[name, rate]].dropna().sort_values(rate, ascending=True)
    fig, ax = _figure(6.0, 0.36 * len(data) + 0.9)
    bars = ax.barh([place_name(v, lang) for v in data[name]], data[rate], color=_GREEN)
    ax.bar_label(bars, labels=[f"{v:.1%}" for v in data[rate]], padding=3, fontsize=9)
    ax.set_xlim(0, 1.1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(rate_title, fontsize=9)
    ax.set_ylabel(name_title, fontsize=9)
    return _svg(fig)


@_cache
def value_bars(frame: pd.DataFrame, *, name: str, value: str, name_title: str, value_title: str,
               fmt: str = "{:,.2f}", lang: str = "zh") -> str:
    """Horizontal bars of ``value`` per ``name`` (a place: with its pinyin in English), largest first, each
    labelled (a league table)."""
    data = frame[[name, value]].dropna().sort_values(value, ascending=True)
    fig, ax = _figure(6.0, 0.36 * len(data) + 0.9)
    bars = ax.barh([place_name(v, lang) for v in data[name]], data[value], color=_BLUE)
    ax.bar_label(bars, labels=[fmt.format(v) for v in data[value]], padding=3, fontsize=9)
    ax.set_xlim(0, float(data[value].max()) * 1.15 if len(data) else 1)
    ax.set_xlabel(value_title, fontsize=9)
    ax.set_ylabel(name_title, fontsize=9)
    return _svg(fig)


@_cache
def marginal_chart(curve: pd.DataFrame, *, sites_title: str, covered_title: str, covered_label: str,
                   bound_label: str) -> str:
    """Residents covered after k new sites (greedy, nested), with the proven most any k sites could cover above."""
    fig, ax = _figure(6.0, 3.0)
    ax.plot(curve["sites"], curve["bound_covered"], color=_GREY, ls="--", marker=".", label=bound_label)
    ax.plot(curve["sites"], curve["covered"], color=_GREEN, marker="o", ms=4, label=covered_label)
    ax.set_xticks(list(curve["sites"]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_xlabel(sites_title, fontsize=9)
    ax.set_ylabel(covered_title, fontsize=9)
    ax.grid(axis="y", color="#eeeeee")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return _svg(fig)


@_cache
def share_lines(frame: pd.DataFrame, *, when: str, series: Mapping[str, str], when_title: str,
                share_title: str) -> str:
    """Shares (0 … 1) over time: dates on x, percentages on y, one line per column of ``series`` (column → label)."""
    data = frame.dropna(subset=[when]).sort_values(when)
    fig, ax = _figure(6.0, 2.8)
    for color, (column, label) in zip(_LINES, series.items()):
        if column in data.columns:
            ax.plot(pd.to_datetime(data[when]), data[column], marker="o", ms=4, color=color, label=label)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y-%m-%d"))
    fig.autofmt_xdate(rotation=0, ha="center")
    ax.set_xlabel(when_title, fontsize=9)
    ax.set_ylabel(share_title, fontsize=9)
    ax.grid(axis="y", color="#eeeeee")
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    return _svg(fig)


def show_chart(svg: str) -> None:
    """Place a chart (our own SVG, every label escaped by the SVG writer) in the page, as an image."""
    st.image(svg, width="stretch")


__all__ = ["rate_bars", "value_bars", "marginal_chart", "share_lines", "show_chart"]
