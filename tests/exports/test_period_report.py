"""The monthly / quarterly report: read at its pin, so made again later it holds the same figures (every
XLSX cell compared) whatever was written since; its PDF holds the indicator table, the field-report
counts and the gap maps."""

from __future__ import annotations

import datetime as dt
import shutil
import time

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from exports.period_report import (
    clear_engines,
    parse_period,
    period_report,
    write_period_pdf,
    write_period_xlsx,
)
from layers.errors import InputFileError
from layers.stores.geopackage import GeoPackageStore
from office.accounts import Account
from office.field_reports import act, file_report, locate, reports_as_of

ADMIN = Account("联盟办", "admin", None)
EDUCATION = Account("教育局编辑", "editor", "education")


def cells(path) -> dict:
    book = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book.worksheets}


def file_on(store, layer: str, k: int, category: str, when: dt.datetime) -> str:
    fid = str(store.layers.read(layer)["feature_id"].iloc[k])
    place, dept, area, name = locate(store, layer=layer, feature_id=fid)
    return file_report(store, place=place, department=dept, area_code=area, place_name=name, category=category,
                       body="现场反馈", now=when)["report_id"]


@pytest.fixture
def city(demo_gpkg, tmp_path):
    path = tmp_path / "city.gpkg"
    shutil.copy(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        yield store


def test_the_report_made_again_from_the_same_pin_has_the_same_figures(city, tmp_path):
    now = dt.datetime.now().replace(microsecond=0)
    period = parse_period(now.strftime("%Y-%m"))
    demo = period_report(city, period, as_of=now, now=now).reports.set_index("分组")  # the demo's own reports
    span = now - period.start
    times = [period.start + span * k / 8 for k in range(1, 7)]
    codes = [file_on(city, "school_facilities", 0, "closed", times[0]),
             file_on(city, "school_facilities", 1, "data_wrong", times[1]),
             file_on(city, "venues", 0, "broken", times[2]),
             file_on(city, "greenways", 0, "unsafe", times[3]),
             file_on(city, "health_stations", 0, "crowded", times[4])]
    act(city, EDUCATION, codes[0], "accept", now=times[1])
    act(city, EDUCATION, codes[0], "resolve", reason="已按时开门", now=times[2])
    act(city, ADMIN, codes[2], "reject", reason="重复反馈", now=times[5])
    first = period_report(city, period, as_of=now, now=now)
    write_period_xlsx(first, tmp_path / "first.xlsx")

    time.sleep(1.2)  # everything below happens after the pinned second
    after = now + dt.timedelta(seconds=1)
    act(city, ADMIN, codes[3], "accept", now=after)
    file_on(city, "venues", 1, "unsafe", after)
    venues = city.layers.read("venues")
    venues.loc[0, "name"] = venues.loc[0, "name"] + "（改名）"
    city.layers.write("venues", venues, user="体育局编辑", mode="replace")
    city.layers.write("health_stations", city.layers.read("health_stations").iloc[:-3], user="卫健委编辑",
                      mode="replace")
    later = dt.datetime.now().replace(microsecond=0)

    again = period_report(city, period, as_of=now, now=later)
    write_period_xlsx(again, tmp_path / "again.xlsx")
    assert cells(tmp_path / "first.xlsx") == cells(tmp_path / "again.xlsx")
    # A report pinned after those writes does see them.
    moved = period_report(city, period, as_of=later, now=later)
    assert moved.reports.set_index("分组").loc["合计", "本期收到"] == demo.loc["合计", "本期收到"] + 6
    assert moved.changes.set_index("图层").loc["体育场馆", "期末版本"] == 2

    counts = first.reports.set_index("分组")
    added = (counts.drop(columns="办结中位时长（小时）") - demo.drop(columns="办结中位时长（小时）")).astype(int)
    assert added.loc["合计", ["本期收到", "本期办结", "本期驳回", "期末未办结"]].to_dict() == {
        "本期收到": 5, "本期办结": 1, "本期驳回": 1, "期末未办结": 3}
    assert added.loc["教育局", "本期收到"] == 2 and added.loc["教育局", "本期办结"] == 1
    # Overdue and the median time to resolve, counted here from the reports as they stood at the pin.
    stood = reports_as_of(city, now)
    open_late = ~stood["status"].isin(["resolved", "rejected"]) & (stood["due_at"] < f"{now:%Y-%m-%d %H:%M:%S}")
    assert counts.loc["合计", "期末超期"] == int(open_late.sum())
    edu = stood[(stood["department"] == "education") & (stood["status"] == "resolved")
                & stood["closed_at"].between(f"{period.start:%Y-%m-%d %H:%M:%S}", f"{now:%Y-%m-%d %H:%M:%S}")]
    hours = (pd.to_datetime(edu["closed_at"]) - pd.to_datetime(edu["created_at"])).dt.total_seconds() / 3600
    assert counts.loc["教育局", "办结中位时长（小时）"] == pytest.approx(hours.median())
    indicators = first.indicators.set_index("指标")
    assert 0 < indicators.loc["全部健身设施 10分钟（500米）覆盖率", "本期"] < 1
    assert len(first.gaps) == 10 and first.gaps["未覆盖人口"].is_monotonic_decreasing

    education = period_report(city, period, department="education", as_of=now, now=now)
    assert list(education.reports["分组"]) == ["教育局", "合计"]
    assert education.reports.set_index("分组").loc["教育局", "本期收到"] == counts.loc["教育局", "本期收到"]
    assert "本部门设施1000米服务覆盖率" in set(education.indicators["指标"])

    write_period_pdf(first, tmp_path / "report.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "report.pdf").pages)
    edu_row = " ".join(str(int(v)) for v in counts.loc["教育局", ["本期收到", "本期办结", "本期驳回", "期末未办结"]])
    for expected in ("学校体育设施开放率", "全部健身设施 15分钟（1000米）覆盖率", "问题反馈办理情况（按部门）", "本期收到",
                     f"教育局 {edu_row}", "缺口 1：", "缺口 10：", "主要覆盖缺口", "本期图层变更"):
        assert expected in text, expected


def test_figures_kept_from_an_earlier_report_are_never_stale(city):
    """A report keeps the figures it computed by the versions they came from: asked again after a layer changed,
    it shows the change, and every figure equals one computed with nothing kept."""
    now = dt.datetime.now().replace(microsecond=0)
    period = parse_period(now.strftime("%Y-%m"))
    first = period_report(city, period, as_of=now, now=now)
    time.sleep(1.2)
    city.layers.write("venues", city.layers.read("venues").iloc[::3], user="体育局编辑", mode="replace")
    later = dt.datetime.now().replace(microsecond=0)
    kept = period_report(city, period, as_of=later, now=later)
    clear_engines()
    fresh = period_report(city, period, as_of=later, now=later)
    pd.testing.assert_frame_equal(kept.indicators, fresh.indicators)
    pd.testing.assert_frame_equal(kept.gaps, fresh.gaps)
    rows = kept.indicators.set_index("指标")
    was = first.indicators.set_index("指标")
    coverage = "全部健身设施 15分钟（1000米）覆盖率"
    assert rows.loc[coverage, "本期"] < was.loc[coverage, "本期"]  # two venues in three gone: less is covered
    pd.testing.assert_series_equal(rows["上期"], was["上期"])  # the previous period did not change


def test_periods_are_months_or_quarters_that_have_begun(city):
    q = parse_period("2026Q3")
    assert (q.start, q.end) == (dt.datetime(2026, 7, 1), dt.datetime(2026, 9, 30, 23, 59, 59))
    assert q.previous().label == "2026Q2" and parse_period("2026-01").previous().label == "2025-12"
    for bad in ("2026-13", "2026Q5", "Oct 2026", "2026/10", ""):
        with pytest.raises(InputFileError, match="write 2026-10"):
            parse_period(bad)
    with pytest.raises(InputFileError, match="has not ended"):
        period_report(city, "2099-01", now=dt.datetime(2026, 12, 2))
    old = period_report(city, "2020-01", now=dt.datetime(2026, 12, 2))
    assert old.gaps.empty and any("尚未入库" in n for n in old.notes)


def test_a_report_of_a_period_before_the_layers_is_written_with_its_empty_tables(city, tmp_path):
    """Found on the Chengdu walk: a period with no gaps had a gap table without columns, and the PDF failed."""
    old = period_report(city, "2020-01", now=dt.datetime(2026, 12, 2))
    assert old.gaps.empty and list(old.gaps.columns)  # the table's columns, without rows
    write_period_pdf(old, tmp_path / "old.pdf")
    write_period_xlsx(old, tmp_path / "old.xlsx")
    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "old.pdf").pages)
    assert "主要覆盖缺口" in text and "尚未入库" in text


