"""The nearby finder: fitness resources within a walk of one place (the "health + fitness" link).

After a fitness test at a community health station, a doctor points the resident to the
places near home or near the station where they can exercise: venues, school facilities
open to the public, greenway entrances — open at the time the resident has, ranked by the
walk along the streets.  The walk is measured exactly as the coverage engine measures it
(same network, same snapping of the place and of every facility's access points), so the
finder and the coverage map never disagree about a distance.

Planners get the reverse view: health stations with no open fitness resource within a
walk (:meth:`NearbyFinder.stations_without_fitness`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from geo.coverage import CoverageEngine
from geo.crs import outside_china, to_wgs84_from, transformer
from geo.definitions import metres_for, minutes_for
from geo.errors import AnalysisError
from geo.facilities import TimeSlot
from geo.hours import format_opening_hours
from geo.notes import Note, note
from geo.routes import Route, foot, node_path

#: Layers a resident can exercise at (health stations are where they are sent from).
FITNESS_LAYERS: tuple[str, ...] = ("venues", "school_facilities", "greenways")
#: Attribute columns carried into the finder's table when the layer has them.
_DETAIL_COLUMNS = {
    "kind": ("venue_kind", "facility_kind"),
    "fee": ("fee",),
    "booking_required": ("booking_required",),
    "address": ("address",),
}
COORDINATE_SYSTEMS = ("wgs84", "gcj02", "bd09")


@dataclass(frozen=True)
class Origin:
    """Where the walk starts: metric ``x, y`` (the engine's CRS), WGS-84 ``lon, lat``, a label."""

    x: float
    y: float
    lon: float
    lat: float
    label: str
    feature_id: str | None = None
    place: str = ""


@dataclass(frozen=True)
class NearbyResult:
    """The ranked resources of one query and what was left out."""

    origin: Origin
    limit_m: float
    slot: TimeSlot | None
    table: pd.DataFrame
    n_closed: int
    notes: list[Note] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        """The walk limit in minutes (:func:`geo.definitions.minutes_for`)."""
        return minutes_for(self.limit_m)


def parse_coordinates(text: str) -> tuple[float, float]:
    """Read ``"104.065, 30.657"`` (longitude, latitude) as typed by a person.

    Commas (also ``，``), spaces or semicolons separate the two numbers; latitude first is
    accepted when it is unambiguous in China (the first number below 60, the second above).

    Raises
    ------
    AnalysisError
        When the text does not hold two numbers that are a longitude and a latitude.
    """
    parts = [p for p in re.split(r"[\s,，;；/]+", str(text).strip()) if p]
    try:
        a, b = (float(p) for p in parts)
    except ValueError:
        raise AnalysisError.coded("nearby.not_pair", text=str(text)) from None
    if abs(a) <= 60 < abs(b) <= 180:
        a, b = b, a
    if not (-180 <= a <= 180 and -90 <= b <= 90):
        raise AnalysisError.coded("nearby.out_of_range", text=str(text))
    return a, b


class NearbyFinder:
    """Fitness resources within a walk of any place, from a coverage engine.

    Parameters
    ----------
    engine : CoverageEngine
        Its facility set must hold the fitness layers (and ``health_stations`` for the
        station views).
    layers : mapping of layer name → GeoDataFrame, optional
        The stored layers, for the details shown with each resource (fee, booking, kind).

    Minutes and metres convert through the life circles (:mod:`geo.definitions`): a 15-minute walk
    is the 15-minute circle's 1,000 m, as on the coverage page.
    """

    def __init__(self, engine: CoverageEngine, layers: Mapping[str, gpd.GeoDataFrame] | None = None) -> None:
        self.engine = engine
        self.facilities = engine.facilities
        self.reach = engine.network_reach
        self._to_lonlat = transformer(self.facilities.crs, 4326)
        self._from_lonlat = transformer(4326, self.facilities.crs)
        self._columns = self._facility_columns(layers or {})
        if self.reach is not None:
            snap = self.reach.access_snap
            ok = snap.ok
            net = self.reach.network
            self._acc = np.flatnonzero(ok)
            self._acc_owner = self.reach.access.owner[ok]
            edge = snap.edge[ok]
            self._acc_u, self._acc_v = net.edge_u[edge], net.edge_v[edge]
            self._acc_edge = edge
            self._acc_to_u = snap.offset[ok] + snap.along[ok]
            self._acc_to_v = snap.offset[ok] + (net.edge_length[edge] - snap.along[ok])
            self._acc_offset, self._acc_along = snap.offset[ok], snap.along[ok]

    # ----- origins ----------------------------------------------------------------------
    def origin_at(self, lon: float, lat: float, *, system: str = "wgs84", label: str | None = None) -> Origin:
        """An origin from longitude/latitude in WGS-84 (or GCJ-02 / BD-09 as typed from a web map)."""
        key = system.lower().replace("-", "").replace("_", "")
        if key not in COORDINATE_SYSTEMS:
            raise AnalysisError(f"Coordinate system {system!r} is not one of {', '.join(COORDINATE_SYSTEMS)}.")
        if key != "wgs84":
            if outside_china(np.array([lon]), np.array([lat]))[0]:
                raise AnalysisError(f"{lon}, {lat} is outside China, where {system} coordinates do not exist.")
            lo, la = to_wgs84_from(key, np.array([lon]), np.array([lat]))
            lon, lat = float(lo[0]), float(la[0])
        x, y = self._from_lonlat.transform(lon, lat)
        return Origin(float(x), float(y), float(lon), float(lat), label or f"{lon:.5f}, {lat:.5f}")

    def origin_of_station(self, feature_id: str) -> Origin:
        """The origin at health station ``feature_id``."""
        t = self.facilities.table
        hit = np.flatnonzero((t["layer"] == "health_stations").to_numpy()
                             & (t["feature_id"] == str(feature_id)).to_numpy())
        if not len(hit):
            known = t.loc[t["layer"] == "health_stations", "feature_id"].head(10).tolist()
            raise AnalysisError(f"No health station {feature_id!r}; stations include {', '.join(known) or 'none'}.")
        i = int(hit[0])
        pt = shapely.point_on_surface(self.facilities.geometry[i])
        lon, lat = self._to_lonlat.transform(pt.x, pt.y)
        return Origin(float(pt.x), float(pt.y), float(lon), float(lat), str(t["name"].iloc[i] or feature_id),
                      feature_id=str(feature_id))

    # ----- distances --------------------------------------------------------------------
    def distances(self, origin: Origin, *, limit_m: float = np.inf) -> np.ndarray:
        """Walking distance (metres) from ``origin`` to every facility; ``inf`` beyond ``limit_m``.

        Along the network this is the coverage engine's distance for a resident standing at
        ``origin``: the walk to the nearest street, along it, and into the facility at its
        best access point (or straight along a shared street edge).  Without a network it
        is the straight-line distance to the facility (0 inside it).
        """
        n = len(self.facilities)
        if self.reach is None:
            d = shapely.distance(shapely.Point(origin.x, origin.y), self.facilities.geometry).astype(float)
            return np.where(d <= limit_m, d, np.inf)
        net = self.reach.network
        snap = self._snap(origin)
        out = np.full(n, np.inf)
        if not snap.ok[0]:
            return out
        e, along, offset = int(snap.edge[0]), float(snap.along[0]), float(snap.offset[0])
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        budget = max(limit_m - offset, 0.0)
        # The street graph holds both directions of every edge: a directed search is exact.
        dist = dijkstra(net.graph, directed=True, indices=[u, v], limit=budget)
        node_d = offset + np.minimum(dist[0] + along, dist[1] + (length - along))
        cand = np.minimum(node_d[self._acc_u] + self._acc_to_u, node_d[self._acc_v] + self._acc_to_v)
        same = self._acc_edge == e
        if same.any():
            direct = offset + self._acc_offset[same] + np.abs(along - self._acc_along[same])
            cand[same] = np.minimum(cand[same], direct)
        np.minimum.at(out, self._acc_owner, cand)
        out[~(out <= limit_m)] = np.inf
        return out

    def nearest_from_many(self, x: np.ndarray, y: np.ndarray, facilities: np.ndarray, *,
                          limit_m: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """For many places at once (metric ``x``, ``y``): the walk to the nearest of ``facilities`` (indices into
        the facility set) and which one (-1 beyond ``limit_m``), in one multi-source pass from their access
        points.  Place by place this equals :meth:`distances` (the same snapping and arithmetic, run from
        the other side of the undirected street graph).
        """
        x, y = np.asarray(x, float), np.asarray(y, float)
        facilities = np.asarray(facilities, dtype=np.int64)
        out, who = np.full(len(x), np.inf), np.full(len(x), -1, dtype=np.int64)
        if len(facilities) == 0 or len(x) == 0:
            return out, who
        if self.reach is None:
            geoms = self.facilities.geometry[facilities]
            d = shapely.distance(shapely.points(x, y)[:, None], geoms[None, :])
            k = np.argmin(d, axis=1)
            best = d[np.arange(len(x)), k]
            hit = best <= limit_m
            out[hit], who[hit] = best[hit], facilities[k[hit]]
            return out, who
        net = self.reach.network
        n = net.n_nodes
        sel = np.flatnonzero(np.isin(self._acc_owner, facilities))
        if len(sel) == 0:
            return out, who
        virt = n + np.arange(len(sel))  # one source node per access point, joined to its street's two ends
        rows = np.concatenate((virt, virt))
        cols = np.concatenate((self._acc_u[sel], self._acc_v[sel]))
        vals = np.concatenate((self._acc_to_u[sel], self._acc_to_v[sel]))
        m = n + len(sel)
        entry = sparse.csr_matrix((vals, (rows - n, cols)), shape=(len(sel), n))
        graph = sparse.bmat([[net.graph, None], [entry, None]], format="csr")
        graph.resize((m, m))
        node_d, _pred, source = dijkstra(graph, directed=True, indices=virt, min_only=True, limit=limit_m,
                                         return_predecessors=True)
        owner = np.full(m, -1, dtype=np.int64)
        owner[virt] = self._acc_owner[sel]
        node_owner = np.where(source >= 0, owner[np.maximum(source, 0)], -1)
        snap = net.snap(x, y, max_distance=self.reach.max_demand_snap_m)
        ok = np.flatnonzero(snap.ok)
        e = snap.edge[ok]
        u, v, length = net.edge_u[e], net.edge_v[e], net.edge_length[e]
        via_u = node_d[u] + snap.along[ok]
        via_v = node_d[v] + (length - snap.along[ok])
        best = snap.offset[ok] + np.minimum(via_u, via_v)
        by = np.where(via_u <= via_v, node_owner[u], node_owner[v])
        same: dict[int, list[int]] = {}
        for k in sel:  # access points on a place's own street: straight along it
            same.setdefault(int(self._acc_edge[k]), []).append(int(k))
        for i, j in enumerate(ok):
            for k in same.get(int(e[i]), ()):
                direct = snap.offset[j] + self._acc_offset[k] + abs(snap.along[j] - self._acc_along[k])
                if direct < best[i]:
                    best[i], by[i] = direct, self._acc_owner[k]
        hit = best <= limit_m
        out[ok[hit]], who[ok[hit]] = best[hit], by[hit]
        return out, who

    def route(self, origin: Origin, facility: int, *, m_per_min: float | None = None,
              limit_m: float = np.inf) -> Route | None:
        """The walk from ``origin`` to facility ``facility`` (index into the facility set) as drawn: to the
        street, along it and into the facility's best access point; ``None`` when it cannot be reached within
        ``limit_m`` (give the distance already known, and the search stops there).

        Its ``metres`` equal :meth:`distances` for that facility (the drawn line is as long);
        ``seconds`` are at ``m_per_min`` (default: the minutes of :func:`geo.definitions.minutes_for`).
        """

        def seconds(metres: float) -> float:
            return metres / float(m_per_min) * 60 if m_per_min else minutes_for(metres) * 60

        crs = self.facilities.crs
        if self.reach is None:
            start = shapely.Point(origin.x, origin.y)
            target = shapely.ops.nearest_points(start, self.facilities.geometry[facility])[1]
            d = float(np.hypot(target.x - origin.x, target.y - origin.y))
            return Route(crs, np.array([origin.x, target.x]), np.array([origin.y, target.y]), d, seconds(d))
        net = self.reach.network
        snap = self._snap(origin)
        if not snap.ok[0]:
            return None
        e, along, offset = int(snap.edge[0]), float(snap.along[0]), float(snap.offset[0])
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        dist, pred = dijkstra(net.graph, directed=True, indices=[u, v], return_predecessors=True, limit=limit_m)
        start_cost = (along, length - along)
        best = (np.inf, None)  # (metres, (start side, end node, access point) or ("direct", access point))
        for k in np.flatnonzero(self._acc_owner == facility):
            for side in (0, 1):
                for end, rest in ((self._acc_u[k], self._acc_to_u[k]), (self._acc_v[k], self._acc_to_v[k])):
                    d = offset + start_cost[side] + dist[side, end] + rest
                    if d < best[0]:
                        best = (d, (side, int(end), int(k)))
            if self._acc_edge[k] == e:
                d = offset + self._acc_offset[k] + abs(along - self._acc_along[k])
                if d < best[0]:
                    best = (d, ("direct", int(k)))
        metres, how = best
        if how is None or not np.isfinite(metres):
            return None
        x, y = net.node_x, net.node_y
        pts = [(origin.x, origin.y), foot(x, y, u, v, along, length)]
        k = how[-1]
        acc = self._acc[k]
        ae = int(self._acc_edge[k])
        a_u, a_v = int(net.edge_u[ae]), int(net.edge_v[ae])
        if how[0] != "direct":
            side, end, _k = how
            pts += [(x[i], y[i]) for i in node_path(pred[side], end, net.n_nodes)]
        pts += [foot(x, y, a_u, a_v, float(self._acc_along[k]), float(net.edge_length[ae])),
                (float(self.reach.access.x[acc]), float(self.reach.access.y[acc]))]
        xy = np.array(pts, dtype=float)
        return Route(crs, xy[:, 0], xy[:, 1], float(metres), seconds(float(metres)))

    def _snap(self, origin: Origin):
        return self.reach.network.snap(np.array([origin.x]), np.array([origin.y]),
                                       max_distance=self.reach.max_demand_snap_m)

    def on_network(self, origin: Origin) -> bool:
        """Whether ``origin`` is within the snapping bound of a walkable street (always, without a network)."""
        return self.reach is None or bool(self._snap(origin).ok[0])

    # ----- queries ----------------------------------------------------------------------
    def query(self, origin: Origin, *, minutes: float = 15.0, slot: TimeSlot | None = None,
              layers: Sequence[str] | None = None) -> NearbyResult:
        """Resources of ``layers`` within ``minutes`` of walking, open at ``slot``, nearest first.

        ``layers`` defaults to the :data:`FITNESS_LAYERS` the analysis holds.

        Facilities the public may not use, and (given ``slot``) those closed then, are
        left out; how many closed ones were within reach is reported.
        """
        if not np.isfinite(minutes) or minutes <= 0:
            raise AnalysisError(f"The walk must be a positive number of minutes, not {minutes}.")
        unknown = [k for k in (layers or ()) if k not in self.facilities.layers]
        if unknown:
            raise AnalysisError(f"Layer(s) {', '.join(unknown)} are not in this analysis; it has "
                                f"{', '.join(self.facilities.layers)}.")
        limit = metres_for(minutes)
        d = self.distances(origin, limit_m=limit)
        layers = self._fitness_layers() if layers is None else layers
        t = self.facilities.table
        in_layers = t["layer"].isin(list(layers)).to_numpy()
        usable = t["usable"].to_numpy(dtype=bool)
        open_now = self.facilities.open_mask(slot)
        near = in_layers & np.isfinite(d)
        n_closed = int((near & usable & ~open_now).sum())
        keep = np.flatnonzero(near & open_now)
        notes = []
        if self.reach is None:
            notes.append(note("nearby.straight_line"))
        elif not self.on_network(origin):
            notes.append(note("nearby.off_street", origin=origin.label, snap=self.reach.max_demand_snap_m))
        if n_closed:
            notes.append(note("nearby.closed_at", n=n_closed, slot=slot) if slot
                         else note("nearby.closed", n=n_closed))
        table = self._table(keep, d[keep], slot)
        return NearbyResult(origin, limit, slot, table, n_closed, notes)

    def _fitness_layers(self) -> list[str]:
        return [k for k in FITNESS_LAYERS if k in self.facilities.layers]

    def stations_without_fitness(self, *, minutes: float = 10.0, slot: TimeSlot | None = None,
                                 layers: Sequence[str] | None = None) -> pd.DataFrame:
        """Health stations from which no open fitness resource lies within ``minutes``' walk.

        Returns one row per such station: ``feature_id``, ``name``, ``lon``, ``lat`` and
        ``nearest_m`` (the walk to the nearest open resource; ``inf`` beyond four times
        the walk asked about).
        """
        t = self.facilities.table
        stations = np.flatnonzero((t["layer"] == "health_stations").to_numpy())
        layers = self._fitness_layers() if layers is None else layers
        in_layers = t["layer"].isin(list(layers)).to_numpy() & self.facilities.open_mask(slot)
        rows = []
        for i in stations:
            origin = self.origin_of_station(t["feature_id"].iloc[i])
            d = self.distances(origin, limit_m=4 * metres_for(minutes))[in_layers]
            nearest = float(d.min()) if len(d) else np.inf
            if not nearest <= metres_for(minutes):
                rows.append({"feature_id": t["feature_id"].iloc[i], "name": t["name"].iloc[i],
                             "lon": origin.lon, "lat": origin.lat, "nearest_m": nearest,
                             "nearest_min": minutes_for(nearest) if np.isfinite(nearest) else np.inf})
        return pd.DataFrame(rows, columns=["feature_id", "name", "lon", "lat", "nearest_m", "nearest_min"])

    # ----- the table --------------------------------------------------------------------
    def _facility_columns(self, layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, np.ndarray]:
        """Per facility (in the facility set's order): what the table shows, computed once."""
        t = self.facilities.table
        n = len(t)
        pts = shapely.point_on_surface(self.facilities.geometry) if n else np.zeros(0, dtype=object)
        lon, lat = self._to_lonlat.transform(shapely.get_x(pts), shapely.get_y(pts)) if n else ([], [])
        cols: dict[str, np.ndarray] = {
            "layer": t["layer"].to_numpy(), "feature_id": t["feature_id"].to_numpy(), "name": t["name"].to_numpy(),
            "opening_hours": np.array([format_opening_hours(h) if h is not None else None
                                       for h in self.facilities.hours],
                                      dtype=object),
            "lon": np.asarray(lon, dtype=float), "lat": np.asarray(lat, dtype=float)}
        key = pd.MultiIndex.from_arrays([t["layer"].to_numpy(), t["feature_id"].astype(str).to_numpy()])
        for out in _DETAIL_COLUMNS:
            cols[out] = np.full(n, None, dtype=object)
        for name, frame in layers.items():
            at = pd.MultiIndex.from_arrays([np.full(len(frame), name), frame["feature_id"].astype(str).to_numpy()])
            pos = key.get_indexer(at)
            hit = pos >= 0
            for out, candidates in _DETAIL_COLUMNS.items():
                src = next((c for c in candidates if c in frame.columns), None)
                if src is not None:
                    values = frame[src].astype(object).to_numpy()
                    cols[out][pos[hit]] = [None if pd.isna(v) else v for v in values[hit]]
        return cols

    def _table(self, idx: np.ndarray, dist: np.ndarray, slot: TimeSlot | None) -> pd.DataFrame:
        order = np.lexsort((self._columns["feature_id"][idx], self._columns["layer"][idx], dist))
        idx, dist = idx[order], dist[order]
        c = self._columns
        return pd.DataFrame({
            "rank": np.arange(1, len(idx) + 1), "layer": c["layer"][idx], "feature_id": c["feature_id"][idx],
            "name": c["name"][idx], "distance_m": dist, "walk_min": np.array([minutes_for(v) for v in dist]),
            "opening_hours": c["opening_hours"][idx], "lon": c["lon"][idx], "lat": c["lat"][idx],
            **{k: c[k][idx] for k in _DETAIL_COLUMNS}})


__all__ = ["NearbyFinder", "NearbyResult", "Origin", "FITNESS_LAYERS", "parse_coordinates"]
