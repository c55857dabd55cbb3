"""``onemap province``: coverage (and the 2SFCA) of a province in partitions on a Dask cluster.

Partitions are tiles or administrative units (one per city, district or street); the inputs
are written once as GeoParquet and a GeoTIFF that every worker reads; the results are the
figures ``onemap coverage`` prints, per-unit tables, gap polygons and surfaces.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from cli.common import EXIT_OK, open_store_of, thresholds
from geo.errors import AnalysisError

UNIT_LEVELS = ("city", "district", "street", "community")


def access_spec(text: str):
    """``LAYER:COLUMN[:D0]`` → an :class:`~geo.partition_access.AccessSpec` (d0 default 1000 m)."""
    from geo.partition_access import AccessSpec

    bits = text.split(":")
    try:
        if len(bits) not in (2, 3) or not all(bits[:2]):
            raise ValueError
        d0 = float(bits[2]) if len(bits) == 3 else 1000.0
        if not d0 > 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"--access takes LAYER:SUPPLY_COLUMN[:D0_METRES], e.g. "
                                         f"venues:sports_area_m2:1000, not {text!r}") from None
    return AccessSpec(bits[0], bits[1], d0)


def _tiles(text: str) -> tuple[int, int]:
    nx, _, ny = text.partition("x")
    try:
        out = (int(nx), int(ny or nx))
    except ValueError:
        out = (0, 0)
    if min(out) < 1:
        raise argparse.ArgumentTypeError(f"--tiles takes columns x rows, e.g. 4x4, not {text!r}")
    return out


def _write_surfaces(folder: Path, result, accesses, boundaries, level: str) -> list[Path]:
    """Distance GeoTIFFs per layer, gap polygons (GeoParquet) per layer and distance, and the 2SFCA's
    access GeoTIFF and facility table per ``--access``."""
    import geopandas as gpd

    from exports.files import cells_on_grid, write_grid, write_surface
    from exports.sheets import write_csv
    from geo.gaps import defined_gaps

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    gaps = []
    for layer in [k for k in result.distance.columns if k not in result.no_data_layers]:
        written.append(write_surface(result, folder / f"distance_{layer}.tif", "distance", layer=layer))
        for th in result.thresholds[layer]:
            gaps.append(defined_gaps(result, layer, th, boundaries))
    if gaps:
        frame = gpd.GeoDataFrame(pd.concat(gaps, ignore_index=True), geometry="geometry", crs=gaps[0].crs)
        frame.to_parquet(folder / "gaps.parquet")
        written.append(folder / "gaps.parquet")
    for got in accesses:
        name = f"access_{got.spec.layer}_{got.spec.supply}"
        data, nodata = cells_on_grid(result.demand.grid, got.cells["row"], got.cells["col"], got.cells["access"])
        written.append(write_grid(result.demand.grid, data, nodata, folder / f"{name}.tif", kind="2sfca access",
                                  layer=got.spec.layer, supply=got.spec.supply, d0_m=f"{got.spec.d0:g}",
                                  units=f"{got.spec.supply} per resident"))
        write_csv(got.facilities, folder / f"{name}_facilities.csv")
        written.append(folder / f"{name}_facilities.csv")
    return written


def cmd_province(args: argparse.Namespace) -> int:
    """Coverage of every populated cell in partitions run on a Dask cluster; tables, gaps and surfaces."""
    from geo.partition import InputSource, make_plan, tiles, unit_parts, write_inputs
    from geo.partition_access import run_province_access
    from geo.province import close_cluster, cluster, run_province
    from geo.units import assign_units, coverage_by_unit

    with open_store_of(args) as store:
        folder = args.inputs or tempfile.mkdtemp(prefix="onemap-province-")
        source = InputSource(folder=folder) if args.inputs and not args.export else write_inputs(store, folder)
    boundaries = source.whole("boundaries")
    plan = make_plan(source, args.thresholds)
    if args.by == "tiles":
        parts = tiles(plan, *args.tiles)
    elif boundaries is None or boundaries.empty:
        raise AnalysisError(f"--by {args.by} splits by the boundaries layer, and none is stored; use --by tiles.")
    else:
        parts = unit_parts(plan, boundaries, level=args.by)
    from config.settings import settings

    scheduler = args.scheduler or settings().dask_scheduler
    client = None if args.in_process else cluster(scheduler, n_workers=args.workers, memory_limit=args.memory_limit)
    try:
        if client is not None:
            print(f"dask: {client.scheduler.address}, {len(client.scheduler_info()['workers'])} worker(s), "
                  f"{len(parts)} partitions")

        def bar(futures) -> None:
            if not args.quiet:
                from distributed import progress

                progress(futures)
                print()

        result = run_province(source, args.thresholds, plan=plan, parts=parts, client=client, on_future=bar)
        accesses = [run_province_access(source, plan, parts, spec, client=client, on_future=bar)
                    for spec in args.access]
    finally:
        if client is not None:
            close_cluster(client)
    summary = result.summary()
    print(summary[["layer", "threshold_m", "residents", "covered", "rate"]].to_string(
        index=False, float_format=lambda v: f"{v:,.3f}"))
    for got in accesses:
        a = got.cells
        mean = (a["access"] * a["population"]).sum() / a["population"].sum()
        print(f"2SFCA {got.spec.layer} by {got.spec.supply} within {got.spec.d0:g} m: {mean:.4f} per resident "
              f"on average, {a.loc[a['access'] == 0, 'population'].sum():,.0f} residents with none in reach")
    if args.out:
        from exports.files import write_tables

        tables = {"summary": summary}
        if boundaries is not None and len(boundaries):
            tables[f"by_{args.level}"] = coverage_by_unit(result, assign_units(result.demand, boundaries,
                                                                               level=args.level))
        print(f"written: {write_tables(tables, args.out)}")
    if args.surfaces:
        for path in _write_surfaces(Path(args.surfaces), result, accesses, boundaries, args.level):
            print(f"written: {path}")
    return EXIT_OK


def add_parsers(sub) -> None:
    """The ``province`` subparser."""
    p = sub.add_parser("province", help="coverage and 2SFCA in partitions on a Dask cluster (a province; the same "
                                        "figures as one run)")
    p.add_argument("--by", default="tiles", choices=("tiles", *UNIT_LEVELS),
                   help="partitions: tiles (see --tiles) or one per unit of this boundary level (default tiles)")
    p.add_argument("--tiles", type=_tiles, default=(4, 4), help="tiles as columns x rows (default 4x4)")
    p.add_argument("--thresholds", type=thresholds, default=[300.0, 500.0, 1000.0],
                   help="walking distances in metres (default: 300,500,1000)")
    p.add_argument("--access", type=access_spec, action="append", default=[],
                   help="also a 2SFCA: LAYER:SUPPLY_COLUMN[:D0], e.g. venues:sports_area_m2:1000 (repeatable)")
    p.add_argument("--scheduler", help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: "
                                       "ONEMAP_DASK_SCHEDULER, else a local cluster)")
    p.add_argument("--workers", type=int, help="local workers (default: one per core)")
    p.add_argument("--memory-limit", default="4GB", help="memory per local worker (default 4GB)")
    p.add_argument("--inputs", help="a folder the workers share: the inputs are written there (GeoParquet and "
                                    "GeoTIFF) and read by each worker; default a temporary folder on this machine")
    p.add_argument("--export", action="store_true", help="with --inputs: write the inputs there again")
    p.add_argument("--in-process", action="store_true", help="run the partitions here, without Dask")
    p.add_argument("--level", default="street", choices=UNIT_LEVELS,
                   help="units of the per-unit table (gaps: by street, about 1 km²)")
    p.add_argument("--out", help=".xlsx (summary and per unit) or .csv (summary)")
    p.add_argument("--surfaces", help="a folder for distance and 2SFCA GeoTIFFs and the gap polygons (GeoParquet)")
    p.set_defaults(func=cmd_province)


__all__ = ["add_parsers", "cmd_province", "access_spec"]
