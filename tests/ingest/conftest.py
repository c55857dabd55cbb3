"""Inputs for the import tests: demo-city venues as a department would deliver them."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def venue_points(demo_city):
    """The demo city's point venues with the columns a delivery usually has."""
    v = demo_city.layers["venues"]
    v = v[v.geom_type == "Point"].reset_index(drop=True)
    return v[["feature_id", "name", "venue_kind", "sports_area_m2", "capacity", "opening_hours", "is_public",
              "fee", "address", "geometry"]].copy()
