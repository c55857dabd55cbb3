"""The one logging configuration of the app, the command line and the HTTP services.

Root causes go to the server's log (stderr, and ``ONEMAP_LOG_FILE`` when set) with the
time, the level and the module; people see the clear message the code raises, never a
traceback or a server path.
"""

from __future__ import annotations

import logging
import os

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: int | str | None = None) -> None:
    """Send the project's log records to stderr (and ``ONEMAP_LOG_FILE``) once per process.

    ``level`` defaults to ``ONEMAP_LOG_LEVEL`` or INFO.  Calling it again changes nothing
    but the level.
    """
    level = level or os.environ.get("ONEMAP_LOG_LEVEL", "INFO")
    root = logging.getLogger()
    if not getattr(root, "_onemap_configured", False):
        handlers: list[logging.Handler] = [logging.StreamHandler()]
        if os.environ.get("ONEMAP_LOG_FILE"):
            handlers.append(logging.FileHandler(os.environ["ONEMAP_LOG_FILE"], encoding="utf-8"))
        for handler in handlers:
            handler.setFormatter(logging.Formatter(FORMAT))
            root.addHandler(handler)
        root._onemap_configured = True  # type: ignore[attr-defined]
    for name in ("geo", "layers", "ui", "cli", "services", "webmap", "exports"):
        logging.getLogger(name).setLevel(level)


__all__ = ["configure_logging"]
