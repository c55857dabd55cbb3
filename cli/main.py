"""The command line: the same functions as the app, for batch work and scripts.

    onemap import 场馆.xlsx --layer venues --coord-system gcj02
    onemap coverage --thresholds 300,500,1000 --slot "Sat 09:00" --out coverage.xlsx
    onemap plan --problem mclp --p 5 --cutoff 1000 --save "东岸 5处"
    onemap export --layers venues,boundaries --out city.gpkg
    onemap report --out report.pdf
    onemap records 八月使用记录.xlsx --kind venue_usage
    onemap nearby --station health-001 --slot "Sat 09:00" --out 推荐单.pdf
    onemap indicators --trend --out 指标.xlsx

The store is ``--store`` (a GeoPackage path or a postgresql:// URL), else ``DATABASE_URL``,
else ``ONEMAP_GPKG``, else the demo city.  Exit codes: 0 done; 2 a usage error; 3 the
input was refused (the message says why; nothing was written); 4 the store could not be
opened or written; 5 an analysis could not run on the data given.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from geo.errors import AnalysisError, OneMapError
from geo.inputs import FACILITY_LAYERS
from layers.errors import (
    AccessDeniedError,
    InputFileError,
    LayerValidationError,
    SignInError,
    StoreError,
    UnknownLayerError,
)
from layers.logging_config import configure_logging

EXIT_OK, EXIT_USAGE, EXIT_REFUSED, EXIT_STORE, EXIT_ANALYSIS = 0, 2, 3, 4, 5


class Progress:
    """A progress bar on stderr (one line per step when stderr is not a terminal)."""

    def __init__(self, total: int, *, quiet: bool = False) -> None:
        self.total, self.done, self.quiet = total, 0, quiet
        self.start = time.perf_counter()

    def step(self, what: str) -> None:
        """Mark the start of the next step."""
        self.done += 1
        if self.quiet:
            return
        filled = int(20 * self.done / self.total)
        line = f"[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} {what}"
        if sys.stderr.isatty():
            sys.stderr.write("\r" + line.ljust(78))
            if self.done == self.total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _store(args: argparse.Namespace, create: bool = False):
    from layers.stores import open_store

    return open_store(args.store, create=create)


def _engine(store, args: argparse.Namespace, progress: Progress):
    """Network, demand and facilities from the store, prepared once."""
    from geo.inputs import engine_from_readers
    from layers.stores.snapshot import current_snapshot

    progress.step("reading the stored layers")
    snap = current_snapshot(store)
    progress.step("building the walking network and the population")
    engine = engine_from_readers(snap.vector, snap.raster, method=args.method, facility_layers=args.layers)
    progress.step("snapping everything to the network")
    progress.step("ready")
    return engine, {name for name, _kind in snap.versions}


def _thresholds(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"thresholds are metres separated by commas (300,500,1000), not {text!r}")
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"thresholds must be positive metres, not {text!r}")
    return values


def _slot(text: str | None):
    from geo.facilities import TimeSlot

    return TimeSlot.parse(text) if text else None


def cmd_import(args: argparse.Namespace) -> int:
    from layers.fields import FieldMapping
    from layers.ingest import commit_import, import_osm, import_population_raster, prepare_import, preview_changes

    progress = Progress(3, quiet=args.quiet)
    progress.step(f"reading {Path(args.file).name}")
    suffix = Path(args.file).suffix.lower()
    with _store(args, create=True) as store:
        if suffix in (".osm", ".pbf"):
            progress.step("mapping OpenStreetMap tags")
            counts = import_osm(store, args.file, user=args.user)
            progress.step("written")
            print(counts.to_string(index=False))
            return EXIT_OK
        if suffix in (".tif", ".tiff"):
            progress.step("checking the raster")
            version = import_population_raster(store, args.file, user=args.user)
            progress.step("written")
            print(f"population raster stored as version {version}")
            return EXIT_OK
        if not args.layer:
            raise InputFileError("Say which layer the file is for with --layer (e.g. --layer venues).")
        mapping = FieldMapping.load(args.mapping) if args.mapping else None
        plan = prepare_import(args.file, args.layer, coord_system=args.coord_system, crs=args.crs, mapping=mapping,
                              department=args.department, lon_column=args.lon, lat_column=args.lat)
        progress.step("validating")
        print(plan.summary())
        if args.save_mapping:
            plan.mapping.save(args.save_mapping)
        stored = {i.name: i.n_features for i in store.layers.list() if i.kind == "vector"}.get(args.layer) or 0
        mode = args.mode or ("append" if stored == 0 else None)
        for option in ([mode] if mode else ["append", "upsert", "replace"]):
            if plan.n_valid:
                change = preview_changes(store, plan, mode=option, keep_valid=args.keep_valid or not plan.report.ok)
                print(f"{option}: {change.added} added, {change.updated} updated, {change.unchanged} unchanged, "
                      f"{change.removed} removed → {change.stored_after} stored"
                      + (f" (refused: {change.clashes} id(s) already stored)" if change.refused else ""))
        if args.dry_run:
            progress.step("checked (dry run: nothing written)")
            return EXIT_OK if plan.report.ok else EXIT_REFUSED
        if not plan.report.ok and not args.keep_valid:
            raise LayerValidationError(plan.report)
        if mode is None:
            raise InputFileError(f"{args.layer} already holds {stored} feature(s): say --mode append, upsert or "
                                 "replace (the counts above show what each would change).")
        result = commit_import(store, plan, user=args.user, keep_valid=args.keep_valid, mode=mode)
        progress.step("written")
        print(f"{result.n_written} row(s) written to {args.layer} (version {result.layer_version}); "
              f"{result.n_total} stored in all.")
    return EXIT_OK


def cmd_coverage(args: argparse.Namespace) -> int:
    from exports.files import write_tables
    from geo.units import assign_units, coverage_by_unit

    progress = Progress(6, quiet=args.quiet)
    with _store(args) as store:
        engine, stored = _engine(store, args, progress)
        progress.step("walking distances")
        result = engine.run(args.thresholds, slot=_slot(args.slot))
        summary = result.summary()
        tables = {"summary": summary}
        if "boundaries" in stored:
            units = assign_units(engine.demand, store.layers.read("boundaries"), level=args.level)
            tables[f"by_{args.level}"] = coverage_by_unit(result, units)
        progress.step("done")
    shown = summary[["layer", "threshold_m", "minutes", "residents", "covered", "rate", "status"]].copy()
    shown["threshold_m"] = shown["threshold_m"].map(lambda v: f"{v:g}")
    shown["minutes"] = shown["minutes"].map(lambda v: f"{v:.1f}")
    for col in ("residents", "covered"):
        shown[col] = shown[col].map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}")
    shown["rate"] = shown["rate"].map(lambda v: "no data" if pd.isna(v) else f"{v:.1%}")
    print(shown.to_string(index=False))
    for note in dict.fromkeys(result.notes):
        print(f"note: {note}")
    if args.out:
        out = Path(args.out)
        write_tables(tables if out.suffix.lower() == ".xlsx" else {"summary": summary}, out)
        print(f"written: {out}")
    return EXIT_OK


def cmd_records(args: argparse.Namespace) -> int:
    from layers.records import commit_records, prepare_records

    with _store(args) as store:
        stored = {i.name for i in store.layers.list()}
        venues = store.layers.read("venues")[["feature_id", "name"]] if "venues" in stored else None
        codes = set(store.layers.read("boundaries")["code"].astype(str)) if "boundaries" in stored else None
        plan = prepare_records(args.file, args.kind, venues=venues, unit_codes=codes)
        print(plan.summary())
        if not plan.report.ok:
            print(plan.report.summary(limit=50), file=sys.stderr)
        if len(plan.unknown):
            print("unknown references (not imported):\n" + plan.unknown.to_string(index=False), file=sys.stderr)
        if args.dry_run:
            return EXIT_OK if plan.report.ok else EXIT_REFUSED
        version = commit_records(store, plan, user=args.user, mode=args.mode, keep_valid=args.keep_valid)
        print(f"{len(plan.valid)} row(s) written to {args.kind} (version {version}).")
    return EXIT_OK


def cmd_nearby(args: argparse.Namespace) -> int:
    from exports.nearby_sheet import write_nearby_csv, write_nearby_sheet
    from geo.nearby import NearbyFinder, parse_coordinates

    progress = Progress(6, quiet=args.quiet)
    with _store(args) as store:
        args.layers = list(FACILITY_LAYERS)
        engine, stored = _engine(store, args, progress)
        finder = NearbyFinder(engine, {k: store.layers.read(k) for k in ("venues", "school_facilities", "greenways")
                                       if k in stored})
        if args.station:
            origin = finder.origin_of_station(args.station)
        elif args.at:
            origin = finder.origin_at(*parse_coordinates(args.at), system=args.coord_system)
        else:
            lonely = finder.stations_without_fitness(minutes=args.minutes, slot=_slot(args.slot))
            progress.step("done")
            print(lonely.to_string(index=False) if len(lonely) else
                  f"Every health station has an open fitness resource within {args.minutes:g} minutes.")
            return EXIT_OK
        result = finder.query(origin, minutes=args.minutes, slot=_slot(args.slot))
        progress.step("done")
        shown = result.table[["rank", "name", "layer", "distance_m", "walk_min", "opening_hours"]]
        print(shown.to_string(index=False, float_format=lambda v: f"{v:,.0f}") if len(shown) else
              f"No fitness resource is open within {args.minutes:g} minutes of {origin.label}.")
        for note in result.notes:
            print(f"note: {note}")
        if args.out:
            out = Path(args.out)
            if out.suffix.lower() == ".csv":
                write_nearby_csv(result, out)
            else:
                write_nearby_sheet(result, out, streets=store.layers.read("walk_network") if "walk_network" in stored
                                   else None, issuer=origin.label if args.station else "")
            print(f"written: {out}")
    return EXIT_OK


def cmd_indicators(args: argparse.Namespace) -> int:
    from exports.files import write_tables
    from geo.indicators import indicator_trend, indicators_from
    from layers.stores.snapshot import change_snapshots, current_snapshot, snapshot_as_of

    with _store(args) as store:
        snap = snapshot_as_of(store, args.as_of) if args.as_of else current_snapshot(store)
        ind = indicators_from(snap, survey=store.records.read("satisfaction"), level=args.level, period=args.period,
                              method=args.method)
        tables = {"units": ind.units, "departments": ind.departments, "league": ind.league,
                  "city": pd.DataFrame([ind.city])}
        if args.trend:
            tables["trend"] = indicator_trend(change_snapshots(store, FACILITY_LAYERS), method=args.method)
    print(f"layers read: {ind.source}")
    print(ind.league.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(ind.departments.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for note in ind.notes:
        print(f"note: {note}")
    if args.out:
        out = Path(args.out)
        write_tables(tables if out.suffix.lower() == ".xlsx" else {"units": ind.units}, out)
        print(f"written: {out}")
    return EXIT_OK


def cmd_account(args: argparse.Namespace) -> int:
    import getpass

    from layers.accounts import create_account, unlock_account

    with _store(args) as store:
        if args.action == "list":
            print(store.accounts.list().to_string(index=False))
            return EXIT_OK
        if not args.name:
            raise InputFileError("Name the account: account add NAME --role … (or unlock NAME).")
        if args.action == "unlock":
            unlock_account(store, args.name)
            print(f"{args.name} unlocked.")
            return EXIT_OK
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"Password for {args.name}: ")
            if getpass.getpass("Again: ") != password:
                raise InputFileError("The two passwords differ; nothing was saved.")
        account = create_account(store, args.name, password, role=args.role, department=args.department,
                                 replace=args.replace)
        print(f"account {account.label} saved (password stored as an scrypt hash only).")
    return EXIT_OK


def cmd_roles(args: argparse.Namespace) -> int:
    from layers.stores.postgis import PostGISStore

    with _store(args) as store:
        if not isinstance(store, PostGISStore):
            raise StoreError("Department roles live in PostgreSQL: give --store postgresql://… or set DATABASE_URL.")
        for role in store.setup_department_roles():
            print(role)
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from geo.candidates import candidate_sites, planning_problem
    from geo.gaps import gap_areas
    from geo.planning import capacitated_covering, maximal_covering, p_median, set_covering
    from geo.scenarios import scenario_payload
    from geo.whatif import WhatIf

    progress = Progress(8, quiet=args.quiet)
    with _store(args) as store:
        args.layers = list(FACILITY_LAYERS)
        engine, stored = _engine(store, args, progress)
        progress.step("finding candidate sites")
        base = engine.run([args.cutoff], layers=[args.layer])
        candidates = candidate_sites(
            engine.network_reach.network if engine.network_reach else None,
            gaps=gap_areas(base, args.layer, args.cutoff) if "generated" in args.candidates else None,
            land_use=store.layers.read("land_use") if "land_use" in stored and "generated" in args.candidates else None,
            school_facilities=store.layers.read("school_facilities")
            if "school_facilities" in stored and "generated" in args.candidates else None,
            uploaded=store.layers.read("candidate_sites")
            if "candidate_sites" in stored and "uploaded" in args.candidates else None)
        progress.step(f"catchments of {len(candidates)} candidates")
        problem, notes = planning_problem(engine, candidates, cutoff=args.cutoff, layers=[args.layer])
        progress.step(f"solving ({args.problem}, {'exact' if args.exact else 'heuristic'})")
        method = "exact" if args.exact else "heuristic"
        if args.problem == "mclp":
            plan = maximal_covering(problem, args.p, method=method, time_limit=args.time_limit, lp_bound=args.lp_bound)
        elif args.problem == "lscp":
            plan = set_covering(problem, args.target, method=method, time_limit=args.time_limit, lp_bound=args.lp_bound)
        elif args.problem == "pmedian":
            plan = p_median(problem, args.p, method=method, time_limit=args.time_limit)
        else:
            plan = capacitated_covering(problem, args.p, method=method, time_limit=args.time_limit)
        progress.step("done")
        print(plan.describe())
        for message in plan.messages + notes:
            print(f"note: {message}")
        chosen = candidates.iloc[plan.sites]
        print(chosen[["candidate_id", "name", "site_kind", "origin"]].to_string(index=False))
        if args.out:
            from exports.files import write_vectors

            write_vectors({"planned_sites": chosen}, args.out)
            print(f"written: {args.out}")
        if args.save:
            payload = scenario_payload(plan, candidates, WhatIf(engine, thresholds=[args.cutoff]), layer=args.layer,
                                       threshold=args.cutoff, inputs={"p": args.p, "target": args.target,
                                                                      "cutoff_m": args.cutoff})
            store.scenarios.save(args.save, payload, user=args.user, overwrite=args.overwrite)
            print(f"scenario saved: {args.save}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from exports.files import write_surface, write_tables, write_vectors

    out = Path(args.out)
    progress = Progress(3, quiet=args.quiet)
    with _store(args) as store:
        progress.step("reading")
        names = [n for n in args.layers.split(",") if n] if args.layers else []
        frames = {n: store.layers.read(n) for n in names}
        progress.step(f"writing {out.name}")
        suffix = out.suffix.lower()
        if args.surface:
            args.layers = [args.surface_layer]
            engine, _ = _engine(store, args, Progress(4, quiet=True))
            result = engine.run([args.threshold], slot=_slot(args.slot))
            write_surface(result, out, args.surface, layer=args.surface_layer, threshold=args.threshold)
        elif args.print_map or args.html:
            layers = frames or {n: store.layers.read(n) for n in ("land_use", "walk_network", "boundaries",
                                                                  "greenways", "venues", "school_facilities",
                                                                  "health_stations")
                                if n in {i.name for i in store.layers.list()}}
            if args.html:
                from webmap.offline import write_offline_html

                write_offline_html(layers, out, title=args.title)
            else:
                from exports.print_map import print_map

                bounds = layers.get("boundaries")
                streets = bounds[bounds["level"] == "street"] if bounds is not None and "level" in bounds else None
                print_map(layers, out, title=args.title, source=args.source, paper=args.paper, dpi=args.dpi,
                          unit_labels=streets)
        elif suffix in (".csv", ".xlsx"):
            write_tables(frames, out)
        else:
            write_vectors(frames, out)
        progress.step("done")
    print(f"written: {out}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from exports.report import district_report, write_report_pdf, write_report_xlsx

    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".pdf"):
        raise InputFileError(f"{out.name}: the report is written as .xlsx or .pdf.")
    progress = Progress(7, quiet=args.quiet)
    with _store(args) as store:
        args.layers = list(FACILITY_LAYERS)
        engine, stored = _engine(store, args, progress)
        progress.step("walking distances")
        result = engine.run(args.thresholds, slot=_slot(args.slot))
        progress.step("per-unit statistics")
        if "boundaries" not in stored:
            raise AnalysisError("The report needs the boundaries layer (districts and streets).")
        schools = store.layers.read("school_facilities") if "school_facilities" in stored else None
        report = district_report(result, store.layers.read("boundaries"), venues=store.layers.read("venues"),
                                 school_facilities=schools, layer=args.layer, title=args.title)
        (write_report_pdf if out.suffix.lower() == ".pdf" else write_report_xlsx)(report, out)
        progress.step("done")
    print(f"written: {out}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (its --help explains every option)."""
    parser = argparse.ArgumentParser(prog="onemap", description=__doc__.split("\n\n")[0],
                                     epilog="Exit codes: 0 done, 2 usage, 3 input refused, 4 store, 5 analysis.")
    parser.add_argument("--store", help="GeoPackage path or postgresql:// URL (default: DATABASE_URL, "
                                        "ONEMAP_GPKG, or the demo city)")
    parser.add_argument("--user", default="cli", help="who is working, for the version history (default: cli)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", help="load a department's file into a layer")
    p.add_argument("file", help="GeoPackage, Shapefile (folder or .zip), GeoJSON, KML, CSV/XLSX, .osm/.pbf or GeoTIFF")
    p.add_argument("--layer", help="catalogue layer to load into (not needed for OSM or GeoTIFF)")
    p.add_argument("--coord-system", default="declared",
                   help="declared (default), wgs84, cgcs2000, webmercator, gcj02 (AMap/Tencent) or bd09 (Baidu)")
    p.add_argument("--crs", help="CRS to assume when the file declares none, e.g. EPSG:4547")
    p.add_argument("--mapping", help="a saved field mapping (JSON) to use")
    p.add_argument("--save-mapping", help="save the mapping used to this JSON file for the next delivery")
    p.add_argument("--department", help="owning department for rows that do not say")
    p.add_argument("--lon", help="longitude column of a table (default: found by name)")
    p.add_argument("--lat", help="latitude column of a table (default: found by name)")
    p.add_argument("--keep-valid", action="store_true", help="write the valid rows even if some are refused")
    p.add_argument("--mode", choices=("append", "upsert", "replace"),
                   help="append new features, upsert by feature_id, or replace the whole layer; required when "
                        "the layer already holds features (the dry run shows what each would change)")
    p.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    p.set_defaults(func=cmd_import)

    def analysis_options(q: argparse.ArgumentParser) -> None:
        q.add_argument("--method", default="network", choices=("network", "straight_line"),
                       help="walking distance on the network (default) or straight-line")
        q.add_argument("--slot", help='count only facilities open then, e.g. "Tue 10:00", "Sat 09:00", "周二 19:00"')

    p = sub.add_parser("coverage", help="who lives within 5/10/15 minutes of each kind of facility")
    p.add_argument("--layers", type=lambda t: [x for x in t.split(",") if x], default=list(FACILITY_LAYERS),
                   help="facility layers, comma-separated (default: all four)")
    p.add_argument("--thresholds", type=_thresholds, default=[300.0, 500.0, 1000.0],
                   help="walking distances in metres (default: 300,500,1000, the GB 50180 life circles)")
    p.add_argument("--level", default="street", choices=("district", "street", "community"),
                   help="units for the per-unit table (default: street)")
    p.add_argument("--out", help="write the tables: .csv (summary) or .xlsx (summary and per unit)")
    analysis_options(p)
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser("plan", help="choose new sites: mclp, lscp, pmedian or capacitated")
    p.add_argument("--problem", default="mclp", choices=("mclp", "lscp", "pmedian", "capacitated"))
    p.add_argument("--p", type=int, default=5, help="number of new sites (mclp, pmedian, capacitated)")
    p.add_argument("--target", type=float, default=1.0, help="coverage share to reach (lscp), e.g. 0.95")
    p.add_argument("--cutoff", type=float, default=1000.0, help="walking distance that counts as covered (m)")
    p.add_argument("--layer", default="venues", help="facility layer the new sites join (default: venues)")
    p.add_argument("--candidates", default="uploaded,generated",
                   help="uploaded (the candidate_sites layer), generated (gap street points, open land, "
                        "closed school fields), or both (default)")
    p.add_argument("--exact", action="store_true", help="solve the MILP with HiGHS instead of the heuristic")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds for the exact solver (default 60)")
    p.add_argument("--lp-bound", action="store_true", help="tighten the heuristic's bound with the LP relaxation")
    p.add_argument("--out", help="write the chosen sites (.gpkg, .geojson or .zip)")
    p.add_argument("--save", help="save the result as a named scenario in the store")
    p.add_argument("--overwrite", action="store_true", help="replace a saved scenario of the same name")
    analysis_options(p)
    p.set_defaults(func=cmd_plan)

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
    p.add_argument("--title", default="健身一张图", help="map title")
    p.add_argument("--source", default="健身联盟各成员单位", help="data source printed on the map")
    p.add_argument("--paper", default="A4", choices=("A4", "A3", "A2"), help="paper size, landscape")
    p.add_argument("--dpi", type=int, default=200, help="resolution of a PNG print map")
    analysis_options(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("records", help="import venue usage or satisfaction survey scores (CSV/XLSX)")
    p.add_argument("file", help="CSV or XLSX")
    p.add_argument("--kind", required=True, choices=("venue_usage", "satisfaction"))
    p.add_argument("--user", default="cli", help="who imports, for the version log")
    p.add_argument("--mode", default="upsert", choices=("upsert", "replace", "append"),
                   help="upsert by key (default), replace the table, or append (refused if a key is stored)")
    p.add_argument("--keep-valid", action="store_true", help="write the valid rows even if some are refused")
    p.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    p.set_defaults(func=cmd_records)

    p = sub.add_parser("nearby", help="open fitness resources within a walk of a health station or a point")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--station", help="health station feature_id (e.g. health-001)")
    where.add_argument("--at", help='"lon, lat" of the start (without --station or --at: stations with nothing near)')
    p.add_argument("--coord-system", default="wgs84", choices=("wgs84", "gcj02", "bd09"), help="of --at")
    p.add_argument("--minutes", type=float, default=15.0, help="walk in minutes (default 15; 10 for the station list)")
    p.add_argument("--out", help="the sheet: .pdf (printable, Chinese), .png, or .csv")
    analysis_options(p)
    p.set_defaults(func=cmd_nearby)

    p = sub.add_parser("indicators", help="the alliance's indicators per unit and department, and their trend")
    p.add_argument("--level", default="street", choices=("district", "street", "community"))
    p.add_argument("--period", help="survey period to report (default: the latest), e.g. 2026Q3")
    p.add_argument("--as-of", help="the layers as they stood then, e.g. 2026-09-30")
    p.add_argument("--trend", action="store_true", help="add the trend after each facility-layer change")
    p.add_argument("--out", help=".xlsx (every table) or .csv (per unit)")
    p.add_argument("--method", default="network", choices=("network", "straight_line"))
    p.set_defaults(func=cmd_indicators)

    p = sub.add_parser("account", help="add, list or unlock sign-in accounts (viewer, editor, admin)")
    p.add_argument("action", choices=("add", "list", "unlock"))
    p.add_argument("name", nargs="?", help="user name")
    p.add_argument("--role", default="viewer", choices=("viewer", "editor", "admin"))
    p.add_argument("--department", help="an editor's department: sports, education, health, parks, alliance")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--replace", action="store_true", help="replace an existing account (e.g. a new password)")
    p.set_defaults(func=cmd_account)

    p = sub.add_parser("roles", help="create the PostgreSQL roles, grants and row-level security per department")
    p.set_defaults(func=cmd_roles)

    p = sub.add_parser("report", help="the district report, as .xlsx or .pdf")
    p.add_argument("--out", required=True, help="report.xlsx or report.pdf")
    p.add_argument("--layer", default="venues", help="facility layer reported on (default: venues; 'any' for all)")
    p.add_argument("--thresholds", type=_thresholds, default=[300.0, 500.0, 1000.0],
                   help="walking distances in metres (default: 300,500,1000)")
    p.add_argument("--title", default="全民健身设施覆盖报告", help="report title")
    analysis_options(p)
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    configure_logging("ERROR" if args.quiet else None)
    try:
        return args.func(args)
    except (LayerValidationError, InputFileError, UnknownLayerError, SignInError, AccessDeniedError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except StoreError as exc:
        print(f"store: {exc}", file=sys.stderr)
        return EXIT_STORE
    except (AnalysisError, OneMapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ANALYSIS


if __name__ == "__main__":
    raise SystemExit(main())
