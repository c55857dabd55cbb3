"""Errors of the layer catalogue's inputs and stores: files, validation, stores, access, sign-in.

Each derives from :class:`geo.errors.OneMapError` (the project's one base class) and from
the matching builtin, and its message says what was wrong and what would be accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geo.errors import OneMapError
from geo.notes import Note, in_words


class UnknownLayerError(OneMapError, LookupError):
    """A layer name that is not in the catalogue (or not stored yet)."""

    def __init__(self, name: str, known: list[str], *, stored: bool = False) -> None:
        self.name = name
        self.known = known
        if stored:
            msg = (
                f"Layer {name!r} is in the catalogue but nothing is stored for it yet; "
                f"stored layers: {', '.join(known) or 'none'}."
            )
        else:
            msg = f"Unknown layer {name!r}; the catalogue has: {', '.join(known)}."
        super().__init__(msg)

    def __reduce__(self):  # keep the exception picklable for worker processes
        return (type(self), (self.name, self.known))


class StoreError(OneMapError, RuntimeError):
    """A store could not be opened or written; the message says what to do."""


class StoreUnavailableError(StoreError, ConnectionError):
    """The store's file is missing or its database cannot be reached."""


class StoreLockedError(StoreError, TimeoutError):
    """Another writer holds the store, or its file is read-only."""


def is_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an error that caused it) says the store cannot be reached just now — the
    database restarted or dropped the connection, the file is locked or missing — so that the same
    request may succeed if tried again, as opposed to a request that is wrong."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (StoreUnavailableError, StoreLockedError, DisconnectionError, PoolTimeout,
                            OperationalError, InterfaceError)):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        module = type(exc).__module__.split(".")[0]
        if module in ("psycopg", "psycopg2") and type(exc).__name__ in ("OperationalError", "InterfaceError"):
            return True
        if module in ("psycopg", "psycopg2") and any(c.__name__ == "OperationalError" for c in type(exc).__mro__):
            return True
        if isinstance(exc, sqlite3.OperationalError) and any(
                w in str(exc) for w in ("locked", "unable to open", "disk is full", "disk I/O")):
            return True
        if isinstance(exc, (ConnectionError, TimeoutError)) and not isinstance(exc, OneMapError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class SchemaError(StoreError):
    """The database lacks PostGIS, or its schema is newer than this program knows."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row of an input.

    ``row`` counts from 1 as a person reads a table (``None`` for the whole file).
    """

    row: int | None
    field: str
    value: Any
    text: str  # what it says when it has no note (a sentence made elsewhere)
    note: Note | None = field(default=None, compare=False)

    @classmethod
    def coded(cls, row: int | None, field_name: str, value: Any, code: str, **values: Any) -> Problem:
        """A problem whose message is the note ``code`` (put into words when read; the app says it in the page's
        language)."""
        return cls(row, field_name, value, "", Note(code, values))

    @property
    def message(self) -> str:
        """What is wrong, in English (:func:`geo.notes.in_words`)."""
        return in_words(self.note, "en") if self.note is not None else self.text

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        shown = repr(self.value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"{where}, field {self.field!r}, value {shown}: {self.message}"


@dataclass
class ValidationReport:
    """The outcome of checking a table against a layer's schema."""

    layer: str
    source: str
    n_rows: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row has a problem."""
        return not self.problems

    @property
    def bad_rows(self) -> set[int]:
        """Row numbers (1-based) that have at least one problem."""
        return {p.row for p in self.problems if p.row is not None}

    def summary(self, limit: int = 10) -> str:
        """A short text for messages: counts and the first ``limit`` problems."""
        head = (
            f"{self.source}: {len(self.problems)} problem(s) in "
            f"{len(self.bad_rows)} of {self.n_rows} row(s) for layer {self.layer!r}"
        )
        lines = [head] + [f"  - {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  … and {len(self.problems) - limit} more")
        return "\n".join(lines)


class LayerValidationError(OneMapError, ValueError):
    """A table that does not fit its layer's schema; nothing was written."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.summary() + "\nNothing was written; the stored layer is unchanged.")

    def __reduce__(self):
        return (type(self), (self.report,))


class InputFileError(OneMapError, ValueError):
    """A file that cannot be read at all (missing, empty, corrupt, unsupported)."""


class PersonalDataError(InputFileError):
    """A delivery that carries personal identifiers; it is refused as a whole."""


class EditConflictError(StoreError):
    """A feature changed since the editor read it: the save is refused, nothing is overwritten."""

    def __init__(self, layer: str, conflicts: list[dict]) -> None:
        self.layer = layer
        self.conflicts = conflicts
        parts = []
        for c in conflicts[:5]:
            if c.get("current") is None:
                parts.append(f"{c['feature_id']} (expected version {c['expected']}, but it no longer exists)")
            else:
                by = f" by {c['changed_by']} at {c['changed_at']}" if c.get("changed_by") else ""
                parts.append(f"{c['feature_id']} (you edited version {c['expected']}; version {c['current']} "
                             f"was saved{by})")
        super().__init__(f"Save refused: {len(conflicts)} feature(s) of {layer!r} changed since you opened them: "
                         + "; ".join(parts) + ". Reload them, apply your change again and save; nothing was "
                         "overwritten.")

    def __reduce__(self):
        return (type(self), (self.layer, self.conflicts))


class AccessDeniedError(OneMapError, PermissionError):
    """A signed-in user (or a database role) may not do this; the message says who may."""


class SignInError(OneMapError, PermissionError):
    """A sign-in that failed: wrong name or password, or a locked account."""


class UploadLimitError(InputFileError):
    """An upload over one of the server's bounds (size, expansion, vertices, cells, rows, time); nothing was read."""


class BookingError(OneMapError, ValueError):
    """A booking, cancellation or check-in that cannot be done; the message says why and what would do."""