@pytest.mark.postgis
def test_the_report_reads_postgis_at_its_pin_too(pg_store, demo_city, tmp_path):
    from demo.city import write_demo_city

    write_demo_city(pg_store, demo_city, bookings=False, reports=False)
    now = dt.datetime.now().replace(microsecond=0)
    period = parse_period(now.strftime("%Y-%m"))
    code = file_on(pg_store, "school_facilities", 0, "closed", now - dt.timedelta(seconds=5))
    act(pg_store, EDUCATION, code, "accept", now=now - dt.timedelta(seconds=2))
    first = period_report(pg_store, period, as_of=now, now=now)
    write_period_xlsx(first, tmp_path / "first.xlsx")
    time.sleep(1.2)
    act(pg_store, EDUCATION, code, "resolve", now=now + dt.timedelta(seconds=1))
    venues = pg_store.layers.read("venues")
    pg_store.layers.write("venues", venues.iloc[:-5], user="体育局编辑", mode="replace")
    again = period_report(pg_store, period, as_of=now, now=dt.datetime.now())
    write_period_xlsx(again, tmp_path / "again.xlsx")
    assert cells(tmp_path / "first.xlsx") == cells(tmp_path / "again.xlsx")
    counts = first.reports.set_index("分组")
    assert counts.loc["教育局", "本期收到"] == 1 and counts.loc["教育局", "期末未办结"] == 1
    assert 0 < first.indicators.set_index("指标").loc["全部健身设施 10分钟（500米）覆盖率", "本期"] < 1


