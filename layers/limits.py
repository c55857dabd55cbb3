"""Bounds on what an upload may cost, checked before anything is expanded or built.

A shared server reads files from four departments; one careless or hostile file must not
take its memory, its disk or its time.  Each bound is configurable (environment variables
``ONEMAP_MAX_*``) with a default that fits a city, and each refusal names the file, the
limit and what would be accepted:

- the file's size, and for a zip (a zipped shapefile, an XLSX) the total uncompressed size
  and the number of members, read from the zip's directory; member names that leave the
  folder (``../``, absolute paths, links) are refused before a byte is written, and
  extraction stops at the declared size even if the directory lies;
- vertices per feature and per file, counted from each batch of features as GDAL hands
  them over (GeoJSON features larger than a feature could legitimately be are refused by
  GDAL's own streaming parser before they are built);
- raster cells, from the GeoTIFF's header before its pixels are read;
- table rows, counted while the table is read in chunks;
- cells and columns of a table, counted while its bytes stream by (a CSV's lines, an XLSX
  sheet's ``<row>`` and ``<c>`` elements), before anything is parsed;
- a time budget for reading and checking one file.

The bounds are settings (:mod:`config.settings`, ``ONEMAP_MAX_*``).

Uploads are read in a workspace folder of their own (:func:`upload_workspace`) that is
removed when the reading ends, whether it succeeded or not.
"""

from __future__ import annotations

import contextlib
import shutil
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterator

from config.settings import settings
from layers.errors import UploadLimitError

_MB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """The bounds of one upload (see the module docstring); ``UploadLimits.from_env()`` reads the settings."""

    max_file_mb: float = 150.0
    max_uncompressed_mb: float = 500.0
    max_zip_members: int = 200
    max_vertices_per_feature: int = 100_000
    max_vertices_per_file: int = 10_000_000
    max_raster_cells: int = 100_000_000
    max_table_rows: int = 2_000_000
    max_table_cells: int = 20_000_000
    max_table_columns: int = 500
    max_seconds: float = 120.0

    @classmethod
    def from_env(cls) -> "UploadLimits":
        """The limits configured for this server (the ``max_*`` settings of :mod:`config.settings`)."""
        s = settings()
        return cls(**{name: getattr(s, name) for name in cls.__dataclass_fields__})

    @property
    def max_geojson_feature_mb(self) -> int:
        """The largest GeoJSON text one feature may take: generous for the vertex limit (60 bytes a vertex)."""
        return max(4, int(self.max_vertices_per_feature * 60 / _MB) + 1)


@dataclass
class Deadline:
    """The time budget of reading one file; :meth:`check` between steps."""

    name: str
    seconds: float
    started: float = field(default_factory=time.monotonic)

    def check(self) -> None:
        """Refuse once the budget is spent.

        Raises
        ------
        UploadLimitError
            Naming the file and the budget.
        """
        if time.monotonic() - self.started > self.seconds:
            raise UploadLimitError.coded("upload.too_slow", file=self.name, seconds=self.seconds)


def check_file_size(p: Path, limits: UploadLimits) -> None:
    """Refuse a file over the size limit (before it is opened)."""
    size = p.stat().st_size
    if size > limits.max_file_mb * _MB:
        raise UploadLimitError.coded("upload.too_big", file=p.name, mb=size / _MB, limit=limits.max_file_mb)


