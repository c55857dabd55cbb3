"""The embedded store: one GeoPackage file that also opens in QGIS.

The file holds the layers (``<layer>`` and ``<layer>__archive``), the version log
``onemap_layer_versions``, rasters in ``onemap_rasters``, the audit trail, record tables,
scenarios and accounts; see :mod:`layers.stores.geopackage.file` for how it is written.
"""

from __future__ import annotations

import os

import pandas as pd

from layers.stores.base import Store
from layers.stores.geopackage.accounts import GpkgAccounts
from layers.stores.geopackage.audit import GpkgAudit
from layers.stores.geopackage.bookings import GpkgBookings
from layers.stores.geopackage.field_reports import GpkgFieldReports
from layers.stores.geopackage.file import GpkgFile
from layers.stores.geopackage.layers import GpkgLayers
from layers.stores.geopackage.rasters import GpkgRasters
from layers.stores.geopackage.records import GpkgRecords
from layers.stores.geopackage.scenarios import GpkgScenarios


class GeoPackageStore(Store):
    """A :class:`~layers.stores.base.Store` in one GeoPackage file.

    Parameters
    ----------
    path : str or Path
        The ``.gpkg`` file.
    create : bool
        Create an empty store when the file does not exist (otherwise that is an error).
    lock_timeout : float
        Seconds to wait for another writer before giving up with :class:`~layers.errors.StoreLockedError`.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False, lock_timeout: float = 10.0) -> None:
        self.file = GpkgFile(path, create=create, lock_timeout=lock_timeout)
        self.path = self.file.path
        self.lock_timeout = lock_timeout
        self.description = f"GeoPackage {self.path}"
        self.layers = GpkgLayers(self)
        self.rasters = GpkgRasters(self)
        self.audit = GpkgAudit(self)
        self.records = GpkgRecords(self)
        self.scenarios = GpkgScenarios(self)
        self.accounts = GpkgAccounts(self)
        self.bookings = GpkgBookings(self)
        self.field_reports = GpkgFieldReports(self)

    def history(self, name: str) -> pd.DataFrame:
        """The version log of ``name`` (vector, raster and records), oldest first."""
        return self.file.history(name)

    def last_versions(self) -> dict[tuple[str, str], dict]:
        """(kind, name) → the latest version-log row."""
        return self.file.last_versions()


__all__ = ["GeoPackageStore"]
