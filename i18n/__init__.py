"""Every string a person reads, in Chinese (zh-CN, the default) and English, and how to render them.

Importing it hands :func:`render_note` down to :mod:`geo.notes` (:func:`geo.notes.use_renderer`), so the notes
and coded errors that the lower layers make read as sentences wherever they are shown, without those layers
importing this one.
"""

from geo.notes import use_renderer
from i18n.notes import NOTES, render_note
from i18n.strings import LANGUAGES, STRINGS, label, t

use_renderer(render_note)

__all__ = ["LANGUAGES", "STRINGS", "NOTES", "label", "t", "render_note"]
