"""The one logging configuration of the app, the command line and the HTTP services.

Root causes go to the server's log (stderr, and the ``log_file`` setting when set) with the
time, the level and the module; people see the clear message the code raises, never a
traceback or a server path.
"""

from __future__ import annotations

import logging

from config.settings import settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: int | str | None = None) -> None:
    """Send the project's log records to stderr (and the ``log_file`` setting) once per process.

    ``level`` defaults to the ``log_level`` setting (INFO).  Calling it again changes nothing
    but the level.
    """
    level = level or settings().log_level
    root = logging.getLogger()
    if not getattr(root, "_onemap_configured", False):
        handlers: list[logging.Handler] = [logging.StreamHandler()]
        if settings().log_file:
            handlers.append(logging.FileHandler(settings().log_file, encoding="utf-8"))
        for handler in handlers:
            handler.setFormatter(logging.Formatter(FORMAT))
            root.addHandler(handler)
        root._onemap_configured = True  # type: ignore[attr-defined]
    for name in ("geo", "layers", "ui", "cli", "services", "webmap", "exports"):
        logging.getLogger(name).setLevel(level)


__all__ = ["configure_logging"]
