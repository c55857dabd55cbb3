"""Opening hours: one normalised form (a subset of OSM ``opening_hours``) and its reading.

Stored hours are always the normalised OSM form, e.g. ``Mo-Fr 18:00-21:00; Sa,Su 08:00-20:00``.
:func:`normalize_opening_hours` also reads the ways Chinese offices write hours, e.g.
``周一至周五 18:00-21:00；周末 8:00-20:00`` or ``工作日晚上6点-9点，节假日不开放``.

Supported: weekday selectors (``Mo``… ``Su``, ranges, lists), ``PH`` (public holidays),
``SH`` (school holidays), time spans with minutes (``24:00`` and spans past midnight
allowed), ``off``, and ``24/7``.  As in OSM, a later rule overrides earlier ones for the
days it names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from geo.errors import OpeningHoursError

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_INDEX = {d: i for i, d in enumerate(DAYS)}
SPECIAL_DAYS = ("PH", "SH")
_MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Rule:
    """One rule: the days it names and its spans in minutes (``off`` when spans is empty)."""

    weekdays: frozenset[int]
    special: frozenset[str]
    spans: tuple[tuple[int, int], ...]

    @property
    def off(self) -> bool:
        """True when the rule closes the days it names."""
        return not self.spans


@dataclass(frozen=True)
class OpeningHours:
    """Parsed opening hours; ``rules`` in the order written (later ones override)."""

    rules: tuple[Rule, ...]

    def rule_for(self, weekday: int, *, public_holiday: bool = False,
                 school_holiday: bool = False) -> Rule | None:
        """The rule in force on a day: the last one whose selector matches it."""
        found: Rule | None = None
        for rule in self.rules:
            if rule.special:
                if ("PH" in rule.special and public_holiday) or (
                    "SH" in rule.special and school_holiday
                ):
                    found = rule
            elif weekday in rule.weekdays:
                found = rule
        return found

    def is_open(self, weekday: int, minute: int, *, public_holiday: bool = False,
                school_holiday: bool = False) -> bool:
        """Whether the place is open on ``weekday`` (0 = Monday) at ``minute`` after midnight.

        Spans that run past midnight (``22:00-02:00``) count on the next morning too.
        Holiday flags apply to the day asked about (not to the day before).
        """
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) … 6 (Sunday), not {weekday}")
        if not 0 <= minute < _MINUTES_PER_DAY:
            raise ValueError(f"minute must be 0 … 1439, not {minute}")
        today = self.rule_for(weekday, public_holiday=public_holiday,
                              school_holiday=school_holiday)
        if today is not None:
            for start, end in today.spans:
                if start <= minute < min(end, _MINUTES_PER_DAY) if end > start else minute >= start:
                    return True
        yesterday = self.rule_for((weekday - 1) % 7)
        if yesterday is not None:
            for start, end in yesterday.spans:
                tail = end - _MINUTES_PER_DAY if end > _MINUTES_PER_DAY else (end if end < start else 0)
                if minute < tail:
                    return True
        return False

    def day_minutes(self, weekday: int) -> int:
        """Minutes open on an ordinary ``weekday`` (0 = Monday), a span past midnight counted whole."""
        rule = self.rule_for(weekday)
        if rule is None:
            return 0
        return sum((end - start) if end > start else (_MINUTES_PER_DAY - start + end) for start, end in rule.spans)

    def weekly_minutes(self) -> int:
        """Minutes open in an ordinary week (no public or school holidays)."""
        return sum(self.day_minutes(day) for day in range(7))

    def __str__(self) -> str:
        return format_opening_hours(self)


def _fmt_minute(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _fmt_days(rule: Rule) -> str:
    parts: list[str] = []
    days = sorted(rule.weekdays)
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{DAYS[days[i]]}-{DAYS[days[j]]}")
        else:
            parts.extend(DAYS[d] for d in days[i:j + 1])
        i = j + 1
    parts.extend(s for s in SPECIAL_DAYS if s in rule.special)
    return ",".join(parts)


def format_opening_hours(hours: OpeningHours) -> str:
    """The normalised OSM text of parsed hours (``24/7`` when open every minute)."""
    if len(hours.rules) == 1:
        only = hours.rules[0]
        if len(only.weekdays) == 7 and not only.special and only.spans == ((0, _MINUTES_PER_DAY),):
            return "24/7"
    texts = []
    for rule in hours.rules:
        times = "off" if rule.off else ",".join(
            f"{_fmt_minute(s)}-{_fmt_minute(e)}" for s, e in rule.spans
        )
        texts.append(f"{_fmt_days(rule)} {times}")
    return "; ".join(texts)


_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAY_ITEM_RE = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(?:-(Mo|Tu|We|Th|Fr|Sa|Su))?$")


def _parse_minute(text: str, original: str, *, allow_48: bool = False) -> int:
    m = _TIME_RE.match(text)
    if not m:
        raise OpeningHoursError(f"Opening hours {original!r}: {text!r} is not a time like 08:30.")
    h, mi = int(m.group(1)), int(m.group(2))
    limit = 48 if allow_48 else 24
    if mi > 59 or h > limit or (h == limit and mi > 0):
        raise OpeningHoursError(f"Opening hours {original!r}: {text!r} is not a valid time of day.")
    return h * 60 + mi


def _parse_days(selector: str, original: str) -> tuple[frozenset[int], frozenset[str]]:
    weekdays: set[int] = set()
    special: set[str] = set()
    for item in selector.split(","):
        item = item.strip()
        if item in SPECIAL_DAYS:
            special.add(item)
            continue
        m = _DAY_ITEM_RE.match(item)
        if not m:
            raise OpeningHoursError(
                f"Opening hours {original!r}: {item!r} is not a day; use Mo Tu We Th Fr Sa Su, "
                "ranges like Mo-Fr, PH (public holidays) or SH (school holidays)."
            )
        a = _DAY_INDEX[m.group(1)]
        b = _DAY_INDEX[m.group(2)] if m.group(2) else a
        d = a
        while True:
            weekdays.add(d)
            if d == b:
                break
            d = (d + 1) % 7
    return frozenset(weekdays), frozenset(special)


def parse_osm_opening_hours(text: str) -> OpeningHours:
    """Parse the supported subset of OSM ``opening_hours`` syntax.

    Raises
    ------
    OpeningHoursError
        Naming the part that could not be read and what is accepted.
    """
    original = text
    text = text.strip()
    if not text:
        raise OpeningHoursError("Opening hours are empty; leave the field null when unknown.")
    rules: list[Rule] = []
    for raw in re.split(r";|\|\|", text):
        part = raw.strip()
        if not part:
            continue
        if part == "24/7":
            rules.append(Rule(frozenset(range(7)), frozenset(), ((0, _MINUTES_PER_DAY),)))
            continue
        tokens = part.split(None, 1)
        selector, rest = "", part
        first = tokens[0]
        if not first[0].isdigit() and first.lower() not in ("off", "closed"):
            selector, rest = first, (tokens[1] if len(tokens) > 1 else "")
        weekdays, special = (_parse_days(selector, original) if selector
                             else (frozenset(range(7)), frozenset()))
        rest = rest.strip()
        spans: list[tuple[int, int]] = []
        if rest.lower() in ("off", "closed"):
            pass
        elif rest == "":
            spans.append((0, _MINUTES_PER_DAY))
        else:
            for span in rest.split(","):
                pieces = span.strip().split("-")
                if len(pieces) != 2:
                    raise OpeningHoursError(
                        f"Opening hours {original!r}: {span.strip()!r} is not a time span like 08:00-20:00."
                    )
                start = _parse_minute(pieces[0].strip(), original)
                end = _parse_minute(pieces[1].strip(), original, allow_48=True)
                if start >= _MINUTES_PER_DAY:
                    raise OpeningHoursError(f"Opening hours {original!r}: a span cannot start at 24:00.")
                if end == start:
                    raise OpeningHoursError(f"Opening hours {original!r}: span {span.strip()!r} is empty.")
                spans.append((start, end))
            spans.sort()
        rules.append(Rule(weekdays, special, tuple(spans)))
    if not rules:
        raise OpeningHoursError(f"Opening hours {original!r} contain no rule.")
    return OpeningHours(tuple(rules))


_CN_DAY = {"一": "Mo", "二": "Tu", "三": "We", "四": "Th", "五": "Fr", "六": "Sa", "日": "Su", "天": "Su"}
_DAY_CODE = r"(?:Mo|Tu|We|Th|Fr|Sa|Su|PH|SH)"
_WORDS = [
    (r"24\s*小时(?:开放|营业)?|全天候(?:开放)?|全天开放|全年无休", "24/7"),
    (r"法定节假日|节假日|节日", " PH "),
    (r"寒暑假|学校假期|假期", " SH "),
    (r"工作日", " Mo-Fr "),
    (r"周末|双休日", " Sa,Su "),
    (r"每天|每日|天天|全周|全年", " Mo-Su "),
    (r"暂停开放|停止开放|不开放|不对外开放|关闭|闭馆|休息|休馆", " off "),
]


def _chinese_to_osm(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = s.replace("、", ",").replace("。", ";").replace("\n", ";")
    for pattern, repl in _WORDS:
        s = re.sub(pattern, repl, s)
    s = re.sub(r"(?:周|星期|礼拜|週)([一二三四五六日天])", lambda m: " " + _CN_DAY[m.group(1)] + " ", s)

    def clock(m: re.Match[str]) -> str:
        period, hour, minute, half = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        if period in ("下午", "晚上", "晚", "傍晚") and hour < 12:
            hour += 12
        mins = int(minute) if minute else (30 if half else 0)
        return f" {hour:02d}:{mins:02d}"

    s = re.sub(r"(上午|早上|早晨|早|中午|下午|傍晚|晚上|晚)?\s*(\d{1,2})\s*(?::|点|时)\s*(\d{2})?(半)?\s*分?", clock, s)
    def span(m: re.Match[str]) -> str:
        start, end = m.group(1), m.group(2)
        sh, eh = int(start[:2]), int(end[:2])
        # "晚上6点-9点": the afternoon/evening word governs both ends of the span.
        if sh >= 12 and eh < sh and eh + 12 > sh and eh + 12 <= 24:
            end = f"{eh + 12:02d}{end[2:]}"
        return f"{start}-{end}"

    s = re.sub(r"(\d{2}:\d{2})\s*(?:至|到|~|-|—|–)\s*(?:次日|翌日)?\s*(\d{2}:\d{2})", span, s)
    s = re.sub(rf"({_DAY_CODE})\s*(?:至|到|~|-|—|–)\s*({_DAY_CODE})", r"\1-\2", s)
    s = re.sub(rf"({_DAY_CODE})\s*(?:,|和|及)\s*(?=({_DAY_CODE}))", r"\1,", s)
    s = re.sub(rf"(\d{{2}}:\d{{2}}|off)\s*,\s*(?={_DAY_CODE})", r"\1; ", s)
    s = re.sub(rf"(\d{{2}}:\d{{2}}|off)\s+(?={_DAY_CODE})", r"\1; ", s)
    s = re.sub(r"(\d{2}:\d{2})\s*(?:和|及)\s*(?=\d{2}:\d{2})", r"\1,", s)
    s = re.sub(r"开放|营业|时间|:(?!\d)", " ", s)
    s = re.sub(rf"({_DAY_CODE}(?:[-,]{_DAY_CODE})*)\s+", r"\1 ", s)
    s = re.sub(r"\s*,\s*", ",", s)
    return re.sub(r"\s+", " ", s).strip(" ;")


def parse_opening_hours(text: str) -> OpeningHours:
    """Read opening hours in OSM syntax or in common Chinese writing.

    Raises
    ------
    OpeningHoursError
        When neither reading works; the message quotes the text and gives examples.
    """
    try:
        return parse_osm_opening_hours(text)
    except OpeningHoursError:
        pass
    converted = _chinese_to_osm(text)
    try:
        return parse_osm_opening_hours(converted)
    except OpeningHoursError as exc:
        raise OpeningHoursError(
            f"Cannot read opening hours {text!r} (read as {converted!r}: {exc}). "
            "Write them like 'Mo-Fr 18:00-21:00; Sa,Su 08:00-20:00' or "
            "'周一至周五 18:00-21:00；周末 8:00-20:00'."
        ) from None


def normalize_opening_hours(text: str) -> str:
    """Return the normalised OSM form of ``text`` (OSM or Chinese writing)."""
    return format_opening_hours(parse_opening_hours(text))
