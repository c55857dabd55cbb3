"""Pulling a layer from another department's OGC API service (a second store served by the same server software):
a malformed remote feature is reported like a malformed file row and nothing is stored; once fixed, the pull
stores what the service publishes, with the service's address in the history."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys

from layers.stores.geopackage import GeoPackageStore
from services.pygeoapi_config import published_fields
from tests.conftest import ROOT, _free_port, ogc_server


def _sync(store_path, tmp_path, url: str, *extra: str, allowed: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "--store", str(store_path), "--quiet", "--user", "数据交换",
                           "sync", "--url", url, "--collection", "venues", *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "ONEMAP_SYNC_ALLOWED": url if allowed is None else allowed})


def test_a_pull_is_checked_like_a_file_and_lands_whole(demo_gpkg, tmp_path):
    remote, local = tmp_path / "education.gpkg", tmp_path / "sports.gpkg"
    shutil.copyfile(demo_gpkg, remote)
    shutil.copyfile(demo_gpkg, local)
    with GeoPackageStore(local) as store:  # the local copy lags behind: three venues missing, one renamed
        venues = store.layers.read("venues")
        keep = venues.iloc[3:].copy()
        keep.loc[keep.index[0], "name"] = "旧名称"
        store.layers.write("venues", keep, mode="replace", user="t")
        before = store.layers.read("venues")
        version_before = {i.name: i.layer_version for i in store.layers.list()}["venues"]
    with sqlite3.connect(remote) as con:  # another system's row the one map would never accept
        for fn in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):  # named by GeoPackage's triggers on
            con.create_function(fn, 1, lambda g: None)                           # the geometry, which stays as is
        con.execute("UPDATE venues SET venue_kind = 'spaceport' WHERE feature_id = 'venue-005'")
    for url in ogc_server(remote, "ogc_api_sync.log"):
        refused = _sync(local, tmp_path, url, "--mode", "upsert")
        said = refused.stdout + refused.stderr
        assert refused.returncode == 3, said
        assert "row 6" in said and "venue_kind" in said and "spaceport" in said, said  # the 6th feature, its field
        assert "stadium" in said  # … and what would be accepted
        with GeoPackageStore(local) as store:
            after = store.layers.read("venues")
            assert {i.name: i.layer_version for i in store.layers.list()}["venues"] == version_before
        assert after.drop(columns="geometry").equals(before.drop(columns="geometry"))  # nothing half-written
        with GeoPackageStore(remote) as source:  # the other department fixes its row
            fixed = source.layers.read("venues")
            fixed = fixed[fixed["feature_id"] == "venue-005"].assign(venue_kind="gym")
            source.layers.write("venues", fixed, mode="upsert", user="教育局")
            served = source.layers.read("venues")
        pulled = _sync(local, tmp_path, url, "--mode", "upsert")
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr
        assert "upsert: 3 added, " in pulled.stdout
    with GeoPackageStore(local) as store:
        got = store.layers.read("venues").set_index("feature_id").sort_index()
        history = store.history("venues")
    want = served.set_index("feature_id").sort_index()
    fields = [f for f in published_fields("venues") if f != "updated_at"]
    assert list(got.index) == list(want.index)
    assert got[fields].astype(str).equals(want[fields].astype(str))
    assert got.geometry.geom_equals_exact(want.geometry, tolerance=1e-9).all()
    assert got.loc["venue-000", "source"] == f"{url}/collections/venues"
    last = history.iloc[-1]
    assert str(last["source"]).startswith(f"{url}/collections/venues (") and last["changed_by"] == "数据交换"


def test_the_data_page_pulls_and_shows_the_refusal(demo_gpkg, tmp_path, monkeypatch):
    """The Data page's pull: the service's malformed feature is listed like a file's row, in Chinese."""
    from streamlit.testing.v1 import AppTest

    from ui.store_access import _open

    remote, local = tmp_path / "parks.gpkg", tmp_path / "sports.gpkg"
    shutil.copyfile(demo_gpkg, remote)
    shutil.copyfile(demo_gpkg, local)
    with sqlite3.connect(remote) as con:
        for fn in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
            con.create_function(fn, 1, lambda g: None)
        con.execute("UPDATE venues SET venue_kind = 'spaceport' WHERE feature_id = 'venue-005'")
    monkeypatch.setenv("ONEMAP_GPKG", str(local))
    monkeypatch.setenv("ONEMAP_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _open.clear()
    for url in ogc_server(remote, "ogc_api_sync_page.log"):
        monkeypatch.setenv("ONEMAP_SYNC_ALLOWED", url)
        at = AppTest.from_file(str(ROOT / "ui" / "main.py"), default_timeout=180).run()
        at.switch_page("views/data_page.py").run()
        at.text_input(key="data_sync_url").set_value(url).run()
        at.text_input(key="data_sync_collection").set_value("venues").run()
        at.button(key="data_sync").click().run()
        assert not at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["读取行数"] == "68" and metrics["合格行数"] == "67", metrics
        problems = next(d.value for d in at.dataframe if "字段" in d.value.columns)
        assert "spaceport" in problems.to_string() and "6" in set(problems.iloc[:, 0])
        at.text_input(key="data_sync_collection").set_value("nope").run()
        at.button(key="data_sync").click().run()
        assert any("没有数据集 nope" in e.value for e in at.error), [e.value for e in at.error]
    _open.clear()


def test_an_unreachable_service_is_said_plainly(tmp_path):
    local = tmp_path / "sports.gpkg"
    GeoPackageStore(local, create=True).close()
    run = _sync(local, tmp_path, f"http://127.0.0.1:{_free_port()}")
    assert run.returncode == 3 and "no OGC API – Features service answered" in run.stdout + run.stderr
