"""A resident scans a course sheet's QR code with a phone (390 × 844): the booking page opens on that course and
slot with the booking form first, big targets, no sidebar in the way and nothing wider than the screen; the
resident books, keeps the code, and cancels with it — in Chinese and in English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from i18n import t
from layers.stores.geopackage import GeoPackageStore
from office.bookings import BookingDesk
from tests.browser.conftest import LOCAL, settle
from tests.browser.test_booking_browser import booking_app  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_resident_books_and_cancels_on_a_phone_from_a_qr_link(booking_app, browser, artifacts, lang):  # noqa: F811
    url, path = booking_app
    with GeoPackageStore(path) as store:
        desk = BookingDesk(store)
        rid = next(r for r, res in desk.resources.items() if res.kind == "course" and res.who == "everyone")
        free = desk.free_slots(rid)
        slot = free.loc[free["free"] > 0, "starts_at"].iloc[0]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    outside: list[str] = []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(LOCAL)
               else (outside.append(route.request.url), route.abort()))
    page.goto(f"{url}/booking?resource={rid}&slot={slot}" + ("&lang=en" if lang == "en" else ""))
    phone = page.get_by_role("textbox", name=t("phone", lang))
    phone.wait_for(timeout=90_000)
    page.wait_for_timeout(1000)
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.count() == 0 or sidebar.get_attribute("aria-expanded") == "false" or \
        (sidebar.bounding_box() or {"x": -1, "width": 0})["x"] + (sidebar.bounding_box() or {"width": 0})["width"] <= 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # nothing wider than it
    book = page.get_by_role("button", name=t("book_button", lang), exact=True)
    browse = page.get_by_text(t("browse_nearby", lang)).first
    assert book.bounding_box()["y"] < browse.bounding_box()["y"]  # the form first; the map folded below it
    phone.fill("13812345678")
    phone.press("Enter")
    box = book.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300  # a thumb's target
    page.screenshot(path=str(artifacts / f"booking_phone_{lang}.png"), full_page=True)
    book.tap()
    done = page.get_by_text(re.compile(r"B[0-9A-F]{11}")).first
    done.wait_for(timeout=60_000)
    said = done.inner_text()
    booking = re.search(r"B[0-9A-F]{11}", said).group(0)
    code = re.search(r"(?:取消码|cancel code) (\S+?)[（ (]", said).group(1)
    with GeoPackageStore(path) as store:
        row = store.bookings.get(booking)
    assert row["resource_id"] == rid and row["starts_at"] == slot and row["status"] == "booked"

    cancel = page.get_by_role("button", name=t("cancel_button", lang), exact=True)
    for _ in range(3):  # the form is open; a value typed while a rerun redraws the form may be lost: type again
        for name, value in ((t("booking_id", lang), booking), (t("cancel_code", lang), code)):
            settle(page)
            box = page.get_by_role("textbox", name=name)
            box.fill(value)
            box.press("Enter")
        settle(page)
        if cancel.count() == 1 and cancel.is_enabled():
            break
    expect(cancel).to_be_enabled(timeout=60_000)
    cancel.scroll_into_view_if_needed()
    assert (cancel.bounding_box() or {"height": 0})["height"] >= 44
    cancel.tap()
    page.get_by_text("预约已取消" if lang == "zh" else "Booking cancelled").first.wait_for(timeout=60_000)
    with GeoPackageStore(path) as store:
        assert store.bookings.get(booking)["status"] == "cancelled"
    page.screenshot(path=str(artifacts / f"booking_phone_cancelled_{lang}.png"), full_page=True)
    assert outside == []
    context.close()
