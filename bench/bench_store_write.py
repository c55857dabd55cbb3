"""Benchmark: writing 100,000 venue points to PostGIS.

Compares the store's path (validate + COPY in one transaction) with the standard slower
ways on the same rows in the same run: row-by-row INSERTs through SQLAlchemy (measured on
a slice and scaled, and stated as such) and GeoPandas ``to_postgis``.  Also times the
GeoPackage store and reports peak memory.  Prints figures; asserts nothing.

    make bench            # or: ONEMAP_TEST_DATABASE_URL=postgresql://... python -m bench.bench_store_write
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from layers.catalogue import (
    CATALOGUE,  # noqa: E402
    VENUE_KINDS,  # noqa: E402
)
from layers.stores.geopackage import GeoPackageStore  # noqa: E402
from layers.stores.postgis import PostGISStore, normalize_database_url  # noqa: E402
from layers.validate import validate_layer  # noqa: E402


def make_venues(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    hours = np.array(["Mo-Su 06:00-22:00", "周一至周五 18:00-21:00；周末 8:00-20:00", "24/7", None], dtype=object)
    return gpd.GeoDataFrame({
        "feature_id": [f"bench-{i:07d}" for i in range(n)],
        "name": [f"健身点{i}" for i in range(n)],
        "venue_kind": rng.choice(VENUE_KINDS, n),
        "sports_area_m2": rng.uniform(100, 5000, n).round(1),
        "capacity": rng.integers(10, 500, n),
        "opening_hours": rng.choice(hours, n),
        "is_public": rng.random(n) < 0.9,
        "fee": rng.choice(["free", "low_cost", "paid"], n),
    }, geometry=gpd.points_from_xy(rng.uniform(103.9, 104.2, n), rng.uniform(30.5, 30.8, n)), crs=4326)


def drop_schema(engine, schema: str) -> None:
    """Drop a benchmark's scratch schema and release the engine."""
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--row-by-row", type=int, default=5_000, help="rows inserted one by one (then scaled)")
    ap.add_argument("--url", default=os.environ.get("ONEMAP_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL"))
    args = ap.parse_args()
    if not args.url:
        print("Set ONEMAP_TEST_DATABASE_URL (make bench does) or pass --url", file=sys.stderr)
        return 2
    frame = make_venues(args.rows)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = normalize_database_url(args.url)
    engine = create_engine(url)
    print(f"{args.rows:,} venue points, PostGIS schema {schema}")
    try:
        store = PostGISStore(url, schema=schema)
        t_validate, (valid, report) = timed(lambda: validate_layer(frame, CATALOGUE["venues"], source="bench"))
        assert report.ok, report.summary()
        t_store, result = timed(lambda: store.layers.write("venues", frame, source="bench", user="bench"))
        assert result.n_total == args.rows
        t_store2, _ = timed(lambda: store.layers.write("venues", frame, source="bench", user="bench"))
        print(f"  store.write_layer (validate + COPY, one transaction): {t_store:6.2f} s "
              f"(of which validation {t_validate:.2f} s); replace again (archives 100k): {t_store2:.2f} s")

        # The standard slow way 1: one INSERT per row, through SQLAlchemy, in one transaction.
        n = min(args.row_by_row, args.rows)
        cols = [f.name for f in CATALOGUE["venues"].all_fields]
        sub = valid.iloc[:n].copy()
        sub["version"], sub["layer_version"], sub["updated_at"] = 1, 1, time.strftime("%Y-%m-%dT%H:%M:%SZ")
        wkts = sub.geometry.to_wkt().tolist()
        records = sub[cols].astype(object).where(sub[cols].notna(), None).to_dict("records")
        stmt = text(f'INSERT INTO "{schema}".venues__archive ({", ".join(cols)}, geom, valid_to) VALUES '
                    f'({", ".join(":" + c for c in cols)}, ST_GeomFromText(:wkt, 4326), 0)')

        def row_by_row():
            with engine.begin() as conn:
                for rec, wkt in zip(records, wkts):
                    conn.execute(stmt, {**rec, "wkt": wkt})

        t_rows, _ = timed(row_by_row)
        t_rows_scaled = t_rows * args.rows / n
        print(f"  row-by-row INSERT: {t_rows:6.2f} s for {n:,} rows -> {t_rows_scaled:6.1f} s scaled to "
              f"{args.rows:,} (ratio {t_rows_scaled / t_store:4.1f}x slower)")

        # The standard slow way 2: GeoPandas to_postgis (executemany of INSERTs).
        t_gpd, _ = timed(lambda: valid.rename_geometry("geom").to_postgis(
            "venues_gpd", engine, schema=schema, if_exists="replace", index=False))
        print(f"  geopandas.to_postgis (COPY, no validation/versions/archive): {t_gpd:6.2f} s "
              f"(the store takes {t_store / t_gpd:3.1f}x its time)")

        with tempfile.TemporaryDirectory() as d:
            gp = GeoPackageStore(Path(d) / "bench.gpkg", create=True)
            t_gpkg, _ = timed(lambda: gp.layers.write("venues", frame, source="bench"))
            t_read, back = timed(lambda: gp.layers.read("venues"))
        t_pgread, pgback = timed(lambda: store.layers.read("venues"))
        print(f"  GeoPackage store write: {t_gpkg:6.2f} s; read back {t_read:.2f} s ({len(back):,} rows)")
        print(f"  PostGIS store read back: {t_pgread:.2f} s ({len(pgback):,} rows)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak memory (RSS) of this process: {peak:.0f} MB")
        store.close()
    finally:
        drop_schema(engine, schema)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
