"""File commands: ``export`` (layers, surfaces, print maps, offline HTML) and ``report``."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import EXIT_OK, analysis_options, build_engine, open_store_of, slot, thresholds
from cli.progress import Progress
from geo.errors import AnalysisError
from layers.errors import InputFileError

#: Layers a print map or an offline map shows when none are named.
MAP_LAYERS = ("land_use", "walk_network", "boundaries", "greenways", "venues", "school_facilities", "health_stations")


def cmd_export(args: argparse.Namespace) -> int:
    """Write layers, a GeoTIFF surface, a print map or an offline HTML map."""
    from exports.files import write_layer_tables, write_surface, write_vectors
    from i18n import t

    out = Path(args.out)
    progress = Progress(quiet=args.quiet)
    title = args.title or t("app_title", args.lang)
    with open_store_of(args) as store:
        names = [n for n in args.layers.split(",") if n] if args.layers else []
        frames = {n: store.layers.read(n) for n in names}
        suffix = out.suffix.lower()
        if args.surface:
            engine, _ = build_engine(store, args, progress, layers=[args.surface_layer])
            with progress.phase("walking distances") as tick:
                result = engine.run([args.threshold], slot=slot(args.slot), progress=tick)
            write_surface(result, out, args.surface, layer=args.surface_layer, threshold=args.threshold)
        elif args.print_map or args.html:
            stored = {i.name for i in store.layers.list()}
            layers = frames or {n: store.layers.read(n) for n in MAP_LAYERS if n in stored}
            with progress.phase(f"drawing {out.name}"):
                if args.html:
                    from webmap.offline import write_offline_html

                    write_offline_html(layers, out, title=title, lang=args.lang)
                else:
                    from exports.print_map import print_map

                    bounds = layers.get("boundaries")
                    streets = bounds[bounds["level"] == "street"] if bounds is not None and "level" in bounds \
                        else None
                    print_map(layers, out, title=title, source=args.source, paper=args.paper, dpi=args.dpi,
                              unit_labels=streets, lang=args.lang)
        elif suffix in (".csv", ".xlsx"):
            write_layer_tables(frames, out, args.lang, projected=args.projected)
        else:
            write_vectors(frames, out)
    print(f"written: {out}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """The district report (.xlsx or .pdf)."""
    from exports.report import district_report, write_report_pdf, write_report_xlsx
    from layers.health import stored_need

    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".pdf"):
        raise InputFileError(f"{out.name}: the report is written as .xlsx or .pdf.")
    progress = Progress(quiet=args.quiet)
    with open_store_of(args) as store:
        engine, stored = build_engine(store, args, progress)
        with progress.phase("walking distances") as tick:
            result = engine.run(args.thresholds, slot=slot(args.slot), progress=tick)
        if "boundaries" not in stored:
            raise AnalysisError("The report needs the boundaries layer (districts and streets).")
        schools = store.layers.read("school_facilities") if "school_facilities" in stored else None
        need = stored_need(store.records.read("health_indicators"))
        others = {n: store.layers.read(n) for n in ("greenways", "health_stations") if n in stored and need}
        with progress.phase(f"writing {out.name}"):
            report = district_report(result, store.layers.read("boundaries"), venues=store.layers.read("venues"),
                                     school_facilities=schools, layer=args.layer, title=args.title, need=need,
                                     engine=engine, need_layers=others, lang=args.lang)
            (write_report_pdf if out.suffix.lower() == ".pdf" else write_report_xlsx)(report, out)
    print(f"written: {out}")
    return EXIT_OK


def cmd_period_report(args: argparse.Namespace) -> int:
    """The monthly or quarterly report (.xlsx or .pdf), read at the period's end or at ``--as-of``."""
    import datetime as dt

    from exports.period_report import period_report, write_period_pdf, write_period_xlsx

    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".pdf"):
        raise InputFileError(f"{out.name}: the report is written as .xlsx or .pdf.")
    as_of = None
    if args.as_of:
        try:
            as_of = dt.datetime.fromisoformat(args.as_of)
        except ValueError:
            raise InputFileError(f"--as-of {args.as_of!r}: write a local time like 2026-12-02T18:00.") from None
    with open_store_of(args) as store:
        report = period_report(store, args.period, department=args.department, as_of=as_of, lang=args.lang)
        (write_period_pdf if out.suffix.lower() == ".pdf" else write_period_xlsx)(report, out)
    print(f"written: {out} ({report.title}, figures as at {report.pinned_at:%Y-%m-%d %H:%M:%S})")
    return EXIT_OK


def add_parsers(sub) -> None:
    """The file commands' subparsers."""
    p = sub.add_parser("export", help="write layers, surfaces, print maps or an offline HTML map")
    p.add_argument("--layers", help="stored layers, comma-separated")
    p.add_argument("--out", required=True, help=".gpkg (several layers), .geojson, .zip (Shapefile), .csv, .xlsx, "
                                                ".tif (with --surface), .png/.pdf (with --print-map), "
                                                ".html (with --html)")
    p.add_argument("--surface", choices=("distance", "covered", "population"), help="a GeoTIFF surface")
    p.add_argument("--surface-layer", default="venues", help="facility layer of the surface (default: venues)")
    p.add_argument("--threshold", type=float, default=500.0, help="threshold of a covered surface (m)")
    p.add_argument("--print-map", action="store_true", help="a print map (.png or .pdf)")
    p.add_argument("--html", action="store_true", help="a self-contained HTML map that works offline")
    p.add_argument("--title", default=None, help="map title (default: the app's name, in --lang)")
    p.add_argument("--source", default=None, help="data source printed on the map (default: the departments whose "
                                                   "layers are drawn, in --lang)")
    p.add_argument("--projected", action="store_true", help="a .csv/.xlsx of layers also gives CGCS2000 "
                                                            "Gauss-Kruger x/y (metres) beside longitude/latitude")
    p.add_argument("--paper", default="A4", choices=("A4", "A3", "A2"), help="paper size, landscape")
    p.add_argument("--dpi", type=int, default=200, help="resolution of a PNG print map")
    analysis_options(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", help="the district report, as .xlsx or .pdf")
    p.add_argument("--out", required=True, help="report.xlsx or report.pdf")
    p.add_argument("--layer", default="venues", help="facility layer reported on (default: venues; 'any' for all)")
    p.add_argument("--thresholds", type=thresholds, default=[300.0, 500.0, 1000.0],
                   help="walking distances in metres (default: 300,500,1000)")
    p.add_argument("--title", default=None, help="report title (default: the report's own, in --lang)")
    analysis_options(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("period-report", help="the monthly or quarterly report of a department or the alliance")
    p.add_argument("--period", required=True, help="a month (2026-10) or a quarter (2026Q3)")
    p.add_argument("--department", default="alliance",
                   choices=("alliance", "sports", "education", "health", "parks"), help="whose report (default: the "
                                                                                         "alliance's)")
    p.add_argument("--as-of", help="for a period still running: read the figures as at this local time "
                                   "(2026-12-02T18:00); the same value gives the same report again")
    p.add_argument("--out", required=True, help="report.xlsx or report.pdf")
    p.set_defaults(func=cmd_period_report)
