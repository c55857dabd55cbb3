"""Every string a person reads, in Chinese (zh-CN, the default) and English, and how to render them."""

from i18n.notes import NOTES, render_note
from i18n.strings import LANGUAGES, STRINGS, label, t

__all__ = ["LANGUAGES", "STRINGS", "NOTES", "label", "t", "render_note"]
