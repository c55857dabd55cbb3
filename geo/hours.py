"""Opening hours: one normalised form (OSM ``opening_hours``) and its reading.

Stored hours are always the normalised OSM form, e.g. ``Mo-Fr 18:00-21:00; Sa,Su 08:00-20:00``.
:func:`normalize_opening_hours` also reads the ways Chinese offices write hours, e.g.
``周一至周五 18:00-21:00；周末 8:00-20:00``, ``工作日晚上6点-9点，节假日不开放``, ``全天``,
``早6:00-晚10:00``, ``夏季 6:00-22:00，冬季 7:00-21:00``, ``单周周六 9:00-12:00`` or
``寒暑假 8:00-18:00``.

Supported OSM: month selectors (``May-Sep``, ``Dec,Jan``), week parity (``week 01-53/2`` odd
ISO weeks, ``week 02-52/2`` even), weekday selectors (``Mo``… ``Su``, ranges, lists), ``PH``
(public holidays), ``SH`` (school holidays), time spans with minutes (``24:00`` and spans
past midnight allowed), ``off``/``closed``, ``24/7`` and ``"comments"``.  As in OSM, a later
rule overrides earlier ones for the days it names.  This is the subset Chinese departments'
hours need; the tests check it against opening-hours-py (the maintained OSM parser) on a
corpus of such strings, and an OSM string beyond it (``sunrise``, dates) is refused with a
message that says which part.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from geo.errors import OpeningHoursError

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_INDEX = {m: i + 1 for i, m in enumerate(MONTHS)}
_DAY_INDEX = {d: i for i, d in enumerate(DAYS)}
SPECIAL_DAYS = ("PH", "SH")
_MINUTES_PER_DAY = 24 * 60


def reference_date(weekday: int, today: date | None = None) -> date:
    """The date of ``weekday`` (0 = Monday) in the week of ``today`` (default: the current week)."""
    today = today or date.today()
    return today - timedelta(days=today.weekday()) + timedelta(days=weekday)


@dataclass(frozen=True)
class Rule:
    """One rule: the months, weeks and days it names and its spans in minutes (``off`` when spans is empty).

    ``months`` (1 … 12) and ``week_parity`` (1 odd ISO weeks, 0 even) are ``None`` when the
    rule holds all year and every week.
    """

    weekdays: frozenset[int]
    special: frozenset[str]
    spans: tuple[tuple[int, int], ...]
    months: frozenset[int] | None = None
    week_parity: int | None = None

    @property
    def off(self) -> bool:
        """True when the rule closes the days it names."""
        return not self.spans

    def holds_on(self, on: date) -> bool:
        """Whether the rule's months and weeks include the date ``on``."""
        if self.months is not None and on.month not in self.months:
            return False
        return self.week_parity is None or on.isocalendar().week % 2 == self.week_parity


@dataclass(frozen=True)
class OpeningHours:
    """Parsed opening hours; ``rules`` in the order written (later ones override)."""

    rules: tuple[Rule, ...]

    def rule_for(self, weekday: int, *, public_holiday: bool = False,
                 school_holiday: bool = False, on: date | None = None) -> Rule | None:
        """The rule in force on a day: the last one whose selector matches it.

        ``on`` is the date, for rules limited to months or to odd/even weeks (default: the day
        of ``weekday`` in the current week).
        """
        on = on or reference_date(weekday)
        found: Rule | None = None
        for rule in self.rules:
            if not rule.holds_on(on):
                continue
            # A selector lists days and holidays together (``Sa,Su,PH``): it holds on any of them.
            if weekday in rule.weekdays or ("PH" in rule.special and public_holiday) or (
                    "SH" in rule.special and school_holiday):
                found = rule
        return found

    def is_open(self, weekday: int, minute: int, *, public_holiday: bool = False,
                school_holiday: bool = False, on: date | None = None) -> bool:
        """Whether the place is open on ``weekday`` (0 = Monday) at ``minute`` after midnight.

        Spans that run past midnight (``22:00-02:00``) count on the next morning too.
        Holiday flags apply to the day asked about (not to the day before).  ``on`` is the
        date (for seasonal and odd/even-week rules; default this week's ``weekday``).
        """
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) … 6 (Sunday), not {weekday}")
        if not 0 <= minute < _MINUTES_PER_DAY:
            raise ValueError(f"minute must be 0 … 1439, not {minute}")
        on = on or reference_date(weekday)
        today = self.rule_for(weekday, public_holiday=public_holiday, school_holiday=school_holiday, on=on)
        if today is not None:
            for start, end in today.spans:
                if start <= minute < min(end, _MINUTES_PER_DAY) if end > start else minute >= start:
                    return True
        yesterday = self.rule_for((weekday - 1) % 7, on=on - timedelta(days=1))
        if yesterday is not None:
            for start, end in yesterday.spans:
                tail = end - _MINUTES_PER_DAY if end > _MINUTES_PER_DAY else (end if end < start else 0)
                if minute < tail:
                    return True
        return False

    def day_minutes(self, weekday: int, *, on: date | None = None) -> int:
        """Minutes open on an ordinary ``weekday`` (0 = Monday), a span past midnight counted whole."""
        rule = self.rule_for(weekday, on=on)
        if rule is None:
            return 0
        return sum((end - start) if end > start else (_MINUTES_PER_DAY - start + end) for start, end in rule.spans)

    def weekly_minutes(self, *, week_of: date | None = None) -> int:
        """Minutes open in an ordinary week (no public or school holidays): the week of ``week_of``
        (default the current one)."""
        monday = (week_of or reference_date(0)) - timedelta(days=(week_of or reference_date(0)).weekday())
        return sum(self.day_minutes(day, on=monday + timedelta(days=day)) for day in range(7))

    def __str__(self) -> str:
        return format_opening_hours(self)


