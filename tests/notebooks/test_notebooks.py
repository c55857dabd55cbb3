"""Every notebook in notebooks/ runs from top to bottom (so none of them rots)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: What each notebook leaves in its output folder: figures, and a table with at least so many lines.
FIGURES = {"demo_city_walkthrough": ("coverage_500.png", "usage.png", "trend.png", "nearby_sheet.pdf"),
           "province_on_dask": ("province/province_coverage_500.png",)}
TABLES = {"demo_city_walkthrough": ("nearby.csv", 3), "province_on_dask": ("province/province_districts.csv", 4)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, artifacts, monkeypatch, tmp_path):
    out = artifacts / "notebooks" / path.stem
    monkeypatch.setenv("ONEMAP_NOTEBOOK_OUT", str(out))
    monkeypatch.setenv("ONEMAP_NOTEBOOK_STORE", str(tmp_path / "demo_city.gpkg"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
    try:
        client.execute()
    finally:
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out / path.name)  # the executed notebook, with its outputs, to look at
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Figures and files are in" in text
    for name in FIGURES[path.stem]:
        assert (out / name).stat().st_size > 5000, name
    table, rows = TABLES[path.stem]
    assert len((out / table).read_text(encoding="utf-8-sig").splitlines()) >= rows  # a header and rows
    if path.stem == "province_on_dask":
        assert "identical to one partition: True" in text


def test_there_is_a_notebook():
    assert {p.stem for p in NOTEBOOKS} == set(FIGURES) == set(TABLES)
