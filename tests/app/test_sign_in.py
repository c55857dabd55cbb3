"""Sign-in in the app: the single-user default says so; with accounts every page waits for a sign-in."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from layers.stores.geopackage import GeoPackageStore
from office.accounts import MAX_FAILURES, create_account
from tests.app.test_pages import APP, on_demo  # noqa: F401  (the fixture)
from tests.conftest import shown


@pytest.fixture
def with_accounts(monkeypatch, demo_gpkg, tmp_path):
    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        create_account(store, "li.si", "Qingxi-Edu-2026", role="editor", department="education")
    monkeypatch.setenv("ONEMAP_GPKG", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from ui.store_access import _open

    _open.clear()
    yield path
    _open.clear()


def test_single_user_default_says_so(on_demo):  # noqa: F811
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert any("单用户模式" in shown(c) for c in at.sidebar.caption)


def _sign_in(at, name, password):
    at.text_input(key="sign_in_name").set_value(name)
    at.text_input(key="sign_in_password").set_value(password)
    at.button[0].click().run()
    return at


def test_pages_wait_for_sign_in_and_wrong_passwords_are_refused(with_accounts):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert at.text_input(key="sign_in_password") is not None and not at.metric  # nothing shown before sign-in
    _sign_in(at, "li.si", "wrong-password-1")
    assert any("Wrong user name or password" in shown(e) for e in at.error) and not at.metric
    _sign_in(at, "li.si", "Qingxi-Edu-2026")
    assert not at.exception
    assert any("li.si" in shown(c) and "教育局" in shown(c) for c in at.sidebar.caption)
    assert {m.label for m in at.metric} >= {"体育场馆", "常住人口"}  # the one-map page now renders


def test_lockout_shows_in_the_page(with_accounts):
    at = AppTest.from_file(APP, default_timeout=120).run()
    for _ in range(MAX_FAILURES):
        _sign_in(at, "li.si", "wrong-password-1")
        assert any("Wrong user name or password" in shown(e) for e in at.error)  # the lock is not announced
    _sign_in(at, "li.si", "Qingxi-Edu-2026")
    assert any("is locked" in shown(e) for e in at.error) and not at.metric
