"""120 opening-hour strings as Chinese departments write them: what each becomes or why it is refused; and
the own reader against opening-hours-py (the maintained OSM parser) on every accepted one, through a year."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import opening_hours
import pytest

from geo.errors import OpeningHoursError
from geo.hours import normalize_opening_hours, parse_opening_hours

CORPUS = Path(__file__).resolve().parents[1] / "data" / "opening_hours_corpus.tsv"


def _cases() -> list[tuple[str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, want = line.split("\t")
            rows.append((text, want))
    return rows


CASES = _cases()


def test_the_corpus_is_large_and_varied():
    assert len(CASES) >= 100
    refused = [c for c in CASES if c[1].startswith("refused:")]
    chinese = [c for c in CASES if not c[0].isascii()]
    assert 15 <= len(refused) and len(chinese) >= 70


@pytest.mark.parametrize("text, want", CASES, ids=[c[0][:30] for c in CASES])
def test_each_string_reads_as_expected_or_is_refused_with_its_reason(text, want):
    if want.startswith("refused:"):
        with pytest.raises(OpeningHoursError) as info:
            normalize_opening_hours(text)
        message = str(info.value)
        assert want[len("refused:"):].strip() in message and text in message
        return
    got = normalize_opening_hours(text)
    assert got == want
    assert normalize_opening_hours(got) == got  # the stored form reads as itself


def _instants():
    """Every 6th day of 2026–27 at times around the usual openings and closings (and just before them)."""
    day = dt.date(2026, 1, 3)
    while day < dt.date(2027, 1, 10):
        for hh, mm in ((0, 30), (1, 59), (5, 29), (6, 0), (7, 59), (8, 0), (9, 0), (11, 59), (12, 0), (13, 0),
                       (14, 29), (16, 30), (17, 59), (18, 0), (20, 59), (21, 0), (21, 59), (22, 0), (23, 59)):
            yield dt.datetime.combine(day, dt.time(hh, mm))
        day += dt.timedelta(days=6)


ACCEPTED = sorted({w for _t, w in CASES if not w.startswith("refused:") and "PH" not in w and "SH" not in w})


@pytest.mark.parametrize("normalised", ACCEPTED)
def test_the_own_reader_agrees_with_opening_hours_py(normalised):
    """PH and SH are left out: which days they are is a city's calendar, which the app is given, not the parser."""
    ours = parse_opening_hours(normalised)
    theirs = opening_hours.OpeningHours(normalised)
    differ = [t for t in _instants()
              if ours.is_open(t.weekday(), t.hour * 60 + t.minute, on=t.date()) != theirs.is_open(t)]
    assert differ == [], f"{normalised}: first difference at {differ[:3]}"
