"""``store.rasters``: raster layers (the population grid) kept as GeoTIFF bytes, one row per version."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

from layers.catalogue import RASTER_LAYERS
from layers.errors import UnknownLayerError

if TYPE_CHECKING:
    from layers.stores.base import Store


class Rasters(abc.ABC):
    """The raster layers of one store."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    @abc.abstractmethod
    def write(self, name: str, content: bytes, *, user: str = "system", source: str = "unknown") -> int:
        """Store a GeoTIFF as raster layer ``name``; returns its new layer version."""

    @abc.abstractmethod
    def read(self, name: str, *, version: int | None = None) -> bytes:
        """The GeoTIFF bytes of raster layer ``name`` (latest, or as it was at ``version``)."""

    @staticmethod
    def _unknown(name: str, stored: list[str]) -> UnknownLayerError:
        if name not in RASTER_LAYERS:
            return UnknownLayerError(name, sorted(RASTER_LAYERS))
        return UnknownLayerError(name, stored, stored=True)


__all__ = ["Rasters"]
