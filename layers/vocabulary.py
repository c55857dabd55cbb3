"""The coded values stored data uses, each with its Chinese and English words.

Stored rows keep the code (``track_field``, ``free``, ``education``); a page, sheet or
export shows the words (:func:`i18n.values.value_label`), and a delivery may give either
word for a code (:func:`code_for`), so a table exported in either language reads back as
the same codes.
"""

from __future__ import annotations

#: field → code → (Chinese, English).
CODED_VALUES: dict[str, dict[str, tuple[str, str]]] = {
    # who wrote something, when it was not a person's account: the product's own writers
    "person": {"single-user": ("单用户（未启用登录）", "Single user (no sign-in)"),
               "demo-builder": ("示范数据生成程序", "Demo builder"), "cli": ("命令行", "Command line"),
               "booking system": ("预约系统", "Booking system")},
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
               "implausible": ("存疑", "Doubtful"), "no_data": ("无记录", "No records"),
               "no_capacity": ("无容量", "No capacity"),
               "covered": ("已覆盖", "Covered"), "not_covered": ("未覆盖", "Not covered")},
    "action": {"insert": ("新增", "Added"), "update": ("修改", "Changed"), "delete": ("删除", "Deleted"),
               "refused": ("被拒绝", "Refused"), "end": ("结束", "Ended"), "replace": ("替换", "Replaced"),
               "append": ("追加", "Appended"), "upsert": ("按编号更新", "Updated by id"),
               "direct edit": ("直接编辑", "Direct edit")},
    "kind": {"vector": ("矢量", "Vector"), "raster": ("栅格", "Raster"), "records": ("记录", "Records")},
    "coverage_status": {"ok": ("正常", "ok"), "estimate": ("人口为估算", "population estimated"),
                        "no data": ("无数据", "no data")},
    "method": {"network": ("沿道路步行", "walk along streets"), "straight_line": ("直线距离", "straight line")},
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


def code_for(field: str, value: object) -> object:
    """The code a delivered value means: a code as it is, or either language's word for one of ``field``'s codes
    (case and surrounding spaces ignored); anything else unchanged."""
    table = CODED_VALUES.get(field)
    if table is None or not isinstance(value, str):
        return value
    key = value.strip()
    if key in table:
        return key
    folded = key.casefold()
    for code, words in table.items():
        if folded in (w.casefold() for w in words):
            return code
    return value


__all__ = ["CODED_VALUES", "code_for"]
