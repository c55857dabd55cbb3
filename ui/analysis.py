"""The analysis engines the pages share, built once per set of stored layer versions.

Snapping a city's population and facilities to its network takes seconds; map events
and reruns must not repeat it.  :func:`get_engine` keeps one :class:`CoverageEngine` per
(store, layer versions) in ``st.cache_resource``, and in a signed file of the instance folder
so a restarted server does not prepare it again; results of a coverage run are cached by
their inputs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.coverage import CoverageEngine, CoverageResult
from geo.errors import AnalysisError
from geo.facilities import TimeSlot
from geo.inputs import FACILITY_LAYERS, engine_from_readers
from layers.stores import Store
from ui.store_access import read_layer_cached, read_raster_cached

log = logging.getLogger(__name__)


def layer_versions(store: Store) -> tuple[tuple[str, str, int], ...]:
    """(name, kind, version) of every stored layer: the key every cached analysis depends on."""
    return tuple(sorted((i.name, i.kind, i.layer_version) for i in store.layers.list()))


def _readers(_store: Store, store_key: str, versions: tuple):
    """``name → layer`` and ``name → raster`` readers of these stored versions (``None`` when not stored)."""
    have = {(name, kind): v for name, kind, v in versions}

    def vector(name: str) -> gpd.GeoDataFrame | None:
        v = have.get((name, "vector"))
        return None if v is None else read_layer_cached(_store, store_key, name, v)

    def raster(name: str) -> bytes | None:
        v = have.get((name, "raster"))
        return None if v is None else read_raster_cached(_store, store_key, name, v)

    return vector, raster


@st.cache_resource(show_spinner=False, max_entries=4)
def _engine(_store: Store, store_key: str, versions: tuple, method: str) -> CoverageEngine:
    """The engine of these layer versions: from its file when this server prepared it before (a restart), else
    built and written there (:mod:`geo.engine_file`)."""
    from geo.engine_file import engine_key, load_engine, prune, save_engine
    from office.instance import instance_dir, secret_for

    # the versions and when each was written: a store made again from scratch has the same numbers, not times
    stamps = tuple(sorted((i.name, i.kind, i.layer_version, str(i.changed_at)) for i in _store.layers.list()))
    folder = instance_dir() / "engines"
    path = folder / f"{engine_key(store_key, stamps, method)}.engine"
    secret = secret_for("engine-files")
    engine = load_engine(path, secret)
    if engine is not None:
        os.utime(path)  # recently used: kept when old files are pruned
        return engine
    vector, raster = _readers(_store, store_key, versions)
    engine = engine_from_readers(vector, raster, method=method)
    try:
        save_engine(engine, path, secret)
        prune(folder)
    except OSError:
        log.warning("the engine could not be kept in %s; the next restart builds it again", folder, exc_info=True)
    return engine


def get_engine(store: Store, method: str = "network") -> CoverageEngine:
    """The coverage engine of the stored layers (built on first use, then reused)."""
    return _engine(store, store.description, layer_versions(store), method)


@st.cache_resource(show_spinner=False, max_entries=32)
def _run(_engine: CoverageEngine, key: tuple, thresholds: tuple, slot_label: str | None) -> CoverageResult:
    slot = TimeSlot.parse(slot_label) if slot_label else None
    return _engine.run(list(thresholds), slot=slot)


def run_coverage(store: Store, *, method: str, thresholds: tuple[float, ...],
                 slot: TimeSlot | None) -> CoverageResult:
    """Coverage for these inputs, computed once per (layer versions, inputs)."""
    engine = get_engine(store, method)
    key = (store.description, layer_versions(store), method)
    return _run(engine, key, tuple(thresholds), slot.label() if slot else None)


@st.cache_resource(show_spinner=False, max_entries=8)
def _planning(_store: Store, store_key: str, versions: tuple, method: str, cutoff: float, layer: str,
              sources: tuple[str, ...]):
    from geo.candidates import candidates_for, planning_problem

    engine = _engine(_store, store_key, versions, method)
    have = {(name, kind): v for name, kind, v in versions}
    read = lambda name: read_layer_cached(_store, store_key, name, have[(name, "vector")]) \
        if (name, "vector") in have else None  # noqa: E731
    candidates = candidates_for(engine, read, layer=layer, cutoff=cutoff, sources=sources)
    problem, notes = planning_problem(engine, candidates, cutoff=cutoff, layers=[layer])
    return candidates, problem, notes


def get_planning(store: Store, *, cutoff: float, layer: str, sources: tuple[str, ...],
                 method: str = "network"):
    """Candidates, the planning problem and its notes for these inputs (built once)."""
    return _planning(store, store.description, layer_versions(store), method, cutoff, layer, sources)


@st.cache_resource(show_spinner=False, max_entries=8)
def _ranking(_store: Store, _problem, _candidates, store_key: str, versions: tuple, method: str, cutoff: float,
             layer: str, sources: tuple[str, ...]):
    from geo.ranking import rank_candidates, ranking_table

    have = {(name, kind): v for name, kind, v in versions}
    boundaries = read_layer_cached(_store, store_key, "boundaries", have[("boundaries", "vector")]) \
        if ("boundaries", "vector") in have else None
    return ranking_table(rank_candidates(_problem), _candidates, boundaries)


def get_ranking(store: Store, problem, candidates, *, cutoff: float, layer: str, sources: tuple[str, ...],
                method: str = "network"):
    """Every candidate of the planning problem of these inputs ranked (:func:`geo.ranking.ranking_table`),
    computed once for every session."""
    return _ranking(store, problem, candidates, store.description, layer_versions(store), method, cutoff, layer,
                    sources)


@st.cache_data(show_spinner=False, max_entries=64)
def _plan_image(_store: Store, _problem, store_key: str, versions: tuple, method: str, cutoff: float,
                sources: tuple[str, ...], sites: tuple[int, ...]) -> tuple[str, list[list[float]]]:
    from geo.planning import coverage_change
    from webmap.folium_map import coverage_image

    demand = _engine(_store, store_key, versions, method).demand
    after = coverage_change(_problem, list(sites))
    return coverage_image(demand.share_on_grid(after.covered_after), demand.grid.transform, demand.grid.crs)


def plan_coverage_image(store: Store, problem, *, cutoff: float, sources: tuple[str, ...], sites: tuple[int, ...],
                        method: str = "network") -> tuple[str, list[list[float]]]:
    """The coverage image once ``sites`` of ``problem`` (the planning problem of these inputs) are built: drawn
    once per (layer versions, inputs, sites) for every session, not on every visit."""
    return _plan_image(store, problem, store.description, layer_versions(store), method, cutoff, sources, sites)


@st.cache_resource(show_spinner=False, max_entries=8)
def _whatif(_store: Store, store_key: str, versions: tuple, method: str, cutoff: float):
    from geo.whatif import WhatIf

    return WhatIf(_engine(_store, store_key, versions, method), thresholds=[cutoff])


def get_whatif(store: Store, *, cutoff: float, method: str = "network"):
    """The what-if baseline at ``cutoff`` (its coverage run done once, not on every map click)."""
    return _whatif(store, store.description, layer_versions(store), method, cutoff)


def records_version(store: Store, kind: str) -> int:
    """The latest version of record table ``kind`` (0 when none is stored)."""
    log = store.history(kind)
    log = log[log["kind"] == "records"]
    return int(log["layer_version"].max()) if len(log) else 0


@st.cache_resource(show_spinner=False, max_entries=4)
def _finder(_store: Store, store_key: str, versions: tuple, method: str):
    from geo.nearby import NearbyFinder

    have = {(name, kind): v for name, kind, v in versions}
    layers = {k: read_layer_cached(_store, store_key, k, have[(k, "vector")])
              for k in FACILITY_LAYERS if (k, "vector") in have}
    return NearbyFinder(_engine(_store, store_key, versions, method), layers)


def get_finder(store: Store, method: str = "network"):
    """The nearby finder over the stored layers (built once per layer versions)."""
    return _finder(store, store.description, layer_versions(store), method)


#: What emergency linkage walks to: the venues (placement), the AEDs and the health stations.
EMERGENCY_LAYERS = ("venues", "aeds", "health_stations")


@st.cache_resource(show_spinner=False, max_entries=4)
def _emergency(_store: Store, store_key: str, versions: tuple):
    from geo.drive import build_drive_network
    from geo.errors import NetworkError
    from geo.nearby import NearbyFinder

    vector, raster = _readers(_store, store_key, versions)
    engine = engine_from_readers(vector, raster, facility_layers=EMERGENCY_LAYERS)
    layers = {k: f for k in (*EMERGENCY_LAYERS, "hospitals", "boundaries", "walk_network")
              if (f := vector(k)) is not None}
    roads = vector("walk_network")
    try:
        drive = build_drive_network(roads, crs=engine.facilities.crs) if roads is not None else None
    except NetworkError:
        drive = None  # no drivable road stored: ambulance times are left out, and the page says so
    return NearbyFinder(engine, layers), drive, layers


def get_emergency(store: Store):
    """(nearby finder over venues, AEDs and health stations; drive network or ``None``; those layers, the
    hospitals, boundaries and roads) of the stored layers, built once per layer versions."""
    return _emergency(store, store.description, layer_versions(store))


@st.cache_resource(show_spinner=False, max_entries=8)
def _usage(_store: Store, store_key: str, versions: tuple, usage_version: int, catchment_m: float,
           over: float, under: float):
    from geo.usage import UsageSettings, venue_usage

    have = {(name, kind): v for name, kind, v in versions}
    if ("venues", "vector") not in have:
        raise AnalysisError("No venues are stored; usage is read against the venues layer.")
    venues = read_layer_cached(_store, store_key, "venues", have[("venues", "vector")])
    return venue_usage(_engine(_store, store_key, versions, "network"), venues, _store.records.read("venue_usage"),
                       catchment_m=catchment_m, settings=UsageSettings(over=over, under=under))


def get_usage(store: Store, *, catchment_m: float, over: float, under: float):
    """Venue utilisation and catchments for the stored usage records (computed once per inputs)."""
    return _usage(store, store.description, layer_versions(store), records_version(store, "venue_usage"),
                  catchment_m, over, under)


@st.cache_resource(show_spinner=False, max_entries=8)
def _indicators(_store: Store, store_key: str, versions: tuple, survey_version: int, health_version: int,
                level: str, period: str | None):
    from geo.indicators import indicators_from
    from layers.health import configured_matching, stored_need
    from layers.stores.snapshot import Snapshot

    snap = Snapshot(_store, {(name, kind): v for name, kind, v in versions})
    need = stored_need(_store.records.read("health_indicators"))
    return indicators_from(snap, survey=_store.records.read("satisfaction"), level=level, period=period,
                           need=need, matching=configured_matching())


def get_indicators(store: Store, *, level: str, period: str | None):
    """The evaluation indicators of the stored layers (computed once per layer versions and inputs), with each
    need group's share within reach of the facilities that serve it."""
    return _indicators(store, store.description, layer_versions(store), records_version(store, "satisfaction"),
                       records_version(store, "health_indicators"), level, period)


