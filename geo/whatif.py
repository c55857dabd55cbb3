"""What-if: open or close a facility, add a site at a clicked point, change opening hours.

:class:`WhatIf` keeps the current coverage and answers each change by recomputing only the
layers it touches (one multi-source Dijkstra each; new sites get their own small source
graph on the same snapped demand), so a click in the app is answered at once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage import ANY_LAYER, CoverageEngine, CoverageResult
from geo.errors import AnalysisError, OpeningHoursError
from geo.facilities import TimeSlot, build_facility_set
from geo.hours import parse_opening_hours
from geo.notes import Note, note
from geo.reach import Nearest, NetworkReach, StraightLineReach


@dataclass
class WhatIfResult:
    """Coverage after the change, and what changed, per layer and threshold."""

    result: CoverageResult
    change: pd.DataFrame
    notes: list[Note]
    seconds: float


class WhatIf:
    """Coverage of an engine, ready to answer changes.

    Parameters
    ----------
    engine : CoverageEngine
    thresholds : optional
        As for :meth:`CoverageEngine.run` (default the life circles).
    slot : TimeSlot, optional
        The time slot the changes are judged at.
    """

    def __init__(self, engine: CoverageEngine, *, thresholds=None, slot: TimeSlot | None = None) -> None:
        self.engine = engine
        self.thresholds = thresholds
        self.slot = slot
        self.base = engine.run(thresholds, slot=slot)
        fac = engine.facilities
        self._index = {(layer, fid): i for i, (layer, fid) in
                       enumerate(zip(fac.table["layer"], fac.table["feature_id"]))}
        self._by_id: dict[str, list[int]] = {}
        for (_layer, fid), i in self._index.items():
            self._by_id.setdefault(fid, []).append(i)

    def _find(self, feature_id: str) -> int:
        hits = self._by_id.get(str(feature_id), [])
        if len(hits) != 1:
            known = ", ".join(list(self._by_id)[:8])
            why = "is in several layers" if hits else "is not a facility of this analysis"
            raise AnalysisError(f"{feature_id!r} {why}; facilities include {known} …")
        return hits[0]

    def _mask(self, close: Sequence[str], open_: Sequence[str],
              hours: Mapping[str, str]) -> tuple[np.ndarray, set[str]]:
        fac = self.engine.facilities
        mask = fac.open_mask(self.slot)
        touched: set[str] = set()
        for fid, text in hours.items():
            i = self._find(fid)
            try:
                parsed = parse_opening_hours(text)
            except OpeningHoursError as exc:
                raise AnalysisError(f"New opening hours for {fid!r}: {exc}") from None
            usable = bool(fac.table["usable"].iloc[i]) or fid in open_
            mask[i] = usable and (self.slot is None or parsed.is_open(
                self.slot.weekday, self.slot.minute, public_holiday=self.slot.public_holiday,
                school_holiday=self.slot.school_holiday))
            touched.add(fac.table["layer"].iloc[i])
        for fid in open_:
            i = self._find(fid)
            if fid not in hours:
                h = fac.hours[i]
                mask[i] = (self.slot is None or (fac.unknown_hours_open if h is None else h.is_open(
                    self.slot.weekday, self.slot.minute, public_holiday=self.slot.public_holiday,
                    school_holiday=self.slot.school_holiday)))
            touched.add(fac.table["layer"].iloc[i])
        for fid in close:
            i = self._find(fid)
            mask[i] = False
            touched.add(fac.table["layer"].iloc[i])
        return mask, touched

    def _added(self, sites: Sequence[tuple[float, float]] | gpd.GeoDataFrame,
               cutoff: float) -> tuple[Nearest, list[str]]:
        eng = self.engine
        if not isinstance(sites, gpd.GeoDataFrame):
            lon = np.array([p[0] for p in sites], dtype=float)
            lat = np.array([p[1] for p in sites], dtype=float)
            if not (np.isfinite(lon).all() and np.isfinite(lat).all()) or (np.abs(lat) > 90).any() \
                    or (np.abs(lon) > 180).any():
                raise AnalysisError(f"New sites need longitude/latitude in degrees; got {list(sites)}.")
            sites = gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)
        # Polygon sites are entered along their outline, as existing ones are.
        new = build_facility_set({"added": sites.reset_index(drop=True)}, crs=eng.demand.crs)
        notes = []
        if eng.network_reach is not None:
            base = eng.network_reach
            reach = NetworkReach(base.network, new.access, eng.demand.x, eng.demand.y, demand_snap=base.demand_snap)
            for k in reach.off_network_facilities:
                notes.append(note("whatif.site_off_network", site=int(k) + 1))
            return reach.nearest(cutoff=cutoff), notes
        return StraightLineReach(new.geometry, eng.demand.x, eng.demand.y).nearest(cutoff=cutoff), notes

    def evaluate(self, *, close: Sequence[str] = (), open_: Sequence[str] = (),
                 add: Sequence[tuple[float, float]] | gpd.GeoDataFrame = (), add_layer: str = "venues",
                 hours: Mapping[str, str] | None = None) -> WhatIfResult:
        """Coverage with the changes applied (nothing is stored).

        Parameters
        ----------
        close : feature ids to close.
        open_ : feature ids to open to the public (e.g. a school field).
        add : new sites of layer ``add_layer``: (longitude, latitude) pairs, or a layer of
            points or polygons (entered along their outline).
        hours : feature id → new opening hours (OSM or Chinese writing).
        """
        t0 = time.perf_counter()
        hours = dict(hours or {})
        if len(add) and add_layer not in self.engine.facilities.layers:
            raise AnalysisError("New sites go into a layer of the analysis "
                                f"({', '.join(self.engine.facilities.layers)}), "
                                f"not {add_layer!r}.")
        mask, touched = self._mask(close, open_, hours)
        added: dict[str, Nearest] = {}
        notes: list[Note] = []
        if len(add):
            nearest, notes = self._added(add, self.base.cutoff)
            added = {add_layer: nearest}
            touched.add(add_layer)
        layers = [k for k in self.engine.facilities.layers if k in touched]
        fresh = self.engine.run(self._thresholds_for(layers), slot=self.slot, cutoff=self.base.cutoff,
                                layers=layers, open_mask=mask, added=added) if layers else None
        result = self._merge(fresh)
        change = self._change(result)
        return WhatIfResult(result=result, change=change, notes=notes, seconds=time.perf_counter() - t0)

    def _thresholds_for(self, layers: list[str]):
        return {k: self.base.thresholds[k] for k in layers}

    def _merge(self, fresh: CoverageResult | None) -> CoverageResult:
        base = self.base
        if fresh is None:
            return base
        dist = base.distance.copy()
        near = base.nearest_index.copy()
        for layer in fresh.distance.columns:
            if layer == ANY_LAYER:
                continue
            dist[layer] = fresh.distance[layer].to_numpy()
            near[layer] = fresh.nearest_index[layer].to_numpy()
        real = [k for k in base.thresholds if k != ANY_LAYER]
        if ANY_LAYER in dist.columns:
            dist[ANY_LAYER] = np.min(dist[real].to_numpy(), axis=1)
        no_data = [k for k in base.no_data_layers if k not in fresh.distance.columns or k in fresh.no_data_layers]
        return CoverageResult(distance=dist, nearest_index=near, facility_ids=base.facility_ids,
                              population=base.population, thresholds=base.thresholds, method=base.method,
                              demand=base.demand, slot=base.slot, cutoff=base.cutoff, no_data_layers=no_data,
                              notes=base.notes)

    def _change(self, after: CoverageResult) -> pd.DataFrame:
        b = self.base.summary().set_index(["layer", "threshold_m"])
        a = after.summary().set_index(["layer", "threshold_m"])
        out = pd.DataFrame({"covered_before": b["covered"], "covered_after": a["covered"],
                            "rate_before": b["rate"], "rate_after": a["rate"]})
        out["newly_covered"] = out["covered_after"] - out["covered_before"]
        return out.reset_index()
