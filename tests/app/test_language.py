"""One language at a time: every page, in Chinese and in English, shows no word of the other script
outside data values (names, addresses, ids the stewards loaded).

Walks every element Streamlit would draw (titles, captions, messages, metrics, widget labels,
options, placeholders and help, table headers and text cells) through AppTest; the browser
test (tests/browser/test_language_browser.py) reads what the browser shows, maps included.
"""

from __future__ import annotations

import base64
import html
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_pages import APP, on_demo  # noqa: F401  (the fixture)

#: Words allowed in Chinese mode: units, standards, formats, products and the language switch itself.
LATIN_ALLOWED = {
    "m", "km", "h", "min", "MB", "KB", "MCLP", "LSCP", "HiGHS", "GB", "EPSG", "WGS", "CGCS", "GCJ", "BD",
    "OSM", "OpenStreetMap", "XYZ", "GeoPackage", "GeoJSON", "Shapefile", "GeoTIFF", "CSV", "PDF", "PNG", "HTML",
    "Excel", "xlsx", "gpkg", "geojson", "zip", "csv", "pdf", "png", "html", "tif", "Web", "tk", "Language",
    "English", "PH", "SH", "Tue", "onemap", "account", "add", "AMap", "Tencent", "Baidu", "Leaflet", "p", "P",
    "QGIS", "WPS", "OGC", "API", "ONEMAP", "MAX", "SECONDS", "XLSX", "A", "B", "JPEG", "WebP",
    "AED",  # 自动体外除颤器: the abbreviation Chinese public-access programmes print on the device
}
#: Text of the other script that is part of the interface in both languages (the language switch).
CJK_ALLOWED = ("语言", "中文")
TEXT_FIELDS = {"label", "body", "options", "help", "placeholder", "delta", "captions"}
CODE_SPAN = re.compile(r"`[^`]*`")
FILE_NAME = re.compile(r"[\w\-]+\.(?:pdf|xlsx|csv|gpkg|geojson|zip|png|tif|html)\b")
#: Booking numbers (made at random for each booking, so never among the stored values read).
BOOKING_CODE = re.compile(r"\b(?:B[0-9A-F]{11}|INC-\d{12}-[0-9A-F]{6}|FR-\d{8}-[0-9A-F]{8})\b")  # incidents, reports
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z]*")


def visible_texts(at: AppTest) -> list[str]:
    """Every string the page would show: element texts, widget texts, table headers and text cells."""
    out: list[str] = []

    def walk(node) -> None:
        if node.type == "iframe":
            return
        if node.type == "html":  # style sheets only: the text a person sees, not the CSS
            body = re.sub(r"<style.*?</style>", " ", node.proto.body, flags=re.S)
            out.extend(html.unescape(t) for t in re.findall(r">([^<>]+)<", body) if t.strip())
            return
        if node.type == "image":  # charts: SVG images whose text is the axis titles, legends and labels
            for image in node.proto.imgs:
                if image.url.startswith("data:image/svg+xml;base64,"):
                    svg = base64.b64decode(image.url.split(",", 1)[1]).decode("utf-8")
                    out.extend(html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]+)</text>", svg))
            return
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            for field, value in proto.ListFields():
                if field.name not in TEXT_FIELDS:
                    continue
                if isinstance(value, str):
                    out.append(value)
                elif field.type == field.TYPE_STRING:  # repeated: options, captions
                    out.extend(str(v) for v in value)
        if node.type in ("dataframe", "table"):
            frame = node.value
            out.extend(str(c) for c in frame.columns)
            out.extend(str(c) for c in frame.index if isinstance(c, str))
            for col in frame.columns:
                out.extend(str(v) for v in frame[col] if isinstance(v, str))

        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    # Messages carrying data are Markdown-escaped (ui/show.py): read them as a person sees them.
    return [re.sub(r"\\(.)", r"\1", s) for s in out if isinstance(s, str) and s.strip()]


