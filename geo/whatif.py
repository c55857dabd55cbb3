"""What-if: open or close a facility, add a site at a clicked point, change opening hours.

:class:`WhatIf` keeps the current coverage and answers each change by recomputing only the
layers it touches: a change that only opens facilities or adds sites searches from those alone (up to
the cutoff) and keeps every cell they do not bring nearer, which is what a full run of the layer gives;
a change that closes anything runs the touched layers again (one multi-source Dijkstra each; new sites
get their own small source graph on the same snapped demand).
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
        self._base_mask = engine.facilities.open_mask(slot)  # the facilities the base counts
        self._base_summary = self.base.summary().set_index(["layer", "threshold_m"])
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
            reach = NetworkReach(base.network, new.access, eng.demand.x, eng.demand.y, demand_snap=base.demand_snap,
                                 demand_index=base._cells_by_end())
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
        nothing_closes = not (self._base_mask & ~mask).any()
        if not layers:
            fresh = None
        elif nothing_closes:
            # Nothing closes: only the cells the opened facilities and the new sites reach can change.
            fresh = self._only_gains(layers, mask & ~self._base_mask, added)
        else:
            fresh = self.engine.run(self._thresholds_for(layers), slot=self.slot, cutoff=self.base.cutoff,
                                    layers=layers, open_mask=mask, added=added)
        gains = fresh is not None and nothing_closes
        result = self._merge(fresh, only_gains=gains)
        change = self._change(result, layers, only_gains=gains)
        return WhatIfResult(result=result, change=change, notes=notes, seconds=time.perf_counter() - t0)

    def _only_gains(self, layers: list[str], opened: np.ndarray, added: Mapping[str, Nearest]) -> CoverageResult:
        """The touched layers when facilities only open and sites are only added: each cell keeps its distance
        unless an opened facility or a new site (searched alone, up to the cutoff) is strictly nearer — what a
        full run of the layer gives, at the cost of the new sources' neighbourhoods instead of the whole city."""
        base, fac = self.base, self.engine.facilities
        dist, near, no_data = {}, {}, []
        for layer in layers:
            d, f = base.distance[layer].to_numpy(), base.nearest_index[layer].to_numpy()
            gains = []
            newly = opened & fac.layer_mask(layer)
            if newly.any():
                got = self.engine.reach.nearest(newly, cutoff=base.cutoff)
                gains.append((got.distance, got.facility))
            if layer in added:
                gains.append((added[layer].distance, -2 - np.maximum(added[layer].facility, 0)))
            for extra_d, extra_f in gains:
                better = extra_d < d
                d, f = np.where(better, extra_d, d), np.where(better, extra_f, f)
            dist[layer], near[layer] = d, f
            if layer in base.no_data_layers and not np.isfinite(d).any() and not fac.layer_mask(layer).any():
                no_data.append(layer)
        return CoverageResult(distance=pd.DataFrame(dist), nearest_index=pd.DataFrame(near),
                              facility_ids=base.facility_ids, population=base.population,
                              thresholds=self._thresholds_for(layers), method={k: base.method[k] for k in layers},
                              demand=base.demand, slot=base.slot, cutoff=base.cutoff, no_data_layers=no_data,
                              notes=base.notes)

    def _thresholds_for(self, layers: list[str]):
        return {k: self.base.thresholds[k] for k in layers}

    def _merge(self, fresh: CoverageResult | None, *, only_gains: bool = False) -> CoverageResult:
        """The base with ``fresh``'s layers put in (the base's other columns shared, not copied); with
        ``only_gains`` (no distance grew) all layers together are the base's, lowered by the fresh layers."""
        base = self.base
        if fresh is None:
            return base
        touched = [k for k in fresh.distance.columns if k != ANY_LAYER]
        dist = {k: fresh.distance[k].to_numpy() if k in touched else base.distance[k].to_numpy()
                for k in base.distance.columns}
        near = {k: fresh.nearest_index[k].to_numpy() if k in touched else base.nearest_index[k].to_numpy()
                for k in base.nearest_index.columns}
        real = [k for k in base.thresholds if k != ANY_LAYER]
        if ANY_LAYER in dist:
            if only_gains:
                dist[ANY_LAYER] = np.minimum.reduce([base.distance[ANY_LAYER].to_numpy(), *(dist[k] for k in touched)])
            else:
                dist[ANY_LAYER] = np.min(np.column_stack([dist[k] for k in real]), axis=1)
        dist, near = pd.DataFrame(dist, copy=False), pd.DataFrame(near, copy=False)
        no_data = [k for k in base.no_data_layers if k not in fresh.distance.columns or k in fresh.no_data_layers]
        return CoverageResult(distance=dist, nearest_index=near, facility_ids=base.facility_ids,
                              population=base.population, thresholds=base.thresholds, method=base.method,
                              demand=base.demand, slot=base.slot, cutoff=base.cutoff, no_data_layers=no_data,
                              notes=base.notes)

    def _change(self, after: CoverageResult, touched: Sequence[str] = (), *, only_gains: bool = False
                ) -> pd.DataFrame:
        """Residents covered before and after, per layer and threshold.  Only the touched layers (and all layers
        together) can differ; with ``only_gains`` their residents after are those before plus the cells that came
        within each threshold (the cells whose distance fell), as counting every cell again gives."""
        b = self._base_summary
        covered = b["covered"].to_numpy(dtype=float).copy()
        row = {key: k for k, key in enumerate(b.index)}
        pop, base = self.base.population, self.base
        for layer in [*touched, *([ANY_LAYER] if touched and ANY_LAYER in after.thresholds else [])]:
            if layer in after.no_data_layers:
                continue
            d = after.distance[layer].to_numpy()
            if only_gains and layer not in base.no_data_layers:
                old = base.distance[layer].to_numpy()
                fell = np.flatnonzero(d < old)
                d_fell, old_fell, pop_fell = d[fell], old[fell], pop[fell]
                for th in after.thresholds[layer]:
                    k = row[(layer, th)]
                    covered[k] = covered[k] + float(pop_fell[(d_fell <= th) & (old_fell > th)].sum())
            else:
                for th in after.thresholds[layer]:
                    covered[row[(layer, th)]] = float(pop[d <= th].sum())
        total = float(pop.sum())
        out = pd.DataFrame({"covered_before": b["covered"].to_numpy(), "covered_after": covered,
                            "rate_before": b["rate"].to_numpy(),
                            "rate_after": covered / total if total else np.full(len(covered), np.nan)},
                           index=b.index)
        out["newly_covered"] = out["covered_after"] - out["covered_before"]
        return out.reset_index()