def _fmt_minute(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _fmt_ranges(values: list[int], names: tuple[str, ...], base: int) -> str:
    """``Mo-Fr,Su`` / ``May-Sep``: consecutive runs of three or more as ranges."""
    parts: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{names[values[i] - base]}-{names[values[j] - base]}")
        else:
            parts.extend(names[v - base] for v in values[i:j + 1])
        i = j + 1
    return ",".join(parts)


def _fmt_months(months: frozenset[int]) -> str:
    ordered = sorted(months)
    # A season across the new year (Oct-Apr) reads better from its start.
    if 1 in months and 12 in months and len(months) < 12:
        start = next(m for m in range(12, 0, -1) if m - 1 not in months)
        ordered = [m for m in range(start, 13) if m in months] + [m for m in range(1, start) if m in months]
        runs, prev = [], None
        for m in ordered:
            if prev is not None and (m == prev % 12 + 1):
                runs[-1].append(m)
            else:
                runs.append([m])
            prev = m
        return ",".join(f"{MONTHS[r[0] - 1]}-{MONTHS[r[-1] - 1]}" if len(r) >= 3 else
                        ",".join(MONTHS[x - 1] for x in r) for r in runs)
    return _fmt_ranges(ordered, MONTHS, 1)


def _fmt_days(rule: Rule) -> str:
    parts = [_fmt_ranges(sorted(rule.weekdays), DAYS, 0)] if rule.weekdays else []
    parts.extend(s for s in SPECIAL_DAYS if s in rule.special)
    return ",".join(p for p in parts if p)


def format_opening_hours(hours: OpeningHours) -> str:
    """The normalised OSM text of parsed hours (``24/7`` when open every minute)."""
    if len(hours.rules) == 1:
        only = hours.rules[0]
        if (len(only.weekdays) == 7 and not only.special and only.spans == ((0, _MINUTES_PER_DAY),)
                and only.months is None and only.week_parity is None):
            return "24/7"
    texts = []
    for rule in hours.rules:
        times = "off" if rule.off else ",".join(
            f"{_fmt_minute(s)}-{_fmt_minute(e)}" for s, e in rule.spans
        )
        head = []
        if rule.months is not None:
            head.append(_fmt_months(rule.months))
        if rule.week_parity is not None:
            head.append("week 01-53/2" if rule.week_parity == 1 else "week 02-52/2")
        head.append(_fmt_days(rule))
        texts.append(" ".join(h for h in head if h) + f" {times}")
    return "; ".join(texts)


_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAY_ITEM_RE = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(?:-(Mo|Tu|We|Th|Fr|Sa|Su))?$")
_MONTH_SEL_RE = re.compile(r"^(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                           r"(?:-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec))?,?)+$")
_WEEK_SEL_RE = re.compile(r"^week\s*(\d{1,2})-(\d{1,2})/2$")
_COMMENT_RE = re.compile(r'"[^"]*"')


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


def _parse_months(selector: str) -> frozenset[int]:
    months: set[int] = set()
    for item in selector.split(","):
        if not item:
            continue
        ends = item.split("-")
        a = _MONTH_INDEX[ends[0]]
        b = _MONTH_INDEX[ends[-1]]
        m = a
        while True:
            months.add(m)
            if m == b:
                break
            m = m % 12 + 1
    return frozenset(months)


