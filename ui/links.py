"""A page's inputs kept in its URL, so a link sent to a colleague opens the same analysis, and kept in the session,
so the inputs (and the cached results they name) are still there when the user switches pages and comes back.

A page declares its link fields once — URL name → (the widget's state key, how the URL's text reads into the
widget's value, how the value is written back) — calls :func:`restore` before its widgets and :func:`keep` after
them.  A link's value that does not read (a typo, a circle that is not one) is ignored: the widget keeps its
default, and the server log says which parameter was ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkField:
    """One input of a page in its URL: the widget's ``key`` and its ``default``; ``read`` turns the URL's text into
    the widget's value (raising ``ValueError`` for text it does not accept); ``write`` the value into text.  The
    widget itself is made with its key only (its default comes from here, through the session)."""

    key: str
    default: Any
    read: Callable[[str], Any]
    write: Callable[[Any], str] = str


def one_of(options: list | tuple, cast: Callable[[str], Any] = str) -> Callable[[str], Any]:
    """A reader accepting only ``options`` (after ``cast``)."""
    def read(text: str) -> Any:
        value = cast(text)
        if value not in options:
            raise ValueError(f"{text!r} is not one of {list(options)}")
        return value
    return read


def number_in(low: float, high: float, cast: Callable[[str], Any] = float) -> Callable[[str], Any]:
    """A reader accepting a number from ``low`` to ``high``."""
    def read(text: str) -> Any:
        value = cast(text)
        if not low <= value <= high:
            raise ValueError(f"{text!r} is not from {low:g} to {high:g}")
        return value
    return read


def some_of(options: list | tuple) -> Callable[[str], Any]:
    """A reader of a comma-separated list, each among ``options``."""
    def read(text: str) -> list:
        values = [v for v in text.split(",") if v]
        if not set(values) <= set(options):
            raise ValueError(f"{text!r} is not a list of {list(options)}")
        return values
    return read


def text_of(most: int = 200) -> Callable[[str], str]:
    """A reader of free text up to ``most`` characters (the page checks what it means)."""
    def read(text: str) -> str:
        if len(text) > most:
            raise ValueError(f"longer than {most} characters")
        return text
    return read


def flag(text: str) -> bool:
    """``1``/``0`` (or true/false) as a checkbox's value."""
    if text.lower() not in ("1", "0", "true", "false"):
        raise ValueError(f"{text!r} is not 1 or 0")
    return text.lower() in ("1", "true")


def _saved_key(page: str) -> str:
    return f"link.{page}"


def opened_with(page: str, names: tuple[str, ...]) -> dict[str, str]:
    """The link's values of ``names`` (not widgets: a solved plan, a picked site) when this session opens ``page``
    for the first time, else nothing; call before :func:`restore`.  The page checks each value itself."""
    if _saved_key(page) in st.session_state:
        return {}
    return {name: st.query_params[name] for name in names if name in st.query_params}


def put_in_link(name: str, text: str | None) -> None:
    """``name=text`` in the page's URL (removed for ``None``)."""
    if text is None:
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != text:
        st.query_params[name] = text


def restore(page: str, fields: Mapping[str, LinkField]) -> None:
    """Before the page's widgets: each widget without a value of its own takes the link's (on the first visit of
    this session to ``page``) or the one it had when the user last left the page."""
    saved: dict[str, Any] = st.session_state.get(_saved_key(page), {})
    first = _saved_key(page) not in st.session_state
    for name, field in fields.items():
        if field.key in st.session_state:
            continue
        if first and name in st.query_params:
            try:
                st.session_state[field.key] = field.read(st.query_params[name])
            except (ValueError, TypeError) as exc:
                log.info("link parameter %s=%r of %s ignored: %s", name, st.query_params[name], page, exc)
        elif name in saved:
            st.session_state[field.key] = saved[name]
        if field.key not in st.session_state and field.default is not None:  # None: the widget's own first option
            st.session_state[field.key] = field.default
    st.session_state.setdefault(_saved_key(page), {})


def keep(page: str, fields: Mapping[str, LinkField]) -> None:
    """After the page's widgets: their values into the session (for coming back) and into the URL (to share)."""
    values = {name: st.session_state[f.key] for name, f in fields.items() if f.key in st.session_state}
    st.session_state[_saved_key(page)] = values
    for name, value in values.items():
        if value is not None:
            put_in_link(name, fields[name].write(value))


__all__ = ["LinkField", "one_of", "number_in", "some_of", "text_of", "flag", "opened_with", "put_in_link", "restore",
           "keep"]
