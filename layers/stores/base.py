"""The store: one object per GeoPackage file or PostGIS schema, made of parts by concern.

A store keeps, per catalogue layer, the current features and every earlier state of each
feature (an archive with the layer version that superseded it), a log of versions (who
wrote what, when, from which source), raster layers as GeoTIFF bytes, the audit trail,
record tables, saved planning scenarios and the accounts that sign in.  Each concern is
one part with a small public interface, all sharing the backend's connection:

- ``store.layers``     list, read, write, edit, delete, restore features and layers
- ``store.rasters``    read and write raster layers
- ``store.audit``      who changed which feature, when, from what to what
- ``store.records``    record tables (venue usage, surveys)
- ``store.scenarios``  saved planning scenarios
- ``store.accounts``   accounts and the sign-in counters
- ``store.bookings``   booking slots, bookings, their encrypted contacts, the outbox, partner keys
- ``store.field_reports`` problems reported on the ground, their photos and the steps of their handling
- ``store.history(name)`` the version log of a layer, raster or record table

Writes are all-or-nothing: a failed or refused write leaves what was stored as it was.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import pandas as pd

from layers.errors import ValidationReport

if TYPE_CHECKING:
    from layers.stores.account_table import AccountTable
    from layers.stores.audit import AuditTrail
    from layers.stores.booking_table import BookingTable
    from layers.stores.field_report_table import FieldReportTable
    from layers.stores.layer_tables import LayerTables
    from layers.stores.raster_table import Rasters
    from layers.stores.record_tables import RecordTables
    from layers.stores.scenarios import Scenarios

#: Columns of :meth:`Store.history`.
HISTORY_COLUMNS = ["kind", "layer", "layer_version", "action", "changed_by", "changed_at",
                   "source", "n_written", "n_total"]


@dataclass(frozen=True)
class LayerInfo:
    """A stored layer as listed by :meth:`LayerTables.list`."""

    name: str
    kind: Literal["vector", "raster"]
    label_zh: str
    label_en: str
    n_features: int | None
    layer_version: int
    changed_at: datetime | None
    changed_by: str | None


@dataclass(frozen=True)
class WriteResult:
    """What a write did."""

    layer: str
    layer_version: int
    mode: str
    n_written: int
    n_total: int
    report: ValidationReport


class Store(abc.ABC):
    """A place that keeps the catalogue's layers and everything kept beside them (module docstring)."""

    #: A short description for the UI ("GeoPackage /path/x.gpkg", "PostGIS db@host").
    description: str = ""
    layers: "LayerTables"
    rasters: "Rasters"
    audit: "AuditTrail"
    records: "RecordTables"
    scenarios: "Scenarios"
    accounts: "AccountTable"
    bookings: "BookingTable"
    field_reports: "FieldReportTable"

    @abc.abstractmethod
    def history(self, name: str) -> pd.DataFrame:
        """The version log of ``name`` (vector, raster and record versions), oldest first; :data:`HISTORY_COLUMNS`."""

    @abc.abstractmethod
    def last_versions(self) -> dict[tuple[str, str], dict]:
        """(kind, name) → the latest version-log row as a dict."""

    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Store", "LayerInfo", "WriteResult", "HISTORY_COLUMNS"]