def _parse_week(token: str, original: str) -> int:
    m = _WEEK_SEL_RE.match(token)
    first, last = int(m.group(1)), int(m.group(2))
    if first not in (1, 2) or last < 52:
        raise OpeningHoursError(f"Opening hours {original!r}: {token!r}: only every other week through the year "
                                "is read (week 01-53/2 odd weeks, week 02-52/2 even weeks).")
    return first % 2


def _parse_spans(rest: str, original: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for span in rest.split(","):
        if not span.strip():
            continue  # a list left with a trailing comma (after a comment was taken out)
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
    return sorted(spans)


def parse_osm_opening_hours(text: str) -> OpeningHours:
    """Parse the supported subset of OSM ``opening_hours`` syntax (module docstring).

    Raises
    ------
    OpeningHoursError
        Naming the part that could not be read and what is accepted.
    """
    original = text
    text = _COMMENT_RE.sub(" ", text).strip()  # comments ("节假日另行通知") say nothing a map can use
    if re.search(r"sunrise|sunset|dawn|dusk", text):
        raise OpeningHoursError(f"Opening hours {original!r}: times by the sun (sunrise, sunset) are not read; "
                                "give clock times.")
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
        months, parity = None, None
        tokens = part.split()
        if tokens and _MONTH_SEL_RE.match(tokens[0]):
            months = _parse_months(tokens.pop(0))
        if len(tokens) >= 2 and tokens[0] == "week" and _WEEK_SEL_RE.match(f"week {tokens[1]}"):
            parity = _parse_week(f"week {tokens[1]}", original)
            tokens = tokens[2:]
        elif tokens and _WEEK_SEL_RE.match(tokens[0]):
            parity = _parse_week(tokens.pop(0), original)
        selector = ""
        if tokens and not tokens[0][0].isdigit() and tokens[0].lower() not in ("off", "closed", "open"):
            selector = tokens.pop(0)
        weekdays, special = (_parse_days(selector, original) if selector
                             else (frozenset(range(7)), frozenset()))
        rest = " ".join(tokens).strip()
        if rest.lower() in ("off", "closed"):
            spans: list[tuple[int, int]] = []
        elif rest.lower() in ("", "open"):
            spans = [(0, _MINUTES_PER_DAY)]
        else:
            spans = _parse_spans(rest, original)
        rules.append(Rule(weekdays, special, tuple(spans), months, parity))
    if not rules:
        raise OpeningHoursError(f"Opening hours {original!r} contain no rule.")
    return OpeningHours(tuple(rules))


_CN_DAY = {"一": "Mo", "二": "Tu", "三": "We", "四": "Th", "五": "Fr", "六": "Sa", "日": "Su", "天": "Su"}
_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
           "十一": 11, "十二": 12, "正": 1, "腊": 12, "冬": 11}
_DAY_CODE = r"(?:Mo|Tu|We|Th|Fr|Sa|Su|PH|SH)"
#: Summer and winter hours as most Chinese cities set them (summer schedule May to September).
SEASONS = {"夏季": "May-Sep", "夏令时": "May-Sep", "夏天": "May-Sep", "冬季": "Oct-Apr", "冬令时": "Oct-Apr",
           "冬天": "Oct-Apr", "春秋季": "Mar-May,Sep-Nov"}
#: Phrases that make the hours unusable for a map, and why (refused with the reason).
_UNREADABLE = [
    (r"预约|电话联系|另行通知开放时间|视情况|不定期|以公告为准", "they depend on a booking or a notice; give the "
     "regular hours (and put the booking rule in the booking field)"),
    (r"以后|之后|以前|之前|起$", "an open-ended time (\u201cafter 17:30\u201d) has no closing time; give both ends"),
    (r"随时|见.*公示|以现场为准|以门口为准", "they are not stated in the text; give the hours themselves"),
]
#: Words inside brackets that make the bracket part of the hours (else the bracket is a remark and dropped).
_HOURS_WORDS = re.compile(r"[0-9:]|周|星期|礼拜|闭|休|不开放|关闭|节假日|寒暑假|假期|每天|每日|工作日|点|时")
_WORDS = [
    (r"(?:全年)?(?:24|二十四)\s*小时(?:开放|营业)?|全天候(?:开放)?|全年无休|全天开放", "24/7"),
    (r"全天", " 00:00-24:00 "),
    (r"[（(]?(?:节假日|法定节假日)?另行通知[）)]?|[（(]?以通知为准[）)]?", ' "另行通知" '),
    (r"法定节假日|节假日|节日", " PH "),
    (r"寒暑假|学校假期|假期", " SH "),
    (r"工作日", " Mo-Fr "),
    (r"周末|双休日", " Sa,Su "),
    (r"每天|每日|天天|全周|全年|周一至周日|周一到周日", " Mo-Su "),
    (r"暂停开放|停止开放|不开放|不对外开放|关闭|闭馆|休息|休馆|不营业", " off "),
]


