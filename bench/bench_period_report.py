"""Benchmark: the monthly report against the indicators it reports, on a copy of the demo city.

The report reads the stored layers at its pin and at the previous period's end, computes the alliance's indicators
at both, counts the period's field reports, cuts the gaps and draws its charts.  Its floor is the indicators it
reports: one computation of the city's indicators at the pin from the stored layers, as the 运营评估 page makes them.
Both are timed cold (nothing kept from an earlier run in this process) and warm (the same process asked again),
and the report is timed once more for a period whose layers did not change since the previous period's end.
Prints figures and the ratio; asserts nothing.

    make bench-period-report      # or: python -m bench.bench_period_report
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from exports.period_report import (
    _indicator_figures,
    clear_engines,
    parse_period,
    period_report,
    write_period_pdf,
    write_period_xlsx,
)
from layers.stores.geopackage import GeoPackageStore

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_city.gpkg"


def timed(work) -> float:
    t = time.perf_counter()
    work()
    return time.perf_counter() - t


def main() -> int:
    if not DEMO.exists():
        raise SystemExit(f"{DEMO} is missing: run make demo-data first")
    now = dt.datetime.now().replace(microsecond=0)
    period = parse_period(now.strftime("%Y-%m"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "city.gpkg"
        shutil.copyfile(DEMO, path)
        with GeoPackageStore(path) as store:
            rows = []
            for label in ("cold", "warm"):
                if label == "cold":
                    clear_engines()
                t_ind = timed(lambda: _indicator_figures(store, now, period, "alliance"))
                if label == "cold":
                    clear_engines()
                made = {}
                t_rep = timed(lambda: made.update(report=period_report(store, period, as_of=now, now=now)))
                t_pdf = timed(lambda: write_period_pdf(made["report"], Path(folder) / "report.pdf"))
                t_xlsx = timed(lambda: write_period_xlsx(made["report"], Path(folder) / "report.xlsx"))
                rows.append((label, t_ind, t_rep, t_pdf, t_xlsx))
            for label, t_ind, t_rep, t_pdf, t_xlsx in rows:
                print(f"monthly report {period.label} ({label}): the indicators it reports {t_ind:.2f} s; the report's "
                      f"figures {t_rep:.2f} s ({t_rep / t_ind:.2f}x); written as PDF {t_pdf:.2f} s, as XLSX "
                      f"{t_xlsx:.2f} s; figures and PDF {(t_rep + t_pdf) / t_ind:.2f}x the indicators (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
