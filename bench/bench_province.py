"""Benchmark: a synthetic province at the issue's size on a Dask LocalCluster, the single-process engine on the
largest province it can still do here, and the scaling from 1 to 2 workers, all in one run.

    make bench-province                                   # ≈ 1,620 blocks: 10 M populated cells, 4.5 M nodes
    python -m bench.bench_province --blocks 100 --scale-blocks 25 --ladder 25,100 --tiles 6x6   # a quick look

1. Scaling: a province of ``--scale-blocks`` in one process (one engine, in a child process so
   its peak memory is its own) and in 6 × 6 partitions on 1 and 2 workers; identical?
2. Single-process ladder: one engine over provinces of growing size (``--ladder``), each in a
   child process watched for its resident memory (``--single-gb``) and time (``--single-s``);
   the largest that finishes is this machine's single-process figure, the next is where it stops.
3. The province at full size (``--blocks``) in ``--tiles`` partitions on 2 workers (4 GB each):
   total time, each worker's peak memory (ru_maxrss, read from the worker), every cell present.

Figures printed; a projection to a cluster scales the measured cells per second per worker and
is printed as a projection. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = [300.0, 500.0, 1000.0]
#: Blocks per city for the benchmark's province: metropolises of 16 blocks (32 km square) down to towns of 1.
BENCH_SIZES = (16, 9, 4, 16, 1, 9, 4, 2, 16, 9)

SINGLE = """
import json, resource, sys, time
import numpy as np
from geo.partition import InputSource, make_plan, tiles
from geo.province import run_province
source = InputSource(folder=sys.argv[1])
plan = make_plan(source, [300.0, 500.0, 1000.0])
t0 = time.perf_counter()
result = run_province(source, [300.0, 500.0, 1000.0], plan=plan, parts=tiles(plan, 1, 1))
took = time.perf_counter() - t0
if len(sys.argv) > 2:
    np.save(sys.argv[2], result.distance["venues"].to_numpy())
print(json.dumps({"seconds": took, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "cells": int(len(result.population))}))
"""


def _cities_for(blocks: int) -> int:
    """How many cities of :data:`BENCH_SIZES` make at least ``blocks`` blocks."""
    n, total = 0, 0
    while total < blocks:
        total += BENCH_SIZES[n % len(BENCH_SIZES)]
        n += 1
    return n


BUILD = """
import json, sys, time
from bench.bench_province import BENCH_SIZES, _cities_for, _nodes
from demo.province import write_province
t0 = time.perf_counter()
source, s = write_province(sys.argv[1], n_cities=_cities_for(int(sys.argv[2])), sizes=BENCH_SIZES,
                           templates=int(sys.argv[3]))
print(json.dumps({"cities": s.cities, "blocks": s.blocks, "segments": s.segments, "cells": s.cells,
                  "residents": s.residents, "nodes": _nodes(source), "seconds": time.perf_counter() - t0}))
"""


def _province(folder: Path, blocks: int, templates: int):
    """Build and write a province of about ``blocks`` blocks in a child process (the driver stays small)."""
    from geo.partition import InputSource

    done = subprocess.run([sys.executable, "-c", BUILD, str(folder), str(blocks), str(templates)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    s = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  province: {s['cities']} cities, {s['blocks']} blocks, {s['segments']:,} street segments, "
          f"≈{s['nodes']:,} network nodes, {s['cells']:,} populated cells, {s['residents'] / 1e6:,.1f} M residents "
          f"(built and written in {s['seconds']:.0f} s)")
    return InputSource(folder=str(folder)), argparse.Namespace(**s)


def _nodes(source) -> int:
    """Street segments' distinct end points, counted from the GeoParquet in slices (memory stays small)."""
    import pyarrow.parquet as pq
    import shapely

    ends = set()
    pf = pq.ParquetFile(Path(source.folder) / "walk_network.parquet")
    for k in range(pf.num_row_groups):
        geoms = shapely.from_wkb(pf.read_row_group(k, columns=["geometry"]).column(0).to_numpy(zero_copy_only=False))
        for part in (shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)):
            xy = np.round(shapely.get_coordinates(part), 7)
            ends.update(map(tuple, xy))
    return len(ends)


