"""The pages' logic through Streamlit's AppTest (no browser)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, shown

APP = str(ROOT / "ui" / "main.py")


@pytest.fixture
def on_demo(monkeypatch, demo_gpkg):
    monkeypatch.setenv("ONEMAP_GPKG", str(demo_gpkg))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from ui.store_access import _open

    _open.clear()
    yield
    _open.clear()


def test_one_map_page_shows_demo_city(on_demo):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["体育场馆"] == "68" and metrics["常住人口"] == "420,000"
    assert any("虚构示范城区" in c.value for c in at.caption)
    labels = [c.label for c in at.sidebar.checkbox]
    assert any(lbl.startswith("体育场馆") for lbl in labels) and "人口分布" in labels


def test_switching_to_english(on_demo):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Fitness One Map"
    assert "Sports venues" in {m.label for m in at.metric}
    assert any("fictional demo city" in c.value for c in at.caption)


def test_data_page_lists_layers_and_history(on_demo):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/data_page.py").run()
    assert not at.exception
    stored = at.dataframe[0].value
    assert len(stored) >= 10 and "体育场馆" in set(stored["图层"])
    history = at.dataframe[1].value
    assert history["修改人"].eq("示范数据生成程序").all()  # the product's own writer, in words


def test_missing_store_is_one_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("ONEMAP_GPKG", str(tmp_path / "gone.gpkg"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from ui.store_access import _open

    _open.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "does not exist" in shown(at.error[0]) and "make demo-data" in shown(at.error[0])
    _open.clear()


def test_unreachable_database_is_one_clear_message(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone:pw@127.0.0.1:1/nowhere")
    from ui.store_access import _open

    _open.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "Cannot reach the database" in shown(at.error[0])
    assert "pw@" not in shown(at.error[0])
    _open.clear()


def test_coverage_page_kpis_and_tables(on_demo):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("views/coverage_page.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["常住人口"] == "420,000" and metrics["覆盖人口"] == "153,736"
    assert len(at.dataframe) == 3  # per-unit table, gap ranking and the need group per unit
    at.radio(key="coverage.circle").set_value("circle_15")
    at.button[0].click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["覆盖人口"] == "269,490"
    at.selectbox(key="coverage.slot").set_value("weekday 10:00")
    at.selectbox(key="coverage.layer").set_value("school_facilities")
    at.button[0].click().run()
    assert {m.label: m.value for m in at.metric}["覆盖人口"] == "0"  # school fields shut in teaching hours


def test_coverage_page_runs_in_partitions_on_a_local_cluster(on_demo):
    """The coverage page's partitioned run: one partition per street on a local Dask cluster, a progress bar,
    and the figures found equal to the page's own single run."""
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("views/coverage_page.py").run()
    at.selectbox(key="province.by").set_value("street")
    next(b for b in at.button if b.label == "分区计算").click().run()
    assert not at.exception, at.exception
    assert any("完全一致" in shown(s) for s in at.success), [shown(e) for e in (*at.warning, *at.error)]
    assert any(c.value.startswith("分为") and "（街道）" in c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if "步行距离" in d.value.columns)
    assert len(table) == 15 and set(table["步行距离"]) == {300, 500, 1000}  # 4 layers and all of them, 3 walks
    row = table[(table["设施图层"] == "体育场馆") & (table["步行距离"] == 500)]
    assert row["覆盖人口"].iloc[0] == 153_736


def test_a_second_partitioned_run_waits_for_the_first(on_demo):
    """While one partitioned run holds the server's cores, another visitor's is refused with a message."""
    from ui.province_run import RUN_LOCK

    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("views/coverage_page.py").run()
    with RUN_LOCK:
        next(b for b in at.button if b.label == "分区计算").click().run()
    assert not at.exception, at.exception
    assert any("另一项分区计算正在进行" in shown(w) for w in at.warning)
    assert not any("完全一致" in shown(s) for s in at.success)


