"""Chinese for the data exchange server's page chrome.

pygeoapi writes its HTML pages from Jinja templates whose texts go through Babel
(``{% trans %}``) and loads ``messages.mo`` from the configured ``locale_dir``.  The project
keeps the catalogue as text (``services/locale/zh/LC_MESSAGES/messages.po``); the server
compiles it into its own folder when it starts, so nothing binary is kept in the source.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

#: The catalogues kept as text, one folder per language.
LOCALE_SOURCE = Path(__file__).resolve().parent / "locale"
#: pygeoapi's own templates (where the texts to translate come from).
DOMAIN = "messages"


def compiled_locale(folder: Path) -> Path:
    """Compile every kept catalogue into ``folder/locale`` (pygeoapi's ``server.locale_dir``); return it."""
    out = folder / "locale"
    for po in sorted(LOCALE_SOURCE.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        target = out / po.parent.parent.name / "LC_MESSAGES" / f"{DOMAIN}.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f)
        with target.open("wb") as f:
            write_mo(f, catalog)
    return out


def template_texts(templates: Path) -> set[str]:
    """Every text pygeoapi's templates under ``templates`` translate (what a catalogue must cover)."""
    from babel.messages.extract import extract_from_dir

    found = extract_from_dir(str(templates), method_map=[("**.html", "jinja2")],
                             options_map={"**.html": {"extensions": "jinja2.ext.i18n"}})
    return {m if isinstance(m, str) else m[0] for _f, _line, m, _c, _ctx in found}


def kept_texts(lang: str = "zh") -> dict[str, str]:
    """The kept catalogue for ``lang``: text → translation."""
    with (LOCALE_SOURCE / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


__all__ = ["compiled_locale", "template_texts", "kept_texts", "LOCALE_SOURCE"]
