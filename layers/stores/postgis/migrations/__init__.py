"""Alembic migrations of the PostGIS store (one schema per store; see :mod:`layers.stores.postgis.schema`)."""
