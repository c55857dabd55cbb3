"""Measure and select by drawing, on every map: Leaflet.draw's line, polygon and rectangle tools (vendored in
``static/vendor/leaflet-draw``), in the page's language.

While a shape is drawn its running length or area is shown; once drawn it keeps a label with its length or
area on the ground (geodesic, metric).  A page that reads the map back through streamlit-folium gets the shape
(``last_active_drawing``), which :func:`geo.selection.drawn_area` turns into an area to select by.
"""

from __future__ import annotations

import folium
from folium.plugins import Draw
from jinja2 import Template

from i18n import t

#: Units as the pages write them: distances as the life circles do (500 米), areas as the gap table does (km²).
_UNITS = {"zh": {"m": "米", "km": "公里", "m2": "m²", "km2": "km²", "sep": " "},
          "en": {"m": "m", "km": "km", "m2": "m²", "km2": "km²", "sep": " "}}


def _draw_words(lang: str) -> dict:
    """``L.drawLocal`` in ``lang`` (every string the tools can show)."""
    w = lambda key: t(key, lang)  # noqa: E731
    return {
        "draw": {
            "toolbar": {
                "actions": {"title": w("draw_cancel_title"), "text": w("draw_cancel")},
                "finish": {"title": w("draw_finish_title"), "text": w("draw_finish")},
                "undo": {"title": w("draw_undo_title"), "text": w("draw_undo")},
                "buttons": {"polyline": w("draw_line"), "polygon": w("draw_polygon"),
                            "rectangle": w("draw_rectangle"), "circle": "", "marker": "", "circlemarker": ""},
            },
            "handlers": {
                "circle": {"tooltip": {"start": ""}, "radius": ""},
                "circlemarker": {"tooltip": {"start": ""}},
                "marker": {"tooltip": {"start": ""}},
                "polygon": {"tooltip": {"start": w("draw_shape_start"), "cont": w("draw_shape_cont"),
                                        "end": w("draw_shape_end")}},
                "polyline": {"error": w("draw_line_cross"),
                             "tooltip": {"start": w("draw_line_start"), "cont": w("draw_line_cont"),
                                         "end": w("draw_line_end")}},
                "rectangle": {"tooltip": {"start": w("draw_rect_start")}},
                "simpleshape": {"tooltip": {"end": w("draw_release")}},
            },
        },
        "edit": {
            "toolbar": {
                "actions": {"save": {"title": w("draw_save_title"), "text": w("draw_save")},
                            "cancel": {"title": w("draw_cancel_title"), "text": w("draw_cancel")},
                            "clearAll": {"title": w("draw_clear_title"), "text": w("draw_clear")}},
                "buttons": {"edit": "", "editDisabled": "", "remove": w("draw_remove"),
                            "removeDisabled": w("draw_remove_none")},
            },
            "handlers": {"edit": {"tooltip": {"text": "", "subtext": ""}},
                         "remove": {"tooltip": {"text": w("draw_remove_tip")}}},
        },
    }


