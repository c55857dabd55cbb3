"""Uploaded files on the server: each read in a workspace of its own, removed as soon as it is read."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from layers.limits import upload_workspace


def _safe_name(name: str) -> str:
    """The upload's own file name without any folder part (a browser may send one)."""
    base = Path(name.replace("\\", "/")).name.strip()
    return base if base not in ("", ".", "..") else "upload"


@contextlib.contextmanager
def saved_upload(upload) -> Iterator[Path]:
    """The uploaded file written into a fresh workspace; the workspace is removed afterwards."""
    with upload_workspace() as folder:
        path = folder / _safe_name(upload.name)
        path.write_bytes(upload.getvalue())
        yield path


__all__ = ["saved_upload"]