def _single(folder: str, out: str | None, limit_gb: float, limit_s: float) -> dict:
    """One engine over the whole province in a child process, stopped past ``limit_gb`` resident or ``limit_s``."""
    import psutil

    args = [sys.executable, "-c", SINGLE, folder] + ([out] if out else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    watch, peak, t0, why = psutil.Process(proc.pid), 0.0, time.perf_counter(), None
    while proc.poll() is None:
        try:
            peak = max(peak, watch.memory_info().rss / 2**30)
        except psutil.NoSuchProcess:
            break
        if peak > limit_gb or time.perf_counter() - t0 > limit_s:
            why = f"stopped past {limit_gb:g} GB" if peak > limit_gb else f"stopped past {limit_s:.0f} s"
            proc.kill()
            break
        time.sleep(0.25)
    stdout, stderr = proc.communicate()
    if why is None and proc.returncode == 0:
        return json.loads(stdout.strip().splitlines()[-1])
    reason = why or (stderr.strip().splitlines() or ["failed"])[-1]
    return {"failed": reason, "seconds": time.perf_counter() - t0, "peak_mb": peak * 1024}


def _on_workers(source, parts, workers: int, plan) -> tuple[object, float, float]:
    from geo.province import close_cluster, cluster, run_province

    client = cluster(n_workers=workers, memory_limit="4GB")
    try:
        client.run(lambda: None)
        t0 = time.perf_counter()
        result = run_province(source, THRESHOLDS, plan=plan, parts=parts, client=client)
        took = time.perf_counter() - t0
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        close_cluster(client)
    return result, took, max(peaks.values())


def main(argv: list[str] | None = None) -> int:
    from geo.partition import InputSource, make_plan, tiles

    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=1620, help="blocks of the full-size province (8 km squares)")
    parser.add_argument("--scale-blocks", type=int, default=100, help="blocks of the scaling province")
    parser.add_argument("--ladder", default="400,1000,1620,2900", help="single-process sizes in blocks")
    parser.add_argument("--templates", type=int, default=16, help="distinct demo cities the blocks reuse")
    parser.add_argument("--tiles", default="24x24", help="partitions of the full-size run")
    parser.add_argument("--single-gb", type=float, default=20.0, help="resident memory a single process may reach")
    parser.add_argument("--single-s", type=float, default=1500.0, help="seconds a single process may take")
    args = parser.parse_args(argv)
    ladder = [int(v) for v in args.ladder.split(",")]
    nx, ny = (int(v) for v in args.tiles.split("x"))
    work = Path(tempfile.mkdtemp(prefix="bench-province-"))
    try:
        print(f"1. scaling on a province of {args.scale_blocks} blocks")
        source, summary = _province(work / "small", args.scale_blocks, args.templates)
        one = _single(source.folder, str(work / "single.npy"), args.single_gb, args.single_s)
        reference = np.load(work / "single.npy")
        print(f"  one process, one engine:      {one['seconds']:7.1f} s, peak {one['peak_mb']:7.0f} MB")
        plan = make_plan(source, THRESHOLDS)
        parts = tiles(plan, 6, 6)
        rates = {}
        for workers in (1, 2):
            result, took, peak = _on_workers(source, parts, workers, plan)
            same = np.array_equal(result.distance["venues"].to_numpy(), reference)
            rates[workers] = summary.cells / took
            print(f"  {len(parts)} partitions on {workers} worker(s): {took:7.1f} s, peak per worker {peak:7.0f} MB, "
                  f"identical to one run: {same}")
        print(f"  scaling 1 → 2 workers: {rates[2] / rates[1]:.2f}× (2 cores here); one process vs 2 workers: "
              f"{one['seconds'] / (summary.cells / rates[2]):.2f}×")
        shutil.rmtree(work / "small")

        print(f"2. one process, one engine, growing provinces (stopped past {args.single_gb:g} GB or "
              f"{args.single_s:.0f} s)")
        largest, full = None, None
        for blocks in ladder:
            source, summary = _province(work / f"ladder-{blocks}", blocks, args.templates)
            got = _single(source.folder, None, args.single_gb, args.single_s)
            if blocks == args.blocks:  # the full province: kept for step 3
                (work / f"ladder-{blocks}").rename(work / "full")
                full = (InputSource(folder=str(work / "full")), summary, got)
            else:
                shutil.rmtree(work / f"ladder-{blocks}")
            if "failed" in got:
                print(f"  {summary.cells:,} cells: {got['failed']} ({got['seconds']:.0f} s, "
                      f"{got['peak_mb'] / 1024:.1f} GB resident when stopped)")
                break
            largest = (summary.cells, got)
            print(f"  {summary.cells:,} cells: {got['seconds']:7.1f} s, peak {got['peak_mb'] / 1024:5.1f} GB "
                  f"({got['peak_mb'] * 1024 / summary.cells:,.1f} KB per cell)")
        if largest:
            print(f"  largest single-process run here: {largest[0]:,} cells in {largest[1]['seconds']:.0f} s, "
                  f"{largest[1]['peak_mb'] / 1024:.1f} GB")

        print(f"3. the full province ({args.blocks} blocks) in {nx}x{ny} tiles on 2 workers of 4 GB")
        single = None
        if full is not None:
            source, summary, single = full
            print(f"  (the province of step 2: {summary.cells:,} populated cells)")
        else:
            source, summary = _province(work / "full", args.blocks, args.templates)
        plan = make_plan(source, THRESHOLDS)
        parts = tiles(plan, nx, ny)
        result, took, peak = _on_workers(source, parts, 2, plan)
        rate = result.summary().set_index(["layer", "threshold_m"]).loc[("venues", 500.0), "rate"]
        print(f"  {len(parts)} partitions: {took:7.1f} s ({took / 60:.1f} min), peak per worker {peak:7.0f} MB "
              f"(target < 4 GB); {len(result.population):,} of {summary.cells:,} cells gathered; "
              f"venues within 500 m: {rate:.1%}")
        if single is not None and "failed" not in single:
            print(f"  against one process on the same province: {single['seconds'] / took:.2f}× its speed, "
                  f"{peak / single['peak_mb']:.2f}× its memory per worker")
        elif single is not None:
            print(f"  one process on the same province: {single['failed']}")
        per_worker = summary.cells / took / 2
        for cells, workers in ((10_000_000, 16), (18_000_000, 64)):
            print(f"  projection: {cells / 1e6:.0f} M cells on {workers} workers ≈ "
                  f"{cells / (per_worker * workers) / 60:.1f} min (at {per_worker:,.0f} cells/s per worker measured "
                  "here; a projection, not a measurement)")
        print(f"(the driver peaked at {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GB: it "
              "gathers the per-cell results; provinces are built in child processes)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
