"""A layer drawn from the app's vector tiles (Leaflet.VectorGrid on a canvas) instead of GeoJSON.

Only a published map uses it (the one-map page): its tiles come from ``/tiles/<map key>/<layer>/{z}/{x}/{y}.pbf``
beside ``/maps/<map key>.html``, with the map's own signed query, so they are served behind the
same sign-in. The key is read from the page's address, so one published file serves everyone.
"""

from __future__ import annotations

import json

import folium
from branca.element import MacroElement
from jinja2 import Template

from layers.styles import LAND_USE_COLORS, Style


class VectorTileLayer(folium.elements.JSCSSMixin, MacroElement):
    """The stored layer ``layer`` from vector tiles, styled as its GeoJSON would be; added to a feature group so
    the layer control switches it. Each loaded tile is counted in ``window.onemapTiles[layer]``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var key = window.location.pathname.split('/').pop().replace(/\\.html$/, '');
            var url = '/tiles/' + encodeURIComponent(key) + '/{{ this.layer }}/{z}/{x}/{y}.pbf'
                + window.location.search;
            var styles = {};
            var style = {{ this.style_json }};
            var byValue = {{ this.by_value_json }};
            styles[{{ this.layer_json }}] = function (props) {
                if (byValue && byValue.field in props) {
                    var colour = byValue.colours[String(props[byValue.field])] || byValue.other;
                    return Object.assign({}, style, {fillColor: colour, color: byValue.line || colour});
                }
                return style;
            };
            var layer = L.vectorGrid.protobuf(url, {rendererFactory: L.canvas.tile, interactive: false,
                                                   maxNativeZoom: 18, vectorTileLayerStyles: styles});
            window.onemapTiles = window.onemapTiles || {};
            window.onemapTiles[{{ this.layer_json }}] = 0;
            layer.on('tileload', function () { window.onemapTiles[{{ this.layer_json }}] += 1; });
            layer.on('load', function () { window.onemapTilesDone = (window.onemapTilesDone || 0) + 1; });
            layer.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)
    default_js = [("vectorgrid", "https://unpkg.com/leaflet.vectorgrid@1.3.0/dist/Leaflet.VectorGrid.bundled.min.js")]

    def __init__(self, layer: str, style: Style) -> None:
        super().__init__()
        self._name = "VectorTileLayer"
        self.layer = layer
        self.layer_json = json.dumps(layer)
        weight = style.web_size if style.kind in ("line", "outline") else 1
        look = {"color": style.color, "weight": weight, "fill": style.kind in ("fill", "area", "point"),
                "fillColor": style.fill_color or style.color, "fillOpacity": 0.6, "radius": style.web_size,
                "opacity": 1}
        self.style_json = json.dumps(look)
        by_value = None
        if layer == "land_use":
            by_value = {"field": "land_use", "colours": LAND_USE_COLORS, "other": "#eeeeee", "line": "#ffffff"}
        elif layer == "school_facilities" and style.closed_color:
            by_value = {"field": "open_to_public", "colours": {"true": style.color, "True": style.color},
                        "other": style.closed_color}
        self.by_value_json = json.dumps(by_value)


__all__ = ["VectorTileLayer"]
