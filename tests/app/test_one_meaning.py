"""One meaning per word: the same figure — residents within the 10-minute circle (500 m) of any fitness facility,
city-wide — on every surface that shows it (the coverage page in both languages, the command line, the export,
the district report, the monthly report and the data exchange server's coverage process), with the same value
and the same label, made from the one definition (geo/definitions.py, i18n/definitions.py)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pandas as pd
import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from cli.main import main as onemap
from geo.coverage import ANY_LAYER
from geo.definitions import metres_for, minutes_for
from i18n import t
from i18n.definitions import figure_label, share_text
from tests.app.test_pages import APP

DISTANCE = 500.0


@pytest.fixture(scope="module")
def city(demo_gpkg, tmp_path_factory):
    """A copy of the demo city and the figure as the engine computes it."""
    from geo.inputs import engine_from_readers
    from layers.stores.geopackage import GeoPackageStore
    from layers.stores.snapshot import current_snapshot

    path = tmp_path_factory.mktemp("one_meaning") / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        snap = current_snapshot(store)
        result = engine_from_readers(snap.vector, snap.raster).run()
    row = result.summary().set_index(["layer", "threshold_m"]).loc[(ANY_LAYER, DISTANCE)]
    return path, float(row["rate"])


def test_the_definitions_agree_with_gb_50180():
    assert [minutes_for(m) for m in (300, 500, 1000)] == [5, 10, 15]
    assert metres_for(15) == 1000 and metres_for(10) == 500 and metres_for(20) == 1300
    assert figure_label(ANY_LAYER, 500, "zh") == "全部健身设施 10分钟（500米）覆盖率"
    assert figure_label("venues", 500, "en") == "Coverage by sports venues, 10 minutes (500 m)"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_coverage_page(city, monkeypatch, lang):
    from ui.store_access import _open

    path, rate = city
    monkeypatch.setenv("ONEMAP_GPKG", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _open.clear()
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("views/coverage_page.py").run()
    at.selectbox(key="coverage.layer").set_value(ANY_LAYER)
    next(b for b in at.button if b.label == t("run", lang)).click().run()  # the form's submit
    _open.clear()
    shown = {m.label: m.value for m in at.metric}
    assert shown.get(figure_label(ANY_LAYER, DISTANCE, lang)) == share_text(rate), shown


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_command_line_and_the_export(city, tmp_path, capsys, lang):
    path, rate = city
    out = tmp_path / "coverage.csv"
    assert onemap(["--store", str(path), "--quiet", "--lang", lang, "coverage", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    label = figure_label(ANY_LAYER, DISTANCE, lang)
    assert any(label in line and share_text(rate) in line for line in printed.splitlines()), printed
    table = pd.read_csv(out, encoding="utf-8-sig").set_index("figure")
    assert share_text(float(table.loc[label, "rate"])) == share_text(rate)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_district_report(city, tmp_path, lang):
    path, rate = city
    out = tmp_path / "report.xlsx"
    assert onemap(["--store", str(path), "--quiet", "--lang", lang, "report", "--layer", ANY_LAYER, "--out",
                   str(out)]) == 0
    sheet = load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    label = figure_label(ANY_LAYER, DISTANCE, lang)
    row = next(r for r in rows[1:] if r[0] == label)
    assert share_text(float(row[head.index("覆盖率" if lang == "zh" else "Coverage")])) == share_text(rate)


def test_the_monthly_report(city, tmp_path):
    path, rate = city
    out = tmp_path / "period.xlsx"
    now = dt.datetime.now()
    assert onemap(["--store", str(path), "--quiet", "period-report", "--period", f"{now:%Y-%m}", "--as-of",
                   f"{now:%Y-%m-%dT%H:%M:%S}", "--out", str(out)]) == 0
    sheet = load_workbook(out)["指标"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert share_text(float(rows[figure_label(ANY_LAYER, DISTANCE, "zh")])) == share_text(rate)


def test_the_data_exchange_process(city, tmp_path):
    from layers.stores.geopackage import GeoPackageStore
    from services.ogc_api import build_app

    path, rate = city
    with GeoPackageStore(path) as store, TestClient(build_app(store, folder=tmp_path / "pygeoapi")) as client:
        got = client.post("/processes/coverage/execution", content=json.dumps(
            {"inputs": {"layer": ANY_LAYER, "thresholds": [300, 500, 1000], "level": "street"}}),
            headers={"Content-Type": "application/json"})
    assert got.status_code == 200, got.text
    row = next(r for r in got.json()["summary"] if r["threshold_m"] == DISTANCE)
    assert (row["label_zh"], row["label_en"]) == (figure_label(ANY_LAYER, DISTANCE, "zh"),
                                                  figure_label(ANY_LAYER, DISTANCE, "en"))
    assert share_text(row["rate"]) == share_text(rate) and row["minutes"] == 10
