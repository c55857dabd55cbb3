"""What the operations and need sections share: the stored layers as the page reads them, and the import of a
record table (usage, survey, health deliveries) with its report and commit."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from geo.errors import OneMapError
from i18n import render_note, t
from layers.rasters import stored_residents
from layers.records import commit_records, prepare_records, unit_parents, venue_facts
from layers.stores import Store
from ui import show
from ui.analysis import layer_versions
from ui.auth import active_account, write_store
from ui.reports import show_problems
from ui.store_access import read_layer_cached
from ui.tables import show_table
from ui.uploads import saved_upload

#: The layer whose editors may import each record table (usage belongs with the venues).
RECORD_LAYER = {"venue_usage": "venues", "satisfaction": "boundaries", "health_indicators": "health_stations"}
#: The facility layers a need matching filters.
FACILITY_LAYERS = ("venues", "school_facilities", "greenways", "health_stations")


def stored_layer(store: Store, name: str) -> gpd.GeoDataFrame | None:
    """The stored vector layer ``name`` (read once per version), or ``None`` when it is not stored."""
    versions = {n: v for n, kind, v in layer_versions(store) if kind == "vector"}
    return read_layer_cached(store, store.description, name, versions[name]) if name in versions else None


def stored_layers(store: Store) -> dict[str, gpd.GeoDataFrame]:
    """The stored facility layers a matching filters (read once per version)."""
    versions = {n: v for n, kind, v in layer_versions(store) if kind == "vector"}
    return {n: read_layer_cached(store, store.description, n, versions[n]) for n in FACILITY_LAYERS if n in versions}


def record_import(store: Store, kind: str, lang: str, prompt: str) -> None:
    """Upload a usage or survey file, show its report and unknown references, commit on request."""
    upload = st.file_uploader(prompt, type=["csv", "xlsx"], key=f"records_upload_{kind}")
    if upload is None:
        return
    venues = stored_layer(store, "venues")
    bounds = stored_layer(store, "boundaries")
    try:
        with saved_upload(upload) as path:
            plan = prepare_records(path, kind, venues=venue_facts(venues),
                                   unit_codes=set(bounds["code"].astype(str)) if bounds is not None else None,
                                   residents=stored_residents(store), parents=unit_parents(bounds),
                                   stored=store.records.read(kind) if kind == "health_indicators" else None)
    except OneMapError as exc:
        show.failure(exc, lang)
        return
    said = t("records_summary", lang, file=plan.source, rows=plan.report.n_rows, valid=len(plan.valid),
             problems=len(plan.report.problems))
    (show.success if plan.report.ok else show.warning)(said)
    if not plan.report.ok:
        show_problems(plan.report, lang, key=f"records_report_{kind}")
    if len(plan.unknown):
        st.caption(t("unknown_refs", lang))
        show_table(plan.unknown, {"row": (t("row", lang), "count"), "venue_id": (t("venue_id", lang), "text"),
                                  "venue_name": (t("venue_name", lang), "text"),
                                  "unit_code": (t("unit_code", lang), "text")}, lang, key=f"records_unknown_{kind}")
    for note in plan.notes:
        show.caption(render_note(note, lang))
    c1, c2 = st.columns(2)
    account = active_account()
    try:
        if c1.button(t("commit_all", lang), key=f"records_all_{kind}", disabled=not plan.report.ok):
            account.require_write(RECORD_LAYER[kind])
            version = commit_records(write_store(account), plan, user=account.username)
            show.success(t("records_done", lang, what=t(f"records_{kind}", lang), version=version, n=len(plan.valid)))
        if c2.button(t("commit_valid", lang), key=f"records_valid_{kind}", disabled=plan.valid.empty):
            account.require_write(RECORD_LAYER[kind])
            version = commit_records(write_store(account), plan, user=account.username, keep_valid=True)
            show.success(t("records_done", lang, what=t(f"records_{kind}", lang), version=version, n=len(plan.valid)))
    except OneMapError as exc:
        show.failure(exc, lang)
