"""Population rasters and layers: any CRS and resolution, nodata, totals kept, bad files named."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.transform import from_origin
from shapely.geometry import Point, Polygon

from geo.demand import demand_from_raster, demand_from_vector, estimate_population_from_land_use
from geo.errors import DemandError


def _tif(path, data, *, crs="EPSG:4326", transform=None, nodata=-9999.0):
    transform = transform or from_origin(114.0, 30.05, 0.001, 0.001)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(data.astype(np.float32), 1)
    return path


def test_raster_in_degrees_with_nodata_and_nan_keeps_its_total(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 50, (40, 60)).astype(float)
    data[0, :5] = -9999.0
    data[3, 3] = np.nan
    path = _tif(tmp_path / "pop_wgs84.tif", data)
    d = demand_from_raster(path)
    expected = np.nansum(np.where(data == -9999.0, 0, data))
    assert d.total == expected
    assert d.crs.to_epsg() == 4547  # CGCS2000 Gauss–Krüger zone of 114°E
    assert len(d) == int(((data > 0) & np.isfinite(data)).sum())
    # Cell centres keep their place: the first populated cell is where the raster says.
    lon, lat = d.lonlat()
    r, c = d.row[0], d.col[0]
    assert lon[0] == pytest.approx(114.0 + (c + 0.5) * 0.001) and lat[0] == pytest.approx(30.05 - (r + 0.5) * 0.001)


def test_raster_resolution_and_crs_do_not_change_totals(tmp_path, demo_city):
    coarse = demand_from_raster(demo_city.population_tif)
    with rasterio.MemoryFile(demo_city.population_tif) as mem, mem.open() as ds:
        data = ds.read(1)
        transform, crs = ds.transform, ds.crs
    # Sum 2×2 blocks: 200 m cells, same people.
    agg = data.reshape(40, 2, 40, 2).sum(axis=(1, 3))
    path = _tif(tmp_path / "pop_200m.tif", agg, crs=crs, transform=transform @ Affine.scale(2, 2))
    assert demand_from_raster(path).total == coarse.total == 420_000


def test_raster_without_crs_is_refused_unless_given(tmp_path):
    data = np.ones((5, 5))
    path = tmp_path / "no_crs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=5, height=5, count=1, dtype="float32",
                       transform=from_origin(114.0, 30.0, 0.001, 0.001)) as ds:
        ds.write(data.astype(np.float32), 1)
    with pytest.raises(DemandError, match="no_crs.tif: the population raster has no coordinate system"):
        demand_from_raster(path)
    assert demand_from_raster(path, crs="EPSG:4490").total == 25


def test_raster_in_a_local_engineering_crs_is_refused(tmp_path):
    local = ('LOCAL_CS["site grid",LOCAL_DATUM["site",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]')
    path = _tif(tmp_path / "local.tif", np.ones((4, 4)), crs=local, transform=from_origin(0, 400, 100, 100))
    with pytest.raises(DemandError, match="local.tif: .*cannot be placed on the Earth|local.tif: the coordinate system"):
        demand_from_raster(path)


def test_negative_counts_are_named_by_cell(tmp_path):
    data = np.ones((4, 4))
    data[2, 1] = -3
    with pytest.raises(DemandError, match="row 3, column 2 = -3"):
        demand_from_raster(_tif(tmp_path / "neg.tif", data))


def test_not_a_raster_is_refused(tmp_path):
    path = tmp_path / "pop.tif"
    path.write_text("this is not a GeoTIFF")
    with pytest.raises(DemandError, match="pop.tif: not a readable raster"):
        demand_from_raster(path)


def test_polygons_spread_over_their_area_keep_each_total():
    crs = "EPSG:4547"
    a = Polygon([(500_000, 3_300_000), (500_730, 3_300_000), (500_730, 3_300_410), (500_000, 3_300_410)])
    b = Polygon([(501_000, 3_300_000), (501_050, 3_300_300), (501_400, 3_300_020)])
    tiny = Point(502_000, 3_300_000).buffer(5)  # smaller than a cell
    frame = gpd.GeoDataFrame({"population": [7300.0, 1234.5, 10.0]}, geometry=[a, b, tiny], crs=crs)
    d = demand_from_vector(frame, cell_size=100, metric_crs=crs)
    assert d.total == pytest.approx(7300 + 1234.5 + 10, abs=1e-9)
    inside_a = (d.x >= 500_000) & (d.x <= 500_730)
    assert d.population[inside_a].sum() == pytest.approx(7300, abs=1e-9)
    # Spread by area: a full cell of A holds 100·100/(730·410) of its people.
    assert d.population[inside_a].max() == pytest.approx(7300 * 1e4 / (730 * 410))


def test_vector_demand_bad_rows_are_named():
    crs = "EPSG:4547"
    frame = gpd.GeoDataFrame({"population": [10, "many", -1]},
                             geometry=[Point(500_000, 3_300_000)] * 3, crs=crs)
    with pytest.raises(DemandError, match="row 2, field 'population': 'many'.*2 row"):
        demand_from_vector(frame)
    with pytest.raises(DemandError, match="empty"):
        demand_from_vector(frame.iloc[0:0])
    with pytest.raises(DemandError, match="no 'residents' column"):
        demand_from_vector(frame, column="residents")


def test_estimate_from_residential_land_is_labelled(demo_city):
    est = estimate_population_from_land_use(demo_city.layers["land_use"], total=420_000)
    assert est["is_estimate"].all() and est["population"].sum() == pytest.approx(420_000)
    d = demand_from_vector(est)
    assert d.is_estimate and d.total == pytest.approx(420_000)
    parks_only = demo_city.layers["land_use"][demo_city.layers["land_use"]["land_use"] == "park"]
    with pytest.raises(DemandError, match="No residential land"):
        estimate_population_from_land_use(parks_only)
