"""The prepared engine kept on disk: read back it answers exactly as built; a restarted server reads it instead of
building the engine again, a changed layer builds a new one, and a file this server did not write whole (tampered,
cut short, signed with another key, not an engine) is never unpickled as an engine."""

from __future__ import annotations

import pickle
import shutil

from geo.engine_file import _MAGIC, engine_key, load_engine, save_engine
from layers.stores.geopackage import GeoPackageStore

SECRET = b"k" * 32


def test_an_engine_read_back_answers_exactly_as_built(demo_analysis, tmp_path):
    path = tmp_path / "city.engine"
    save_engine(demo_analysis.engine, path, SECRET)
    assert path.stat().st_mode & 0o077 == 0  # this user's only
    again = load_engine(path, SECRET)
    built = demo_analysis.engine.run([300.0, 500.0, 1000.0])
    read = again.run([300.0, 500.0, 1000.0])
    assert read.summary().equals(built.summary())
    assert (read.distance.to_numpy() == built.distance.to_numpy()).all()
    assert again.network_reach.network._index is None  # left out of the file, built again on the first snap:
    x, y = demo_analysis.demand.x[:50] + 7.0, demo_analysis.demand.y[:50] - 3.0
    mine, theirs = again.network_reach.network.snap(x, y), demo_analysis.network.snap(x, y)
    assert all((getattr(mine, f) == getattr(theirs, f)).all() for f in ("edge", "along", "offset"))
    assert demo_analysis.network._index is not None  # the engine in memory kept its own


def test_a_file_not_written_whole_by_this_server_is_refused(demo_analysis, tmp_path, caplog, monkeypatch):
    import logging

    logger = logging.getLogger("geo.engine_file")  # heard whatever an earlier test's logging set-up did to it
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.WARNING, logger="geo.engine_file")
    logger.addHandler(caplog.handler)
    path = tmp_path / "city.engine"
    save_engine(demo_analysis.engine, path, SECRET)
    data = path.read_bytes()
    assert load_engine(path, b"another key of thirty-two bytes!") is None  # signed by someone else
    for bad in (data[:-1], data[:len(_MAGIC) + 10], data[:100] + bytes([data[100] ^ 1]) + data[101:], b""):
        path.write_bytes(bad)
        assert load_engine(path, SECRET) is None
    import hashlib
    import hmac

    body = pickle.dumps({"not": "an engine"})  # signed properly, but not an engine
    path.write_bytes(_MAGIC + hmac.new(SECRET, _MAGIC + body, hashlib.sha256).digest() + body)
    assert load_engine(path, SECRET) is None
    assert load_engine(tmp_path / "none.engine", SECRET) is None
    assert "bad signature" in caplog.text
    logger.removeHandler(caplog.handler)


def test_the_key_changes_with_the_layers_and_the_method():
    base = engine_key("gpkg:/city", (("venues", "vector", 1, "t1"),), "network")
    assert base == engine_key("gpkg:/city", (("venues", "vector", 1, "t1"),), "network")
    assert base != engine_key("gpkg:/city", (("venues", "vector", 2, "t2"),), "network")
    assert base != engine_key("gpkg:/city", (("venues", "vector", 1, "t1"),), "straight_line")


def test_a_restarted_server_reads_the_engine_and_a_changed_layer_builds_it_again(demo_gpkg, tmp_path, monkeypatch):
    import ui.analysis as analysis

    monkeypatch.setenv("ONEMAP_INSTANCE_DIR", str(tmp_path / "instance"))
    built = []
    real = analysis.engine_from_readers
    monkeypatch.setattr(analysis, "engine_from_readers", lambda *a, **k: built.append(1) or real(*a, **k))
    city = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, city)
    with GeoPackageStore(city) as store:
        analysis._engine.clear()
        first = analysis.get_engine(store).run([500.0]).summary()
        assert built == [1] and len(list((tmp_path / "instance" / "engines").glob("*.engine"))) == 1
        analysis._engine.clear()  # the server restarted: nothing in memory
        assert analysis.get_engine(store).run([500.0]).summary().equals(first)
        assert built == [1]  # read from its file, not built
        venues = store.layers.read("venues")
        store.layers.write("venues", venues.iloc[: len(venues) // 2], user="test")  # a changed layer
        analysis._engine.clear()
        changed = analysis.get_engine(store).run([500.0]).summary()
        assert built == [1, 1] and not changed.equals(first)
    analysis._engine.clear()

