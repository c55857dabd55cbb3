"""Health data as an attacker would try to get a count out: through the import report (file and command line),
the store and its audit, the need section's table and map pop-ups, exports, the report, the command line and the
OGC API. Counts of real people stay at the door (tests/security/test_health_disclosure.py); what comes out are
modelled estimates, published one way everywhere (people to the nearest ten, shares to whole percent); the
audit of every published figure together is tests/properties/test_disclosure_audit.py."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from geo.units import assign_units
from layers.health import group_counts, min_count, numerators
from layers.records import commit_records, prepare_records
from tests.conftest import ROOT

SMALL = (6, 8)  # the small cells a delivery tries to load


def _delivery(tmp_path):
    path = tmp_path / "卫健委指标.csv"
    path.write_text("社区代码,统计期,指标,人数\n"
                    "990101001001,2026,diabetes_managed,213\n"
                    f"990101001002,2026,diabetes_managed,{SMALL[0]}\n"
                    "990101001003,2026,diabetes_managed,88\n"
                    f"990101001004,2026,diabetes_managed,{SMALL[1]}\n", encoding="utf-8")
    return path


def test_the_import_report_and_the_command_line_never_print_a_small_count(tmp_path, gpkg_store):
    path = _delivery(tmp_path)
    plan = prepare_records(path, "health_indicators")
    text = "\n".join(str(p) for p in plan.report.problems)
    assert [p.row for p in plan.report.problems] == [3, 5] and text.count("'< 10'") == 2
    for small in SMALL:
        assert not re.search(rf"(?<![\d-]){small}(?!\d)", re.sub(r"row \d+", "", text)), text
    commit_records(gpkg_store, plan, user="卫健委", keep_valid=True)
    stored = gpkg_store.records.read("health_indicators")
    assert (numerators(stored) >= min_count()).all() and len(stored) == 2
    for state in gpkg_store.audit.trail("onemap_records_health_indicators")["new"]:
        assert state["count"] is None or state["count"] >= min_count()
    store_path = tmp_path / "cli.gpkg"
    from layers.stores.geopackage import GeoPackageStore

    GeoPackageStore(store_path, create=True).close()
    run = subprocess.run([sys.executable, "-m", "cli", "--store", str(store_path), "records", str(path), "--kind",
                          "health_indicators", "--keep-valid"], capture_output=True, text=True, cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ONEMAP_GPKG": str(store_path)},
                         timeout=300)
    said = run.stdout + run.stderr
    assert "< 10" in said, said
    for small in SMALL:
        assert not re.search(rf"(?<![\d.,:/-]){small}(?![\d.,:/-])", re.sub(r"(row|第) ?\d+", "", said)), said


@pytest.fixture(scope="module")
def need_table(demo_city, demo_analysis):
    """The demo's diabetic residents within 300 m of a health station, per community (small cells included)."""
    from demo.health import write_health_records
    from layers.stores.geopackage import GeoPackageStore

    result = demo_analysis.engine.run([300.0])
    return result, demo_city, write_health_records, GeoPackageStore, demo_analysis.engine


def test_the_need_table_and_its_map_publish_rounded_estimates(need_table, tmp_path):
    import io

    import pandas as pd

    from geo.disclosure import ESTIMATE_BASE
    from geo.need_tables import need_table as make_table
    from ui.need import map_frame, need_csv

    result, city, write_health_records, GeoPackageStore, _engine = need_table
    with GeoPackageStore(tmp_path / "h.gpkg", create=True) as store:
        store.layers.write("boundaries", city.layers["boundaries"], user="t")
        write_health_records(store, city)
        rows = store.records.read("health_indicators")
    counts, _period = group_counts(rows, "diabetes_managed")
    assign = assign_units(result.demand, city.layers["boundaries"], level="community")
    made = make_table(result, city.layers["boundaries"], "diabetes_managed", counts, layer="health_stations",
                      threshold=300.0)
    shown = made.shown
    values = shown[["need", "covered", "uncovered"]].to_numpy(dtype=float)
    assert (values[~pd.isna(values)] % ESTIMATE_BASE == 0).all()
    delivered = {c: int(n) for c, n in counts.items()}
    unrounded = [code for code, need in zip(shown["code"], shown["need"]) if code in delivered
                 and delivered[code] % ESTIMATE_BASE]
    assert unrounded, "the case must hold counts that are not multiples of ten to be a test"
    assert all(shown.set_index("code").loc[c, "need"] != delivered[c] for c in unrounded)  # no delivery printed
    for lang in ("zh", "en"):
        units = map_frame(shown, assign.units["geometry"].to_numpy(), result.demand.crs, lang)
        for text in units["need_text"]:
            number = text.replace(",", "")
            assert not number.isdigit() or int(number) % ESTIMATE_BASE == 0
        exported = pd.read_csv(io.BytesIO(need_csv(made, lang)), dtype=str, encoding="utf-8-sig")
        _assert_published(exported, lang)


def _assert_published(frame, lang: str) -> None:
    """Every count column of an exported need table holds a multiple of ten (or nothing, for a unit not
    reported), every share a whole percent."""
    import pandas as pd

    from i18n import t

    counts = [t("need_people_short", lang), t("need_covered_matched", lang), t("need_covered_short", lang),
              t("need_uncovered", lang)]
    present = [c for c in counts if c in frame.columns]
    assert len(present) == 3, list(frame.columns)
    numbers = pd.to_numeric(frame[present].stack(), errors="coerce").dropna()
    assert len(numbers) and (numbers % 10 == 0).all(), numbers[numbers % 10 != 0]
    shares = pd.to_numeric(frame[t("need_rate", lang)], errors="coerce").dropna()
    assert len(shares) and ((shares * 100).round(9) % 1 == 0).all()


