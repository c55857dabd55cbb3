"""pygeoapi's PostgreSQL provider, knowing only a layer's published fields.

pygeoapi's own provider reflects the whole table and hands every column to its CQL2 and
sort machinery, so a filter on an unpublished column (an AED's inspection date, a venue's
address marked internal) is applied even though the column is never returned — and bisecting
on ``numberMatched`` reads it back. Here the table model is rebuilt with the id, the geometry
and the published fields only (``properties`` of the configuration, see
:func:`services.pygeoapi_config.published_fields`): a filter, sort or selection naming any
other field cannot be expressed at all, whatever the channel (query string, CQL2-JSON body).

Failures are answered as pygeoapi's provider errors, never as a 500: a store that cannot be
reached is a 503 (:class:`StoreUnavailable`), a filter the database refuses (too deep, a type
it cannot compare) or an id it cannot read a 400 or 404.
"""

from __future__ import annotations

import functools
import logging

from pygeoapi.provider.base import ProviderConnectionError, ProviderItemNotFoundError
from pygeoapi.provider.sql import PostgreSQLProvider
from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.automap import automap_base

from services.provider_errors import MAX_ID, StoreUnavailable, refusal

log = logging.getLogger(__name__)


def _published_model(full_model, keep: tuple[str, ...], id_field: str):
    """A model of the reflected table with only the columns in ``keep`` (cached per table and columns)."""
    return _model_cache(full_model.__table__, keep, id_field)


@functools.lru_cache(maxsize=256)
def _model_cache(table: Table, keep: tuple[str, ...], id_field: str):
    md = MetaData()
    columns = [Column(c.name, c.type) for c in table.columns if c.name in keep]
    narrowed = Table(table.name, md, *columns, PrimaryKeyConstraint(id_field), schema=table.schema)
    base = automap_base(metadata=md)
    base.prepare()
    return getattr(base.classes, narrowed.name)


class OneMapPostgreSQLProvider(PostgreSQLProvider):
    """pygeoapi's PostgreSQL provider over the published fields of one layer (module docstring)."""

    def __init__(self, provider_def: dict) -> None:
        try:
            super().__init__(provider_def)
        except ProviderConnectionError as exc:
            from services.outage import OUTAGES

            OUTAGES.record(exc, "data exchange server")
            raise StoreUnavailable("the data store cannot be reached just now; try again in a few seconds") from None
        keep = (self.id_field, self.geom, *(self.properties or ()))
        self.table_model = _published_model(self.table_model, tuple(dict.fromkeys(keep)), self.id_field)
        self._fields = {}
        self.get_fields()

    def _get_cql_filters(self, filterq):
        """The filter over the published columns; a name that is not one of them is refused (pygeofilter would
        otherwise compare the name itself as a string)."""
        if not filterq:
            return True
        from pygeofilter.backends.sqlalchemy.evaluate import to_filter

        mapping = {name: getattr(self.table_model, name) for name in self.table_model.__table__.columns.keys()}
        return to_filter(filterq, mapping, undefined_as_null=False)

    def query(self, **kwargs) -> dict:
        """pygeoapi's query over the published fields; failures as provider errors."""
        try:
            return super().query(**kwargs)
        except (SQLAlchemyError, KeyError, AttributeError, RecursionError, TypeError, ValueError, OSError) as exc:
            refused = refusal(exc, "querying " + self.table)
            if refused is None:
                raise
            raise refused from None

    def get(self, identifier, **kwargs) -> dict:
        """One feature by id; an id the database cannot hold (a NUL, too long) is simply not found."""
        text = str(identifier)
        if not text or len(text) > MAX_ID or any(ord(c) < 32 for c in text):
            raise ProviderItemNotFoundError(f"no feature {text[:40]!r}")
        try:
            return super().get(text, **kwargs)
        except (SQLAlchemyError, RecursionError, TypeError, ValueError, OSError) as exc:
            refused = refusal(exc, "reading a feature of " + self.table)
            if refused is None:
                raise
            raise refused from None

    def __repr__(self) -> str:
        return f"<OneMapPostgreSQLProvider> {self.table}"


__all__ = ["OneMapPostgreSQLProvider"]
