"""The 2SFCA (and its enhanced forms, :mod:`geo.access`) cut into partitions, equal to one run.

A facility's catchment may cross a partition's border, and so may the facilities reaching a
cell, so it runs in two rounds:

1. Each partition takes the facilities whose representative point it owns and reads every
   populated cell, street and entrance within a halo around them (their whole extent — a
   greenway may be long — grown by the catchment size and the snap bounds): step 1 of the
   2SFCA gives each its ratio ``R_j`` over its whole catchment, as one run does.
2. Each partition takes its own cells, every facility within its halo and the table of all
   ratios from round 1 (small: one row per facility): step 2 gives each cell its ``A_i``.

Sums are taken facility by facility and cell by cell in the inputs' order (see
:func:`geo.access._entries`), and a partition holds its inputs in that order too, so the figures
equal a single run's to the last bit. The network method only: the straight-line 2SFCA
of a province is cheap enough for one machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.access import access_from_ratio, catchment_ratio
from geo.coverage import CoverageEngine
from geo.crs import crs_of, frame_to, transformer
from geo.errors import AnalysisError
from geo.facilities import build_facility_set
from geo.partition import (
    Part,
    Plan,
    Source,
    entrances_of,
    features_within,
    halo_of,
    owned_demand,
    walk_network_within,
)

Weight = Callable[[np.ndarray], np.ndarray] | None


@dataclass(frozen=True)
class AccessSpec:
    """What a partitioned 2SFCA computes: the facility ``layer``, the column of its ``supply``
    (e.g. ``sports_area_m2``), the catchment ``d0`` in metres and the distance ``weight``."""

    layer: str
    supply: str
    d0: float
    weight: Weight = None


@dataclass(frozen=True)
class ProvinceAccess:
    """Per facility: supply, weighted residents of its catchment and ratio; per populated cell (row, column
    of the population grid): residents and access (supply per resident within reach)."""

    facilities: pd.DataFrame
    cells: pd.DataFrame
    spec: AccessSpec


def _supply(frame: gpd.GeoDataFrame, spec: AccessSpec, ids: np.ndarray) -> np.ndarray:
    if spec.supply not in frame.columns:
        raise AnalysisError(f"The {spec.layer} layer has no {spec.supply!r} column to use as supply.")
    values = pd.to_numeric(frame[spec.supply], errors="coerce")
    by_id = pd.Series(values.to_numpy(float), index=frame["feature_id"].astype(str).to_numpy())
    by_id = by_id[~by_id.index.duplicated()]
    supply = by_id.reindex(ids).to_numpy(float)
    bad = ~(supply >= 0)
    if bad.any():
        raise AnalysisError(f"{spec.layer}: feature {ids[np.argmax(bad)]} has no {spec.supply} of 0 or more; "
                            "every facility needs a supply for the 2SFCA.")
    return supply


def _lonlat(plan: Plan, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return transformer(plan.crs, 4326).transform_bounds(*box, densify_pts=21)


def _grow(box: Sequence[float], by: float) -> tuple[float, float, float, float]:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


def _engine(source: Source, plan: Plan, cells: Part, lines_box: tuple[float, float, float, float],
            layer: gpd.GeoDataFrame, layer_name: str, entrances: gpd.GeoDataFrame | None) -> CoverageEngine | None:
    """An engine over the cells ``cells`` owns, the streets meeting ``lines_box`` and ``layer``'s facilities."""
    metric = crs_of(plan.crs)
    demand = owned_demand(source, plan, cells)
    if len(demand) == 0 or len(layer) == 0:
        return None
    network = walk_network_within(source, shapely.box(*lines_box), _lonlat(plan, lines_box), metric)
    if network is None:
        return None
    facilities = build_facility_set({layer_name: layer}, crs=metric, entrances=entrances)
    return CoverageEngine(demand, facilities, network=network,
                          max_snap_m=plan.max_snap_m, max_demand_snap_m=plan.max_demand_snap_m)


