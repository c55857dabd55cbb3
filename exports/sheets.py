"""The one place where values become spreadsheet cells (CSV and XLSX), so that no stored text runs as a formula.

Excel and WPS read a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula: a venue named ``=HYPERLINK("http://…","详情")`` would become a live link (or worse)
in every department's export. The usual CSV-injection rule is applied here, once:

- **CSV**: such a text value is written with a leading apostrophe (``'=HYPERLINK(…)``), which the
  spreadsheet shows as text; numbers stay numbers (a negative number is not text).
- **XLSX**: every cell is written as the type it is; a text that begins like a formula is stored
  as text (``data_type = "s"``), so the workbook holds no formula but the value, unchanged; control
  characters XML cannot hold (a stray ``\x01`` in a delivered name) are dropped instead of failing
  the whole workbook.

Every CSV and XLSX the project writes — layer exports, reports, sheets, the SMS outbox, the
command line's tables and the pages' downloads — goes through :func:`csv_bytes`, :func:`write_csv`
or :func:`excel_writer` with :func:`write_sheet`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

#: What makes a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> object:
    """``value`` as a CSV cell: a text beginning like a formula gets a leading apostrophe; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are :func:`safe_text` (headers too)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype.kind == "O" or pd.api.types.is_string_dtype(values):
            out[column] = values.map(safe_text).astype(object)
    out.columns = [safe_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame, *, bom: bool = True) -> bytes:
    """``frame`` as CSV bytes (UTF-8, with a BOM so that Excel shows Chinese), formula-safe."""
    text = safe_frame(frame).to_csv(index=False, lineterminator="\r\n")  # a lone CR in a value is then quoted
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` as a formula-safe CSV (written beside, then moved into place)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.csv")
    tmp.write_bytes(csv_bytes(frame))
    os.replace(tmp, target)
    return target


def neutralise_workbook(book) -> int:
    """Store every formula-looking cell of an openpyxl workbook as the text it is; how many were found."""
    found = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith(FORMULA_START)):
                    cell.data_type = "s"
                    found += 1
    return found


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_text(value: object) -> object:
    return _NOT_XML.sub("", value) if isinstance(value, str) else value


def write_sheet(xl: pd.ExcelWriter, frame: pd.DataFrame, sheet_name: str) -> None:
    """Write ``frame`` as the sheet ``sheet_name`` (31 characters at most) of an :func:`excel_writer`: its
    text without the control characters a workbook cannot hold."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype.kind == "O" or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_xml_text).astype(object)
    out.columns = [_xml_text(c) for c in out.columns]
    out.to_excel(xl, sheet_name=str(sheet_name)[:31], index=False)


@contextlib.contextmanager
def excel_writer(path: str | os.PathLike[str]) -> Iterator[pd.ExcelWriter]:
    """A pandas Excel writer (openpyxl) whose workbook holds no formula when it is saved."""
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        yield xl
        neutralise_workbook(xl.book)


def outbox_csv(store, *, department: str | None) -> tuple[bytes, list[int]]:
    """The queued text messages of ``department`` with phones decrypted, as CSV for the city's SMS gateway, and
    the message ids it holds (mark them exported once the file is handed over)."""
    from office.contacts import decrypt_phone

    queued = store.bookings.messages(department=department, unexported_only=True)
    queued = queued[queued["phone_enc"].notna()]
    frame = pd.DataFrame({"message_id": queued["message_id"].astype(int),
                          "phone": [decrypt_phone(p) for p in queued["phone_enc"]],
                          "text": queued["body"].astype(str)})
    return csv_bytes(frame), [int(m) for m in queued["message_id"]]


__all__ = ["FORMULA_START", "safe_text", "safe_frame", "csv_bytes", "write_csv", "excel_writer", "write_sheet",
           "neutralise_workbook", "outbox_csv"]
