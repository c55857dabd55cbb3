"""Printed emergency sheets (A4 PDF, or a PNG preview), in Chinese or English:

- the 应急联动单 of an incident: what happened where, "call 120 first", the responders ranked
  by the time until they are there, with their phones, and a map of their routes;
- the event-day plan (赛事活动应急保障方案): for an event at a venue, the routes from the two
  nearest emergency hospitals, the AEDs and their access hours that day, the health station
  on duty, and the contacts.

Text is set in the installed CJK font, embedded as TrueType.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from exports.nearby_sheet import draw_table, sheet_target  # noqa: E402
from geo.crs import local_metric_crs  # noqa: E402
from geo.emergency import SOURCES, EmergencyThresholds, EventCover  # noqa: E402
from geo.errors import OpeningHoursError  # noqa: E402
from geo.hours import parse_opening_hours  # noqa: E402
from i18n.names import place_name  # noqa: E402
from i18n.values import hours_text, value_label  # noqa: E402

#: Route colours by responder kind.
KIND_COLOURS = {"aeds": "#1b9e3a", "health_stations": "#f28e2b", "hospitals": "#d62728"}
_WORDS: dict[str, tuple[str, str]] = {
    "incident_title": ("应急联动单", "Emergency linkage sheet"),
    "event_title": ("赛事活动应急保障方案", "Event-day emergency plan"),
    "call_first": ("第一步：立即拨打 120 急救电话，说明场所名称与场内位置；同时取最近的 AED。",
                   "First: call 120 now, giving the place and where in it; send someone for the nearest AED."),
    "incident": ("事件编号", "Incident"), "place": ("场所", "Place"), "where": ("场内位置", "Where in the place"),
    "kind": ("事件类型", "Kind"), "time": ("发生时间", "Time"), "by": ("记录人", "Recorded by"),
    "event": ("活动", "Event"), "date": ("日期", "Date"), "hours": ("时间", "Hours"),
    "attendance": ("预计人数", "Expected attendance"), "issued": ("生成时间", "Issued"),
    "rank": ("序号", "#"), "who": ("类型", "Kind"), "name": ("名称", "Name"), "mode": ("方式", "By"),
    "distance": ("距离", "Distance"), "arrive": ("到场时间", "Time to arrive"), "within": ("达标", "Within target"),
    "phone": ("电话", "Phone"), "walk": ("步行", "Walk"), "drive": ("救护车", "Ambulance"),
    "open_day": ("当日可取用时间", "Access hours that day"), "through": ("全程开放", "Open throughout"),
    "none": ("无", "None"), "aeds": ("AED（自动体外除颤器）", "AEDs"),
    "hospitals": ("急救医院（救护车路线）", "Emergency hospitals (ambulance routes)"),
    "stations": ("值守健康驿站", "Health station on duty"),
    "legend_aed": ("取 AED 步行路线", "Walk to fetch an AED"),
    "legend_station": ("健康驿站步行路线", "Walk from a health station"),
    "legend_drive": ("救护车行车路线", "Ambulance route"), "here": ("事发地", "Here"), "venue": ("活动场地", "Venue"),
    "yes": ("是", "Yes"), "no": ("否", "No"), "closed": ("当日不开放", "Closed that day"),
    "all_day": ("全天", "All day"),
    "no_duty": ("附近健康驿站均在活动结束前关闭：请安排驻场医护，或协调以下驿站延时值守。",
                "Every health station near closes before the event ends: arrange on-site medical staff, or ask "
                "this station to stay open."),
    "note": ("说明：AED 到场时间为以每分钟 {pace:g} m 的快步往返取用的时间（目标 ≤ {aed:.0f} 秒，{aed_src}）；"
             "救护车时间按道路限速与当时段拥堵系数计算（目标 ≤ {amb:.0f} 秒，{amb_src}）。",
             "AED time: fetching it and coming back at a brisk {pace:g} m/min (target ≤ {aed:.0f} s; {aed_src}). "
             "Ambulance: along the roads at their speed limits with the hour's congestion (target ≤ {amb:.0f} s; "
             "{amb_src})."),
}
_TABLE_WIDTHS = (0.05, 0.14, 0.27, 0.09, 0.1, 0.12, 0.08, 0.15)
_TABLE_CHARS = (3, 12, 30, 8, 9, 10, 6, 14)
_AED_WIDTHS = (0.05, 0.26, 0.22, 0.1, 0.1, 0.1, 0.17)
_AED_CHARS = (3, 28, 24, 9, 9, 8, 16)


def _w(key: str, lang: str) -> str:
    return _WORDS[key][lang == "en"]


def _clock(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "—"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def _yes(value: object, lang: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return _w("yes" if bool(value) else "no", lang)


def unconfirmed_mark(name: str, confirmed: object, lang: str = "zh") -> str:
    """A hospital's name, marked when its emergency department is not confirmed."""
    if confirmed is None or confirmed is pd.NA or bool(confirmed):
        return name
    return f"{name} (emergency unconfirmed)" if lang == "en" else f"{name}（急诊未确认）"


