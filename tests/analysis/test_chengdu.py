"""The analysis on real data: the OpenStreetMap extract of central Chengdu."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.coverage import CoverageEngine
from geo.demand import demand_from_vector, estimate_population_from_land_use
from geo.facilities import build_facility_set
from geo.gaps import gap_areas
from geo.network import build_walk_network
from geo.rules import check_within
from geo.selection import select_area
from geo.whatif import WhatIf
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
    engine = CoverageEngine(demand, facilities, network=net)
    result = engine.run()
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

    # The workbench on the real city: a site added in the largest gap and a school field opened answer from those
    # sources alone, and equal a full run of every layer; the whole extent selected is the city's summary.
    whatif = WhatIf(engine)
    site = gaps.to_crs(4326).geometry.iloc[0].representative_point()
    school = facilities.table.loc[facilities.table["layer"] == "school_facilities", "feature_id"].iloc[0]
    got = whatif.evaluate(add=[(site.x, site.y)], open_=[school])
    mask, _ = whatif._mask((), [school], {})
    full = engine.run(whatif._thresholds_for(facilities.layers), cutoff=whatif.base.cutoff, open_mask=mask,
                      added={"venues": whatif._added([(site.x, site.y)], whatif.base.cutoff)[0]})
    for layer in full.distance.columns:
        assert np.array_equal(got.result.distance[layer].to_numpy(), full.distance[layer].to_numpy()), layer
    assert got.change.set_index(["layer", "threshold_m"]).loc[("venues", 1000.0), "newly_covered"] > 0
    lon, lat = demand.lonlat()
    city = select_area(result, shapely.box(lon.min() - 0.01, lat.min() - 0.01, lon.max() + 0.01, lat.max() + 0.01),
                       {"venues": layers["venues"]})
    assert city.residents == pytest.approx(demand.total) and city.facilities["count"].iloc[0] == len(layers["venues"])
