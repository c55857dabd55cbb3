"""Any file a steward may upload, by property: valid deliveries in every format, then truncated, with bytes
flipped, re-encoded, grown beyond the bounds, under hostile names — each is read or refused with the
project's own error naming the file, never another exception and never a traceback (Hypothesis, seeded)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo.errors import OneMapError
from layers.ingest import prepare_import

FORMATS = ("csv", "xlsx", "geojson", "shp.zip")


def _rows(n: int, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"名称": [names[i % len(names)] for i in range(n)],
                         "经度": [114.30 + 0.001 * i for i in range(n)],
                         "纬度": [30.60 + 0.001 * i for i in range(n)],
                         "类型": ["stadium"] * n})


def _bytes_of(kind: str, frame: pd.DataFrame, encoding: str) -> bytes:
    if kind == "csv":
        return frame.to_csv(index=False).encode(encoding, errors="replace")
    if kind == "xlsx":
        buf = io.BytesIO()
        frame.to_excel(buf, index=False)
        return buf.getvalue()
    gdf = gpd.GeoDataFrame(frame.drop(columns=["经度", "纬度"]),
                           geometry=[Point(x, y) for x, y in zip(frame["经度"], frame["纬度"])], crs=4326)
    if kind == "geojson":
        return gdf.to_json().encode(encoding, errors="replace")
    folder = Path(__import__("tempfile").mkdtemp())
    gdf.to_file(folder / "v.shp", encoding="GBK" if encoding == "gbk" else "UTF-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for part in folder.glob("v.*"):
            z.write(part, part.name)
    return buf.getvalue()


names = st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=4)
hostile_stems = st.sampled_from(["场馆", "../../etc/passwd", "a b", "名" * 60, "x;rm -rf", "=HYPERLINK()", "nul\u0000x",
                                 "..", ".hidden", "CON"])


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(FORMATS), n=st.integers(min_value=0, max_value=120), names=names,
       encoding=st.sampled_from(["utf-8", "gbk", "utf-16", "latin-1"]),
       cut=st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0)),
       flips=st.lists(st.tuples(st.floats(min_value=0, max_value=1), st.integers(0, 255)), max_size=3),
       stem=hostile_stems)
@example(kind="csv", n=3, names=["体育中心"], encoding="utf-8", cut=None, flips=[], stem="场馆")
@example(kind="xlsx", n=51, names=["馆"], encoding="utf-8", cut=None, flips=[], stem="场馆")  # beyond the rows limit
def test_any_upload_is_read_or_refused_with_the_projects_own_error(tmp_path, monkeypatch, kind, n, names, encoding,
                                                                    cut, flips, stem):
    monkeypatch.setenv("ONEMAP_MAX_TABLE_ROWS", "50")
    monkeypatch.setenv("ONEMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    try:
        data = _bytes_of(kind, _rows(n, names), encoding)
    except Exception:  # noqa: BLE001 — a frame that cannot even be written this way is no upload
        return
    data = bytearray(data)
    if cut is not None:
        data = data[:int(len(data) * cut)]
    for where, value in flips:
        if data:
            data[min(len(data) - 1, int(len(data) * where))] = value
    safe_stem = stem.replace("/", "_").replace("\u0000", "_")
    path = tmp_path / f"{safe_stem}.{kind.split('.')[-1] if kind != 'shp.zip' else 'zip'}"
    path.write_bytes(bytes(data))
    try:
        plan = prepare_import(path, "venues", coord_system="wgs84")
    except OneMapError as exc:
        text = str(exc)
        assert text and "Traceback" not in text and str(tmp_path) not in text, text
        return
    if kind in ("csv", "xlsx"):  # a table's rows are bounded (a vector file's vertices are)
        assert len(plan.frame) <= 50


@pytest.mark.parametrize("kind", FORMATS)
def test_a_valid_delivery_of_each_format_is_read(tmp_path, kind):
    path = tmp_path / f"场馆.{kind.split('.')[-1] if kind != 'shp.zip' else 'zip'}"
    path.write_bytes(_bytes_of(kind, _rows(5, ["青溪体育中心", "滨江游泳馆"]), "utf-8"))
    plan = prepare_import(path, "venues", coord_system="wgs84")
    assert len(plan.frame) == 5


# ----- the counterexamples Hypothesis found, kept as plain tests -----------------------------------------------


def _shapefile_zip(folder: Path) -> Path:
    gdf = gpd.GeoDataFrame({"名称": ["青溪体育中心"], "类型": ["stadium"]}, geometry=[Point(114.3, 30.6)], crs=4326)
    gdf.to_file(folder / "v.shp", encoding="UTF-8")
    return folder


def test_a_shapefile_whose_text_has_a_broken_byte_is_refused_with_a_coded_error(tmp_path):
    """Arrow checks text lazily: the bad byte surfaced later as a pyarrow ArrowException ("Wrapping … failed")."""
    folder = _shapefile_zip(tmp_path)
    dbf = bytearray((folder / "v.dbf").read_bytes())
    at = dbf.index("stadium".encode())
    dbf[at + 4] = 0xFF  # "stad\xffum": not UTF-8, which the .cpg promises
    (folder / "v.dbf").write_bytes(bytes(dbf))
    with zipfile.ZipFile(tmp_path / "场馆.zip", "w") as z:
        for part in folder.glob("v.*"):
            z.write(part, part.name)
    with pytest.raises(OneMapError) as refused:
        prepare_import(tmp_path / "场馆.zip", "venues", coord_system="wgs84")
    assert "场馆.zip" in str(refused.value) and refused.value.note is not None


def test_a_zip_whose_member_header_lies_about_its_compression_is_refused(tmp_path):
    """zipfile raised NotImplementedError ("That compression method is not supported") mid-extraction."""
    folder = _shapefile_zip(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for part in sorted(folder.glob("v.*")):
            z.write(part, part.name)
    data = bytearray(buf.getvalue())
    entry = data.index(b"PK\x01\x02")  # the directory's first entry: compression method 99, which nobody has
    data[entry + 10] = 99
    (tmp_path / "场馆.zip").write_bytes(bytes(data))
    with pytest.raises(OneMapError, match="damaged or incomplete"):
        prepare_import(tmp_path / "场馆.zip", "venues", coord_system="wgs84")


def test_a_workbook_cut_short_is_refused_as_damaged(tmp_path):
    """A truncated XLSX raised zlib.error while its sheet was counted."""
    data = _bytes_of("xlsx", _rows(40, ["青溪体育中心"]), "utf-8")
    (tmp_path / "场馆.xlsx").write_bytes(data[:int(len(data) * 0.8)])
    with pytest.raises(OneMapError) as refused:
        prepare_import(tmp_path / "场馆.xlsx", "venues", coord_system="wgs84")
    assert "场馆.xlsx" in str(refused.value)


def test_a_zip_with_a_lying_directory_exits_with_the_documented_code_and_no_traceback(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    folder = _shapefile_zip(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for part in sorted(folder.glob("v.*")):
            z.write(part, part.name)
    data = bytearray(buf.getvalue())
    start = data.index(b"PK\x03\x04") + 30 + len("v.cpg")  # the first member's compressed bytes
    data[start:start + 4] = b"\x00\xff\x00\xff"
    (tmp_path / "场馆.zip").write_bytes(bytes(data))
    GeoStore = __import__("layers.stores.geopackage", fromlist=["GeoPackageStore"]).GeoPackageStore
    GeoStore(tmp_path / "store.gpkg", create=True).close()
    run = subprocess.run([sys.executable, "-m", "cli", "--store", str(tmp_path / "store.gpkg"), "--quiet", "import",
                          str(tmp_path / "场馆.zip"), "--layer", "venues", "--coord-system", "wgs84"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and "场馆.zip" in run.stderr
