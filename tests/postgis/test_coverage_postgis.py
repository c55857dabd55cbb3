"""Straight-line coverage counts checked against PostGIS ST_DWithin on the same data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from sqlalchemy import create_engine, text

from geo.coverage import CoverageEngine
from layers.stores.postgis import normalize_database_url

pytestmark = pytest.mark.postgis


def test_straight_line_coverage_equals_st_dwithin(pg_url, pg_schema, demo_analysis):
    fac = demo_analysis.facilities
    demand = demo_analysis.demand
    result = CoverageEngine(demand, fac, method="straight_line").run()
    epsg = demand.crs.to_epsg()
    engine = create_engine(normalize_database_url(pg_url))
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{pg_schema}"'))
        facilities = gpd.GeoDataFrame({"layer": fac.table["layer"], "usable": fac.table["usable"]},
                                      geometry=fac.geometry, crs=epsg)
        cells = demand.points()
        facilities.to_postgis("facilities", engine, schema=pg_schema)
        cells.to_postgis("demand", engine, schema=pg_schema)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE INDEX ON "{pg_schema}".facilities USING gist (geometry)'))
            for layer in fac.layers:
                for th in result.thresholds[layer]:
                    row = conn.execute(text(
                        f'SELECT count(*), coalesce(sum(d.population), 0) FROM "{pg_schema}".demand d '
                        f'WHERE EXISTS (SELECT 1 FROM "{pg_schema}".facilities f WHERE f.layer = :layer '
                        'AND f.usable AND ST_DWithin(f.geometry, d.geometry, :th))'),
                        {"layer": layer, "th": th}).one()
                    covered = result.covered(layer, th)
                    assert int(row[0]) == int(covered.sum()), (layer, th)
                    assert float(row[1]) == pytest.approx(float(demand.population[covered].sum())), (layer, th)
            srid = conn.execute(text(f'SELECT DISTINCT ST_SRID(geometry) FROM "{pg_schema}".demand')).scalar()
            assert srid == epsg
    finally:
        engine.dispose()
    assert np.isfinite(result.distance["venues"]).any()