class MeasureTools(Draw):
    """The measuring and drawing tools of a map in ``lang``; the shapes drawn are kept in the map's
    ``drawnItems`` layer (what streamlit-folium reads back)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.drawLocal = {{ this.words|tojson }};
        (function () {
            var u = {{ this.units|tojson }};
            function grouped(x, digits) {
                var parts = x.toFixed(digits).split('.');
                parts[0] = parts[0].replace(/\\B(?=(\\d{3})+(?!\\d))/g, ',');
                return parts.join('.');
            }
            // Lengths and areas on the WGS-84 ellipsoid (Leaflet's sphere is 0.3-0.5 % off in China), so the
            // map says what the page computes: each short segment on the local ellipsoid's radii, and an area
            // as a spherical excess on the sphere of the ellipsoid's Gaussian curvature at its latitude.
            var A = 6378137.0, E2 = 0.00669437999014, RAD = Math.PI / 180;
            function radii(lat) {
                var s = Math.sin(lat * RAD), w = 1 - E2 * s * s;
                return {n: A / Math.sqrt(w), m: A * (1 - E2) / Math.pow(w, 1.5)};
            }
            L.CRS.Earth.distance = function (p, q) {
                var r = radii((p.lat + q.lat) / 2), mid = ((p.lat + q.lat) / 2) * RAD;
                var dx = (q.lng - p.lng) * RAD * r.n * Math.cos(mid), dy = (q.lat - p.lat) * RAD * r.m;
                return Math.sqrt(dx * dx + dy * dy);
            };
            L.GeometryUtil.geodesicArea = function (latLngs) {
                var n = latLngs.length, area = 0, lat = 0;
                if (n < 3) { return 0; }
                for (var k = 0; k < n; k++) { lat += latLngs[k].lat / n; }
                var r = radii(lat), R2 = r.n * r.m;
                for (var i = 0; i < n; i++) {
                    var p = latLngs[i], q = latLngs[(i + 1) % n];
                    area += (q.lng - p.lng) * RAD * (2 + Math.sin(p.lat * RAD) + Math.sin(q.lat * RAD));
                }
                return Math.abs(area * R2 / 2.0);
            };
            L.GeometryUtil.readableDistance = function (metres) {
                return metres < 1000 ? grouped(metres, 0) + u.sep + u.m : grouped(metres / 1000, 2) + u.sep + u.km;
            };
            L.GeometryUtil.readableArea = function (m2) {
                return m2 < 1e6 ? grouped(m2, 0) + u.sep + u.m2 : grouped(m2 / 1e6, 2) + u.sep + u.km2;
            };
        })();
        var drawnItems_{{ this.get_name() }} = new L.featureGroup().addTo({{ this._parent.get_name() }});
        var {{ this.get_name() }} = new L.Control.Draw({
            position: "topleft",
            draw: {{ this.draw_options|tojson }},
            edit: {featureGroup: drawnItems_{{ this.get_name() }}, edit: false, remove: true}
        }).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.on(L.Draw.Event.CREATED, function (e) {
            var layer = e.layer, said;
            if (e.layerType === "polyline") {
                var pts = layer.getLatLngs(), metres = 0;
                for (var i = 1; i < pts.length; i++) { metres += pts[i - 1].distanceTo(pts[i]); }
                said = {{ this.length_word|tojson }} + " " + L.GeometryUtil.readableDistance(metres);
            } else {
                said = {{ this.area_word|tojson }} + " "
                    + L.GeometryUtil.readableArea(L.GeometryUtil.geodesicArea(layer.getLatLngs()[0]));
            }
            layer.bindTooltip(said, {permanent: true, direction: "center", className: "onemap-measure"});
            drawnItems_{{ this.get_name() }}.addLayer(layer);
        });
        {% endmacro %}
    """)

    default_js = [("leaflet_draw_js", "vendor/leaflet-draw/leaflet.draw.js")]
    default_css = [("leaflet_draw_css", "vendor/leaflet-draw/leaflet.draw.css")]

    def __init__(self, lang: str = "zh") -> None:
        style = {"color": "#6a3d9a", "weight": 3, "fillOpacity": 0.08}
        super().__init__(show_geometry_on_click=False, draw_options={
            "polyline": {"metric": True, "feet": False, "showLength": True, "shapeOptions": style},
            "polygon": {"metric": ["km", "m"], "showArea": True, "showLength": False, "allowIntersection": False,
                        "shapeOptions": style},
            "rectangle": {"metric": ["km", "m"], "showArea": True, "shapeOptions": style},
            "circle": False, "marker": False, "circlemarker": False})
        self.words = _draw_words(lang)
        self.units = _UNITS["en" if lang == "en" else "zh"]
        self.length_word = t("measure_length", lang)
        self.area_word = t("measure_area", lang)


def add_measure_tools(m: folium.Map, lang: str) -> folium.Map:
    """``m`` with the measuring and drawing tools in ``lang``; returns ``m``."""
    MeasureTools(lang).add_to(m)
    return m
