"""An interactive map whose base is the same for every session with the same inputs.

``st_folium`` renders the whole map — every layer's GeoJSON through folium's templates — on each run of each
session, although the base (layers, legend, measuring tools) depends only on the store's versions and the page's
inputs; only the results group (planned sites, clicked points, a picked catchment) is a session's own.  Here the
base is built and rendered to Leaflet code once per key and shared; a run renders only its results group and hands
both to streamlit-folium's component, with the arguments ``st_folium`` itself would pass (streamlit-folium's own
rendering steps, pinned in requirements.txt; ``tests/app/test_shared_map.py`` checks the arguments are the same).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import branca
import folium
import streamlit as st
import streamlit_folium as sf


@dataclass(frozen=True)
class RenderedBase:
    """A base map rendered once: the component's arguments that do not depend on the session."""

    script: str
    header: str
    html: str
    map_id: str
    map_name: str
    map_key: str
    bounds: dict
    zoom: int | None
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]


def _walk(element) -> Iterator:
    if isinstance(element, branca.colormap.ColorMap | folium.elements.JSCSSMixin):
        yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def render_base(m: folium.Map) -> RenderedBase:
    """What ``st_folium`` renders of ``m`` before any results group is added."""
    m.get_root().render()
    m.render()
    html, header = sf._get_html(m), sf._get_header(m)
    script = sf._get_map_string(m)
    css, js = [], []
    for element in _walk(m):
        css += [href for _, href in getattr(element, "default_css", [])]
        js += [src for _, src in getattr(element, "default_js", [])]
    (s, w), (n, e) = m.get_bounds()
    return RenderedBase(script, header, html, sf.get_full_id(m), m._name, m._id,
                        {"_southWest": {"lat": s, "lng": w}, "_northEast": {"lat": n, "lng": e}},
                        m.options.get("zoom"), tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js)))


@st.cache_resource(show_spinner=False, max_entries=16)
def _shared_base(key: tuple, _make: Callable[[], folium.Map]) -> RenderedBase:
    return render_base(_make())


def results_code(base: RenderedBase, results: folium.FeatureGroup) -> str:
    """The Leaflet code of a session's results group, naming the shared base map as ``st_folium`` does."""
    stand_in = folium.Map(tiles=None)  # carries only the base map's name, so the group's code names that map
    stand_in._name, stand_in._id = base.map_name, base.map_key
    return sf._get_feature_group_string(results, map=stand_in, idx=0)


def component_args(base: RenderedBase, *, key: str, height: int, returned_objects: list[str],
                   results: folium.FeatureGroup | None = None, center: list[float] | None = None,
                   zoom: int | None = None) -> dict:
    """The arguments of streamlit-folium's component for ``base`` and a session's ``results`` (full width)."""
    defaults = {"last_clicked": None, "last_object_clicked": None, "last_object_clicked_count": None,
                "last_object_clicked_tooltip": None, "last_object_clicked_popup": None, "all_drawings": None,
                "last_active_drawing": None, "bounds": base.bounds, "zoom": base.zoom, "last_circle_radius": None,
                "last_circle_polygon": None, "selected_layers": None, "selected_tags": None,
                "last_geocoder_result": None}
    return {"script": base.script, "header": base.header, "html": base.html, "id": base.map_id,
            "key": sf.generate_js_hash(base.script, key, False), "height": height, "width": None,
            "returned_objects": returned_objects, "default": {k: v for k, v in defaults.items() if k in
                                                               returned_objects},
            "zoom": zoom, "center": center,
            "feature_group": results_code(base, results) if results is not None else None,
            "return_on_hover": False, "layer_control": None, "pixelated": False, "css_links": list(base.css_links),
            "js_links": list(base.js_links), "wrap_longitude": False}


def shared_folium(base_key: tuple, make: Callable[[], folium.Map], *, key: str, height: int,
                  returned_objects: list[str], results: folium.FeatureGroup | None = None,
                  center: list[float] | None = None, zoom: int | None = None) -> dict | None:
    """``st_folium`` of the map ``make()`` builds — built and rendered once for every session asking with the same
    ``base_key``, which must name everything the base depends on (store, layer versions, language, inputs) — with
    this session's ``results`` group; returns what the component returns (the last click …)."""
    args = component_args(_shared_base(base_key, make), key=key, height=height, returned_objects=returned_objects,
                          results=results, center=center, zoom=zoom)

    def on_change() -> None:
        st.session_state[key] = st.session_state.get(args["key"], {})

    return sf._component_func(**args, on_change=on_change)


__all__ = ["RenderedBase", "render_base", "results_code", "component_args", "shared_folium"]
