"""The one map's analyses as OGC API – Processes on the data exchange server (pygeoapi process plugins): another
department's system asks "residents beyond 500 m of a venue, per street" and gets the app's numbers.

- ``coverage``: a facility layer, walking distances, a unit level and an optional time slot →
  residents, covered, uncovered and the rate per unit and distance (the figures of
  :func:`geo.units.coverage_by_unit`), the city summary, and the gaps at the longest distance
  as GeoJSON;
- ``nearby``: the open fitness resources within a walk of a health station or a point;
- ``planning``: MCLP, LSCP, p-median or capacitated siting → the chosen sites and what they add.

Each runs synchronously (the default) or as a job (``Prefer: respond-async``, status at
``/jobs/{id}``). The store is read through the server's own store (on PostGIS the viewer
role); the engine (network, demand, facilities) is prepared once per stored layer versions.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus

import numpy as np
import pandas as pd
import shapely
from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

from geo.coverage import ANY_LAYER
from geo.errors import OneMapError
from geo.inputs import FACILITY_LAYERS
from i18n.definitions import labelled_summary

log = logging.getLogger(__name__)
_lock = threading.Lock()
_engines: dict[tuple, object] = {}
_stores: dict[tuple, object] = {}
LEVELS = ("district", "street", "community")


class BadInput(ProcessorExecuteError):
    """An input the process cannot take: 400, naming the input and what would be accepted."""

    http_status_code = HTTPStatus.BAD_REQUEST
    ogc_exception_code = "InvalidParameterValue"


#: What marks a run that failed because the store could not be reached (the server answers it 503).
UNAVAILABLE = "StoreUnavailable"
#: The most distances one coverage request may ask for, and the range of each (metres).
MAX_THRESHOLDS = 5
THRESHOLD_RANGE = (50.0, 5000.0)


class Unavailable(ProcessorExecuteError):
    """The store could not be reached during the run: try again."""

    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE
    ogc_exception_code = UNAVAILABLE


def guarded(execute):
    """A processor's ``execute`` whose store outages are raised as :class:`Unavailable` (marked for a 503)."""
    import functools

    from layers.errors import is_outage

    @functools.wraps(execute)
    def run(self, data, outputs=None):
        if not isinstance(data, dict):
            raise BadInput(user_msg="inputs must be a JSON object of named inputs")
        try:
            return execute(self, data, outputs)
        except ProcessorExecuteError:
            raise
        except Exception as exc:
            if is_outage(exc):
                raise Unavailable(user_msg=f"{UNAVAILABLE}: the data store cannot be reached just now; "
                                           "try again in a few seconds") from None
            raise

    return run


def _open(definition: dict):
    """The store named in the processor's definition (as the role it names), opened once per server."""
    from layers.stores import open_store

    key = (definition["store"], definition.get("schema"), definition.get("role"))
    with _lock:
        if key not in _stores:
            store = open_store(definition["store"], schema=definition.get("schema"))
            _stores[key] = store.as_role(definition["role"]) if definition.get("role") else store
        return _stores[key]


def engine_for(definition: dict, method: str = "network"):
    """The coverage engine over the stored layers (prepared once per store, layer versions and method), with
    the snapshot of the layers it was made from."""
    from geo.inputs import engine_from_readers
    from layers.stores.snapshot import current_snapshot

    snap = current_snapshot(_open(definition))
    key = (definition["store"], tuple(sorted(snap.versions.items())), method)
    with _lock:
        if key not in _engines:
            _engines.clear()  # one engine at a time: the stored layers changed, the old one is stale
            _engines[key] = (engine_from_readers(snap.vector, snap.raster, method=method), snap)
        return _engines[key]


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", force_ascii=False, date_format="iso"))


