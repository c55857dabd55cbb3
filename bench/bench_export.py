"""Benchmark: exporting the demo city's coverage results to every format, and a print map.

Times each writer on the demo city (6,213 populated cells, 4 facility layers): the
per-cell results and gap areas to GeoPackage, GeoJSON and a zipped Shapefile; the summary
and per-street tables to CSV and XLSX; three GeoTIFF surfaces; the offline HTML map; the
district report as XLSX and PDF — and a print map as PNG and PDF.  For the print map the
streets are drawn as one line collection; the standard way (GeoDataFrame.plot per layer)
is timed on the same layers for the ratio.  Prints figures; asserts nothing.

    make bench-export      # or: python -m bench.bench_export
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import geopandas as gpd  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.bench_store_write import timed  # noqa: E402
from bench.demo import demo_engine  # noqa: E402
from exports.files import write_surface, write_tables, write_vectors  # noqa: E402
from exports.print_map import print_map  # noqa: E402
from exports.report import district_report, write_report_pdf, write_report_xlsx  # noqa: E402
from geo.gaps import gap_areas  # noqa: E402
from geo.units import assign_units, coverage_by_unit  # noqa: E402
from webmap.offline import write_offline_html  # noqa: E402

MAP_LAYERS = ("land_use", "walk_network", "boundaries", "greenways", "venues", "school_facilities",
              "health_stations", "metro_stations")


def main() -> int:
    city, engine = demo_engine()
    demand, net = engine.demand, engine.network_reach.network
    result = engine.run()
    cells = result.cells()
    cell_layer = gpd.GeoDataFrame(cells, geometry=gpd.points_from_xy(cells["x"], cells["y"]), crs=demand.crs)
    gaps = gap_areas(result, "venues", 500)
    by_street = coverage_by_unit(result, assign_units(demand, city.layers["boundaries"], level="street"))
    layers = {k: city.layers[k] for k in MAP_LAYERS}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        steps = {
            "GeoPackage (cells + gaps)": lambda: write_vectors({"coverage_cells": cell_layer, "gaps": gaps},
                                                               out / "coverage.gpkg"),
            "GeoJSON (gaps)": lambda: write_vectors({"gaps": gaps}, out / "gaps.geojson"),
            "Shapefile .zip (cells)": lambda: write_vectors({"cells": cell_layer}, out / "cells.zip"),
            "CSV (summary)": lambda: write_tables({"summary": result.summary()}, out / "summary.csv"),
            "XLSX (summary, streets, cells)": lambda: write_tables(
                {"summary": result.summary(), "streets": by_street, "cells": cells}, out / "coverage.xlsx"),
            "GeoTIFF x3 (distance, covered, population)": lambda: [
                write_surface(result, out / "distance.tif", "distance", layer="venues"),
                write_surface(result, out / "covered.tif", "covered", layer="venues", threshold=500),
                write_surface(result, out / "population.tif", "population")],
            "offline HTML map": lambda: write_offline_html(layers, out / "map.html", title="青溪区"),
            "district report XLSX + PDF": lambda: [
                write_report_xlsx(r := district_report(result, city.layers["boundaries"], venues=city.layers["venues"],
                                                       school_facilities=city.layers["school_facilities"]),
                                  out / "report.xlsx"),
                write_report_pdf(r, out / "report.pdf")],
        }
        total = 0.0
        for name, fn in steps.items():
            t, _ = timed(fn)
            total += t
            print(f"  {name:45s} {t:6.2f} s")
        print(f"all exports of the coverage results: {total:.2f} s (target < 10 s)")
        map_layers = {**layers, "gaps": gaps}
        streets = city.layers["boundaries"][city.layers["boundaries"]["level"] == "street"]
        for suffix in ("png", "pdf"):
            t, _ = timed(lambda: print_map(map_layers, out / f"map.{suffix}", title="青溪区 体育场馆覆盖缺口",
                                           source="示范数据", unit_labels=streets, dpi=200))
            print(f"print map A4 {suffix.upper()} at 200 dpi: {t:.2f} s (target < 5 s)")
        t0 = time.perf_counter()
        fig, ax = plt.subplots(figsize=(11.69, 8.27), dpi=200)
        for name in MAP_LAYERS:
            layers[name].to_crs(net.crs).plot(ax=ax)
        gaps.plot(ax=ax)
        fig.savefig(out / "standard.png")
        plt.close(fig)
        t_std = time.perf_counter() - t0
        t_ours, _ = timed(lambda: print_map(map_layers, out / "again.png", title="青溪区", source="示范数据", dpi=200))
        print(f"standard way (GeoDataFrame.plot per layer, no legend/scale/labels): {t_std:.2f} s; "
              f"ours with everything {t_ours:.2f} s (ratio {t_std / t_ours:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
