"""A published map that zooms where its page asks, without being drawn again.

A page embeds a published map (:mod:`webmap.publish`) by URL; to zoom it to a unit or a gap picked in a table it
appends ``#b=west,south,east,north`` (:func:`bounds_fragment`).  :class:`FitFromHash` in the map reads that
fragment when the map loads and whenever it changes (a changed fragment does not reload the frame), so the file
stays one per set of inputs, shared by every session that asks for them.

A view sent in a link works the same way: ``#v=lat,lng,zoom`` sets the view, and a map that keeps its view in its
page's link writes ``view=lat,lng,zoom`` into the page's URL whenever the reader moves it (:func:`view_fragment`
reads it back, refusing what is not a view).
"""

from __future__ import annotations

import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from webmap.folium_map import shift_to_gcj02


class FitFromHash(MacroElement):
    """Fit the map to the bounds in its URL's fragment (``#b=w,s,e,n``, lon/lat) or set its view (``#v=lat,lng,z``),
    on load and on every change; with ``keep_view`` the reader's moves go into the page's link (``view=``)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var setting = false;
  function fit() {
    var m = /[#&]b=(-?[0-9.]+),(-?[0-9.]+),(-?[0-9.]+),(-?[0-9.]+)/.exec(window.location.hash);
    var v = /[#&]v=(-?[0-9.]+),(-?[0-9.]+),([0-9.]+)/.exec(window.location.hash);
    setting = true;
    try {
      if (m) { map.fitBounds([[+m[2], +m[1]], [+m[4], +m[3]]], {maxZoom: 17}); }
      else if (v) { map.setView([+v[1], +v[2]], +v[3], {animate: false}); }
    } finally { setting = false; }
  }
  window.addEventListener('hashchange', fit);
  fit();
  {% if this.keep_view %}
  map.on('moveend', function () {
    if (setting) { return; }
    try {
      var c = map.getCenter(), page = window.parent.location, url = new URL(page.href);
      url.searchParams.set('view', c.lat.toFixed(5) + ',' + c.lng.toFixed(5) + ',' + map.getZoom());
      window.parent.history.replaceState(window.parent.history.state, '', url.toString());
    } catch (e) { /* a page of another origin keeps no view */ }
  });
  {% endif %}
})();
{% endmacro %}
""")

    def __init__(self, *, keep_view: bool = False) -> None:
        super().__init__()
        self._name = "FitFromHash"
        self.keep_view = keep_view


def bounds_fragment(geometries, crs, gcj02: bool = False) -> str:
    """``#b=w,s,e,n`` for ``geometries`` (shapely, in ``crs``), shifted like the map for GCJ-02 tiles; ``""``
    when there is nothing to zoom to."""
    frame = gpd.GeoDataFrame(geometry=list(geometries), crs=crs)
    if frame.empty:
        return ""
    frame = shift_to_gcj02(frame) if gcj02 else frame.to_crs(4326)
    w, s, e, n = frame.total_bounds
    return f"#b={w:.6f},{s:.6f},{e:.6f},{n:.6f}"


def view_fragment(text: str | None) -> str:
    """``#v=lat,lng,zoom`` for a link's ``view=lat,lng,zoom`` (as a map wrote it); ``""`` for anything else."""
    if not text:
        return ""
    parts = text.split(",")
    try:
        if len(parts) != 3:
            raise ValueError(text)
        lat, lng, zoom = float(parts[0]), float(parts[1]), float(parts[2])
    except ValueError:
        return ""
    if not (-90 <= lat <= 90 and -180 <= lng <= 180 and 0 <= zoom <= 22):
        return ""
    shown = f"{zoom:.2f}".rstrip("0").rstrip(".")  # digits only: the map reads no exponent (1e-05)
    return f"#v={lat:.5f},{lng:.5f},{shown}"
