"""Pulling a layer in from another department's OGC API – Features service (数据交换: taking in what they publish).

:func:`fetch_collection` pages through a collection into a GeoJSON file in an
upload workspace, bounded like an upload (the file's size, its rows, a time budget) while it
is read; :func:`prepare_sync` then runs that file through the very path a delivered file
takes (:func:`layers.ingest.prepare_import`: field mapping, personal-data guard, validation),
so a malformed remote feature is reported like a malformed file row (its position in the
collection, its field and what would be accepted) and :func:`layers.ingest.commit_import`
writes all or nothing. The history records the service's address and the time it was read
as the version's source.

Only the partner services listed in the ``sync_allowed`` setting are read, within the bounds of
:mod:`layers.remote` (a pinned address, timeouts, a byte cap, a deadline).

Scheduled pulls run the ``onemap sync`` command from cron (see the README).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from layers.errors import InputFileError, UploadLimitError
from layers.fields import FieldMapping
from layers.ingest import ImportPlan, prepare_import
from layers.limits import UploadLimits
from layers.remote import Deadline, FetchBounds, get_json

log = logging.getLogger(__name__)
PAGE = 1000


def service_address(url: str) -> str:
    """The service's address as typed (``10.2.3.4:5080`` means ``http://10.2.3.4:5080``), without a final slash."""
    text = url.strip().rstrip("/")
    return text if "://" in text else f"http://{text}"


def fetch_collection(url: str, collection: str, folder: Path, *, limits: UploadLimits | None = None,
                     bounds: FetchBounds | None = None) -> tuple[Path, int]:
    """The features of ``collection`` at the OGC API ``url`` as a GeoJSON file in ``folder`` (each feature's
    ``id`` kept as ``feature_id``), and how many were read.

    Only a service listed in the ``sync_allowed`` setting is read, within the bounds of
    :mod:`layers.remote` (pinned address, timeouts, a byte cap over the whole pull, a deadline).

    Raises
    ------
    InputFileError
        The service is not listed, cannot be reached, has no such collection, or answers something that
        is not features.
    UploadLimitError
        The collection holds more rows or bytes than allowed, or reading takes longer than allowed.
    """
    limits = limits or UploadLimits.from_env()
    bounds = bounds or FetchBounds.configured()
    base = service_address(url)
    deadline = Deadline(bounds.seconds, base)
    budget = [bounds.max_bytes]
    listing = get_json(f"{base}/collections?f=json", bounds, deadline, budget=budget)
    names = [str(c.get("id")) for c in listing.get("collections", []) if isinstance(c, dict)] \
        if isinstance(listing, dict) else []
    if collection not in names:
        raise InputFileError.coded("sync.no_collection", url=base, collection=collection,
                                   names=", ".join(names[:20]) or "—")
    target = folder / f"{collection}.geojson"
    rows, offset = 0, 0
    with open(target, "w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        while True:
            page_url = f"{base}/collections/{quote(collection, safe='')}/items?f=json&limit={PAGE}&offset={offset}"
            try:
                page = get_json(page_url, bounds, deadline, budget=budget)
            except UploadLimitError as exc:
                if exc.note is not None and exc.note.code == "sync.page_too_big":
                    raise UploadLimitError.coded("sync.too_big", url=base, collection=collection,
                                                 mb=f"{bounds.max_bytes / 1048576:g}") from None
                raise
            features = page.get("features") if isinstance(page, dict) else None
            if not isinstance(features, list):
                raise InputFileError.coded("sync.not_features", url=base, collection=collection)
            for feature in features:
                if not isinstance(feature, dict):
                    raise InputFileError.coded("sync.not_features", url=base, collection=collection)
                props = dict(feature.get("properties") or {})
                if feature.get("id") is not None:
                    props.setdefault("feature_id", str(feature["id"]))
                text = json.dumps({"type": "Feature", "properties": props, "geometry": feature.get("geometry")},
                                  ensure_ascii=False)
                out.write(("," if rows else "") + text + "\n")
                rows += 1
            if rows > limits.max_table_rows:
                raise UploadLimitError.coded("sync.too_many", url=base, collection=collection,
                                             limit=f"{limits.max_table_rows:,}")
            if len(features) < PAGE:
                break
            offset += PAGE
        out.write("]}\n")
    return target, rows


def prepare_sync(url: str, collection: str, layer: str, folder: Path, *, mapping: FieldMapping | None = None,
                 department: str | None = None) -> ImportPlan:
    """Read ``collection`` from the service at ``url`` and check it for ``layer`` as a delivered file would be,
    writing nothing; the plan's source names the service, the collection and when it was read."""
    path, _rows = fetch_collection(url, collection, folder)
    plan = prepare_import(path, layer, coord_system="declared", mapping=mapping, department=department)
    stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    address = f"{service_address(url)}/collections/{collection}"
    plan.source = f"{address} ({stamp})"
    if "source" in plan.frame:  # rows the service gave no source for come from the service
        plan.frame["source"] = plan.frame["source"].where(plan.frame["source"] != path.name, address)
    return plan


__all__ = ["fetch_collection", "prepare_sync", "service_address"]
