"""Coordinate reference systems: choosing a metric projection for an extent.

Chinese data arrives in WGS-84 (EPSG:4326), CGCS2000 (EPSG:4490 and its Gauss–Krüger
zones), Web Mercator, and the unofficial GCJ-02 / BD-09 (no EPSG code).  Everything is
stored in EPSG:4326; analyses that measure metres project to a local zone chosen here.
"""

from __future__ import annotations

import math

from pyproj import CRS

from geo.errors import CRSError

#: The CRS every store keeps geometry in.
STORAGE_CRS = CRS.from_epsg(4326)

# CGCS2000 / 3-degree Gauss-Kruger CM 75E .. CM 135E are EPSG:4534 .. 4554.
_CGCS2000_GK3_CM_FIRST_EPSG = 4534
_CGCS2000_GK3_FIRST_CM = 75
_CGCS2000_GK3_LAST_CM = 135


def _in_china_box(lon: float, lat: float) -> bool:
    return 73.0 <= lon <= 136.0 and 3.0 <= lat <= 54.0


def gauss_kruger_3deg_crs(lon: float) -> CRS:
    """Return the CGCS2000 3-degree Gauss–Krüger zone (central-meridian form) for ``lon``.

    Parameters
    ----------
    lon : float
        Longitude in degrees east, between 73.5 and 136.5.

    Returns
    -------
    pyproj.CRS
        One of EPSG:4534 … EPSG:4554 (false easting 500 km, no zone prefix).
    """
    cm = int(round(lon / 3.0)) * 3
    if not _CGCS2000_GK3_FIRST_CM <= cm <= _CGCS2000_GK3_LAST_CM:
        raise CRSError(
            f"Longitude {lon:.4f} has no CGCS2000 3-degree zone; zones cover 73.5°E to 136.5°E."
        )
    return CRS.from_epsg(_CGCS2000_GK3_CM_FIRST_EPSG + (cm - _CGCS2000_GK3_FIRST_CM) // 3)


def utm_crs(lon: float, lat: float) -> CRS:
    """Return the WGS-84 UTM zone containing (``lon``, ``lat``)."""
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        raise CRSError(f"Point ({lon}, {lat}) is outside the UTM range (lat -80..84, lon -180..180).")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def local_metric_crs(bounds: tuple[float, float, float, float]) -> CRS:
    """Choose a metric CRS for an extent given in longitude/latitude.

    Inside China this is the CGCS2000 3-degree Gauss–Krüger zone of the extent's centre
    (scale error under 0.02 % within 1.5° of the central meridian); elsewhere the UTM
    zone of the centre.

    Parameters
    ----------
    bounds : tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)`` in EPSG:4326.

    Returns
    -------
    pyproj.CRS
    """
    min_lon, min_lat, max_lon, max_lat = bounds
    values = (min_lon, min_lat, max_lon, max_lat)
    if not all(math.isfinite(v) for v in values):
        raise CRSError(f"Extent {bounds} has a non-finite coordinate; is the layer empty?")
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise CRSError(
            f"Extent {bounds} is not longitude/latitude in degrees; reproject to EPSG:4326 first."
        )
    lon = (min_lon + max_lon) / 2.0
    lat = (min_lat + max_lat) / 2.0
    if _in_china_box(lon, lat):
        return gauss_kruger_3deg_crs(lon)
    return utm_crs(lon, lat)
