"""A published map that zooms where its page asks, without being drawn again.

A page embeds a published map (:mod:`webmap.publish`) by URL; to zoom it to a unit or a gap picked in a table it
appends ``#b=west,south,east,north`` (:func:`bounds_fragment`).  :class:`FitFromHash` in the map reads that
fragment when the map loads and whenever it changes (a changed fragment does not reload the frame), so the file
stays one per set of inputs, shared by every session that asks for them.
"""

from __future__ import annotations

import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from webmap.folium_map import shift_to_gcj02


class FitFromHash(MacroElement):
    """Fit the map to the bounds in its URL's fragment (``#b=w,s,e,n``, lon/lat), on load and on every change."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  function fit() {
    var m = /[#&]b=(-?[0-9.]+),(-?[0-9.]+),(-?[0-9.]+),(-?[0-9.]+)/.exec(window.location.hash);
    if (m) { map.fitBounds([[+m[2], +m[1]], [+m[4], +m[3]]], {maxZoom: 17}); }
  }
  window.addEventListener('hashchange', fit);
  fit();
})();
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "FitFromHash"


def bounds_fragment(geometries, crs, gcj02: bool = False) -> str:
    """``#b=w,s,e,n`` for ``geometries`` (shapely, in ``crs``), shifted like the map for GCJ-02 tiles; ``""``
    when there is nothing to zoom to."""
    frame = gpd.GeoDataFrame(geometry=list(geometries), crs=crs)
    if frame.empty:
        return ""
    frame = shift_to_gcj02(frame) if gcj02 else frame.to_crs(4326)
    w, s, e, n = frame.total_bounds
    return f"#b={w:.6f},{s:.6f},{e:.6f},{n:.6f}"