def test_planning_page_solves_and_answers_what_if(on_demo):
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("views/planning_page.py").run()
    assert not at.exception
    assert not at.success and any("求解" in shown(i) for i in at.info)  # nothing is solved on arrival
    at.button[0].click().run()
    assert not at.exception
    assert shown(at.success[0]).startswith("5 处新场地新增覆盖") and "→" in shown(at.success[0])
    at.multiselect(key="whatif_open").set_value(["school-004-track"]).run()
    assert not at.exception
    change = next(d.value for d in at.dataframe if "新增覆盖人口" in d.value.columns)
    assert change["新增覆盖人口"].max() > 0
    # every candidate ranked, in build order; the first adds the most on its own; unnamed ones by kind and number
    ranked = next(d.value for d in at.dataframe if "建设顺序" in d.value.columns)
    assert list(ranked["建设顺序"]) == list(range(1, len(ranked) + 1)) and len(ranked) > 20
    assert ranked["单独建设新增（人）"].iloc[0] == ranked["单独建设新增（人）"].max() > 0
    assert ranked["依次建设新增（人）"].is_monotonic_decreasing and ranked["名称"].str.strip().all()
    assert ranked["经度"].between(-180, 180).all() and ranked["街道"].str.strip().any()
    assert set(ranked["假定开放时间"]) == {"不限时段"}


def test_export_page_makes_a_file(on_demo):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("views/export_page.py").run()
    at.button(key="export_make").click().run()
    assert not at.exception and shown(at.success[0]).startswith("onemap_layers.gpkg：")
    at.radio(key="export_kind").set_value("report").run()
    at.button(key="export_make").click().run()
    assert not at.exception and shown(at.success[0]).startswith("onemap_report.pdf：")
    at.radio(key="export_kind").set_value("need").run()
    at.selectbox(key="export_need_group").set_value("aged_60_plus").run()
    at.selectbox(key="export_format").set_value("csv").run()
    at.button(key="export_make").click().run()
    assert not at.exception and shown(at.success[0]).startswith("onemap_need.csv：")


def test_tianditu_without_a_key_is_one_message(on_demo):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="basemap").set_value("tianditu").run()
    assert not at.exception
    assert any("需要密钥" in shown(e) for e in at.error)


def test_data_page_audit_and_restore(monkeypatch, demo_gpkg, tmp_path):
    import shutil

    from layers.stores.geopackage import GeoPackageStore
    from ui.store_access import _open

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        v = store.layers.read("venues")
        row = v[v["feature_id"] == "venue-001"].copy()
        row["name"] = "改过的名称"
        store.layers.edit("venues", row, expected_versions={"venue-001": 1}, user="张三")
    monkeypatch.setenv("ONEMAP_GPKG", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _open.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/data_page.py").run()
    at.selectbox(key="data_history_layer").set_value("venues").run()
    at.text_input(key="audit_feature").set_value("venue-001").run()
    assert not at.exception
    trail = next(d.value for d in at.dataframe if "修改内容" in d.value.columns)
    assert "名称:" in trail["修改内容"].iloc[0] and "改过的名称" in trail["修改内容"].iloc[0]
    at.button(key="audit_restore_feature").click().run()
    assert any("venue-001 已恢复到第 1 版" in shown(s) for s in at.success)
    with GeoPackageStore(path) as store:
        assert store.layers.read("venues").set_index("feature_id").loc["venue-001", "name"] != "改过的名称"
    _open.clear()


@pytest.mark.parametrize("page", ["views/coverage_page.py", "views/planning_page.py",
                                  "views/operations_page.py"])
def test_every_map_page_takes_a_gcj02_basemap(on_demo, page):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.selectbox(key="basemap").set_value("xyz").run()
    at.text_input(key="basemap.url").set_value("https://tiles.example.internal/{z}/{x}/{y}.png").run()
    at.checkbox(key="basemap.gcj02").check().run()
    at.switch_page(page).run()
    assert not at.exception and not at.error


def test_gcj02_shift_of_map_elements_round_trips():
    import folium
    import numpy as np

    from webmap.folium_map import shift_element, unshift_click

    marker = shift_element(folium.CircleMarker([30.0, 114.0]))
    lat, lon = marker.location
    assert 0.001 < abs(lat - 30.0) + abs(lon - 114.0) < 0.02  # about 500 m in this region
    back = unshift_click(lon, lat, True)
    np.testing.assert_allclose(back, (114.0, 30.0), atol=1e-6)  # a click on GCJ-02 tiles is WGS-84 again
    assert unshift_click(114.0, 30.0, False) == (114.0, 30.0)
    overlay = shift_element(folium.raster_layers.ImageOverlay(np.zeros((2, 2, 4), dtype="uint8"),
                                                              bounds=[[30.0, 114.0], [30.1, 114.1]]))
    assert overlay.bounds[0] == marker.location
    gj = shift_element(folium.GeoJson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"rank": 1}, "geometry": {"type": "Point", "coordinates": [114.0, 30.0]}}]}))
    np.testing.assert_allclose(gj.data["features"][0]["geometry"]["coordinates"], [lon, lat], atol=1e-9)


