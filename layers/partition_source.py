"""A store as the place partitions read their inputs (:class:`geo.partition.Source`): each call opens the store
(a GeoPackage path or a PostgreSQL URL with its schema) and reads by bbox, so a worker process needs only this
small, picklable description."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import geopandas as gpd

from geo.errors import AnalysisError
from layers.stores import open_store


@dataclass(frozen=True)
class StoreSource:
    """Partition inputs read from a store."""

    store: str
    schema: str | None = None

    def _read(self, name: str, bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame | None:
        with open_store(self.store, schema=self.schema) as store:
            if name not in {i.name for i in store.layers.list() if i.kind == "vector"}:
                return None
            return store.layers.read(name, bbox=bbox) if bbox is not None else store.layers.read(name)

    def vector(self, name: str, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame | None:
        """Features of ``name`` whose extent meets ``bbox`` (lon/lat), or ``None`` when not stored."""
        return self._read(name, bbox)

    def vector_batches(self, name: str, bbox: tuple[float, float, float, float],
                       columns: Sequence[str] | None = None) -> Iterator[gpd.GeoDataFrame]:
        """:meth:`vector` as one batch (a store reads a layer by bbox in one query); ``columns`` are all read."""
        frame = self._read(name, bbox)
        if frame is not None:
            yield frame

    def whole(self, name: str) -> gpd.GeoDataFrame | None:
        """Every feature of a small layer such as ``boundaries``, or ``None`` when not stored."""
        return self._read(name, None)

    def population(self) -> bytes:
        """The stored population GeoTIFF's bytes."""
        with open_store(self.store, schema=self.schema) as store:
            data = store.rasters.read("population")
        if data is None:
            raise AnalysisError("No population raster is stored; a partitioned run reads one.")
        return data
