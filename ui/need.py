"""The coverage page's need section (体卫融合): a need group from the health commission's aggregates as demand,
its coverage per unit as published estimates (:mod:`geo.disclosure`), the bivariate map of need × coverage,
and the ranked list of units for outreach; the import of the aggregates."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from exports.need_files import need_frame
from exports.sheets import csv_bytes
from geo.coverage import CoverageResult
from geo.disclosure import ESTIMATE_BASE, estimate_people
from geo.facilities import TimeSlot
from geo.need import (
    BIVARIATE_COLOURS,
    level_of_codes,
    matched_coverage,
    need_weights,
)
from geo.need_tables import NeedTable, need_table
from geo.units import assign_units
from i18n import label, render_note, t
from i18n.values import slot_text, value_label
from layers.health import INDICATORS, configured_matching, group_counts, min_count
from layers.stores import Store
from ui import show, state
from ui.analysis import get_engine, layer_versions, records_version
from ui.auth import active_account
from ui.map_settings import basemap_setting
from ui.record_import import record_import, stored_layers
from ui.store_access import read_layer_cached
from ui.tables import show_table
from webmap.field_report_layer import ReportEntry
from webmap.folium_map import build_map, filled_areas
from webmap.legend import LegendEntry
from webmap.publish import is_published, map_key, publish, signed_map_url

#: The height of the need map (px).
NEED_MAP_HEIGHT = 520


def map_frame(shown: pd.DataFrame, geometry, crs, lang: str, reported: pd.Series | None = None) -> gpd.GeoDataFrame:
    """The units as the map draws them: the bivariate colour (grey where not reported) and the pop-up's texts,
    made only from the published table; a unit without a reported count reads "not reported"."""
    units = gpd.GeoDataFrame(shown.assign(geometry=geometry), geometry="geometry", crs=crs)
    known = np.ones(len(units), bool) if reported is None else reported.to_numpy()
    units["colour"] = [BIVARIATE_COLOURS.get((a, b), "#cccccc") if ok else "#bdbdbd"
                       for a, b, ok in zip(units["need_class"], units["shortfall_class"], known)]
    units["need_text"] = [_count_text(v, lang) if ok else t("need_not_reported", lang)
                          for v, ok in zip(units["need"], known)]
    units["rate_text"] = [t("need_not_reported", lang) if not ok else f"{v:.0%}" if pd.notna(v) else "—"
                          for v, ok in zip(units["rate"], known)]
    return units


def clause_text(clause, lang: str) -> str:
    """``健康驿站（运动处方）900 米内`` / ``Health stations (exercise prescription) within 900 m``."""
    name = value_label("layer", clause.layer, lang)
    kinds = ("、" if lang != "en" else ", ").join(value_label(clause.field, v, lang) if clause.field
                                                 not in ("open_to_public",) else t("open_to_public_short", lang)
                                                 for v in clause.values)
    when = slot_text(TimeSlot.parse(clause.slot), lang) if clause.slot else ""
    inner = ("，" if lang != "en" else ", ").join(x for x in (kinds, when) if x)
    return (f"{name}（{inner}）{clause.within_m:,.0f} 米内" if lang != "en" and inner else
            f"{name} {clause.within_m:,.0f} 米内" if lang != "en" else
            f"{name} ({inner.strip()}) within {clause.within_m:,.0f} m" if inner else
            f"{name} within {clause.within_m:,.0f} m")


@st.cache_resource(show_spinner=False, max_entries=16)
def _matched(_store: Store, store_key: str, versions: tuple, clauses: tuple) -> np.ndarray:
    """The cells a matching covers, searched once per (stored versions, clauses), not on every rerun."""
    return matched_coverage(get_engine(_store), stored_layers(_store), clauses)


def matched_need_table(store: Store, result: CoverageResult, boundaries: gpd.GeoDataFrame, code: str,
                       counts: dict[str, float], period: str | None) -> NeedTable:
    """The need group ``code``'s published table per unit (``counts``: unit code → people, from the stored
    aggregates of ``period``), covered by the facilities that serve it."""
    cells = _matched(store, store.description, layer_versions(store), configured_matching().get(code, ()))
    return need_table(result, boundaries, code, counts, period=period, covered_cells=cells)


def need_csv(table: NeedTable, lang: str) -> bytes:
    """The published need table as CSV (UTF-8 with BOM, for Excel)."""
    frame = need_frame(table, lang)
    return csv_bytes(pd.DataFrame(frame.drop(columns="geometry")))


@st.cache_resource(show_spinner=False, max_entries=4)
def _need_rows(_store: Store, store_key: str, version: int) -> pd.DataFrame:
    """The stored health aggregates, read once per version."""
    return _store.records.read("health_indicators")


@st.cache_resource(show_spinner=False, max_entries=32)
def _need_view(_store: Store, _result: CoverageResult, _boundaries: gpd.GeoDataFrame, key: tuple, ind: str,
               basis: str, layer: str, threshold: float) -> NeedTable:
    """The published need table for these inputs, made once for every session that asks for them."""
    counts, period = group_counts(_need_rows(_store, key[0], key[2]), ind)
    if basis == "matched":
        return matched_need_table(_store, _result, _boundaries, ind, counts, period)
    return need_table(_result, _boundaries, ind, counts, period=period, layer=layer, threshold=threshold)


def _need_map(table: NeedTable, result: CoverageResult, lang: str, basemap, gcj02: bool):
    """The bivariate map of need × coverage (drawn only when no published map matches)."""
    level = table.level
    units = map_frame(table.shown, table.assign.units["geometry"].to_numpy(), result.demand.crs, lang, table.reported)
    areas = filled_areas(units, name="need", color_column="colour", fields=["name", "need_text", "rate_text"],
                         aliases=[t(f"level_{level}", lang), t("need_people_short", lang), t("need_rate", lang)],
                         lang=lang)
    extra = [LegendEntry("fill", BIVARIATE_COLOURS[(3, 3)], t("bivariate_high_low", lang)),
             LegendEntry("fill", BIVARIATE_COLOURS[(3, 1)], t("bivariate_high_high", lang)),
             LegendEntry("fill", BIVARIATE_COLOURS[(1, 3)], t("bivariate_low_low", lang)),
             LegendEntry("fill", BIVARIATE_COLOURS[(1, 1)], t("bivariate_low_high", lang)),
             LegendEntry("fill", "#bdbdbd", t("need_not_reported_legend", lang))]
    return build_map({}, lang=lang, on_top=[areas], legend_extra=extra, height=NEED_MAP_HEIGHT, basemap=basemap,
                     gcj02=gcj02, fit=units, report_entry=ReportEntry(lang))


def need_section(store: Store, result: CoverageResult, *, layer: str, threshold: float,
                 boundaries: gpd.GeoDataFrame | None, lang: str, run: tuple) -> None:
    """The need group's coverage at ``threshold`` of ``layer`` facilities, per unit, on a bivariate map;
    ``run`` names the coverage run (method, time slot), so the table and map are shared by every session that
    asks for the same."""
    st.subheader(t("need_title", lang))
    version = records_version(store, "health_indicators")
    rows = _need_rows(store, store.description, version)
    with st.expander(t("need_upload_title", lang)):
        record_import(store, "health_indicators", lang, t("need_upload", lang, k=min_count()))
    if rows.empty or boundaries is None:
        st.info(t("no_need_data", lang))
        return
    present = [code for code in INDICATORS if code in set(rows["indicator"])]
    ind = st.selectbox(t("need_group", lang), present, key=state.NEED_GROUP,
                       format_func=lambda c: label(INDICATORS[c].group_zh, INDICATORS[c].group_en, lang))
    counts, period = group_counts(rows, ind)
    if level_of_codes(boundaries, counts) is None:
        st.info(t("no_need_units", lang))
        return
    basis = st.radio(t("need_basis", lang), ["matched", "page"], horizontal=True, key=state.NEED_BASIS,
                     format_func=lambda k: t(f"need_basis_{k}", lang))
    if basis == "matched":
        show.caption(t("need_matched_by", lang) + ("；" if lang != "en" else "; ").join(
            clause_text(c, lang) for c in configured_matching().get(ind, ())))
    key = (store.description, layer_versions(store), version, run)
    table = _need_view(store, result, boundaries, key, ind, basis, layer, float(threshold))
    shown, level, group = table.shown, table.level, table.group
    c1, c2, c3 = st.columns(3)
    c1.metric(t("need_people", lang, period=period), f"{table.need_total:,.0f}")
    c2.metric(t("need_covered_matched", lang) if basis == "matched" else t("need_covered", lang, m=f"{threshold:,.0f}"),
              f"{table.covered_total:,.0f}")
    c3.metric(t("need_rate", lang), f"{table.rate_total:.0%}" if pd.notna(table.rate_total) else "—")
    for n in group.notes:
        show.caption(render_note(n, lang))
    show.caption(t("need_privacy", lang, k=min_count(), base=ESTIMATE_BASE))
    left, right = st.columns([1, 1])
    with left:
        basemap, gcj02 = basemap_setting()
        # published once per inputs and embedded by URL, as the coverage map above
        map_id = map_key("need", key, ind, basis, layer, threshold, configured_matching().get(ind, ()), lang,
                         basemap.tiles if basemap is not None else None, gcj02)
        if not is_published(map_id):
            publish(_need_map(table, result, lang, basemap, gcj02), map_id)
        account = active_account()
        st.iframe(signed_map_url(map_id, None if account.single_user else account.username,
                                 now=time.time() // 3600 * 3600), height=NEED_MAP_HEIGHT)
    with right:
        st.caption(t("outreach_list", lang))
        ranked = shown.sort_values("outreach_rank", na_position="last")
        show_table(ranked, {"outreach_rank": ("#", "count"), "name": (t(f"level_{level}", lang), "text"),
                            "need": (t("need_people_short", lang), "count"),
                            "uncovered": (t("need_uncovered", lang), "count"),
                            "rate": (t("need_rate", lang), "bar")}, lang, key="need_table", height=480)
        st.download_button(t("need_download", lang), lambda: need_csv(table, lang),
                           file_name=f"{t('need_file', lang)}-{ind}.csv", mime="text/csv", key="need_csv",
                           on_click="ignore")


def _count_text(value: object, lang: str) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):,.0f}"


def need_planning_section(store: Store, problem, candidates: gpd.GeoDataFrame, demand, *, kind: str, p: int,
                          target: float, exact: bool, time_limit: int, lang: str) -> None:
    """The page's problem (MCLP, LSCP, p-median or capacitated covering) weighted by a need group beside the
    residents-weighted one: which sites change and how many more people in the group are within the walk
    (estimates, rounded as every surface rounds them)."""
    from geo.need import need_problem
    from geo.planning import coverage_change, solve
    from i18n.values import site_name

    st.subheader(t("need_planning_title", lang))
    versions = {name: v for name, kind, v in layer_versions(store) if kind == "vector"}
    rows = _need_rows(store, store.description, records_version(store, "health_indicators"))
    boundaries = read_layer_cached(store, store.description, "boundaries", versions["boundaries"]) \
        if "boundaries" in versions else None
    if rows.empty or boundaries is None or boundaries.empty:
        st.info(t("no_need_data", lang))
        return
    present = [code for code in INDICATORS if code in set(rows["indicator"])]
    ind = st.selectbox(t("need_group", lang), present, key=state.NEED_PLAN_GROUP,
                       format_func=lambda c: label(INDICATORS[c].group_zh, INDICATORS[c].group_en, lang))
    if not st.button(t("need_planning_go", lang, problem=t(f"problem_{kind}", lang)), key="need_plan_go"):
        return
    counts, _period = group_counts(rows, ind)
    level = level_of_codes(boundaries, counts)
    if level is None:
        st.info(t("no_need_units", lang))
        return
    group = need_weights(ind, counts, demand, assign_units(demand, boundaries, level=level))
    method = "exact" if exact else "heuristic"
    weighed = need_problem(problem, group)
    by_people = solve(problem, kind, p=p, target=target, method=method, time_limit=time_limit)
    by_need = solve(weighed, kind, p=p, target=target, method=method, time_limit=time_limit)

    def covered(sites) -> float:  # the group's people within the walk once ``sites`` are built
        return coverage_change(weighed, sites).after

    before, after = estimate_people(covered(by_people.sites)), estimate_people(covered(by_need.sites))
    c1, c2, c3 = st.columns(3)
    c1.metric(t("need_covered_by_residents_plan", lang), f"{before:,.0f}")
    c2.metric(t("need_covered_by_need_plan", lang), f"{after:,.0f}")
    c3.metric(t("need_gain", lang), f"{after - before:+,.0f}")
    ids = problem.candidate_ids
    people, need = set(by_people.site_ids(ids)), set(by_need.site_ids(ids))
    frame = candidates.set_index("candidate_id")
    changes = pd.DataFrame(
        [{"site": site_name(frame.at[c, "name"], frame.at[c, "site_kind"], c, lang),
          "change": t("need_site_added", lang)} for c in sorted(need - people)]
        + [{"site": site_name(frame.at[c, "name"], frame.at[c, "site_kind"], c, lang),
            "change": t("need_site_dropped", lang)} for c in sorted(people - need)])
    if changes.empty:
        st.caption(t("need_same_sites", lang))
    else:
        show_table(changes, {"site": (t("site_name", lang), "text"), "change": (t("need_change", lang), "text")},
                   lang, key="need_plan_changes")
    for n in group.notes:
        show.caption(render_note(n, lang))