def stored_text_values(path) -> list[str]:
    """Every text value stored in a city's GeoPackage (names, addresses, ids, codes as the stewards wrote
    them), longest first."""
    from layers.stores.geopackage import GeoPackageStore

    values: set[str] = set()
    with GeoPackageStore(path) as store:
        for info in store.layers.list():
            if info.kind == "vector":
                frame = store.layers.read(info.name)
                for col in frame.columns:
                    if col != frame.geometry.name and not pd.api.types.is_numeric_dtype(frame[col]):
                        values.update(str(v) for v in frame[col].dropna())
            values.update(str(v) for v in store.history(info.name)["source"].dropna())
        values.add(store.description)
        from layers.records import RECORDS

        for kind in RECORDS:
            records = store.records.read(kind)
            for col in records.columns:
                if not pd.api.types.is_numeric_dtype(records[col]):
                    values.update(str(v) for v in records[col].dropna())
        reports, steps = store.field_reports.list(), store.field_reports.steps()
        for frame, cols in ((reports, ("body", "place_name", "reporter", "changed_by", "reason")),
                            (steps, ("actor", "reason"))):
            for col in cols:
                values.update(str(v) for v in frame[col].dropna())
    values.update({"demo-builder", "init"})
    return sorted((v for v in values if len(v) > 1), key=len, reverse=True)


@pytest.fixture(scope="module")
def data_values(demo_gpkg) -> list[str]:
    """The demo city's stored text values."""
    return stored_text_values(demo_gpkg)


def other_script(texts: list[str], lang: str, data: list[str]) -> list[str]:
    """The pieces of ``texts`` written in the other language (data values taken out first)."""
    bad = []
    for text in texts:
        rest = BOOKING_CODE.sub(" ", text)  # before data values: a stored "2026" must not split an id
        for value in data:
            if value in rest:
                rest = rest.replace(value, " ")
        # identifiers to type, booking numbers and file names are not prose
        rest = CODE_SPAN.sub(" ", FILE_NAME.sub(" ", BOOKING_CODE.sub(" ", rest)))
        if lang == "en":
            for ok in CJK_ALLOWED:
                rest = rest.replace(ok, " ")
            if CJK.search(rest):
                bad.append(text)
        else:
            words = [w for w in LATIN_WORD.findall(rest) if w not in LATIN_ALLOWED]
            if words:
                bad.append(f"{text!r} → {words}")
    return bad


def walk_page(page: str, actions=(), lang: str | None = None) -> AppTest:
    """The app opened at ``page`` (in ``lang``, or the default), each action done and run; no exception."""
    at = AppTest.from_file(APP, default_timeout=300)
    if lang is not None:
        at.session_state["lang"] = lang
    at.run()
    at.switch_page(page).run()
    for act in actions:
        act(at)
        at.run()
    assert not at.exception, at.exception
    return at


def _page(lang: str, page: str, actions=()) -> AppTest:
    return walk_page(page, actions, lang)


def _solve(at: AppTest) -> None:
    next(b for b in at.button if b.label in ("求解", "Solve")).click()


