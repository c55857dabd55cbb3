"""Benchmark: importing 100,000 venue points from a GCJ-02 CSV into PostGIS.

The import path (read the CSV, guess the Chinese column names, personal-data guard,
vectorised GCJ-02 → WGS-84, validate every row, one COPY transaction) against the
standard slower way on the same file in the same run: pandas + a per-point conversion
loop (pure Python, one point at a time) + GeoPandas ``to_postgis``.
Prints figures; asserts nothing.

    make bench-ingest     # or: ONEMAP_TEST_DATABASE_URL=postgresql://... python -m bench.bench_ingest
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from bench.bench_store_write import drop_schema, make_venues, timed  # noqa: E402
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02  # noqa: E402
from layers.ingest import commit_import, prepare_import  # noqa: E402
from layers.stores.postgis import PostGISStore, normalize_database_url  # noqa: E402

HEADERS = {"feature_id": "编号", "name": "场馆名称", "venue_kind": "类型", "sports_area_m2": "面积(m²)",
           "capacity": "容纳人数", "opening_hours": "开放时间", "is_public": "是否开放", "fee": "收费"}


def write_csv(path: Path, n: int) -> gpd.GeoDataFrame:
    venues = make_venues(n)
    table = pd.DataFrame(venues.drop(columns="geometry")).rename(columns=HEADERS)
    table["经度"], table["纬度"] = wgs84_to_gcj02(venues.geometry.x.to_numpy(), venues.geometry.y.to_numpy())
    table.to_csv(path, index=False, encoding="utf-8")
    return venues


def _shift_scalar(lon: float, lat: float) -> tuple[float, float]:
    """The per-point GCJ-02 shift as scripts usually write it (math module, one point at a time)."""
    x, y, pi = lon - 105.0, lat - 35.0, math.pi
    common = (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + common
             + (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
             + (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + common
             + (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
             + (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    a, ee = 6378245.0, 0.00669342162296594323
    rad = lat / 180.0 * pi
    magic = 1.0 - ee * math.sin(rad) ** 2
    d_lat = d_lat * 180.0 / ((a * (1.0 - ee)) / (magic * math.sqrt(magic)) * pi)
    d_lon = d_lon * 180.0 / (a / math.sqrt(magic) * math.cos(rad) * pi)
    return lon + d_lon, lat + d_lat


def _gcj_to_wgs_scalar(lon: float, lat: float) -> tuple[float, float]:
    w_lon, w_lat = lon, lat
    for _ in range(30):
        f_lon, f_lat = _shift_scalar(w_lon, w_lat)
        w_lon, w_lat = w_lon - (f_lon - lon), w_lat - (f_lat - lat)
        if abs(f_lon - lon) < 1e-10 and abs(f_lat - lat) < 1e-10:
            break
    return w_lon, w_lat


def standard_way(path: Path, engine, schema: str) -> tuple[float, float, float]:
    """pandas + a per-point conversion loop + GeoPandas to_postgis (no validation)."""
    t_read, table = timed(lambda: pd.read_csv(path))
    lon, lat = table["经度"].tolist(), table["纬度"].tolist()
    t0 = time.perf_counter()
    converted = [_gcj_to_wgs_scalar(a, b) for a, b in zip(lon, lat)]
    t_loop = time.perf_counter() - t0
    wlon, wlat = np.array(converted).T
    t_vec, vec = timed(lambda: np.array(gcj02_to_wgs84(np.array(lon), np.array(lat))))
    print(f"GCJ-02 → WGS-84 of {len(lon):,} points: vectorised {t_vec:.3f} s, per-point loop {t_loop:.2f} s "
          f"(ratio {t_loop / t_vec:.0f}x)")
    assert np.abs(vec - np.array([wlon, wlat])).max() < 1e-9, "the two conversions disagree"
    frame = gpd.GeoDataFrame(table.drop(columns=["经度", "纬度"]).rename(columns={v: k for k, v in HEADERS.items()}),
                             geometry=gpd.points_from_xy(wlon, wlat), crs=4326)
    t_write, _ = timed(lambda: frame.to_postgis("venues_plain", engine, schema=schema))
    return t_read, t_loop, t_write


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--url", default=os.environ.get("ONEMAP_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL"))
    args = ap.parse_args()
    if not args.url:
        print("Set ONEMAP_TEST_DATABASE_URL (make bench-ingest starts a local PostGIS).", file=sys.stderr)
        return 2
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(normalize_database_url(args.url))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "场馆_gcj02.csv"
        source = write_csv(path, args.rows)
        print(f"{args.rows:,} venue rows, GCJ-02 CSV of {path.stat().st_size / 2**20:.1f} MB")
        store = PostGISStore(args.url, schema=schema)
        try:
            t_prep, plan = timed(lambda: prepare_import(path, "venues", coord_system="gcj02"))
            t_commit, result = timed(lambda: commit_import(store, plan, user="bench", mode="replace"))
            print(f"import path: prepare (read, map, guard, GCJ-02 → WGS-84, validate) {t_prep:.2f} s + "
                  f"commit to PostGIS {t_commit:.2f} s = {t_prep + t_commit:.2f} s (target < 10 s); "
                  f"{result.n_written:,} rows written, report ok: {plan.report.ok}")
            back = store.layers.read("venues").set_index("feature_id").loc[source["feature_id"]]
            err = np.hypot(back.geometry.x.to_numpy() - source.geometry.x.to_numpy(),
                           back.geometry.y.to_numpy() - source.geometry.y.to_numpy()).max() * 111_000
            print(f"largest position error after the round trip: {err:.3f} m")
            t_read, t_loop, t_write = standard_way(path, engine, schema)
            total = t_read + t_loop + t_write
            print(f"standard way: pandas read {t_read:.2f} s + per-point conversion loop {t_loop:.2f} s + "
                  f"to_postgis {t_write:.2f} s = {total:.2f} s — faster overall, because it validates "
                  f"nothing, keeps no history and reports no row (ours / standard {(t_prep + t_commit) / total:.1f}x)")
            print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
        finally:
            store.close()
            drop_schema(engine, schema)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