@st.cache_resource(show_spinner=False, max_entries=4)
def _trend(_store: Store, store_key: str, versions: tuple, by: str):
    from geo.indicators import indicator_trend
    from layers.stores.snapshot import change_snapshots, quarter_ends, snapshot_as_of

    if by == "change":
        snaps = change_snapshots(_store, FACILITY_LAYERS)
    else:
        first = min(_store.history(name)["changed_at"].min() for name, _kind, _v in versions)
        snaps = [snapshot_as_of(_store, end, label=f"{end.year}Q{end.quarter}")
                 for end in quarter_ends(first, pd.Timestamp.now(tz="UTC"))]
    return indicator_trend(snaps)


def get_trend(store: Store, *, by: str = "change"):
    """City-wide indicators after each change of a facility layer (or at each quarter's end)."""
    return _trend(store, store.description, layer_versions(store), by)


@dataclass(frozen=True)
class CoverageView:
    """What the coverage page shows for one set of inputs, the same for every session that asks for them (held
    once, never changed by a page): units at the page's level, the gap pieces, the per-unit table at the
    threshold, and sports area per resident."""

    units: object | None
    gaps: gpd.GeoDataFrame | None
    table: pd.DataFrame | None
    per_capita: float | None


@st.cache_resource(show_spinner=False, max_entries=32)
def _coverage_view(_store: Store, _result: CoverageResult, key: tuple, layer: str, threshold: float,
                   level: str) -> CoverageView:
    from geo.gaps import defined_gaps
    from geo.units import assign_units, coverage_by_unit, sports_area_by_unit

    versions = {name: v for name, kind, v in key[1] if kind == "vector"}
    read = lambda name: read_layer_cached(_store, _store.description, name, versions[name]) \
        if name in versions else None  # noqa: E731
    boundaries = read("boundaries")
    units = assign_units(_result.demand, boundaries, level=level) if boundaries is not None else None
    gaps = defined_gaps(_result, layer, threshold, boundaries) if layer not in _result.no_data_layers else None
    table = per_capita = None
    if units is not None:
        table = coverage_by_unit(_result, units, layer=layer)
        table = table[table["threshold_m"] == threshold].reset_index(drop=True)
        venues = read("venues")
        if venues is not None:
            district = assign_units(_result.demand, boundaries, level="district") \
                if level != "district" and "district" in set(boundaries.get("level", [])) else units
            # The same count as the indicators: venues plus school facilities open to the public.
            area = sports_area_by_unit(district, _result.demand, venues, school_facilities=read("school_facilities"))
            per_capita = float(area["sports_area_m2"].sum() / max(area["residents"].sum(), 1))
    return CoverageView(units, gaps, table, per_capita)


def coverage_view(store: Store, result: CoverageResult, *, method: str, slot: TimeSlot | None, layer: str,
                  threshold: float, level: str) -> CoverageView:
    """The coverage page's units, gaps, per-unit table and area per resident for these inputs, computed once
    and shared by every session (treat as read-only)."""
    key = (store.description, layer_versions(store), method, slot.label() if slot else None)
    return _coverage_view(store, result, key, layer, float(threshold), level)
