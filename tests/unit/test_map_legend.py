"""What a map says about itself: a legend entry for every drawn layer (land use by class, school facilities
open or not, boundaries by level, the population ramp), a metric scale, a plain attribution, and pop-ups that
show coded values by their labels in the page's language."""

from __future__ import annotations

import json
import re

import pytest

from webmap.folium_map import build_map

LAYERS = ("land_use", "walk_network", "boundaries", "greenways", "greenway_entrances", "metro_stations",
          "health_stations", "school_facilities", "venues")


@pytest.fixture(scope="module")
def maps(demo_city):
    from layers.catalogue import CATALOGUE

    # As stored: every row carries its owning department's code.
    frames = {k: demo_city.layers[k].assign(department=CATALOGUE[k].department) for k in LAYERS}
    return {lang: build_map(frames, lang=lang, population_tif=demo_city.population_tif).get_root().render()
            for lang in ("zh", "en")}


def _legend(html: str) -> str:
    block = re.search(r"<div class='onemap-legend'.*?</details></div>", html, re.S).group(0)
    return re.sub(r"<[^>]+>", " ", block)


def test_legend_names_every_drawn_layer(maps):
    zh, en = _legend(maps["zh"]), _legend(maps["en"])
    for name in ("体育场馆", "学校体育设施：对外开放", "学校体育设施：未对外开放", "社区健康驿站/体卫融合服务站", "地铁站",
                 "绿道出入口", "绿道/健身步道", "行政边界（区、街道、社区）", "步行路网", "用地", "居住", "公园", "水域",
                 "人口分布（每 100 米见方格网的居民数）"):
        assert name in zh, name
    for name in ("Sports venues", "School sports facilities: open to the public", "Metro stations",
                 "Greenway entrances", "Greenways and fitness trails", "Boundaries (district, street, community)",
                 "Walking network", "Land use", "Residential", "Population surface (residents per 100 m cell)"):
        assert name in en, name
    assert not re.search(r"[\u4e00-\u9fff]", en)


def test_scale_is_metric_and_attribution_has_no_flag(maps):
    for html in maps.values():
        assert "L.control.scale({imperial: false, metric: true})" in html
        assert "setPrefix('Leaflet')" in html


def test_popups_show_labels_not_codes(maps):
    zh, en = maps["zh"], maps["en"]
    features = [f for m in re.finditer(r'"features": (\[.*?\])\s*,\s*"type": "FeatureCollection"', zh, re.S)
                for f in json.loads(m.group(1))]
    # Raw codes travel only in "_"-prefixed columns that styles read and no pop-up lists.
    values = {v for f in features for k, v in f["properties"].items() if not k.startswith("_")}
    assert {"体育局", "教育局", "免费", "田径场", "是", "否"} <= values
    assert not {"sports", "education", "free", "track_field", "True", "False"} & values
    hours = [v for v in values if re.search(r"\d\d:\d\d", v)]
    assert hours and all(re.match(r"(每天|周[一二三四五六日]|全天开放|节假日|学校假期)", v) for v in hours)
    assert "Sports bureau" in en and "Free" in en and "Track and field" in en and '"Mo-Su' not in en
