"""The need section of the coverage page and the need-weighted siting of the planning page on the demo city:
figures from the stored aggregates, published as estimates (people to the nearest ten, shares to whole percent),
and the sites that change named."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

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
def test_the_coverage_page_shows_need_as_estimates(on_demo, group, basis):  # noqa: F811
    at = _page("views/coverage_page.py")
    at.selectbox(key="need.group").set_value(group).run()
    at.radio(key="need.basis").set_value(basis).run()
    if basis == "matched":
        assert any("适配设施" in c.value for c in at.caption)
    assert not at.exception, at.exception
    table = _table(at, "未覆盖人数（估算）")
    counts = table.iloc[:, 2:4].apply(lambda c: c.astype("Float64")).to_numpy(dtype=float)
    counts = counts[~np.isnan(counts)]
    assert len(table) > 10 and len(counts) and (counts % 10 == 0).all()
    labels = {m.label: m.value for m in at.metric}
    people = next(v for k, v in labels.items() if "重点人群人数" in k)
    assert int(people.replace(",", "")) % 10 == 0
    share = next(v for k, v in labels.items() if "重点人群覆盖率" in k)
    assert share.endswith("%") and "." not in share  # whole percent
    assert any("估算" in c.value and "不是任何人的实际人数" in c.value for c in at.caption)


def test_the_planning_page_names_the_sites_a_need_group_moves(on_demo):  # noqa: F811
    at = _page("views/planning_page.py")
    at.selectbox(key="need.plan_group").set_value("hypertension_managed").run()
    at.button(key="need_plan_go").click().run()
    assert not at.exception, at.exception
    changes = _table(at, "变化")
    assert len(changes) >= 2 and set(changes.iloc[:, 1]) == {"按重点人群选址新增", "按常住人口选址才有"}
    gain = next(m for m in at.metric if m.label == "多覆盖的重点人群（估算）").value
    assert gain.startswith("+") and int(gain.strip("+").replace(",", "")) % 10 == 0


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
    assert "按重点人群选址覆盖的重点人群" in labels and "多覆盖的重点人群（估算）" in labels
    assert any(b.label.endswith(("（集合覆盖（LSCP））", "（P 中值（平均步行最短））")) for b in at.button)
