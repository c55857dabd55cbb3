"""Geometry kinds by name (``shapely.GeometryType``), so no module compares type ids by magic number."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import GeometryType

AREAS = (GeometryType.POLYGON, GeometryType.MULTIPOLYGON)
LINES = (GeometryType.LINESTRING, GeometryType.MULTILINESTRING)
POINTS = (GeometryType.POINT, GeometryType.MULTIPOINT)


def kind_is(geoms: np.ndarray, kinds: tuple[GeometryType, ...]) -> np.ndarray:
    """Which of ``geoms`` are of one of ``kinds`` (missing geometries are not)."""
    return np.isin(shapely.get_type_id(geoms), [int(k) for k in kinds])


def is_area(geom) -> bool:
    """Whether one geometry is a polygon or multipolygon."""
    return shapely.get_type_id(geom) in [int(k) for k in AREAS]


#: The OGC name of each kind, as files and catalogues spell it.
NAMES: dict[GeometryType, str] = {
    GeometryType.POINT: "Point", GeometryType.LINESTRING: "LineString", GeometryType.LINEARRING: "LinearRing",
    GeometryType.POLYGON: "Polygon", GeometryType.MULTIPOINT: "MultiPoint",
    GeometryType.MULTILINESTRING: "MultiLineString", GeometryType.MULTIPOLYGON: "MultiPolygon",
    GeometryType.GEOMETRYCOLLECTION: "GeometryCollection"}
_BY_ID = {int(k): v for k, v in NAMES.items()}


def type_name(type_id: int) -> str:
    """``Polygon`` for a shapely type id (``Unknown`` for a missing geometry)."""
    return _BY_ID.get(int(type_id), "Unknown")


def type_ids(names: tuple[str, ...] | list[str]) -> list[int]:
    """The shapely type ids of OGC kind names."""
    return [int(k) for k, v in NAMES.items() if v in names]


__all__ = ["AREAS", "LINES", "POINTS", "NAMES", "kind_is", "is_area", "type_name", "type_ids", "GeometryType"]
