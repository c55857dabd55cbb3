"""Coverage: who lives within a 5/10/15-minute walk of a place to exercise, and who does not.

:class:`CoverageEngine` prepares one demand set, one facility set and (optionally) one
walking network — snapping everything once — and then answers coverage questions for
any threshold set and time slot in a few multi-source Dijkstra runs.
:func:`analyse_coverage` is the one-call form.

Results are per demand cell (distance to the nearest facility of each layer, covered
flags per threshold) with summaries; :mod:`geo.units` aggregates them per district,
street and community and :mod:`geo.gaps` draws the uncovered areas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from geo.definitions import minutes_for
from geo.demand import Demand
from geo.errors import AnalysisError, NetworkError
from geo.facilities import LIFE_CIRCLES_M, FacilitySet, TimeSlot
from geo.network import DEFAULT_MAX_SNAP_M, WalkNetwork
from geo.notes import Note, ProgressFn, note, report
from geo.reach import Nearest, NetworkReach, StraightLineReach

Method = Literal["network", "straight_line"]
#: Name of the combined layer: covered by a facility of any analysed layer.
ANY_LAYER = "any"


@dataclass
class CoverageResult:
    """Coverage of one demand set by each facility layer.

    Attributes
    ----------
    distance : DataFrame
        One column per layer (and :data:`ANY_LAYER`): metres to the nearest usable
        facility, ``inf`` beyond :attr:`cutoff` or where none can be reached.
    nearest_index : DataFrame
        One column per layer: index (in ``facility_ids``) of the nearest facility, -1 where none.
    facility_ids : ndarray
        ``feature_id`` of every facility of the analysis.
    population : ndarray
        Residents per demand cell.
    thresholds : dict
        Layer → thresholds (metres).
    method : dict
        Layer → ``"network"`` or ``"straight_line"``.
    notes : list of Note
        Everything assumed, left out or estimated; shown with every figure.
    """

    distance: pd.DataFrame
    nearest_index: pd.DataFrame
    facility_ids: np.ndarray
    population: np.ndarray
    thresholds: dict[str, tuple[float, ...]]
    method: dict[str, str]
    demand: Demand
    slot: TimeSlot | None
    cutoff: float
    no_data_layers: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def layers(self) -> list[str]:
        """Analysed layers (with :data:`ANY_LAYER` last when there are several)."""
        return list(self.thresholds)

    def covered(self, layer: str, threshold: float) -> np.ndarray:
        """Boolean per demand cell: within ``threshold`` metres of a ``layer`` facility."""
        if layer not in self.distance.columns:
            raise AnalysisError(f"No layer {layer!r} in this result; it has {', '.join(self.layers)}.")
        if threshold > self.cutoff:
            raise AnalysisError(f"Threshold {threshold:g} m is beyond the analysis cutoff "
                                f"{self.cutoff:g} m; run again with a larger cutoff.")
        return (self.distance[layer] <= threshold).to_numpy()

    def nearest_ids(self, layer: str) -> np.ndarray:
        """``feature_id`` of each cell's nearest ``layer`` facility (``None`` where none is in
        reach; ``new-k`` for the k-th site added in a what-if)."""
        idx = self.nearest_index[layer].to_numpy()
        out = np.where(idx >= 0, self.facility_ids[np.maximum(idx, 0)], None)
        new = idx <= -2
        out[new] = [f"new-{-i - 1}" for i in idx[new]]
        return out

    def cells(self) -> pd.DataFrame:
        """Per demand cell: population, distance and nearest facility per layer, and
        ``covered_<layer>_<threshold>`` flags."""
        out = pd.DataFrame({"x": self.demand.x, "y": self.demand.y, "row": self.demand.row,
                            "col": self.demand.col, "population": self.population})
        for layer, ths in self.thresholds.items():
            out[f"distance_{layer}"] = self.distance[layer].to_numpy()
            if layer in self.nearest_index.columns:
                out[f"nearest_{layer}"] = self.nearest_ids(layer)
            for th in ths:
                out[f"covered_{layer}_{th:g}"] = self.covered(layer, th)
        return out

    def summary(self, layers: Sequence[str] | None = None) -> pd.DataFrame:
        """Residents covered and not, per layer (all, or ``layers``) and threshold.

        ``rate`` is ``NaN`` (status ``no data``) for a layer with no usable facility, so
        a missing layer is never read as 0 % coverage.
        """
        total = float(self.population.sum())
        rows = []
        for layer, ths in self.thresholds.items():
            if layers is not None and layer not in layers:
                continue
            for th in ths:
                cov = float(self.population[self.covered(layer, th)].sum())
                no_data = layer in self.no_data_layers
                rows.append({
                    "layer": layer, "threshold_m": th,
                    "minutes": minutes_for(th), "method": self.method[layer],
                    "residents": total, "covered": np.nan if no_data else cov,
                    "uncovered": np.nan if no_data else total - cov,
                    "rate": np.nan if no_data or total == 0 else cov / total,
                    "status": "no data" if no_data else ("estimate" if self.demand.is_estimate else "ok"),
                })
        return pd.DataFrame(rows)


def display_name(name: object, feature_id: object) -> str:
    """A facility's name, or its id when it has none (a missing name is None, NaN or blank, never 'nan')."""
    if name is None or (isinstance(name, float) and np.isnan(name)) or not str(name).strip():
        return str(feature_id)
    return str(name)


