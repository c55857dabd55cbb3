"""The personal-data guard: resident data enters only as aggregates per unit.

A delivery that carries personal identifiers — 18-digit resident identity numbers (with a
valid check digit), mobile phone numbers, or personal names beside health measurements —
is refused as a whole, with the column and row of the first finding and the value
masked, so nothing personal is stored or echoed back.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from layers.errors import PersonalDataError

_ID = re.compile(r"(?<![0-9])([1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
                 r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9]{9})(?![0-9])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
#: Column names that mean a person's name, and ones that mean a health measurement.
PERSON_NAME_COLUMNS = ("姓名", "患者姓名", "居民姓名", "联系人", "person", "patient", "patient_name", "full_name")
HEALTH_COLUMNS = ("诊断", "病历", "病史", "血压", "血糖", "体重", "身高", "bmi", "心率", "体检", "慢病",
                  "diagnosis", "blood_pressure", "glucose", "weight", "height", "heart_rate")


def is_resident_id(text: str) -> bool:
    """Whether ``text`` is an 18-digit resident identity number with a valid check digit."""
    if not _ID.fullmatch(text):
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _WEIGHTS))
    return _CHECK[total % 11] == text[17].upper()


def _mask(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "***"


def check_personal_data(frame: pd.DataFrame, *, source: str) -> None:
    """Refuse ``frame`` if it carries personal identifiers.

    Raises
    ------
    PersonalDataError
        Naming the file, the column and the (1-based) row, with the value masked.
    """
    columns = [c for c in frame.columns if c != "geometry"]
    lowered = {c: str(c).strip().lower() for c in columns}
    names = [c for c in columns if any(k in lowered[c] for k in PERSON_NAME_COLUMNS)]
    health = [c for c in columns if any(k in lowered[c] for k in HEALTH_COLUMNS)]
    if names and health:
        raise PersonalDataError(
            f"{source}: holds personal names (column {names[0]!r}) beside health measurements "
            f"(column {health[0]!r}). Resident health data may only be loaded as aggregates per "
            "unit (e.g. residents tested per community); remove the names and aggregate first.")
    for c in columns:
        col = frame[c]
        if col.dtype.kind not in "OSU" and not pd.api.types.is_string_dtype(col):
            if col.dtype.kind in "iu":
                col = col.astype(str)
            else:
                continue
        text = col.dropna().astype(str)
        if text.empty:
            continue
        for pattern, what in ((_ID, "an 18-digit resident identity number"), (_MOBILE, "a mobile phone number")):
            hits = text.str.extract(pattern, expand=False).dropna()
            if pattern is _ID:
                hits = hits[hits.map(is_resident_id)]
            if len(hits):
                i = hits.index[0]
                row = int(np.flatnonzero(frame.index == i)[0]) + 1
                raise PersonalDataError(
                    f"{source}: column {c!r}, row {row} holds {what} ({_mask(hits.iloc[0])}); "
                    f"{len(hits)} row(s) like it. Personal identifiers are not stored here: remove "
                    "the column (for a venue, give an office landline instead) and load the file again.")
