"""Building the folium one-map from stored layers (all assets served locally)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.utilities import image_to_url
from jinja2 import Template
from matplotlib import colormaps
from rasterio.warp import Resampling, calculate_default_transform, reproject

from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geo.errors import OneMapError
from geo.geometry_kinds import GeometryType, kind_is
from i18n import label, t
from i18n.values import value_label
from layers.catalogue import CATALOGUE, SYSTEM_FIELD_NAMES
from layers.rasters import open_geotiff
from layers.styles import LAND_USE_COLORS, STYLES, Style
from office.field_reports import REPORT_LAYERS
from webmap.assets import localize_assets
from webmap.escape import html_column, html_text
from webmap.legend import LegendEntry, layer_entries, legend_element, ramp_entry
from webmap.measure import add_measure_tools
from webmap.tiles import tile_min_features
from webmap.vector_layer import VectorTileLayer

#: The stored layers a map draws, in drawing order (first is lowest), with their styles (layers/styles.py).
LAYER_STYLES: dict[str, Style] = {n: s for n, s in STYLES.items() if n in CATALOGUE}
_POPUP_SKIP = {"updated_at", "layer_version", "source"}
#: Layers drawn without pop-ups.
_NO_POPUP = frozenset({"walk_network", "land_use"})
#: Stored values a layer's style reads (carried as stored, never shown).
_STYLE_COLUMNS: dict[str, tuple[str, ...]] = {"land_use": ("land_use",), "school_facilities": ("open_to_public",)}
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


def _json_ready(frame: gpd.GeoDataFrame, fields: list[str], lang: str = "zh",
                raw: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """The columns a map shows, as escaped text in ``lang`` (coded values by their labels), and the geometry.

    ``raw`` columns are carried as stored (under ``_``-prefixed names) for the style to read; a pop-up
    never lists them.
    """
    out = frame[fields + [frame.geometry.name]].copy()
    for col in raw:
        if col in frame.columns:
            out["_" + col] = frame[col].map(lambda v: None if v is None or v is pd.NA or v != v else
                                            (bool(v) if isinstance(v, (bool, np.bool_)) else str(v)))
    # Six decimals of a degree is about 0.1 m: the map needs no more, and the page halves in size.
    geoms = out.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    rounded = geoms.copy()
    rounded[present] = shapely.transform(geoms[present], lambda xy: np.round(xy, 6))
    out = out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=frame.crs))
    for col in fields:  # every shown value becomes HTML here, and only here
        out[col] = html_column(out[col].map(lambda v, c=col: value_label(c, v, lang)))
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
    data = _json_ready(frame, fields, lang)
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
        return lambda feat: {"fillColor": LAND_USE_COLORS.get(feat["properties"].get("_land_use"), "#eee"),
                             "color": "#ffffff", "weight": 0.5, "fillOpacity": 0.45}
    if name == "school_facilities":
        def school(feat: dict) -> dict:
            color = s.color if feat["properties"].get("_open_to_public") is True else s.closed_color
            return {"color": color, "fillColor": color, "fillOpacity": 0.7, "weight": 2}
        return school
    weight = s.web_size if s.kind in ("line", "outline") else 2
    fill = s.fill_color or s.color
    return lambda feat: {"color": s.color, "fillColor": fill, "weight": weight, "fill": s.fill,
                         "fillOpacity": 1.0 if s.fill_color else 0.6}


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


@dataclass(frozen=True)
class Overlay:
    """An image drawn over the map and the legend row that explains its colours."""

    image: folium.raster_layers.ImageOverlay
    legend: LegendEntry


def population_overlay(tif: bytes, lang: str = "zh", *, cmap: str = "YlOrRd", opacity: float = 0.55) -> Overlay:
    """The population raster as one image overlay (not thousands of polygons), with its colour ramp."""
    with open_geotiff(tif) as ds:
        src = ds.read(1).astype("float32")
        if ds.nodata is not None:
            src[src == ds.nodata] = np.nan
        cell = abs(ds.transform.a) if ds.crs is not None and ds.crs.is_projected else None
        dest, bounds = _to_lonlat_image(src, ds.transform, ds.crs)
    valid = np.isfinite(dest) & (dest > 0)
    top = float(np.nanpercentile(dest[valid], 98)) if valid.any() else 1.0
    rgba = (colormaps[cmap](np.clip(np.nan_to_num(dest) / max(top, 1e-9), 0, 1)) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(valid, 255, 0)
    name = t("population_surface", lang)
    per = (t("residents_per_cell", lang, size=f"{cell:g}") if cell else t("residents_per_cell_any", lang))
    return Overlay(folium.raster_layers.ImageOverlay(rgba, bounds=bounds, opacity=opacity, name=name),
                   ramp_entry(cmap, f"{name}（{per}）" if lang != "en" else f"{name} ({per})", "0",
                              f"≥ {top:,.0f}"))


def coverage_image(share: np.ndarray, transform, crs) -> tuple[str, list[list[float]]]:
    """Covered share per cell as a PNG (a data URL) in the projection Leaflet draws in, and its bounds: green where
    covered, red where not, clear where nobody lives (NaN).  Made once per result; any number of maps show it."""
    dest, bounds = _to_lonlat_image(share, transform, crs)
    valid = np.isfinite(dest)
    rgba = (colormaps["RdYlGn"](np.clip(np.nan_to_num(dest), 0, 1)) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(valid, 200, 0)
    return image_to_url(rgba), bounds


def coverage_overlay(image: tuple[str, list[list[float]]], lang: str = "zh", *, threshold_m: float | None = None,
                     opacity: float = 0.6) -> Overlay:
    """The :func:`coverage_image` ``image`` over the map, with its legend row."""
    url, bounds = image
    name = t("legend_covered_share", lang, m=f"{threshold_m:,.0f}") if threshold_m else t("legend_coverage", lang)
    return Overlay(folium.raster_layers.ImageOverlay(url, bounds=bounds, opacity=opacity, name=name),
                   ramp_entry("RdYlGn", name, t("legend_not_covered", lang), t("legend_all_covered", lang)))


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
            raise OneMapError.coded("basemap.tianditu_key")
        return folium.TileLayer(_TIANDITU_URL + key.strip(), attr="© 天地图 Tianditu", name="天地图")
    if kind == "xyz":
        if not all(p in url for p in ("{z}", "{x}", "{y}")):
            raise OneMapError.coded("basemap.xyz_url", url=url)
        return folium.TileLayer(url, attr="basemap", name="XYZ")
    raise OneMapError.coded("basemap.unknown", kind=kind, kinds=list(BASEMAPS))


def _gcj_xy(xy: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    return np.column_stack((lon, lat))


def shift_latlon(lat: float, lon: float) -> list[float]:
    """A WGS-84 ``[lat, lon]`` moved onto GCJ-02 tiles."""
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    return [float(glat[0]), float(glon[0])]


def shift_element(element):
    """Shift a map element drawn from WGS-84 (image overlay, marker, route line, GeoJSON) onto GCJ-02 tiles."""
    if isinstance(element, folium.raster_layers.ImageOverlay):
        (s, w), (n, e) = element.bounds
        element.bounds = [shift_latlon(s, w), shift_latlon(n, e)]
    elif isinstance(element, folium.Marker):
        element.location = shift_latlon(*element.location)
    elif isinstance(element, folium.PolyLine):
        element.locations = [shift_latlon(lat, lon) for lat, lon in element.locations]
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
              population_tif: bytes | None = None, height: int | str = 640, basemap: folium.TileLayer | None = None,
              gcj02: bool = False, overlays: list[Overlay] | None = None, on_top: list | None = None,
              legend: bool = True, legend_extra: list[LegendEntry] | None = None,
              fit: gpd.GeoDataFrame | None = None, title: str | None = None,
              passive: tuple[str, ...] = (), tiled: bool = False, report_entry: MacroElement | None = None,
              open_reports: dict[tuple[str, str], str] | None = None, measure: bool = True) -> folium.Map:
    """A folium map of the given layers, drawn in :data:`LAYER_STYLES` order on a canvas.

    Without a basemap the city's own land use, streets and boundaries are the basemap.
    ``gcj02`` shifts every overlay for AMap/Tencent tiles; ``overlays`` (images with their
    colour ramps) are drawn above the population surface and ``on_top`` elements (gap
    outlines, site markers) above every layer — all before the layer control, which must
    come last.  The legend (inside the map) names every drawn layer, the overlays' ramps and
    ``legend_extra`` rows (what ``on_top`` draws); ``fit`` zooms to those features instead of
    to everything drawn.  The scale is metric only; ``title`` is written at the top of the map
    (for a map that stands alone, such as the offline file).  ``passive`` layers are drawn
    without pop-ups and take no clicks, so a click on them reaches the map (adding a site).
    With ``tiled`` (a published map, served beside the app's tile route) a layer of more than
    :func:`webmap.tiles.tile_min_features` features is drawn from vector tiles, not GeoJSON.
    ``report_entry`` (:class:`webmap.field_report_layer.ReportEntry`) adds the 问题反馈 button, and the
    facilities carry what it needs to name the one clicked; ``open_reports`` ((layer, feature id) → text)
    adds a line of open field reports to those facilities' pop-ups.  ``measure`` adds the tools that measure a
    distance or an area and draw an area to select by (:mod:`webmap.measure`).
    """
    m = _blank_map(height, basemap)
    overlays = list(overlays or [])
    if population_tif is not None:
        overlays.insert(0, population_overlay(population_tif, lang))
    for overlay in overlays:
        (shift_element(overlay.image) if gcj02 else overlay.image).add_to(m)
    bounds = None
    drawn: dict[str, gpd.GeoDataFrame] = {}
    for name in LAYER_STYLES:
        frame = layers.get(name)
        if frame is None or frame.empty:
            continue
        drawn[name] = frame
        shown = shift_to_gcj02(frame) if gcj02 else frame
        _draw_layer(m, name, shown, lang=lang, tiled=tiled and not gcj02, passive=passive,
                    report_entry=report_entry, open_reports=open_reports)
        bounds = _grow(bounds, shown.total_bounds)
    for element in on_top or []:
        (shift_element(element) if gcj02 else element).add_to(m)
    if fit is not None and len(fit):
        bounds = (shift_to_gcj02(fit) if gcj02 else fit.to_crs(4326)).total_bounds
    if bounds is not None:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], max_zoom=17)
    if legend:
        entries = list(legend_extra or []) + layer_entries(drawn, lang) + [o.legend for o in overlays]
        if entries:
            m.get_root().html.add_child(legend_element(entries, t("legend", lang)))
    if title:
        m.get_root().html.add_child(_title_element(title))
    MapChrome().add_to(m)
    if report_entry is not None:
        report_entry.add_to(m)
    if measure:
        add_measure_tools(m, lang)
    folium.LayerControl(collapsed=True).add_to(m)
    return localize_assets(m)


def _blank_map(height: int | str, basemap: folium.TileLayer | None) -> folium.Map:
    """A canvas map with fractional zoom, and the basemap when one is given."""
    m = folium.Map(tiles=None, control_scale=False, prefer_canvas=True, zoom_control=True, height=height)
    # With no tile layer Leaflet has no maxZoom, and marker clusters refuse to start without one.
    m.options["maxZoom"] = 19
    m.options["zoomSnap"] = 0.25  # fit the city to the frame, not to the next whole zoom level
    if basemap is not None:
        basemap.add_to(m)
    return m


def _title_element(title: str) -> folium.Element:
    """``title`` written at the top of the map (escaped)."""
    return folium.Element(
        "<div class='onemap-title' style='position:absolute;top:10px;left:50%;transform:translateX(-50%);"
        "z-index:1000;background:rgba(255,255,255,.92);padding:5px 14px;border-radius:4px;"
        f"font:600 17px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)'>{html_text(title)}</div>")


def _draw_layer(m: folium.Map, name: str, frame: gpd.GeoDataFrame, *, lang: str, tiled: bool,
                passive: tuple[str, ...], report_entry: MacroElement | None,
                open_reports: dict[tuple[str, str], str] | None) -> None:
    """Layer ``name`` (in lon/lat, already shifted where the basemap needs it) on ``m``: from vector tiles when
    ``tiled`` and large, its points in clusters when many, the rest as GeoJSON with pop-ups."""
    spec = CATALOGUE[name]
    if tiled and len(frame) > tile_min_features():
        group = folium.FeatureGroup(name=label(spec.label_zh, spec.label_en, lang))
        VectorTileLayer(name, LAYER_STYLES[name]).add_to(group)
        group.add_to(m)
        return
    points = _point_rows(frame)
    if LAYER_STYLES[name].kind == "point" and points.sum() > CLUSTER_MIN_POINTS:
        cluster_layer(name, frame[points], lang).add_to(m)
        frame = frame[~points]  # areas of the same layer (pitches, halls) are drawn as usual
        if frame.empty:
            return
    _geojson_layer(name, frame, lang=lang, passive=passive, report_entry=report_entry,
                   open_reports=open_reports).add_to(m)


def _geojson_layer(name: str, frame: gpd.GeoDataFrame, *, lang: str, passive: tuple[str, ...],
                   report_entry: MacroElement | None,
                   open_reports: dict[tuple[str, str], str] | None) -> folium.FeatureGroup:
    """``frame`` as a GeoJSON layer in its style: pop-ups of its shown fields (with its open field reports), a
    tooltip of its name, what the report button needs to name a clicked feature; none of that when passive."""
    spec = CATALOGUE[name]
    fields, aliases = _popup_fields(name, frame, lang)
    quiet = name in _NO_POPUP or name in passive
    if quiet:  # drawn, not inspected: carry only what the style reads
        fields, aliases = [], []
    raw = _STYLE_COLUMNS.get(name, ())
    reportable = report_entry is not None and name in REPORT_LAYERS and not quiet
    if open_reports and name in REPORT_LAYERS and not quiet:
        notes = frame["feature_id"].astype(str).map(lambda f, n=name: open_reports.get((n, f), t("none", lang)))
        if (notes != t("none", lang)).any():
            frame = frame.assign(open_reports=notes)
            fields, aliases = fields + ["open_reports"], aliases + [t("open_reports", lang)]
    if reportable:
        raw = (*raw, "feature_id")
    data = _json_ready(frame, fields, lang, raw=raw)
    if reportable:
        data["_layer"], data["_name_field"] = name, spec.name_field or "feature_id"
    group = folium.FeatureGroup(name=label(spec.label_zh, spec.label_en, lang))
    style = LAYER_STYLES[name]
    kwargs = {"interactive": False} if name in passive else {}
    if style.kind == "point":
        kwargs["marker"] = folium.CircleMarker(radius=style.web_size, fill=True, fill_opacity=0.85, weight=1.5)
    popup = folium.GeoJsonPopup(fields=fields, aliases=[html_text(a) for a in aliases], localize=True,
                                labels=True) if not quiet else None
    tooltip_field = spec.name_field if spec.name_field in fields else None
    tooltip = folium.GeoJsonTooltip(fields=[tooltip_field], labels=False) if tooltip_field and \
        name not in ("walk_network", "boundaries") else None
    # Plain GeoJSON without per-feature bounding boxes or ids: a third smaller for the streets.
    geojson = json.loads(data.to_json(drop_id=True, to_wgs84=False))
    folium.GeoJson(geojson, name=name, style_function=_style(name, lang), popup=popup, tooltip=tooltip,
                   **kwargs).add_to(group)
    return group


class MapChrome(MacroElement):
    """A metric-only scale bar and a plain attribution ("Leaflet", no flag) on the map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');
        {% endmacro %}
    """)


def _grow(bounds, b):
    """The union of two (minx, miny, maxx, maxy) boxes; ``bounds`` may be None."""
    if not all(math.isfinite(v) for v in b):
        return bounds
    return b if bounds is None else [min(bounds[0], b[0]), min(bounds[1], b[1]), max(bounds[2], b[2]),
                                     max(bounds[3], b[3])]


def unshift_click(lon: float, lat: float, gcj02: bool) -> tuple[float, float]:
    """A clicked point in WGS-84: back from GCJ-02 when the map was drawn on GCJ-02 tiles."""
    if not gcj02:
        return lon, lat
    wlon, wlat = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
    return float(wlon[0]), float(wlat[0])


def labelled_marker(lat: float, lon: float, *, tooltip: object, icon_html: str) -> folium.Marker:
    """A marker drawn with ``icon_html`` (our own markup) and a tooltip of any value (escaped here)."""
    return folium.Marker([lat, lon], tooltip=html_text(tooltip), icon=folium.DivIcon(html=icon_html))


def dot_marker(lat: float, lon: float, *, tooltip: object | None = None, **style) -> folium.CircleMarker:
    """A circle marker with an optional tooltip of any value (escaped here); ``style`` as Leaflet takes it."""
    return folium.CircleMarker([lat, lon], tooltip=None if tooltip is None else html_text(tooltip), **style)


def route_line(line: shapely.LineString, *, color: str, tooltip: object, dashed: bool = False) -> folium.PolyLine:
    """A route (WGS-84 line) to draw over the layers (``build_map(on_top=…)``), with a tooltip of any value
    (escaped here)."""
    lat_lon = [[lat, lon] for lon, lat in line.coords]
    return folium.PolyLine(lat_lon, color=color, weight=4, opacity=0.9, dash_array="8 6" if dashed else None,
                           tooltip=html_text(tooltip))


def filled_areas(frame: gpd.GeoDataFrame, *, name: str, color_column: str, fields: list[str], aliases: list[str],
                 lang: str = "zh", opacity: float = 0.7) -> folium.GeoJson:
    """Areas filled with each row's ``color_column`` (a hex colour), a tooltip of ``fields``; every shown value
    escaped here."""
    data = _json_ready(frame.to_crs(4326), fields, lang, raw=(color_column,))
    key = "_" + color_column
    return folium.GeoJson(json.loads(data.to_json(drop_id=True)), name=name, control=False,
                          style_function=lambda f: {"fillColor": f["properties"].get(key) or "#cccccc",
                                                    "fillOpacity": opacity, "color": "#555555", "weight": 0.6},
                          tooltip=folium.GeoJsonTooltip(fields, aliases=[html_text(a) for a in aliases]))


def outlines(frame: gpd.GeoDataFrame, *, name: str, fields: list[str], aliases: list[str],
             style: dict, lang: str = "zh") -> folium.GeoJson:
    """Outlines (gap areas …) with a tooltip of ``fields``; every value escaped here (not in the layer list)."""
    data = _json_ready(frame.to_crs(4326), fields, lang)
    return folium.GeoJson(json.loads(data.to_json(drop_id=True)), name=name, style_function=lambda f: style,
                          control=False,
                          tooltip=folium.GeoJsonTooltip(fields, aliases=[html_text(a) for a in aliases]))
