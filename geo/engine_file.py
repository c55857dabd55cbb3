"""A prepared coverage engine kept on disk, so the first answer after a restart skips the setup.

Building the engine of a city (reading the layers, building the walking network, snapping a million cells and
thousands of facilities to it) takes seconds; the engine it yields is plain arrays.  :func:`save_engine` writes it
once per key (the caller's store, layer versions and method, and the engine code's own digest, so a changed layer
or a changed engine never reads an old file); :func:`load_engine` reads it back.  The network's nearest-edge index
is left out (it is most of the bytes and a coverage run does not use it; the first new place snapped builds it).

The file is a pickle, which must never be read unless this server wrote it: each file starts with an HMAC-SHA256
of its body under a key only the server holds, checked before anything is unpickled.  A file that fails the check,
is cut short or cannot be read is ignored (and logged), and the engine is built again.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import logging
import os
import pickle
import tempfile
from pathlib import Path

from geo.coverage import CoverageEngine

log = logging.getLogger(__name__)
_MAGIC = b"onemap-engine-1\n"
_MAC_BYTES = 32
#: The modules whose code an engine file depends on: a change to any of them makes every old file unread.
_ENGINE_CODE = ("coverage.py", "reach.py", "network.py", "demand.py", "facilities.py", "hours.py", "inputs.py",
                "engine_file.py")


def _code_digest() -> str:
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _ENGINE_CODE:
        path = root / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


ENGINE_CODE = _code_digest()


def engine_key(*parts: object) -> str:
    """A file name for the engine of ``parts`` (store, layer versions, method …) under this engine code."""
    return hashlib.sha256(repr((ENGINE_CODE, *parts)).encode("utf-8")).hexdigest()[:32]


def _without_indexes(engine: CoverageEngine) -> CoverageEngine:
    """A shallow copy of ``engine`` without the network's nearest-edge index: more than half of the file, not used
    by a coverage run, and built again on the first snap of a new place (a what-if site)."""
    reach = engine.network_reach
    if reach is None or getattr(reach.network, "_index", None) is None:
        return engine
    light = copy.copy(engine)
    light.network_reach = copy.copy(reach)
    light.network_reach.network = dataclasses.replace(reach.network, _index=None)
    return light


def save_engine(engine: CoverageEngine, path: Path, secret: bytes) -> None:
    """Write ``engine`` to ``path`` (atomically, readable by this user only), signed with ``secret``."""
    body = pickle.dumps(_without_indexes(engine), protocol=pickle.HIGHEST_PROTOCOL)
    mac = hmac.new(secret, _MAGIC + body, hashlib.sha256).digest()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".engine")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_MAGIC + mac + body)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_engine(path: Path, secret: bytes) -> CoverageEngine | None:
    """The engine saved at ``path``, or ``None`` when there is none or it is not one this server wrote whole."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("engine file %s unreadable (%s); building the engine again", path, exc)
        return None
    head, mac, body = data[:len(_MAGIC)], data[len(_MAGIC):len(_MAGIC) + _MAC_BYTES], data[len(_MAGIC) + _MAC_BYTES:]
    if head != _MAGIC or not hmac.compare_digest(mac, hmac.new(secret, _MAGIC + body, hashlib.sha256).digest()):
        log.warning("engine file %s is not one this server wrote (bad signature); ignored", path)
        return None
    try:
        engine = pickle.loads(body)  # noqa: S301 — signed by this server above
    except Exception:  # noqa: BLE001 — any failure means: build it again
        log.exception("engine file %s could not be read; building the engine again", path)
        return None
    return engine if isinstance(engine, CoverageEngine) else None


def prune(folder: Path, keep: int = 8) -> None:
    """Keep the ``keep`` most recently used engine files in ``folder``."""
    files = sorted(folder.glob("*.engine"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)
