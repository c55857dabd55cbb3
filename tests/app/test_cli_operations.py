"""The command line's operations commands: records import, nearby finder, indicators."""

from __future__ import annotations

import pandas as pd
import pypdf

from cli.main import EXIT_OK, EXIT_REFUSED, main
from tests.app.test_cli import city  # noqa: F401  (the fixture)


def test_records_nearby_and_indicators(city, tmp_path, capsys):  # noqa: F811
    bad = tmp_path / "usage.csv"
    bad.write_text("场馆编号,日期,人次\nvenue-001,2026-10-01,12\nvenue-999,2026-10-01,3\n", encoding="utf-8")
    assert main(["--store", city, "--quiet", "records", str(bad), "--kind", "venue_usage"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "row 3, field 'venue_id', value 'venue-999'" in err and "unknown references" in err
    assert main(["--store", city, "--quiet", "records", str(bad), "--kind", "venue_usage", "--keep-valid"]) == EXIT_OK
    assert "1 row(s) written to venue_usage" in capsys.readouterr().out

    assert main(["--store", city, "--quiet", "nearby", "--station", "health-001", "--slot", "Sat 09:00",
                 "--out", str(tmp_path / "推荐单.pdf")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "振兴路健身中心" in out and "written:" in out
    assert "健身资源就近推荐单" in pypdf.PdfReader(tmp_path / "推荐单.pdf").pages[0].extract_text()
    assert main(["--store", city, "--quiet", "nearby", "--minutes", "10"]) == EXIT_OK
    assert "health-009" in capsys.readouterr().out  # a station with nothing open within 10 minutes

    assert main(["--store", city, "--quiet", "indicators", "--trend", "--out", str(tmp_path / "指标.xlsx")]) == EXIT_OK
    sheets = pd.read_excel(tmp_path / "指标.xlsx", sheet_name=None)
    assert set(sheets) == {"units", "departments", "league", "city", "trend"}
    assert len(sheets["league"]) == 6 and len(sheets["trend"]) == 2
    assert main(["--store", city, "--quiet", "indicators", "--as-of", "next tuesday"]) != EXIT_OK


def test_accounts_from_the_command_line(city, monkeypatch, capsys):  # noqa: F811
    import io

    from layers.stores import open_store
    from office.accounts import sign_in

    monkeypatch.setattr("sys.stdin", io.StringIO("Qingxi-Sports-2026\n"))
    assert main(["--store", city, "account", "add", "zhang.san", "--role", "editor", "--department", "sports",
                 "--password-stdin"]) == EXIT_OK
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["--store", city, "account", "add", "wang", "--password-stdin"]) == EXIT_REFUSED
    assert "at least 10 characters" in capsys.readouterr().err
    assert main(["--store", city, "account", "list"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert "zhang.san" in listed and "scrypt" not in listed
    with open_store(city) as store:
        assert sign_in(store, "zhang.san", "Qingxi-Sports-2026").department == "sports"
    assert main(["--store", city, "roles"]) != EXIT_OK  # roles need PostgreSQL


def test_the_period_report_from_the_command_line(city, tmp_path, capsys):  # noqa: F811
    import datetime as dt

    now = dt.datetime.now().replace(microsecond=0)
    month = now.strftime("%Y-%m")
    assert main(["--store", city, "--quiet", "period-report", "--period", month, "--out",
                 str(tmp_path / "月报.xlsx")]) == EXIT_REFUSED
    assert "has not ended yet" in capsys.readouterr().err
    for name in ("月报.xlsx", "教育局月报.pdf"):
        args = ["--store", city, "--quiet", "period-report", "--period", month, "--as-of", now.isoformat(),
                "--out", str(tmp_path / name)] + (["--department", "education"] if "教育局" in name else [])
        assert main(args) == EXIT_OK
        assert f"figures as at {now:%Y-%m-%d %H:%M:%S}" in capsys.readouterr().out
    sheets = pd.read_excel(tmp_path / "月报.xlsx", sheet_name=None)
    assert {"指标", "问题反馈按部门", "问题反馈按类别", "主要缺口", "图层变更", "数据快照"} <= set(sheets)
    assert "教育局全民健身工作月报" in pypdf.PdfReader(tmp_path / "教育局月报.pdf").pages[0].extract_text()
    assert main(["--store", city, "--quiet", "period-report", "--period", "2026Q9", "--out",
                 str(tmp_path / "x.xlsx")]) == EXIT_REFUSED
    assert main(["--store", city, "--quiet", "period-report", "--period", month, "--as-of", "yesterday",
                 "--out", str(tmp_path / "x.xlsx")]) == EXIT_REFUSED