def _input(data: dict, name: str, default=None, *, kind=None, choices=None):
    value = data.get(name, default)
    if value is None:
        return None
    shown = repr(value)[:60]
    if isinstance(value, (dict, list)) or (isinstance(value, str) and len(value) > 200):
        raise BadInput(user_msg=f"input {name}: {shown} is not a single value of at most 200 characters")
    try:
        value = kind(value) if kind else value
    except (TypeError, ValueError, OverflowError):
        raise BadInput(user_msg=f"input {name}: {shown} is not a {kind.__name__}") from None
    if choices is not None and value not in choices:
        raise BadInput(user_msg=f"input {name}: {shown} is not one of {', '.join(map(str, choices))}")
    return value


def _slot(text: str | None):
    from geo.facilities import TimeSlot

    if not text:
        return None
    if not isinstance(text, str) or len(text) > 40:
        raise BadInput(user_msg="input slot: a day and a time such as 'Sat 09:00'")
    try:
        return TimeSlot.parse(text)
    except OneMapError as exc:
        raise BadInput(user_msg=f"input slot: {exc}") from None


def _meta(pid: str, zh: str, en: str, description: str, inputs: dict, outputs: dict, example: dict) -> dict:
    return {"version": "1.0.0", "id": pid, "title": {"zh": zh, "en": en}, "description": {"en": description},
            "jobControlOptions": ["sync-execute", "async-execute"], "keywords": ["健身一张图", "fitness"],
            "links": [], "inputs": inputs, "outputs": outputs, "example": {"inputs": example}}


def _in(title: str, schema: dict, required: bool = False) -> dict:
    return {"title": title, "description": title, "schema": schema, "minOccurs": 1 if required else 0,
            "maxOccurs": 1}


COVERAGE = _meta(
    "coverage", "覆盖分析", "Coverage of residents",
    "Residents within a walk of a facility layer, per unit (district, street or community) and distance, with "
    "the city summary and the gaps at the longest distance (GeoJSON).",
    {"layer": _in("facility layer ('any': every facility layer)",
                  {"type": "string", "enum": [*FACILITY_LAYERS, ANY_LAYER]}, True),
     "thresholds": _in("walking distances (m)", {"type": "array", "minItems": 1, "maxItems": MAX_THRESHOLDS,
                                                 "items": {"type": "number", "minimum": THRESHOLD_RANGE[0],
                                                           "maximum": THRESHOLD_RANGE[1]},
                                                 "default": [500]}),
     "level": _in("unit level", {"type": "string", "enum": list(LEVELS), "default": "street"}),
     "slot": _in("only facilities open then, e.g. 'Sat 09:00'", {"type": "string"}),
     "method": _in("distance", {"type": "string", "enum": ["network", "straight_line"], "default": "network"})},
    {"units": {"title": "per unit and distance", "schema": {"type": "array"}},
     "summary": {"title": "the city", "schema": {"type": "array"}},
     "gaps": {"title": "gaps at the longest distance", "schema": {"type": "object",
                                                                  "contentMediaType": "application/geo+json"}}},
    {"layer": "venues", "thresholds": [500], "level": "street"})


