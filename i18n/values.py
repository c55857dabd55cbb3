"""Coded values as a person reads them, in Chinese or English: kinds, fees, departments, levels, yes/no,
and OSM opening hours (``Mo-Fr 18:00-21:00; PH off`` → ``周一至周五 18:00-21:00；节假日 不开放``).

Stored data keeps the codes (``track_field``, ``education``); every table, pop-up, sheet and
legend shows them through :func:`value_label` so no code leaks into a page.
"""

from __future__ import annotations

import math
import re

#: field → code → (Chinese, English).
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "venue_kind": {
        "stadium": ("体育场", "Stadium"), "gymnasium": ("体育馆", "Gymnasium"), "pool": ("游泳馆", "Swimming pool"),
        "court": ("球场", "Court"), "pitch": ("足球场", "Pitch"), "fitness_square": ("健身广场", "Fitness square"),
        "fitness_trail": ("健身步道", "Fitness trail"), "gym": ("健身房", "Gym"),
        "park_fitness": ("公园健身点", "Park fitness point"), "other": ("其他", "Other")},
    "facility_kind": {
        "track_field": ("田径场", "Track and field"), "pitch": ("足球场", "Pitch"), "court": ("球场", "Court"),
        "gymnasium": ("体育馆", "Gymnasium"), "pool": ("游泳池", "Swimming pool"), "other": ("其他", "Other")},
    "fee": {"free": ("免费", "Free"), "low_cost": ("低收费", "Low cost"), "paid": ("收费", "Paid")},
    "station_kind": {
        "community_health_station": ("社区健康驿站", "Community health station"),
        "sports_medicine_station": ("体卫融合服务站", "Sports–medicine station"),
        "community_health_center": ("社区卫生服务中心", "Community health centre"),
        "hospital": ("医院", "Hospital"), "clinic": ("诊所", "Clinic")},
    "services": {
        "fitness_test": ("体质检测", "Fitness test"), "exercise_prescription": ("运动处方", "Exercise prescription"),
        "chronic_disease": ("慢病管理", "Chronic disease care"), "rehabilitation": ("康复", "Rehabilitation"),
        "health_education": ("健康教育", "Health education")},
    "category": {"closed": ("应开未开", "Closed when it should be open"), "broken": ("设施损坏", "Equipment broken"),
                 "unsafe": ("安全隐患", "Unsafe"), "crowded": ("过度拥挤", "Crowded"),
                 "data_wrong": ("信息有误", "Data wrong")},
    "report_status": {"new": ("待受理", "New"), "accepted": ("已受理", "Accepted"), "in_progress": ("处理中", "In progress"),
               "resolved": ("已办结", "Resolved"), "rejected": ("已驳回", "Rejected")},
    "report_action": {"accept": ("受理", "Accept"), "start": ("开始处理", "Start work"), "resolve": ("办结", "Resolve"),
               "reject": ("驳回", "Reject"), "reassign": ("转交", "Hand over")},
    "point_kind": {"venues": ("体育场馆/健身点", "Venue or fitness point"),
                   "school_facilities": ("学校体育设施", "School sports facility"),
                   "greenways": ("绿道/健身步道", "Greenway or fitness trail"),
                   "health_stations": ("健康驿站/卫生服务站", "Health station"), "other": ("其他", "Other")},
    "age": {"on_time": ("时限内", "On time"), "due_soon": ("临近时限", "Due soon"), "overdue": ("已超期", "Overdue"),
            "closed": ("已关闭", "Closed")},
    "level": {"district": ("区", "District"), "street": ("街道", "Street"), "community": ("社区", "Community")},
    "land_use": {
        "residential": ("居住", "Residential"), "park": ("公园", "Park"), "water": ("水域", "Water"),
        "commercial": ("商业", "Commercial"), "industrial": ("工业", "Industrial"), "education": ("教育", "Education"),
        "green": ("绿地", "Green space"), "vacant": ("空地", "Vacant land"), "other": ("其他", "Other")},
    "site_kind": {
        "vacant_land": ("空地", "Vacant land"), "park": ("公园", "Park"), "school": ("学校", "School"),
        "street_point": ("街边点位", "Street point"), "rooftop": ("屋顶", "Rooftop"), "other": ("其他", "Other")},
    "department": {
        "sports": ("体育局", "Sports bureau"), "education": ("教育局", "Education bureau"),
        "health": ("卫健委", "Health commission"), "parks": ("城建园林", "Urban construction and parks"),
        "alliance": ("健身联盟", "Fitness alliance")},
    "layer": {
        "venues": ("体育场馆", "Sports venues"), "greenways": ("绿道/健身步道", "Greenways and fitness trails"),
        "school_facilities": ("学校体育设施", "School sports facilities"),
        "health_stations": ("社区健康驿站", "Health stations"), "any": ("全部设施", "All facilities")},
    "origin": {
        "uploaded": ("上报候选点", "Uploaded"), "gap street point": ("缺口内街边点位", "Street point in a gap"),
        "land use": ("空地/公园", "Open land or park"), "school not yet open": ("尚未开放的学校", "School not yet open"),
        "map click": ("地图点选", "Clicked on the map")},
    "period": {"day": ("日", "Day"), "week": ("周", "Week")},
    "measure": {"visits": ("入场人次", "Visits"), "bookings": ("预约人次", "Bookings")},
    "table_part": {"rows": ("行", "rows"), "columns": ("列", "columns"), "cells": ("个单元格", "cells"),
                   "text cells": ("个文本单元格", "text cells"), "bytes of shared text": ("字节的共享文本",
                                                                                    "bytes of shared text")},
    "status": {"over": ("超负荷", "Over-used"), "normal": ("正常", "Normal"), "under": ("利用不足", "Under-used"),
               "no_data": ("无数据", "No data"), "no_capacity": ("无容量", "No capacity"),
               "covered": ("已覆盖", "Covered"), "not_covered": ("未覆盖", "Not covered")},
    "action": {"insert": ("新增", "Added"), "update": ("修改", "Changed"), "delete": ("删除", "Deleted"),
               "refused": ("被拒绝", "Refused"), "end": ("结束", "Ended"), "replace": ("替换", "Replaced"),
               "append": ("追加", "Appended"), "upsert": ("按编号更新", "Updated by id"),
               "direct edit": ("直接编辑", "Direct edit")},
    "kind": {"vector": ("矢量", "Vector"), "raster": ("栅格", "Raster"), "records": ("记录", "Records")},
    "exercise_type": {"aerobic": ("有氧运动", "Aerobic"), "strength": ("力量训练", "Strength"),
                      "taichi": ("太极/传统功法", "Tai chi and traditional"), "balance": ("平衡柔韧", "Balance"),
                      "ball_games": ("球类", "Ball games"), "swimming": ("游泳", "Swimming")},
    "intensity": {"low": ("低", "Low"), "moderate": ("中", "Moderate"), "vigorous": ("高", "Vigorous")},
    "target_group": {"general": ("所有居民", "Everyone"), "hypertension": ("高血压人群", "Hypertension"),
                     "diabetes": ("糖尿病人群", "Diabetes"), "elderly": ("老年人", "Older adults"),
                     "youth": ("青少年", "Young people"), "overweight": ("超重肥胖人群", "Overweight")},
    "instructor_type": {"social_instructor": ("社会体育指导员", "Community sports instructor"),
                        "health_coach": ("运动健康师", "Exercise health coach"), "pe_teacher": ("体育教师", "PE teacher")},
    "who_may_book": {"everyone": ("所有人", "Everyone"), "street": ("本街道居民", "Residents of the street"),
                     "community": ("本社区居民", "Residents of the community"),
                     "group": ("已登记团体", "Registered groups")},
    "day_kind": {"closed": ("停用", "Closed"), "school_holiday": ("学校假期", "School holiday"),
                 "public_holiday": ("法定节假日", "Public holiday"), "teaching": ("教学日", "Teaching day")},
    "booking_status": {"booked": ("已预约", "Booked"), "waitlisted": ("候补", "Waiting list"),
                       "cancelled": ("已取消", "Cancelled"), "checked_in": ("已签到", "Checked in"),
                       "no_show": ("爽约", "No-show")},
    "resource_kind": {"facility": ("场地", "Facility"), "course": ("课程", "Course")},
    "channel": {"app": ("网页", "Web page"), "partner": ("合作单位接口", "Partner API")},
    "grade": {"grade_3": ("三级医院", "Tertiary hospital"), "grade_2": ("二级医院", "Secondary hospital"),
              "grade_1": ("一级医院", "Primary hospital"), "other": ("其他", "Other")},
    "oneway": {"yes": ("单行（按绘制方向）", "One-way (as drawn)"), "-1": ("单行（逆绘制方向）", "One-way (against)"),
               "no": ("双向", "Two-way")},
    "incident_kind": {"cardiac_arrest": ("心脏骤停", "Cardiac arrest"), "collapse": ("晕厥/倒地", "Collapse"),
                      "injury": ("运动损伤", "Sports injury"), "heat_illness": ("中暑", "Heat illness"),
                      "other": ("其他", "Other")},
    "aed_site": {"venue": ("场馆入口处", "At a venue"), "candidate_site": ("候选场地", "Candidate site")},
    "responder_kind": {"aeds": ("AED", "AED"), "health_stations": ("健康驿站", "Health station"),
                       "hospitals": ("急救医院", "Emergency hospital"), "call": ("急救电话", "Emergency call")},
}
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
