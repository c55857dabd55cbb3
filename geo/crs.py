"""Coordinate reference systems: choosing a metric projection for an extent.

Chinese data arrives in WGS-84 (EPSG:4326), CGCS2000 (EPSG:4490 and its Gauss–Krüger
zones), Web Mercator, and the unofficial GCJ-02 / BD-09 (no EPSG code).  Everything is
stored in EPSG:4326; analyses that measure metres project to a local zone chosen here.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import TYPE_CHECKING

import numpy as np
from pyproj import CRS, Transformer

from geo.errors import CRSError

if TYPE_CHECKING:
    import geopandas as gpd

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


# --- GCJ-02 (AMap, Tencent) and BD-09 (Baidu) ------------------------------------------
# Neither has an EPSG code.  GCJ-02 shifts WGS-84 by a published closed-form function
# inside China (it is not applied outside); BD-09 is a further shift of GCJ-02.  Forward
# formulas are exact; the inverses are solved by fixed-point iteration to < 1e-9 degree.

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0

#: Names accepted for coordinate systems without an EPSG code.
CHINESE_OFFSET_SYSTEMS = ("gcj02", "bd09")


def outside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Where GCJ-02 applies no shift (the rectangle its published formula uses)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
             + (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
             + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
             + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
             + (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
             + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
             + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * pi
    magic = 1.0 - _GCJ_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = d_lat * 180.0 / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * pi)
    d_lon = d_lon * 180.0 / (_GCJ_A / sqrt_magic * np.cos(rad) * pi)
    out = outside_china(lon, lat)
    return np.where(out, 0.0, d_lon), np.where(out, 0.0, d_lat)


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 longitude/latitude to GCJ-02 (vectorised; unchanged outside China)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    d_lon, d_lat = _gcj_delta(lon, lat)
    return lon + d_lon, lat + d_lat


def _invert(forward, lon: np.ndarray, lat: np.ndarray, start_lon: np.ndarray, start_lat: np.ndarray,
            tol: float, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x) = (lon, lat)`` by fixed-point iteration from ``start``."""
    x_lon, x_lat = start_lon, start_lat
    for _ in range(max_iter):
        f_lon, f_lat = forward(x_lon, x_lat)
        e_lon, e_lat = f_lon - lon, f_lat - lat
        x_lon, x_lat = x_lon - e_lon, x_lat - e_lat
        if np.nanmax(np.abs(np.concatenate((np.ravel(e_lon), np.ravel(e_lat)))), initial=0.0) < tol:
            break
    return x_lon, x_lat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray, *, tol: float = 1e-10,
                   max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to WGS-84 by fixed-point iteration (round trip well under 0.5 m)."""
    g_lon = np.asarray(lon, dtype=np.float64)
    g_lat = np.asarray(lat, dtype=np.float64)
    return _invert(wgs84_to_gcj02, g_lon, g_lat, g_lon.copy(), g_lat.copy(), tol, max_iter)


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to BD-09 (Baidu)."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray, *, tol: float = 1e-10,
                  max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 to GCJ-02: the usual closed form, refined by iteration to invert exactly."""
    b_lon = np.asarray(lon, dtype=np.float64)
    b_lat = np.asarray(lat, dtype=np.float64)
    x, y = b_lon - 0.0065, b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return _invert(gcj02_to_bd09, b_lon, b_lat, z * np.cos(theta), z * np.sin(theta), tol, max_iter)


def wgs84_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 to WGS-84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84_from(system: str, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert longitude/latitude in ``system`` (``"gcj02"`` or ``"bd09"``) to WGS-84.

    Raises
    ------
    CRSError
        For any other system name.
    """
    key = system.lower().replace("-", "").replace("_", "")
    if key == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if key == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise CRSError(f"{system!r} is not a shifted Chinese system; use one of {', '.join(CHINESE_OFFSET_SYSTEMS)}.")


@functools.lru_cache(maxsize=64)
def _cached_transformer(src: str | int, dst: str | int, thread: int) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


@functools.lru_cache(maxsize=64)
def _cached_crs(value: str | int, thread: int) -> CRS:
    return CRS.from_user_input(value)


def _key(value: CRS | str | int) -> str | int:
    if isinstance(value, (str, int)):
        return value
    return value.to_wkt() if hasattr(value, "to_wkt") else CRS.from_user_input(value).to_wkt()


def crs_of(value: CRS | str | int) -> CRS:
    """A CRS object for ``value``, parsed once per text and thread (parsing a WKT costs about 9 ms)."""
    return value if isinstance(value, CRS) else _cached_crs(value, threading.get_ident())


def transformer(src: CRS | str | int, dst: CRS | str | int) -> Transformer:
    """A longitude-first transformer between two CRSs, built once per pair and thread.

    Building one costs about 40 ms; a transformer is not shared between threads (the
    app serves each session in its own thread).
    """
    return _cached_transformer(_key(src), _key(dst), threading.get_ident())


def frame_to(frame: "gpd.GeoDataFrame", crs: CRS | str | int) -> "gpd.GeoDataFrame":
    """``frame`` in ``crs`` as :meth:`GeoDataFrame.to_crs` gives it (the same PROJ operation, coordinate by
    coordinate), with the transformer built once per pair and thread rather than on every call."""
    import shapely

    target = crs_of(crs)
    if frame.crs is None:
        raise CRSError("A layer has no coordinate system; it cannot be moved into the analysis CRS.")
    if frame.crs.is_exact_same(target):
        return frame
    move = transformer(frame.crs, target)

    def along(xy: np.ndarray) -> np.ndarray:
        x, y = move.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((x, y))

    return frame.set_geometry(shapely.transform(frame.geometry.to_numpy(), along), crs=target)
