"""CSV and XLSX deliveries with longitude/latitude columns.

Offices send spreadsheets: UTF-8 or GBK, headers in Chinese or English (经度/纬度,
lng/lat, x/y).  Row numbers in every message are the spreadsheet's own: the header is
row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.errors import InputFileError, Problem, UploadLimitError
from layers.limits import UploadLimits, check_file_size, check_zip

LON_NAMES = ("经度", "东经", "lng", "lon", "long", "longitude", "x", "x坐标", "坐标x", "gcjlng", "bdlng")
LAT_NAMES = ("纬度", "北纬", "lat", "latitude", "y", "y坐标", "坐标y", "gcjlat", "bdlat")
#: The first record's row number in the spreadsheet (the header is row 1).
FIRST_ROW = 2


def normalize_header(name: object) -> str:
    """A header as compared with the accepted names: lower case, no spaces, dashes or brackets."""
    return _norm(name)


def _norm(name: object) -> str:
    return re.sub(r"[\s_\-()（）]+", "", str(name).strip().lower())


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(f"{name}: the text is neither UTF-8 nor GBK/GB18030; save it as UTF-8 CSV.")


_CHUNK = 4 * 1024 * 1024


def _too_many(name: str, what: str, n: int, limit: int) -> UploadLimitError:
    return UploadLimitError.coded("upload.table_size", file=name, what=what, n=f"{n:,}", limit=f"{limit:,}")


def check_csv_size(p: Path, limits: UploadLimits) -> None:
    """Refuse a CSV with more lines, columns or cells than allowed, counting while its bytes stream by
    (a row bomb is refused after reading the first few megabytes, before anything is decoded)."""
    lines, columns = 0, None
    with open(p, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if columns is None:
                head = chunk.split(b"\n", 1)[0]
                columns = max(head.count(sep) for sep in (b",", b";", b"\t")) + 1
                if columns > limits.max_table_columns:
                    raise _too_many(p.name, "columns", columns, limits.max_table_columns)
            lines += chunk.count(b"\n")
            if lines > limits.max_table_rows + 1:
                raise _too_many(p.name, "rows", lines - 1, limits.max_table_rows)
            if lines * (columns or 1) > limits.max_table_cells:
                raise _too_many(p.name, "cells", lines * (columns or 1), limits.max_table_cells)


_ROW_REF = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_WIDE_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{2,3})\d')
_DIMENSION = re.compile(rb'<dimension\b[^>]*?\bref="[A-Z]+\d+:([A-Z]+)(\d+)"')


def _column_number(letters: bytes) -> int:
    n = 0
    for b in letters:
        n = n * 26 + (b - 64)
    return n


def check_workbook_size(p: Path, limits: UploadLimits) -> None:
    """Refuse an XLSX whose sheets hold more rows, columns or cells than allowed, or whose shared strings are
    larger than an upload — read from the sheets' XML as it decompresses (the ``<dimension>`` each sheet
    declares, its ``<row>`` and ``<c>`` elements), before any workbook library builds a cell."""
    import zipfile
    import zlib

    try:
        _check_workbook_parts(p, limits)
    except (InputFileError, UploadLimitError):
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise InputFileError.coded("upload.workbook_damaged", file=p.name, reason=type(exc).__name__) from None


def _check_workbook_parts(p: Path, limits: UploadLimits) -> None:
    import zipfile

    name = p.name
    with zipfile.ZipFile(p) as z:
        infos = {i.filename: i for i in z.infolist()}
        strings = infos.get("xl/sharedStrings.xml")
        if strings is not None:
            if strings.file_size > limits.max_file_mb * 1024 * 1024:
                raise _too_many(name, "bytes of shared text", strings.file_size,
                                int(limits.max_file_mb * 1024 * 1024))
            _count_elements(z, strings, b"<si", limits.max_table_cells, name, "text cells")
        for sheet in (i for n, i in infos.items() if n.startswith("xl/worksheets/") and n.endswith(".xml")):
            _check_sheet(z, sheet, limits, name)


def _count_elements(z, info, tag: bytes, limit: int, name: str, what: str) -> int:
    n = 0
    carry = b""
    with z.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            data = carry + chunk
            n += data.count(tag)
            carry = data[-(len(tag) - 1):] if len(tag) > 1 else b""
            n -= carry.count(tag)
            if n > limit:
                raise _too_many(name, what, n, limit)
    return n


def _check_sheet(z, info, limits: UploadLimits, name: str) -> None:
    rows = cells = max_row = max_col = 0
    carry = b""
    with z.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            data = carry + chunk
            cut = data.rfind(b"<")  # elements are counted whole: the last one waits for the next chunk
            head, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            if not max_row and (dim := _DIMENSION.search(head)):
                max_col, max_row = _column_number(dim.group(1)), int(dim.group(2))
            rows += head.count(b"<row")
            cells += head.count(b"<c ") + head.count(b"<c>")
            last = head.rfind(b"<row")
            if last >= 0 and (hit := _ROW_REF.match(head, last)):
                max_row = max(max_row, int(hit.group(1)))
            for letters in _WIDE_CELL.findall(head):
                max_col = max(max_col, _column_number(letters))
            for what, n, limit in (("rows", max(rows, max_row) - 1, limits.max_table_rows),  # less the header
                                   ("columns", max_col, limits.max_table_columns),
                                   ("cells", cells, limits.max_table_cells)):
                if n > limit:
                    raise _too_many(name, what, n, limit)


def read_table(path: str | Path, *, limits: UploadLimits | None = None) -> pd.DataFrame:
    """Read a CSV (UTF-8 or GBK, comma/semicolon/tab separated) or an XLSX sheet as text, within the limits.

    Raises
    ------
    InputFileError
        Empty or unreadable file, no record rows, or a header spread over two rows.
    UploadLimitError
        A file over the size limit, an XLSX that would expand past the limit, too many rows.
    """
    p = Path(path)
    name = p.name
    suffix = p.suffix.lower()
    limits = limits or UploadLimits.from_env()
    if not p.is_file():
        raise InputFileError(f"{name}: file not found.")
    check_file_size(p, limits)
    if suffix in (".xlsx", ".xlsm"):
        check_zip(p, limits, workbook=True)  # an XLSX is a zip of XML: its expanded size is known first
        check_workbook_size(p, limits)
    elif suffix == ".csv":
        check_csv_size(p, limits)
    try:
        if suffix == ".csv":
            text = _decode(p.read_bytes(), name)
            if not text.strip():
                raise InputFileError(f"{name}: the file is empty.")
            try:
                dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
                sep = dialect.delimiter
            except csv.Error:
                sep = ","
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""])
        elif suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(p, dtype=object, engine="openpyxl")
        else:
            raise InputFileError(f"{name}: {suffix} is not a table format; use .csv or .xlsx.")
    except (InputFileError, UploadLimitError):
        raise
    except Exception as exc:  # pandas / openpyxl raise many types for broken files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{name}: cannot be read as a table ({first}).") from None
    header = [str(c) for c in frame.columns]
    unnamed = sum(1 for c in header if c.startswith("Unnamed:") or not c.strip())
    if len(header) > 1 and unnamed * 2 >= len(header):
        raise InputFileError(f"{name}: the header seems to span two rows (merged cells: {unnamed} of "
                             f"{len(header)} columns have no name in row 1). Keep one header row with a "
                             "name per column, e.g. 名称, 经度, 纬度.")
    if len(frame) == 0:
        raise InputFileError(f"{name}: has a header but no record rows.")
    if len(frame) > limits.max_table_rows:
        raise UploadLimitError(f"{name}: has {len(frame):,} rows; one upload may have at most "
                               f"{limits.max_table_rows:,}. Split it, or load it with the command line.")
    frame.columns = header
    return frame


def find_coordinate_columns(columns: list[str], *, name: str, lon: str | None = None,
                            lat: str | None = None) -> tuple[str, str]:
    """The longitude and latitude columns, given or found by their usual names.

    Raises
    ------
    InputFileError
        When either is missing, listing the columns there are and the names accepted.
    """
    normed = {c: _norm(c) for c in columns}
    found = []
    for given, names in ((lon, LON_NAMES), (lat, LAT_NAMES)):
        if given is not None:
            if given not in columns:
                raise InputFileError(f"{name}: no column {given!r}; columns are {', '.join(columns)}.")
            found.append(given)
            continue
        wanted = {_norm(n) for n in names}
        hit = [c for c in columns if normed[c] in wanted]
        if not hit:
            raise InputFileError(
                f"{name}: no {'longitude' if names is LON_NAMES else 'latitude'} column found among "
                f"{', '.join(columns)}; name it one of {', '.join(names)} or say which column it is.")
        found.append(hit[0])
    return found[0], found[1]


def table_to_points(frame: pd.DataFrame, *, name: str, lon: str | None = None,
                    lat: str | None = None) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Points from the coordinate columns; rows whose coordinates are not numbers get no
    geometry and a problem naming the row, column and value.  No CRS is set."""
    lon_col, lat_col = find_coordinate_columns(list(frame.columns), name=name, lon=lon, lat=lat)
    problems: list[Problem] = []
    xy = []
    for col in (lon_col, lat_col):
        raw = frame[col]
        num = pd.to_numeric(raw.map(lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
        num = num.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(num)
        for i in np.flatnonzero(bad):
            value = raw.iloc[i]
            empty = value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""
            problems.append(Problem.coded(int(i + FIRST_ROW), col, None if empty else value,
                                          "check.empty_coordinate" if empty else "check.not_degrees"))
        xy.append(num)
    x, y = xy
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(frame), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    attrs = frame.drop(columns=[lon_col, lat_col])
    out = gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=gpd.GeoSeries(geoms), crs=None)
    return out, problems
