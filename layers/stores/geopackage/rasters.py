"""``store.rasters`` in a GeoPackage: GeoTIFF bytes in ``onemap_rasters``, one row per version."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import TYPE_CHECKING

from layers.rasters import check_geotiff
from layers.stores.geopackage.file import RASTERS
from layers.stores.layer_tables import utc_now
from layers.stores.raster_table import Rasters

if TYPE_CHECKING:
    from layers.stores.geopackage import GeoPackageStore


class GpkgRasters(Rasters):
    """Raster layers in the GeoPackage file."""

    _store: "GeoPackageStore"

    def read(self, name: str, *, version: int | None = None) -> bytes:
        """The GeoTIFF bytes of raster layer ``name``."""
        with contextlib.closing(self._store.file.connect_ro()) as con:
            if version is None:
                row = con.execute(f"SELECT content FROM {RASTERS} WHERE name = ? "
                                  "ORDER BY layer_version DESC LIMIT 1", (name,)).fetchone()
            else:
                row = con.execute(f"SELECT content FROM {RASTERS} WHERE name = ? AND layer_version <= ? "
                                  "ORDER BY layer_version DESC LIMIT 1", (name, int(version))).fetchone()
            if row is None:
                stored = [r[0] for r in con.execute(f"SELECT DISTINCT name FROM {RASTERS}")]
                raise self._unknown(name, stored)
        return bytes(row[0])

    def write(self, name: str, content: bytes, *, user: str = "system", source: str = "unknown") -> int:
        """Store a GeoTIFF as raster layer ``name``; returns the new layer version."""
        check_geotiff(content, name=name, source=source)
        now = utc_now()
        file = self._store.file
        with file.in_place(join_writers=True) as con:
            version = file.next_version(con, "raster", name)
            con.execute(f"INSERT INTO {RASTERS} VALUES (?, ?, ?)", (name, version, sqlite3.Binary(content)))
            file.log_version(con, "raster", name, version, "replace", user, now.isoformat(), source, 1, 1)
        return version


__all__ = ["GpkgRasters"]
