"""Coded values as a person reads them, in Chinese or English: kinds, fees, departments, levels, yes/no,
and OSM opening hours (``Mo-Fr 18:00-21:00; PH off`` → ``周一至周五 18:00-21:00；节假日 不开放``).

Stored data keeps the codes (``track_field``, ``education``); every table, pop-up, sheet and
legend shows them through :func:`value_label` so no code leaks into a page.
"""

from __future__ import annotations

import math
import re

from layers.vocabulary import CODED_VALUES

#: field → code → (Chinese, English) (kept with the stored data's vocabulary).
VALUE_LABELS = CODED_VALUES
_YES_NO = {True: ("是", "Yes"), False: ("否", "No")}
_DAYS = {"Mo": ("周一", "Mon"), "Tu": ("周二", "Tue"), "We": ("周三", "Wed"), "Th": ("周四", "Thu"),
         "Fr": ("周五", "Fri"), "Sa": ("周六", "Sat"), "Su": ("周日", "Sun"), "PH": ("节假日", "Public holidays"),
         "SH": ("学校假期", "School holidays")}
_MONTHS_ZH = {m: f"{i}月" for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("", "<NA>", "nan")


def value_label(field: str, value: object, lang: str = "zh") -> str:
    """A stored value of ``field`` in ``lang``: coded values by their label, yes/no, hours; else as stored."""
    if _missing(value):
        return ""
    en = lang == "en"
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return _YES_NO[bool(value)][en]
    if field in ("opening_hours",):
        return hours_text(str(value), lang)
    if field == "services":
        parts = [p.strip() for p in str(value).split(";") if p.strip()]
        names = [VALUE_LABELS["services"].get(p, (p, p))[en] for p in parts]
        return ("、" if not en else ", ").join(names)
    table = VALUE_LABELS.get(field)
    if table is not None and str(value) in table:
        return table[str(value)][en]
    if field == "layer":
        from layers.catalogue import CATALOGUE

        spec = CATALOGUE.get(str(value))
        if spec is not None:
            return spec.label_en if en else spec.label_zh
    if field in ("group", "indicator"):  # a need group by its indicator code
        from layers.health import INDICATORS

        ind = INDICATORS.get(str(value))
        if ind is not None:
            return (ind.group_en if en else ind.group_zh) if field == "group" else (ind.label_en if en
                                                                                     else ind.label_zh)
    if field == "department":
        from layers.catalogue import DEPARTMENTS

        if str(value) in DEPARTMENTS:
            return DEPARTMENTS[str(value)][en]
    return str(value)


def site_name(name: object, site_kind: object, candidate_id: object, lang: str = "zh") -> str:
    """A candidate site as a planner reads it: its name, or its kind and number (``街边点位 00688``)."""
    if not _missing(name):
        return str(name)
    number = re.sub(r"\D", "", str(candidate_id)) or str(candidate_id)
    return f"{value_label('site_kind', site_kind, lang)} {number}"


_WEEKDAY_NAMES = (("周一", "Mon"), ("周二", "Tue"), ("周三", "Wed"), ("周四", "Thu"), ("周五", "Fri"),
                  ("周六", "Sat"), ("周日", "Sun"))


def slot_text(slot: object, lang: str = "zh") -> str:
    """A time slot (:class:`geo.facilities.TimeSlot`) as ``周二 19:00`` / ``Tue 19:00``, holidays named."""
    en = lang == "en"
    minute = int(getattr(slot, "minute"))
    text = f"{_WEEKDAY_NAMES[int(getattr(slot, 'weekday'))][en]} {minute // 60:02d}:{minute % 60:02d}"
    extra = [name for flag, name in ((getattr(slot, "public_holiday", False), ("节假日", "public holiday")),
                                     (getattr(slot, "school_holiday", False), ("学校假期", "school holiday")))
             if flag]
    if extra:
        names = [n[en] for n in extra]
        text += f" ({', '.join(names)})" if en else f"（{'、'.join(names)}）"
    return text


def hours_text(osm: str, lang: str = "zh") -> str:
    """Normalised OSM opening hours as a resident reads them, in ``lang``."""
    en = lang == "en"
    if osm == "24/7":
        return "Open 24 hours" if en else "全天开放"
    rules = []
    for rule in osm.split(";"):
        words = []
        for token in rule.strip().split(" "):
            if token in ("off", "closed"):
                words.append("closed" if en else "不开放")
            elif token == "week":
                continue
            elif token.startswith("01-53/2"):
                words.append("odd weeks" if en else "单周")
            elif token.startswith("02-52/2"):
                words.append("even weeks" if en else "双周")
            elif token and all(part in _DAYS or part in _MONTHS_ZH for part in re.split(r"[-,]", token)):
                words.append(_days(token, en))
            else:
                words.append(token.replace("-", "–") if en else token)
        rules.append(" ".join(words))
    return ("; " if en else "；").join(rules)


def _days(selector: str, en: bool) -> str:
    """``Mo-Fr,Su`` / ``May-Sep`` in words."""
    if selector == "Mo-Su":
        return "Every day" if en else "每天"
    out = []
    for item in selector.split(","):
        ends = item.split("-")
        if ends[0] in _MONTHS_ZH:
            names = [e if en else _MONTHS_ZH[e] for e in ends]
            if not en and len(names) == 2:
                out.append(f"{names[0]}至{names[1]}")
                continue
        else:
            names = [_DAYS.get(e, (e, e))[en] for e in ends]
        out.append(("–" if en else "至").join(names))
    return (", " if en else "、").join(out)


__all__ = ["VALUE_LABELS", "value_label", "hours_text", "slot_text", "site_name"]


def crs_text(crs: object, lang: str = "zh") -> str:
    """A coordinate system as a map's footer names it, in ``lang`` (``CGCS2000 3度带高斯-克吕格投影 中央经线114°E``;
    a UTM zone, WGS-84 and CGCS2000 degrees likewise; any other by its own name)."""
    name = str(getattr(crs, "name", crs))
    en = lang == "en"
    if m := re.fullmatch(r"(CGCS2000|New Beijing|Xian 1980|Beijing 1954) / (3|6)-degree Gauss-Kruger CM (\d+)E", name):
        datum, width, cm = m.groups()
        return (f"{datum} {width}-degree Gauss–Krüger, central meridian {cm}°E" if en
                else f"{datum} {width}度带高斯-克吕格投影 中央经线{cm}°E")
    if m := re.fullmatch(r"(CGCS2000|New Beijing|Xian 1980|Beijing 1954) / (3|6)-degree Gauss-Kruger zone (\d+)", name):
        datum, width, zone = m.groups()
        return (f"{datum} {width}-degree Gauss–Krüger, zone {zone}" if en
                else f"{datum} {width}度带高斯-克吕格投影 第{zone}带")
    if m := re.fullmatch(r"WGS 84 / UTM zone (\d+)([NS])", name):
        zone, half = m.groups()
        return f"WGS-84 UTM zone {zone}{half}" if en else f"WGS-84 UTM投影 {zone}{'北' if half == 'N' else '南'}带"
    if name in ("WGS 84", "China Geodetic Coordinate System 2000"):
        datum = "WGS-84" if name == "WGS 84" else "CGCS2000"
        return f"{datum} longitude/latitude" if en else f"{datum} 经纬度"
    return name
