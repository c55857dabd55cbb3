"""The 预约 page on a copy of the demo city: a resident books and cancels in either language; the operations
page's utilisation of a venue equals its check-ins counted by hand."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from layers.stores.geopackage import GeoPackageStore
from office.bookings import BookingDesk
from tests.app.test_pages import APP


@pytest.fixture
def own_demo(monkeypatch, demo_gpkg, tmp_path):
    """A copy of the demo city the test may write to."""
    path = tmp_path / "demo_copy.gpkg"
    shutil.copy(demo_gpkg, path)
    monkeypatch.setenv("ONEMAP_GPKG", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from ui.store_access import _open

    _open.clear()
    yield path
    _open.clear()


def _plain(text: str) -> str:
    """A message as a person reads it (messages carrying data are Markdown-escaped)."""
    return re.sub(r"\\(.)", r"\1", text)


def _booking_page(lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("views/booking_page.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_resident_books_then_cancels_with_the_code(own_demo, lang):
    at = _booking_page(lang)
    at.selectbox(key="booking.resource").set_value("venue-004-c1").run()
    with GeoPackageStore(own_demo) as store:  # a slot tomorrow evening: well before the cancellation deadline
        free = BookingDesk(store).free_slots("venue-004-c1")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    slot = free[(free["starts_at"] >= f"{tomorrow}T18:00") & (free["free"] > 0)]["starts_at"].iloc[0]
    at.selectbox(key="booking.slot").set_value(slot).run()
    at.text_input(key="booking.phone").set_value("12345").run()
    at.button(key="book_go").click().run()
    assert any(("11 位" if lang == "zh" else "11-digit") in _plain(e.value) for e in at.error), [_plain(e.value) for e in at.error]
    at.text_input(key="booking.phone").set_value("138 1234 5678").run()
    at.button(key="book_go").click().run()
    said = " ".join(_plain(s.value) for s in at.success)
    found = re.search(r"(B[0-9A-F]{11}).*?([2-9A-Z]{8})", said)
    assert found and (("预约成功" in said) if lang == "zh" else ("Booked" in said)), said
    booking, code = found.groups()
    with GeoPackageStore(own_demo) as store:
        row = store.bookings.get(booking)
    assert row["status"] == "booked" and row["starts_at"] == slot
    at.text_input(key="booking.cancel_id").set_value(booking)
    at.text_input(key="booking.cancel_code").set_value("WRONG234").run()
    at.button(key="cancel_go").click().run()
    assert any(("取消码不正确" if lang == "zh" else "not right") in _plain(w.value) for w in at.warning), (
        [_plain(w.value) for w in at.warning], [_plain(e.value) for e in at.error], [_plain(s.value) for s in at.success])
    at.text_input(key="booking.cancel_code").set_value(code).run()
    at.button(key="cancel_go").click().run()
    assert any(("已取消" if lang == "zh" else "cancelled") in _plain(s.value) for s in at.success)
    with GeoPackageStore(own_demo) as store:
        assert store.bookings.get(booking)["status"] == "cancelled"


def test_utilisation_on_the_operations_page_equals_check_ins_counted_by_hand(own_demo):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    with GeoPackageStore(own_demo) as store:
        bookings = store.bookings.list(resource_ids=["venue-004-c1", "venue-004-c2"])  # venue-004's two courts
        first = dt.date.fromisoformat(bookings["starts_at"].min()[:10])
        day = bookings["starts_at"].str[:10]
        by_hand = int(((bookings["status"] == "checked_in") & (day <= yesterday.isoformat())).sum())
        open_days = (yesterday - first).days + 1  # the courts are open every day (Mo-Su 06:30-22:00)
        rows = BookingDesk(store).usage_records(first=first, last=yesterday)  # usage measured by bookings alone
        store.records.write("venue_usage", rows, mode="replace", user="test", source="booking system")
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("views/operations_page.py").run()
    at.radio(key="operations.section").set_value("usage").run()
    assert not at.exception, at.exception
    table = next(df.value for df in at.dataframe if "日均人次" in df.value.columns)
    row = table[table["场馆"] == "振兴路篮球场"].iloc[0]
    assert by_hand > 0
    assert row["日均人次"] == pytest.approx(by_hand / open_days)
