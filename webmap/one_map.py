"""The one-map page's map: its key, its drawing, and publishing it ahead of the first visit.

``make demo`` runs ``python -m webmap.one_map`` before the app starts, so even the first
visitor finds the default map (every layer but the candidate sites, the population surface,
no basemap, in Chinese and in English) already published.
"""

from __future__ import annotations

import datetime as dt
import sys

import folium
import geopandas as gpd
import pandas as pd

from layers.stores import Store, open_store
from office.field_reports import open_reports_by_feature
from webmap.folium_map import LAYER_STYLES, build_map
from webmap.hash_zoom import FitFromHash
from webmap.publish import is_published, map_key, publish

#: Layers the page starts with unticked.
HIDDEN_BY_DEFAULT = frozenset({"candidate_sites"})


def one_map_key(store_key: str, versions: dict[str, int], shown: list[str], population_version: int | None,
                lang: str, basemap_tiles: str | None, gcj02: bool, reports: object = None) -> str:
    """The published map's key for these inputs (the page and the pre-publisher agree on it); ``reports`` is
    what the field reports shown depend on (:func:`reports_state` and the page's filter)."""
    return map_key(store_key, [(n, versions[n]) for n in shown], population_version, lang, basemap_tiles, gcj02,
                   reports)


def reports_state(reports: pd.DataFrame) -> tuple[int, str]:
    """What the facilities' pop-ups depend on: how many reports there are and when the last one changed."""
    return len(reports), str(reports["changed_at"].max()) if len(reports) else ""


def draw_one_map(frames: dict[str, gpd.GeoDataFrame], population_tif: bytes | None, lang: str,
                 basemap: folium.TileLayer | None = None, gcj02: bool = False, *,
                 reports: pd.DataFrame | None = None, shown_reports: pd.DataFrame | None = None,
                 now: dt.datetime | None = None) -> folium.Map:
    """The one-map: the given layers (the big ones from vector tiles), the population surface, the legend inside
    the map, the 问题反馈 button; facilities' pop-ups list their open ``reports``, and ``shown_reports`` are
    drawn as their own layer, coloured by age at ``now``."""
    from webmap.field_report_layer import ReportEntry, open_reports_text, report_layer, report_legend

    on_top, extra = [], []
    if shown_reports is not None and len(shown_reports):
        on_top.append(report_layer(shown_reports, lang, now or dt.datetime.now()))
        extra = report_legend(lang)
    notes = {}
    if reports is not None and len(reports):
        notes = {k: open_reports_text(v, lang) for k, v in open_reports_by_feature(reports).items()}
    m = build_map(frames, lang=lang, population_tif=population_tif, basemap=basemap, gcj02=gcj02, height="100%",
                  tiled=True, report_entry=ReportEntry(lang), open_reports=notes, on_top=on_top, legend_extra=extra)
    FitFromHash().add_to(m)  # a place found by the search box zooms the published map through its URL
    return m


def publish_default(store: Store, langs: tuple[str, ...] = ("zh", "en")) -> list[str]:
    """Publish the page's default map for ``store`` in each language; returns their keys."""
    infos = store.layers.list()
    versions = {i.name: i.layer_version for i in infos if i.kind == "vector" and i.name in LAYER_STYLES}
    rasters = {i.name: i.layer_version for i in infos if i.kind == "raster"}
    shown = [n for n in LAYER_STYLES if n in versions and n not in HIDDEN_BY_DEFAULT]
    pop = rasters.get("population")
    reports = store.field_reports.list()
    keys, frames, tif = [], None, None
    for lang in langs:
        key = one_map_key(store.description, versions, shown, pop, lang, None, False, (reports_state(reports), None))
        if not is_published(key):
            if frames is None:
                frames = {n: store.layers.read(n) for n in shown}
                tif = store.rasters.read("population") if pop is not None else None
            publish(draw_one_map(frames, tif, lang, reports=reports), key)
        keys.append(key)
    return keys


def main() -> int:
    """Publish the default one-map of the configured store."""
    from geo.errors import OneMapError

    try:
        with open_store() as store:
            for key in publish_default(store):
                print(f"one-map published: /maps/{key}.html")
    except OneMapError as exc:
        print(f"one-map not published ahead ({exc}); the first visit will draw it.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
