"""Building the folium one-map from stored layers (all assets served locally)."""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import colormaps
from rasterio.warp import Resampling, calculate_default_transform, reproject

from layers.catalogue import CATALOGUE, LAND_USES
from layers.rasters import open_geotiff
from ui.i18n import label
from ui.map_assets import localize_assets

#: Drawing order (first is lowest) and style of each layer.
LAYER_STYLES: dict[str, dict] = {
    "land_use": {"kind": "fill"},
    "walk_network": {"color": "#9a9a9a", "weight": 1},
    "boundaries": {"color": "#6a3d9a", "weight": 2, "fill": False},
    "greenways": {"color": "#1b9e3a", "weight": 5},
    "greenway_entrances": {"color": "#1b9e3a", "radius": 4},
    "candidate_sites": {"color": "#7b3294", "radius": 4},
    "metro_stations": {"color": "#222222", "radius": 6},
    "health_stations": {"color": "#f28e2b", "radius": 6},
    "school_facilities": {"color": "#1f5fbf", "closed_color": "#9ec3f0", "radius": 6},
    "venues": {"color": "#d62728", "radius": 6},
}
LAND_USE_COLORS = {"residential": "#f4ead8", "park": "#c7e9b4", "water": "#a6cee3", "commercial": "#f6cccc",
                   "industrial": "#dddddd", "education": "#e5d8f2", "green": "#d9f0c9", "vacant": "#f7f5e1",
                   "other": "#eeeeee"}
assert set(LAND_USE_COLORS) >= set(LAND_USES)
_POPUP_SKIP = {"updated_at", "layer_version", "source"}


def _popup_fields(name: str, frame: gpd.GeoDataFrame, lang: str) -> tuple[list[str], list[str]]:
    spec = CATALOGUE[name]
    fields, aliases = [], []
    for f in spec.all_fields:
        if f.name in _POPUP_SKIP or f.name not in frame.columns or frame[f.name].isna().all():
            continue
        fields.append(f.name)
        aliases.append(label(f.label_zh, f.label_en, lang))
    return fields, aliases


def _json_ready(frame: gpd.GeoDataFrame, fields: list[str]) -> gpd.GeoDataFrame:
    out = frame[fields + [frame.geometry.name]].copy()
    for col in fields:
        out[col] = out[col].astype(object).where(out[col].notna(), "")
        out[col] = out[col].map(lambda v: ("是" if v else "否") if isinstance(v, (bool, np.bool_)) else v)
    return out


def _style(name: str, lang: str):
    s = LAYER_STYLES[name]
    if name == "land_use":
        return lambda feat: {"fillColor": LAND_USE_COLORS.get(feat["properties"].get("land_use"), "#eee"),
                             "color": "#ffffff", "weight": 0.5, "fillOpacity": 0.45}
    if name == "school_facilities":
        def school(feat: dict) -> dict:
            color = s["color"] if feat["properties"].get("open_to_public") == "是" else s["closed_color"]
            return {"color": color, "fillColor": color, "fillOpacity": 0.7, "weight": 2}
        return school
    return lambda feat: {"color": s["color"], "fillColor": s["color"], "weight": s.get("weight", 2),
                         "fill": s.get("fill", True), "fillOpacity": 0.6}


def population_overlay(tif: bytes, *, cmap: str = "YlOrRd", opacity: float = 0.55) -> folium.raster_layers.ImageOverlay:
    """The population raster as one image overlay (not thousands of polygons)."""
    with open_geotiff(tif) as ds:
        transform, width, height = calculate_default_transform(ds.crs, "EPSG:4326", ds.width, ds.height,
                                                               *ds.bounds)
        dest = np.full((height, width), np.nan, dtype="float32")
        src = ds.read(1).astype("float32")
        if ds.nodata is not None:
            src[src == ds.nodata] = np.nan
        reproject(src, dest, src_transform=ds.transform, src_crs=ds.crs, dst_transform=transform,
                  dst_crs="EPSG:4326", resampling=Resampling.nearest, src_nodata=np.nan, dst_nodata=np.nan)
    valid = np.isfinite(dest) & (dest > 0)
    top = float(np.nanpercentile(dest[valid], 98)) if valid.any() else 1.0
    rgba = (colormaps[cmap](np.clip(np.nan_to_num(dest) / max(top, 1e-9), 0, 1)) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(valid, 255, 0)
    west, north = transform.c, transform.f
    east, south = west + transform.a * width, north + transform.e * height
    return folium.raster_layers.ImageOverlay(rgba, bounds=[[south, west], [north, east]], opacity=opacity,
                                             mercator_project=True, name="population")


def build_map(layers: dict[str, gpd.GeoDataFrame], *, lang: str = "zh",
              population_tif: bytes | None = None, height: int = 640) -> folium.Map:
    """A folium map of the given layers, drawn in :data:`LAYER_STYLES` order.

    No tile basemap: the city's own land use, streets and boundaries are the basemap.
    """
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_control=True,
                   height=height)
    bounds = None
    if population_tif is not None:
        population_overlay(population_tif).add_to(m)
    for name in LAYER_STYLES:
        frame = layers.get(name)
        if frame is None or frame.empty:
            continue
        spec = CATALOGUE[name]
        fields, aliases = _popup_fields(name, frame, lang)
        data = _json_ready(frame, fields)
        group = folium.FeatureGroup(name=label(spec.label_zh, spec.label_en, lang))
        style = LAYER_STYLES[name]
        kwargs = {}
        if "radius" in style:
            kwargs["marker"] = folium.CircleMarker(radius=style["radius"], fill=True, fill_opacity=0.85,
                                                   weight=1.5)
        popup = folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=True, labels=True) \
            if name not in ("walk_network", "land_use") else None
        tooltip_field = spec.name_field if spec.name_field in fields else None
        tooltip = folium.GeoJsonTooltip(fields=[tooltip_field], labels=False) if tooltip_field and \
            name not in ("walk_network", "boundaries") else None
        folium.GeoJson(data, name=name, style_function=_style(name, lang), popup=popup, tooltip=tooltip,
                       **kwargs).add_to(group)
        group.add_to(m)
        b = frame.total_bounds
        if all(math.isfinite(v) for v in b):
            bounds = b if bounds is None else [min(bounds[0], b[0]), min(bounds[1], b[1]),
                                               max(bounds[2], b[2]), max(bounds[3], b[3])]
    if bounds is not None:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    folium.LayerControl(collapsed=True).add_to(m)
    return localize_assets(m)


def legend_rows(names: list[str], lang: str) -> pd.DataFrame:
    """Legend entries (colour, label) for the drawn layers."""
    rows = []
    for name in LAYER_STYLES:
        if name in names and name != "land_use":
            spec = CATALOGUE[name]
            rows.append({"color": LAYER_STYLES[name]["color"], "label": label(spec.label_zh, spec.label_en, lang)})
    return pd.DataFrame(rows)
