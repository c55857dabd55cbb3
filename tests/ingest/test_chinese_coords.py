"""GCJ-02 and BD-09 conversions: reference points and round trips across China."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geo.crs import (
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    outside_china,
    to_wgs84_from,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.errors import CRSError

GEOD = Geod(ellps="WGS84")
# (WGS-84 lon, lat, GCJ-02 lon, lat): reference pairs published with the eviltransform project.
REFERENCE = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_reference_points_convert_correctly():
    ref = np.array(REFERENCE)
    glon, glat = wgs84_to_gcj02(ref[:, 0], ref[:, 1])
    np.testing.assert_allclose(glon, ref[:, 2], atol=1e-9)
    np.testing.assert_allclose(glat, ref[:, 3], atol=1e-9)
    wlon, wlat = gcj02_to_wgs84(ref[:, 2], ref[:, 3])
    assert _metres(wlon, wlat, ref[:, 0], ref[:, 1]).max() < 0.01


def test_round_trips_across_china_within_half_a_metre():
    lon, lat = np.meshgrid(np.linspace(73.7, 134.8, 120), np.linspace(18.2, 53.4, 80))
    lon, lat = lon.ravel(), lat.ravel()
    g = wgs84_to_gcj02(lon, lat)
    back = gcj02_to_wgs84(*g)
    assert _metres(lon, lat, *back).max() < 0.5
    again = wgs84_to_gcj02(*back)
    assert _metres(*g, *again).max() < 0.5
    b = wgs84_to_bd09(lon, lat)
    assert _metres(lon, lat, *bd09_to_wgs84(*b)).max() < 0.5
    # GCJ-02 really shifts (hundreds of metres) and BD-09 shifts again.
    shift = _metres(lon, lat, *g)
    assert 50 < np.median(shift) < 1000
    assert np.median(_metres(*g, *gcj02_to_bd09(*g))) > 300


def test_no_shift_outside_china_and_unknown_system():
    lon, lat = np.array([2.35, -74.0]), np.array([48.85, 40.7])
    assert outside_china(lon, lat).all()
    np.testing.assert_array_equal(wgs84_to_gcj02(lon, lat)[0], lon)
    assert to_wgs84_from("GCJ-02", lon, lat)[1].tolist() == lat.tolist()
    with pytest.raises(CRSError, match="not a shifted Chinese system"):
        to_wgs84_from("mars", lon, lat)
