"""The demo city's field reports: about four months of problems reported on the ground, in every state,
filed and handled through the real workflow (:mod:`office.field_reports`).

Dates follow the day the demo is built (the last 120 days), so the inbox has new reports, some due
soon and some overdue, the map layer has every age, and the monthly report has something to count.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from office.accounts import Account
from office.field_reports import act, due_hours, file_report, locate

#: Days of reports made for the demo.
DAYS = 120
#: What residents and the working level say, per category (the demo's words, fictional).
TEXTS = {
    "closed": ("公示开放时间内大门上锁", "周末开放日未开门", "夜间开放时段灯未开、无人值守"),
    "broken": ("器材松动，存在隐患", "设施损坏无法使用", "健身器材损坏", "地面破损起翘"),
    "unsafe": ("步道护栏缺失，临水一侧无防护", "场地积水结冰，易滑倒", "照明损坏，夜间漆黑"),
    "crowded": ("傍晚时段人员过密", "周末排队超过一小时"),
    "data_wrong": ("地图上的开放时间与现场公示不符", "名称已更改", "位置标注偏差约百米"),
}
REPORTERS = ("书院社区网格员", "东湖街道社区工作者", "府前小学体育老师", "西城社区卫生服务站", None, None, None)
ADMIN = Account("健身联盟办公室", "admin", None)


def write_demo_reports(store, *, now: dt.datetime, seed: int = 11) -> dict[str, int]:
    """File and handle the demo's reports in ``store``; returns how many end in each status."""
    rng = np.random.default_rng(seed)
    stored = {i.name for i in store.layers.list()}
    layers = [n for n in ("venues", "school_facilities", "greenways", "health_stations") if n in stored]
    frames = {n: store.layers.read(n) for n in layers}
    boundaries = store.layers.read("boundaries") if "boundaries" in stored else None
    hours = due_hours()
    counts: dict[str, int] = {}
    n_reports = 46
    for k in range(n_reports):
        age_days = DAYS * (1 - k / n_reports) ** 2.2  # more of them recent
        filed = (now - dt.timedelta(days=float(age_days), minutes=int(rng.integers(0, 600)))).replace(
            second=0, microsecond=0)
        category = str(rng.choice(list(TEXTS), p=[0.25, 0.35, 0.15, 0.1, 0.15]))
        if k % 9 == 4 and boundaries is not None:  # a bare point: a place the layers do not hold
            x0, y0, x1, y1 = boundaries.to_crs(4326).total_bounds
            kind = str(rng.choice(["greenways", "venues", "other"]))
            place, dept, area, name = locate(store, lon=float(rng.uniform(x0, x1)), lat=float(rng.uniform(y0, y1)),
                                             kind=kind)
        else:
            layer = layers[k % len(layers)]
            frame = frames[layer]
            fid = str(frame["feature_id"].iloc[int(rng.integers(0, len(frame)))])
            place, dept, area, name = locate(store, layer=layer, feature_id=fid)
        reporter = REPORTERS[k % len(REPORTERS)]
        account = Account(reporter, "viewer", "alliance") if reporter else None
        row = file_report(store, place=place, department=dept, area_code=area, place_name=name, category=category,
                          body=str(rng.choice(TEXTS[category])), account=account, anonymous=reporter is None,
                          now=filed)
        final = _handle(store, row, rng, filed=filed, now=now, due=dt.timedelta(hours=hours[category]))
        counts[final] = counts.get(final, 0) + 1
    return counts


def _handle(store, row: dict, rng: np.random.Generator, *, filed: dt.datetime, now: dt.datetime,
            due: dt.timedelta) -> str:
    """Take the report through the steps a department would, as far as its age allows; its final status."""
    code = row["report_id"]
    holder = Account(f"{row['department']}-editor", "editor", row["department"])
    age = now - filed
    if row["department"] == "alliance":  # the office hands what is not its own to the department that holds it
        if age < dt.timedelta(hours=6):
            return "new"
        to = "parks" if rng.random() < 0.5 else "sports"
        act(store, ADMIN, code, "reassign", reason="按属地和设施类型转交", to_department=to,
            now=filed + dt.timedelta(hours=3))
        holder = Account(f"{to}-editor", "editor", to)
    roll = rng.random()
    if age > dt.timedelta(days=30):
        roll = 0.4 + 0.6 * roll  # most old reports are closed by now
    if age < dt.timedelta(hours=12) or roll < 0.08:
        return "new"  # not yet seen (a few old ones too: overdue in the inbox)
    t = filed + due * float(rng.uniform(0.05, 0.3))
    act(store, holder, code, "accept", now=min(t, now))
    if roll < 0.2 or age < dt.timedelta(days=2):
        return "accepted"
    if roll < 0.3:
        act(store, holder, code, "reject", reason="经核实与现场情况不符", now=min(t + dt.timedelta(hours=2), now))
        return "rejected"
    t = t + due * float(rng.uniform(0.05, 0.3))
    act(store, holder, code, "start", now=min(t, now))
    if roll < 0.45 or age < dt.timedelta(days=5):
        return "in_progress"
    finish = t + due * float(rng.uniform(0.2, 1.4))  # some late
    if finish >= now:
        return "in_progress"
    act(store, holder, code, "resolve", reason="已现场处理", now=finish)
    return "resolved"


__all__ = ["write_demo_reports", "DAYS"]
