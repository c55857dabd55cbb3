"""导出 / Export: layers, coverage results, surfaces, print maps, an offline HTML map, the report, a need
group's protected table, the monthly or quarterly report."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from exports.files import coverage_tables, share_cells, write_layer_tables, write_surface, write_tables, write_vectors
from exports.need_files import write_need
from exports.period_report import period_report, write_period_pdf, write_period_xlsx
from exports.print_map import PAPER_MM, print_map
from exports.report import district_report, write_report_pdf, write_report_xlsx
from geo.definitions import LIFE_CIRCLES
from geo.disclosure import ESTIMATE_BASE
from geo.errors import AnalysisError, OneMapError
from geo.gaps import defined_gaps
from geo.inputs import FACILITY_LAYERS
from geo.scenarios import scenario_sites
from i18n import LANGUAGES, label, t
from i18n.definitions import circle_label
from i18n.values import value_label
from layers.catalogue import CATALOGUE
from layers.health import INDICATORS, group_counts, stored_need
from layers.limits import upload_workspace
from ui import show, state
from ui.analysis import get_engine, layer_versions, run_coverage
from ui.need import matched_need_table
from ui.period_choice import period_widgets
from ui.store_access import get_store, read_layer_cached
from webmap.offline import write_offline_html

lang = state.lang()
store = get_store()
st.title(t("page_export", lang))
versions = {name: v for name, kind, v in layer_versions(store) if kind == "vector"}
layer_name = lambda n: label(CATALOGUE[n].label_zh, CATALOGUE[n].label_en, lang)  # noqa: E731

KINDS = {"layers": ["gpkg", "geojson", "zip", "csv", "xlsx"], "coverage": ["gpkg", "xlsx", "csv"], "surface": ["tif"],
         "print": ["pdf", "png"], "html": ["html"], "report": ["pdf", "xlsx"],
         "need": ["xlsx", "csv", "gpkg", "geojson", "zip"], "period": ["pdf", "xlsx"]}
FORMATS = {"gpkg": "GeoPackage (.gpkg)", "geojson": "GeoJSON (.geojson)", "zip": "Shapefile (.zip)",
           "csv": "CSV (.csv)", "xlsx": "Excel (.xlsx)", "tif": "GeoTIFF (.tif)", "pdf": "PDF (.pdf)",
           "png": "PNG (.png)", "html": "HTML (.html)"}
CIRCLES = {f"circle_{c.minutes}": c.metres for c in LIFE_CIRCLES}
kind = st.radio(t("export_what", lang), list(KINDS), format_func=lambda k: t(f"export_{k}", lang),
                horizontal=True, key="export_kind")
c1, c2 = st.columns(2)
fmt = c1.selectbox(t("format", lang), KINDS[kind], key="export_format", format_func=FORMATS.get)
# Each document in the language its reader asks for, the page's by default.
doc_lang = c1.radio(t("doc_lang", lang), list(LANGUAGES), index=list(LANGUAGES).index(lang), horizontal=True,
                    format_func=LANGUAGES.get, key="export_doc_lang") if kind != "surface" else lang
projected = c1.checkbox(t("doc_projected", lang), key="export_projected") \
    if kind == "layers" and fmt in ("csv", "xlsx") else False
chosen = c2.multiselect(t("layers", lang), sorted(versions), default=[n for n in ("venues",) if n in versions],
                        format_func=layer_name, key="export_layers",
                        placeholder=t("choose_layers", lang)) if kind in ("layers", "print", "html") else []
surface_kind = c2.selectbox(t("surface_kind", lang), ["covered", "distance", "population"], key="export_surface",
                            format_func=lambda k: t(f"surface_{k}", lang)) if kind == "surface" else None
health = store.records.read("health_indicators")
need_group = c2.selectbox(t("need_group", lang), [c for c in INDICATORS if c in set(health["indicator"])],
                          key="export_need_group", format_func=lambda c: value_label("group", c, lang)) \
    if kind == "need" else None
if kind == "need":
    st.caption(t("export_need_help", lang, base=ESTIMATE_BASE))
period_choice = period_widgets(c2, lang) if kind == "period" else None
title = c1.text_input(t("map_title", lang), value=t("app_title", lang), key="export_title") \
    if kind in ("print", "html", "report") else ""
if title in (t("app_title", "zh"), t("app_title", "en")):  # the untouched default title follows the document
    title = t("app_title", doc_lang)
analysis: dict = {}
if kind in ("print", "surface", "coverage"):
    a1, a2 = st.columns(2)
    analysis["layer"] = a1.selectbox(t("facility_layers", lang), [k for k in FACILITY_LAYERS if k in versions],
                                     format_func=layer_name, key="export_analysis_layer")
    analysis["threshold"] = CIRCLES[a2.radio(t("life_circle", lang), list(CIRCLES), index=1, horizontal=True,
                                             format_func=lambda k: circle_label(CIRCLES[k], lang),
                                             key="export_circle")]
if kind == "print":
    st.caption(t("print_analysis", lang))
    p1, p2, p3, p4 = st.columns(4)
    analysis["coverage"] = p1.checkbox(t("print_coverage", lang), key="export_print_coverage")
    analysis["gaps"] = p2.number_input(t("print_gaps", lang), min_value=0, max_value=50, value=0,
                                       key="export_print_gaps", help=t("print_gaps_help", lang))
    saved = list(store.scenarios.list()["name"])
    analysis["scenario"] = p3.selectbox(t("print_scenario", lang), [""] + saved, key="export_print_scenario",
                                        format_func=lambda n: n or t("none", lang))
    analysis["paper"] = p4.selectbox(t("paper", lang), list(PAPER_MM), key="export_paper")


def read(name: str) -> gpd.GeoDataFrame:
    """A stored layer at its current version (cached)."""
    return read_layer_cached(store, store.description, name, versions[name])


def coverage():
    """The coverage of the stored layers at the life circles (computed once per layer versions)."""
    return run_coverage(store, method="network", thresholds=tuple(CIRCLES.values()), slot=None)


def print_frames() -> dict[str, gpd.GeoDataFrame]:
    """The chosen layers and the analysis drawn over them."""
    frames = {n: read(n) for n in chosen}
    if analysis.get("coverage") or analysis.get("gaps"):
        result = coverage()
        if analysis["coverage"]:
            frames["coverage"] = share_cells(result, analysis["layer"], analysis["threshold"])
        if analysis["gaps"]:
            frames["gaps"] = defined_gaps(result, analysis["layer"], analysis["threshold"],
                                          read("boundaries") if "boundaries" in versions else None
                                          ).head(int(analysis["gaps"]))
    if analysis.get("scenario"):
        frames["new_sites"] = scenario_sites(store.scenarios.load(analysis["scenario"]))
    return frames


if st.button(t("prepare", lang), type="primary", key="export_make"):
    try:
        with st.spinner(t("computing", lang)), upload_workspace(prefix="export-") as folder:
            out = folder / f"onemap_{kind}.{fmt}"
            if kind == "layers":
                frames = {n: read(n) for n in chosen}
                if fmt in ("csv", "xlsx"):
                    write_layer_tables(frames, out, doc_lang, projected=projected)
                else:
                    write_vectors(frames, out)
            elif kind == "coverage":
                result = coverage()
                if fmt == "gpkg":
                    cells = result.cells()
                    write_vectors({"coverage_cells": gpd.GeoDataFrame(
                        cells, geometry=gpd.points_from_xy(cells["x"], cells["y"]), crs=result.demand.crs),
                        f"gaps_{analysis['layer']}_{analysis['threshold']:g}m": defined_gaps(
                            result, analysis["layer"], analysis["threshold"],
                            read("boundaries") if "boundaries" in versions else None)}, out)
                else:
                    write_tables(coverage_tables(result, analysis["layer"], analysis["threshold"],
                                                 read("boundaries") if "boundaries" in versions else None, doc_lang,
                                                 one=fmt == "csv"), out)
            elif kind == "surface":
                write_surface(coverage(), out, surface_kind, layer=analysis["layer"], threshold=analysis["threshold"])
            elif kind == "print":
                bounds = read("boundaries") if "boundaries" in versions and "boundaries" in chosen else None
                print_map(print_frames(), out, title=title, paper=analysis["paper"], dpi=150, lang=doc_lang,
                          unit_labels=bounds[bounds["level"] == "street"] if bounds is not None else None)
            elif kind == "html":
                write_offline_html({n: read(n) for n in chosen}, out, title=title, lang=doc_lang)
            elif kind == "period":
                made = period_report(store, period_choice.period, department=period_choice.department,
                                     as_of=period_choice.as_of, lang=doc_lang)
                (write_period_pdf if fmt == "pdf" else write_period_xlsx)(made, out)
            elif kind == "need":
                if need_group is None or "boundaries" not in versions:
                    raise AnalysisError.coded("need.nothing_to_export")
                counts, period = group_counts(health, need_group)
                write_need(matched_need_table(store, coverage(), read("boundaries"), need_group, counts, period),
                           out, doc_lang)
            else:
                need = stored_need(health)
                report = district_report(coverage(), read("boundaries"), venues=read("venues"), lang=doc_lang,
                                         school_facilities=read("school_facilities")
                                         if "school_facilities" in versions else None, title=title,
                                         need=need, engine=get_engine(store),
                                         need_layers={n: read(n) for n in ("greenways", "health_stations")
                                                      if n in versions})
                (write_report_pdf if fmt == "pdf" else write_report_xlsx)(report, out)
            content = out.read_bytes()
        st.download_button(t("download", lang), content, file_name=out.name, key="export_download")
        show.success(t("file_ready", lang, file=out.name, kb=f"{len(content) / 1024:,.0f}"))
    except OneMapError as exc:
        show.failure(exc, lang)
