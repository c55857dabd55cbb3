"""导出 / Export: layers, coverage results, surfaces, print maps, an offline HTML map, the report."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from exports.files import write_surface, write_tables, write_vectors
from exports.print_map import print_map
from exports.report import district_report, write_report_pdf, write_report_xlsx
from geo.errors import OneMapError
from geo.gaps import gap_areas
from i18n import label, t
from layers.catalogue import CATALOGUE
from layers.limits import upload_workspace
from ui import show, state
from ui.analysis import layer_versions, run_coverage
from ui.store_access import get_store, read_layer_cached
from webmap.offline import write_offline_html

lang = state.lang()
store = get_store()
st.title(t("app_title", lang) + " · " + t("page_export", lang))
versions = {name: v for name, kind, v in layer_versions(store) if kind == "vector"}

KINDS = {
    "layers": (("图层", "Layers"), ["gpkg", "geojson", "zip", "csv", "xlsx"]),
    "coverage": (("覆盖分析结果（网格、缺口、汇总）", "Coverage results (cells, gaps, summary)"),
                 ["gpkg", "xlsx", "csv"]),
    "surface": (("栅格面（距离、覆盖、人口）", "Surfaces (distance, covered, population)"), ["tif"]),
    "print": (("打印地图", "Print map"), ["png", "pdf"]),
    "html": (("离线网页地图", "Offline HTML map"), ["html"]),
    "report": (("区域报告", "District report"), ["xlsx", "pdf"]),
}
kind = st.radio(t("export_what", lang), list(KINDS), format_func=lambda k: KINDS[k][0][lang != "zh"],
                horizontal=True, key="export_kind")
fmt = st.selectbox(t("format", lang), KINDS[kind][1], key="export_format")
chosen = st.multiselect(t("layers", lang), sorted(versions), default=[n for n in ("venues",) if n in versions],
                        format_func=lambda n: label(CATALOGUE[n].label_zh, CATALOGUE[n].label_en, lang),
                        key="export_layers") if kind in ("layers", "print", "html") else []
surface_kind = st.selectbox("surface", ["covered", "distance", "population"], key="export_surface") \
    if kind == "surface" else None
title = st.text_input("title", value=t("app_title", lang), key="export_title") if kind in ("print", "html", "report") \
    else ""


def read(name: str) -> gpd.GeoDataFrame:
    """A stored layer at its current version (cached)."""
    return read_layer_cached(store, store.description, name, versions[name])


if st.button(t("prepare", lang), type="primary", key="export_make"):
    try:
        with st.spinner("…"), upload_workspace(prefix="export-") as folder:
            out = folder / f"onemap_{kind}.{fmt}"
            if kind == "layers":
                frames = {n: read(n) for n in chosen}
                (write_tables if fmt in ("csv", "xlsx") else write_vectors)(frames, out)
            else:
                result = run_coverage(store, method="network", thresholds=(300.0, 500.0, 1000.0), slot=None) \
                    if kind in ("coverage", "surface", "report") else None
                if kind == "coverage":
                    if fmt == "gpkg":
                        cells = result.cells()
                        write_vectors({"coverage_cells": gpd.GeoDataFrame(
                            cells, geometry=gpd.points_from_xy(cells["x"], cells["y"]), crs=result.demand.crs),
                            "gaps_venues_500m": gap_areas(result, "venues", 500)}, out)
                    else:
                        write_tables({"summary": result.summary()} if fmt == "csv" else
                                     {"summary": result.summary(), "cells": result.cells()}, out)
                elif kind == "surface":
                    write_surface(result, out, surface_kind, layer="venues", threshold=500)
                elif kind == "print":
                    frames = {n: read(n) for n in chosen}
                    print_map(frames, out, title=title, source=t("app_title", lang), dpi=150)
                elif kind == "html":
                    write_offline_html({n: read(n) for n in chosen}, out, title=title, lang=lang)
                else:
                    report = district_report(result, read("boundaries"), venues=read("venues"),
                                             school_facilities=read("school_facilities")
                                             if "school_facilities" in versions else None, title=title)
                    (write_report_pdf if fmt == "pdf" else write_report_xlsx)(report, out)
            content = out.read_bytes()
        st.download_button(t("download", lang), content, file_name=out.name, key="export_download")
        show.success(f"{out.name}: {len(content) / 1024:,.0f} KB")
    except OneMapError as exc:
        show.error(str(exc))
