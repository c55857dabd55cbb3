"""Building the folium one-map from stored layers (all assets served locally)."""

from __future__ import annotations

import json
import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import colormaps
from rasterio.warp import Resampling, calculate_default_transform, reproject

from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geo.errors import OneMapError
from geo.geometry_kinds import GeometryType, kind_is
from i18n import label
from layers.catalogue import CATALOGUE, SYSTEM_FIELD_NAMES
from layers.rasters import open_geotiff
from layers.styles import LAND_USE_COLORS, STYLES, Style
from webmap.assets import localize_assets
from webmap.escape import html_column, html_text

#: The stored layers a map draws, in drawing order (first is lowest), with their styles (layers/styles.py).
LAYER_STYLES: dict[str, Style] = {n: s for n, s in STYLES.items() if n in CATALOGUE}
_POPUP_SKIP = {"updated_at", "layer_version", "source"}
#: Layers drawn without pop-ups, and the only properties they carry (for their style).
_NO_POPUP: dict[str, tuple[str, ...]] = {"walk_network": (), "land_use": ("land_use",)}
#: A point layer with more features than this is drawn as a marker cluster of compact rows.
CLUSTER_MIN_POINTS = 1500


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
    # Six decimals of a degree is about 0.1 m: the map needs no more, and the page halves in size.
    geoms = out.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    rounded = geoms.copy()
    rounded[present] = shapely.transform(geoms[present], lambda xy: np.round(xy, 6))
    out = out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=frame.crs))
    for col in fields:  # every shown value becomes HTML here, and only here
        out[col] = html_column(out[col])
    return out


