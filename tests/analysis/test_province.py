"""Coverage cut into partitions with halos equals one run exactly — per cell, the nearest facility and its
distance — in this process, on a LocalCluster of two workers, on a scheduler and workers started as separate
processes, with a worker killed mid-run, and on the real Chengdu extract."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from pyproj import CRS

from geo.coverage import CoverageEngine
from geo.demand import demand_from_raster
from geo.facilities import build_facility_set
from geo.inputs import FACILITY_LAYERS
from geo.network import build_walk_network
from geo.partition import InputSource, make_plan, run_part, tiles, unit_parts, write_inputs
from geo.province import close_cluster, cluster, run_province
from layers.partition_source import StoreSource
from tests.conftest import ARTIFACTS, _free_port, stop

THRESHOLDS = [300.0, 500.0, 1000.0]


def single_run(source: InputSource, plan):
    """The single-machine engine over every input, in the plan's CRS: the reference."""
    import geopandas as gpd

    crs = CRS.from_wkt(plan.crs)
    read = lambda n: gpd.read_parquet(f"{source.folder}/{n}.parquet")  # noqa: E731
    engine = CoverageEngine(demand_from_raster(source.population(), metric_crs=crs),
                            build_facility_set({k: read(k) for k in plan.layers}, crs=crs,
                                               entrances=read("greenway_entrances")),
                            network=build_walk_network(read("walk_network"), crs=crs))
    return engine.run(list(plan.thresholds), layers=list(plan.layers))


def assert_identical(got, want, layers) -> None:
    """Per cell (in row, column order): the same distance to the last bit and the same nearest facility."""
    order = np.lexsort((want.demand.col, want.demand.row))
    assert np.array_equal(got.demand.row, want.demand.row[order]) and np.array_equal(got.demand.col,
                                                                                     want.demand.col[order])
    assert np.array_equal(got.population, want.population[order])
    for layer in layers:
        assert np.array_equal(got.distance[layer].to_numpy(), want.distance[layer].to_numpy()[order]), layer
        assert list(got.nearest_ids(layer)) == list(want.nearest_ids(layer)[order]), layer
        for th in THRESHOLDS:
            assert got.population[got.covered(layer, th)].sum() == want.population[want.covered(layer, th)].sum()


@pytest.fixture(scope="module")
def demo_inputs(demo_gpkg, tmp_path_factory):
    from layers.stores.geopackage import GeoPackageStore

    with GeoPackageStore(demo_gpkg) as store:
        source = write_inputs(store, tmp_path_factory.mktemp("province-inputs"))
    plan = make_plan(source, THRESHOLDS)
    return source, plan, single_run(source, plan)


def test_four_partitions_equal_one_run_and_cross_their_borders(demo_inputs):
    import geopandas as gpd

    source, plan, want = demo_inputs
    parts = tiles(plan, 2, 2)
    got = run_province(source, THRESHOLDS, plan=plan, parts=parts)  # in this process
    assert_identical(got, want, FACILITY_LAYERS)
    # cells whose nearest venue lies in another partition: found across the border, as one run finds them
    venues = gpd.read_parquet(f"{source.folder}/venues.parquet").to_crs(CRS.from_wkt(plan.crs))
    where = dict(zip(venues["feature_id"], venues.geometry.representative_point()))

    def owner(x: float, y: float) -> str:
        return next(p.key for p in parts if p.box[0] <= x < p.box[2] and p.box[1] <= y < p.box[3])

    nearest = got.nearest_ids("venues")
    crossing = [(int(r), int(c), v) for r, c, x, y, v in zip(got.demand.row, got.demand.col, got.demand.x,
                                                             got.demand.y, nearest)
                if v is not None and owner(x, y) != owner(where[v].x, where[v].y)]
    assert len(crossing) > 50, "the case must hold cells served across a border to be a test"
    print("cells served by a venue in another partition (row, col, venue):", crossing[:5])
    assert (crossing[0][0], crossing[0][1]) in set(zip(want.demand.row, want.demand.col))