class CoverageProcessor(BaseProcessor):
    """The coverage analysis as a process."""

    def __init__(self, processor_def: dict) -> None:
        super().__init__(processor_def, COVERAGE)
        self.definition = processor_def

    @guarded
    def execute(self, data: dict, outputs=None):
        """Run the coverage (see the module docstring)."""
        from geo.gaps import defined_gaps
        from geo.units import assign_units, coverage_by_unit

        layer = _input(data, "layer", kind=str, choices=(*FACILITY_LAYERS, ANY_LAYER))
        if layer is None:
            raise BadInput(user_msg=f"input layer is required: one of {', '.join(FACILITY_LAYERS)}, {ANY_LAYER}")
        raw = data.get("thresholds", [500])
        given = raw if isinstance(raw, list) else [raw]
        low, high = THRESHOLD_RANGE
        if not 1 <= len(given) <= MAX_THRESHOLDS:
            raise BadInput(user_msg=f"input thresholds: {len(given)} distances; give 1 to {MAX_THRESHOLDS} "
                                    f"(the life circles are 300, 500 and 1000 m)")
        try:
            thresholds = sorted({float(v) for v in given})
        except (TypeError, ValueError):
            raise BadInput(user_msg="input thresholds: not a list of metres") from None
        if any(not np.isfinite(v) or not low <= v <= high for v in thresholds):
            raise BadInput(user_msg=f"input thresholds: give 1 to {MAX_THRESHOLDS} distances from {low:g} to "
                                    f"{high:g} m")
        level = _input(data, "level", "street", kind=str, choices=LEVELS)
        method = _input(data, "method", "network", kind=str, choices=("network", "straight_line"))
        engine, snap = engine_for(self.definition, method)
        if layer != ANY_LAYER and layer not in engine.facilities.layers:
            raise BadInput(user_msg=f"input layer: {layer} is not stored")
        boundaries = snap.vector("boundaries")
        if boundaries is None or boundaries.empty:
            raise BadInput(user_msg="no boundaries are stored; coverage per unit needs them")
        try:
            result = engine.run(thresholds, slot=_slot(data.get("slot")))
            units = assign_units(engine.demand, boundaries, level=level)
            table = coverage_by_unit(result, units, layer=layer)
            gaps = defined_gaps(result, layer, thresholds[-1], boundaries).to_crs(4326)
        except OneMapError as exc:
            raise BadInput(user_msg=str(exc)) from None
        summary = labelled_summary(result.summary(), "zh").rename(columns={"figure": "label_zh"})
        summary.insert(1, "label_en", labelled_summary(result.summary(), "en")["figure"].to_numpy())
        summary = summary[summary["layer"] == layer]
        gaps_json = json.loads(gaps.to_json(drop_id=True))
        return "application/json", {"units": _records(table), "summary": _records(summary), "gaps": gaps_json}


NEARBY = _meta(
    "nearby", "就近健身资源", "Open fitness resources nearby",
    "The venues, school facilities and greenways open within a walk of a health station or a point.",
    {"station": _in("health station feature_id", {"type": "string"}),
     "lon": _in("longitude (WGS 84)", {"type": "number"}), "lat": _in("latitude (WGS 84)", {"type": "number"}),
     "minutes": _in("walk in minutes", {"type": "number", "default": 15}),
     "slot": _in("open then, e.g. 'Sat 09:00'", {"type": "string"})},
    {"resources": {"title": "ranked by walking distance", "schema": {"type": "array"}}},
    {"station": "health-001", "minutes": 15})


class NearbyProcessor(BaseProcessor):
    """The nearby finder as a process."""

    def __init__(self, processor_def: dict) -> None:
        super().__init__(processor_def, NEARBY)
        self.definition = processor_def

    @guarded
    def execute(self, data: dict, outputs=None):
        """Find what is open nearby (see the module docstring)."""
        from geo.nearby import NearbyFinder

        minutes = _input(data, "minutes", 15.0, kind=float)
        if not np.isfinite(minutes) or not 0 < minutes <= 60:
            raise BadInput(user_msg=f"input minutes: {minutes:g}; give 1 to 60")
        engine, snap = engine_for(self.definition)
        layers = {k: snap.vector(k) for k in ("venues", "school_facilities", "greenways") if snap.vector(k) is not None}
        finder = NearbyFinder(engine, layers)
        try:
            if data.get("station"):
                origin = finder.origin_of_station(_input(data, "station", kind=str))
            elif data.get("lon") is not None and data.get("lat") is not None:
                origin = finder.origin_at(_input(data, "lon", kind=float), _input(data, "lat", kind=float))
            else:
                raise BadInput(user_msg="give a station, or lon and lat")
            result = finder.query(origin, minutes=minutes, slot=_slot(data.get("slot")))
        except OneMapError as exc:
            raise BadInput(user_msg=str(exc)) from None
        table = result.table.drop(columns=[c for c in result.table.columns if c == "geometry"])
        return "application/json", {"resources": _records(table)}