def _point_rows(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Rows whose geometry is a single point."""
    return kind_is(frame.geometry.to_numpy(), (GeometryType.POINT,))


def cluster_layer(name: str, frame: gpd.GeoDataFrame, lang: str):
    """A large point layer as one marker cluster: rows of ``[lat, lon, values…]`` and one callback.

    Ten thousand points cost about 1 MB this way instead of several MB of GeoJSON, and the
    browser draws a few hundred cluster icons instead of ten thousand markers.
    """
    from folium.plugins import FastMarkerCluster

    fields, aliases = _popup_fields(name, frame, lang)
    keep = [k for k, f in enumerate(fields) if f == "feature_id" or f not in SYSTEM_FIELD_NAMES]
    fields, aliases = [fields[k] for k in keep], [aliases[k] for k in keep]
    data = _json_ready(frame, fields)
    xy = shapely.get_coordinates(data.geometry.to_numpy())
    values = data[fields].astype(str).to_numpy().tolist()
    rows = [[round(float(y), 6), round(float(x), 6), *v] for (x, y), v in zip(xy, values)]
    color = LAYER_STYLES[name].color
    title = fields.index(CATALOGUE[name].name_field) if CATALOGUE[name].name_field in fields else 0
    labels = json.dumps([html_text(a) for a in aliases], ensure_ascii=False)
    callback = f"""function (row) {{
        var labels = {labels};
        var m = L.circleMarker(new L.LatLng(row[0], row[1]), {{radius: 6, color: '{color}', fillColor: '{color}',
                                                              fillOpacity: 0.85, weight: 1.5}});
        m.bindPopup(function () {{  // built when opened, not for every point at load; values arrive escaped
            var table = document.createElement('table');
            for (var i = 0; i < labels.length; i++) {{
                if (row[i + 2] === '') continue;
                var tr = table.insertRow(), th = document.createElement('th');
                th.innerHTML = labels[i]; tr.appendChild(th); tr.insertCell().innerHTML = row[i + 2];
            }}
            return table;
        }});
        m.bindTooltip(String(row[{title} + 2]));
        return m;
    }}"""
    spec = CATALOGUE[name]
    return FastMarkerCluster(rows, callback=callback, name=label(spec.label_zh, spec.label_en, lang),
                             options={"chunkedLoading": True, "disableClusteringAtZoom": 17})


def _style(name: str, lang: str):
    s = LAYER_STYLES[name]
    if name == "land_use":
        return lambda feat: {"fillColor": LAND_USE_COLORS.get(feat["properties"].get("land_use"), "#eee"),
                             "color": "#ffffff", "weight": 0.5, "fillOpacity": 0.45}
    if name == "school_facilities":
        def school(feat: dict) -> dict:
            color = s.color if feat["properties"].get("open_to_public") == "是" else s.closed_color
            return {"color": color, "fillColor": color, "fillOpacity": 0.7, "weight": 2}
        return school
    weight = s.web_size if s.kind in ("line", "outline") else 2
    return lambda feat: {"color": s.color, "fillColor": s.color, "weight": weight, "fill": s.fill,
                         "fillOpacity": 0.6}


def _to_lonlat_image(src: np.ndarray, transform, crs) -> tuple[np.ndarray, list[list[float]]]:
    """Reproject a grid (NaN = empty) to Web Mercator, the projection Leaflet draws in, so the
    image needs no further warping; returns it and its [[south, west], [north, east]] in degrees."""
    from pyproj import Transformer

    height, width = src.shape
    west0, north0 = transform.c, transform.f
    bounds = (west0, north0 + transform.e * height, west0 + transform.a * width, north0)
    dst_t, w, h = calculate_default_transform(crs, "EPSG:3857", width, height, *bounds)
    dest = np.full((h, w), np.nan, dtype="float32")
    reproject(src.astype("float32"), dest, src_transform=transform, src_crs=crs, dst_transform=dst_t,
              dst_crs="EPSG:3857", resampling=Resampling.nearest, src_nodata=np.nan, dst_nodata=np.nan)
    to_ll = Transformer.from_crs(3857, 4326, always_xy=True)
    west, north = to_ll.transform(dst_t.c, dst_t.f)
    east, south = to_ll.transform(dst_t.c + dst_t.a * w, dst_t.f + dst_t.e * h)
    return dest, [[south, west], [north, east]]


def population_overlay(tif: bytes, *, cmap: str = "YlOrRd", opacity: float = 0.55) -> folium.raster_layers.ImageOverlay:
    """The population raster as one image overlay (not thousands of polygons)."""
    with open_geotiff(tif) as ds:
        src = ds.read(1).astype("float32")
        if ds.nodata is not None:
            src[src == ds.nodata] = np.nan
        dest, bounds = _to_lonlat_image(src, ds.transform, ds.crs)
    valid = np.isfinite(dest) & (dest > 0)
    top = float(np.nanpercentile(dest[valid], 98)) if valid.any() else 1.0
    rgba = (colormaps[cmap](np.clip(np.nan_to_num(dest) / max(top, 1e-9), 0, 1)) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(valid, 255, 0)
    return folium.raster_layers.ImageOverlay(rgba, bounds=bounds, opacity=opacity, name="population")


def coverage_overlay(share: np.ndarray, transform, crs, *, opacity: float = 0.6) -> folium.raster_layers.ImageOverlay:
    """Covered share per cell as one image: green where covered, red where not (NaN: nobody lives there)."""
    dest, bounds = _to_lonlat_image(share, transform, crs)
    valid = np.isfinite(dest)
    rgba = (colormaps["RdYlGn"](np.clip(np.nan_to_num(dest), 0, 1)) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(valid, 200, 0)
    return folium.raster_layers.ImageOverlay(rgba, bounds=bounds, opacity=opacity, name="coverage")


#: Basemap choices; tiles other than "none" need a network the browser can reach.
BASEMAPS = ("none", "osm", "tianditu", "xyz")
_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_TIANDITU_URL = ("https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
                 "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=")


def basemap_layer(kind: str = "none", *, key: str = "", url: str = "") -> folium.TileLayer | None:
    """The tile layer of a basemap setting (None for "none", the default and offline choice).

    Raises
    ------
    OneMapError
        Tianditu without a key, or an XYZ URL without {z}/{x}/{y}.
    """
    if kind == "none":
        return None
    if kind == "osm":
        return folium.TileLayer(_OSM_URL, attr="© OpenStreetMap contributors", name="OpenStreetMap")
    if kind == "tianditu":
        if not key.strip():
            raise OneMapError("The Tianditu basemap needs a key (天地图 tk); get one at the Tianditu console.")
        return folium.TileLayer(_TIANDITU_URL + key.strip(), attr="© 天地图 Tianditu", name="天地图")
    if kind == "xyz":
        if not all(p in url for p in ("{z}", "{x}", "{y}")):
            raise OneMapError(f"A tile URL needs {{z}}, {{x}} and {{y}}: {url!r}")
        return folium.TileLayer(url, attr="basemap", name="XYZ")
    raise OneMapError(f"Basemap {kind!r} is not one of {', '.join(BASEMAPS)}.")


def _gcj_xy(xy: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    return np.column_stack((lon, lat))


def shift_latlon(lat: float, lon: float) -> list[float]:
    """A WGS-84 ``[lat, lon]`` moved onto GCJ-02 tiles."""
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    return [float(glat[0]), float(glon[0])]


def shift_element(element):
    """Shift a map element drawn from WGS-84 (image overlay, marker, GeoJSON) onto GCJ-02 tiles."""
    if isinstance(element, folium.raster_layers.ImageOverlay):
        (s, w), (n, e) = element.bounds
        element.bounds = [shift_latlon(s, w), shift_latlon(n, e)]
    elif isinstance(element, folium.Marker):
        element.location = shift_latlon(*element.location)
    elif isinstance(element, folium.GeoJson) and isinstance(element.data, dict) and element.data.get("features"):
        for feature in element.data["features"]:  # in place: folium keys its styles by the features' ids
            if feature.get("geometry"):
                shifted = shapely.transform(shapely.from_geojson(json.dumps(feature["geometry"])), _gcj_xy)
                feature["geometry"] = json.loads(shapely.to_geojson(shifted))
    return element


def shift_to_gcj02(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Overlays shifted WGS-84 → GCJ-02 so they line up with AMap/Tencent tiles."""
    import shapely

    geoms = frame.to_crs(4326).geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = geoms.copy()
    out[ok] = shapely.transform(geoms[ok], lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    return frame.to_crs(4326).set_geometry(gpd.GeoSeries(out, index=frame.index, crs=4326))


def build_map(layers: dict[str, gpd.GeoDataFrame], *, lang: str = "zh",
              population_tif: bytes | None = None, height: int = 640, basemap: folium.TileLayer | None = None,
              gcj02: bool = False, overlays: list | None = None, on_top: list | None = None,
              legend: str | None = None, fit: gpd.GeoDataFrame | None = None) -> folium.Map:
    """A folium map of the given layers, drawn in :data:`LAYER_STYLES` order on a canvas.

    Without a basemap the city's own land use, streets and boundaries are the basemap.
    ``gcj02`` shifts every overlay for AMap/Tencent tiles; ``overlays`` (images …) are drawn
    above the population surface and ``on_top`` elements (gap outlines, site markers) above
    every layer — all before the layer control, which must come last.  ``legend`` (a
    title) draws the legend inside the map; ``fit`` zooms to those features instead of to
    everything drawn.
    """
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, zoom_control=True, height=height)
    # With no tile layer Leaflet has no maxZoom, and marker clusters refuse to start without one.
    m.options["maxZoom"] = 19
    if basemap is not None:
        basemap.add_to(m)
    bounds = None
    if population_tif is not None:
        overlays = [population_overlay(population_tif), *(overlays or [])]
    for overlay in overlays or []:
        (shift_element(overlay) if gcj02 else overlay).add_to(m)
    for name in LAYER_STYLES:
        frame = layers.get(name)
        if frame is None or frame.empty:
            continue
        spec = CATALOGUE[name]
        if gcj02:
            frame = shift_to_gcj02(frame)
        points = _point_rows(frame)
        if LAYER_STYLES[name].kind == "point" and points.sum() > CLUSTER_MIN_POINTS:
            cluster_layer(name, frame[points], lang).add_to(m)
            bounds = _grow(bounds, frame.total_bounds)
            frame = frame[~points]  # areas of the same layer (pitches, halls) are drawn as usual
            if frame.empty:
                continue
        fields, aliases = _popup_fields(name, frame, lang)
        if name in _NO_POPUP:  # drawn, not inspected: carry only what the style reads
            fields, aliases = [f for f in fields if f in _NO_POPUP[name]], []
        data = _json_ready(frame, fields)
        group = folium.FeatureGroup(name=label(spec.label_zh, spec.label_en, lang))
        style = LAYER_STYLES[name]
        kwargs = {}
        if style.kind == "point":
            kwargs["marker"] = folium.CircleMarker(radius=style.web_size, fill=True, fill_opacity=0.85,
                                                   weight=1.5)
        popup = folium.GeoJsonPopup(fields=fields, aliases=[html_text(a) for a in aliases], localize=True,
                                    labels=True) \
            if name not in _NO_POPUP else None
        tooltip_field = spec.name_field if spec.name_field in fields else None
        tooltip = folium.GeoJsonTooltip(fields=[tooltip_field], labels=False) if tooltip_field and \
            name not in ("walk_network", "boundaries") else None
        # Plain GeoJSON without per-feature bounding boxes or ids: a third smaller for the streets.
        geojson = json.loads(data.to_json(drop_id=True, to_wgs84=False))
        folium.GeoJson(geojson, name=name, style_function=_style(name, lang), popup=popup, tooltip=tooltip,
                       **kwargs).add_to(group)
        group.add_to(m)
        bounds = _grow(bounds, frame.total_bounds)
    for element in on_top or []:
        (shift_element(element) if gcj02 else element).add_to(m)
    if fit is not None and len(fit):
        bounds = (shift_to_gcj02(fit) if gcj02 else fit.to_crs(4326)).total_bounds
    if bounds is not None:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], max_zoom=17)
    if legend is not None:
        m.get_root().html.add_child(map_legend([n for n in LAYER_STYLES if n in layers], lang, legend))
    folium.LayerControl(collapsed=True).add_to(m)
    return localize_assets(m)


