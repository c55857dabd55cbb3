"""The operations page (nearby finder, venue usage, indicators) through AppTest."""

from __future__ import annotations

import re

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.app.test_pages import APP, on_demo  # noqa: F401  (the fixture)
from tests.conftest import shown


def _frame(at, column: str):
    """The first table on the page with ``column`` (AppTest does not expose dataframe keys)."""
    return next((d.value for d in at.dataframe if column in d.value.columns), None)


def _open_page():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("views/operations_page.py").run()
    assert not at.exception, at.exception
    return at


def test_all_three_tabs_on_the_demo_city(on_demo):  # noqa: F811
    at = _open_page()
    assert at.radio(key="operations.section").options == ["就近推荐（体卫融合）", "场馆使用", "考核指标"]
    metrics = {m.label: m.value for m in at.metric}
    # Nearby: the first health station, 15 minutes, any time.
    station = at.selectbox(key="nearby.station")
    assert station.value == "health-001"
    nearby = _frame(at, "序号")
    assert len(nearby) > 0 and list(nearby["序号"]) == list(range(1, len(nearby) + 1))
    assert metrics[next(k for k in metrics if "驿站" in k or "服务站" in k)].startswith(str(len(nearby)))
    # Usage: the demo's eight weeks of visits.
    at.radio(key="operations.section").set_value("usage").run()
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["超负荷"]) > 0 and int(metrics["利用不足"]) > 0 and "无记录" not in metrics
    usage = _frame(at, "服务人口")
    assert len(usage) == 68
    # Every circle on the map is in one count above it, under the word its legend and the table use.
    assert sum(int(v) for v in metrics.values()) == 68
    assert {k: int(v) for k, v in metrics.items()} == usage["使用状态"].value_counts().to_dict()
    # Indicators: the city's KPIs, the league of six streets, the trend after each change.
    at.radio(key="operations.section").set_value("indicators").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["学校场地开放率"] == "50%" and metrics["15分钟健身圈覆盖率"].endswith("%")
    assert len(_frame(at, "街道")) == 6 and len(_frame(at, "指标")) > 5
    trend = _frame(at, "时间")
    assert len(trend) == 2 and trend["学校场地开放率"].iloc[0] < trend["学校场地开放率"].iloc[1]
    # By quarter: the quarter still running is drawn as of now, never dated after today.
    at.radio(key="indicators.trend").set_value("quarter").run()
    quarters = _frame(at, "时间")
    assert not at.exception and len(quarters) >= 1
    assert (pd.to_datetime(quarters["时间"], utc=True) <= pd.Timestamp.now(tz="UTC")).all()


def test_nearby_by_time_and_by_typed_coordinates(on_demo):  # noqa: F811
    at = _open_page()
    any_time = len(_frame(at, "序号"))
    at.text_input(key="nearby.slot.typed").set_value("周二 06:00").run()
    early = _frame(at, "序号")
    assert early is None or len(early) < any_time  # most places are closed at six in the morning
    at.radio(key="nearby.mode").set_value("coords").run()
    at.text_input(key="nearby.coords").set_value("北京市").run()
    assert any("不是一对坐标" in shown(e) for e in at.error) and not at.exception
    at.text_input(key="nearby.coords").set_value("113.99, 30.01").run()
    assert not at.error
    assert any(re.sub(r"\\(.)", r"\1", m.label).startswith("113.99000, 30.01000 · ") for m in at.metric)


def test_indicators_by_district_and_in_english(on_demo):  # noqa: F811
    at = _open_page()
    at.radio(key="operations.section").set_value("indicators").run()
    at.selectbox(key="indicators.level").set_value("district").run()
    assert not at.exception and len(_frame(at, "区")) == 1
    at.sidebar.radio[0].set_value("en").run()
    assert at.radio(key="operations.section").options == ["Nearby (health + fitness)", "Venue usage", "Indicators"]
    assert "School facilities open" in {m.label for m in at.metric}
    assert {"Department", "Indicator", "Value", "Target", "Met"} <= set(_frame(at, "Indicator").columns)
    assert "Coverage within 1000 m" in set(_frame(at, "Indicator")["Indicator"])


def test_nearby_sheet_downloads(on_demo):  # noqa: F811
    at = _open_page()
    at.button(key="nearby_make").click().run()
    assert not at.exception
    downloads = at.get("download_button")
    assert len(downloads) == 2  # the PDF sheet and the CSV
    at.radio(key="nearby.mode").set_value("click").run()
    assert not at.exception and any("在地图上点击出发点" in shown(c) for c in at.caption)
    assert _frame(at, "最近资源步行距离") is not None  # the stations list shows before any click


def test_station_is_kept_by_id_across_reruns(on_demo):  # noqa: F811
    """柳荫街体卫融合服务站 is both health-001 and health-010: the choice is an id, shown with its street."""
    import os

    from layers.stores.geopackage import GeoPackageStore

    with GeoPackageStore(os.environ["ONEMAP_GPKG"]) as store:
        stations = store.layers.read("health_stations").set_index("feature_id")
    assert stations.loc["health-001", "name"] == stations.loc["health-010", "name"]  # the trap is real
    at = _open_page()
    labels = at.selectbox(key="nearby.station").options
    assert len(set(labels)) == len(labels) == len(stations)  # every station is told apart
    assert any(lbl.endswith("(health-010)") and " · " in lbl for lbl in labels)
    at.selectbox(key="nearby.station").set_value("health-010").run()
    first = next(m.label for m in at.metric)
    nearby = list(_frame(at, "名称")["名称"])
    # Change the time slot and back: the visible inputs are the same again, so must the answer be.
    at.selectbox(key="nearby.slot").set_value("weekday 19:00").run()
    at.selectbox(key="nearby.slot").set_value("any").run()
    assert at.selectbox(key="nearby.station").value == "health-010"
    assert next(m.label for m in at.metric) == first and list(_frame(at, "名称")["名称"]) == nearby
    at.button(key="nearby_make").click().run()
    assert not at.exception and len(at.get("download_button")) == 2
