"""Stores: the embedded GeoPackage (default) and PostGIS, behind one interface made of parts."""

from layers.stores.base import LayerInfo, Store, WriteResult
from layers.stores.factory import default_gpkg_path, open_store

__all__ = ["LayerInfo", "Store", "WriteResult", "open_store", "default_gpkg_path"]