def _grow(bounds, b):
    """The union of two (minx, miny, maxx, maxy) boxes; ``bounds`` may be None."""
    if not all(math.isfinite(v) for v in b):
        return bounds
    return b if bounds is None else [min(bounds[0], b[0]), min(bounds[1], b[1]), max(bounds[2], b[2]),
                                     max(bounds[3], b[3])]


def map_legend(names: list[str], lang: str, title: str) -> folium.Element:
    """A legend drawn inside the map (bottom left), so the page needs no raw HTML of its own."""
    rows = legend_rows(names, lang)
    items = "".join(f"<div><span style='color:{r.color};font-size:15px'>●</span> {html_text(r.label)}</div>"
                    for r in rows.itertuples())
    html = (f"<div class='onemap-legend' style='position:absolute;left:10px;bottom:52px;z-index:1000;"
            f"background:rgba(255,255,255,.88);padding:6px 9px;border-radius:4px;font:12px sans-serif;"
            f"box-shadow:0 1px 4px rgba(0,0,0,.3)'><b>{html_text(title)}</b>{items}</div>")
    return folium.Element(html)


def unshift_click(lon: float, lat: float, gcj02: bool) -> tuple[float, float]:
    """A clicked point in WGS-84: back from GCJ-02 when the map was drawn on GCJ-02 tiles."""
    if not gcj02:
        return lon, lat
    wlon, wlat = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
    return float(wlon[0]), float(wlat[0])


