"""The server's own folder and secrets: where published maps are kept, and the keys that sign and encrypt.

``ONEMAP_INSTANCE_DIR`` (default ``.onemap/`` in the project folder) holds what one
installation writes for itself: published maps and, unless ``ONEMAP_SECRET_KEY`` gives
one, a random master key created on first use (readable by its owner only).  Keys for
each purpose (signing map links, encrypting booking contacts) are derived from the master
key, so one setting rotates them all.  No key is kept in the repository.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from config.settings import settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def instance_dir() -> Path:
    """The ``instance_dir`` setting, else ``<project>/.onemap`` (created, private)."""
    folder = _folder(settings().instance_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _folder(setting: Path | str | None) -> Path:
    return Path(setting or PROJECT_ROOT / ".onemap")


def _master_key(given: str) -> bytes:
    if given:
        return given.encode("utf-8")
    path = instance_dir() / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)).decode("ascii"))
    return path.read_text().strip().encode("ascii")


def secret_for(purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` ("map-links", "booking-contacts" …), derived from the master key."""
    now = settings()  # read once: a booking asks for four keys
    given = now.secret_key.get_secret_value().strip() if now.secret_key is not None else ""
    return _derived(given, str(_folder(now.instance_dir)), purpose)


@functools.lru_cache(maxsize=64)
def _derived(given: str, _folder: str, purpose: str) -> bytes:
    """The key for ``purpose``, computed once per master key setting and instance folder."""
    return hmac.new(_master_key(given), purpose.encode("utf-8"), hashlib.sha256).digest()


__all__ = ["instance_dir", "secret_for", "PROJECT_ROOT"]
