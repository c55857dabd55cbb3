"""Shared inputs for the analysis tests: the demo city prepared once per session."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from geo.coverage import CoverageEngine
from geo.demand import Demand, demand_from_raster
from geo.facilities import FacilitySet, build_facility_set
from geo.network import WalkNetwork, build_walk_network

FACILITY_LAYERS = ("venues", "greenways", "school_facilities", "health_stations")


@dataclass
class DemoAnalysis:
    layers: dict
    network: WalkNetwork
    demand: Demand
    facilities: FacilitySet
    engine: CoverageEngine


@pytest.fixture(scope="session")
def demo_analysis(demo_city) -> DemoAnalysis:
    net = build_walk_network(demo_city.layers["walk_network"])
    demand = demand_from_raster(demo_city.population_tif, metric_crs=net.crs)
    facilities = build_facility_set({k: demo_city.layers[k] for k in FACILITY_LAYERS}, crs=net.crs,
                                    entrances=demo_city.layers["greenway_entrances"])
    return DemoAnalysis(demo_city.layers, net, demand, facilities, CoverageEngine(demand, facilities, network=net))
