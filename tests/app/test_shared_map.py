"""The planning map's base is rendered once and shared (ui/shared_map.py): what the map component receives must be
what ``st_folium`` itself would send for the same map and the same session's results."""

from __future__ import annotations

import re

import folium
import streamlit_folium as sf

from layers.stores.geopackage import GeoPackageStore
from ui.shared_map import component_args, render_base
from webmap.folium_map import build_map, dot_marker, labelled_marker
from webmap.legend import LegendEntry

FOLIUM_ID = re.compile(r"[0-9a-f]{32}")  # folium names each element by a random uuid


def _ids_out(value):
    if isinstance(value, str):
        return FOLIUM_ID.sub("ID", value)
    if isinstance(value, dict):
        return {k: _ids_out(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_ids_out(v) for v in value]
    return value


def _results() -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="results")
    labelled_marker(30.66, 104.06, tooltip="1. <b>新建</b> site", icon_html="<div class='planned-site'>★</div>") \
        .add_to(group)
    dot_marker(30.67, 104.07, radius=9, color="#000", fill=True, fill_color="#ffd400").add_to(group)
    return group


def test_the_shared_base_hands_the_component_what_st_folium_hands_it(demo_gpkg, monkeypatch):
    with GeoPackageStore(demo_gpkg) as store:
        frames = {k: store.layers.read(k) for k in ("boundaries", "greenways", "venues")}
    for lang in ("zh", "en"):
        def make() -> folium.Map:
            return build_map(frames, lang=lang, height=560, passive=("boundaries", "greenways"),  # noqa: B023
                             legend_extra=[LegendEntry("star", "#7b3294", "new sites")])

        base = render_base(make())
        sent: dict = {}
        monkeypatch.setattr(sf, "_component_func", lambda **kwargs: sent.update(kwargs))
        sf.st_folium(make(), key="planning_map_1000", height=560, use_container_width=True, feature_group_to_add=_results(),
                     returned_objects=["last_clicked"], center=[30.66, 104.06], zoom=15)
        sent.pop("on_change")
        ours = component_args(base, key="planning_map_1000", height=560, returned_objects=["last_clicked"],
                              results=_results(), center=[30.66, 104.06], zoom=15)
        assert _ids_out(ours) == _ids_out(sent)
        assert "feature_group_feature_group_0" in ours["feature_group"] and "map_div" in ours["feature_group"]
        assert ours["key"] == sent["key"]  # the same component on the page: a click reaches the same state


def test_a_session_without_results_sends_no_group(demo_gpkg):
    with GeoPackageStore(demo_gpkg) as store:
        frames = {"boundaries": store.layers.read("boundaries")}
    base = render_base(build_map(frames, lang="zh", height=400))
    args = component_args(base, key="k", height=400, returned_objects=[])
    assert args["feature_group"] is None and args["default"] == {} and args["width"] is None
