"""Indicators from the stored data alone: reproducible, and moved by a change as expected."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from geo.errors import AnalysisError
from geo.indicators import IndicatorSettings, indicator_trend, indicators_from, satisfaction_by_unit, satisfaction_trend
from geo.inputs import engine_from_readers
from layers.stores.geopackage import GeoPackageStore
from layers.stores.snapshot import change_snapshots, current_snapshot, quarter_ends, snapshot_as_of


def _same(a: dict, b: dict) -> bool:
    """Equal figures, NaN equal to NaN."""
    return a.keys() == b.keys() and all(a[k] == b[k] or (pd.isna(a[k]) and pd.isna(b[k])) for k in a)


@pytest.fixture
def city_store(demo_gpkg, tmp_path):
    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        yield store


def test_reproducible_from_the_stored_data(city_store, demo_gpkg):
    survey = city_store.records.read("satisfaction")
    first = indicators_from(current_snapshot(city_store), survey=survey)
    with GeoPackageStore(demo_gpkg) as other:  # a separate reading of the same stored data
        again = indicators_from(current_snapshot(other), survey=other.records.read("satisfaction"))
    pd.testing.assert_frame_equal(first.units, again.units)
    pd.testing.assert_frame_equal(first.league, again.league)
    assert _same(first.city, again.city)
    assert "school_facilities v2" in first.source  # the versions it read are named
    units = first.units
    assert len(units) == 6 and set(units["level"]) == {"street"}
    assert (units["coverage_300"] <= units["coverage_500"]).all() and (units["coverage_500"] <= units["coverage_1000"]).all()
    weighted = (units["coverage_1000"] * units["residents"]).sum() / units["residents"].sum()
    assert first.city["coverage_1000"] == pytest.approx(weighted)
    assert first.city["open_rate"] == pytest.approx(21 / 42)
    assert list(first.league["rank"]) == list(range(1, 7)) and first.league["score"].is_monotonic_decreasing
    small = units[units["respondents"] < 30]
    assert len(small) == 1 and small["satisfaction"].isna().all() and small["satisfaction_suppressed"].all()
    assert any(n.code == "indicators.suppressed" and n.values == {"n": 1, "k": 30} for n in first.notes)
    dept = first.departments.set_index(["department", "indicator"])["value"]
    assert dept[("alliance", "service_coverage_1000m")] == pytest.approx(first.city["coverage_1000"])
    assert 0 < dept[("health", "stations_with_fitness_rate")] <= 1


def test_opening_one_school_moves_open_rate_and_coverage(city_store):
    snap = current_snapshot(city_store)
    before = indicators_from(snap)
    schools = city_store.layers.read("school_facilities")
    engine = engine_from_readers(snap.vector, snap.raster)
    fs = engine.facilities
    base_open = fs.open_mask()
    closed = np.flatnonzero(fs.layer_mask("school_facilities") & ~base_open)
    # The closed school facility whose opening covers the most residents at 1000 m (what-if on the old engine).
    base = engine.run([1000]).covered("any", 1000)
    gains = []
    for i in closed:
        mask = base_open.copy()
        mask[i] = True
        covered = engine.run([1000], open_mask=mask).covered("any", 1000)
        gains.append((engine.demand.population * (covered & ~base)).sum())
    pick = closed[int(np.argmax(gains))]
    gain = max(gains)
    assert gain > 0
    fid = fs.table["feature_id"].iloc[pick]
    changed = schools[schools["feature_id"] == fid].copy()
    changed["open_to_public"] = True
    changed["opening_hours"] = "Mo-Fr 17:00-21:00; Sa,Su 08:00-18:00"
    city_store.layers.write("school_facilities", changed, mode="upsert", user="教育局")

    after = indicators_from(current_snapshot(city_store))
    assert after.city["open_rate"] - before.city["open_rate"] == pytest.approx(1 / len(schools))
    total = engine.demand.population.sum()
    assert after.city["coverage_1000"] - before.city["coverage_1000"] == pytest.approx(gain / total)
    # Per unit: only the school's own unit moves, by one facility of its count.
    moved = after.units.set_index("code")["open_rate"] - before.units.set_index("code")["open_rate"]
    n_unit = before.units.set_index("code")["school_facilities"]
    (code,) = moved[moved.abs() > 1e-12].index
    assert moved[code] == pytest.approx(1 / n_unit[code])
    # The earlier versions still give the earlier figures: nothing was lost.
    assert _same(indicators_from(snap).city, before.city)


def test_trend_from_the_version_history(city_store):
    snaps = change_snapshots(city_store, ("venues", "school_facilities", "greenways", "health_stations"))
    assert len(snaps) == 2 and "school_facilities v2" in snaps[-1].label
    trend = indicator_trend(snaps)
    assert list(trend["note"]) == ["", ""]
    assert trend["open_rate"].iloc[0] < trend["open_rate"].iloc[1]  # the demo opened more schools
    assert trend["coverage_1000"].iloc[0] <= trend["coverage_1000"].iloc[1]
    # By quarter: before the store existed there is nothing; the note says why instead of failing.
    early = snapshot_as_of(city_store, "2020-03-31", label="2020Q1")
    got = indicator_trend([early])
    assert "no boundaries" in got["note"].iloc[0]
    ends = quarter_ends("2026-01-15", "2026-11-23")
    # the quarter still running ends at the moment asked about, never after it
    assert [str(e.date()) for e in ends] == ["2026-03-31", "2026-06-30", "2026-09-30", "2026-11-23"]
    assert quarter_ends("2026-01-15", "2026-12-31 23:59:59")[-1] == pd.Timestamp("2026-12-31 23:59:59", tz="UTC")
    with pytest.raises(Exception, match="not a date"):
        snapshot_as_of(city_store, "last spring")


def test_satisfaction_aggregates_and_suppresses():
    survey = pd.DataFrame({"unit_code": ["a", "a", "b", "c"], "period": ["2026Q3"] * 4,
                           "score": [80.0, 90.0, 70.0, 60.0], "respondents": [30, 10, 50, 5]})
    got = satisfaction_by_unit(survey, ["a", "b", "c", "d"], min_respondents=30).set_index("code")
    assert got.loc["a", "satisfaction"] == pytest.approx((80 * 30 + 90 * 10) / 40)
    assert np.isnan(got.loc["c", "satisfaction"]) and got.loc["c", "suppressed"]
    assert got.loc["d", "respondents"] == 0 and not got.loc["d", "suppressed"]
    trend = satisfaction_trend(pd.concat([survey, survey.assign(period="2026Q2", score=50.0)]))
    assert list(trend["period"]) == ["2026Q2", "2026Q3"] and trend["satisfaction"].iloc[0] == pytest.approx(50.0)
    assert list(trend["units_suppressed"]) == [1, 1]
    with pytest.raises(AnalysisError, match="must be one of the thresholds"):
        IndicatorSettings(service_threshold_m=700)
