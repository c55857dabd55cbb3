"""The service package's sheet: the courses recommended after a fitness test, each with a QR code to book it.

One A4 page in Chinese, like the nearby sheet (:mod:`exports.nearby_sheet`, whose fonts and
cell wrapping it shares): the outcome as entered (no personal data), where the walk starts,
the resident's times, then one row per course — title, place and walk, schedule, the next
free slots, places free, group and intensity, instructor — and the QR code of its booking
link, which a phone camera opens at the booking page with the course and slot chosen.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import segno  # noqa: E402
from PIL import Image  # noqa: E402

from exports.nearby_sheet import sheet_target  # noqa: E402
from exports.text_fit import wrap_cell  # noqa: E402
from i18n.values import hours_text, value_label  # noqa: E402
from office.service_package import CoursePlan  # noqa: E402

#: Courses on one page.
MAX_COURSES = 6
_WEEKDAYS = "一二三四五六日"
_PARTS = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}


def qr_image(text: str) -> np.ndarray:
    """The QR code of ``text`` as a grey image array (error correction M, a quiet zone of 4 modules)."""
    buf = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buf, kind="png", scale=6, border=4)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("L"))


def _slot_text(starts_at: str) -> str:
    when = dt.datetime.fromisoformat(starts_at)
    return f"{when:%m-%d} 周{_WEEKDAYS[when.weekday()]} {when:%H:%M}"


def write_course_sheet(plan: CoursePlan, path: str | os.PathLike[str], *,
                       title: str = "体质检测后运动课程推荐单") -> Path:
    """Write the plan as a one-page A4 PDF (or a PNG preview); returns the path.

    Raises
    ------
    AnalysisError
        When ``path`` is neither .pdf nor .png, or no CJK font is installed.
    """
    target, font = sheet_target(path)
    o, out = plan.origin, plan.outcome
    rows = plan.table.head(MAX_COURSES)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.5, 0.965, title, fontproperties=font, fontsize=18, ha="center", va="top")
        kinds = "、".join(value_label("exercise_type", x) for x in out.exercise_types) or "不限"
        days = "、".join("周" + _WEEKDAYS[d] for d in plan.weekdays) if len(plan.weekdays) < 7 else "每天"
        parts = "、".join(_PARTS[p] for p in plan.parts)
        head = (f"检测结果（推荐）：运动类型 {kinds}；强度不高于{value_label('intensity', out.max_intensity)}；"
                f"适用人群 {value_label('target_group', out.target_group)}\n"
                f"出发点：{o.label}（{o.lon:.5f}, {o.lat:.5f}）    步行范围：{plan.minutes:.0f} 分钟\n"
                f"可参加时间：{days}，{parts}    共 {len(plan.table)} 门课程有空位"
                + (f"\n开具单位：{plan.issuer}" if plan.issuer else "") + f"    日期：{plan.issued_at:%Y-%m-%d}")
        fig.text(0.06, 0.925, head, fontproperties=font, fontsize=9, va="top", linespacing=1.6)
        if rows.empty:
            fig.text(0.5, 0.7, "步行范围内在可参加时间没有有空位的合适课程，请扩大范围或调整时间。",
                     fontproperties=font, fontsize=11, ha="center")
        top, height = 0.82, 0.118
        for k, row in enumerate(rows.itertuples()):
            y = top - k * height
            fig.add_artist(plt.Line2D([0.05, 0.95], [y + 0.004] * 2, color="#cccccc", lw=0.6))
            lines = [f"{row.rank}. {row.title}",
                     f"地点：{row.place_name}（{value_label('layer', row.place_layer)}）"
                     f"  步行约 {row.walk_min:.0f} 分钟（{row.walk_m:,.0f} m）",
                     "上课时间：" + wrap_cell(hours_text(row.schedule, "zh"), 60),
                     "最近空位：" + "；".join(_slot_text(s) for s in row.next_slots) + f"（首节余 {row.free_next} 位）",
                     f"适用：{value_label('target_group', row.target_group)}"
                     f"  强度：{value_label('intensity', row.intensity)}"
                     f"  指导：{value_label('instructor_type', row.instructor_type) or '—'}"]
            fig.text(0.06, y - 0.006, lines[0], fontproperties=font, fontsize=11, va="top", weight="bold")
            fig.text(0.06, y - 0.03, "\n".join(lines[1:]), fontproperties=font, fontsize=8, va="top", linespacing=1.5)
            ax = fig.add_axes([0.80, y - height + 0.012, 0.13, height - 0.02])
            ax.imshow(qr_image(row.link), cmap="gray", vmin=0, vmax=255, interpolation="none")  # embedded unresampled
            ax.set_axis_off()
            fig.text(0.865, y - height + 0.008, "扫码预约", fontproperties=font, fontsize=7, ha="center", va="top")
        left_out = len(plan.table) - len(rows)
        fig.text(0.06, 0.085, "说明：距离为沿道路的步行距离；课程名额以预约时为准，预约后凭预约号签到，"
                 "不能参加请凭取消码取消。" + (f"另有 {left_out} 门课程未列出。" if left_out else ""),
                 fontproperties=font, fontsize=7.5, va="top", wrap=True)
        fig.text(0.06, 0.045, "本单不含任何个人信息与检测数值。", fontproperties=font, fontsize=7.5, va="top")
        tmp = target.with_name(f".{target.stem}.tmp{target.suffix.lower()}")
        fig.savefig(tmp, format=target.suffix.lower()[1:], dpi=150)
        plt.close(fig)
    os.replace(tmp, target)
    return target


__all__ = ["write_course_sheet", "qr_image", "MAX_COURSES"]
