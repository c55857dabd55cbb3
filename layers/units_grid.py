"""Units for a city whose data hold no administrative boundaries: a regular grid.

Most OpenStreetMap extracts of Chinese cities carry no ``boundary=administrative`` polygons, and
every per-unit table (coverage by street, gaps cut by street, the league) needs units.  Until the
city imports its own boundaries, the extent of its streets is cut into square cells of about
1 km² as street-level units (``网格 R02C05``), all inside one district-level unit named for the
data, each marked with :data:`geo.units.GRID_SOURCE` so every page says which it is.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import local_metric_crs
from geo.errors import AnalysisError
from geo.units import GRID_SOURCE

#: The side of a grid unit (metres): about one square kilometre, the size gaps are cut to.
CELL_M = 1000.0


def grid_units(extent: gpd.GeoDataFrame, *, name: str, cell_m: float = CELL_M) -> gpd.GeoDataFrame:
    """Boundaries for ``extent``'s area (any layer, e.g. the walking network): one district named ``name`` and
    square street-level cells of ``cell_m`` covering it (cells without any of ``extent`` left out), in WGS-84.

    Raises
    ------
    AnalysisError
        When ``extent`` is empty or has no coordinate system.
    """
    if extent is None or extent.empty or extent.crs is None:
        raise AnalysisError("Grid units need a layer with features and a coordinate system to cover.")
    if not 100 <= cell_m <= 10_000:
        raise AnalysisError(f"A grid unit's side must be 100–10,000 m, not {cell_m:g}.")
    wgs = extent.to_crs(4326)
    metric = local_metric_crs(tuple(wgs.total_bounds))
    geoms = extent.to_crs(metric).geometry
    x0, y0, x1, y1 = geoms.total_bounds
    x0, y0 = np.floor(x0 / cell_m) * cell_m, np.floor(y0 / cell_m) * cell_m
    cols, rows = max(int(np.ceil((x1 - x0) / cell_m)), 1), max(int(np.ceil((y1 - y0) / cell_m)), 1)
    tree = shapely.STRtree(geoms.to_numpy())
    cells, labels = [], []
    for r in range(rows):  # row 1 at the top, as a map is read
        for c in range(cols):
            box = shapely.box(x0 + c * cell_m, y0 + (rows - r - 1) * cell_m, x0 + (c + 1) * cell_m,
                              y0 + (rows - r) * cell_m)
            if len(tree.query(box, predicate="intersects")):
                cells.append(box)
                labels.append((r + 1, c + 1))
    district = shapely.box(x0, y0, x0 + cols * cell_m, y0 + rows * cell_m)
    frame = gpd.GeoDataFrame({
        "feature_id": ["grid-all"] + [f"grid-r{r:02d}c{c:02d}" for r, c in labels],
        "name": [name] + [f"网格 R{r:02d}C{c:02d}" for r, c in labels],
        "code": ["grid"] + [f"grid-r{r:02d}c{c:02d}" for r, c in labels],
        "level": ["district"] + ["street"] * len(labels),
        "parent_code": [None] + ["grid"] * len(labels),
        "source": GRID_SOURCE,
    }, geometry=[district, *cells], crs=metric)
    return frame.to_crs(4326)


__all__ = ["grid_units", "CELL_M"]
