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


def test_every_demo_count_is_within_what_its_venue_can_take(demo_analysis, demo_city):
    """The demo's counts pass the import's bound, and no demo venue is doubtful (the stadium's count was once made
    from its 20,000 spectator seats: 196,173 visits a day in a district of 420,000)."""
    from layers.rasters import population_total
    from layers.records import check_records, venue_facts

    usage = demo_city.records["venue_usage"]
    residents = population_total(demo_city.population_tif)
    plan = check_records(usage.drop(columns=["source"]).astype(str), "venue_usage", source="demo.csv",
                         venues=venue_facts(demo_city.layers["venues"]), residents=residents,
                         today=pd.Timestamp("2027-01-01"))
    assert plan.report.ok, plan.report.summary()
    result = venue_usage(demo_analysis.engine, demo_city.layers["venues"], usage)
    assert result.counts()["implausible"] == 0
    assert result.table.set_index("feature_id").loc["venue-000", "mean_daily"] < 0.05 * residents


def test_a_count_above_what_the_venue_can_take_is_doubtful_never_a_utilisation(demo_analysis, demo_city):
    venues = demo_city.layers["venues"]
    usage = demo_city.records["venue_usage"].copy()
    usage.loc[usage["venue_id"] == "venue-000", "count"] = 196_173
    result = venue_usage(demo_analysis.engine, venues, usage)
    row = result.table.set_index("feature_id").loc["venue-000"]
    assert row["status"] == "implausible" and np.isnan(row["utilisation"])
    assert row["ceiling"] == pytest.approx(0.05 * demo_analysis.engine.demand.population.sum())
    assert any(n.code == "usage.implausible" and "青溪体育中心" in n.values["names"] for n in result.notes)
    assert sum(result.counts().values()) == len(result.table)  # every circle on the map is in one count


def test_the_bound_is_the_smaller_of_turnover_and_the_residents_share():
    from geo.usage import daily_ceiling

    # capacity × hours / half an hour; no capacity (or 0): only the residents' 5 %; hours unknown: all day
    got = daily_ceiling(np.array([100.0, np.nan, 0.0, 100.0]), np.array([10.0, 10.0, 10.0, np.nan]), 1_000_000)
    assert got.tolist() == [2000.0, 50_000.0, 50_000.0, 4800.0]
    assert daily_ceiling(np.array([100.0]), np.array([10.0]), 10_000).tolist() == [500.0]
    assert daily_ceiling(np.array([100.0]), np.array([10.0]), None).tolist() == [2000.0]
    assert daily_ceiling(np.array([100.0]), np.array([np.nan]), None).tolist() == [4800.0]  # hours unknown: all day
    assert np.isinf(daily_ceiling(np.array([np.nan]), np.array([10.0]), None)).all()