def _safe_member(info: zipfile.ZipInfo, zip_name: str) -> PurePosixPath:
    """The member's path inside the folder, or a refusal for one that would leave it."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    mode = (info.external_attr >> 16) & 0xFFFF
    if name.startswith("/") or path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":"):
        raise UploadLimitError.coded("upload.zip_escape", file=zip_name, member=info.filename)
    if stat.S_ISLNK(mode):
        raise UploadLimitError.coded("upload.zip_link", file=zip_name, member=info.filename)
    return path


def check_zip(p: Path, limits: UploadLimits, *, workbook: bool = False) -> list[zipfile.ZipInfo]:
    """Read a zip's directory and refuse it before anything is expanded.

    ``workbook``: the zip is an XLSX (the message speaks of a workbook).

    Raises
    ------
    UploadLimitError
        Too many members, too many bytes once uncompressed, or a member that would leave
        the folder.
    InputFileError
        A truncated or damaged zip (the message says so, not that the file is missing).
    """
    from layers.errors import InputFileError

    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
    except zipfile.BadZipFile as exc:
        if workbook:
            raise InputFileError.coded("upload.workbook_damaged", file=p.name, reason=str(exc)) from None
        raise InputFileError.coded("upload.zip_damaged", file=p.name, reason=str(exc)) from None
    files = [i for i in infos if not i.is_dir()]
    if len(files) > limits.max_zip_members:
        raise UploadLimitError.coded("upload.zip_members", file=p.name, n=len(files), limit=limits.max_zip_members)
    total = sum(i.file_size for i in files)
    if total > limits.max_uncompressed_mb * _MB:
        raise UploadLimitError.coded("upload.zip_expands", file=p.name, mb=total / _MB,
                                     limit=limits.max_uncompressed_mb, packed=p.stat().st_size / _MB)
    for info in files:
        _safe_member(info, p.name)
    return files


def extract_zip(p: Path, dest: Path, limits: UploadLimits, deadline: Deadline | None = None) -> list[Path]:
    """Extract a zip into ``dest`` after :func:`check_zip`, never writing outside ``dest`` nor more than
    the limit (a member that yields more bytes than its directory declared is refused); a member that
    cannot be decompressed (a damaged or lying archive) is a coded refusal, not a library's exception."""
    import zlib

    from layers.errors import InputFileError

    infos = check_zip(p, limits)
    try:
        return _extract(p, dest, infos, limits, deadline)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise InputFileError.coded("upload.zip_damaged", file=p.name,
                                   reason=str(exc).splitlines()[0][:120] or type(exc).__name__) from None


def _extract(p: Path, dest: Path, infos: list[zipfile.ZipInfo], limits: UploadLimits,
             deadline: Deadline | None) -> list[Path]:
    budget = int(limits.max_uncompressed_mb * _MB)
    written, out = 0, []
    root = dest.resolve()
    with zipfile.ZipFile(p) as z:
        for info in infos:
            rel = _safe_member(info, p.name)
            target = (root / Path(*rel.parts)).resolve()
            if root not in target.parents:
                raise UploadLimitError.coded("upload.zip_escape", file=p.name, member=info.filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(target, "wb") as dst:
                member = 0
                while chunk := src.read(1 << 20):
                    member += len(chunk)
                    written += len(chunk)
                    if member > info.file_size or written > budget:
                        raise UploadLimitError.coded("upload.zip_lies", file=p.name, member=info.filename,
                                                     limit=limits.max_uncompressed_mb)
                    dst.write(chunk)
                    if deadline is not None:
                        deadline.check()
            out.append(target)
    return out


def upload_root() -> Path:
    """Where uploads are read: ``ONEMAP_UPLOAD_DIR``, else ``<temp>/onemap-uploads``."""
    root = Path(settings().upload_dir or Path(tempfile.gettempdir()) / "onemap-uploads")
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


@contextlib.contextmanager
def upload_workspace(prefix: str = "upload-") -> Iterator[Path]:
    """A private folder for one upload, removed afterwards whatever happened."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=upload_root()))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def wkb_vertices(wkb: bytes | None) -> int:
    """Vertices of a WKB geometry, from its size (16 bytes a 2-D vertex, 24 with Z), without building it."""
    if not wkb:
        return 0
    if len(wkb) < 9:
        return 0
    kind = int.from_bytes(wkb[1:5], "little" if wkb[0] == 1 else "big")
    per = 24 if (kind & 0x80000000 or 1000 <= kind % 10000 < 2000 or 3000 <= kind % 10000) else 16
    return max(0, (len(wkb) - 9) // per)


__all__ = ["UploadLimits", "Deadline", "check_file_size", "check_zip", "extract_zip", "upload_root",
           "upload_workspace", "wkb_vertices"]