#: The English the app writes hours in (``Mon–Fri 18:00–21:00; Sat, Sun 08:00–20:00``), read back as OSM.
_ENGLISH = [
    (r"\bopen 24 hours\b", "24/7"), (r"\bevery day\b", "Mo-Su"), (r"\bpublic holidays?\b", "PH"),
    (r"\bschool holidays?\b", "SH"), (r"\bodd weeks\b", "week 01-53/2"), (r"\beven weeks\b", "week 02-52/2"),
    (r"\bclosed\b", "off"), (r"\bmon(?:day)?\b", "Mo"), (r"\btue(?:s|sday)?\b", "Tu"), (r"\bwed(?:nesday)?\b", "We"),
    (r"\bthu(?:rs|rsday)?\b", "Th"), (r"\bfri(?:day)?\b", "Fr"), (r"\bsat(?:urday)?\b", "Sa"),
    (r"\bsun(?:day)?\b", "Su"),
]


def _english_to_osm(text: str) -> str:
    """Day and holiday words in English as their OSM codes, dashes as hyphens, ``Sat, Sun`` as ``Sa,Su``."""
    s = text.replace("–", "-").replace("—", "-")
    for pattern, code in _ENGLISH:
        s = re.sub(pattern, code, s, flags=re.I)
    return re.sub(rf"({_DAY_CODE})\s*,\s*(?={_DAY_CODE}\b)", r"\1,", s)


def _month_range(m: re.Match[str]) -> str:
    def num(t: str) -> int:
        return int(t) if t.isdigit() else _CN_NUM[t]
    a, b = num(m.group(1)), num(m.group(2)) if m.group(2) else None
    if not 1 <= a <= 12 or (b is not None and not 1 <= b <= 12):
        return m.group(0)
    return f" {MONTHS[a - 1]}" + (f"-{MONTHS[b - 1]}" if b else "") + " "


