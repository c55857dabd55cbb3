"""Maps published as static, versioned HTML files, served behind the same sign-in as the pages.

Building a folium map of every layer and rendering it to HTML costs about a second on the
demo city, and sending megabytes of GeoJSON through the app's websocket on every visit
costs more.  A map that answers no clicks (the one-map page) is instead written once per
set of inputs — store, layer versions, shown layers, language, basemap — to the instance
folder's ``maps/<key>.html`` and embedded by URL: the next visit runs no map code at all,
and the browser fetches a file it may already hold.  A new layer version is a new key, so
nobody sees a stale map.

The files are not public: ``/maps/<key>.html`` (:mod:`services.published_maps`) answers only
a link signed for a signed-in account (:func:`signed_map_url`) while the store has
accounts; the single-user default has nobody to keep out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import tempfile
import time
from pathlib import Path

import folium

from office.instance import instance_dir, secret_for

#: Published maps kept on disk (the oldest beyond this are removed).
KEEP = 48
#: How long a signed map link stays good (seconds).
LINK_SECONDS = 12 * 3600
MAP_URL = "/maps/"
KEY_PATTERN = re.compile(r"^[0-9a-f]{24}$")


def map_dir() -> Path:
    """Where published maps are kept (never under the app's public static folder)."""
    folder = instance_dir() / "maps"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _renderer_version() -> str:
    """A digest of the code that draws maps: a changed renderer never serves an old file."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in ("webmap/folium_map.py", "webmap/legend.py", "webmap/one_map.py", "webmap/assets.py",
                 "webmap/publish.py", "webmap/escape.py", "webmap/field_report_layer.py", "webmap/vector_layer.py",
                 "webmap/hash_zoom.py", "webmap/measure.py", "webmap/view_sync.py",
                 "layers/styles.py", "i18n/strings.py", "i18n/values.py"):
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:12]


RENDERER = _renderer_version()


def map_key(*parts: object) -> str:
    """A short stable key for the inputs a map depends on (and the code that draws it)."""
    text = json.dumps([RENDERER, *parts], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def published_path(key: str) -> Path | None:
    """The file of the map published under ``key``, or ``None``."""
    if not KEY_PATTERN.fullmatch(key):
        return None
    path = map_dir() / f"{key}.html"
    return path if path.exists() else None


def is_published(key: str) -> bool:
    """Whether a map is published under ``key``."""
    return published_path(key) is not None


def publish(m: folium.Map, key: str) -> None:
    """Write ``m`` as ``maps/<key>.html`` (atomically, once)."""
    folder = map_dir()
    target = folder / f"{key}.html"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".html")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(m.get_root().render())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
        _prune(folder)


def _signature(key: str, user: str, expires: int) -> str:
    message = f"{key}|{user}|{expires}".encode("utf-8")
    return hmac.new(secret_for("map-links"), message, hashlib.sha256).hexdigest()


def signed_map_url(key: str, user: str | None, *, now: float | None = None) -> str:
    """The URL of map ``key`` for ``user`` (``None``: the single-user default, no signature needed)."""
    if user is None:
        return f"{MAP_URL}{key}.html"
    expires = int((time.time() if now is None else now) + LINK_SECONDS)
    from urllib.parse import urlencode

    query = urlencode({"u": user, "e": expires, "s": _signature(key, user, expires)})
    return f"{MAP_URL}{key}.html?{query}"


def link_is_valid(key: str, user: str, expires: str, signature: str, *, now: float | None = None) -> bool:
    """Whether a map link was signed by this server for ``user`` and has not expired."""
    try:
        until = int(expires)
    except (TypeError, ValueError):
        return False
    if until < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(_signature(key, user, until), str(signature))


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)


__all__ = ["map_key", "publish", "is_published", "published_path", "signed_map_url", "link_is_valid", "map_dir"]
