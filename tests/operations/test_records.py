"""Venue usage and satisfaction deliveries: checked row by row, stored with their history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from layers.errors import InputFileError, LayerValidationError, PersonalDataError, StoreError
from layers.records import commit_records, prepare_records

TODAY = pd.Timestamp("2026-11-23")


@pytest.fixture
def venues(demo_city):
    return demo_city.layers["venues"][["feature_id", "name"]]


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_usage_rows_are_checked_and_unknown_venues_listed(tmp_path, venues):
    v1, v2 = venues["feature_id"].iloc[:2]
    counts = venues["name"].value_counts()
    name3, twice = counts.index[counts == 1][0], counts.index[counts > 1][0]
    id3 = venues.loc[venues["name"] == name3, "feature_id"].iloc[0]
    f = _write(tmp_path / "使用记录.csv", "\n".join([
        "场馆编号,场馆名称,日期,人次,周期",
        f"{v1},,2026-10-01,120,日",          # row 2: fine
        f"{v2},,2026/10/01,80,day",          # row 3: fine, other date style
        f",{name3},2026-10-01,55,日",          # row 4: by name
        "venue-999,,2026-10-01,10,日",        # row 5: unknown id
        ",不存在的场馆,2026-10-01,10,日",        # row 6: unknown name
        f"{v1},,2026-13-01,10,日",           # row 7: not a date
        f"{v1},,2026-10-02,-4,日",           # row 8: negative count
        f"{v1},,2026-10-03,十二,日",          # row 9: not a number
        f"{v1},,2026-10-04,12,月",           # row 10: unknown period
        f"{v1},,2026-12-24,12,日",           # row 11: future
        f"{v2},,2026/10/01,80,day",          # row 12: duplicate of row 3
        f",{twice},2026-10-01,5,日",          # row 13: a name two venues share
    ]), encoding="gbk")
    plan = prepare_records(f, "venue_usage", venues=venues, today=TODAY)
    by_row = {p.row: p for p in plan.report.problems}
    assert set(by_row) == {3, 5, 6, 7, 8, 9, 10, 11, 12, 13}
    assert "stored venues have this name" in by_row[13].message and "give the venue id" in by_row[13].message
    assert by_row[5].field == "venue_id" and "not the id of any stored venue" in by_row[5].message
    assert by_row[6].field == "venue_name" and "no stored venue has this name" in by_row[6].message
    assert "not a date" in by_row[7].message and by_row[7].value == "2026-13-01"
    assert "below the minimum 0" in by_row[8].message
    assert "not a finite number" in by_row[9].message
    assert by_row[10].field == "period" and "day, week" in by_row[10].message
    assert "in the future" in by_row[11].message
    assert "a second visits count" in by_row[12].message
    assert list(plan.unknown["row"]) == [5, 6]
    assert list(plan.unknown["venue_id"].fillna("")) == ["venue-999", ""]
    assert "使用记录.csv, field 'venue_id'" not in plan.report.summary()  # rows are named, not the file
    assert "row 5, field 'venue_id', value 'venue-999'" in plan.report.summary(20)
    assert list(plan.valid["venue_id"]) == [v1, id3]


def test_whole_file_problems(tmp_path, venues):
    with pytest.raises(InputFileError, match="no column for date, count"):
        prepare_records(_write(tmp_path / "u.csv", "场馆编号,备注\nvenue-001,x\n"), "venue_usage", venues=venues)
    with pytest.raises(InputFileError, match="has a header but no record rows"):
        prepare_records(_write(tmp_path / "u.csv", "场馆编号,日期,人次\n"), "venue_usage", venues=venues)
    with pytest.raises(InputFileError, match="not a table format"):
        prepare_records(_write(tmp_path / "u.txt", "x"), "venue_usage", venues=venues)
    phone = _write(tmp_path / "预约.csv", "场馆编号,日期,人次,联系电话\nvenue-001,2026-10-01,3,13812345678\n")
    with pytest.raises(PersonalDataError, match="mobile phone number"):
        prepare_records(phone, "venue_usage", venues=venues)
    with pytest.raises(InputFileError, match="Unknown record table"):
        prepare_records(phone, "bookings")


def test_satisfaction_survey_rows(tmp_path, demo_city):
    codes = set(demo_city.layers["boundaries"]["code"].astype(str))
    c1 = sorted(codes)[0]
    f = _write(tmp_path / "满意度.csv", "\n".join([
        "街道代码,调查期,满意度,样本数",
        f"{c1},2026Q3,86.5,120",
        f"{c1},2026Q5,80,50",
        "999999,2026Q3,80,50",
        f"{c1},2026Q2,105,50",
        f"{c1},2026Q1,80,0",
    ]))
    plan = prepare_records(f, "satisfaction", unit_codes=codes)
    by_row = {p.row: p for p in plan.report.problems}
    assert set(by_row) == {3, 4, 5, 6}
    assert "not a period" in by_row[3].message and "not the code" in by_row[4].message
    assert "above the maximum 100" in by_row[5].message and "below the minimum 1" in by_row[6].message
    assert list(plan.unknown["unit_code"]) == ["999999"]


def _usage(venue_ids, day: str, counts) -> pd.DataFrame:
    return pd.DataFrame({"venue_id": venue_ids, "date": [dt.date.fromisoformat(day)] * len(venue_ids),
                         "period": "day", "measure": "visits", "count": counts})


def test_store_keeps_every_version(store, demo_city):
    ids = list(demo_city.layers["venues"]["feature_id"].iloc[:3])
    v1 = store.records.write("venue_usage", _usage(ids, "2026-10-01", [10, 20, 30]), user="体育局", source="a.csv")
    v2 = store.records.write("venue_usage", _usage(ids[:1], "2026-10-01", [15]), user="体育局", source="b.csv")
    v3 = store.records.write("venue_usage", _usage(ids[:2], "2026-10-02", [5, 6]), user="体育局", source="c.csv")
    assert (v1, v2, v3) == (1, 2, 3)
    now = store.records.read("venue_usage")
    assert len(now) == 5
    first = now[(now["venue_id"] == ids[0]) & (now["date"] == dt.date(2026, 10, 1))]
    assert list(first["count"]) == [15] and first["source"].iloc[0] == "b.csv"
    then = store.records.read("venue_usage", version=1)
    assert sorted(then["count"]) == [10, 20, 30]
    with pytest.raises(StoreError, match="already stored"):
        store.records.write("venue_usage", _usage(ids[:1], "2026-10-02", [9]), mode="append")
    assert len(store.records.read("venue_usage")) == 5  # the refused append wrote nothing
    store.records.write("venue_usage", _usage(ids[:1], "2026-10-05", [1]), mode="replace")
    assert len(store.records.read("venue_usage")) == 1 and len(store.records.read("venue_usage", version=3)) == 5
    log = store.history("venue_usage")
    assert list(log["kind"]) == ["records"] * 4 and list(log["n_total"]) == [3, 3, 5, 1]
    assert all(i.name != "venue_usage" for i in store.layers.list())


def test_commit_refuses_problems_unless_asked(tmp_path, gpkg_store, venues):
    v1 = venues["feature_id"].iloc[0]
    f = _write(tmp_path / "u.csv", f"场馆编号,日期,人次\n{v1},2026-10-01,12\nvenue-999,2026-10-01,3\n")
    plan = prepare_records(f, "venue_usage", venues=venues, today=TODAY)
    with pytest.raises(LayerValidationError, match="row 3, field 'venue_id'"):
        commit_records(gpkg_store, plan, user="体育局")
    assert gpkg_store.records.read("venue_usage").empty
    commit_records(gpkg_store, plan, user="体育局", keep_valid=True)
    assert list(gpkg_store.records.read("venue_usage")["count"]) == [12]


def test_a_count_no_venue_can_take_is_refused_naming_row_field_and_bound(tmp_path, demo_city):
    """Usage above capacity × open hours (turned over every half hour) or above 5 % of all residents is refused at
    import, with the bound the analysis uses; a weekly count is judged per day and a closed day by the whole day."""
    from layers.rasters import population_total
    from layers.records import venue_facts

    venues = demo_city.layers["venues"]
    square = venues[(venues["venue_kind"] == "fitness_square") & (venues["opening_hours"] == "Mo-Su 06:00-22:00")] \
        .iloc[0]
    ceiling = square["capacity"] * 16 / 0.5
    f = _write(tmp_path / "八月使用记录.csv", "\n".join([
        "场馆编号,日期,人次,周期",
        "venue-000,2026-08-03,196173,日",                         # row 2: the stadium, half the district a day
        f"{square['feature_id']},2026-08-04,{int(ceiling)},日",     # row 3: at the bound, accepted
        f"{square['feature_id']},2026-08-05,{int(ceiling) + 1},日",  # row 4: one above it
        f"{square['feature_id']},2026-08-03,{int(ceiling * 7)},周",  # row 5: a week within 7 days' bound
        "venue-000,2026-08-10,5000,日",                           # row 6: a busy, plausible day
    ]))
    residents = population_total(demo_city.population_tif)
    plan = prepare_records(f, "venue_usage", venues=venue_facts(venues), residents=residents, today=TODAY)
    by_row = {p.row: p for p in plan.report.problems}
    assert set(by_row) == {2, 4}
    assert by_row[2].field == "count" and by_row[2].value == "196173"
    assert f"{0.05 * residents:,.0f}" in by_row[2].message and "more than it can have taken" in by_row[2].message
    assert f"{ceiling:,.0f}" in by_row[4].message
    from i18n import render_note

    assert "超过它一天最多可能接待的" in render_note(by_row[2].note, "zh")
    with pytest.raises(LayerValidationError):
        commit_records(None, plan, user="steward")