class CoverageEngine:
    """Demand, facilities and network prepared once for many coverage questions.

    Parameters
    ----------
    demand : Demand
    facilities : FacilitySet
        In the same metric CRS as ``demand``.
    network : WalkNetwork, optional
        Without it, distances are straight-line (and every result says so).
    method : ``"network"`` or ``"straight_line"``
    max_snap_m, max_demand_snap_m : float
        Bounds on the walk from a facility / a demand cell to the nearest walkable street.

    Raises
    ------
    NetworkError
        When the network reaches no demand cell at all (far from the population, or a
        different place or CRS).
    """

    def __init__(self, demand: Demand, facilities: FacilitySet, *, network: WalkNetwork | None = None,
                 method: Method = "network", max_snap_m: float = DEFAULT_MAX_SNAP_M,
                 max_demand_snap_m: float = DEFAULT_MAX_SNAP_M, progress: ProgressFn | None = None) -> None:
        if method not in ("network", "straight_line"):
            raise AnalysisError(f"method must be 'network' or 'straight_line', not {method!r}.")
        if len(demand) == 0:
            raise AnalysisError("The demand has no populated cell.")
        if not demand.crs.equals(facilities.crs):
            raise AnalysisError(f"Demand is in {demand.crs.to_string()} but facilities in "
                                f"{facilities.crs.to_string()}; build both in one metric CRS.")
        self.demand = demand
        self.facilities = facilities
        self.notes: list[Note] = list(demand.notes) + list(facilities.notes)
        if demand.is_estimate:
            self.notes.append(note("coverage.estimate", source=demand.label))
        self.method: Method = method
        self.network_reach: NetworkReach | None = None
        if method == "network" and network is None:
            self.method = "straight_line"
            self.notes.append(note("coverage.no_network"))
        elif method == "network":
            if not network.crs.equals(demand.crs):
                raise AnalysisError(f"The network is in {network.crs.to_string()} but the demand in "
                                    f"{demand.crs.to_string()}; build both in one metric CRS.")
            report(progress, 0.0, "progress.snap", places=len(demand) + len(facilities.access.x))
            self._prepare_network(network, max_snap_m, max_demand_snap_m)
        report(progress, 1.0, "progress.snapped", places=len(demand) + len(facilities.access.x))
        self.straight_reach = StraightLineReach(facilities.geometry, demand.x, demand.y) \
            if self.method == "straight_line" else None

    def _prepare_network(self, network: WalkNetwork, max_snap_m: float, max_demand_snap_m: float) -> None:
        reach = NetworkReach(network, self.facilities.access, self.demand.x, self.demand.y,
                             max_snap_m=max_snap_m, max_demand_snap_m=max_demand_snap_m)
        pop = self.demand.population
        off = ~reach.demand_snap.ok
        if off.all():
            gap = float(np.min(np.hypot(
                network.node_x.mean() - self.demand.x, network.node_y.mean() - self.demand.y)))
            raise NetworkError(
                f"The walking network reaches no resident: every populated cell is more than "
                f"{max_demand_snap_m:g} m from a walkable street (the network's centre is "
                f"{gap / 1000:.1f} km from the nearest cell). Are the network and the population "
                "of the same place, in the right coordinate systems?")
        if off.any():
            self.notes.append(note("coverage.off_street_residents", residents=float(pop[off].sum()),
                                   share=float(pop[off].sum() / pop.sum()), snap=max_demand_snap_m))
        far = reach.off_network_facilities
        if len(far):
            t = self.facilities.table.iloc[far]
            self.notes.append(note("coverage.off_network_facilities", n=len(far), snap=max_snap_m,
                                   names=[display_name(r.name, r.feature_id) for r in t.itertuples()]))
        self.network_reach = reach

    @property
    def reach(self) -> NetworkReach | StraightLineReach:
        """The distance engine in use."""
        return self.network_reach if self.network_reach is not None else self.straight_reach

    def run(self, thresholds: Mapping[str, Sequence[float]] | Sequence[float] | None = None, *,
            slot: TimeSlot | None = None, cutoff: float | None = None,
            layers: Sequence[str] | None = None, open_mask: np.ndarray | None = None,
            added: Mapping[str, Nearest] | None = None, progress: ProgressFn | None = None) -> CoverageResult:
        """Coverage for each layer at its thresholds, counting facilities open at ``slot``.

        Parameters
        ----------
        thresholds : mapping or sequence, optional
            Per layer, or one list for all; default the GB 50180 life circles 300/500/1000 m.
        slot : TimeSlot, optional
            Count only facilities open then (no slot: every facility the public may use).
        cutoff : float, optional
            Distances are computed up to this (default the largest threshold).
        layers : sequence of str, optional
            Layers to analyse (default all in the facility set).
        open_mask : ndarray of bool, optional
            Which facilities count, instead of those open at ``slot`` (what-if changes).
        added : mapping of layer → Nearest, optional
            Distances to sites that are not in the facility set (what-if additions); their
            nearest-facility index is ``-2 - k`` for the k-th added site.
        progress : callable, optional
            Hears each layer's walking distances as they are done.
        """
        layers = list(layers) if layers is not None else self.facilities.layers
        ths = self._thresholds(thresholds, layers)
        top = max(max(v) for v in ths.values())
        cutoff = top if cutoff is None else float(cutoff)
        if cutoff < top:
            raise AnalysisError(f"cutoff {cutoff:g} m is below the largest threshold {top:g} m.")
        open_now = self.facilities.open_mask(slot) if open_mask is None else np.asarray(open_mask, dtype=bool)
        table = self.facilities.table
        dist, near, method, no_data = {}, {}, {}, []
        notes = list(self.notes)
        for k, layer in enumerate(layers):
            report(progress, k / len(layers), "progress.distances", layer=layer, k=k + 1, n=len(layers))
            in_layer = self.facilities.layer_mask(layer)
            active = in_layer & open_now
            if not in_layer.any():
                no_data.append(layer)
                notes.append(note("coverage.layer_empty", layer=layer))
            elif not active.any():
                notes.append(note("coverage.layer_closed", layer=layer) if slot is None
                             else note("coverage.layer_closed_at", layer=layer, slot=slot))
            got = self.reach.nearest(active, cutoff=cutoff)
            dist[layer], near[layer] = got.distance, got.facility
            if added and layer in added:
                extra = added[layer]
                better = extra.distance < got.distance
                dist[layer] = np.where(better, extra.distance, got.distance)
                near[layer] = np.where(better, -2 - np.maximum(extra.facility, 0), got.facility)
                if layer in no_data and np.isfinite(extra.distance).any():
                    no_data.remove(layer)
            method[layer] = self.method
        report(progress, 1.0, "progress.done")
        if len(layers) > 1:
            dist[ANY_LAYER] = np.min(np.column_stack([dist[k] for k in layers]), axis=1)
            ths[ANY_LAYER] = tuple(sorted({t for k in layers for t in ths[k]}))
            method[ANY_LAYER] = self.method
            if len(no_data) == len(layers):
                no_data.append(ANY_LAYER)
        if slot is not None:
            notes.append(note("coverage.slot_unknown_open" if self.facilities.unknown_hours_open
                              else "coverage.slot_unknown_closed", slot=slot))
        return CoverageResult(distance=pd.DataFrame(dist), nearest_index=pd.DataFrame(near),
                              facility_ids=table["feature_id"].to_numpy(),
                              population=self.demand.population, thresholds=ths, method=method,
                              demand=self.demand, slot=slot, cutoff=cutoff, no_data_layers=no_data, notes=notes)

    @staticmethod
    def _thresholds(thresholds: Mapping[str, Sequence[float]] | Sequence[float] | None,
                    layers: Sequence[str]) -> dict[str, tuple[float, ...]]:
        if thresholds is None:
            thresholds = tuple(LIFE_CIRCLES_M.values())
        if isinstance(thresholds, Mapping):
            missing = [k for k in layers if k not in thresholds]
            if missing:
                raise AnalysisError(f"No thresholds for layer(s) {', '.join(missing)}.")
            out = {k: tuple(float(t) for t in thresholds[k]) for k in layers}
        else:
            out = {k: tuple(float(t) for t in thresholds) for k in layers}
        for k, v in out.items():
            if not v or any(not np.isfinite(t) or t <= 0 for t in v):
                raise AnalysisError(f"Thresholds for {k} must be positive distances in metres, not {v}.")
        return out


def analyse_coverage(demand: Demand, facilities: FacilitySet, *, network: WalkNetwork | None = None,
                     method: Method = "network",
                     thresholds: Mapping[str, Sequence[float]] | Sequence[float] | None = None,
                     slot: TimeSlot | None = None, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                     max_demand_snap_m: float = DEFAULT_MAX_SNAP_M, cutoff: float | None = None) -> CoverageResult:
    """Coverage of ``demand`` by each layer of ``facilities`` (one call).

    See :class:`CoverageEngine` and :meth:`CoverageEngine.run` for the parameters; build
    an engine yourself to ask about several time slots without snapping again.
    """
    engine = CoverageEngine(demand, facilities, network=network, method=method, max_snap_m=max_snap_m,
                            max_demand_snap_m=max_demand_snap_m)
    return engine.run(thresholds, slot=slot, cutoff=cutoff)