def responder_rows(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The responders as printed: headers and values in ``lang``."""
    return pd.DataFrame({
        _w("rank", lang): table["rank"].astype(int).to_numpy(),
        _w("who", lang): [value_label("responder_kind", k, lang) for k in table["kind"]],
        _w("name", lang): [unconfirmed_mark(place_name(n, lang) or "—", c, lang)
                           for n, c in zip(table["name"], table.get("confirmed", pd.Series(True, index=table.index)))],
        _w("mode", lang): [_w(m, lang) for m in table["mode"]],
        _w("distance", lang): [f"{m:,.0f} m" for m in table["metres"]],
        _w("arrive", lang): [_clock(s) for s in table["seconds"]],
        _w("within", lang): [_yes(v, lang) for v in table["within"]],
        _w("phone", lang): table["phone"].fillna("—").astype(str).to_numpy(),
    })


def _draw_routes(ax, routes: gpd.GeoDataFrame, here_lonlat: tuple[float, float], streets: gpd.GeoDataFrame | None,
                 font, lang: str, here_key: str = "here") -> None:
    lon, lat = here_lonlat
    crs = local_metric_crs((lon, lat, lon, lat))
    here = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).to_crs(crs).iloc[0]
    lines = routes.to_crs(crs) if len(routes) else routes
    x0, y0, x1, y1 = (lines.total_bounds if len(lines) else (here.x - 300, here.y - 300, here.x + 300, here.y + 300))
    pad = max(x1 - x0, y1 - y0, 400) * 0.08
    box = (min(x0, here.x) - pad, min(y0, here.y) - pad, max(x1, here.x) + pad, max(y1, here.y) + pad)
    if streets is not None and len(streets):
        near = streets.to_crs(crs).clip(box)
        coords, idx = shapely.get_coordinates(shapely.get_parts(near.geometry.to_numpy()), return_index=True)
        parts = np.split(coords, np.flatnonzero(np.diff(idx)) + 1) if len(coords) else []
        ax.add_collection(LineCollection(parts, colors="#c8c8c8", linewidths=0.5))
    for row, line in zip(routes.itertuples(), lines.geometry):
        xy = np.asarray(line.coords)
        colour = KIND_COLOURS.get(row.kind, "#333333")
        ax.plot(xy[:, 0], xy[:, 1], color=colour, lw=2.0, ls="--" if row.mode == "drive" else "-", zorder=3)
        ax.scatter([xy[-1 if row.mode == "walk" else 0, 0]], [xy[-1 if row.mode == "walk" else 0, 1]], s=110,
                   color=colour, zorder=4)
        end = xy[-1] if row.mode == "walk" else xy[0]
        ax.text(end[0], end[1], str(int(row.rank)), color="white", ha="center", va="center", fontsize=7, zorder=5,
                weight="bold")
    ax.scatter([here.x], [here.y], marker="*", s=260, color="#000000", zorder=6)
    ax.text(here.x, here.y + pad * 0.6, _w(here_key, lang), fontproperties=font, fontsize=8, ha="center", zorder=6)
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    handles = [plt.Line2D([], [], color=KIND_COLOURS["aeds"], lw=2, label=_w("legend_aed", lang)),
               plt.Line2D([], [], color=KIND_COLOURS["health_stations"], lw=2, label=_w("legend_station", lang)),
               plt.Line2D([], [], color=KIND_COLOURS["hospitals"], lw=2, ls="--", label=_w("legend_drive", lang))]
    ax.legend(handles=handles, prop=font, fontsize=7, loc="lower left", framealpha=0.85)


def _note(thresholds: EmergencyThresholds, lang: str) -> str:
    en = lang == "en"
    return _w("note", lang).format(pace=thresholds.brisk_m_per_min, aed=thresholds.aed_round_trip_s,
                                   amb=thresholds.ambulance_s, aed_src=SOURCES["aed_round_trip_s"][en],
                                   amb_src=SOURCES["ambulance_s"][en])


def _table_and_footer(fig, box: list[float], rows: pd.DataFrame | None, font, columns: tuple[tuple, tuple],
                      thresholds: EmergencyThresholds, lang: str) -> None:
    """The sheet's table in ``box`` (or "none"), the thresholds with their sources, and when it was made."""
    tab = fig.add_axes(box)
    tab.axis("off")
    if rows is not None:
        draw_table(tab, rows, font, *columns)
    else:
        tab.text(0.5, 0.8, _w("none", lang), fontproperties=font, fontsize=10, ha="center")
    sep = ": " if lang == "en" else "："
    fig.text(0.06, 0.085, _note(thresholds, lang), fontproperties=font, fontsize=6.5, va="top", wrap=True)
    fig.text(0.06, 0.025, f"{_w('issued', lang)}{sep}{dt.datetime.now():%Y-%m-%d %H:%M}", fontproperties=font,
             fontsize=7)


def _save(fig, target: Path) -> Path:
    tmp = target.with_name(f".{target.stem}.tmp{target.suffix.lower()}")
    fig.savefig(tmp, format=target.suffix.lower()[1:], dpi=150)
    plt.close(fig)
    os.replace(tmp, target)
    return target


def write_incident_sheet(incident: dict, place_name: str, here_lonlat: tuple[float, float],
                         table: gpd.GeoDataFrame, path: str | os.PathLike[str], *,
                         streets: gpd.GeoDataFrame | None = None, recorded_by: str = "",
                         thresholds: EmergencyThresholds = EmergencyThresholds(), lang: str = "zh") -> Path:
    """The 应急联动单 of ``incident`` (a row of the ``incidents`` records) at ``place_name``: responders from
    :func:`geo.emergency.responders` with their routes on a map.

    Raises
    ------
    AnalysisError
        When ``path`` is neither .pdf nor .png, or no CJK font is installed.
    """
    target, font = sheet_target(path)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.5, 0.965, _w("incident_title", lang), fontproperties=font, fontsize=18, ha="center", va="top")
        head = [f"{_w('incident', lang)}：{incident['incident_id']}",
                f"{_w('place', lang)}：{place_name}    {_w('where', lang)}：{incident.get('where_in_place') or '—'}",
                f"{_w('kind', lang)}：{value_label('incident_kind', incident['incident_kind'], lang)}    "
                f"{_w('time', lang)}：{incident['occurred_at']}"
                + (f"    {_w('by', lang)}：{value_label('person', recorded_by, lang)}" if recorded_by else "")]
        sep = ": " if lang == "en" else "："
        fig.text(0.06, 0.93, "\n".join(head).replace("：", sep), fontproperties=font, fontsize=9.5, va="top",
                 linespacing=1.7)
        fig.text(0.06, 0.845, _w("call_first", lang), fontproperties=font, fontsize=10.5, va="top", color="white",
                 bbox={"facecolor": "#c0392b", "edgecolor": "none", "pad": 5})
        ax = fig.add_axes([0.1, 0.43, 0.8, 0.38])
        _draw_routes(ax, table, here_lonlat, streets, font, lang)
        rows = responder_rows(table, lang) if len(table) else None
        _table_and_footer(fig, [0.04, 0.1, 0.92, 0.31], rows, font, (_TABLE_WIDTHS, _TABLE_CHARS), thresholds, lang)
        return _save(fig, target)


