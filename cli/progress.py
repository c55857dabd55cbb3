"""Progress bars on a terminal, driven by the work itself (tqdm), silent with ``--quiet`` or when not a TTY."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator

from tqdm import tqdm

from geo.notes import Note, ProgressFn
from i18n import render_note

#: Steps of a bar that follows a fraction (0 … 1).
RESOLUTION = 1000


class Progress:
    """One bar per phase of a command; each phase hands a :data:`geo.notes.ProgressFn` to the work."""

    def __init__(self, *, quiet: bool = False, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()

    @contextlib.contextmanager
    def phase(self, description: str) -> Iterator[ProgressFn]:
        """A bar for one phase; the callback moves it to the fraction the work reports, with its note."""
        # A terminal that reports no size (a bare pty) would otherwise hide every bar.
        size = shutil.get_terminal_size((110, 24))
        bar = tqdm(total=RESOLUTION, desc=description, disable=not self.enabled, file=self.stream, ncols=size.columns,
                   nrows=size.lines,
                   bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed} {postfix}", leave=True, mininterval=0)

        def move(fraction: float, note: Note) -> None:
            target = int(round(fraction * RESOLUTION))
            if target > bar.n:
                bar.update(target - bar.n)
            bar.set_postfix_str(render_note(note, "en"), refresh=False)

        try:
            yield move
            if bar.n < RESOLUTION:
                bar.update(RESOLUTION - bar.n)
        finally:
            bar.close()


__all__ = ["Progress", "RESOLUTION"]