PLANNING = _meta(
    "planning", "新设施选址", "Siting new facilities",
    "MCLP, LSCP, p-median or capacitated covering over the candidate sites (uploaded and generated): the "
    "chosen sites and the residents they add within the walk.",
    {"problem": _in("problem", {"type": "string", "enum": ["mclp", "lscp", "pmedian", "capacitated"],
                                "default": "mclp"}),
     "p": _in("number of sites", {"type": "integer", "minimum": 1, "maximum": 50, "default": 5}),
     "target": _in("share to cover (lscp)", {"type": "number", "default": 0.95}),
     "cutoff": _in("walk that counts as covered (m)", {"type": "number", "default": 1000}),
     "layer": _in("layer the new sites join", {"type": "string", "enum": list(FACILITY_LAYERS),
                                               "default": "venues"})},
    {"sites": {"title": "the chosen sites", "schema": {"type": "object", "contentMediaType": "application/geo+json"}},
     "covered_before": {"title": "residents covered now", "schema": {"type": "number"}},
     "covered_after": {"title": "residents covered with the sites", "schema": {"type": "number"}}},
    {"problem": "mclp", "p": 5, "cutoff": 1000})


class PlanningProcessor(BaseProcessor):
    """A planning run as a process."""

    def __init__(self, processor_def: dict) -> None:
        super().__init__(processor_def, PLANNING)
        self.definition = processor_def

    @guarded
    def execute(self, data: dict, outputs=None):
        """Choose sites (see the module docstring)."""
        from geo.candidates import candidates_for, planning_problem
        from geo.planning import coverage_change, solve

        kind = _input(data, "problem", "mclp", kind=str, choices=("mclp", "lscp", "pmedian", "capacitated"))
        p = _input(data, "p", 5, kind=int)
        if not 1 <= p <= 50:
            raise BadInput(user_msg=f"input p: {p}; give 1 to 50 sites")
        target = _input(data, "target", 0.95, kind=float)
        if not 0 < target <= 1:
            raise BadInput(user_msg=f"input target: {target:g}; give a share above 0 and at most 1")
        cutoff = _input(data, "cutoff", 1000.0, kind=float)
        if not np.isfinite(cutoff) or not 100 <= cutoff <= 5000:
            raise BadInput(user_msg=f"input cutoff: {cutoff:g}; give 100 to 5000 m")
        layer = _input(data, "layer", "venues", kind=str, choices=FACILITY_LAYERS)
        engine, snap = engine_for(self.definition)
        try:
            candidates = candidates_for(engine, snap.vector, layer=layer, cutoff=cutoff)
            problem, _notes = planning_problem(engine, candidates, cutoff=cutoff, layers=[layer])
            plan = solve(problem, kind, p=p, target=target, method="heuristic")
        except OneMapError as exc:
            raise BadInput(user_msg=str(exc)) from None
        chosen = candidates.iloc[plan.sites].to_crs(4326)
        change = coverage_change(problem, plan.sites)
        sites = json.loads(chosen.to_json(drop_id=True))
        for feature in sites["features"]:  # coordinates to 1e-7 degree (1 cm) are plenty
            feature["geometry"] = json.loads(shapely.to_geojson(shapely.set_precision(
                shapely.geometry.shape(feature["geometry"]), 1e-7)))
        return "application/json", {"sites": sites, "covered_before": float(change.before),
                                    "covered_after": float(change.after)}


#: Process id → its description (inputs, outputs), as the OpenAPI document states them.
DESCRIPTIONS = {"coverage": COVERAGE, "nearby": NEARBY, "planning": PLANNING}
#: Process id → the processor class's dotted name (what pygeoapi's configuration names).
PROCESSES = {"coverage": "services.processes.CoverageProcessor", "nearby": "services.processes.NearbyProcessor",
             "planning": "services.processes.PlanningProcessor"}

__all__ = ["PROCESSES", "DESCRIPTIONS", "CoverageProcessor", "NearbyProcessor", "PlanningProcessor", "engine_for"]