def _hours_of(layers: Mapping[str, gpd.GeoDataFrame], kind: str) -> dict[str, object]:
    frame = layers.get(kind)
    if frame is None or "opening_hours" not in frame.columns:
        return {}
    return dict(zip(frame["feature_id"].astype(str), frame["opening_hours"]))


def _aed_rows(aeds: pd.DataFrame, hours: Mapping[str, object], day: dt.date, lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        _w("rank", lang): aeds["rank"].astype(int).to_numpy(),
        _w("name", lang): aeds["name"].fillna("—").astype(str).to_numpy(),
        _w("open_day", lang): [_hours_on(hours.get(f), day, lang) for f in aeds["feature_id"]],
        _w("distance", lang): [f"{m:,.0f} m" for m in aeds["metres"]],
        _w("arrive", lang): [_clock(s) for s in aeds["seconds"]],
        _w("through", lang): [_yes(v, lang) for v in aeds["open_through"]],
        _w("phone", lang): aeds["phone"].fillna("—").astype(str).to_numpy(),
    })


def _hours_on(hours: object, day: dt.date, lang: str, public_holiday: bool = False) -> str:
    """The access hours in force on ``day`` (``06:00–21:30``; all day; closed), from the hours as written."""
    if hours is None or (isinstance(hours, float) and np.isnan(hours)) or str(hours).strip() == "":
        return "—"
    try:
        rule = parse_opening_hours(str(hours)).rule_for(day.weekday(), public_holiday=public_holiday, on=day)
    except OpeningHoursError:
        return hours_text(str(hours), lang)
    if rule is None or rule.off:
        return _w("closed", lang)
    if rule.spans == ((0, 1440),):
        return _w("all_day", lang)
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d}" for a, b in rule.spans)


