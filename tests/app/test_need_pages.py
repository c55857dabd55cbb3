"""The need section of the coverage page and the need-weighted siting of the planning page on the demo city:
figures from the stored aggregates, no count below k in any table, and the sites that change named."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from layers.health import min_count
from tests.app.test_pages import APP, on_demo  # noqa: F401  (the fixture)


def _page(page: str, lang: str = "zh") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.mark.parametrize("group, basis", [("hypertension_managed", "matched"), ("fitness_test_failed", "matched"),
                                          ("diabetes_managed", "page")])
def test_the_coverage_page_shows_need_without_small_counts(on_demo, group, basis):  # noqa: F811
    at = _page("views/coverage_page.py")
    at.selectbox(key="need.group").set_value(group).run()
    at.radio(key="need.basis").set_value(basis).run()
    if basis == "matched":
        assert any("适配设施" in c.value for c in at.caption)
    assert not at.exception, at.exception
    table = _table(at, "未覆盖人数")
    counts = table.iloc[:, 2:4].apply(lambda c: c.astype("Float64")).to_numpy(dtype=float)
    k = min_count()
    assert len(table) > 10 and not ((counts > 0) & (counts < k)).any()
    labels = [m.label for m in at.metric]
    assert any("重点人群人数" in x for x in labels) and any("重点人群覆盖率" in x for x in labels)


def test_the_planning_page_names_the_sites_a_need_group_moves(on_demo):  # noqa: F811
    at = _page("views/planning_page.py")
    at.selectbox(key="need.plan_group").set_value("hypertension_managed").run()
    at.button(key="need_plan_go").click().run()
    assert not at.exception, at.exception
    changes = _table(at, "变化")
    assert len(changes) >= 2 and set(changes.iloc[:, 1]) == {"按重点人群选址新增", "按常住人口选址才有"}
    gain = next(m for m in at.metric if m.label == "多覆盖的重点人群").value
    assert gain.startswith("+") and int(gain.strip("+").replace(",", "")) >= min_count()
    assert np.isfinite(float(gain.strip("+").replace(",", "")))


def test_the_nearby_finder_lists_only_what_serves_the_chosen_group(on_demo):  # noqa: F811
    at = _page("views/operations_page.py")
    everything = _table(at, "名称")
    at.selectbox(key="nearby.need").set_value("hypertension_managed").run()
    assert not at.exception, at.exception
    kept = _table(at, "名称")
    assert 0 < len(kept) < len(everything)
    assert set(kept["类别"]) <= {"社区健康驿站", "体育场馆"}


@pytest.mark.parametrize("problem", ["lscp", "pmedian"])
def test_need_planning_follows_the_pages_problem(on_demo, problem):  # noqa: F811
    at = _page("views/planning_page.py")
    at.selectbox(key="planning.problem").set_value(problem)
    next(b for b in at.button if b.label == "求解").click().run()  # the form applies its choices on submit
    at.selectbox(key="need.plan_group").set_value("aged_60_plus").run()
    at.button(key="need_plan_go").click().run()
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert "按重点人群选址覆盖的重点人群" in labels and "多覆盖的重点人群" in labels
    assert any(b.label.endswith(("（集合覆盖（LSCP））", "（P 中值（平均步行最短））")) for b in at.button)
