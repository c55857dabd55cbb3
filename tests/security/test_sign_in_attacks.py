"""Sign-in tried as an attacker would: parallel guesses, and what a refusal reveals."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import pytest
from shapely.geometry import Point

from layers.errors import SignInError
from office import accounts
from office.accounts import MAX_FAILURES, create_account, sign_in

PASSWORD = "青溪-Edu-2026!"


def _guess(store, name: str, password: str) -> str:
    try:
        sign_in(store, name, password)
        return "in"
    except SignInError as exc:
        return str(exc)


def test_three_bursts_of_eight_parallel_guesses_lock_the_account(store, monkeypatch):
    create_account(store, "li.si", PASSWORD, role="editor", department="education")
    checked = []
    real = accounts.verify_password

    def counting(password, stored):
        if stored == store.accounts.get("li.si")["password_hash"]:
            checked.append(password)
        return real(password, stored)

    monkeypatch.setattr(accounts, "verify_password", counting)
    outcomes = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for burst in range(3):
            start = threading.Barrier(8)

            def attempt(k: int, burst=burst, start=start) -> str:
                start.wait()
                return _guess(store, "li.si", f"guess-{burst}-{k}-Qingxi")

            outcomes += list(pool.map(attempt, range(8)))
    assert len(outcomes) == 24 and set(outcomes) == {"Wrong user name or password."}  # zero crashes, one message
    row = store.accounts.get("li.si")
    assert row["locked_until"] is not None and int(row["failed_attempts"]) == 24
    # Only the first five could have signed in; three more could at most learn "locked" from the right
    # password; the other sixteen were not checked against the account at all (same work, no answer).
    assert len(checked) == MAX_FAILURES + accounts.LOCK_REVEALS
    with pytest.raises(SignInError, match="^Wrong user name or password.$"):
        sign_in(store, "li.si", PASSWORD)  # the right password is refused now, and learns nothing


def test_unknown_names_and_locked_accounts_answer_like_wrong_passwords(store):
    create_account(store, "wang.wu", PASSWORD, role="viewer")
    assert _guess(store, "nobody.here", PASSWORD) == _guess(store, "wang.wu", "not-it-Qingxi-1")
    for _ in range(MAX_FAILURES):
        _guess(store, "wang.wu", "not-it-Qingxi-1")
    assert _guess(store, "wang.wu", "not-it-Qingxi-1") == "Wrong user name or password."  # locked: same words
    assert "locked" in _guess(store, "wang.wu", PASSWORD)  # only the right password learns of the lock
    for _ in range(accounts.LOCK_REVEALS):
        _guess(store, "wang.wu", PASSWORD)
    assert _guess(store, "wang.wu", PASSWORD) == "Wrong user name or password."  # and not as an oracle for ever


def test_a_right_password_signs_in_during_a_long_layer_write(gpkg_store, monkeypatch):
    """The GeoPackage's sign-in is a small in-place transaction: it does not wait for a layer write,
    and the layer write does not lose it."""
    import layers.stores.geopackage.layers as gpkg_layers

    create_account(gpkg_store, "li.si", PASSWORD, role="editor", department="education")
    writing, release = threading.Event(), threading.Event()
    real_write = gpkg_layers.pyogrio.write_dataframe

    def slow_write(*args, **kwargs):
        writing.set()
        assert release.wait(120), "the test never released the layer write"
        return real_write(*args, **kwargs)

    monkeypatch.setattr(gpkg_layers.pyogrio, "write_dataframe", slow_write)
    venue = gpd.GeoDataFrame({"feature_id": ["v1"], "department": ["sports"], "name": ["篮球场"],
                              "venue_kind": ["court"]}, geometry=[Point(114.3, 30.6)], crs=4326)
    errors = []
    writer = threading.Thread(target=lambda: _run(errors, gpkg_store.layers.write, "venues", venue, user="体育局"))
    writer.start()
    assert writing.wait(60)
    try:
        me = sign_in(gpkg_store, "li.si", PASSWORD)  # while the import is half-way
        assert me.username == "li.si" and writer.is_alive()
        with pytest.raises(SignInError):
            sign_in(gpkg_store, "li.si", "wrong-Qingxi-1")
    finally:
        release.set()
        writer.join(120)
    assert errors == []
    row = gpkg_store.accounts.get("li.si")  # the sign-in and the later failure survived the layer write's swap
    assert row["last_sign_in"] is not None and int(row["failed_attempts"]) == 1
    assert gpkg_store.layers.read("venues")["name"].tolist() == ["篮球场"]


def _run(errors: list, fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 — reported by the test
        errors.append(exc)
