"""The stored layers at one moment: each layer pinned to one of its versions.

An analysis that must be reproducible (an indicator, a trend, a report) reads its layers
through a :class:`Snapshot`, which names the exact layer versions it used; the same
snapshot read again gives the same features, whatever was written since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import geopandas as gpd
import pandas as pd

from geo.errors import OneMapError
from layers.stores.base import Store


@dataclass(frozen=True)
class Snapshot:
    """Layer versions of one store: ``versions[(name, kind)]`` with kind ``vector``/``raster``."""

    store: Store
    versions: dict[tuple[str, str], int]
    label: str = "now"
    when: pd.Timestamp | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def vector(self, name: str) -> gpd.GeoDataFrame | None:
        """Vector layer ``name`` at its pinned version; ``None`` when it did not exist then."""
        v = self.versions.get((name, "vector"))
        if v is None:
            return None
        key = ("vector", name, v)
        if key not in self._cache:
            self._cache[key] = self.store.layers.read(name, version=v)
        return self._cache[key].copy()

    def raster(self, name: str) -> bytes | None:
        """Raster layer ``name`` (GeoTIFF bytes) at its pinned version, or ``None``."""
        v = self.versions.get((name, "raster"))
        return None if v is None else self.store.rasters.read(name, version=v)

    def describe(self) -> str:
        """``venues v3, school_facilities v2, …``: what this snapshot read."""
        return ", ".join(f"{n}{' (raster)' if k == 'raster' else ''} v{v}"
                         for (n, k), v in sorted(self.versions.items()))


def current_snapshot(store: Store) -> Snapshot:
    """Every stored layer at its latest version."""
    return Snapshot(store, {(i.name, i.kind): i.layer_version for i in store.layers.list()})


def snapshot_as_of(store: Store, when: datetime | str, *, label: str | None = None) -> Snapshot:
    """Every layer as it stood at ``when``: its last version written at or before then.

    Layers first written after ``when`` are absent from the snapshot.

    Raises
    ------
    OneMapError
        When ``when`` is not a date or time.
    """
    try:
        moment = pd.Timestamp(when)
    except (ValueError, TypeError):
        raise OneMapError(f"{when!r} is not a date; write e.g. 2026-09-30 or 2026-09-30T18:00.") from None
    if pd.isna(moment):
        raise OneMapError(f"{when!r} is not a date; write e.g. 2026-09-30 or 2026-09-30T18:00.")
    moment = moment.tz_localize(timezone.utc) if moment.tzinfo is None else moment.tz_convert(timezone.utc)
    versions: dict[tuple[str, str], int] = {}
    for info in store.layers.list():
        log = store.history(info.name)
        log = log[(log["kind"] == info.kind) & (log["changed_at"] <= moment)]
        if len(log):
            versions[(info.name, info.kind)] = int(log["layer_version"].max())
    return Snapshot(store, versions, label=label or moment.strftime("%Y-%m-%d"), when=moment)


def change_snapshots(store: Store, layers: tuple[str, ...], *,
                     required: tuple[str, ...] = ("boundaries", "walk_network", "population")) -> list[Snapshot]:
    """One snapshot after every write of ``layers``, from when all ``required`` layers exist.

    Each is labelled with the moment, the layer written and its version, e.g.
    ``2026-10-08 09:14 school_facilities v2``.
    """
    logs = {name: store.history(name) for name in set(layers) | set(required)}
    firsts = [log["changed_at"].min() for name, log in logs.items() if name in required]
    if any(pd.isna(f) for f in firsts) or not firsts:
        return []
    start = max(firsts)
    moments: dict[pd.Timestamp, str] = {}
    for name in layers:
        log = logs[name]
        for row in log.itertuples():
            when = max(row.changed_at, start)
            moments[when] = (moments.get(when, "") + f" {name} v{row.layer_version}").strip()
    return [snapshot_as_of(store, when, label=f"{when:%Y-%m-%d %H:%M:%S} {what}")
            for when, what in sorted(moments.items())]


def quarter_ends(start: datetime | str, end: datetime | str) -> list[pd.Timestamp]:
    """The last moment of every calendar quarter from ``start``'s to ``end``'s (UTC); ``end`` itself for the
    quarter it falls in (a trend shows no point dated after the moment it was drawn)."""
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    a = a.tz_localize("UTC") if a.tzinfo is None else a.tz_convert("UTC")
    b = b.tz_localize("UTC") if b.tzinfo is None else b.tz_convert("UTC")
    periods = pd.period_range(a.tz_localize(None).to_period("Q"), b.tz_localize(None).to_period("Q"), freq="Q")
    return [min(p.end_time.tz_localize("UTC").floor("s"), b.floor("s")) for p in periods]


__all__ = ["Snapshot", "current_snapshot", "snapshot_as_of", "change_snapshots", "quarter_ends"]
