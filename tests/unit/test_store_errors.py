"""Bad input to the GeoPackage store: one clear message each, and nothing changed."""

from __future__ import annotations

import fcntl
import os
import stat

import geopandas as gpd
import pytest
from shapely.geometry import Point

from layers.errors import StoreLockedError, StoreUnavailableError, UnknownLayerError
from layers.stores import open_store
from layers.stores.geopackage import GeoPackageStore


def _one_venue() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["篮球场"], "venue_kind": ["court"]},
                            geometry=[Point(114.0, 30.0)], crs=4326)


def test_missing_geopackage_says_what_to_do(tmp_path):
    with pytest.raises(StoreUnavailableError, match="does not exist.*make demo-data"):
        open_store(tmp_path / "nope.gpkg")


def test_file_that_is_not_a_geopackage(tmp_path):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreUnavailableError, match="not a readable GeoPackage"):
        open_store(junk)
    truncated = tmp_path / "truncated.gpkg"
    store = GeoPackageStore(tmp_path / "good.gpkg", create=True)
    store.layers.write("venues", _one_venue())
    truncated.write_bytes((tmp_path / "good.gpkg").read_bytes()[:2000])
    with pytest.raises(StoreUnavailableError):
        open_store(truncated).layers.read("venues")


def test_plain_geopackage_is_not_a_store(tmp_path):
    plain = tmp_path / "plain.gpkg"
    _one_venue().to_file(plain, driver="GPKG")
    with pytest.raises(StoreUnavailableError, match="not a one-map store"):
        open_store(plain)


def test_locked_geopackage_refuses_write_and_keeps_data(tmp_path):
    store = GeoPackageStore(tmp_path / "s.gpkg", create=True, lock_timeout=0.3)
    store.layers.write("venues", _one_venue())
    with open(str(tmp_path / "s.gpkg") + ".lock", "a+") as other_writer:
        fcntl.flock(other_writer, fcntl.LOCK_EX)
        with pytest.raises(StoreLockedError, match="locked by another write"):
            store.layers.write("venues", _one_venue().assign(name="新"))
        assert store.layers.read("venues")["name"].tolist() == ["篮球场"]  # readers are not blocked
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp.gpkg")]


def test_read_only_geopackage(tmp_path):
    """A store file this user may not write is refused clearly.  Root ignores file permissions, so under root
    (as in CI) the check runs as the unprivileged user ``nobody``."""
    import shutil
    import subprocess
    import sys
    import tempfile

    if os.geteuid() != 0:
        store = GeoPackageStore(tmp_path / "s.gpkg", create=True)
        store.layers.write("venues", _one_venue())
        os.chmod(tmp_path / "s.gpkg", stat.S_IRUSR)
        with pytest.raises(StoreLockedError, match="read-only"):
            store.layers.write("venues", _one_venue())
        return
    folder = tempfile.mkdtemp(prefix="onemap-ro-")
    opened = _let_nobody_through([sys.prefix, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))])
    try:
        os.chmod(folder, 0o755)  # nobody may read the folder and the file, not write either
        path = os.path.join(folder, "s.gpkg")
        GeoPackageStore(path, create=True).layers.write("venues", _one_venue())
        os.chmod(path, 0o644)
        script = ("import geopandas as gpd\n"
                  "from shapely.geometry import Point\n"
                  "from layers.errors import StoreLockedError\n"
                  "from layers.stores.geopackage import GeoPackageStore\n"
                  f"store = GeoPackageStore({path!r})\n"
                  "assert store.layers.read('venues')['name'].tolist() == ['篮球场']\n"
                  "try:\n"
                  "    store.layers.write('venues', gpd.GeoDataFrame({'name': ['x'], 'venue_kind': ['court']},"
                  " geometry=[Point(114, 30)], crs=4326))\n"
                  "except StoreLockedError as exc:\n"
                  "    print('refused:', exc)\n")
        run = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c",
                              script], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "HOME": folder})
        assert run.returncode == 0, run.stderr
        assert "refused:" in run.stdout and "read-only" in run.stdout, run.stdout
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for path, mode in opened:
            os.chmod(path, mode)


