"""No stored text runs as a formula in any department's spreadsheet: by property over any table, and through
the real writers (layer exports, the nearby list, the SMS outbox) with venues named like formulas."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from exports.sheets import FORMULA_START, csv_bytes, excel_writer, write_sheet

FORMULAS = ['=HYPERLINK("http://198.51.100.7/x","详情")', "+1+1", "-2+3", "@SUM(A1:A9)", "\tcmd|' /C calc'!A0",
            "\r=1+1", "=1+1"]

cells = st.one_of(st.text(max_size=30), st.sampled_from(FORMULAS),
                  st.tuples(st.sampled_from(FORMULA_START), st.text(max_size=10)).map("".join),
                  st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32))


def _read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=8))
def test_no_cell_of_any_table_starts_like_a_formula_and_its_text_is_kept(tmp_path_factory, rows):
    frame = pd.DataFrame(rows, columns=["名称", "备注"])
    for got, want in zip(_read_csv(csv_bytes(frame))[1:], frame.itertuples(index=False)):
        for cell, value in zip(got, want):
            if isinstance(value, str):  # text: as it was, behind an apostrophe when it starts like a formula
                assert cell == (("'" + value) if value.startswith(FORMULA_START) else value), (cell, value)
            else:  # a number stays a number (a negative one is no formula)
                assert _is_number(cell), cell
    path = tmp_path_factory.mktemp("x") / "t.xlsx"
    with excel_writer(path) as xl:
        write_sheet(xl, frame, "表")
    sheet = load_workbook(path).active
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
    for got, want in zip(sheet.iter_rows(min_row=2, values_only=True), frame.itertuples(index=False)):
        for cell, value in zip(got, want):
            if isinstance(value, str):
                kept = "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")
                assert (cell or "") == kept, (cell, value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture
def formula_venues(demo_city):
    venues = demo_city.layers["venues"].iloc[:len(FORMULAS)].copy()
    venues["name"] = FORMULAS
    return venues


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_layer_exported_by_a_department_holds_no_live_formula(formula_venues, tmp_path, suffix):
    from exports.files import write_tables

    path = write_tables({"venues": formula_venues}, tmp_path / f"场馆{suffix}")
    if suffix == ".csv":
        names = [r[list(formula_venues.columns).index("name")] for r in _read_csv(path.read_bytes())[1:]]
        assert names == ["'" + f for f in FORMULAS]
    else:
        sheet = load_workbook(path).active
        col = [c.value for c in next(sheet.iter_rows(max_row=1))].index("name") + 1
        assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
        assert [sheet.cell(row=i + 2, column=col).value for i in range(len(FORMULAS))] == FORMULAS


def test_the_sms_outbox_holds_no_live_formula(gpkg_store):
    from exports.sheets import outbox_csv
    from office.contacts import encrypt_phone

    for k, text in enumerate(FORMULAS):
        gpkg_store.bookings.add_message(department="health", booking_id=None, phone_enc=encrypt_phone(f"1381234567{k}"),
                                        body=text, now="2026-12-07T09:00")
    data, ids = outbox_csv(gpkg_store, department="health")
    rows = _read_csv(data)[1:]
    assert len(rows) == len(FORMULAS) == len(ids)
    assert all(not r[2].startswith(FORMULA_START) for r in rows) and rows[0][2] == "'" + FORMULAS[0]


def test_a_lone_carriage_return_in_a_value_stays_inside_its_cell():
    """Found by the property: a bare CR was written unquoted, and a spreadsheet read a new row there."""
    frame = pd.DataFrame({"名称": ["\r", "a\rb"], "备注": [1, 2]})
    assert _read_csv(csv_bytes(frame))[1:] == [["'\r", "1"], ["a\rb", "2"]]


def test_a_control_character_in_a_stored_name_does_not_break_the_workbook(tmp_path):
    """Found by the property: openpyxl refused the whole workbook (IllegalCharacterError) for one \\x01."""
    with excel_writer(tmp_path / "t.xlsx") as xl:
        write_sheet(xl, pd.DataFrame({"名称": ["青溪\x01体育中心"]}), "场馆")
    assert load_workbook(tmp_path / "t.xlsx").active["A2"].value == "青溪体育中心"
