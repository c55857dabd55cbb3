"""Pulling a layer in from another department's OGC API – Features service (数据交换: taking in what they publish).

:func:`fetch_collection` pages through a collection with OWSLib into a GeoJSON file in an
upload workspace, bounded like an upload (the file's size, its rows, a time budget) while it
is read; :func:`prepare_sync` then runs that file through the very path a delivered file
takes (:func:`layers.ingest.prepare_import`: field mapping, personal-data guard, validation),
so a malformed remote feature is reported like a malformed file row (its position in the
collection, its field and what would be accepted) and :func:`layers.ingest.commit_import`
writes all or nothing. The history records the service's address and the time it was read
as the version's source.

Scheduled pulls run the ``onemap sync`` command from cron (see the README).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

from layers.errors import InputFileError, UploadLimitError
from layers.fields import FieldMapping
from layers.ingest import ImportPlan, prepare_import
from layers.limits import UploadLimits

log = logging.getLogger(__name__)
PAGE = 1000


def service_address(url: str) -> str:
    """The service's address as typed (``10.2.3.4:5080`` means ``http://10.2.3.4:5080``), without a final slash."""
    text = url.strip().rstrip("/")
    return text if "://" in text else f"http://{text}"


def fetch_collection(url: str, collection: str, folder: Path, *, limits: UploadLimits | None = None,
                     timeout: float = 60.0) -> tuple[Path, int]:
    """The features of ``collection`` at the OGC API ``url`` as a GeoJSON file in ``folder`` (each feature's
    ``id`` kept as ``feature_id``), and how many were read.

    Raises
    ------
    InputFileError
        The service cannot be reached, has no such collection, or answers something that is not features.
    UploadLimitError
        The collection holds more rows or bytes than an upload may, or reading takes longer than allowed.
    """
    from owslib.ogcapi.features import Features

    limits = limits or UploadLimits.from_env()
    started = time.monotonic()
    base = service_address(url)
    try:
        service = Features(base, timeout=int(timeout))
        names = [c["id"] for c in service.collections()["collections"]]
    except Exception as exc:  # any failure to reach or read the service: said plainly, logged in full
        log.warning("OGC API %s unreachable: %r", base, exc)
        raise InputFileError.coded("sync.unreachable", url=base, reason=exc.__class__.__name__) from None
    if collection not in names:
        raise InputFileError.coded("sync.no_collection", url=base, collection=collection,
                                   names=", ".join(names) or "—")
    target = folder / f"{collection}.geojson"
    written, rows, offset = 0, 0, 0
    with open(target, "w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        while True:
            try:
                page = service.collection_items(collection, limit=PAGE, offset=offset)
            except Exception as exc:  # a page that fails: the pull stops, nothing is stored
                log.warning("OGC API %s/%s page at %d failed: %r", base, collection, offset, exc)
                raise InputFileError.coded("sync.page_failed", url=base, collection=collection, n=offset + 1,
                                           reason=exc.__class__.__name__) from None
            features = page.get("features") if isinstance(page, dict) else None
            if not isinstance(features, list):
                raise InputFileError.coded("sync.not_features", url=base, collection=collection)
            for feature in features:
                props = dict(feature.get("properties") or {})
                if feature.get("id") is not None:
                    props.setdefault("feature_id", str(feature["id"]))
                text = json.dumps({"type": "Feature", "properties": props, "geometry": feature.get("geometry")},
                                  ensure_ascii=False)
                out.write(("," if rows else "") + text + "\n")
                rows += 1
                written += len(text.encode("utf-8"))
            if rows > limits.max_table_rows:
                raise UploadLimitError.coded("sync.too_many", url=base, collection=collection,
                                             limit=f"{limits.max_table_rows:,}")
            if written > limits.max_file_mb * 1024 * 1024:
                raise UploadLimitError.coded("sync.too_big", url=base, collection=collection,
                                             mb=f"{limits.max_file_mb:g}")
            if time.monotonic() - started > limits.max_seconds:
                raise UploadLimitError.coded("sync.too_slow", url=base, collection=collection,
                                             seconds=f"{limits.max_seconds:g}")
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
