"""The time-slot picker the coverage and operations pages share: a few named moments or one typed."""

from __future__ import annotations

import streamlit as st

from geo.errors import AnalysisError
from geo.facilities import PRESET_SLOTS, TimeSlot
from i18n import t
from ui import show

#: Named choices: key → the preset slot (None: any time).
CHOICES: dict[str, TimeSlot | None] = {"any": None, **PRESET_SLOTS}
_LABEL_KEYS = {"any": "any_time", "weekday 10:00": "slot_weekday_10", "weekday 19:00": "slot_weekday_19",
               "Saturday 09:00": "slot_saturday_9"}


def slot_picker(lang: str, key: str) -> TimeSlot | None:
    """A named slot, or the one typed below it (``周二 19:00`` / ``Tue 19:00``); a typo is said, not fatal."""
    picked = st.selectbox(t("time_slot", lang), list(CHOICES), key=key,
                          format_func=lambda k: t(_LABEL_KEYS[k], lang))
    typed = st.text_input(t("slot_typed", lang), key=key + ".typed", placeholder=t("slot_example", lang))
    if typed.strip():
        try:
            return TimeSlot.parse(typed)
        except AnalysisError:
            show.warning(t("slot_bad", lang, text=typed.strip()))
    return CHOICES[picked]


__all__ = ["CHOICES", "slot_picker"]
