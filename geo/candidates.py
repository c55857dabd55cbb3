"""Candidate sites for new facilities, and the planning problem they pose for a city.

Candidates come from an uploaded layer, or are generated: points on the walking network
inside today's gap areas on a regular spacing, parks and open land from the land-use
layer, and school facilities not yet open to the public.  :func:`planning_problem` turns
them, with a :class:`~geo.coverage.CoverageEngine`, into a
:class:`~geo.planning.PlanningProblem` on walking distance, with existing facilities
counted as already placed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage import ANY_LAYER, CoverageEngine
from geo.errors import AnalysisError
from geo.facilities import build_facility_set
from geo.network import WalkNetwork
from geo.notes import ProgressFn, note
from geo.planning import PlanningProblem
from geo.reach import NetworkReach

#: Land uses that can take a new fitness facility.
OPEN_LAND_USES = ("park", "vacant", "green")


def street_points(network: WalkNetwork, areas: gpd.GeoDataFrame, *, spacing: float = 150.0) -> gpd.GeoDataFrame:
    """Points on the walking network inside ``areas``, about ``spacing`` metres apart."""
    if spacing <= 0:
        raise AnalysisError(f"spacing must be a positive number of metres, not {spacing}.")
    if areas is None or len(areas) == 0:
        return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=network.crs)
    zone = shapely.union_all(areas.to_crs(network.crs).geometry.to_numpy())
    u, v = network.edge_u, network.edge_v
    length = np.hypot(network.node_x[v] - network.node_x[u], network.node_y[v] - network.node_y[u])
    n = np.maximum(np.ceil(length / (spacing / 3)).astype(np.int64), 1)
    edge = np.repeat(np.arange(network.n_edges), n)
    frac = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + 0.5) / np.repeat(n, n)
    x = network.node_x[u[edge]] + frac * (network.node_x[v[edge]] - network.node_x[u[edge]])
    y = network.node_y[u[edge]] + frac * (network.node_y[v[edge]] - network.node_y[u[edge]])
    inside = shapely.contains_xy(zone, x, y)
    x, y = x[inside], y[inside]
    # One point per spacing × spacing square: a regular spread along the streets.
    key = np.floor(x / spacing).astype(np.int64) * 1_000_003 + np.floor(y / spacing).astype(np.int64)
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    return gpd.GeoDataFrame({"kind": np.full(len(first), "street_point")},
                            geometry=shapely.points(x[first], y[first]), crs=network.crs)


def candidate_sites(network: WalkNetwork, *, gaps: gpd.GeoDataFrame | None = None,
                    land_use: gpd.GeoDataFrame | None = None,
                    school_facilities: gpd.GeoDataFrame | None = None,
                    uploaded: gpd.GeoDataFrame | None = None, spacing: float = 150.0,
                    default_capacity: float = 500.0) -> gpd.GeoDataFrame:
    """Gather candidate sites (EPSG:4326) with ``candidate_id``, ``site_kind``, ``name``,
    ``capacity``, ``source_id`` (the feature it came from) and ``origin``.

    Raises
    ------
    AnalysisError
        When no source yields a single candidate.
    """
    parts = []
    if uploaded is not None and len(uploaded):
        up = uploaded.to_crs(4326)
        parts.append(gpd.GeoDataFrame({
            "site_kind": up["site_kind"] if "site_kind" in up.columns else "uploaded",
            "name": up["name"] if "name" in up.columns else None,
            "capacity": pd.to_numeric(up["capacity"], errors="coerce") if "capacity" in up.columns else np.nan,
            "source_id": up["feature_id"] if "feature_id" in up.columns else None, "origin": "uploaded",
        }, geometry=up.geometry.to_numpy(), crs=4326))
    if gaps is not None and len(gaps):
        pts = street_points(network, gaps, spacing=spacing).to_crs(4326)
        parts.append(gpd.GeoDataFrame({"site_kind": "street_point", "name": None, "capacity": np.nan,
                                       "source_id": None, "origin": "gap street point"}, index=range(len(pts)),
                                      geometry=pts.geometry.to_numpy(), crs=4326))
    if land_use is not None and len(land_use) and "land_use" in land_use.columns:
        open_land = land_use[land_use["land_use"].isin(OPEN_LAND_USES)].to_crs(4326)
        kind = open_land["land_use"].map({"park": "park", "green": "park", "vacant": "vacant_land"})
        parts.append(gpd.GeoDataFrame({"site_kind": kind.to_numpy(),
                                       "name": open_land["name"] if "name" in open_land.columns else None,
                                       "capacity": np.nan, "source_id": open_land.get("feature_id"),
                                       "origin": "land use"},
                                      geometry=open_land.geometry.to_numpy(), crs=4326))
    if school_facilities is not None and len(school_facilities):
        closed = school_facilities[~school_facilities["open_to_public"].fillna(False).astype(bool)].to_crs(4326)
        parts.append(gpd.GeoDataFrame({"site_kind": "school", "name": closed["school"],
                                       "capacity": np.nan, "source_id": closed.get("feature_id"),
                                       "origin": "school not yet open"},
                                      geometry=closed.geometry.to_numpy(), crs=4326))
    parts = [p for p in parts if len(p)]
    if not parts:
        raise AnalysisError("No candidate site: upload a candidate layer, or give gap areas, land use "
                            "(parks, vacant land) or school facilities to generate them from.")
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    out["capacity"] = out["capacity"].fillna(default_capacity)
    out.insert(0, "candidate_id", [f"cand-{k + 1:05d}" for k in range(len(out))])
    out["name"] = out["name"].astype(object).where(out["name"].notna(), None)  # unnamed: shown by kind and number
    return out


#: Where candidates come from: generated (gap street points, vacant land and parks, schools not yet open)
#: and uploaded (the sports bureau's ``candidate_sites`` layer).
CANDIDATE_SOURCES: tuple[str, ...] = ("generated", "uploaded")


def candidates_for(engine: CoverageEngine, read: Callable[[str], gpd.GeoDataFrame | None], *, layer: str,
                   cutoff: float, sources: Sequence[str] = CANDIDATE_SOURCES) -> gpd.GeoDataFrame:
    """The candidate sites for planning ``layer`` at ``cutoff``: the one place the app and the command line
    build them.  ``read(name)`` gives a stored layer (or ``None`` when it is not stored).
    """
    from geo.gaps import gap_areas

    unknown = set(sources) - set(CANDIDATE_SOURCES)
    if unknown:
        raise AnalysisError(f"Candidate sources {', '.join(sorted(unknown))} are not among "
                            f"{', '.join(CANDIDATE_SOURCES)}.")
    generated = "generated" in sources
    gaps = None
    if generated:
        base = engine.run([cutoff], layers=[layer])
        gaps = gap_areas(base, layer, cutoff) if layer not in base.no_data_layers else None
    return candidate_sites(engine.network_reach.network if engine.network_reach is not None else None,
                           gaps=gaps, land_use=read("land_use") if generated else None,
                           school_facilities=read("school_facilities") if generated else None,
                           uploaded=read("candidate_sites") if "uploaded" in sources else None)


def existing_distance(engine: CoverageEngine, cutoff: float, layers: Sequence[str] | None = None,
                      slot=None) -> np.ndarray:
    """Each cell's walk to the nearest existing facility of ``layers`` (``inf`` beyond ``cutoff``)."""
    layers = list(layers) if layers is not None else engine.facilities.layers
    result = engine.run([cutoff], layers=layers, slot=slot)
    return result.distance[ANY_LAYER if len(layers) > 1 else layers[0]].to_numpy()


