"""Templates of the notes ``geo`` returns (:class:`geo.notes.Note`): code → (Chinese, English).

A template is filled with the note's values by :func:`render_note`; numbers keep the format
the template asks for (``{residents:,.0f}``).  A code without a template is shown as the code
and its values, so a missing translation is visible rather than silent.
"""

from __future__ import annotations

from typing import Any

NOTES: dict[str, tuple[str, str]] = {
    # progress of long work
    "progress.greedy": ("逐个选址：第 {k}/{p} 处", "Choosing sites one by one: {k} of {p}"),
    "progress.swaps": ("交换改进：第 {round} 轮", "Improving by swaps: round {round}"),
    "progress.bound": ("计算最优性界：第 {k}/{n} 步", "Proving the bound: step {k} of {n}"),
    "progress.exact": ("精确求解中（HiGHS）：{seconds:.0f}/{limit:.0f} 秒，与界相差 {gap}",
                       "Solving exactly (HiGHS): {seconds:.0f} of {limit:.0f} s, gap to the bound {gap}"),
    "progress.done": ("完成", "Done"),
    "progress.read_layer": ("读取图层：{layer}", "Reading layer {layer}"),
    "progress.snap": ("把 {places:,} 个地点接入步行路网", "Snapping {places:,} places to the walking network"),
    "progress.snapped": ("{places:,} 个地点已接入路网", "{places:,} places snapped to the network"),
    "progress.distances": ("计算步行距离：{layer}（{k}/{n}）", "Walking distances: {layer} ({k} of {n})"),
    "progress.catchments": ("计算候选点服务范围：第 {k}/{n} 批", "Catchments of the candidates: batch {k} of {n}"),
    "progress.rows": ("已读取 {rows:,} 行", "{rows:,} rows read"),
}


def render_note(note: Any, lang: str = "zh") -> str:
    """A note in ``lang`` ("zh" or "en"), its values filled in."""
    pair = NOTES.get(note.code)
    values = dict(note.values)
    if pair is None:
        return f"{note.code}: " + ", ".join(f"{k}={v}" for k, v in values.items())
    template = pair[1] if lang == "en" else pair[0]
    try:
        return template.format(**values)
    except (KeyError, ValueError, IndexError):
        return f"{template} ({', '.join(f'{k}={v}' for k, v in values.items())})"


__all__ = ["NOTES", "render_note"]
