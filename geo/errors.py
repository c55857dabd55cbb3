"""Errors of the analysis engine, and the base class of every error the project raises.

Every error a user can cause derives from :class:`OneMapError`, carries a message that
says what was wrong and what would be accepted, and also inherits the matching builtin
(``ValueError``, ``LookupError`` …) so callers that know nothing of this project still
catch it sensibly.  The UI shows ``str(error)`` and never a traceback.

This module holds what ``geo`` raises (analysis, network, demand, coordinate systems,
opening hours); errors of files, stores and sign-in live in :mod:`layers.errors`.
"""

from __future__ import annotations

from typing import Any, Self

from geo.notes import Note, in_words


class OneMapError(Exception):
    """Base class of every error raised on purpose by this project.

    An error made with :meth:`coded` also carries a :class:`geo.notes.Note` (``note``), so
    the app can say it in the reader's language; ``str(error)`` is always the English text.
    """

    note: Note | None = None

    @classmethod
    def coded(cls, code: str, **values: Any) -> Self:
        """An error whose message is the note ``code`` with ``values`` (templates in :mod:`i18n.notes`), put
        into words when it is read (:func:`geo.notes.in_words`)."""
        made = Note(code, values)
        error = cls(code)
        error.note = made
        return error

    def __str__(self) -> str:
        return in_words(self.note, "en") if self.note is not None else super().__str__()


class CRSError(OneMapError, ValueError):
    """A coordinate reference system that is missing, unknown or unsuitable."""


class OpeningHoursError(OneMapError, ValueError):
    """Opening hours that neither the OSM syntax nor the Chinese forms can express."""


class AnalysisError(OneMapError, ValueError):
    """An analysis that cannot run on the inputs given; the message says which input and why."""


class NetworkError(AnalysisError):
    """A walking network that is missing, empty, or too far from what it must connect."""


class DemandError(AnalysisError):
    """Population (demand) data that is empty, unreadable or has no usable coordinate system."""