def test_no_export_or_service_carries_health_rows(demo_gpkg, tmp_path):
    from exports.files import write_vectors
    from layers.stores.geopackage import GeoPackageStore

    with GeoPackageStore(demo_gpkg) as store:
        assert len(store.records.read("health_indicators"))  # the demo holds aggregates …
        layers = {i.name: store.layers.read(i.name) for i in store.layers.list() if i.kind == "vector"}
    out = write_vectors(layers, tmp_path / "all.gpkg")
    import pyogrio

    names = {name for name, _kind in pyogrio.list_layers(out)}
    assert not {n for n in names if "health_ind" in n}  # … and no export of layers carries them
    import json
    import os
    import shutil
    import urllib.request

    from tests.conftest import _free_port, serve

    copy = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, copy)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    cmd = [sys.executable, "-m", "services.ogc_api", "--store", str(copy), "--port", str(port)]
    for url in serve(cmd, env, "ogc_api_health.log", port, health="/conformance"):
        with urllib.request.urlopen(url + "/collections?f=json", timeout=60) as got:
            collections = json.load(got)["collections"]
    ids = {c["id"] for c in collections}
    assert "health_indicators" not in ids and not any("health_ind" in i for i in ids)
    assert "venues" in ids and "aeds" in ids  # the layers are served, the health aggregates are not


def _cli(store_path, tmp_path, *args: str) -> str:
    run = subprocess.run([sys.executable, "-m", "cli", "--store", str(store_path), "--quiet", *args],
                         capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MPLCONFIGDIR": str(tmp_path)})
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_every_file_the_report_and_the_command_line_publish_the_same_estimates(demo_gpkg, tmp_path):
    """The command line's need table in every format (CSV, XLSX, GeoPackage, GeoJSON, Shapefile), its printed
    table, the district report (XLSX and PDF) and the indicators: people to the nearest ten, shares to whole
    percent, the same figure for the same unit in every file, and the report's street share equal to the
    indicators' (no surface shows what another hides; none prints sixteen digits)."""
    import shutil

    import pandas as pd
    import pyogrio
    from pypdf import PdfReader

    from i18n import t

    copy = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, copy)
    group = "diabetes_managed"
    printed = _cli(copy, tmp_path, "need", "--group", group, "--out", str(tmp_path / "need.csv"), "--top", "100")
    assert "估算" in printed and "人数取整到 10 人" in printed
    files = {"csv": "zh", "xlsx": "en", "gpkg": "zh", "geojson": "en", "zip": "zh"}
    for suffix, lang in files.items():
        if suffix != "csv":
            _cli(copy, tmp_path, "need", "--group", group, "--out", str(tmp_path / f"need.{suffix}"), "--lang", lang)
    seen: dict[str, pd.Series] = {}
    for suffix in files:
        lang = files[suffix]
        if suffix in ("csv", "xlsx"):
            frame = (pd.read_csv if suffix == "csv" else pd.read_excel)(tmp_path / f"need.{suffix}", dtype=str)
            _assert_published(frame, lang)
        else:
            frame = pyogrio.read_dataframe(tmp_path / f"need.{suffix}")
            if suffix == "zip":  # shapefile field names are cut to 10 bytes; fields.csv gives each one's full name
                import io
                import zipfile

                with zipfile.ZipFile(tmp_path / "need.zip") as z:
                    full = pd.read_csv(io.BytesIO(z.read("fields.csv")), encoding="utf-8-sig", dtype=str)
                frame = frame.rename(columns=dict(zip(full["field"], full["full_name"])))
        need = pd.to_numeric(frame[t("need_people_short", lang)], errors="coerce")
        seen[suffix] = need.set_axis(frame[t("unit_code", lang)].astype(str)).sort_index()
        assert (need.dropna() % 10 == 0).all(), suffix
    first = seen["csv"]
    for suffix, need in seen.items():  # every format: the same figure for each unit
        assert need.equals(first) or (need.fillna(-1) == first.fillna(-1)).all(), suffix
    _cli(copy, tmp_path, "report", "--out", str(tmp_path / "report.xlsx"))
    _cli(copy, tmp_path, "report", "--out", str(tmp_path / "report.pdf"))
    _cli(copy, tmp_path, "indicators", "--out", str(tmp_path / "indicators.xlsx"))
    sheets = pd.read_excel(tmp_path / "report.xlsx", sheet_name=None)
    streets = sheets["重点人群按街道"]
    assert list(streets.columns[:2]) == ["代码", "名称"] and all(c.endswith("比例") for c in streets.columns[2:])
    share = pd.to_numeric(streets["糖尿病人群可达适配设施比例"], errors="coerce").set_axis(streets["代码"].astype(str))
    assert ((share.dropna() * 100).round(9) % 1 == 0).all()
    units = pd.read_excel(tmp_path / "indicators.xlsx", sheet_name="units").set_index("code")
    units.index = units.index.astype(str)
    assert (units.loc[share.index, f"need_{group}"].to_numpy() == share.to_numpy()).all()  # one figure, two surfaces
    city = pd.read_excel(tmp_path / "indicators.xlsx", sheet_name="city")[f"need_{group}"].iloc[0]
    assert round(city * 100, 9) % 1 == 0  # the city's share too: never 0.6560248187936506
    for name, sheet in sheets.items():  # no sheet of the report prints a count of a need group
        assert not any("重点人群人数" in str(c) for c in sheet.columns), name
    text = "".join(page.extract_text() or "" for page in PdfReader(tmp_path / "report.pdf").pages)
    assert "重点人群可达适配设施比例" in text and "估算" in text and "已隐去" not in text