def test_planning_scenarios_compare_as_people_read_them(monkeypatch, demo_gpkg, tmp_path):
    """Two saved plans side by side: labelled rows, thousands separators, percentages, no 0.4804547619047619;
    the school what-if lists schools by name."""
    import re
    import shutil

    from ui.store_access import _open

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    monkeypatch.setenv("ONEMAP_GPKG", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _open.clear()
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("views/planning_page.py").run()
    assert all(re.search(r"[\u4e00-\u9fff]", o) and o.endswith(")") for o in at.multiselect(key="whatif_open").options)
    for p, name in ((3, "东岸 3处"), (5, "东岸 5处")):
        at.number_input(key="planning.p").set_value(p)
        at.button[0].click().run()
        at.text_input(key="scenario_name").set_value(name).run()
        at.button(key="save_scenario").click().run()
        assert not at.exception
    at.multiselect(key="compare_pick").set_value(["东岸 3处", "东岸 5处"]).run()
    both = next(d.value for d in at.dataframe if list(d.value.columns)[:2] == ["东岸 3处", "东岸 5处"])
    assert list(both.columns)[2] == "变化（东岸 5处 相对 东岸 3处）"  # what changes, as the third column
    assert both.loc["新增场地数"].tolist()[2] == "+2" and both.loc["步行距离"].tolist()[2] == "—"
    assert re.fullmatch(r"\+\d{1,3}(,\d{3})*", both.loc["新增覆盖人口"].tolist()[2])
    assert re.fullmatch(r"\+\d+\.\d 个百分点", both.loc["规划后覆盖率"].tolist()[2])
    table = both[["东岸 3处", "东岸 5处"]]
    assert {"新增场地数", "新增覆盖人口", "规划后覆盖率", "步行距离"} <= set(table.index)
    assert table.loc["新增场地数"].tolist() == ["3", "5"] and table.loc["步行距离"].tolist() == ["500 m", "500 m"]
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", v) for v in table.loc["新增覆盖人口"])
    assert all(re.fullmatch(r"\d{1,2}\.\d%", v) for v in table.loc["规划后覆盖率"])
    assert not any(re.search(r"\d\.\d{4,}", v) for v in table.to_numpy().ravel())
    _open.clear()


def test_a_table_shows_nothing_for_an_unbounded_number():
    """A station with no resource within reach has an infinite distance: its cell is empty, not a failure (this
    broke the nearby page on the real Chengdu extract)."""
    import numpy as np
    import pandas as pd

    from ui.tables import prepare

    shown, _ = prepare(pd.DataFrame({"d": [120.4, np.inf, -np.inf, None], "n": [1, np.inf, 3, None]}),
                       {"d": ("距离", "metres"), "n": ("个数", "count")}, "zh")
    assert shown["距离"].tolist()[0] == 120 and shown["距离"].isna().tolist() == [False, True, True, True]
    assert shown["个数"].isna().tolist() == [False, True, False, True]


def _iframe_srcs(at: AppTest) -> list[str]:
    out: list[str] = []

    def walk(node) -> None:
        if node.type == "iframe":
            out.append(node.proto.src)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


@pytest.mark.parametrize("page", ["views/one_map.py", "views/coverage_page.py"])
def test_the_search_box_flies_the_published_map_to_a_venue_found_by_initials_or_english(on_demo, page):
    at = AppTest.from_file(APP, default_timeout=300).run()
    if page != "views/one_map.py":
        at.switch_page(page).run()
    assert not any("#b=" in src for src in _iframe_srcs(at))
    box = next(b for b in at.text_input if b.label == "查找地点")
    box.set_value("qxtyzx").run()
    assert not at.exception
    found = next(s for s in at.selectbox if s.label == "找到的地点")
    assert found.format_func(found.value).startswith("青溪体育中心 · 体育场馆")
    fragment = next(src for src in _iframe_srcs(at) if "/maps/" in src).split("#b=")[1]
    w, s, e, n = (float(v) for v in fragment.split(","))
    assert 0 <= e - w < 0.01 and 0 <= n - s < 0.01 and 113 < w < 115 and 29 < s < 31  # the venue, close up
    at.sidebar.radio[0].set_value("en").run()
    box = next(b for b in at.text_input if b.label == "Find a place")
    box.set_value("stadium qingxi").run()
    found = next(s for s in at.selectbox if s.label == "Places found")
    assert found.format_func(found.value) == "青溪体育中心 (Qingxi Tiyu Zhongxin) · Sports venues · Stadium"
    next(b for b in at.text_input if b.label == "Find a place").set_value("nowhere-at-all").run()
    assert any("No place" in shown(c) for c in at.caption) and not at.exception


def test_a_link_reproduces_the_coverage_view_and_the_inputs_stay_across_pages(on_demo):
    """The inputs in the URL open the same analysis; they stay when the user goes to another page and back."""
    first = AppTest.from_file(APP, default_timeout=300).run()
    first.switch_page("views/coverage_page.py").run()
    first.radio(key="coverage.circle").set_value("circle_15")
    first.selectbox(key="coverage.level").set_value("community")
    first.button[0].click().run()  # the form's 运行分析
    assert not first.exception
    link = dict(first.query_params)
    assert link["circle"] in ("15", ["15"]) and link["level"] in ("community", ["community"])
    figures = {m.label: m.value for m in first.metric}
    assert any("15分钟" in label for label in figures)

    other = AppTest.from_file(APP, default_timeout=300)  # a colleague opening the link
    other.query_params.update(link)
    other.run()
    other.switch_page("views/coverage_page.py").run()
    assert not other.exception
    assert {m.label: m.value for m in other.metric} == figures
    assert other.selectbox(key="coverage.level").value == "community"

    first.switch_page("views/data_page.py").run()
    first.switch_page("views/coverage_page.py").run()
    assert first.radio(key="coverage.circle").value == "circle_15" and {m.label: m.value for m in first.metric} \
        == figures


def test_a_link_to_a_solved_plan_and_a_picked_site_opens_them_in_a_new_browser(on_demo):
    """The planning page's link names the solved plan (solved=1) and the ranked candidate picked (site=…): a colleague
    opening it sees the same plan and the same candidate picked; a changed input takes the plan out of the link."""
    first = AppTest.from_file(APP, default_timeout=300).run()
    first.switch_page("views/planning_page.py").run()
    first.number_input(key="planning.p").set_value(3)
    first.button[0].click().run()  # 求解
    said = shown(first.success[0])
    assert said.startswith("3 处新场地")
    first.session_state["planning.rank_pick"] = (500.0, ("uploaded", "generated"), "cand-00002")  # a row clicked
    first.run()
    link = dict(first.query_params)
    assert link["solved"] in ("1", ["1"]) and link["site"] in ("cand-00002", ["cand-00002"])

    other = _opened("views/planning_page.py", link)
    assert shown(other.success[0]) == said  # the same plan, solved again from the link
    assert other.session_state["planning.rank_pick"] == (500.0, ("uploaded", "generated"), "cand-00002")

    other.number_input(key="planning.p").set_value(4)
    other.button[0].click().run()  # another plan solved: the link names it
    assert shown(other.success[0]).startswith("4 处新场地") and dict(other.query_params)["solved"] in ("1", ["1"])


def test_a_link_with_values_the_page_does_not_take_opens_its_defaults(on_demo):
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update({"circle": "7", "level": "<script>", "p": "9999", "sources": "uploaded,nowhere",
                            "view": "1e9,<b>,x", "solved": "maybe", "site": "'); drop table --"})
    at.run()
    at.switch_page("views/coverage_page.py").run()
    assert not at.exception and not at.warning
    assert at.radio(key="coverage.circle").value == "circle_10" and at.selectbox(key="coverage.level").value == "street"
    at.switch_page("views/planning_page.py").run()
    assert not at.exception
    assert at.number_input(key="planning.p").value == 5
    assert at.multiselect(key="planning.sources").value == ["uploaded", "generated"]
    assert not at.success  # "solved=maybe" solves nothing
    assert "site" not in at.query_params and "solved" not in at.query_params  # and nothing unread stays in the link


def test_a_unit_picked_for_selection_shows_its_row_of_the_unit_table(on_demo):
    """Two surfaces, one figure: a street picked in 圈选统计 shows the residents and covered residents of that street's
    row in 分单元统计."""
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("views/coverage_page.py").run()
    at.toggle(key="coverage.select").set_value(True).run()
    picker = at.selectbox(key="coverage.select_unit")
    picker.select_index(2).run()
    assert not at.exception
    name = at.selectbox(key="coverage.select_unit").format_func(at.selectbox(key="coverage.select_unit").value)
    units = next(d.value for d in at.dataframe if "街道" in d.value.columns and "覆盖率" in d.value.columns)
    row = units[units["街道"] == name].iloc[0]
    residents = [m for m in at.metric if m.label == "常住人口"][-1]  # the selection's, below the page's own
    assert residents.value == f"{row['常住人口']:,.0f}"
    table = next(d.value for d in at.dataframe if "生活圈（GB 50180-2018）" in d.value.columns)
    mine = table[(table["设施图层"] == "体育场馆") & (table["生活圈（GB 50180-2018）"] == "10分钟（500米）")].iloc[0]
    assert mine["覆盖人口"] == row["覆盖人口"]


def _opened(page: str, query: dict) -> AppTest:
    """A colleague's browser (nothing in its session) opening ``page`` from a link with ``query``."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update(query)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_the_operations_page_keeps_its_inputs_in_its_link(on_demo):
    """Venue usage at the 10-minute circle with a stricter bound, sent as a link: a colleague's browser opens the same
    section with the same inputs and figures; values the page does not take open its defaults."""
    first = AppTest.from_file(APP, default_timeout=300).run()
    first.switch_page("views/operations_page.py").run()
    first.radio(key="operations.section").set_value("usage").run()
    first.selectbox(key="usage.catchment").set_value(500.0).run()
    first.slider(key="usage.over").set_value(1.2).run()
    assert not first.exception
    link = dict(first.query_params)
    assert link["section"] in ("usage", ["usage"]) and link["catchment"] in ("500", ["500"])
    figures = [m.value for m in first.metric]
    other = _opened("views/operations_page.py", link)
    assert other.radio(key="operations.section").value == "usage" and other.slider(key="usage.over").value == 1.2
    assert [m.value for m in other.metric] == figures

    odd = _opened("views/operations_page.py", {"section": "nearby", "station": "no-such-station", "minutes": "99",
                                               "need": "<b>", "period": "1999Q9", "over": "abc"})
    assert not odd.error
    assert odd.slider(key="nearby.minutes").value == 15 and odd.selectbox(key="nearby.need").value == "all"
    assert odd.selectbox(key="nearby.station").value is not None  # the first station, not the link's


def test_the_emergency_page_keeps_its_targets_in_its_link(on_demo):
    first = AppTest.from_file(APP, default_timeout=300).run()
    first.switch_page("views/emergency_page.py").run()
    first.number_input(key="emergency.aed_round_trip_s").set_value(300).run()
    first.number_input(key="emergency.ambulance_s").set_value(600).run()
    assert not first.exception
    link = dict(first.query_params)
    assert link["aed"] in ("300", ["300"]) and link["ambulance"] in ("600", ["600"])
    figures = [m.value for m in first.metric]
    other = _opened("views/emergency_page.py", {**link, "limit": "99999", "section": "<x>"})
    assert other.number_input(key="emergency.aed_round_trip_s").value == 300
    assert [m.value for m in other.metric] == figures  # the same profiles against the same targets
