"""The analysis on real data: the OpenStreetMap extract of central Chengdu."""

from __future__ import annotations

import numpy as np
import pytest

from geo.coverage import CoverageEngine
from geo.demand import demand_from_vector, estimate_population_from_land_use
from geo.facilities import build_facility_set
from geo.gaps import gap_areas
from geo.network import build_walk_network
from geo.rules import check_within
from layers.osm import read_osm_layers


def test_chengdu_extract_end_to_end(chengdu_osm):
    layers = read_osm_layers(chengdu_osm)
    assert len(layers["venues"]) + len(layers["school_facilities"]) >= 35
    net = build_walk_network(layers["walk_network"])
    assert net.crs.to_epsg() == 4544  # CGCS2000 Gauss–Krüger, central meridian 105°E
    assert net.report.excluded.get("motorway", 0) > 0 and net.report.largest_component_share > 0.9
    pop = estimate_population_from_land_use(layers["land_use"])
    demand = demand_from_vector(pop, metric_crs=net.crs)
    assert demand.is_estimate
    facilities = build_facility_set({k: layers[k] for k in ("venues", "school_facilities", "health_stations")},
                                    crs=net.crs)
    result = CoverageEngine(demand, facilities, network=net).run()
    summary = result.summary()
    assert (summary["status"] == "estimate").all()
    assert any(n.code == "coverage.estimate" for n in result.notes)
    venues = summary[summary.layer == "venues"].set_index("threshold_m")["rate"]
    assert 0 < venues[300] < venues[500] < venues[1000] < 1
    # OSM does not say whether school fields open to the public: none counts.
    assert summary[summary.layer == "school_facilities"]["covered"].eq(0).all()
    gaps = gap_areas(result, "venues", 1000)
    assert len(gaps) > 0 and gaps["is_estimate"].all()
    uncovered = summary.set_index(["layer", "threshold_m"]).loc[("venues", 1000.0), "uncovered"]
    assert gaps["uncovered_residents"].sum() == pytest.approx(uncovered)
    stations = layers["metro_stations"]
    rule = check_within(stations, facilities, 1000, network=net,
                        target_mask=(facilities.table["layer"] == "venues").to_numpy())
    assert len(rule.table) == len(stations) and np.isfinite(rule.table["distance_m"]).any()
