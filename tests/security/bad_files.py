"""Files a careless or hostile steward might upload, built on the spot (shared by the tests and
``make bench-uploads``): a zip bomb, million-vertex polygons, zips that reach outside their folder, a
raster that would decompress to billions of cells.  And a runner that refuses one in a fresh process
and reports its time and peak memory."""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import Point, Polygon

ROOT = Path(__file__).resolve().parents[2]


def _shapefile_parts(folder: Path, frame: gpd.GeoDataFrame, stem: str) -> dict[str, Path]:
    frame.to_file(folder / f"{stem}.shp", driver="ESRI Shapefile", encoding="UTF-8")
    return {p.suffix: p for p in folder.glob(f"{stem}.*")}


def write_zip_bomb(path: Path, uncompressed_gb: float = 1.2) -> Path:
    """A zipped shapefile whose .dbf (1.2 GB of blank records, declared honestly) compresses to about 1 MB."""
    folder = path.parent / "bomb_parts"
    folder.mkdir(exist_ok=True)
    parts = _shapefile_parts(folder, gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(114.3, 30.6)], crs=4326), "v")
    record = 101
    n = int(uncompressed_gb * 1e9) // record
    header = bytearray(32)
    header[0] = 3
    struct.pack_into("<IHH", header, 4, n, 32 + 32 + 1, record)
    field = bytearray(32)
    field[:4], field[11], field[16] = b"NAME", ord("C"), 100
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for suffix in (".shp", ".shx", ".prj"):
            z.write(parts[suffix], f"v{suffix}")
        with z.open("v.dbf", "w", force_zip64=True) as f:
            f.write(bytes(header) + bytes(field) + b"\r")
            block = b" " * (record * 100_000)
            left = n
            while left > 0:
                k = min(left, 100_000)
                f.write(block[:record * k])
                left -= k
    return path


def million_vertex_polygon(n: int = 1_000_000) -> Polygon:
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    return Polygon(np.column_stack([114.3 + 0.01 * np.cos(t), 30.6 + 0.01 * np.sin(t)]))


def write_vertex_geojson(path: Path) -> Path:
    ring = np.round(np.asarray(million_vertex_polygon().exterior.coords), 7).tolist()
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"名称": "大圈健身步道", "类型": "park_fitness"},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    return path


def write_vertex_zip(path: Path) -> Path:
    folder = path.parent / "vertex_parts"
    folder.mkdir(exist_ok=True)
    frame = gpd.GeoDataFrame({"name": ["大圈"], "venue_kind": ["park_fitness"]},
                             geometry=[million_vertex_polygon()], crs=4326)
    parts = _shapefile_parts(folder, frame, "big")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for suffix, part in parts.items():
            z.write(part, f"big{suffix}")
    return path


def write_traversal_zip(path: Path) -> Path:
    folder = path.parent / "trav_parts"
    folder.mkdir(exist_ok=True)
    parts = _shapefile_parts(folder, gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(114.3, 30.6)], crs=4326), "v")
    with zipfile.ZipFile(path, "w") as z:
        for suffix, part in parts.items():
            z.write(part, f"v{suffix}")
        z.writestr("../../onemap_escaped.txt", "written outside the upload folder")
    return path


def write_symlink_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("v.dbf")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    return path


def write_raster_bomb(path: Path) -> Path:
    """A GeoTIFF of 200,000 × 200,000 cells in a few kilobytes (sparse, deflated)."""
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=200_000, height=200_000, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_origin(114.0, 31.0, 1e-6, 1e-6), compress="deflate",
                       tiled=True, sparse_ok=True) as ds:
        ds.write(np.ones((1, 256, 256), dtype="uint8"), window=((0, 256), (0, 256)))
    return path


def write_csv_row_bomb(path: Path, rows: int = 15_000_000) -> Path:
    """A 90 MB CSV of 15 million six-byte rows (name, lon, lat), written in blocks."""
    block = b"v,1,2\n" * 100_000
    with open(path, "wb") as fh:
        fh.write("名称,经度,纬度\n".encode("utf-8"))
        for _ in range(rows // 100_000):
            fh.write(block)
    return path


def _xlsx_parts(sheet_rows) -> dict[str, bytes]:
    return {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                               b'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                               b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                               b'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
                               b'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                               b'worksheet+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                       b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                       b'2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                           b'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                           b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                                      b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                                      b'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                                      b'Target="worksheets/sheet1.xml"/></Relationships>',
    }


def write_xlsx_row_bomb(path: Path, rows: int = 3_000_000) -> Path:
    """An XLSX of a few hundred kilobytes whose one sheet holds three million rows (rows and cells without their
    optional ``r`` references, so the XML repeats and compresses a thousandfold)."""
    head = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in _xlsx_parts(None).items():
            z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(head)
            block = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 100_000
            for _ in range(rows // 100_000):
                f.write(block)
            f.write(b"</sheetData></worksheet>")
    return path


def write_xlsx_far_cell(path: Path) -> Path:
    """An XLSX of two cells whose sheet claims A1:XFD1048576 (a workbook library would build every cell)."""
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is>'
             b'</c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
             b'</worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in _xlsx_parts(None).items():
            z.writestr(name, data)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def _deep(folder: Path) -> Path:
    d = folder / "x" / "y"
    d.mkdir(parents=True, exist_ok=True)
    return d


def build_bad_files(folder: Path) -> dict[str, Path]:
    """Every bad upload, in ``folder`` (the traversal zip two folders down, so '../..' stays inside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "zip_bomb": write_zip_bomb(folder / "场馆_炸弹.zip"),
        "vertices_geojson": write_vertex_geojson(folder / "大圈.geojson"),
        "vertices_shapefile": write_vertex_zip(folder / "大圈.zip"),
        "traversal": write_traversal_zip(_deep(folder) / "越界.zip"),
        "symlink": write_symlink_zip(folder / "链接.zip"),
        "raster_bomb": write_raster_bomb(folder / "人口.tif"),
        "csv_rows": write_csv_row_bomb(folder / "场馆_行炸弹.csv"),
        "xlsx_rows": write_xlsx_row_bomb(folder / "场馆_行炸弹.xlsx"),
        "xlsx_far_cell": write_xlsx_far_cell(folder / "场馆_远端单元格.xlsx"),
    }


SCRIPT = textwrap.dedent("""
    import json, sys, time
    import i18n  # as every entry point does: the errors read as sentences
    from layers.errors import OneMapError
    from layers.ingest import import_population_raster, prepare_import
    from layers.stores.geopackage import GeoPackageStore
    path, kind, store = sys.argv[1], sys.argv[2], sys.argv[3]
    t = time.perf_counter()
    try:
        if kind == "floor":
            prepare_import(path, "venues")
        elif kind == "raster_bomb":
            import_population_raster(GeoPackageStore(store, create=True), path, user="x")
        else:
            prepare_import(path, "venues", coord_system="wgs84")
        outcome = ["accepted", ""]
    except OneMapError as exc:
        outcome = [type(exc).__name__, str(exc)]
    seconds = time.perf_counter() - t
    peak = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024
    print(json.dumps({"error": outcome[0], "message": outcome[1], "seconds": seconds, "peak_mb": peak}))
""")


def refuse_in_a_process(path: Path, kind: str, uploads: Path, store: Path) -> dict:
    """Run one refusal in a fresh process (its own peak memory), with the upload folder given."""
    env = {**os.environ, "ONEMAP_UPLOAD_DIR": str(uploads)}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(path), kind, str(store)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