def _chinese_to_osm(text: str) -> str:
    s = _english_to_osm(unicodedata.normalize("NFKC", text))
    for pattern, reason in _UNREADABLE:
        if re.search(pattern, s):
            raise OpeningHoursError(f"Opening hours {text!r} cannot be put on the map: {reason}.")
    s = s.replace("、", ",").replace("。", ";").replace("\n", ";").replace("|", ";")
    # "（周一闭馆）" is a rule of its own; "（放学后）" a remark: dropped.
    s = re.sub(r"[（(]([^（）()]*)[）)]",
               lambda m: f"; {m.group(1)};" if _HOURS_WORDS.search(m.group(1)) and not re.fullmatch(
                   r"\s*(?:\d{1,2}|[一二三四五六七八九十]+)\s*月?\s*(?:至|到|~|-|—|–)\s*(?:\d{1,2}|[一二三四五六七八九十]+)\s*月(?:份)?\s*",
                   m.group(1)) else (m.group(0) if re.search(r"月", m.group(1)) else " "), s)
    # "夏季（5-9月）": the season word says it already.
    s = re.sub(r"[（(]\s*(\d{1,2}|[一二三四五六七八九十]+)\s*(?:月)?\s*(?:至|到|~|-|—|–)\s*"
               r"(\d{1,2}|[一二三四五六七八九十]+)\s*月(?:份)?\s*[)）]", " ", s)
    for word, months in SEASONS.items():
        s = s.replace(word, f" {months} ")
    s = re.sub(r"(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月(?:份)?\s*(?:至|到|~|-|—|–)\s*"
               r"(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月(?:份)?", _month_range, s)
    s = re.sub(r"(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*-\s*(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月(?:份)?",
               _month_range, s)
    s = re.sub(r"单周", " week 01-53/2 ", s)
    s = re.sub(r"双周", " week 02-52/2 ", s)
    for pattern, repl in _WORDS:
        s = re.sub(pattern, repl, s)
    s = re.sub(r"(?:每逢|每)?(?:周|星期|礼拜|週)([一二三四五六日天])", lambda m: " " + _CN_DAY[m.group(1)] + " ", s)

    def clock(m: re.Match[str]) -> str:
        period, hour, minute, half = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        if period in ("下午", "晚上", "晚", "傍晚", "夜间", "夜里") and hour < 12:
            hour += 12
        if period == "中午" and hour < 6:
            hour += 12
        mins = int(minute) if minute else (30 if half else 0)
        return f" {hour:02d}:{mins:02d}"

    s = re.sub(r"(凌晨|上午|早上|早晨|清晨|早|中午|午间|下午|傍晚|晚上|夜间|夜里|晚)?\s*(\d{1,2})\s*(?::|点|时)\s*"
               r"(\d{2})?(半)?\s*分?", clock, s)

    def span(m: re.Match[str]) -> str:
        start, end = m.group(1), m.group(2)
        sh, eh = int(start[:2]), int(end[:2])
        # "晚上6点-9点": the afternoon/evening word governs both ends of the span.
        if sh >= 12 and eh < sh and eh + 12 > sh and eh + 12 <= 24:
            end = f"{eh + 12:02d}{end[2:]}"
        return f"{start}-{end}"

    s = re.sub(r"(\d{2}:\d{2})\s*(?:至|到|~|-|—|–)\s*(?:次日|翌日)?\s*(\d{2}:\d{2})", span, s)
    s = re.sub(rf"({_DAY_CODE})\s*(?:至|到|~|-|—|–)\s*({_DAY_CODE})", r"\1-\2", s)
    # "周六周日", "周末节假日": days one after another are one list; but "SH Mo-Fr" (OSM: weekdays *within*
    # the school holidays) is not a list and is left for the parser to refuse.
    s = re.sub(rf"(Mo|Tu|We|Th|Fr|Sa|Su)\s*(?:,|和|及|与)?\s*(?=({_DAY_CODE})\b)", r"\1,", s)
    s = re.sub(r"\b(PH|SH)\s*(?:,|和|及|与)\s*(?=(Mo|Tu|We|Th|Fr|Sa|Su|PH|SH)\b)", r"\1,", s)
    s = re.sub(r"\b(PH|SH)\s*,?\s*Mo-Su\b", r"\1", s)  # "寒暑假每天": every day of the holidays
    s = re.sub(rf"(\d{{2}}:\d{{2}}|off|\"[^\"]*\")\s*[,;]?\s*(?=(?:{_DAY_CODE}|week|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
               rf"Sep|Oct|Nov|Dec)\b)", r"\1; ", s)
    s = re.sub(r"(\d{2}:\d{2})\s*(?:和|及|,|与)?\s*(?=\d{2}:\d{2}-)", r"\1,", s)
    s = re.sub(r"开放|营业|时间|每周|:(?!\d)|[（）()【】\[\]]", " ", s)
    s = re.sub(rf"({_DAY_CODE}(?:[-,]{_DAY_CODE})*)\s+", r"\1 ", s)
    s = re.sub(r"\s*,\s*", ",", s)
    s = re.sub(r"\s+", " ", s).strip(" ;,")
    # "单周周六、双周周日 9:00-12:00": each week selector takes the shared times.
    s = re.sub(r"(week \S+ \S+),(week \S+ \S+) (\S+)", r"\1 \3; \2 \3", s)
    s = re.sub(r"\s*;\s*(?:;\s*)+", "; ", s).strip(" ;")
    if not re.search(r"\d|off|24/7", s):
        raise OpeningHoursError(f"Opening hours {text!r} name no time of day (read as {s!r}); give the hours, "
                                "e.g. '周一至周五 18:00-21:00'.")
    return s


def parse_opening_hours(text: str) -> OpeningHours:
    """Read opening hours in OSM syntax or in common Chinese writing.

    Raises
    ------
    OpeningHoursError
        When neither reading works; the message quotes the text, says why, and gives examples.
    """
    try:
        return parse_osm_opening_hours(text)
    except OpeningHoursError as osm_error:
        if text.isascii() and re.search(r"[A-Za-z]{2}", text):  # OSM syntax with a real problem: say that one
            try:
                return parse_osm_opening_hours(_chinese_to_osm(text))
            except OpeningHoursError:
                raise osm_error from None
    if not text.strip():
        raise OpeningHoursError("Opening hours are empty; leave the field null when unknown.")
    try:
        converted = _chinese_to_osm(text)
    except OpeningHoursError as exc:
        raise OpeningHoursError(f"Cannot read opening hours {text!r}: {exc} Write them like "
                                "'周一至周五 18:00-21:00；周末 8:00-20:00'.") from None
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
