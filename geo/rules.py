"""Rule checks of the form "every X has a Y within D".

For example: every metro station has a greenway or fitness trail within 500 m; every
community health station has an open venue within a 10-minute walk.  The check lists the
features that fail, with the distance to their nearest Y, so a department knows where
to act.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import AnalysisError
from geo.facilities import FacilitySet
from geo.network import DEFAULT_MAX_SNAP_M, WalkNetwork
from geo.reach import NetworkReach, StraightLineReach


@dataclass(frozen=True)
class RuleResult:
    """Every subject feature with its distance to the nearest target and whether it passes."""

    rule: str
    table: pd.DataFrame
    method: str

    @property
    def failures(self) -> pd.DataFrame:
        """The features that break the rule, farthest first."""
        return self.table[~self.table["passes"]].sort_values("distance_m", ascending=False)

    @property
    def passed(self) -> bool:
        """Whether every subject feature passes."""
        return bool(self.table["passes"].all())


def check_within(subjects: gpd.GeoDataFrame, targets: FacilitySet, distance: float, *,
                 rule: str | None = None, network: WalkNetwork | None = None,
                 target_mask: np.ndarray | None = None, name_column: str = "name",
                 max_snap_m: float = DEFAULT_MAX_SNAP_M) -> RuleResult:
    """Check "every subject has a target within ``distance`` metres".

    Parameters
    ----------
    subjects : GeoDataFrame
        The X features (e.g. metro stations); polygons are measured from their
        representative point.
    targets : FacilitySet
        The Y features (e.g. greenways with their entrances).
    network : WalkNetwork, optional
        Walking distance when given; straight-line distance otherwise.
    target_mask : ndarray of bool, optional
        Which targets count (e.g. only those open at a time slot).

    Raises
    ------
    AnalysisError
        No subject, no target, or a non-positive distance.
    """
    if not np.isfinite(distance) or distance <= 0:
        raise AnalysisError(f"The rule's distance must be a positive number of metres, not {distance}.")
    if subjects is None or len(subjects) == 0:
        raise AnalysisError("The rule has no feature to check (the X layer is empty).")
    if len(targets) == 0:
        raise AnalysisError("The rule's target layer (Y) is empty: every feature would fail.")
    pts = shapely.point_on_surface(subjects.to_crs(targets.crs).geometry.to_numpy())
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    mask = np.ones(len(targets), dtype=bool) if target_mask is None else np.asarray(target_mask, dtype=bool)
    if network is not None:
        reach = NetworkReach(network, targets.access, x, y, max_snap_m=max_snap_m, max_demand_snap_m=max_snap_m)
        method = "network"
    else:
        reach = StraightLineReach(targets.geometry, x, y)
        method = "straight_line"
    near = reach.nearest(mask, cutoff=np.inf)
    fid = targets.table["feature_id"].to_numpy()
    tname = targets.table["name"].to_numpy()
    has = near.facility >= 0
    table = pd.DataFrame({
        "feature_id": subjects["feature_id"].to_numpy() if "feature_id" in subjects.columns
        else np.arange(len(subjects)),
        "name": subjects[name_column].to_numpy() if name_column in subjects.columns else None,
        "distance_m": near.distance,
        "nearest_id": np.where(has, fid[np.maximum(near.facility, 0)], None),
        "nearest_name": np.where(has, tname[np.maximum(near.facility, 0)], None),
    })
    table["passes"] = table["distance_m"] <= distance
    if network is not None:
        off = ~reach.demand_snap.ok
        table["note"] = np.where(off, f"more than {max_snap_m:g} m from any walkable street", "")
    label = rule or f"every feature has a target within {distance:g} m"
    return RuleResult(rule=label, table=table, method=method)
