"""A coverage engine from stored layers, whoever reads them.

The app, the command line, the indicators and the notebooks all build the same engine
from the same layers: the walking network, the population (a raster, a vector layer, or
an estimate from residential land use, in that order of preference) and the facility
layers.  They differ only in how a layer is read (cached by version in the app, as of a
date for a trend), so this module takes the reading as two functions and never imports a
store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import geopandas as gpd

from geo.coverage import CoverageEngine, Method
from geo.demand import Demand, demand_from_raster, demand_from_vector, estimate_population_from_land_use
from geo.errors import AnalysisError
from geo.facilities import build_facility_set
from geo.network import WalkNetwork, build_walk_network
from geo.notes import ProgressFn, report

#: Layers whose features residents walk to.
FACILITY_LAYERS: tuple[str, ...] = ("venues", "greenways", "school_facilities", "health_stations")

#: Reads a vector layer (EPSG:4326) by name; ``None`` when it is not stored.
VectorReader = Callable[[str], "gpd.GeoDataFrame | None"]
#: Reads a raster layer's GeoTIFF bytes by name; ``None`` when it is not stored.
RasterReader = Callable[[str], "bytes | None"]


def empty_layer() -> gpd.GeoDataFrame:
    """A facility layer with no feature (so the analysis reports it as no data)."""
    return gpd.GeoDataFrame({"feature_id": []}, geometry=[], crs=4326)


def demand_from_readers(read_vector: VectorReader, read_raster: RasterReader,
                        network: WalkNetwork | None = None) -> Demand:
    """The residents: the population raster, else the population layer, else an estimate.

    Raises
    ------
    AnalysisError
        When none of the three is stored.
    """
    crs = network.crs if network is not None else None
    tif = read_raster("population")
    if tif is not None:
        return demand_from_raster(tif, metric_crs=crs)
    frame = read_vector("population")
    if frame is not None:
        return demand_from_vector(frame, metric_crs=crs)
    land = read_vector("land_use")
    if land is not None:
        return demand_from_vector(estimate_population_from_land_use(land), metric_crs=crs)
    raise AnalysisError("No population is stored (a population raster, a population layer, "
                        "or residential land use to estimate it from); import one on the data page.")


def engine_from_readers(read_vector: VectorReader, read_raster: RasterReader, *,
                        method: Method = "network", facility_layers: Sequence[str] = FACILITY_LAYERS,
                        progress: ProgressFn | None = None) -> CoverageEngine:
    """Build the coverage engine of the stored layers.

    Parameters
    ----------
    read_vector, read_raster : callable
        ``name → layer`` (or ``None`` when not stored).
    method : ``"network"`` or ``"straight_line"``
    facility_layers : sequence of str
        Facility layers to include; one not stored enters empty (reported as no data).
    progress : callable, optional
        Hears each layer read, the network built and the snapping done.
    """
    steps = 3 + len(facility_layers)
    report(progress, 0.0, "progress.read_layer", layer="walk_network")
    lines = read_vector("walk_network")
    network = build_walk_network(lines) if lines is not None and len(lines) else None
    report(progress, 1 / steps, "progress.read_layer", layer="population")
    demand = demand_from_readers(read_vector, read_raster, network)
    layers = {}
    for k, name in enumerate(facility_layers):
        report(progress, (2 + k) / steps, "progress.read_layer", layer=name)
        frame = read_vector(name)
        layers[name] = frame if frame is not None else empty_layer()
    facilities = build_facility_set(layers, crs=demand.crs, entrances=read_vector("greenway_entrances"))

    def snapping(fraction: float, what) -> None:
        if progress is not None:
            progress((steps - 1 + fraction) / steps, what)

    return CoverageEngine(demand, facilities, network=network, method=method, progress=snapping)
