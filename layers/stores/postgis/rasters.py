"""``store.rasters`` in PostGIS: GeoTIFF bytes in ``onemap_rasters``, one row per version."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError

from layers.rasters import check_geotiff
from layers.stores.postgis.schema import RASTERS_TABLE
from layers.stores.raster_table import Rasters

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore


class PgRasters(Rasters):
    """Raster layers in the store's PostGIS schema."""

    _store: "PostGISStore"

    def read(self, name: str, *, version: int | None = None) -> bytes:
        """The GeoTIFF bytes of raster layer ``name``."""
        r = self._store.db.table(RASTERS_TABLE)
        stmt = select(r.c.content).where(r.c.name == name)
        if version is not None:
            stmt = stmt.where(r.c.layer_version <= int(version))
        stmt = stmt.order_by(r.c.layer_version.desc()).limit(1)
        with self._store.db.engine.connect() as conn:
            content = conn.execute(stmt).scalar()
            if content is None:
                stored = list(conn.execute(select(r.c.name).distinct()).scalars())
                raise self._unknown(name, stored)
        return bytes(content)

    def write(self, name: str, content: bytes, *, user: str = "system", source: str = "unknown") -> int:
        """Store a GeoTIFF as raster layer ``name``; returns the new layer version."""
        check_geotiff(content, name=name, source=source)
        db = self._store.db
        try:
            with db.engine.begin() as conn:
                db.as_user(conn, user)
                version = db.begin_write(conn, "raster", name, action="replace", source=source)
                conn.execute(insert(db.table(RASTERS_TABLE)).values(name=name, layer_version=version,
                                                                    content=content))
                db.end_write(conn, "raster", name, 1)
        except (DBAPIError, psycopg.Error) as exc:
            raise db.refusal(exc, f"the raster {name!r}") from None
        return version


__all__ = ["PgRasters"]
