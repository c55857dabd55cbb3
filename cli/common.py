"""What the commands share: exit codes, opening the store, the coverage engine, argument types."""

from __future__ import annotations

import argparse

from cli.progress import Progress
from geo.inputs import FACILITY_LAYERS

EXIT_OK, EXIT_USAGE, EXIT_REFUSED, EXIT_STORE, EXIT_ANALYSIS = 0, 2, 3, 4, 5
#: A failure no check foresaw (a bug): logged with its traceback and a reference the user is given.
EXIT_INTERNAL = 1


def open_store_of(args: argparse.Namespace, create: bool = False):
    """The store the command works on (``--store``, else ``DATABASE_URL``, ``ONEMAP_GPKG`` or the demo city)."""
    from layers.stores import open_store

    return open_store(args.store, create=create)


def build_engine(store, args: argparse.Namespace, progress: Progress, layers=FACILITY_LAYERS):
    """Network, demand and facilities from the store, prepared once; the bar follows each layer and the snapping."""
    from geo.inputs import engine_from_readers
    from layers.stores.snapshot import current_snapshot

    snap = current_snapshot(store)
    with progress.phase("preparing") as tick:
        engine = engine_from_readers(snap.vector, snap.raster, method=getattr(args, "method", "network"),
                                     facility_layers=list(layers), progress=tick)
    return engine, {name for name, _kind in snap.versions}


def thresholds(text: str) -> list[float]:
    """``300,500,1000`` as metres (an argparse type)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"thresholds are metres separated by commas (300,500,1000), not {text!r}")
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"thresholds must be positive metres, not {text!r}")
    return values


def slot(text: str | None):
    """A time slot (``Sat 09:00``, ``周二 19:00``) or ``None``."""
    from geo.facilities import TimeSlot

    return TimeSlot.parse(text) if text else None


def analysis_options(q: argparse.ArgumentParser) -> None:
    """Options every analysis command takes."""
    q.add_argument("--method", default="network", choices=("network", "straight_line"),
                   help="walking distance on the network (default) or straight-line")
    q.add_argument("--slot", help='count only facilities open then, e.g. "Tue 10:00", "Sat 09:00", "周二 19:00"')


__all__ = ["EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "EXIT_REFUSED", "EXIT_STORE", "EXIT_ANALYSIS", "open_store_of",
           "build_engine",
           "thresholds", "slot", "analysis_options"]
