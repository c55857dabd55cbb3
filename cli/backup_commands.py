"""``onemap backup`` and ``onemap restore``: a store copied while in use, and a copy put back into a new store."""

from __future__ import annotations

import argparse

from cli.common import EXIT_OK, open_store_of


def add_parsers(sub) -> None:
    """The backup and restore subparsers."""
    p = sub.add_parser("backup", help="back the store up while it is in use (GeoPackage: SQLite's online backup; "
                                      "PostGIS: pg_dump of its schema)")
    p.add_argument("out", help="the backup file to write (.gpkg for a GeoPackage store, .dump for PostGIS)")
    p.set_defaults(func=cmd_backup)
    r = sub.add_parser("restore", help="restore a backup into a new store (a new GeoPackage file, or a schema that "
                                       "does not exist yet in a PostgreSQL database)")
    r.add_argument("backup", help="a file written by onemap backup")
    r.add_argument("--into", required=True, help="a GeoPackage path that does not exist, or a postgresql:// URL")
    r.add_argument("--schema", help="PostGIS: the schema to restore (default, and the only one allowed: the "
                                    "backup's)")
    r.set_defaults(func=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    """Write the backup and say what it holds."""
    from layers.stores.backup import backup_store

    with open_store_of(args) as store:
        path = backup_store(store, args.out)
        print(f"{store.description} → {path} ({path.stat().st_size / 1e6:,.1f} MB)")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore, open (upgrading a backup of an earlier release) and say what was restored."""
    from layers.stores.backup import restore_store

    with restore_store(args.backup, args.into, schema=args.schema) as store:
        layers = store.layers.list()
        print(f"{args.backup} → {store.description}: {len(layers)} layers")
    return EXIT_OK
