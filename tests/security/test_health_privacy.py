"""Health data as an attacker would try to get a small count out: through the import report (file and command
line), the store and its audit, the need section's table and map pop-ups, exports and the OGC API."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from geo.need import need_by_unit, need_weights
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
    from layers.demo_health import write_health_records
    from layers.stores.geopackage import GeoPackageStore

    result = demo_analysis.engine.run([300.0])
    return result, demo_city, write_health_records, GeoPackageStore, demo_analysis.engine


def test_the_need_table_and_its_map_show_no_count_below_k(need_table, tmp_path):
    import io

    import pandas as pd

    from geo.need_tables import need_table as make_table
    from ui.need import map_frame, need_csv

    result, city, write_health_records, GeoPackageStore, _engine = need_table
    with GeoPackageStore(tmp_path / "h.gpkg", create=True) as store:
        store.layers.write("boundaries", city.layers["boundaries"], user="t")
        write_health_records(store, city)
        rows = store.records.read("health_indicators")
    counts, _period = group_counts(rows, "diabetes_managed")
    assign = assign_units(result.demand, city.layers["boundaries"], level="community")
    group = need_weights("diabetes_managed", counts, result.demand, assign)
    table = need_by_unit(result, group, assign, layer="health_stations", threshold=300.0)
    k = min_count()
    raw = table[["need", "covered", "uncovered"]].to_numpy()
    assert ((raw > 0) & (raw < k)).any(), "the case must hold small derived cells to be a test"
    made = make_table(result, city.layers["boundaries"], "diabetes_managed", counts, k=k, layer="health_stations",
                      threshold=300.0)
    shown, hidden = made.shown, made.hidden
    values = shown[["need", "covered", "uncovered"]].to_numpy()
    assert not ((values > 0) & (values < k)).any()
    for col in ("need", "covered", "uncovered"):  # a column with a blank has at least two: no subtraction
        blanks = shown[col].isna() & table[col].notna()
        assert blanks.sum() == 0 or blanks.sum() >= 2, col
    # a rate is blanked with its numerator, so rate × need cannot give the count back
    assert shown.loc[shown["covered"].isna(), "rate"].isna().all()
    for lang in ("zh", "en"):
        units = map_frame(shown, hidden, assign.units["geometry"].to_numpy(), result.demand.crs, lang)
        for text in units["need_text"]:
            number = text.replace(",", "")
            assert not number.isdigit() or int(number) == 0 or int(number) >= k
        assert (units.loc[hidden.to_numpy(), "colour"] == "#bdbdbd").all()
        exported = pd.read_csv(io.BytesIO(need_csv(made, lang)), dtype=str, encoding="utf-8-sig")
        _assert_no_small_count(exported, k, lang)


def _assert_no_small_count(frame, k: int, lang: str) -> None:
    """Every count column of an exported need table holds 0, k or more, or the suppressed mark (and some do)."""
    import pandas as pd

    from i18n import t

    word = t("need_suppressed", lang)
    counts = [t("need_people_short", lang), t("need_covered_matched", lang), t("need_covered_short", lang),
              t("need_uncovered", lang)]
    present = [c for c in counts if c in frame.columns]
    assert len(present) == 3, list(frame.columns)
    cells = frame[present].astype(str).stack()
    numbers = pd.to_numeric(cells[cells != word], errors="coerce")
    assert numbers.notna().all() and len(numbers), "every count is a number or suppressed"
    assert not ((numbers > 0) & (numbers < k)).any(), numbers[(numbers > 0) & (numbers < k)]
    assert (cells == word).any(), "the case must suppress something to be a test"


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


def test_no_street_rate_gives_back_a_blanked_community(need_table, tmp_path):
    """The indicators' street rate of a need group and the coverage page's community counts (same matching):
    a street holding a blanked community shows no rate, and holds at least two blanks when it has two
    communities or more, so subtracting shown communities from the street never yields one."""
    from geo.indicators import compute_indicators
    from geo.need import DEFAULT_MATCHING, matched_coverage, parent_codes
    from geo.need_tables import protected

    result, city, write_health_records, GeoPackageStore, engine = need_table
    with GeoPackageStore(tmp_path / "h.gpkg", create=True) as store:
        store.layers.write("boundaries", city.layers["boundaries"], user="t")
        write_health_records(store, city)
        rows = store.records.read("health_indicators")
    layers = city.layers
    checked = 0
    for code in ("diabetes_managed", "hypertension_managed", "child_overweight_rate"):
        counts, _period = group_counts(rows, code)
        ind = compute_indicators(engine, layers["boundaries"], venues=layers["venues"],
                                 school_facilities=layers["school_facilities"], need={code: counts},
                                 need_layers=layers, min_count=min_count())
        fine = assign_units(engine.demand, layers["boundaries"], level="community")
        group = need_weights(code, counts, engine.demand, fine)
        cells = matched_coverage(engine, layers, DEFAULT_MATCHING[code])
        table = need_by_unit(result, group, fine, covered_cells=cells)
        parents = parent_codes(layers["boundaries"], table["code"])
        _shown, hidden = protected(table, parents, k=min_count())
        street_rate = dict(zip(ind.units["code"], ind.units[f"need_{code}"]))
        for street, members in hidden.groupby(parents.to_numpy()):
            if not members.any():
                continue
            checked += 1
            assert members.sum() >= 2 or len(members) == 1, (code, street)
            assert street in street_rate and street_rate[street] != street_rate[street], (code, street)  # NaN
    assert checked >= 1, "the case must blank some community to be a test"


def _cli(store_path, tmp_path, *args: str) -> str:
    run = subprocess.run([sys.executable, "-m", "cli", "--store", str(store_path), "--quiet", *args],
                         capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MPLCONFIGDIR": str(tmp_path)})
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_every_file_the_report_and_the_command_line_keep_small_counts_out(demo_gpkg, tmp_path):
    """The command line's need table in every format (CSV, XLSX, GeoPackage, GeoJSON, Shapefile), its printed
    table, and the district report (XLSX and PDF): no count of the group below k anywhere, suppressed cells
    marked, and every street holding a suppressed community shows its share suppressed — so the street's
    share and the communities' counts cannot be subtracted to a small cell."""
    import shutil

    import pandas as pd
    import pyogrio
    from pypdf import PdfReader

    from i18n import t

    copy = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, copy)
    k, group = min_count(), "diabetes_managed"
    printed = _cli(copy, tmp_path, "need", "--group", group, "--out", str(tmp_path / "need.csv"), "--top", "100")
    assert f"below {k}" in printed and "suppressed: 0 of" not in printed
    files = {"csv": "zh", "xlsx": "en", "gpkg": "zh", "geojson": "en", "zip": "zh"}
    for suffix, lang in files.items():
        if suffix != "csv":
            _cli(copy, tmp_path, "need", "--group", group, "--out", str(tmp_path / f"need.{suffix}"), "--lang", lang)
    for suffix in ("csv", "xlsx"):
        read = pd.read_csv if suffix == "csv" else pd.read_excel
        frame = read(tmp_path / f"need.{suffix}", dtype=str)
        _assert_no_small_count(frame, k, files[suffix])
    titles = {lang: [t(key, lang) for key in ("need_people_short", "need_covered_matched", "need_uncovered")]
              for lang in ("zh", "en")}
    hidden_codes = None
    for suffix in ("gpkg", "geojson", "zip"):
        lang = files[suffix]
        frame = pyogrio.read_dataframe(tmp_path / f"need.{suffix}")
        if suffix == "zip":  # shapefile field names are cut to 10 bytes; fields.csv gives each one's full name
            import io
            import zipfile

            with zipfile.ZipFile(tmp_path / "need.zip") as z:
                full = pd.read_csv(io.BytesIO(z.read("fields.csv")), encoding="utf-8-sig", dtype=str)
            frame = frame.rename(columns=dict(zip(full["field"], full["full_name"])))
        counts = frame[titles[lang]].apply(pd.to_numeric)
        assert not ((counts > 0) & (counts < k)).any().any(), suffix
        flagged = frame[t("need_suppressed_column", lang, k=k)] == t("answer_yes", lang)
        assert flagged.any() and counts[flagged.to_numpy()].isna().all().all(), suffix
        codes = set(frame.loc[flagged.to_numpy(), t("unit_code", lang)].astype(str))
        assert hidden_codes is None or codes == hidden_codes, "every format suppresses the same units"
        hidden_codes = codes
    # the pair: the report's street shares beside the communities' counts
    _cli(copy, tmp_path, "report", "--out", str(tmp_path / "report.xlsx"))
    _cli(copy, tmp_path, "report", "--out", str(tmp_path / "report.pdf"))
    sheets = pd.read_excel(tmp_path / "report.xlsx", sheet_name=None, dtype=str)
    streets = sheets["重点人群按街道"]
    assert list(streets.columns[:2]) == ["代码", "名称"] and all(c.endswith("比例") for c in streets.columns[2:])
    with __import__("layers.stores.geopackage", fromlist=["GeoPackageStore"]).GeoPackageStore(copy) as store:
        bounds = store.layers.read("boundaries")
    parent = dict(zip(bounds["code"].astype(str), bounds["parent_code"].astype(str)))
    share = dict(zip(streets["代码"], streets["糖尿病人群可达适配设施比例"]))
    assert hidden_codes and all(share[parent[c]] == "已隐去" for c in hidden_codes)
    for name, sheet in sheets.items():  # no sheet of the report prints a count of a need group
        assert not any("重点人群人数" in str(c) or "可达适配设施" == str(c) for c in sheet.columns), name
    text = "".join(page.extract_text() or "" for page in PdfReader(tmp_path / "report.pdf").pages)
    assert "重点人群可达适配设施比例" in text and "已隐去" in text