PAGES = {
    "one_map": ("views/one_map.py", ()),
    "coverage": ("views/coverage_page.py", ()),
    "coverage_select": ("views/coverage_page.py", (  # 圈选统计 on, a unit picked as the area
        lambda at: at.toggle(key="coverage.select").set_value(True),
        lambda at: at.selectbox(key="coverage.select_unit").select_index(1))),
    "coverage_province": ("views/coverage_page.py", (
        lambda at: next(b for b in at.button if b.label in ("分区计算", "Run in partitions")).click(),)),
    "planning": ("views/planning_page.py", (_solve, lambda at: at.multiselect(key="whatif_open").set_value(
        ["school-004-track"]))),
    "nearby": ("views/operations_page.py", ()),
    "lonely_and_coords": ("views/operations_page.py", (lambda at: at.radio(key="nearby.mode").set_value("coords"),
                                                       lambda at: at.text_input(key="nearby.coords").set_value(
                                                           "123"),)),
    "usage": ("views/operations_page.py", (lambda at: at.radio(key="operations.section").set_value("usage"),)),
    "indicators": ("views/operations_page.py",
                   (lambda at: at.radio(key="operations.section").set_value("indicators"),)),
    "data": ("views/data_page.py", (lambda at: at.selectbox(key="data_history_layer").set_value("venues"),)),
    "export_print": ("views/export_page.py", (lambda at: at.radio(key="export_kind").set_value("print"),)),
    "export_report": ("views/export_page.py", (lambda at: at.radio(key="export_kind").set_value("report"),
                                               lambda at: at.button(key="export_make").click())),
    "export_need": ("views/export_page.py", (lambda at: at.radio(key="export_kind").set_value("need"),
                                             lambda at: at.button(key="export_make").click())),
    "export_period": ("views/export_page.py", (lambda at: at.radio(key="export_kind").set_value("period"),
                                               lambda at: at.button(key="export_make").click())),
    "booking_resident": ("views/booking_page.py", (lambda at: at.selectbox(key="booking.home").set_value(
        "990101002003"),)),
    "booking_staff": ("views/booking_page.py", (lambda at: at.radio(key="booking.section").set_value("staff"),)),
    "booking_package": ("views/booking_page.py", (lambda at: at.radio(key="booking.section").set_value("package"),
                                                  lambda at: at.button(key="course_sheet_go").click())),
    "planning_need": ("views/planning_page.py", (
        lambda at: at.button(key="need_plan_go").click(),)),
    "emergency_profiles": ("views/emergency_page.py", ()),
    "reports_inbox": ("views/reports_page.py", ()),
    "reports_file": ("views/reports_page.py", (lambda at: at.radio(key="reports.section").set_value("file"),)),
    "reports_file_point": ("views/reports_page.py", (
        lambda at: at.radio(key="reports.section").set_value("file"),
        lambda at: at.radio(key="reports.where").set_value("point"))),
    "reports_status": ("views/reports_page.py", (lambda at: at.radio(key="reports.section").set_value("status"),
                                                 lambda at: at.text_input(key="reports.lookup").set_value(
                                                     "FR-20260101-0000ABCD"))),
    "one_map_reports": ("views/one_map.py", (lambda at: at.checkbox(key="reports.shown").check(),)),
    "emergency_placement": ("views/emergency_page.py", (
        lambda at: at.radio(key="emergency.section").set_value("placement"),
        lambda at: at.button(key="emergency_solve").click())),
    "emergency_incident": ("views/emergency_page.py", (
        lambda at: at.radio(key="emergency.section").set_value("incident"),
        lambda at: at.selectbox(key="incident.place").set_value("venue-000"),
        lambda at: next(b for b in at.button if b.label in ("记录并联动", "Record and alert")).click())),
    "emergency_event": ("views/emergency_page.py", (
        lambda at: at.radio(key="emergency.section").set_value("event"),
        lambda at: at.selectbox(key="event.venue").set_value("venue-000"),
        lambda at: next(b for b in at.button if b.label in ("生成保障方案", "Make the plan")).click())),
}


#: Walks that write to the store (an incident is recorded): they run on a copy, never on the shared demo file.
WRITES = {"emergency_incident"}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_speaks_one_language(on_demo, data_values, name, lang, demo_gpkg, tmp_path,  # noqa: F811
                                        monkeypatch):
    if name in WRITES:
        import shutil

        from ui.store_access import _open

        shutil.copyfile(demo_gpkg, tmp_path / "copy.gpkg")
        monkeypatch.setenv("ONEMAP_GPKG", str(tmp_path / "copy.gpkg"))
        _open.clear()
    page, actions = PAGES[name]
    at = _page(lang, page, actions)
    texts = visible_texts(at)
    assert len(texts) > 10, texts
    bad = other_script(texts, lang, data_values)
    assert not bad, f"{name} in {lang} shows the other language:\n" + "\n".join(bad[:40])


def test_the_check_itself_catches_a_leak(data_values):
    """The walker and the rule find what they are for (a test that could never fail would prove nothing)."""
    assert other_script(["Coverage rate 覆盖率"], "en", data_values) == ["Coverage rate 覆盖率"]
    assert other_script(["覆盖率 coverage"], "zh", data_values)
    assert not other_script(["振兴路健身中心 · 113.99 m"], "en", data_values)  # a venue's name is data
    assert not other_script(["体育场馆 venue-001"], "zh", data_values)  # so is its id
    frame = pd.DataFrame({"名称": ["a"]})
    assert list(frame.columns) == ["名称"]
