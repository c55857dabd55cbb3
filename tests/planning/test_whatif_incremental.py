"""A what-if that only opens facilities or adds sites is answered from the new sources alone; whatever the change,
the answer equals a full run of every layer with the same facilities counted (the same distances to the metre, the
same figures), at any time slot."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.facilities import PRESET_SLOTS
from geo.whatif import WhatIf

SLOTS = [None, "Saturday 09:00", *list(PRESET_SLOTS)[:2]]


@pytest.fixture(scope="module")
def whatifs(demo_analysis):
    return {name: WhatIf(demo_analysis.engine, slot=PRESET_SLOTS[name] if name else None) for name in SLOTS}


def _full_run(whatif: WhatIf, *, close=(), open_=(), hours=None, add=()) -> object:
    """Every layer run again with the change's facilities and new sites (the slow, obvious way)."""
    mask, _ = whatif._mask(close, open_, dict(hours or {}))
    added = {"venues": whatif._added(add, whatif.base.cutoff)[0]} if len(add) else {}
    layers = whatif.engine.facilities.layers
    return whatif.engine.run(whatif._thresholds_for(layers), slot=whatif.slot, cutoff=whatif.base.cutoff,
                             layers=layers, open_mask=mask, added=added)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_change_equals_a_full_run(whatifs, demo_analysis, data):
    slot = data.draw(st.sampled_from(SLOTS))
    whatif = whatifs[slot]
    table = demo_analysis.engine.facilities.table
    schools = sorted(set(table.loc[table["layer"] == "school_facilities", "feature_id"]))
    venues = sorted(set(table.loc[table["layer"] == "venues", "feature_id"]))
    open_ = data.draw(st.lists(st.sampled_from(schools), max_size=3, unique=True))
    close = data.draw(st.lists(st.sampled_from(venues), max_size=1, unique=True))
    hours = {fid: data.draw(st.sampled_from(["周末 8:00-18:00", "Mo-Fr 18:00-21:00", "24/7"]))
             for fid in data.draw(st.lists(st.sampled_from(open_ or schools), max_size=1, unique=True))}
    lon, lat = demo_analysis.demand.lonlat()
    add = data.draw(st.lists(st.tuples(st.floats(float(lon.min()), float(lon.max())),
                                       st.floats(float(lat.min()), float(lat.max()))), max_size=2))
    got = whatif.evaluate(close=close, open_=open_, hours=hours, add=add)
    full = _full_run(whatif, close=close, open_=open_, hours=hours, add=add)
    for layer in full.distance.columns:
        assert np.array_equal(got.result.distance[layer].to_numpy(), full.distance[layer].to_numpy()), layer
    assert got.result.summary().equals(full.summary())
    counted = full.summary().set_index(["layer", "threshold_m"])
    said = got.change.set_index(["layer", "threshold_m"]).loc[counted.index]
    assert np.allclose(said["covered_after"], counted["covered"], rtol=0, atol=1e-6, equal_nan=True)
    assert np.allclose(said["rate_after"], counted["rate"], rtol=0, atol=1e-12, equal_nan=True)


def test_opening_a_school_and_adding_a_site_take_the_quick_way_and_say_the_same(whatifs, demo_analysis, monkeypatch):
    whatif = whatifs["Saturday 09:00"]
    table = demo_analysis.engine.facilities.table
    closed = table.loc[(table["layer"] == "school_facilities") & ~table["usable"], "feature_id"].iloc[0]
    runs = []
    real = whatif.engine.run
    monkeypatch.setattr(whatif.engine, "run", lambda *a, **k: runs.append(1) or real(*a, **k))
    got = whatif.evaluate(open_=[closed], hours={closed: "周末 8:00-18:00"}, add=[(114.03, 30.0)])
    assert runs == []  # nothing closed: no layer was run again
    monkeypatch.undo()
    full = _full_run(whatif, open_=[closed], hours={closed: "周末 8:00-18:00"}, add=[(114.03, 30.0)])
    assert got.result.summary().equals(full.summary())
    assert (got.change["newly_covered"] > 0).any()
