"""``onemap backup`` while residents book, and ``onemap restore`` into a new store, on both stores: the restored
store holds, row for row, every table as it stood at one moment during the backup — every booking committed
before that moment and none after it (in commit order), each slot's count of places equal to its bookings, every
other table equal to the source's.  A backup made by a newer release is refused, nothing written."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from layers.errors import StoreUnavailableError
from layers.stores.backup import backup_store, restore_store
from layers.stores.postgis import normalize_database_url
from office.bookings import BookingDesk
from tests.bookings.helpers import COURT, set_up_court, tomorrow_at


def _rows(store) -> dict[str, list[tuple]]:
    """Every table of ``store`` (its own and the layers), each as its sorted rows."""
    if hasattr(store, "path"):
        with sqlite3.connect(f"file:{store.path}?mode=ro", uri=True) as con:
            names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                                               "LIKE 'rtree%' AND name NOT LIKE 'sqlite%'")]
            return {n: sorted(map(repr, con.execute(f'SELECT * FROM "{n}"'))) for n in names}
    with store.engine.connect() as conn:
        names = conn.execute(text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s AND "
                                  "table_type = 'BASE TABLE'"), {"s": store.schema}).scalars().all()
        return {n: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{store.schema}"."{n}"')).all()))
                for n in names}


def _booking_ids(store) -> set[str]:
    return set(store.bookings.list(resource_ids=[COURT])["booking_id"])


@pytest.fixture
def fresh_database(pg_url):
    """A new database in the same cluster (with PostGIS), dropped after: where a restore goes."""
    name = f"onemap_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_database_url(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _target(store, tmp_path, request):
    return str(tmp_path / "restored.gpkg") if hasattr(store, "path") else request.getfixturevalue("fresh_database")


def test_a_backup_taken_during_a_booking_burst_restores_one_moment(store, demo_city, tmp_path, request):
    set_up_court(store, demo_city, capacity=100_000)
    desk = BookingDesk(store)
    committed: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def book() -> None:  # one resident after another, each a booking in its own transaction, in commit order
        k = 0
        while not stop.is_set():
            try:
                got = desk.book(COURT, tomorrow_at(8 + k % 12), f"135{k:08d}")
                assert got.outcome == "booked", got.outcome
                committed.append(got.row["booking_id"])
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)
                return
            k += 1

    worker = threading.Thread(target=book)
    worker.start()
    while len(committed) < 20 and worker.is_alive():
        stop.wait(0.05)
    before = len(committed)
    backup = backup_store(store, tmp_path / ("city.gpkg" if hasattr(store, "path") else "city.dump"))
    after = len(committed)
    while len(committed) < after + 10 and worker.is_alive():  # the burst goes on after the backup
        stop.wait(0.05)
    stop.set()
    worker.join(60)
    assert not errors, errors
    source = _rows(store)

    with restore_store(backup, _target(store, tmp_path, request)) as restored:
        got = _rows(restored)
        held = _booking_ids(restored)
        slots = restored.bookings.slots(resource_ids=[COURT]).set_index("slot_id")["booked"]
        per_slot = restored.bookings.list(resource_ids=[COURT]).groupby("slot_id").size()
    # the bookings of one moment: a prefix of the commit order, cut during the backup
    k = len(held)
    assert before <= k <= after + 1 and held == set(committed[:k]), (before, k, after)
    assert len(committed) > k  # and the burst went on after it
    # every table as it stood: the source's rows less what the bookings after the moment wrote (their rows,
    # their contacts, events and audit rows); the slots, whose counts those bookings changed, count the rest
    later = [repr(b) for b in committed[k:]]
    for table in set(source) - {"onemap_booking_slots"}:
        assert got.get(table) == [r for r in source[table] if not any(b in r for b in later)], table
    assert (slots.reindex(per_slot.index) == per_slot).all() and int(slots.sum()) == k


def test_a_geopackage_backup_of_a_newer_release_is_refused(gpkg_store, tmp_path):
    from layers.stores.geopackage.migrations import SCHEMA_VERSION

    backup = backup_store(gpkg_store, tmp_path / "b.gpkg")
    with sqlite3.connect(backup) as con:
        con.execute("UPDATE onemap_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreUnavailableError, match="newer release"):
        restore_store(backup, str(tmp_path / "restored.gpkg"))
    assert not (tmp_path / "restored.gpkg").exists()
    with pytest.raises(StoreUnavailableError, match="exists"):  # never over a store
        restore_store(backup, str(gpkg_store.path))


@pytest.mark.postgis
def test_a_postgis_backup_of_a_newer_release_is_refused(pg_store, fresh_database, tmp_path):
    with pg_store.engine.begin() as conn:
        conn.execute(text(f'UPDATE "{pg_store.schema}".alembic_version SET version_num = \'9999_from_the_future\''))
    backup = backup_store(pg_store, tmp_path / "b.dump")
    with pytest.raises(StoreUnavailableError, match="newer release"):
        restore_store(backup, fresh_database)
    engine = create_engine(normalize_database_url(fresh_database))
    with engine.connect() as conn:
        assert not conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"),
                                {"s": pg_store.schema}).scalar()
    engine.dispose()


def test_the_commands_back_up_and_restore(gpkg_store, demo_city, tmp_path):
    gpkg_store.layers.write("venues", demo_city.layers["venues"], user="test")
    run = lambda *a: subprocess.run([sys.executable, "-m", "cli.main", *a], capture_output=True, text=True,  # noqa
                                    timeout=120)
    done = run("--store", str(gpkg_store.path), "backup", str(tmp_path / "b.gpkg"))
    assert done.returncode == 0, done.stderr
    done = run("restore", str(tmp_path / "b.gpkg"), "--into", str(tmp_path / "r.gpkg"))
    assert done.returncode == 0 and "layers" in done.stdout, done.stderr
    again = run("restore", str(tmp_path / "b.gpkg"), "--into", str(tmp_path / "r.gpkg"))
    assert again.returncode == 4 and "exists" in again.stderr
