"""Venue usage against capacity, beside each venue's catchment residents."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo.errors import AnalysisError
from geo.usage import UsageSettings, mean_daily, venue_usage


def _rows(venue, days, counts, period="day"):
    return pd.DataFrame({"venue_id": venue, "date": days, "period": period, "measure": "visits", "count": counts})


def test_mean_daily_counts_weeks_as_seven_days():
    d = dt.date(2026, 10, 5)
    usage = pd.concat([_rows("a", [d, d + dt.timedelta(days=1)], [10, 30]),
                       _rows("b", [d], [700], period="week"),
                       _rows("c", [d], [5]).assign(measure="bookings")])
    got = mean_daily(usage).set_index("venue_id")
    assert got.loc["a", "mean_daily"] == 20 and got.loc["a", "days"] == 2
    assert got.loc["b", "mean_daily"] == 100 and got.loc["b", "days"] == 7
    assert "c" not in got.index
    assert mean_daily(usage, measure="bookings").set_index("venue_id").loc["c", "mean_daily"] == 5


def test_utilisation_status_and_catchments(demo_analysis, demo_city):
    engine = demo_analysis.engine
    venues = demo_city.layers["venues"]
    result = venue_usage(engine, venues, demo_city.records["venue_usage"], catchment_m=1000)
    t = result.table.set_index("feature_id")
    assert len(t) == len(venues) and result.counts()["no_data"] == 0
    # One venue by hand: capacity × open hours a day / 1.5 h sessions.
    v = venues[venues["feature_id"] == "venue-024"].iloc[0]
    assert v["opening_hours"] == "Mo-Su 07:00-22:00"
    assert t.loc["venue-024", "daily_capacity"] == pytest.approx(v["capacity"] * 15 / 1.5)
    visits = demo_city.records["venue_usage"].query("venue_id == 'venue-024'")["count"]
    assert t.loc["venue-024", "mean_daily"] == pytest.approx(visits.mean())
    util = t["utilisation"]
    assert (t.loc[util >= 0.85, "status"] == "over").all() and (t.loc[util <= 0.30, "status"] == "under").all()
    assert result.counts()["over"] > 0 and result.counts()["under"] > 0
    # Catchment residents are the residents the engine puts within 1000 m of the venue alone.
    fs = engine.facilities
    for fid in ("venue-024", "venue-000"):
        mask = (fs.table["feature_id"] == fid).to_numpy() & fs.layer_mask("venues")
        alone = engine.run([1000], layers=["venues"], open_mask=mask).covered("venues", 1000)
        assert t.loc[fid, "catchment_residents"] == pytest.approx(engine.demand.population[alone].sum())
    assert t.loc["venue-024", "residents_per_place"] == pytest.approx(
        t.loc["venue-024", "catchment_residents"] / v["capacity"])


def test_missing_capacity_hours_and_unknown_ids(demo_analysis, demo_city):
    venues = demo_city.layers["venues"].copy()
    venues.loc[venues["feature_id"] == "venue-001", "capacity"] = None
    usage = pd.concat([demo_city.records["venue_usage"],
                       _rows("venue-999", [dt.date(2026, 9, 1)], [3])])
    usage = usage[usage["venue_id"] != "venue-002"]
    result = venue_usage(demo_analysis.engine, venues, usage, settings=UsageSettings(over=0.9, under=0.2))
    t = result.table.set_index("feature_id")
    assert t.loc["venue-001", "status"] == "no_capacity" and np.isnan(t.loc["venue-001", "utilisation"])
    assert t.loc["venue-002", "status"] == "no_data"
    assert any(n.code == "usage.unknown_ids" and "venue-999" in n.values["ids"] for n in result.notes)
    with pytest.raises(AnalysisError, match="must be below"):
        UsageSettings(over=0.2, under=0.5)
    with pytest.raises(AnalysisError, match="positive number of metres"):
        venue_usage(demo_analysis.engine, venues, usage, catchment_m=0)
