"""Planning scenarios saved in both stores: named, listed, loaded, refused when malformed."""

from __future__ import annotations

import pytest

from layers.errors import StoreError, UnknownLayerError


def test_scenarios_round_trip_in_both_stores(store):
    payload = {"problem": "MCLP", "p": 3, "cutoff_m": 500, "sites": [{"id": "cand-1", "lon": 114.0, "lat": 30.0}],
               "covered": 123456.0, "by_unit": [{"code": "990101001", "rate": 0.62}], "label": "东岸新城三处新场地"}
    assert store.scenarios.list().empty
    store.scenarios.save("东岸 p=3", payload, user="sports-bureau")
    got = store.scenarios.load("东岸 p=3")
    assert {k: got[k] for k in payload} == payload and got["saved_by"] == "sports-bureau"
    with pytest.raises(StoreError, match="already saved"):
        store.scenarios.save("东岸 p=3", payload)
    store.scenarios.save("东岸 p=3", {**payload, "p": 4}, overwrite=True)
    assert store.scenarios.load("东岸 p=3")["p"] == 4
    store.scenarios.save("西城", {"problem": "LSCP"})
    assert set(store.scenarios.list()["name"]) == {"东岸 p=3", "西城"}
    with pytest.raises(UnknownLayerError, match="西城"):
        store.scenarios.load("北区")
    with pytest.raises(StoreError, match="name of 1 to 100 characters"):
        store.scenarios.save("  ", payload)
    with pytest.raises(StoreError, match="not plain data"):
        store.scenarios.save("坏", {"x": float("nan")})
    assert len(store.scenarios.list()) == 2
