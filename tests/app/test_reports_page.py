"""The 问题反馈 page (AppTest): a report filed from the page reaches its department; the inbox accepts a
"data wrong" report and saves the correction of its feature, whose history then names the report; a code
shows its progress; bad input is refused in the page's language with nothing stored."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from layers.stores.geopackage import GeoPackageStore
from office.accounts import Account
from office.field_reports import act, file_report, locate
from tests.app.test_booking_page import own_demo  # noqa: F401  (the fixture)
from tests.app.test_pages import APP
from tests.conftest import shown


def _reports_page(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("views/reports_page.py").run()
    assert not at.exception, at.exception
    return at


def test_a_report_filed_from_the_page_goes_to_its_department(own_demo):  # noqa: F811
    at = _reports_page()
    at.radio(key="reports.section").set_value("file").run()
    at.selectbox(key="reports.layer").set_value("health_stations").run()
    at.text_area[0].set_value("运动处方服务已停止")
    next(b for b in at.button if b.label == "提交").click().run()
    assert not at.exception, at.exception
    said = shown(at.success[0])
    assert "转卫健委办理" in said
    code = said.split("反馈编号 ")[1].split("，")[0]
    with GeoPackageStore(own_demo) as store:
        row = store.field_reports.get(code)
    assert row["department"] == "health" and row["body"] == "运动处方服务已停止" and row["place_layer"] == \
        "health_stations"
    # Progress by code, as the reporter sees it.
    at.radio(key="reports.section").set_value("status").run()
    at.text_input(key="reports.lookup").set_value(code.lower()).run()
    assert "待受理" in shown(at.info[0]) and "卫健委" in shown(at.info[0])
    at.text_input(key="reports.lookup").set_value("FR-20260101-DEADBEEF").run()
    assert "没有编号为 FR-20260101-DEADBEEF 的反馈" in shown(at.warning[0])


def test_a_personal_number_in_the_text_is_refused_in_the_page(own_demo):  # noqa: F811
    at = _reports_page("en")
    at.radio(key="reports.section").set_value("file").run()
    at.text_area[0].set_value("call me on 13812345678")
    next(b for b in at.button if b.label == "Send").click().run()
    assert "must not hold a phone or ID number" in shown(at.error[0])
    with GeoPackageStore(own_demo) as store:
        assert not store.field_reports.list()["body"].fillna("").str.contains("13812345678").any()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_inbox_accepts_a_data_wrong_report_and_corrects_its_feature(own_demo, lang):  # noqa: F811
    now = dt.datetime.now().replace(microsecond=0)
    with GeoPackageStore(own_demo) as store:
        place, dept, area, name = locate(store, layer="venues", feature_id="venue-004")
        code = file_report(store, place=place, department=dept, area_code=area, place_name=name,
                           category="data_wrong", body="开放时间写错了", now=now)["report_id"]
        act(store, Account("体育局编辑", "editor", "sports"), code, "accept", now=now)
    at = _reports_page(lang)
    at.selectbox(key="inbox.report").set_value(code).run()
    assert not at.exception, at.exception
    at.text_input(key="correct.opening_hours").set_value("Mo-Su 07:00-21:00")
    save = "保存更正" if lang == "zh" else "Save the correction"
    next(b for b in at.button if b.label == save).click().run()
    assert not at.exception, at.exception
    assert "opening_hours" in shown(at.success[0])
    with GeoPackageStore(own_demo) as store:
        venue = store.layers.read("venues").set_index("feature_id").loc["venue-004"]
        assert venue["opening_hours"] == "Mo-Su 07:00-21:00" and venue["source"] == f"field report {code}"
        assert store.field_reports.steps(code)["reason"].iloc[-1] == "edit: opening_hours"