def test_partitions_by_street_equal_one_run_and_cross_their_borders(demo_inputs):
    """One partition per street (街道) and tiles for the cells outside every street: the same cells as one run,
    each owned once, and cells served by a venue in another street found as one run finds them."""
    import geopandas as gpd

    source, plan, want = demo_inputs
    boundaries = source.whole("boundaries")
    parts = unit_parts(plan, boundaries, level="street")
    streets = boundaries[boundaries["level"] == "street"]
    assert len(parts) == len(streets) + 4 and all(p.shape is not None for p in parts[:len(streets)])
    got = run_province(source, THRESHOLDS, plan=plan, parts=parts)
    assert_identical(got, want, FACILITY_LAYERS)
    metric = CRS.from_wkt(plan.crs)
    venues = gpd.read_parquet(f"{source.folder}/venues.parquet").to_crs(metric)
    at = venues.geometry.representative_point()
    venue_part = {}
    for p in parts:
        for fid in venues["feature_id"][p.owns(at.x.to_numpy(), at.y.to_numpy())]:
            venue_part.setdefault(fid, []).append(p.key)
    assert all(len(v) == 1 for v in venue_part.values()) and len(venue_part) == len(venues)
    cell_part = np.full(len(got.population), "", dtype=object)
    for p in parts:
        cell_part[p.owns(got.demand.x, got.demand.y)] = p.key
    assert (cell_part != "").all()
    nearest = got.nearest_ids("venues")
    crossing = [(int(r), int(c), k, v) for r, c, k, v in zip(got.demand.row, got.demand.col, cell_part, nearest)
                if v is not None and venue_part[v][0] != k]
    assert len(crossing) > 50, "cells served by a venue in another street make this a test"
    print("cells served by a venue in another street (row, col, their street, venue):", crossing[:5])


def test_a_partition_reads_only_its_halo(demo_inputs):
    source, plan, _want = demo_inputs
    part = tiles(plan, 2, 2)[0]
    cells = run_part(source, plan, part)
    assert 0 < len(cells) < 6213 and {"row", "col", "distance_venues", "nearest_venues"} <= set(cells.columns)


def test_on_a_local_cluster_of_two_workers(demo_inputs):
    source, plan, want = demo_inputs
    client = cluster(n_workers=2, memory_limit="2GB")
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        got = run_province(source, THRESHOLDS, plan=plan, parts=tiles(plan, 2, 2), client=client)
    finally:
        close_cluster(client)
    assert_identical(got, want, FACILITY_LAYERS)


def _dask(*args: str, log: str) -> subprocess.Popen:
    ARTIFACTS.mkdir(exist_ok=True)
    out = open(ARTIFACTS / log, "w")
    return subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "dask"), *args], stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)


def test_on_a_scheduler_and_workers_started_apart_with_a_worker_killed(demo_inputs):
    """`dask scheduler` and `dask worker` as separate processes on loopback; one worker's process is killed
    with SIGKILL while partitions run; its nanny starts it again and the result is the same."""
    from distributed import Client, as_completed

    source, plan, want = demo_inputs
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard", log="dask_scheduler.log")]
    try:
        procs.append(_dask("worker", address, "--nworkers", "2", "--nthreads", "1", "--memory-limit", "2GB",
                           "--no-dashboard", log="dask_workers.log"))
        client = Client(address, timeout="60s")
        client.wait_for_workers(2, timeout=120)
        got = run_province(source, THRESHOLDS, plan=plan, parts=tiles(plan, 2, 2), client=client)
        assert_identical(got, want, FACILITY_LAYERS)
        # again in 36 partitions, killing a worker once the first is done
        parts = tiles(plan, 6, 6)
        killed: list[int] = []

        def kill_one(futures) -> None:
            next(iter(as_completed(futures)))
            pids = client.run(os.getpid)
            victim = sorted(pids.values())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

        got = run_province(source, THRESHOLDS, plan=plan, parts=parts, client=client, on_future=kill_one)
        assert killed
        assert_identical(got, want, FACILITY_LAYERS)
        deadline = time.monotonic() + 120  # the nanny starts a new worker in the killed one's place
        while len(client.scheduler_info()["workers"]) < 2:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.5)
        assert killed[0] not in client.run(os.getpid).values()
        client.close()
    finally:
        for proc in reversed(procs):
            stop(proc)


def test_a_synthetic_province_in_nine_tiles(tmp_path):
    """Four demo-city blocks in three cities (seams where blocks touch): nine tiles, and one partition per city,
    equal one tile, and the province is the same every time it is built."""
    from demo.province import write_province

    source, summary = write_province(tmp_path / "a", n_cities=3)
    again, same = write_province(tmp_path / "b", n_cities=3)
    assert summary == same and summary.blocks == 4 and summary.residents == 4 * 420_000
    plan = make_plan(source, THRESHOLDS)
    one = run_province(source, THRESHOLDS, plan=plan, parts=tiles(plan, 1, 1))
    assert_identical(run_province(source, THRESHOLDS, plan=plan, parts=tiles(plan, 3, 3)), one, FACILITY_LAYERS)
    cities = unit_parts(plan, source.whole("boundaries"), level="city")
    assert [p.key for p in cities[:3]] == ["city-00", "city-01", "city-02"]
    assert_identical(run_province(source, THRESHOLDS, plan=plan, parts=cities), one, FACILITY_LAYERS)


