"""Benchmark: what a sign-in costs for an unknown name, a known name with a wrong password, and a locked
account, on both stores; and three bursts of eight parallel guesses.  Prints figures; asserts nothing.

An attacker who can tell the first from the second learns which user names exist; the
issue's target is medians within 10 % of each other over 20 tries.

    make bench-sign-in
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text

from config.log_setup import configure_logging
from layers.errors import SignInError
from layers.stores.geopackage import GeoPackageStore
from layers.stores.postgis import PostGISStore, normalize_database_url
from office.accounts import create_account, sign_in, unlock_account

TRIES = 20
PASSWORD = "青溪-Bench-2026!"


def _once(store, name: str, password: str) -> float:
    t = time.perf_counter()
    try:
        sign_in(store, name, password)
    except SignInError:
        pass
    return time.perf_counter() - t


def measure(store, label: str) -> None:
    create_account(store, "known.user", PASSWORD, role="viewer")
    create_account(store, "locked.user", PASSWORD, role="viewer")
    for _ in range(6):
        _once(store, "locked.user", "wrong-Qingxi-0")
    unknown, known, locked = [], [], []
    for k in range(TRIES):  # interleaved, so load on the machine hits all three alike
        unknown.append(_once(store, f"nobody-{k}", "wrong-Qingxi-1"))
        known.append(_once(store, "known.user", "wrong-Qingxi-1"))
        locked.append(_once(store, "locked.user", "wrong-Qingxi-1"))
        if k % 4 == 3:
            unlock_account(store, "known.user")  # stay below the lock
    mu, mk, ml = (statistics.median(x) * 1000 for x in (unknown, known, locked))
    print(f"{label:<11} median of {TRIES}: unknown name {mu:6.1f} ms | known name, wrong password {mk:6.1f} ms | "
          f"locked account {ml:6.1f} ms | known/unknown {mk / mu:.3f}, locked/unknown {ml / mu:.3f}")
    unlock_account(store, "known.user")
    t = time.perf_counter()
    outcomes = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for burst in range(3):
            outcomes += list(pool.map(lambda k, b=burst: _once(store, "known.user", f"guess-{b}-{k}-Qingxi"),
                                      range(8)))
    row = store.accounts.get("known.user")
    print(f"{'':<11} 3 bursts x 8 parallel wrong guesses: {time.perf_counter() - t:.2f} s, "
          f"locked={row['locked_until'] is not None}, attempts counted={row['failed_attempts']}")


def main() -> None:
    configure_logging("ERROR")  # every refusal is logged; the figures are what this prints
    with tempfile.TemporaryDirectory() as folder:
        with GeoPackageStore(Path(folder) / "bench.gpkg", create=True) as store:
            measure(store, "GeoPackage")
    url = os.environ.get("ONEMAP_TEST_DATABASE_URL")
    if not url:
        print("PostGIS: set ONEMAP_TEST_DATABASE_URL (make bench-sign-in starts a local PostGIS)")
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with PostGISStore(url, schema=schema) as store:
            measure(store, "PostGIS")
    finally:
        engine = create_engine(normalize_database_url(url))
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
