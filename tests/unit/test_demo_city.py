import numpy as np

from demo.city import build_demo_city
from layers.catalogue import CATALOGUE
from layers.rasters import open_geotiff, population_total
from layers.validate import validate_layer


def test_demo_city_is_the_size_the_brief_asks(demo_city):
    L = demo_city.layers
    assert 300_000 <= population_total(demo_city.population_tif) <= 500_000
    assert 50 <= len(L["venues"]) <= 100
    schools = L["school_facilities"]["school"].nunique()
    assert 20 <= schools <= 40
    assert 0 < L["school_facilities"]["open_to_public"].mean() < 1
    assert 10 <= len(L["health_stations"]) <= 20
    units = L["boundaries"]["level"].value_counts()
    assert 5 <= units["street"] <= 8 and units["community"] >= 5 * units["street"]
    assert len(L["metro_stations"]) >= 5 and len(L["candidate_sites"]) >= 20
    assert (L["land_use"]["land_use"] == "water").any() and len(L["greenways"]) >= 1
    minx, miny, maxx, maxy = L["boundaries"].to_crs(demo_city.metric_crs).total_bounds
    assert abs((maxx - minx) - 8000) < 1 and abs((maxy - miny) - 8000) < 1
    with open_geotiff(demo_city.population_tif) as ds:
        assert ds.res == (100.0, 100.0) and ds.crs is not None


def test_demo_city_is_valid_and_deterministic(demo_city):
    for name, frame in demo_city.layers.items():
        _, report = validate_layer(frame, CATALOGUE[name], source="demo")
        assert report.ok, report.summary()
    again = build_demo_city()
    assert again.population_tif == demo_city.population_tif
    for name in demo_city.layers:
        assert again.layers[name].geometry.geom_equals(demo_city.layers[name].geometry).all(), name


def test_demo_coverage_is_uneven(demo_city):
    """East-bank residents are much farther from a venue than old-town residents."""
    import geopandas as gpd
    from scipy.spatial import cKDTree

    crs = demo_city.metric_crs
    with open_geotiff(demo_city.population_tif) as ds:
        pop = ds.read(1)
        rows, cols = np.nonzero(pop > 0)
        xs, ys = ds.xy(rows, cols)
        weights = pop[rows, cols]
        x0 = ds.bounds.left
    venues = demo_city.layers["venues"].to_crs(crs)
    tree = cKDTree(np.column_stack([venues.geometry.centroid.x, venues.geometry.centroid.y]))
    dist, _ = tree.query(np.column_stack([xs, ys]))
    east = np.asarray(xs) - x0 > 5800
    covered = dist <= 500
    west_rate = weights[~east & covered].sum() / weights[~east].sum()
    east_rate = weights[east & covered].sum() / weights[east].sum()
    assert west_rate > 0.6 and east_rate < 0.35, (west_rate, east_rate)
    assert isinstance(venues, gpd.GeoDataFrame)
