"""The disk fills under a GeoPackage write: the write is refused with a message that says so, and the store is
as it was (same layers, same rows, the file intact, no half-written copy left).  A real full disk: a small
tmpfs mounted for the test (root, as in CI)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from layers.errors import StoreError
from layers.stores.geopackage import GeoPackageStore


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        from tests.conftest import IN_CI

        if IN_CI:
            pytest.fail("CI must run the full-disk test as root")
        pytest.skip("mounting a small disk needs root (CI runs as root)")
    where = Path("/tmp") / f"onemap-full-{uuid.uuid4().hex[:8]}"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=14m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def _fill(folder: Path, leave_mb: float, name: str = "filler") -> None:
    """Fill ``folder``'s disk until about ``leave_mb`` is free."""
    free = shutil.disk_usage(folder).free
    (folder / name).write_bytes(b"\0" * max(int(free - leave_mb * 1e6), 0))


def test_a_layer_write_on_a_full_disk_is_refused_and_the_store_is_unchanged(small_disk, demo_gpkg, demo_city):
    path = small_disk / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:  # opened once (an upgrade, if any, done) before the disk fills
        before = store.layers.read("venues")
        versions = store.last_versions()
    _fill(small_disk, 1.0)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with GeoPackageStore(path) as store:
        with pytest.raises(StoreError, match="(?i)disk|space|full"):
            store.layers.write("venues", demo_city.layers["venues"].head(5), mode="append", user="test")
        _fill(small_disk, 0, "filler2")  # and now not a page free: a small write in the file itself
        rows = store.records.read("satisfaction").head(200)
        with pytest.raises(StoreError, match="(?i)disk|space|full"):
            store.records.write("satisfaction", rows, user="test", source="t", department="sports")
        assert store.last_versions() == versions
        assert store.layers.read("venues").equals(before)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in small_disk.iterdir()) == ["city.gpkg", "city.gpkg.lock", "filler", "filler2"]
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
