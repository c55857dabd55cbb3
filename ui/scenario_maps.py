"""方案地图对照 / Scenarios map against map: two saved scenarios side by side on maps that move together, each
with the coverage after its new sites, and each downloadable as a PNG at print resolution."""

from __future__ import annotations

import hashlib
import json
import time

import geopandas as gpd
import streamlit as st

from exports.files import share_cells
from geo.scenarios import scenario_sites
from i18n import t
from i18n.values import site_name
from ui import show
from ui.analysis import get_whatif, layer_versions
from ui.auth import active_account
from ui.map_png import png_button, print_png, street_labels, titled
from ui.store_access import read_layer_cached
from webmap.folium_map import build_map, coverage_image, coverage_overlay, labelled_marker
from webmap.legend import LegendEntry
from webmap.publish import is_published, map_key, publish, signed_map_url
from webmap.view_sync import ViewSync

PAIR_MAP_HEIGHT = 480
SITE_ICON = "<div class='scenario-site' style='font-size:20px;color:#7b3294'>★</div>"
MAP_LAYERS = ("boundaries", "greenways", "venues")


@st.cache_resource(show_spinner=False, max_entries=8)
def _after(_store, key: tuple, payload: str):
    """The coverage run with a scenario's sites added (one per store, layer versions and scenario)."""
    scenario = json.loads(payload)
    inputs = scenario["inputs"]
    sites = scenario_sites(scenario)
    whatif = get_whatif(_store, cutoff=float(inputs["threshold_m"]))
    return whatif.evaluate(add=sites[["geometry"]], add_layer=inputs["layer"]).result if len(sites) else whatif.base


def _frames(store, versions: dict) -> dict[str, gpd.GeoDataFrame]:
    return {k: read_layer_cached(store, store.description, k, versions[k]) for k in MAP_LAYERS if k in versions}


def _scenario_map(store, scenario: dict, result, versions: dict, lang: str, basemap, gcj02: bool):
    inputs = scenario["inputs"]
    threshold, layer = float(inputs["threshold_m"]), inputs["layer"]
    grid = result.demand.grid
    overlay = coverage_overlay(coverage_image(result.demand.share_on_grid(result.covered(layer, threshold)),
                                              grid.transform, grid.crs), lang, threshold_m=threshold)
    sites = scenario_sites(scenario)
    markers = [labelled_marker(p.y, p.x, tooltip=f"{k}. {site_name(n or None, kind, '', lang)}", icon_html=SITE_ICON)
               for k, p, n, kind in zip(sites["rank"], sites.geometry, sites["name"], sites["site_kind"])]
    m = build_map(_frames(store, versions), lang=lang, overlays=[overlay], on_top=markers, height="100%",
                  legend_extra=[LegendEntry("star", "#7b3294", t("legend_new_sites", lang))], basemap=basemap,
                  gcj02=gcj02, passive=("boundaries", "greenways"))
    ViewSync("scenarios").add_to(m)
    return m


def scenario_maps(store, names: list[str], *, versions: dict, lang: str, basemap, gcj02: bool) -> None:
    """The first two of ``names`` (saved scenarios) on two maps that move together."""
    st.subheader(t("scenario_maps", lang))
    st.caption(t("scenario_maps_help", lang))
    account = active_account()
    have = layer_versions(store)
    for col, name in zip(st.columns(2), names[:2]):
        scenario = store.scenarios.load(name)
        payload = json.dumps(scenario, sort_keys=True, ensure_ascii=False, default=str)
        result = _after(store, (store.description, have), payload)
        key = map_key("scenario", store.description, have, payload, lang,
                      basemap.tiles if basemap is not None else None, gcj02)
        if not is_published(key):
            publish(_scenario_map(store, scenario, result, versions, lang, basemap, gcj02), key)
        inputs = scenario["inputs"]
        with col:
            show.caption(name)
            st.iframe(signed_map_url(key, None if account.single_user else account.username,
                                     now=time.time() // 3600 * 3600), height=PAIR_MAP_HEIGHT)
            threshold, layer = float(inputs["threshold_m"]), inputs["layer"]
            printed = {**_frames(store, versions), "new_sites": scenario_sites(scenario)}
            png_button(lambda printed=printed, result=result, threshold=threshold, layer=layer, name=name:
                       print_png({**printed, "coverage": share_cells(result, layer, threshold)},
                                 title=titled(t("scenario", lang), name, lang), lang=lang,
                                 unit_labels=street_labels(printed.get("boundaries"))),
                       lang=lang, key=f"scenario_png_{name}", file_name=f"scenario_{_file_part(name)}.png")


def _file_part(name: str) -> str:
    """A scenario's name as part of a file name (letters, digits, CJK; the rest as ``_``)."""
    kept = "".join(c if c.isalnum() else "_" for c in name)[:40].strip("_")
    return kept or hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


__all__ = ["scenario_maps"]
