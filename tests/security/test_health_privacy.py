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

    from ui.need import map_frame, need_csv, protected

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
    shown, hidden = protected(table)
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
        exported = pd.read_csv(io.BytesIO(need_csv(shown, "community", lang)), dtype=str, encoding="utf-8-sig")
        numbers = pd.to_numeric(exported.iloc[:, 3:6].stack(), errors="coerce").dropna()
        assert len(numbers) and not ((numbers > 0) & (numbers < k)).any()
        assert (exported.iloc[:, 3:6] == ("已隐去" if lang == "zh" else "suppressed")).any().any()


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
    from ui.need import protected

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
        _shown, hidden = protected(table, parents)
        street_rate = dict(zip(ind.units["code"], ind.units[f"need_{code}"]))
        for street, members in hidden.groupby(parents.to_numpy()):
            if not members.any():
                continue
            checked += 1
            assert members.sum() >= 2 or len(members) == 1, (code, street)
            assert street in street_rate and street_rate[street] != street_rate[street], (code, street)  # NaN
    assert checked >= 1, "the case must blank some community to be a test"
