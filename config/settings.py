"""Every setting of an installation, in one typed object: read from the environment and an optional file.

A city's IT office sets the one map up with environment variables (``ONEMAP_*``, and
``DATABASE_URL`` for PostGIS) or a TOML file named by ``ONEMAP_SETTINGS_FILE`` whose keys are
the field names below (``max_file_mb = 200``); the environment wins over the file. Values are
checked when they are read — at start-up by ``onemap check-settings`` and the servers — and a
wrong one is refused with a message naming the setting, what it holds and what is accepted.

This is the only module that reads the environment for the project's own settings. ``geo/``
reads none: the values it needs (a Dask scheduler's address, a need-matching table) are passed
to it by the layers, pages and commands that read them here.

Use :func:`settings` (read once per state of the environment and the file; tests that change a
variable see the change).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from geo.errors import OneMapError

#: The variable that names the settings file.
FILE_ENV = "ONEMAP_SETTINGS_FILE"
PREFIX = "ONEMAP_"


class Settings(BaseSettings):
    """The settings of one installation (the README's "Running it for a city" lists them with examples)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True, populate_by_name=True)

    # ----- where the data is ------------------------------------------------------------------------
    database_url: SecretStr | None = Field(None, validation_alias="DATABASE_URL",
                                           description="PostGIS store, postgresql://user:password@host:5432/db")
    gpkg: Path | None = Field(None, description="the embedded GeoPackage store (default data/demo_city.gpkg)")
    pg_schema: str = Field("onemap", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="the store's schema")
    pg_pool: Annotated[tuple[int, int] | None, NoDecode] = Field(
        None, description="connections kept and added under load: size,overflow")
    instance_dir: Path | None = Field(None, description="the server's own folder (default .onemap/)")
    secret_key: SecretStr | None = Field(None, description="the master key (default: made on first use)")
    upload_dir: Path | None = Field(None, description="where uploads are read (default: the temp folder)")
    public_url: str = Field("", description="the address residents reach the app at (QR codes on course sheets)")
    bench_map_key: str = Field("", pattern=r"^[0-9a-f]{0,24}$",
                               description="the published map the benchmark's bare page shows (make bench-one-map)")

    # ----- what an upload may cost ------------------------------------------------------------------
    max_file_mb: float = Field(150.0, gt=0)
    max_uncompressed_mb: float = Field(500.0, gt=0)
    max_zip_members: int = Field(200, gt=0)
    max_vertices_per_feature: int = Field(100_000, gt=0)
    max_vertices_per_file: int = Field(10_000_000, gt=0)
    max_raster_cells: int = Field(100_000_000, gt=0)
    max_table_rows: int = Field(2_000_000, gt=0)
    max_table_cells: int = Field(20_000_000, gt=0, description="cells of a CSV or XLSX, counted before parsing")
    max_table_columns: int = Field(500, gt=0)
    max_seconds: float = Field(120.0, gt=0)
    max_photo_mb: float = Field(8.0, gt=0)
    max_photo_megapixels: float = Field(40.0, gt=0)
    photo_decodes: int = Field(2, ge=1, le=64, description="photos decoded at once in one server process")

    # ----- pulling from partner services (数据交换) ----------------------------------------------------
    sync_allowed: Annotated[tuple[str, ...], NoDecode] = Field((), description="partner services the pull may reach: "
                                                          "http(s)://host[:port], comma-separated")
    sync_connect_timeout: float = Field(5.0, gt=0, le=120)
    sync_read_timeout: float = Field(10.0, gt=0, le=600)
    sync_max_mb: float = Field(150.0, gt=0)
    sync_max_seconds: float = Field(120.0, gt=0)

    # ----- the data exchange server -----------------------------------------------------------------
    http_threads: int = Field(16, ge=1, le=256)
    unpublished: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="layer or layer.field kept off the data exchange server")
    jobs_max: int = Field(4, ge=1, le=64, description="analysis jobs running at once on the server")
    jobs_per_key: int = Field(2, ge=1, le=64, description="analysis jobs one partner key may have running")
    jobs_retention_minutes: float = Field(60.0, gt=0, description="how long a job's results are kept")

    # ----- the app ----------------------------------------------------------------------------------
    tile_min_features: int = Field(20_000, ge=1)
    dask_scheduler: str | None = Field(None, description="a Dask scheduler's address for partitioned runs")
    dask_inputs: Path | None = Field(None, description="a folder every Dask worker can read (partition inputs)")
    report_due_hours: str = Field("", description="hours to due per field-report category: unsafe=12,…")
    report_routes: str = Field("", description="routes of bare-point field reports: greenways@510104=sports;…")
    health_min_count: int = Field(10, ge=3, description="k: the smallest count of people stored or shown")
    need_matching: Path | None = Field(None, description="a CSV matching need groups to facility layers")

    # ----- logging ----------------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file: Path | None = None

    @field_validator("pg_pool", mode="before")
    @classmethod
    def _pool(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            parts = value.split(",")
            if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
                raise ValueError("write it as size,overflow (e.g. 20,10)")
            return tuple(int(p) for p in parts)
        return value

    @field_validator("sync_allowed", "unpublished", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @field_validator("sync_allowed")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from urllib.parse import urlsplit

        out = []
        for item in value:
            parts = urlsplit(item if "://" in item else f"http://{item}")
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(f"{item!r} is not a service address; write http(s)://host[:port]")
            out.append(f"{parts.scheme}://{parts.netloc.lower()}")
        return tuple(out)

    @field_validator("dask_scheduler", "database_url", "log_file", "gpkg", "instance_dir", "upload_dir",
                     "need_matching", "dask_inputs", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource):
        """The environment first, then the file named by ``ONEMAP_SETTINGS_FILE``."""
        sources = [init_settings, env_settings]
        path = os.environ.get(FILE_ENV, "").strip()
        if path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return tuple(sources)

    @property
    def database(self) -> str | None:
        """The PostGIS URL, if one is set."""
        return self.database_url.get_secret_value() if self.database_url is not None else None


class SettingsError(OneMapError, ValueError):
    """A setting that cannot be used; the message names it, what it holds and what is accepted."""


def _variable(field: str) -> str:
    return "DATABASE_URL" if field == "database_url" else PREFIX + field.upper()


def load_settings() -> Settings:
    """The settings as the environment and the settings file give them now.

    Raises
    ------
    SettingsError
        Naming each wrong setting (its environment variable and file key).
    """
    path = os.environ.get(FILE_ENV, "").strip()
    if path and not Path(path).is_file():
        raise SettingsError(f"{FILE_ENV}={path!r}: no such file; write the settings as TOML there, or unset it.")
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err.get("loc") else "?"
            given = err.get("input")
            lines.append(f"{_variable(field)} (file key {field}) = {given!r}: {err['msg']}")
        raise SettingsError("Settings refused:\n  " + "\n  ".join(lines)) from None
    except (OSError, ValueError) as exc:  # an unreadable or malformed TOML file, a value that is not text
        where = f"{FILE_ENV}={path!r}" if path else "the environment"
        raise SettingsError(f"Settings in {where} cannot be read: {exc}") from None


def _state() -> tuple:
    """What the settings are read from: the relevant variables and the file's modification time.

    Asked on every :func:`settings` call (a booking asks several times), so on POSIX the bytes behind
    ``os.environ`` are read without decoding every variable of the process."""
    raw = getattr(os.environ, "_data", None)
    if os.name == "posix" and isinstance(raw, dict):
        env = tuple(sorted(item for item in raw.items()
                           if item[0].startswith(b"ONEMAP_") or item[0] == b"DATABASE_URL"))
    else:
        env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX) or k == "DATABASE_URL"))
    path = os.environ.get(FILE_ENV, "").strip()
    mtime = os.stat(path).st_mtime_ns if path and os.path.isfile(path) else None
    return env, mtime


@functools.lru_cache(maxsize=8)
def _cached(_state: tuple) -> Settings:
    return load_settings()


def settings() -> Settings:
    """The installation's settings (read again only when a variable or the file changed)."""
    return _cached(_state())


def described() -> list[tuple[str, str, str]]:
    """(environment variable, file key, what it is and its default) for every setting: the README's table."""
    out = []
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "—" if default in (None, (), "") else str(default)
        out.append((_variable(name), name, f"{field.description or ''} (default {shown})".strip()))
    return out


__all__ = ["Settings", "SettingsError", "settings", "load_settings", "described", "FILE_ENV"]
