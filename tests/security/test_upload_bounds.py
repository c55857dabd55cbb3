"""Uploads tried as an attacker (or a careless steward) would send them: a zip bomb, a million-vertex
polygon, a zip that writes outside its folder, a raster that would decompress to billions of cells.

Each is refused with a message naming the file and the limit, in a process whose peak memory stays under
500 MB, and nothing is left behind: not in the upload folder, not beside it.  The time each takes is
reported by ``make bench-uploads`` (tests here do not time things).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from layers.errors import UploadLimitError
from layers.ingest import prepare_import
from layers.stores.geopackage import GeoPackageStore
from tests.security.bad_files import (
    ROOT,
    _shapefile_parts,
    build_bad_files,
    million_vertex_polygon,
    refuse_in_a_process,
)

PEAK_MB = 500


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    return build_bad_files(tmp_path_factory.mktemp("bad_uploads"))


EXPECTED = {
    "zip_bomb": r"场馆_炸弹\.zip: would expand to 1,\d{3} MB, over the 500 MB limit",
    "vertices_geojson": r"大圈\.geojson: a feature is larger than \d+ MB of GeoJSON text — more than the 100,000 vertices",
    "vertices_shapefile": r"大圈\.zip: feature 1 has 1,000,\d{3} vertices; a feature may have at most 100,000",
    "traversal": r"越界\.zip: member '\.\./\.\./onemap_escaped\.txt' points outside the archive's folder",
    "symlink": r"链接\.zip: member 'v\.dbf' is a link",
    "raster_bomb": r"人口\.tif: 200,000 × 200,000 cells; a raster may have at most 100,000,000",
    "csv_rows": r"场馆_行炸弹\.csv: the table has 2,\d{3},\d{3} rows, over the limit of 2,000,000 .* refused before it "
                r"was parsed",
    "xlsx_rows": r"场馆_行炸弹\.xlsx: the table has 2,\d{3},\d{3} rows, over the limit of 2,000,000",
    "xlsx_far_cell": r"场馆_远端单元格\.xlsx: the table has 16,384 columns, over the limit of 500",
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_bad_upload_is_refused_within_bounds(bad_files, kind, tmp_path):
    uploads = tmp_path / "uploads"
    got = refuse_in_a_process(bad_files[kind], kind, uploads, tmp_path / "store.gpkg")
    assert got["error"] == "UploadLimitError", got
    assert re.search(EXPECTED[kind], got["message"]), got["message"]
    assert str(tmp_path) not in got["message"] and "Traceback" not in got["message"]  # no server paths
    assert got["peak_mb"] < PEAK_MB, got
    assert list(uploads.glob("*")) == []  # the workspace is gone
    assert not (bad_files["traversal"].parent.parent.parent / "onemap_escaped.txt").exists()
    assert not any(bad_files["traversal"].parents[2].rglob("onemap_escaped.txt"))


def test_a_good_zip_leaves_nothing_behind(tmp_path, monkeypatch):
    folder = tmp_path / "parts"
    folder.mkdir()
    frame = gpd.GeoDataFrame({"名称": ["篮球场"], "类型": ["court"]}, geometry=[Point(114.3, 30.6)], crs=4326)
    parts = _shapefile_parts(folder, frame, "v")
    archive = tmp_path / "场馆.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for suffix, part in parts.items():
            z.write(part, f"v{suffix}")
    monkeypatch.setenv("ONEMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    plan = prepare_import(archive, "venues")
    assert plan.n_valid == 1 and list((tmp_path / "uploads").glob("*")) == []


def test_limits_are_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEMAP_MAX_VERTICES_PER_FEATURE", "10")
    frame = gpd.GeoDataFrame({"名称": ["圈"], "类型": ["park_fitness"]},
                             geometry=[million_vertex_polygon(50)], crs=4326)
    frame.to_file(tmp_path / "圈.geojson", driver="GeoJSON")
    with pytest.raises(UploadLimitError, match="feature 1 has 5[01] vertices; a feature may have at most 10"):
        prepare_import(tmp_path / "圈.geojson", "venues")


def test_a_killed_writers_copy_is_removed_when_the_store_next_opens(tmp_path, demo_city):
    store_path = tmp_path / "city.gpkg"
    with GeoPackageStore(store_path, create=True) as store:
        store.layers.write("venues", demo_city.layers["venues"], user="init")
    script = textwrap.dedent(f"""
        import time
        import pyogrio
        import layers.stores.geopackage.layers as L
        from demo.city import build_demo_city
        from layers.stores.geopackage import GeoPackageStore
        real = L.pyogrio.write_dataframe
        def slow(*a, **k):
            real(*a, **k)
            print("half-way", flush=True)
            time.sleep(600)
        L.pyogrio.write_dataframe = slow
        GeoPackageStore({str(store_path)!r}).layers.write("walk_network", build_demo_city().layers["walk_network"],
                                                          user="x")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "half-way"
        leftovers = list(tmp_path.glob(".city.*.tmp.gpkg"))
        assert len(leftovers) == 1 and leftovers[0].stat().st_size > 1_000_000
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert list(tmp_path.glob(".city.*.tmp.gpkg"))  # kill -9: nothing cleaned up after itself
    before = time.monotonic()
    with GeoPackageStore(store_path) as store:
        assert list(tmp_path.glob(".city.*.tmp.gpkg")) == []
        assert len(store.layers.read("venues")) == len(demo_city.layers["venues"])  # the store is as it was
        assert "walk_network" not in {i.name for i in store.layers.list()}
    assert time.monotonic() - before < 600
