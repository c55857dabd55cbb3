"""The 应急 page records an incident at the time typed, not at the minute of the click."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil

from streamlit.testing.v1 import AppTest

from layers.stores.factory import open_store
from tests.app.test_pages import APP


def test_a_typed_time_is_the_time_recorded_and_the_one_responders_are_found_for(monkeypatch, demo_gpkg, tmp_path):
    copy = tmp_path / "city.gpkg"
    shutil.copy(demo_gpkg, copy)
    monkeypatch.setenv("ONEMAP_GPKG", str(copy))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from ui import emergency
    from ui.store_access import _open

    _open.clear()
    # The server's clock moves a minute at every call, as it does while a person types: a default taken from it
    # at each rerun made a new field and dropped what was typed.
    start = dt.datetime.now().replace(second=0, microsecond=0)
    minutes = itertools.count()
    monkeypatch.setattr(emergency, "clock_now", lambda: start + dt.timedelta(minutes=next(minutes)))
    try:
        at = AppTest.from_file(APP, default_timeout=240).run()
        at.switch_page("views/emergency_page.py").run()
        at.radio(key="emergency.section").set_value("incident").run()
        assert not at.exception
        typed = dt.datetime.combine(start.date() - dt.timedelta(days=1), dt.time(10, 0))
        at.date_input(key="incident.day").set_value(typed.date())
        at.time_input(key="incident.time").set_value(typed.time())
        next(b for b in at.button if b.label == "记录并联动").click().run()
        assert not at.exception and any("已记录" in s.value or "INC-" in s.value for s in at.success)
        with open_store(str(copy)) as store:
            stored = store.records.read("incidents")
        assert stored["occurred_at"].tolist() == [typed.strftime("%Y-%m-%d %H:%M")]
        assert at.time_input(key="incident.time").value == typed.time()
    finally:
        _open.clear()
