"""Checks of an OGC API ``/items`` query that pygeoapi lets through and OGC API – Features Core refuses: unknown
parameters, a bbox that is not finite with min ≤ max, a ``datetime`` that is not RFC 3339 — and filters too
big to parse safely (a CQL2 text or CQL2-JSON body of more than :data:`MAX_FILTER_TERMS` terms or nested
deeper than :data:`MAX_FILTER_DEPTH`) or naming a field that is not a queryable, whichever channel they
come by (the ``filter`` parameter or the request's body)."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone

#: Query parameters /items defines besides a collection's queryables.
ITEMS_PARAMETERS = frozenset({"bbox", "bbox-crs", "crs", "f", "lang", "limit", "offset", "resulttype", "datetime",
                              "sortby", "properties", "skipGeometry", "q", "filter", "filter-lang", "filter-crs"})


#: The most terms (comparisons, AND, OR, NOT) a filter may have, and its deepest nesting.
MAX_FILTER_TERMS = 64
MAX_FILTER_DEPTH = 16
#: The longest filter text, and the largest CQL2-JSON body read.
MAX_FILTER_TEXT = 4000
MAX_FILTER_BODY = 16_384
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_TERMS = re.compile(r"\b(?:AND|OR|NOT)\b|<>|<=|>=|=|<|>|\b(?:LIKE|BETWEEN|IN|IS)\b", re.I)


def text_filter_problem(text: str) -> str | None:
    """Why a CQL2 text filter is too big to parse (``None`` when it may be parsed)."""
    if len(text) > MAX_FILTER_TEXT:
        return f"filter has {len(text)} characters; at most {MAX_FILTER_TEXT} are read."
    bare = _QUOTED.sub("''", text)
    terms = len(_TERMS.findall(bare))
    depth = deepest = 0
    for ch in bare:
        depth += (ch == "(") - (ch == ")")
        deepest = max(deepest, depth)
    nots = len(re.findall(r"\bNOT\b", bare, re.I))
    if terms > MAX_FILTER_TERMS or deepest + nots > MAX_FILTER_DEPTH:
        return (f"filter has {terms} terms nested {deepest + nots} deep; at most {MAX_FILTER_TERMS} terms nested "
                f"{MAX_FILTER_DEPTH} deep are applied.")
    return None


def body_filter_problem(body: bytes, queryables: list[str]) -> str | None:
    """Why a CQL2-JSON filter sent as a request body must be refused (``None`` when it may run): too large,
    too deep, too many terms, not CQL2-JSON, or naming a field that is not a queryable."""
    from services.booking_api import json_depth

    if len(body) > MAX_FILTER_BODY:
        return f"a filter body may have at most {MAX_FILTER_BODY} bytes."
    if json_depth(body) > 2 * MAX_FILTER_DEPTH:
        return f"the filter body nests deeper than {MAX_FILTER_DEPTH} terms."
    try:
        doc = json.loads(body)
    except ValueError:
        return "the request body is not JSON; send a CQL2-JSON filter, or none."
    terms = _count_ops(doc)
    if terms > MAX_FILTER_TERMS:
        return f"the filter body has {terms} terms; at most {MAX_FILTER_TERMS} are applied."
    names = _json_properties(doc)
    unknown = names - set(queryables) - {"geometry", "id"}
    if unknown:
        return (f"filter names {', '.join(sorted(unknown))}, not a queryable of this collection "
                f"({', '.join(queryables)}).")
    return None


def _count_ops(node) -> int:
    if isinstance(node, dict):
        return ("op" in node) + sum(_count_ops(v) for v in node.values())
    if isinstance(node, list):
        return sum(_count_ops(v) for v in node)
    return 0


def _json_properties(node) -> set[str]:
    if isinstance(node, dict):
        found = {str(node["property"])} if "property" in node and len(node) == 1 else set()
        for v in node.values():
            found |= _json_properties(v)
        return found
    if isinstance(node, list):
        return set().union(*(_json_properties(v) for v in node)) if node else set()
    return set()


def items_problem(query, queryables: list[str]) -> str | None:
    """Why an ``/items`` query must be refused (``None`` when it may run)."""
    unknown = sorted(set(query.keys()) - ITEMS_PARAMETERS - set(queryables))
    if unknown:
        return (f"Unknown parameter(s) {', '.join(unknown)}; /items takes {', '.join(sorted(ITEMS_PARAMETERS))} "
                f"and the queryables ({', '.join(queryables)}).")
    if "bbox" in query:
        try:
            parse_bbox(query["bbox"], lonlat="bbox-crs" not in query or query["bbox-crs"].endswith("CRS84"))
        except ValueError as exc:
            return f"bbox {query['bbox']!r}: {exc}."
    if "filter" in query:
        too_big = text_filter_problem(query["filter"])
        if too_big:
            return too_big
        unknown = filter_attributes(query["filter"]) - set(queryables) - {"geometry", "id"}
        if unknown:
            return (f"filter names {', '.join(sorted(unknown))}, not a queryable of this collection "
                    f"({', '.join(queryables)}).")
    for key in ("sortby", "properties"):
        names = {v.strip().lstrip("+-") for v in query.get(key, "").split(",") if v.strip()}
        if names - set(queryables):
            return f"{key} names {', '.join(sorted(names - set(queryables)))}, not a queryable of this collection."
    if "datetime" in query:
        try:
            parse_datetime(query["datetime"])
        except ValueError as exc:
            return (f"datetime {query['datetime']!r}: {exc} (RFC 3339, e.g. 2026-09-01T00:00:00Z or "
                    "2026-09-01T00:00:00Z/..).")
    return None


def filter_attributes(text: str) -> set[str]:
    """The property names a CQL2 text filter uses (none when it does not parse: pygeoapi then answers 400)."""
    from pygeofilter import ast
    from pygeofilter.parsers.ecql import parse

    try:
        root = parse(text)
    except Exception:  # any parse failure: pygeoapi says "Bad CQL text"
        return set()

    def walk(node) -> set[str]:
        found = {node.name} if isinstance(node, ast.Attribute) else set()
        for child in node.get_sub_nodes() if isinstance(node, ast.Node) else ():
            found |= walk(child)
        return found

    return walk(root)


def parse_bbox(text: str, *, lonlat: bool = True) -> tuple[float, ...]:
    """Four (or six) finite numbers with min ≤ max; in longitude/latitude, within ±180/±90 (``ValueError``)."""
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise ValueError("write four numbers: minx,miny,maxx,maxy")
    values = tuple(float(v) for v in parts)
    half = len(values) // 2
    if not all(math.isfinite(v) for v in values) or any(values[i] > values[i + half] for i in range(half)):
        raise ValueError("each number must be finite and each minimum at most its maximum")
    if lonlat and not (all(-180 <= values[i] <= 180 for i in (0, half))
                       and all(-90 <= values[i] <= 90 for i in (1, half + 1))):
        raise ValueError("longitude/latitude in degrees must lie within ±180/±90")
    return values


def parse_datetime(text: str) -> tuple[datetime | None, datetime | None]:
    """An instant or an interval (``a/b``, ``../b``, ``a/..``) as UTC bounds (``ValueError`` otherwise)."""
    def one(v: str) -> datetime | None:
        if v in ("..", ""):
            return None
        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)

    if "/" in text:
        a, b = text.split("/", 1)
        lo, hi = one(a), one(b)
        if lo is None and hi is None:
            raise ValueError("an interval needs one end")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("the interval ends before it starts")
        return lo, hi
    t = one(text)
    if t is None:
        raise ValueError("an instant is needed")
    return t, t



__all__ = ["ITEMS_PARAMETERS", "items_problem", "text_filter_problem", "body_filter_problem", "MAX_FILTER_TERMS",
           "MAX_FILTER_DEPTH", "filter_attributes", "parse_bbox", "parse_datetime"]
