"""Notes the analysis returns: a code and its values, rendered in the reader's language by the caller.

``geo`` writes no sentences for people: it returns :class:`Note` objects (``"gap_unknown"``,
``{"site": 3}``) and the app, the command line and the reports render them with
:func:`i18n.render_note` in Chinese or English.  ``str(note)`` is the English rendering, for
logs and tests: :mod:`i18n` hands its renderer down when it is imported (:func:`use_renderer`),
so nothing here imports a layer above; before that a note reads as its code and values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Note:
    """One thing the analysis wants said: a code from :mod:`i18n.notes` and the values it names."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:  # values may hold lists; notes are compared and de-duplicated by content
        return hash((self.code, repr(sorted(self.values.items()))))

    def __str__(self) -> str:
        return in_words(self, "en")


#: What puts a note into words (installed by :mod:`i18n`, which sits above every module that makes notes).
_renderer: Callable[[Note, str], str] | None = None


def use_renderer(render: Callable[[Note, str], str]) -> None:
    """Install ``render`` (note, language → text) as the one that says every note."""
    global _renderer
    _renderer = render


def in_words(made: Note, lang: str = "en") -> str:
    """``made`` in ``lang`` through the installed renderer; its code and values before one is installed."""
    if _renderer is None:
        return f"{made.code}: {made.values}" if made.values else made.code
    return _renderer(made, lang)


def note(code: str, **values: Any) -> Note:
    """A :class:`Note` with ``values``."""
    return Note(code, values)


#: A progress callback: the fraction done (0 … 1) and what is being done.
ProgressFn = Callable[[float, Note], None]


def report(progress: ProgressFn | None, fraction: float, code: str, **values: Any) -> None:
    """Tell ``progress`` (when given) how far the work is."""
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), Note(code, values))


__all__ = ["use_renderer", "in_words", "Note", "note", "ProgressFn", "report"]