def planning_problem(engine: CoverageEngine, candidates: gpd.GeoDataFrame, *, cutoff: float = 1000.0,
                     layers: Sequence[str] | None = None, slot=None,
                     progress: ProgressFn | None = None) -> tuple[PlanningProblem, list[str]]:
    """The planning problem of ``candidates`` on the engine's network and demand.

    Returns the problem and notes (candidates off the network, layers counted as existing).

    Raises
    ------
    AnalysisError
        Without a walking network (planning is on walking distance), or with no candidate.
    """
    if engine.network_reach is None:
        raise AnalysisError("Planning needs the walking network: load the walk_network layer.")
    if candidates is None or len(candidates) == 0:
        raise AnalysisError("No candidate site to choose from.")
    base = engine.network_reach
    sites = build_facility_set({"candidates": candidates.assign(feature_id=candidates["candidate_id"])},
                               crs=engine.demand.crs)
    reach = NetworkReach(base.network, sites.access, engine.demand.x, engine.demand.y,
                         demand_snap=base.demand_snap)
    catch = reach.catchments(limit=cutoff, progress=progress)
    notes = []
    off = reach.off_network_facilities
    if len(off):
        names = [str(n or c) for n, c in zip(candidates["name"].iloc[off], candidates["candidate_id"].iloc[off])]
        notes.append(note("candidates.off_network", n=len(off), names=names))
    used = list(layers) if layers is not None else engine.facilities.layers
    notes.append(note("candidates.existing", layers=used) if slot is None
                 else note("candidates.existing_at", layers=used, slot=slot))
    problem = PlanningProblem(weights=engine.demand.population, distance=catch.matrix,
                              existing_distance=existing_distance(engine, cutoff, used, slot), cutoff=cutoff,
                              candidate_ids=candidates["candidate_id"].to_numpy(),
                              capacity=candidates["capacity"].to_numpy(dtype=float)
                              if "capacity" in candidates.columns else None,
                              notes=tuple(notes))
    return problem, notes