def ratio_part(source: Source, plan: Plan, part: Part, spec: AccessSpec) -> pd.DataFrame:
    """Round 1: step 1 of the 2SFCA for the facilities whose representative point ``part`` owns."""
    columns = {"feature_id": pd.Series(dtype=object), "supply": pd.Series(dtype=float),
               "catchment_demand": pd.Series(dtype=float), "ratio": pd.Series(dtype=float)}
    metric = crs_of(plan.crs)
    halo, bbox = halo_of(plan, part)
    frame = features_within(source.vector(spec.layer, bbox), halo, metric)
    if frame is None or frame.empty:
        return pd.DataFrame(columns)
    at = frame.geometry.representative_point()  # features_within gave it in the run's CRS
    owned = frame[part.owns(at.x.to_numpy(), at.y.to_numpy())]
    if owned.empty:
        return pd.DataFrame(columns)
    entrances = entrances_of(source, plan, owned) if spec.layer == "greenways" else None
    reach = owned.total_bounds
    if entrances is not None and len(entrances):
        e = frame_to(entrances, metric).total_bounds
        reach = np.array([min(reach[0], e[0]), min(reach[1], e[1]), max(reach[2], e[2]), max(reach[3], e[3])])
    cells_box = _grow(reach, plan.halo_m)  # the plan's cutoff is d0 (run_province_access)
    engine = _engine(source, plan, Part("cells", cells_box), _grow(cells_box, plan.max_demand_snap_m), owned,
                     spec.layer, entrances)
    ids = owned["feature_id"].astype(str).to_numpy()
    supply = _supply(owned, spec, ids)
    if engine is None:
        return pd.DataFrame({"feature_id": ids, "supply": supply, "catchment_demand": 0.0, "ratio": 0.0})
    table = engine.facilities.table
    catch = engine.network_reach.catchments(limit=spec.d0)
    ratio, demand_j = catchment_ratio(catch, _supply(owned, spec, table["feature_id"].to_numpy()),
                                      engine.demand.population, d0=spec.d0, weight=spec.weight)
    got = pd.DataFrame({"feature_id": table["feature_id"].to_numpy(), "catchment_demand": demand_j, "ratio": ratio})
    out = pd.DataFrame({"feature_id": ids, "supply": supply}).merge(got, on="feature_id", how="left")
    return out.fillna({"catchment_demand": 0.0, "ratio": 0.0})


def access_part(source: Source, plan: Plan, part: Part, spec: AccessSpec, ratios: pd.DataFrame
                ) -> pd.DataFrame:
    """Round 2: step 2 of the 2SFCA for the cells ``part`` owns, from every facility's ratio (round 1)."""
    metric = crs_of(plan.crs)
    halo, bbox = halo_of(plan, part)
    frame = features_within(source.vector(spec.layer, bbox), halo, metric)
    empty = pd.DataFrame({"row": pd.Series(dtype=np.int64), "col": pd.Series(dtype=np.int64),
                          "population": pd.Series(dtype=float), "access": pd.Series(dtype=float)})
    demand = owned_demand(source, plan, part)
    if len(demand) == 0:
        return empty
    out = pd.DataFrame({"row": demand.row, "col": demand.col, "population": demand.population, "access": 0.0})
    if frame is None or frame.empty:
        return out
    x0, y0, x1, y1 = halo.bounds
    entrances = entrances_of(source, plan, frame) if spec.layer == "greenways" else None
    engine = _engine(source, plan, part, (x0, y0, x1, y1), frame, spec.layer, entrances)
    if engine is None:
        return out
    by_id = ratios.drop_duplicates("feature_id").set_index("feature_id")["ratio"]
    ratio = by_id.reindex(engine.facilities.table["feature_id"].to_numpy()).fillna(0.0).to_numpy(float)
    catch = engine.network_reach.catchments(limit=spec.d0)
    out["access"] = access_from_ratio(catch, ratio, d0=spec.d0, weight=spec.weight)
    return out


def run_province_access(source: Source, plan: Plan, parts: Sequence[Part], spec: AccessSpec, *,
                        client=None, on_future: Callable[[list], None] | None = None) -> ProvinceAccess:
    """The 2SFCA of every populated cell in ``parts`` on ``client`` (in this process without one)."""
    if plan.method != "network":
        raise AnalysisError("The partitioned 2SFCA follows the streets; use the network method.")
    if not (np.isfinite(spec.d0) and spec.d0 > 0):
        raise AnalysisError(f"A catchment d0 must be a positive number of metres, not {spec.d0}.")
    plan = replace(plan, thresholds=(float(spec.d0),))  # the halo follows d0
    parts = list(parts)
    if client is None:
        ratios = pd.concat([ratio_part(source, plan, p, spec) for p in parts], ignore_index=True)
        cells = [access_part(source, plan, p, spec, ratios) for p in parts]
    else:
        tag = f"{abs(hash((plan, spec.layer, spec.supply, spec.d0))):x}"
        first = client.map(ratio_part, [source] * len(parts), [plan] * len(parts), parts, [spec] * len(parts),
                           key=[f"onemap-ratio-{p.key}-{tag}" for p in parts], retries=2)
        if on_future is not None:
            on_future(first)
        ratios = pd.concat(client.gather(first), ignore_index=True)
        shared = client.scatter(ratios, broadcast=True)
        second = client.map(access_part, [source] * len(parts), [plan] * len(parts), parts, [spec] * len(parts),
                            [shared] * len(parts), key=[f"onemap-access-{p.key}-{tag}" for p in parts], retries=2)
        if on_future is not None:
            on_future(second)
        cells = client.gather(second)
    if ratios["feature_id"].duplicated().any():
        raise AnalysisError("Two partitions own the same facility; their rectangles overlap.")
    table = pd.concat([c for c in cells if len(c)], ignore_index=True).sort_values(["row", "col"], kind="stable")
    if table.duplicated(["row", "col"]).any():
        raise AnalysisError("Two partitions own the same cell; their rectangles overlap.")
    return ProvinceAccess(facilities=ratios.sort_values("feature_id", kind="stable").reset_index(drop=True),
                          cells=table.reset_index(drop=True), spec=spec)


__all__ = ["AccessSpec", "ProvinceAccess", "access_part", "ratio_part", "run_province_access"]
