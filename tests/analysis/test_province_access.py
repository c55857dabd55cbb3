"""The 2SFCA cut into partitions (two rounds: each facility's ratio over its whole catchment, then each cell's
access from every ratio) equals one engine's 2SFCA to the last bit — venues by sports area in tiles, the
enhanced 2SFCA by street on a local cluster of two workers, and greenways entered only at their entrances."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from geo.access import E2SFCA_LUO_QI_WEIGHTS, step_weight, two_step_fca
from geo.coverage import CoverageEngine
from geo.demand import demand_from_raster
from geo.errors import AnalysisError
from geo.facilities import build_facility_set
from geo.network import build_walk_network
from geo.partition import make_plan, tiles, unit_parts, write_inputs
from geo.partition_access import AccessSpec, run_province_access
from geo.province import close_cluster, cluster


@pytest.fixture(scope="module")
def inputs(demo_gpkg, tmp_path_factory):
    from layers.stores.geopackage import GeoPackageStore

    with GeoPackageStore(demo_gpkg) as store:
        source = write_inputs(store, tmp_path_factory.mktemp("access-inputs"))
    return source, make_plan(source, [1000.0])


def one_run(source, plan, spec: AccessSpec):
    """One engine over the whole city: the reference 2SFCA, with its catchment matrix."""
    crs = CRS.from_wkt(plan.crs)
    read = lambda n: gpd.read_parquet(f"{source.folder}/{n}.parquet")  # noqa: E731
    layer = read(spec.layer)
    engine = CoverageEngine(demand_from_raster(source.population(), metric_crs=crs),
                            build_facility_set({spec.layer: layer}, crs=crs, entrances=read("greenway_entrances")),
                            network=build_walk_network(read("walk_network"), crs=crs))
    catch = engine.network_reach.catchments(limit=spec.d0)
    supply = layer.set_index(layer["feature_id"].astype(str))[spec.supply].reindex(
        engine.facilities.table["feature_id"]).to_numpy(float)
    return engine, catch, two_step_fca(catch, supply, engine.demand.population, d0=spec.d0, weight=spec.weight)


def assert_same(got, engine, want) -> None:
    order = np.lexsort((engine.demand.col, engine.demand.row))
    assert np.array_equal(got.cells["row"], engine.demand.row[order])
    assert np.array_equal(got.cells["col"], engine.demand.col[order])
    assert np.array_equal(got.cells["access"].to_numpy(), want.access[order])
    ids = engine.facilities.table["feature_id"].to_numpy()
    by_id = got.facilities.set_index("feature_id")
    assert np.array_equal(by_id.loc[ids, "ratio"].to_numpy(), want.ratio)
    assert np.array_equal(by_id.loc[ids, "catchment_demand"].to_numpy(), want.catchment_demand)


def test_venues_by_sports_area_in_four_tiles_cross_their_borders(inputs):
    source, plan = inputs
    spec = AccessSpec("venues", "sports_area_m2", 1000.0)
    engine, catch, want = one_run(source, plan, spec)
    parts = tiles(plan, 2, 2)
    got = run_province_access(source, plan, parts, spec)
    assert_same(got, engine, want)
    assert want.access.max() > 0 and (want.access > 0).mean() > 0.3
    # facilities whose catchment holds cells of another tile: their ratio needed every tile's residents
    def tile(x, y):
        return np.array([next(i for i, p in enumerate(parts) if p.owns(np.array([a]), np.array([b]))[0])
                         for a, b in zip(x, y)])
    at = shapely.point_on_surface(engine.facilities.geometry)
    f_tile, c_tile = tile(shapely.get_x(at), shapely.get_y(at)), tile(engine.demand.x, engine.demand.y)
    m = catch.matrix.tocoo()
    crossing = sorted({str(engine.facilities.table["feature_id"].iloc[f]) for f, c in zip(m.row, m.col)
                       if f_tile[f] != c_tile[c]})
    assert len(crossing) >= 5, "catchments across a tile border make this a test"
    print("venues whose catchment crosses a tile border:", crossing[:8])


def test_enhanced_2sfca_by_street_on_two_workers(inputs):
    source, plan = inputs
    spec = AccessSpec("venues", "capacity", 1000.0, step_weight([300.0, 500.0, 1000.0], E2SFCA_LUO_QI_WEIGHTS))
    engine, _catch, want = one_run(source, plan, spec)
    client = cluster(n_workers=2, memory_limit="2GB")
    try:
        got = run_province_access(source, plan, unit_parts(plan, source.whole("boundaries"), level="street"), spec,
                                  client=client)
    finally:
        close_cluster(client)
    assert_same(got, engine, want)


def test_greenways_entered_at_their_entrances(inputs):
    source, plan = inputs
    spec = AccessSpec("greenways", "length_m", 500.0)
    engine, _catch, want = one_run(source, plan, spec)
    got = run_province_access(source, plan, tiles(plan, 3, 3), spec)
    assert_same(got, engine, want)
    assert (want.access > 0).any()


def test_a_missing_supply_is_named(inputs, tmp_path):
    source, plan = inputs
    with pytest.raises(AnalysisError, match="no 'seats' column"):
        run_province_access(source, plan, tiles(plan, 1, 1), AccessSpec("venues", "seats", 1000.0))
    venues = gpd.read_parquet(f"{source.folder}/venues.parquet")
    venues.loc[3, "sports_area_m2"] = -5.0
    import shutil

    folder = tmp_path / "bad"
    shutil.copytree(source.folder, folder)
    venues.to_parquet(folder / "venues.parquet", write_covering_bbox=True)
    from geo.partition import InputSource

    with pytest.raises(AnalysisError, match=str(venues["feature_id"].iloc[3])):
        run_province_access(InputSource(folder=str(folder)), plan, tiles(plan, 1, 1),
                            AccessSpec("venues", "sports_area_m2", 1000.0))


def test_the_command_by_street_writes_gaps_and_surfaces(demo_gpkg, inputs, tmp_path, capsys):
    """`onemap province --by street --access …`: the 2SFCA GeoTIFF holds the partitioned figures, the gap
    polygons are those of one run, and a malformed --access is refused with what is accepted."""
    import rasterio

    from cli.main import main
    from geo.gaps import gap_areas

    source, plan = inputs
    out = tmp_path / "surfaces"
    code = main(["--store", str(demo_gpkg), "--quiet", "province", "--by", "street", "--in-process",
                 "--thresholds", "500,1000", "--access", "venues:sports_area_m2:1000", "--surfaces", str(out)])
    said = capsys.readouterr().out
    assert code == 0 and "2SFCA venues by sports_area_m2 within 1000 m" in said
    spec = AccessSpec("venues", "sports_area_m2", 1000.0)
    engine, _catch, want = one_run(source, plan, spec)
    with rasterio.open(out / "access_venues_sports_area_m2.tif") as ds:
        grid = ds.read(1)
        assert ds.tags()["d0_m"] == "1000"
    assert np.array_equal(grid[engine.demand.row, engine.demand.col], want.access.astype(np.float32))
    gaps = gpd.read_parquet(out / "gaps.parquet")
    assert set(gaps["threshold_m"]) == {500.0, 1000.0} and set(gaps["layer"]) >= {"venues", "health_stations"}
    reference = CoverageEngine(engine.demand, engine.facilities, network=build_walk_network(
        gpd.read_parquet(f"{source.folder}/walk_network.parquet"), crs=CRS.from_wkt(plan.crs))).run([500.0])
    mine = gaps[(gaps["layer"] == "venues") & (gaps["threshold_m"] == 500.0)]
    assert mine["uncovered_residents"].sum() == pytest.approx(
        gap_areas(reference, "venues", 500.0)["uncovered_residents"].sum(), rel=1e-12)
    assert (out / "distance_venues.tif").exists() and (out / "access_venues_sports_area_m2_facilities.csv").exists()
    with pytest.raises(SystemExit):
        main(["--store", str(demo_gpkg), "province", "--access", "venues"])
    assert "LAYER:SUPPLY_COLUMN[:D0_METRES]" in capsys.readouterr().err
