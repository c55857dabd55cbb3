"""Incidents: recorded by the place's own department only, no personal data, audited, never edited; the
responders for a place ranked by the time until they are there, with routes as long as the engines' figures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from geo.coverage import CoverageEngine
from geo.drive import build_drive_network, drive_times
from geo.emergency import EmergencyThresholds, place_origin, responders
from geo.facilities import TimeSlot, build_facility_set
from geo.nearby import NearbyFinder
from layers.errors import AccessDeniedError, InputFileError, PersonalDataError
from office.accounts import Account
from office.incidents import incidents_on_map, parse_time, record_incident

NOW = dt.datetime(2026, 12, 2, 19, 40)
SPORTS = Account("体育局值班员", "editor", "sports")
EDUCATION = Account("教育局值班员", "editor", "education")


@pytest.fixture
def places(store, demo_city):
    for name in ("venues", "school_facilities"):
        store.layers.write(name, demo_city.layers[name], user="init")
    return store


def test_staff_record_at_their_own_places_only(places):
    store = places
    row = record_incident(store, SPORTS, place_layer="venues", place_id="venue-000", occurred_at=NOW,
                          incident_kind="cardiac_arrest", where_in_place="东看台 3 区", now=NOW)
    assert row["department"] == "sports" and row["incident_id"].startswith("INC-202612021940-")
    school = str(store.layers.read("school_facilities")["feature_id"].iloc[0])
    with pytest.raises(AccessDeniedError, match="教育局"):
        record_incident(store, SPORTS, place_layer="school_facilities", place_id=school, occurred_at=NOW,
                        incident_kind="injury", now=NOW)
    with pytest.raises(AccessDeniedError):
        record_incident(store, Account("访客", "viewer", "sports"), place_layer="venues", place_id="venue-000",
                        occurred_at=NOW, incident_kind="injury", now=NOW)
    record_incident(store, EDUCATION, place_layer="school_facilities", place_id=school, occurred_at=NOW,
                    incident_kind="injury", now=NOW)
    stored = store.records.read("incidents", with_department=True).set_index("place_layer")
    assert stored.loc["venues", "department"] == "sports" and stored.loc["school_facilities", "department"] == \
        "education"
    assert stored.loc["venues", "where_in_place"] == "东看台 3 区"


def test_bad_incidents_are_refused_and_nothing_is_written(places):
    store = places
    bad = [
        (dict(place_id="venue-999"), InputFileError, "feature 'venue-999' is stored"),
        (dict(incident_kind="fire"), InputFileError, "not one of cardiac_arrest"),
        (dict(occurred_at=NOW + dt.timedelta(hours=1)), InputFileError, "in the future"),
        (dict(occurred_at=NOW - dt.timedelta(days=40)), InputFileError, "more than 31 days ago"),
        (dict(where_in_place="看台" * 40), InputFileError, "at most 60 characters"),
        (dict(where_in_place="患者电话13812345678"), PersonalDataError, "phone or ID number"),
        (dict(place_layer="boundaries"), InputFileError, "Incidents are recorded at"),
    ]
    for change, error, message in bad:
        args = dict(place_layer="venues", place_id="venue-000", occurred_at=NOW, incident_kind="collapse",
                    where_in_place="", now=NOW) | change
        with pytest.raises(error, match=message):
            record_incident(store, SPORTS, **args)
    assert store.records.read("incidents").empty
    with pytest.raises(InputFileError, match="like 2026-12-02 19:30"):
        parse_time("12/02 7pm")
    assert parse_time(" 2026-12-02 19:30 ") == dt.datetime(2026, 12, 2, 19, 30)


def test_incidents_are_audited_and_shown_over_time(places):
    store = places
    for days, kind in ((0, "cardiac_arrest"), (3, "injury"), (10, "heat_illness")):
        record_incident(store, SPORTS, place_layer="venues", place_id="venue-000",
                        occurred_at=NOW - dt.timedelta(days=days), incident_kind=kind, now=NOW)
    shown = incidents_on_map(store, since=(NOW - dt.timedelta(days=5)).date())
    assert shown["incident_kind"].tolist() == ["cardiac_arrest", "injury"]  # newest first, the older one left out
    assert shown["place_name"].iloc[0] == "青溪体育中心" and shown.geometry.notna().all()
    trail = store.audit.trail("onemap_records_incidents")
    assert (trail["action"] == "insert").sum() == 3 and set(trail["changed_by"]) == {"体育局值班员"}
    assert {t["incident_kind"] for t in trail["new"]} == {"cardiac_arrest", "injury", "heat_illness"}


@pytest.fixture(scope="module")
def city_finder(demo_city, demo_analysis):
    layers = {k: demo_city.layers[k] for k in ("venues", "aeds", "health_stations")}
    fs = build_facility_set(layers, crs=demo_analysis.network.crs)
    finder = NearbyFinder(CoverageEngine(demo_analysis.demand, fs, network=demo_analysis.network))
    drive = build_drive_network(demo_city.layers["walk_network"], crs=demo_analysis.network.crs)
    return finder, drive


def test_responders_are_ranked_by_time_with_routes_as_long_as_the_engines_say(demo_city, city_finder):
    finder, drive = city_finder
    layers = demo_city.layers
    origin = place_origin(finder, layers["venues"], "venue-000")
    slot = TimeSlot.parse("周三 19:30")
    got = responders(finder, origin, layers, drive=drive, slot=slot)
    assert got["rank"].tolist() == list(range(1, len(got) + 1)) and got["seconds"].is_monotonic_increasing
    assert set(got["kind"]) == {"aeds", "health_stations", "hospitals"}
    d = finder.distances(origin, limit_m=5000.0)
    t = finder.facilities.table
    for row in got[got["mode"] == "walk"].itertuples():
        i = int(np.flatnonzero((t["layer"] == row.kind).to_numpy() & (t["feature_id"] == row.feature_id).to_numpy())[0])
        assert row.metres == pytest.approx(d[i], abs=1e-6)
        trip = (2 if row.kind == "aeds" else 1) * d[i] / EmergencyThresholds().brisk_m_per_min * 60
        assert row.seconds == pytest.approx(trip)
    # the nearest AED open at 19:30 on a Wednesday is the stadium's own; the school's AED (weekdays to 18:00) is not
    aeds = got[got["kind"] == "aeds"]
    assert aeds["feature_id"].iloc[0] in {"aed-001", "aed-002"} and "aed-014" not in set(aeds["feature_id"])
    assert aeds["phone"].notna().all() and bool(aeds["within"].iloc[0])
    hosp = got[got["kind"] == "hospitals"].reset_index(drop=True)
    assert len(hosp) == 2 and hosp["seconds"].is_monotonic_increasing
    er = layers["hospitals"].set_index("feature_id").loc[hosp["feature_id"]].to_crs(drive.crs)
    venue = np.array([_metric(origin, drive.crs)])  # the drive ends at the venue's point
    for k, (fid, g) in enumerate(zip(hosp["feature_id"], er.geometry.representative_point())):
        want = drive_times(drive, np.array([[g.x, g.y]]), venue, hour=19).seconds[0]
        assert hosp.loc[k, "seconds"] == pytest.approx(want), fid
    assert all(line.geom_type == "LineString" and len(line.coords) >= 2 for line in got.geometry)


def _metric(origin, crs):
    from geo.crs import transformer

    return transformer(4326, crs).transform(origin.lon, origin.lat)
