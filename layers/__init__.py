"""The layer catalogue, its validation, readers and the two stores (GeoPackage, PostGIS)."""