def _let_nobody_through(paths: list[str]) -> list[tuple[str, int]]:
    """Give ``nobody`` passage (o+x) through every folder above ``paths`` that lacks it, as a checkout in a
    ``mktemp -d`` folder (mode 0700) does, so its Python and this project can be imported; return what to put
    back afterwards."""
    opened: list[tuple[str, int]] = []
    for path in paths:
        here = os.path.realpath(path)
        while True:
            mode = stat.S_IMODE(os.stat(here).st_mode)
            if not mode & stat.S_IXOTH and here not in dict(opened):
                os.chmod(here, mode | stat.S_IXOTH | stat.S_IROTH)
                opened.append((here, mode))
            if here == os.path.dirname(here):
                break
            here = os.path.dirname(here)
    return opened


def test_read_only_geopackage_as_root_too(tmp_path, monkeypatch):
    """Root bypasses permissions, so the same refusal is checked through os.access."""
    store = GeoPackageStore(tmp_path / "s.gpkg", create=True)
    store.layers.write("venues", _one_venue())
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p).endswith("s.gpkg") and mode == os.W_OK
                        else real_access(p, mode))
    with pytest.raises(StoreLockedError, match="read-only"):
        store.layers.write("venues", _one_venue())
    assert len(store.layers.read("venues")) == 1


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    """A crash in the middle of a write (here: the version log insert) changes nothing."""
    from layers.errors import StoreError
    from layers.stores.geopackage.file import GpkgFile

    store = GeoPackageStore(tmp_path / "s.gpkg", create=True)
    store.layers.write("venues", _one_venue())
    before = (tmp_path / "s.gpkg").read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(GpkgFile, "log_version", staticmethod(boom))
    with pytest.raises(StoreError, match="unchanged"):
        store.layers.write("venues", _one_venue().assign(name="新"))
    assert (tmp_path / "s.gpkg").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["s.gpkg", "s.gpkg.lock"]


def test_unknown_layer_lists_catalogue(tmp_path):
    store = GeoPackageStore(tmp_path / "s.gpkg", create=True)
    with pytest.raises(UnknownLayerError) as info:
        store.layers.read("gyms")
    assert "venues" in str(info.value) and "school_facilities" in str(info.value)


def test_store_opens_in_gdal_as_plain_geopackage(tmp_path):
    """QGIS users see the current layer as an ordinary GeoPackage table."""
    import pyogrio

    store = GeoPackageStore(tmp_path / "s.gpkg", create=True)
    store.layers.write("venues", _one_venue())
    names = [str(n) for n, _ in pyogrio.list_layers(tmp_path / "s.gpkg")]
    assert "venues" in names
    plain = gpd.read_file(tmp_path / "s.gpkg", layer="venues")
    assert plain["name"].tolist() == ["篮球场"] and plain.crs.to_epsg() == 4326


def test_a_store_made_before_a_field_was_added_still_archives(tmp_path, demo_city):
    """A GeoPackage made when health stations had no phone: its archive table lacks the column, and the next
    change still archives the old rows (the column is added) instead of failing."""
    import sqlite3

    path = tmp_path / "old.gpkg"
    store = GeoPackageStore(path, create=True)
    stations = demo_city.layers["health_stations"]
    store.layers.write("health_stations", stations.drop(columns=["phone"]))
    store.layers.write("health_stations", stations.drop(columns=["phone"]).assign(name="改名"))  # archive made
    with sqlite3.connect(path) as con:  # as the earlier release left it
        con.execute('ALTER TABLE "health_stations__archive" DROP COLUMN "phone"')
        cols = {r[1] for r in con.execute('PRAGMA table_info("health_stations__archive")')}
    assert "phone" not in cols
    store.layers.write("health_stations", stations)
    assert store.layers.read("health_stations")["phone"].notna().all()
    assert set(store.layers.read("health_stations", version=2)["name"]) == {"改名"}
    assert len(store.history("health_stations")) == 3
