"""Data shown through Streamlit is escaped for Markdown as well as HTML: a department renames its stations and
venues to links, images and formatting, and every page is walked (AppTest) looking for any of it rendered —
a link a viewer could click or an image every viewer's browser would fetch from outside."""

from __future__ import annotations

import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_language import PAGES
from tests.app.test_pages import APP

PAYLOAD = " [点击领奖](http://evil.invalid/a) ![](http://evil.invalid/i.png) **粗** $x^2$"
#: The payload rendered as Markdown rather than shown as characters: an unescaped link or image target.
RENDERED = re.compile(r"(?<!\\)\]\((?<!\\)http://evil|(?<!\\)!\[(?<!\\)\]")
#: Fields of elements Streamlit renders as Markdown (labels, bodies, help, captions, radio options).
MARKDOWN_FIELDS = {"label", "body", "help", "captions"}
#: Pages where stored names, addresses and texts are shown.
WALKS = ("one_map", "coverage", "planning", "nearby", "usage", "indicators", "data", "booking_resident",
         "booking_staff", "booking_package", "emergency_profiles", "reports_inbox", "export_report", "planning_need")


def rendered_markdown(at: AppTest) -> list[str]:
    """Every text the page hands Streamlit's Markdown renderer."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            for field, value in proto.ListFields():
                if field.name in MARKDOWN_FIELDS and isinstance(value, str):
                    out.append(value)
                elif field.name in MARKDOWN_FIELDS and field.type == field.TYPE_STRING:
                    out.extend(str(v) for v in value)
                elif field.name == "options" and node.type == "radio":  # radio options are Markdown too
                    out.extend(str(v) for v in value)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


@pytest.fixture(scope="module")
def poisoned(demo_gpkg, tmp_path_factory):
    """A copy of the demo city whose every name, address and title carries the payload."""
    from layers.stores.geopackage import GeoPackageStore

    path = tmp_path_factory.mktemp("poisoned") / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        for info in store.layers.list():
            if info.kind != "vector":
                continue
            frame = store.layers.read(info.name)
            changed = [c for c in ("name", "school", "address", "operator") if c in frame.columns]
            if not changed:
                continue
            for c in changed:
                frame[c] = frame[c].astype("string").fillna("") + PAYLOAD
            store.layers.write(info.name, frame, mode="replace", user="联盟办")
    return path


@pytest.mark.parametrize("name", WALKS)
def test_no_stored_text_renders_as_markdown_on_any_page(poisoned, monkeypatch, name):
    from ui.store_access import _open

    monkeypatch.setenv("ONEMAP_GPKG", str(poisoned))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _open.clear()
    page, actions = PAGES[name]
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page(page).run()
    for act in actions:
        act(at)
        at.run()
    _open.clear()
    assert not at.exception, at.exception
    texts = rendered_markdown(at)
    shown = [t for t in texts if "evil" in t]
    rendered = [t for t in texts if RENDERED.search(t)]
    assert not rendered, f"{name}: stored text rendered as Markdown:\n" + "\n".join(rendered[:10])
    if name == "nearby":  # the station's name is a metric's label here
        assert shown, f"{name}: the walk saw no stored name at all (the check would prove nothing)"


def test_the_check_finds_what_it_is_for():
    from ui.show import plain

    assert RENDERED.search("站点" + PAYLOAD) and not RENDERED.search(plain("站点" + PAYLOAD))


def test_a_page_that_fails_shows_a_reference_in_its_language_never_a_traceback(demo_gpkg, monkeypatch, caplog):
    import ui.analysis
    from ui.store_access import _open

    monkeypatch.setenv("ONEMAP_GPKG", str(demo_gpkg))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _open.clear()

    def broken(*args, **kwargs):
        raise RuntimeError("/srv/onemap/geo/coverage.py: secret detail")

    monkeypatch.setattr(ui.analysis, "run_coverage", broken)
    for lang, words in (("zh", "编号"), ("en", "reference")):
        at = AppTest.from_file(APP, default_timeout=300)
        at.session_state["lang"] = lang
        at.run()
        at.switch_page("views/coverage_page.py").run()
        assert not at.exception  # no exception element: nothing of the traceback reaches the page
        said = " ".join(e.value for e in at.error)
        assert words in said and "/srv/onemap" not in said and "RuntimeError" not in said, said
        reference = re.search(r"[0-9a-f]{12}", said).group(0)
        assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)  # the log has the cause
    _open.clear()
    import tomllib

    from tests.conftest import ROOT

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