def test_the_chengdu_extract_in_four_tiles(chengdu_osm, tmp_path):
    """Real streets and venues (OpenStreetMap, central Chengdu): four tiles equal one run."""
    from geo.demand import demand_from_vector, estimate_population_from_land_use
    from layers.osm import read_osm_layers

    layers = read_osm_layers(chengdu_osm)
    net = build_walk_network(layers["walk_network"])
    demand = demand_from_vector(estimate_population_from_land_use(layers["land_use"]), metric_crs=net.crs)
    folder = tmp_path / "inputs"
    folder.mkdir()
    chosen = ("venues", "school_facilities", "health_stations")
    for name in ("walk_network", *chosen):
        layers[name].to_parquet(folder / f"{name}.parquet", write_covering_bbox=True)
    layers["venues"].iloc[:0].to_parquet(folder / "greenway_entrances.parquet", write_covering_bbox=True)
    _population_tif(demand, folder / "population.tif")
    source = InputSource(folder=str(folder))
    plan = make_plan(source, THRESHOLDS, layers=chosen, crs=net.crs.to_wkt())
    want = single_run(source, plan)
    got = run_province(source, THRESHOLDS, plan=plan, parts=tiles(plan, 2, 2))
    assert_identical(got, want, chosen)
    assert len(got.population) > 1000


def _population_tif(demand, path) -> None:
    """The demand's residents per cell as a GeoTIFF on its own grid."""
    import rasterio

    grid = demand.grid
    data = np.zeros(grid.shape, dtype=np.float64)
    np.add.at(data, (demand.row, demand.col), demand.population)
    with rasterio.open(path, "w", driver="GTiff", width=grid.shape[1], height=grid.shape[0], count=1,
                       dtype="float64", crs=grid.crs, transform=grid.transform, nodata=0) as ds:
        ds.write(data, 1)


def test_the_command_gives_the_coverage_commands_figures(demo_gpkg, tmp_path):
    """`onemap province` (tiles on a local cluster of two workers) prints and writes what `onemap coverage` does."""
    import shutil

    import pandas as pd

    from tests.conftest import ROOT

    store = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, store)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "cli", "--store", str(store), "--quiet", *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    tiled = run("province", "--tiles", "2x2", "--workers", "2", "--memory-limit", "2GB", "--out",
                str(tmp_path / "province.xlsx"))
    plain = run("coverage", "--out", str(tmp_path / "coverage.xlsx"))
    assert tiled.returncode == 0 and plain.returncode == 0, tiled.stdout + tiled.stderr + plain.stderr
    a = pd.read_excel(tmp_path / "province.xlsx", sheet_name=None)
    b = pd.read_excel(tmp_path / "coverage.xlsx", sheet_name=None)
    cols = ["layer", "threshold_m", "residents", "covered", "rate"]
    assert a["summary"][cols].equals(b["summary"][cols])
    assert a["by_street"]["covered"].tolist() == b["by_street"]["covered"].tolist()


def test_partitions_read_the_store_itself(demo_gpkg, demo_inputs):
    """Partitions reading the GeoPackage store by bbox (no exported files) give the same cells."""
    _source, plan, want = demo_inputs
    got = run_province(StoreSource(str(demo_gpkg)), THRESHOLDS, plan=plan, parts=tiles(plan, 2, 2))
    assert_identical(got, want, FACILITY_LAYERS)


@pytest.mark.postgis
def test_partitions_read_postgis_by_bbox(pg_url, pg_schema, pg_store, demo_city, demo_inputs):
    """Each partition opens the PostGIS store itself and reads its halo by bbox (nothing exported, nothing
    shipped from the client): on a LocalCluster of two workers, the same cells as one run."""
    from demo.city import write_demo_city

    write_demo_city(pg_store, demo_city, bookings=False, reports=False)
    _source, plan, want = demo_inputs
    client = cluster(n_workers=2, memory_limit="2GB")
    try:
        got = run_province(StoreSource(pg_url, schema=pg_schema), THRESHOLDS, plan=plan,
                           parts=tiles(plan, 2, 2), client=client)
    finally:
        close_cluster(client)
    assert_identical(got, want, FACILITY_LAYERS)
