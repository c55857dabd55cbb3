"""A real city's first day from OpenStreetMap alone: central Chengdu's extract and a population raster made
from its land use, through the command line and every page.

The extract is what most Chinese OSM data look like: 28 hospitals without ``emergency=yes``, no way tagged
as a greenway, no administrative boundary.  Hospitals are kept as unconfirmed emergency departments (ambulance
times use them, marked), the paths inside its parks become fitness trails with entrances where they meet a
street, and the streets' extent is cut into grid units, each said on the page.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from cli.main import EXIT_OK
from cli.main import main as onemap
from geo.units import GRID_SOURCE
from tests.app.test_language import PAGES, walk_page


def _population_raster(store, path):
    """Residents on a 100 m grid, estimated from the stored residential land (what a city without a census
    raster would make first)."""
    from exports.files import write_grid
    from geo.crs import local_metric_crs
    from geo.demand import demand_from_vector, estimate_population_from_land_use

    land = store.layers.read("land_use")
    estimate = estimate_population_from_land_use(land)
    demand = demand_from_vector(estimate, cell_size=100.0,
                                metric_crs=local_metric_crs(tuple(land.to_crs(4326).total_bounds)))
    data = np.zeros(demand.grid.shape, dtype=np.float64)
    np.add.at(data, (demand.row, demand.col), demand.population)
    return write_grid(demand.grid, data, -9999.0, path), float(demand.population.sum())


@pytest.fixture(scope="module")
def chengdu_city(chengdu_osm, tmp_path_factory):
    from layers.stores.geopackage import GeoPackageStore

    folder = tmp_path_factory.mktemp("chengdu")
    path = folder / "chengdu.gpkg"
    assert onemap(["--store", str(path), "--quiet", "import", str(chengdu_osm)]) == EXIT_OK
    with GeoPackageStore(path) as store:
        tif, residents = _population_raster(store, folder / "population.tif")
    assert onemap(["--store", str(path), "--quiet", "import", str(tif)]) == EXIT_OK
    return path, residents


def test_the_extract_fills_every_layer_a_first_day_needs(chengdu_city):
    from layers.stores.geopackage import GeoPackageStore

    path, residents = chengdu_city
    with GeoPackageStore(path) as store:
        hospitals = store.layers.read("hospitals")
        greenways = store.layers.read("greenways")
        entrances = store.layers.read("greenway_entrances")
        bounds = store.layers.read("boundaries")
    assert len(hospitals) == 28 and hospitals["emergency"].isna().all()  # kept, unconfirmed
    assert len(greenways) >= 3 and greenways["source"].str.contains("paths inside parks").all()
    assert greenways["length_m"].min() >= 300 and len(entrances) >= 1
    assert set(entrances["greenway_id"]) <= set(greenways["feature_id"])
    assert (bounds["source"] == GRID_SOURCE).all() and set(bounds["level"]) == {"district", "street"}
    assert bounds[bounds["level"] == "street"]["parent_code"].eq("grid").all() and residents > 100_000


def test_the_command_line_on_the_city(chengdu_city, tmp_path, capsys):
    path, _ = chengdu_city
    store = ["--store", str(path), "--quiet"]
    assert onemap([*store, "coverage", "--out", str(tmp_path / "cov.xlsx")]) == EXIT_OK
    said = capsys.readouterr().out
    assert "网格单元" in said or "规则网格" in said or "覆盖率" in said
    assert onemap([*store, "report", "--out", str(tmp_path / "report.xlsx")]) == EXIT_OK
    assert onemap([*store, "--lang", "en", "report", "--out", str(tmp_path / "report.pdf")]) == EXIT_OK
    assert onemap([*store, "indicators"]) == EXIT_OK
    assert onemap([*store, "nearby", "--at", "104.0657,30.6575", "--out", str(tmp_path / "sheet.pdf")]) == EXIT_OK
    assert onemap([*store, "plan", "--problem", "mclp", "--p", "3", "--cutoff", "1000"]) == EXIT_OK
    assert onemap([*store, "export", "--print-map", "--out", str(tmp_path / "map.png")]) == EXIT_OK
    assert onemap([*store, "--lang", "en", "export", "--layers", "hospitals", "--out",
                   str(tmp_path / "hospitals.csv")]) == EXIT_OK
    assert (tmp_path / "hospitals.csv").read_text(encoding="utf-8-sig").count("Longitude") == 1


def test_ambulance_times_come_from_the_unconfirmed_hospitals(chengdu_city):
    from geo.emergency import emergency_hospitals, emergency_profiles, unconfirmed_note
    from layers.stores.geopackage import GeoPackageStore
    from ui.analysis import get_emergency

    path, _ = chengdu_city
    with GeoPackageStore(path) as store:
        finder, drive, layers = get_emergency(store)
        usable = emergency_hospitals(layers["hospitals"])
        prof = emergency_profiles(finder, store.layers.read("venues"), drive=drive, hospitals=usable)
    assert len(usable) == 28 and not usable["confirmed"].any()
    assert np.isfinite(prof["ambulance_s"]).mean() > 0.9 and prof["hospital_confirmed"].eq(False).all()
    assert unconfirmed_note(usable).values["n"] == 28


@pytest.fixture
def on_chengdu(chengdu_city, monkeypatch, tmp_path):
    import shutil

    from ui.store_access import _open

    copy = tmp_path / "chengdu.gpkg"
    shutil.copyfile(chengdu_city[0], copy)
    monkeypatch.setenv("ONEMAP_GPKG", str(copy))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _open.clear()
    yield
    _open.clear()


#: The page walks that need the demo's own ids are given the city's here.
CITY_PAGES = ["one_map", "coverage", "planning", "nearby", "usage", "indicators", "data", "export_print",
              "export_report", "export_period", "emergency_profiles", "emergency_placement", "reports_inbox",
              "reports_file"]


#: Walks whose demo ids the city does not have: the same steps on the city's own.
CITY_ACTIONS = {"planning": (lambda at: next(b for b in at.button if b.label in ("求解", "Solve")).click(),
                             lambda at: at.multiselect(key="whatif_open").set_value(  # the first school's id
                                 re.findall(r"\((osm-[^()]+)\)$", at.multiselect(key="whatif_open").options[0])))}


@pytest.mark.parametrize("name", CITY_PAGES)
def test_every_page_answers_on_the_city(on_chengdu, name):
    page, actions = PAGES[name]
    actions = CITY_ACTIONS.get(name, actions)
    at = walk_page(page, actions)
    assert not [e.value for e in at.error if "编号" in e.value], [e.value for e in at.error]
    shown = " ".join(str(c.value) for c in at.caption)
    if name == "coverage":
        assert "规则网格单元" in shown  # the units are said to be a grid
        assert any(len(d.value) > 5 for d in at.dataframe)  # per-unit rows
    if name == "emergency_profiles":
        assert "急诊科尚未确认" in shown
        table = next(d.value for d in at.dataframe if "救护车（分钟）" in d.value.columns)
        assert table["救护车（分钟）"].notna().mean() > 0.9
        assert table["最近急救医院"].str.contains("急诊未确认").any()


def test_the_search_box_finds_the_citys_roads_and_hospitals_by_pinyin_initials(chengdu_city):
    from i18n.names import syllables
    from i18n.place_search import PlaceIndex
    from layers.stores.geopackage import GeoPackageStore

    path, _ = chengdu_city
    with GeoPackageStore(path) as store:
        layers = {name: store.layers.read(name) for name in ("hospitals", "walk_network", "boundaries", "venues")}
    index = PlaceIndex.from_layers(layers)
    roads = sorted({n for n in layers["walk_network"]["name"].dropna() if len(n) >= 3 and n.endswith("路")})
    assert len(roads) > 20  # names read from OSM
    for name in (roads[0], roads[len(roads) // 2], layers["hospitals"]["name"].iloc[0]):
        initials = "".join(s[0] for s in syllables(name))
        assert name in [p.name for p in index.search(initials, limit=50)], (name, initials)
        assert index.search(name)[0].name == name
