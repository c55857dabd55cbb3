"""Commands that load and manage data: ``import``, ``records``, ``account``, ``roles``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import EXIT_OK, EXIT_REFUSED, open_store_of
from cli.progress import Progress
from layers.errors import InputFileError, LayerValidationError, StoreError


def cmd_import(args: argparse.Namespace) -> int:
    """Load a department's file into a layer (or an OSM extract, or a population GeoTIFF)."""
    from layers.fields import FieldMapping
    from layers.ingest import import_osm, import_population_raster, prepare_import

    progress = Progress(quiet=args.quiet)
    suffix = Path(args.file).suffix.lower()
    with open_store_of(args, create=True) as store:
        if suffix in (".osm", ".pbf"):
            with progress.phase(f"importing {Path(args.file).name}"):
                counts = import_osm(store, args.file, user=args.user)
            print(counts.to_string(index=False))
            return EXIT_OK
        if suffix in (".tif", ".tiff"):
            with progress.phase(f"importing {Path(args.file).name}"):
                version = import_population_raster(store, args.file, user=args.user)
            print(f"population raster stored as version {version}")
            return EXIT_OK
        if not args.layer:
            raise InputFileError("Say which layer the file is for with --layer (e.g. --layer venues).")
        mapping = FieldMapping.load(args.mapping) if args.mapping else None
        with progress.phase(f"reading {Path(args.file).name}") as tick:
            plan = prepare_import(args.file, args.layer, coord_system=args.coord_system, crs=args.crs,
                                  mapping=mapping, department=args.department, lon_column=args.lon,
                                  lat_column=args.lat, progress=tick)
        print(plan.summary())
        if args.save_mapping:
            plan.mapping.save(args.save_mapping)
        return _write_plan(store, plan, args, progress)


def _write_plan(store, plan, args: argparse.Namespace, progress: Progress) -> int:
    """What each write mode would change, then (unless a dry run) the write in one transaction."""
    from layers.ingest import commit_import, preview_changes

    stored = {i.name: i.n_features for i in store.layers.list() if i.kind == "vector"}.get(plan.layer) or 0
    mode = args.mode or ("append" if stored == 0 else None)
    for option in ([mode] if mode else ["append", "upsert", "replace"]):
        if plan.n_valid:
            change = preview_changes(store, plan, mode=option, keep_valid=args.keep_valid or not plan.report.ok)
            print(f"{option}: {change.added} added, {change.updated} updated, {change.unchanged} unchanged, "
                  f"{change.removed} removed → {change.stored_after} stored"
                  + (f" (refused: {change.clashes} id(s) already stored)" if change.refused else ""))
    if args.dry_run:
        return EXIT_OK if plan.report.ok else EXIT_REFUSED
    if not plan.report.ok and not args.keep_valid:
        raise LayerValidationError(plan.report)
    if mode is None:
        raise InputFileError(f"{plan.layer} already holds {stored} feature(s): say --mode append, upsert or "
                             "replace (the counts above show what each would change).")
    with progress.phase(f"writing {plan.layer}"):
        result = commit_import(store, plan, user=args.user, keep_valid=args.keep_valid, mode=mode)
    print(f"{result.n_written} row(s) written to {plan.layer} (version {result.layer_version}); "
          f"{result.n_total} stored in all.")
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    """Pull a layer from another department's OGC API – Features service, checked like a delivered file."""
    from layers.fields import FieldMapping
    from layers.limits import upload_workspace
    from layers.sync import prepare_sync

    progress = Progress(quiet=args.quiet)
    mapping = FieldMapping.load(args.mapping) if args.mapping else None
    with open_store_of(args, create=True) as store, upload_workspace(prefix="sync-") as folder:
        with progress.phase(f"reading {args.collection} from {args.url}"):
            plan = prepare_sync(args.url, args.collection, args.layer or args.collection, folder, mapping=mapping,
                                department=args.department)
        print(plan.summary())
        return _write_plan(store, plan, args, progress)


def cmd_records(args: argparse.Namespace) -> int:
    """Import venue usage or satisfaction survey scores."""
    from layers.rasters import stored_residents
    from layers.records import commit_records, prepare_records, unit_parents, venue_facts

    with open_store_of(args) as store:
        stored = {i.name for i in store.layers.list()}
        venues = venue_facts(store.layers.read("venues")) if "venues" in stored else None
        bounds = store.layers.read("boundaries") if "boundaries" in stored else None
        codes = set(bounds["code"].astype(str)) if bounds is not None else None
        plan = prepare_records(args.file, args.kind, venues=venues, unit_codes=codes,
                               residents=stored_residents(store), parents=unit_parents(bounds),
                               stored=store.records.read(args.kind) if args.kind == "health_indicators" else None)
        print(plan.summary())
        if not plan.report.ok:
            print(plan.report.summary(limit=50), file=sys.stderr)
        if len(plan.unknown):
            print("unknown references (not imported):\n" + plan.unknown.to_string(index=False), file=sys.stderr)
        if args.dry_run:
            return EXIT_OK if plan.report.ok else EXIT_REFUSED
        version = commit_records(store, plan, user=args.user, mode=args.mode, keep_valid=args.keep_valid,
                                 department=args.department)
        print(f"{len(plan.valid)} row(s) written to {args.kind} (version {version}).")
    return EXIT_OK


def cmd_account(args: argparse.Namespace) -> int:
    """Add, list or unlock sign-in accounts."""
    import getpass

    from office.accounts import create_account, unlock_account

    with open_store_of(args) as store:
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
    """Create the PostgreSQL roles, grants and row-level security per department."""
    from layers.stores.postgis import PostGISStore

    with open_store_of(args) as store:
        if not isinstance(store, PostGISStore):
            raise StoreError("Department roles live in PostgreSQL: give --store postgresql://… or set DATABASE_URL.")
        for role in store.setup_department_roles():
            print(role)
    return EXIT_OK


def add_parsers(sub) -> None:
    """The data commands' subparsers."""
    from layers.records import RECORDS

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

    p = sub.add_parser("sync", help="pull a layer from another department's OGC API – Features service")
    p.add_argument("--url", required=True, help="the service's address, e.g. http://10.2.3.4:5080")
    p.add_argument("--collection", required=True, help="the collection to read, e.g. venues")
    p.add_argument("--layer", help="catalogue layer to load into (default: the collection's name)")
    p.add_argument("--mapping", help="a saved field mapping (JSON) for the service's field names")
    p.add_argument("--department", help="owning department for features that do not say")
    p.add_argument("--keep-valid", action="store_true", help="write the valid features even if some are refused")
    p.add_argument("--mode", choices=("append", "upsert", "replace"),
                   help="as for import; required when the layer already holds features")
    p.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("records", help="import venue usage, survey scores, courses, bookable resources or closed "
                                       "days (CSV/XLSX)")
    p.add_argument("file", help="CSV or XLSX")
    p.add_argument("--kind", required=True, choices=tuple(RECORDS))
    p.add_argument("--department", help="whose rows (for courses, bookable resources and closed days, which "
                                        "every department keeps its own of)")
    p.add_argument("--mode", default="upsert", choices=("upsert", "replace", "append"),
                   help="upsert by key (default), replace the table, or append (refused if a key is stored)")
    p.add_argument("--keep-valid", action="store_true", help="write the valid rows even if some are refused")
    p.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    p.set_defaults(func=cmd_records)

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