def _duty_line(cover: EventCover, hours: Mapping[str, object], day: dt.date, lang: str) -> str:
    """The health station open throughout the event; else the nearest open at its start, with a warning."""
    stations = cover.of("health_stations")
    if stations.empty:
        return _w("none", lang)
    through = stations[stations["open_through"]]
    row = (through if len(through) else stations).iloc[0]
    sep = ": " if lang == "en" else "："
    text = (f"{int(row['rank'])}. {row['name']}    {_w('walk', lang)} {row['metres']:,.0f} m    "
            f"{_w('open_day', lang)}{sep}{_hours_on(hours.get(str(row['feature_id'])), day, lang)}    "
            f"{_w('phone', lang)}{sep}{row['phone'] or '—'}")
    return text if len(through) else _w("no_duty", lang) + "\n" + text


def write_event_plan(event: dict, cover: EventCover, here_lonlat: tuple[float, float],
                     path: str | os.PathLike[str], *, layers: Mapping[str, gpd.GeoDataFrame] | None = None,
                     streets: gpd.GeoDataFrame | None = None,
                     thresholds: EmergencyThresholds = EmergencyThresholds(), lang: str = "zh") -> Path:
    """The event-day plan for ``event`` (``name``, ``venue``, ``day``, ``start``, ``end`` as HH:MM,
    ``attendance``) from :func:`geo.emergency.event_cover`: the map of routes, the AEDs and their access
    hours that day, the health station on duty and the two hospitals with their phones.  ``layers`` (the
    stored ``aeds`` and ``health_stations``) give the hours as written.

    Raises
    ------
    AnalysisError
        When ``path`` is neither .pdf nor .png, or no CJK font is installed.
    """
    target, font = sheet_target(path)
    sep = ": " if lang == "en" else "："
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.5, 0.97, _w("event_title", lang), fontproperties=font, fontsize=18, ha="center", va="top")
        head = (f"{_w('event', lang)}{sep}{event['name']}    {_w('place', lang)}{sep}{event['venue']}\n"
                f"{_w('date', lang)}{sep}{event['day']:%Y-%m-%d}    {_w('hours', lang)}{sep}{event['start']}–"
                f"{event['end']}    {_w('attendance', lang)}{sep}{int(event['attendance']):,}")
        fig.text(0.06, 0.935, head, fontproperties=font, fontsize=9.5, va="top", linespacing=1.7)
        fig.text(0.06, 0.885, _w("call_first", lang), fontproperties=font, fontsize=9.5, va="top", color="white",
                 bbox={"facecolor": "#c0392b", "edgecolor": "none", "pad": 4})
        ax = fig.add_axes([0.1, 0.53, 0.8, 0.33])
        _draw_routes(ax, cover.responders, here_lonlat, streets, font, lang, here_key="venue")
        hosp = cover.of("hospitals")
        fig.text(0.06, 0.515, _w("hospitals", lang), fontproperties=font, fontsize=10.5, va="top")
        lines = [f"{int(r['rank'])}. {r['name']}    {_w('drive', lang)} {_clock(r['seconds'])}"
                 f"（{r['metres'] / 1000:,.1f} km）    {_w('phone', lang)}{sep}{r['phone'] or '—'}"
                 for _k, r in hosp.iterrows()] or [_w("none", lang)]
        fig.text(0.08, 0.49, "\n".join(lines), fontproperties=font, fontsize=9, va="top", linespacing=1.6)
        fig.text(0.06, 0.425, _w("stations", lang), fontproperties=font, fontsize=10.5, va="top")
        fig.text(0.08, 0.40, _duty_line(cover, _hours_of(layers or {}, "health_stations"), event["day"], lang),
                 fontproperties=font, fontsize=9, va="top", linespacing=1.6)
        fig.text(0.06, 0.365, _w("aeds", lang), fontproperties=font, fontsize=10.5, va="top")
        aeds = cover.of("aeds")
        rows = _aed_rows(aeds, _hours_of(layers or {}, "aeds"), event["day"], lang) if len(aeds) else None
        _table_and_footer(fig, [0.04, 0.1, 0.92, 0.25], rows, font, (_AED_WIDTHS, _AED_CHARS), thresholds, lang)
        return _save(fig, target)


__all__ = ["write_incident_sheet", "write_event_plan", "responder_rows", "KIND_COLOURS"]
