"""The one place where text made of data is shown in the Streamlit pages.

Streamlit renders messages and captions as Markdown (links, LaTeX between ``$``, colour
directives); a file name, a venue name or a value inside an error message must show as
the characters it is.  Every message that carries data goes through these functions,
which backslash-escape all ASCII punctuation (CommonMark shows an escaped character as
itself) and never pass ``unsafe_allow_html``.
"""

from __future__ import annotations

import string
from typing import Any

import streamlit as st

_ESCAPE = str.maketrans({c: "\\" + c for c in string.punctuation})


def plain(text: object) -> str:
    """``text`` as Markdown that displays exactly these characters."""
    return str(text).translate(_ESCAPE).replace("\n", "  \n")


def error(text: object, *, at: Any = st) -> None:
    """An error box with ``text`` shown literally (``at``: a column or the sidebar)."""
    at.error(plain(text))


def failure(exc: Exception, lang: str, *, prefix: str = "", at: Any = st) -> None:
    """An error box for ``exc`` in ``lang`` when it carries a note (see ``OneMapError.coded``), else its text."""
    from i18n import render_note

    note = getattr(exc, "note", None)
    error(prefix + (render_note(note, lang) if note is not None else str(exc)), at=at)


def warning(text: object, *, at: Any = st) -> None:
    """A warning box with ``text`` shown literally."""
    at.warning(plain(text))


def success(text: object, *, at: Any = st) -> None:
    """A success box with ``text`` shown literally."""
    at.success(plain(text))


def info(text: object, *, at: Any = st) -> None:
    """An information box with ``text`` shown literally."""
    at.info(plain(text))


def caption(text: object, *, at: Any = st) -> None:
    """A caption with ``text`` shown literally."""
    at.caption(plain(text))


def unexpected(exc: Exception, lang: str, *, at: Any = st) -> str:
    """Say a failure no check foresaw in ``lang`` with a reference the server log carries (with the traceback);
    never the exception's text or a server path. Returns the reference."""
    import logging
    import uuid

    from i18n import t
    from layers.errors import is_outage

    reference = uuid.uuid4().hex[:12]
    if getattr(exc, "note", None) is not None:
        logging.getLogger("ui").warning("page refused (reference %s): %s", reference, exc)
        failure(exc, lang, at=at)
    elif is_outage(exc):
        logging.getLogger("ui").warning("store unavailable on a page (reference %s): %s", reference, exc)
        at.error(t("store_unavailable", lang, ref=reference))
    else:
        logging.getLogger("ui").exception("page failed (reference %s)", reference)
        at.error(t("unexpected_error", lang, ref=reference))
    return reference


__all__ = ["plain", "error", "failure", "warning", "success", "info", "caption", "unexpected"]
