"""Maps published as static, versioned HTML files.

Building a folium map of every layer and rendering it to HTML costs about a second on the
demo city, and sending megabytes of GeoJSON through the app's websocket on every visit
costs more.  A map that answers no clicks (the one-map page) is instead written once per
set of inputs — store, layer versions, shown layers, language, basemap — to
``static/maps/<key>.html`` and embedded by URL: the next visit runs no map code at all,
and the browser fetches a file it may already hold.  A new layer version is a new key,
so nobody sees a stale map.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import folium

from webmap.assets import STATIC_DIR, STATIC_URL

MAP_DIR = STATIC_DIR / "maps"
#: Published maps kept on disk (the oldest beyond this are removed).
KEEP = 48


def _renderer_version() -> str:
    """A digest of the code that draws maps: a changed renderer never serves an old file."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("folium_map.py", "assets.py", "publish.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]


RENDERER = _renderer_version()


def map_key(*parts: object) -> str:
    """A short stable key for the inputs a map depends on (and the code that draws it)."""
    text = json.dumps([RENDERER, *parts], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def published_url(key: str) -> str | None:
    """The URL of the map published under ``key``, or ``None`` when there is none yet."""
    return STATIC_URL + f"maps/{key}.html" if (MAP_DIR / f"{key}.html").exists() else None


def publish(m: folium.Map, key: str) -> str:
    """Write ``m`` as ``static/maps/<key>.html`` (atomically, once) and return its URL."""
    MAP_DIR.mkdir(parents=True, exist_ok=True)
    target = MAP_DIR / f"{key}.html"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=MAP_DIR, prefix=".", suffix=".html")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(m.get_root().render())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        _prune(MAP_DIR)
    return STATIC_URL + f"maps/{key}.html"


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)


__all__ = ["map_key", "published_url", "publish", "MAP_DIR"]
