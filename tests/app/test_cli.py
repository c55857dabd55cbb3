"""The command line end to end on the demo city: coverage, plan, export, report, import; exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import rasterio
from openpyxl import load_workbook

from cli.main import EXIT_ANALYSIS, EXIT_OK, EXIT_REFUSED, main
from tests.conftest import ROOT


@pytest.fixture
def city(tmp_path, demo_gpkg):
    path = tmp_path / "city.gpkg"
    shutil.copy(demo_gpkg, path)
    return str(path)


def test_demo_city_coverage_plan_export_report(city, tmp_path, capsys):
    assert main(["--store", city, "--quiet", "coverage", "--out", str(tmp_path / "cov.xlsx")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "体育场馆 10分钟（500米）覆盖率" in out and "written:" in out
    sheets = pd.read_excel(tmp_path / "cov.xlsx", sheet_name=None)
    assert set(sheets) == {"summary", "by_street"} and sheets["by_street"]["residents"].sum() > 0
    assert main(["--store", city, "--quiet", "plan", "--p", "3", "--out", str(tmp_path / "sites.gpkg"),
                 "--save", "东岸3处"]) == EXIT_OK
    assert len(pyogrio.read_dataframe(tmp_path / "sites.gpkg")) == 3
    assert main(["--store", city, "--quiet", "export", "--surface", "covered", "--threshold", "500",
                 "--out", str(tmp_path / "covered.tif")]) == EXIT_OK
    with rasterio.open(tmp_path / "covered.tif") as ds:
        assert ds.crs.to_epsg() == 4547
    assert main(["--store", city, "--quiet", "report", "--out", str(tmp_path / "报告.xlsx")]) == EXIT_OK
    assert "按街道" in load_workbook(tmp_path / "报告.xlsx").sheetnames
    assert main(["--store", city, "--quiet", "report", "--out", str(tmp_path / "报告.pdf")]) == EXIT_OK
    assert (tmp_path / "报告.pdf").read_bytes().startswith(b"%PDF")


def test_import_and_exit_codes(city, tmp_path, capsys):
    good = tmp_path / "驿站.csv"
    good.write_text("名称,类型,经度,纬度\n城东健康驿站,community_health_station,114.02,30.01\n", encoding="utf-8")
    assert main(["--store", city, "--quiet", "import", str(good), "--layer", "health_stations",
                 "--coord-system", "gcj02", "--mode", "append"]) == EXIT_OK
    assert "1 row(s) written to health_stations" in capsys.readouterr().out
    bad = tmp_path / "坏.csv"
    bad.write_text("名称,类型,经度,纬度\n城东健康驿站,驿站,东经114度,30.01\n", encoding="utf-8")
    assert main(["--store", city, "--quiet", "import", str(bad), "--layer", "health_stations",
                 "--coord-system", "wgs84"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "refused:" in err and "row 2" in err and "Nothing was written" in err
    assert main(["--store", city, "--quiet", "plan", "--p", "100000"]) == EXIT_ANALYSIS
    with pytest.raises(SystemExit) as usage:
        main(["coverage", "--thresholds", "abc"])
    assert usage.value.code == 2


def test_help_explains_every_command():
    run = subprocess.run([str(Path(sys.executable).parent / "onemap"), "--help"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0
    for command in ("import", "coverage", "plan", "export", "report"):
        assert command in run.stdout
        sub = subprocess.run([str(Path(sys.executable).parent / "onemap"), command, "--help"], cwd=ROOT, capture_output=True,
                             text=True)
        assert sub.returncode == 0 and "--" in sub.stdout