def legend_rows(names: list[str], lang: str) -> pd.DataFrame:
    """Legend entries (colour, label) for the drawn layers."""
    rows = []
    for name in LAYER_STYLES:
        if name in names and name != "land_use":
            spec = CATALOGUE[name]
            rows.append({"color": LAYER_STYLES[name].color, "label": label(spec.label_zh, spec.label_en, lang)})
    return pd.DataFrame(rows)


def labelled_marker(lat: float, lon: float, *, tooltip: object, icon_html: str) -> folium.Marker:
    """A marker drawn with ``icon_html`` (our own markup) and a tooltip of any value (escaped here)."""
    return folium.Marker([lat, lon], tooltip=html_text(tooltip), icon=folium.DivIcon(html=icon_html))


def dot_marker(lat: float, lon: float, *, tooltip: object | None = None, **style) -> folium.CircleMarker:
    """A circle marker with an optional tooltip of any value (escaped here); ``style`` as Leaflet takes it."""
    return folium.CircleMarker([lat, lon], tooltip=None if tooltip is None else html_text(tooltip), **style)


def outlines(frame: gpd.GeoDataFrame, *, name: str, fields: list[str], aliases: list[str],
             style: dict) -> folium.GeoJson:
    """Outlines (gap areas …) with a tooltip of ``fields``; every value escaped here."""
    data = _json_ready(frame.to_crs(4326), fields)
    return folium.GeoJson(json.loads(data.to_json(drop_id=True)), name=name, style_function=lambda f: style,
                          tooltip=folium.GeoJsonTooltip(fields, aliases=[html_text(a) for a in aliases]))