def test_the_report_in_english_has_no_chinese_but_place_names(city, tmp_path):
    """The same report in English: headers, groups, indicators, sheet names, notes and the PDF's titles; a street
    keeps its Chinese name with its pinyin beside it."""
    import re

    from openpyxl import load_workbook

    now = dt.datetime.now().replace(microsecond=0)
    period = parse_period(now.strftime("%Y-%m"))
    zh = period_report(city, period, as_of=now, now=now)
    en = period_report(city, period, as_of=now, now=now, lang="en")
    assert en.title.endswith(f"Monthly fitness report ({period.label})")
    assert list(en.reports["Group"])[-1] == "Total" and "Education bureau" in set(en.reports["Group"])
    assert en.reports["Received"].tolist() == zh.reports["本期收到"].tolist()
    assert en.indicators["This period"].tolist() == zh.indicators["本期"].tolist()
    assert "All fitness facilities: coverage within 10 minutes (500 m)" in set(en.indicators["Indicator"]) or \
        any("500 m" in i for i in en.indicators["Indicator"])
    streets = set(zh.gaps["街道"])

    def chinese_outside_names(text: str) -> list[str]:
        for name in streets:
            text = text.replace(name, "")
        return re.findall(r"[\u3400-\u9fff]+", text)

    write_period_xlsx(en, tmp_path / "en.xlsx")
    book = load_workbook(tmp_path / "en.xlsx")
    assert book.sheetnames[:3] == ["Cover", "Indicators", "Reports by department"]
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str) and not value.startswith(("demo", "cli", "体育局编辑")):
                    assert not chinese_outside_names(value), (sheet.title, value)
    write_period_pdf(en, tmp_path / "en.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "en.pdf").pages)
    for expected in ("Field reports handled (by department)", "Gap 1:", "Largest coverage gaps", "Notes"):
        assert expected in text, expected
