"""Find a place by its Chinese name, its pinyin (whole or initials) or English words, from the city's own layers."""

from __future__ import annotations

import pytest

from i18n.place_search import PlaceIndex


@pytest.fixture(scope="module")
def index(demo_city) -> PlaceIndex:
    return PlaceIndex.from_layers(demo_city.layers)


@pytest.mark.parametrize("query", ["青溪体育中心", "青溪体育", "qingxitiyuzhongxin", "qingxi tiyu", "qxtyzx",
                                   "QXTYZX", "stadium qingxi", "Qingxi Tiyu Zhongxin"])
def test_a_venue_is_found_by_name_pinyin_initials_and_english(index, query):
    found = index.search(query)
    assert found and found[0].name == "青溪体育中心" and found[0].kind == "venues:stadium"
    w, s, e, n = found[0].bounds
    assert w <= found[0].lon <= e and s <= found[0].lat <= n


def test_units_schools_and_roads_are_found_with_their_kind(index, demo_city):
    street = demo_city.layers["boundaries"].query("level == 'street'")["name"].iloc[0]
    hits = index.search(street)
    assert hits[0].name == street and hits[0].kind == "street" and hits[0].bounds[0] < hits[0].bounds[2]
    assert {p.kind for p in index.search("school zhenxing")} <= {k for k in
                                                                 {p.kind for p in index.places} if
                                                                 k.startswith("school_facilities")}
    station = demo_city.layers["metro_stations"]["name"].iloc[0]
    assert (station, "metro_stations") in [(p.name, p.kind) for p in index.search(f"metro {station}")]
    roads = demo_city.layers["walk_network"]
    named = roads["name"].dropna()
    if len(named):
        assert any(p.kind in ("road", "metro") for p in index.search(named.iloc[0]))


def test_nothing_matches_nonsense_and_an_empty_query(index):
    assert index.search("zzzzqqq") == [] and index.search("   ") == []
