"""Opening the configured store: PostGIS when DATABASE_URL is set, else the GeoPackage."""

from __future__ import annotations

import os
from pathlib import Path

from config.settings import settings
from layers.stores.base import Store

#: The project's folder (where ``data/`` lives).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_gpkg_path() -> Path:
    """The embedded store's file: ``ONEMAP_GPKG`` or ``data/demo_city.gpkg``."""
    return Path(settings().gpkg or PROJECT_ROOT / "data" / "demo_city.gpkg")


def open_store(target: str | os.PathLike[str] | None = None, *, create: bool = False,
               schema: str | None = None) -> Store:
    """Open a store.

    Parameters
    ----------
    target : str or path, optional
        A ``postgresql://`` URL, or a GeoPackage path. Default: ``DATABASE_URL`` when set,
        else :func:`default_gpkg_path`.
    create : bool
        Create an empty GeoPackage when the file does not exist.
    schema : str, optional
        PostgreSQL schema (default ``ONEMAP_PG_SCHEMA`` or ``onemap``).

    Raises
    ------
    StoreUnavailableError, SchemaError, StoreLockedError
        With a message saying what to do.
    """
    if target is None:
        target = settings().database or default_gpkg_path()
    text = str(target)
    if text.startswith(("postgres://", "postgresql://", "postgresql+")):
        from layers.stores.postgis import PostGISStore

        return PostGISStore(text, schema=schema)
    from layers.stores.geopackage import GeoPackageStore

    return GeoPackageStore(text, create=create)
