"""The demo city prepared for analysis, shared by the benchmarks."""

from __future__ import annotations

from demo.city import DemoCity, build_demo_city
from geo.coverage import CoverageEngine
from geo.demand import demand_from_raster
from geo.facilities import build_facility_set
from geo.inputs import FACILITY_LAYERS
from geo.network import build_walk_network


def demo_engine() -> tuple[DemoCity, CoverageEngine]:
    """The demo city and its coverage engine (network, raster demand, four facility layers)."""
    city = build_demo_city()
    net = build_walk_network(city.layers["walk_network"])
    demand = demand_from_raster(city.population_tif, metric_crs=net.crs)
    facilities = build_facility_set({k: city.layers[k] for k in FACILITY_LAYERS}, crs=net.crs,
                                    entrances=city.layers["greenway_entrances"])
    return city, CoverageEngine(demand, facilities, network=net)
