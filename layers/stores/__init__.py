"""Layer stores: the embedded GeoPackage (default) and PostGIS, behind one interface."""

from layers.stores.base import LayerInfo, LayerStore, WriteResult
from layers.stores.factory import default_gpkg_path, open_store

__all__ = ["LayerInfo", "LayerStore", "WriteResult", "open_store", "default_gpkg_path"]
