"""The partner booking API on its own, for several worker processes (``onemap serve``: ``uvicorn
services.booking_server:create_app --factory --workers N``); each worker opens the configured store.  Bookings are
counted in the store, so any worker may take any request."""

from __future__ import annotations

from config.log_setup import configure_logging
from layers.stores import open_store
from services.booking_api import build_booking_app


def create_app():
    """The booking API over the configured store (``DATABASE_URL`` or ``ONEMAP_GPKG``)."""
    configure_logging()
    return build_booking_app(open_store(None))
