import pytest

from geo.errors import OpeningHoursError
from geo.hours import normalize_opening_hours, parse_opening_hours


@pytest.mark.parametrize("text, normalised", [
    ("周一至周五 18:00-21:00；周末 8:00-20:00", "Mo-Fr 18:00-21:00; Sa,Su 08:00-20:00"),
    ("Mo-Fr 18:00-21:00; Sa,Su 08:00-20:00", "Mo-Fr 18:00-21:00; Sa,Su 08:00-20:00"),
    ("工作日晚上6点-9点，节假日不开放", "Mo-Fr 18:00-21:00; PH off"),
    ("周一至周五：18:00—21:00，周六、周日：08:00-12:00和14:00-18:00",
     "Mo-Fr 18:00-21:00; Sa,Su 08:00-12:00,14:00-18:00"),
    ("每天 6:00-22:00", "Mo-Su 06:00-22:00"),
    ("24小时开放", "24/7"),
    ("Mo-Su 00:00-24:00", "24/7"),
    ("星期二、星期四 19:00-21:00", "Tu,Th 19:00-21:00"),
    ("寒暑假 8:00-18:00", "SH 08:00-18:00"),
    ("晚上10点至次日2点", "Mo-Su 22:00-02:00"),
    ("下午2点到5点半", "Mo-Su 14:00-17:30"),
    ("不开放", "Mo-Su off"),
])
def test_normalise(text, normalised):
    assert normalize_opening_hours(text) == normalised
    assert normalize_opening_hours(normalised) == normalised  # idempotent


def test_school_field_open_only_evenings_and_weekends():
    h = parse_opening_hours("Mo-Fr 18:00-21:00; Sa,Su 08:00-20:00")
    assert not h.is_open(1, 10 * 60)          # Tuesday 10:00, teaching hours
    assert h.is_open(1, 19 * 60)              # Tuesday 19:00
    assert not h.is_open(1, 21 * 60)          # closing minute is closed
    assert h.is_open(5, 9 * 60)               # Saturday 09:00
    assert h.weekly_minutes() == (5 * 3 + 2 * 12) * 60


def test_later_rules_override_and_holidays():
    h = parse_opening_hours("Mo-Su 08:00-20:00; Mo off; PH off; SH 08:00-12:00")
    assert not h.is_open(0, 600) and h.is_open(2, 600)
    assert not h.is_open(2, 600, public_holiday=True)
    assert h.is_open(2, 600, school_holiday=True) and not h.is_open(2, 13 * 60, school_holiday=True)


def test_span_past_midnight():
    h = parse_opening_hours("Fr 22:00-02:00")
    assert h.is_open(4, 23 * 60) and h.is_open(5, 60) and not h.is_open(4, 60)
    assert h.weekly_minutes() == 240


@pytest.mark.parametrize("bad, hint", [
    ("有时候开", "Cannot read opening hours '有时候开'"),
    ("25:00-26:00", "not a valid time"),
    ("Mo-Fr 8-9", "not a time like 08:30"),
    ("周八 8:00", "not a day"),
    ("   ", "empty"),
    ("Mo 10:00-10:00", "empty"),
])
def test_unreadable_hours_name_the_text(bad, hint):
    with pytest.raises(OpeningHoursError, match=hint):
        parse_opening_hours(bad)


def test_days_and_holidays_in_one_selector_hold_on_each():
    """``Sa,Su,PH`` is open on Saturdays and Sundays as well as on public holidays (it was read as holidays only,
    so nine demo venues counted as never open and without capacity)."""
    h = parse_opening_hours("Sa,Su,PH 07:00-21:00")
    assert h.is_open(5, 8 * 60) and h.is_open(6, 20 * 60) and not h.is_open(2, 8 * 60)
    assert h.is_open(2, 8 * 60, public_holiday=True) and not h.is_open(2, 8 * 60, school_holiday=True)
    assert h.weekly_minutes() == 2 * 14 * 60
    both = parse_opening_hours("Mo-Fr 18:00-21:00; SH,Sa 09:00-12:00")
    assert both.is_open(5, 10 * 60) and both.is_open(1, 10 * 60, school_holiday=True)
    assert not both.is_open(1, 19 * 60, school_holiday=True)  # the later rule holds on a school-holiday Tuesday
