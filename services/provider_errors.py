"""The errors the data exchange server's feature providers answer with, instead of a 500.

pygeoapi answers a provider's error with its status and a JSON body in the OGC shape; anything
else a provider raises becomes a 500 with a traceback in the log. Both providers
(:mod:`services.pg_provider`, :mod:`services.gpkg_provider`) turn what can go wrong into one of
these: a store that cannot be reached into :class:`StoreUnavailable` (503, with ``Retry-After``
added by the server), a query the store cannot apply into a 400.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from pygeoapi.provider.base import ProviderConnectionError, ProviderInvalidQueryError
from sqlalchemy.exc import DBAPIError

from layers.errors import is_outage

log = logging.getLogger(__name__)
#: The longest feature id looked up (ids are the departments' own codes).
MAX_ID = 200


class StoreUnavailable(ProviderConnectionError):
    """The store cannot be reached just now: 503, try again."""

    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE
    ogc_exception_code = "StoreUnavailable"


def refusal(exc: Exception, what: str) -> Exception | None:
    """The provider error to raise for ``exc`` met while ``what`` (``None``: not one of ours, let it rise)."""
    if is_outage(exc):
        from services.outage import OUTAGES

        OUTAGES.record(exc, "data exchange server")
        return StoreUnavailable("the data store cannot be reached just now; try again in a few seconds")
    if isinstance(exc, (KeyError, AttributeError, RecursionError, TypeError, ValueError, DBAPIError)):
        reason = getattr(exc, "orig", None) or exc
        log.warning("query refused while %s: %s: %s", what, type(exc).__name__, str(reason).splitlines()[:1])
        return ProviderInvalidQueryError(user_msg=f"the query cannot be applied to this collection "
                                                  f"({type(exc).__name__}); filter, sort and select by its "
                                                  "queryables only")
    return None


class DropOutageTracebacks(logging.Filter):
    """pygeoapi logs a traceback for every provider error; an outage is logged once by the server instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but one carrying a :class:`StoreUnavailable`."""
        return not (record.exc_info and isinstance(record.exc_info[1], StoreUnavailable))


__all__ = ["StoreUnavailable", "refusal", "MAX_ID", "DropOutageTracebacks"]
