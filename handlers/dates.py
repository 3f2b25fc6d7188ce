"""Find the date, or date range, of an activity in a chat message.

Read, in English, French and Spanish: ISO dates (2024-03-12, 2023-09-12 to
2023-09-14), dates with the month as a word (12-14 March 2024, 30 Sept-2 Oct 2024,
March 5, 2024, du 28 au 30 novembre 2023, del 10 al 12 de julio de 2023, 4 y 5 de
septiembre, Feb-Mar 2023, March 2019, 12 March), numeric dates (22/05/2023 -
24/05/2023, 28-30/11/2023, 13/9/2022) and a few relative words (today, yesterday,
hier, ayer, last Tuesday, last week, last month, 3 days ago). Month names and their
abbreviations come from CLDR through Babel, accents folded.

A numeric date is day-first or month-first by whichever reading is possible
(22/05 can only be day-first); when both are (03/05/2024) a DateError carries both
readings so the user can pick one. Bare years ("2019 COPs") are not dates.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from babel.dates import get_month_names

__all__ = ["DateError", "DateSpan", "find_dates"]


@dataclass(frozen=True)
class DateSpan:
    """Start and end (inclusive) of an activity, and where the text said so."""

    start: date
    end: date
    span: tuple[int, int]  # character offsets of the matched text
    year_taken: bool = False  # no year was written; the reply says which one was taken


class DateError(ValueError):
    """A date that cannot be right; `message` is written to be shown to the user."""

    def __init__(self, message: str, span: tuple[int, int], readings: tuple[DateSpan, ...] = ()):
        super().__init__(message)
        self.message = message
        self.span = span
        self.readings = readings  # a numeric date that reads two ways: both, day-first first


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July",
                "August", "September", "October", "November", "December")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LANGUAGES = ("en", "fr", "es")


def fold(text: str) -> str:
    """Lower case without accents, one character for one ("Décembre" -> "decembre"), so
    that offsets in the folded text are offsets in the original."""
    out = []
    for c in text:
        base = unicodedata.normalize("NFD", c)[0] if ord(c) > 127 else c
        out.append(base if len(base.lower()) == 1 else c)
    return "".join(out).lower()


@cache
def month_numbers() -> dict[str, int]:
    """Every wide and abbreviated month name of English, French and Spanish, folded,
    without its dot ("sept", "fevr", "diciembre"), to its number."""
    names: dict[str, int] = {}
    for locale in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale=locale).items():
                    names[fold(name).rstrip(".")] = number
    return names


_MONTH_WORD = "|".join(sorted(map(re.escape, month_numbers()), key=len, reverse=True))


def _day(g: str, first: bool = True) -> str:
    # A first day is not part of a code or a decimal ("OEWG-12", "SDG 12.4.2", "art.12").
    # Only 1-31 can be a day ("in May 35 attended" is a count); 31 April is a day
    # that does not exist and gets a DateError.
    guard = r"(?<![\w.:/-])" if first else ""
    return rf"{guard}(?P<{g}>0?[1-9]|[12]\d|3[01])(?!\d)(?:st|nd|rd|th|er|re|º|°)?"


def _month(g: str) -> str:
    return rf"\b(?P<{g}>{_MONTH_WORD})\.?(?![a-z])"


def _year(g: str) -> str:
    return rf"(?P<{g}>(?:19|20)\d\d)(?!\d)"


def _iso(n: str) -> str:
    guard = r"(?<![\d.-])" if n == "1" else ""
    return rf"{guard}(?P<y{n}>(?:19|20)\d\d)[-/.](?P<m{n}>\d{{1,2}})[-/.](?P<d{n}>\d{{1,2}})(?![\d])"


# Leading words belong to the date phrase, so a caller that cuts the date out of
# the text does not leave a dangling "from" or "on" behind.
_LEAD_WORDS = r"from|between|on|in|during|du|des|le|les|entre|del|el|los|en"
_LEAD = rf"(?:\b(?:{_LEAD_WORDS})\s+(?:the\s+)?)?"
_TO_WORDS = r"to|till|until|through|thru|and|au|et|al|a|y|hasta(?:\s+el)?|jusqu'au"
_TO = rf"\s*(?:[-–—]|\b(?:{_TO_WORDS})\b|&)\s*(?:the\s+)?"
_MONTH_TO = rf"\s*(?:[-–—/]|\b(?:{_TO_WORDS})\b|&)\s*"
_LEAD_WORD = re.compile(rf"^(?:{_LEAD_WORDS})\s+(?:the\s+)?", re.IGNORECASE)
_YSEP = r",?\s*(?:de\s+|del\s+)?"
_OF = r"\s*(?:of\s+|de\s+)?"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Longest forms first: each match is masked before the next pattern runs, so
# "12-14 March 2024" is never also read as "14 March 2024".
_WORD_PATTERNS = [
    # 30 Sept-2 Oct 2024, from 28 Nov to 2 Dec 2022, 30 Dec 2023 - 2 Jan 2024
    _rx(_LEAD + _day("d1") + _OF + _month("m1") + rf"(?:{_YSEP}{_year('y1')})?"
        + _TO + _day("d2", first=False) + _OF + _month("m2") + rf"(?:{_YSEP}{_year('y2')})?"),
    # 12-14 March 2024, 12 to 14 Mar
    _rx(_LEAD + _day("d1") + _TO + _day("d2", first=False) + _OF + _month("m2") + rf"(?:{_YSEP}{_year('y2')})?"),
    # March 30 - April 2, 2024
    _rx(_LEAD + _month("m1") + r"\s*" + _day("d1") + rf"(?:{_YSEP}{_year('y1')})?"
        + _TO + _month("m2") + r"\s*" + _day("d2") + rf"(?:{_YSEP}{_year('y2')})?"),
    # March 5-7, 2024
    _rx(_LEAD + _month("m1") + r"\s*" + _day("d1") + _TO + _day("d2", first=False) + rf"(?:{_YSEP}{_year('y2')})?"),
    # Feb-Mar 2023, Nov 2022 - Feb 2023 (a year is required: "may to june" is too often prose)
    _rx(_LEAD + _month("m1") + rf"(?:{_YSEP}{_year('y1')})?" + _MONTH_TO + _month("m2") + _YSEP + _year("y2")),
    # 5 Oct 2023, 1st of March, 27 feb 2025
    _rx(_LEAD + _day("d1") + _OF + _month("m1") + rf"(?:{_YSEP}{_year('y2')})?"),
    # March 5, 2024, Mar 12
    _rx(_LEAD + _month("m1") + r"\s*" + _day("d1") + rf"(?:{_YSEP}{_year('y2')})?"),
    # March 2019 (the whole month)
    _rx(_LEAD + _month("m1") + _YSEP + _year("y2")),
]
_ISO_RANGE = _rx(_LEAD + _iso("1") + _TO + _iso("2"))
_ISO_SINGLE = _rx(_LEAD + _iso("1"))
# Numeric dates, day and month in either order: 22/05/2023 - 24/05/2023, 28-30/11/2023,
# 13/9/2022, 28/11-1/12/2023. One separator throughout a date.
_N_GUARD = r"(?<![\d./-])"
_N_END = r"(?![\d])(?!\.\d)"
_NUMERIC_PATTERNS = [
    _rx(_LEAD + _N_GUARD + r"(?P<a1>\d{1,2})(?P<s>[/.-])(?P<b1>\d{1,2})(?P=s)(?P<y1>(?:19|20)\d\d)" + _TO
        + r"(?P<a2>\d{1,2})(?P=s)(?P<b2>\d{1,2})(?P=s)(?P<y2>(?:19|20)\d\d)" + _N_END),
    _rx(_LEAD + _N_GUARD + r"(?P<a1>\d{1,2})(?P<s>[/.])(?P<b1>\d{1,2})" + _TO
        + r"(?P<a2>\d{1,2})(?P=s)(?P<b2>\d{1,2})(?P=s)(?P<y2>(?:19|20)\d\d)" + _N_END),
    # the days as a range, then one month: only day-first
    _rx(_LEAD + _N_GUARD + r"(?P<d1>\d{1,2})\s*(?:[-–]|\b(?:" + _TO_WORDS + r")\b)\s*(?P<d2>\d{1,2})(?P<s>[/.])"
        + r"(?P<m>\d{1,2})(?P=s)(?P<y2>(?:19|20)\d\d)" + _N_END),
    _rx(_LEAD + _N_GUARD + r"(?P<a1>\d{1,2})(?P<s>[/.-])(?P<b1>\d{1,2})(?P=s)(?P<y1>(?:19|20)\d\d)" + _N_END),
]
_RELATIVE = _rx(
    r"\b(?:(?P<today>today|aujourd'hui|hoy)|(?P<yesterday>yesterday|hier|ayer)|(?P<tomorrow>tomorrow|demain|manana)"
    r"|(?P<ago>\d{1,2})\s+days?\s+ago|last\s+(?P<period>week|month)"
    r"|(?:(?P<pre>last|on|this\s+past|past|next)\s+)?"
    r"(?P<wd>mon(?:day)?|tues?(?:day)?|wed(?:nesday)?|thu(?:rs?)?(?:day)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?))\b"
)

# Which candidate wins when a message holds several: an explicit date beats a
# year-less one, which beats a relative word; then the earliest in the text.
_RANK_FULL, _RANK_YEARLESS, _RANK_AMBIGUOUS, _RANK_RELATIVE = range(4)


def _fmt(d: date) -> str:
    return f"{d.day} {_MONTH_NAMES[d.month - 1]} {d.year}"


def _make_date(y: int, m: int, d: int, raw: str, span: tuple[int, int]) -> date:
    if not 1 <= m <= 12:
        raise DateError(f"“{raw}” is not a real date: there is no month {m}.", span)
    last = monthrange(y, m)[1]
    if not 1 <= d <= last:
        raise DateError(f"“{raw}” is not a real date: {_MONTH_NAMES[m - 1]} {y} has {last} days.", span)
    return date(y, m, d)


def _span(y1: int, m1: int, d1: int, y2: int, m2: int, d2: int, raw: str, span: tuple[int, int]) -> DateSpan:
    start, end = _make_date(y1, m1, d1, raw, span), _make_date(y2, m2, d2, raw, span)
    if end < start:
        raise DateError(f"In “{raw}” the end ({_fmt(end)}) is before the start ({_fmt(start)}).", span)
    return DateSpan(start, end, span)


def _resolve(d1: int | None, m1: int, y1: int | None, d2: int | None, m2: int, y2: int | None,
             today: date, planned: bool, raw: str, span: tuple[int, int]) -> DateSpan:
    """Dates from parts; a missing day means the whole month, a missing year is inferred:
    the most recent such date not after today for what was held, the next one for what
    is planned."""
    if d1 is None:
        first_day, last_day = 1, None  # month forms: first of m1 to last of m2
    else:
        first_day, last_day = d1, d2 if d2 is not None else d1
    # A range that names the year once ("28 Dec - 3 Jan 2024") crosses New Year when
    # the months go backwards by more than half a year; a smaller step backwards is
    # a mistake the user should hear about.
    crosses_new_year = m1 > m2 + 5

    def build(y1: int | None, y2: int) -> DateSpan:
        if y1 is None:
            y1 = y2 - 1 if crosses_new_year else y2
        last = last_day if last_day is not None else (monthrange(y2, m2)[1] if 1 <= m2 <= 12 else 1)
        return _span(y1, m1, first_day, y2, m2, last, raw, span)

    if y1 is not None and y2 is None:
        y2 = y1 + 1 if crosses_new_year else y1
    if y2 is not None:
        return build(y1, y2)
    # Eight years back reaches a leap year for 29 February.
    years = range(today.year - 1, today.year + 3) if planned else range(today.year + 1, today.year - 9, -1)
    error = None
    for year in years:
        try:
            found = build(None, year)
        except DateError as e:
            error = error or e
            continue
        if (found.start >= today) if planned else (found.start <= today):
            return DateSpan(found.start, found.end, span, year_taken=True)
    for month, day in ((m1, first_day), (m2, last_day)):
        if day is not None and 1 <= month <= 12 and day > monthrange(2024, month)[1]:
            raise DateError(f"“{raw}” is not a real date: {_MONTH_NAMES[month - 1]} has no day {day}.", span)
    raise error or DateError(f"“{raw}” is not a real date.", span)


def _int(s: str | None) -> int | None:
    return int(s) if s else None


def _raw(m: re.Match[str], text: str) -> str:
    return _LEAD_WORD.sub("", text[m.start():m.end()])


def _from_words(m: re.Match[str], text: str, today: date, planned: bool,
                day_first: bool) -> tuple[int, DateSpan] | None:
    g = m.groupdict()
    month_group = "m1" if g.get("m1") else "m2"
    has_year = bool(g.get("y1") or g.get("y2"))
    # "35 may attend": a lowercase "may" is a verb unless a year or a second day follows.
    typed_months = {text[m.start(k):m.end(k)] for k in ("m1", "m2") if g.get(k)}
    if not has_year and g.get("d2") is None and "may" in typed_months:
        return None
    months = month_numbers()
    month1 = months[g[month_group].rstrip(".")]
    month2 = months[(g.get("m2") or g[month_group]).rstrip(".")]
    result = _resolve(_int(g.get("d1")), month1, _int(g.get("y1")), _int(g.get("d2")), month2,
                      _int(g.get("y2")), today, planned, _raw(m, text), m.span())
    return (_RANK_FULL if has_year else _RANK_YEARLESS), result


def _from_iso(m: re.Match[str], text: str, today: date, planned: bool, day_first: bool) -> tuple[int, DateSpan]:
    g = m.groupdict()
    y1, m1, d1 = int(g["y1"]), int(g["m1"]), int(g["d1"])
    y2, m2, d2 = (int(g["y2"]), int(g["m2"]), int(g["d2"])) if g.get("y2") else (y1, m1, d1)
    return _RANK_FULL, _span(y1, m1, d1, y2, m2, d2, _raw(m, text), m.span())


def _from_numeric(m: re.Match[str], text: str, today: date, planned: bool,
                  day_first: bool) -> tuple[int, DateSpan | DateError]:
    """Day-first or month-first, whichever is possible; both possible is asked."""
    g = m.groupdict()
    raw, span = _raw(m, text), m.span()
    if g.get("d1"):  # 28-30/11/2023
        return _RANK_FULL, _span(int(g["y2"]), int(g["m"]), int(g["d1"]), int(g["y2"]), int(g["m"]),
                                 int(g["d2"]), raw, span)
    a1, b1 = int(g["a1"]), int(g["b1"])  # every numeric pattern has a first date
    a2, b2 = (int(g["a2"]), int(g["b2"])) if g.get("a2") else (a1, b1)
    y2 = int(g["y2"]) if g.get("y2") else int(g["y1"])
    y1 = int(g["y1"]) if g.get("y1") else y2
    readings: list[DateSpan] = []
    first_error: DateError | None = None
    for reads_day_first in (True, False):
        parts = (b1, a1, b2, a2) if reads_day_first else (a1, b1, a2, b2)  # as (month, day) pairs
        try:
            readings.append(_span(y1, parts[0], parts[1], y2, parts[2], parts[3], raw, span))
        except DateError as error:
            first_error = first_error or error
    readings = list(dict.fromkeys(readings))
    if not readings:
        assert first_error is not None  # each reading failed with one
        raise first_error
    if len(readings) == 1:
        return _RANK_FULL, readings[0]
    if day_first:  # written in French or Spanish, where dates are always day-first
        return _RANK_FULL, readings[0]
    return _RANK_AMBIGUOUS, DateError(
        f"“{raw}” can be read day-first ({describe_span(readings[0])}) or month-first "
        f"({describe_span(readings[1])}); which is it? Pick one, or write the month as a word.",
        span, tuple(readings))


def describe_span(found: DateSpan) -> str:
    """A date or range in words: "6 November 2024", "6 – 8 November 2024"."""
    if found.start == found.end:
        return _fmt(found.start)
    return f"{_fmt(found.start)} – {_fmt(found.end)}"


def _from_relative(m: re.Match[str], text: str, today: date, planned: bool,
                   day_first: bool) -> tuple[int, DateSpan] | None:
    g = m.groupdict()
    start = end = None
    if g["today"]:
        start = end = today
    elif g["yesterday"]:
        start = end = today - timedelta(days=1)
    elif g["tomorrow"]:
        start = end = today + timedelta(days=1)
    elif g["ago"]:
        start = end = today - timedelta(days=int(g["ago"]))
    elif g["period"] and g["period"].lower() == "week":
        start = today - timedelta(days=today.weekday() + 7)  # Monday to Sunday
        end = start + timedelta(days=6)
    elif g["period"]:
        end = today.replace(day=1) - timedelta(days=1)
        start = end.replace(day=1)
    else:
        word, pre = g["wd"].lower(), (g["pre"] or "").lower()
        # "sat", "sun", "wed" are ordinary words; abbreviations need "last"/"on".
        if len(word) < 6 and not pre:
            return None
        wd = _WEEKDAYS.index(word[:3])
        if pre == "next":
            start = today + timedelta(days=(wd - today.weekday()) % 7 or 7)
        else:  # most recent past one; said on a Tuesday, "on Tuesday" is a week ago
            start = today - timedelta(days=(today.weekday() - wd) % 7 or 7)
        end = start
    return _RANK_RELATIVE, DateSpan(start, end, m.span())


_Builder = Callable[[re.Match[str], str, date, bool, bool], "tuple[int, DateSpan | DateError] | None"]
_PATTERNS: list[tuple[re.Pattern[str], _Builder]] = [
    (_ISO_RANGE, _from_iso),
    *((p, _from_numeric) for p in _NUMERIC_PATTERNS),
    *((p, _from_words) for p in _WORD_PATTERNS[:5]),
    (_ISO_SINGLE, _from_iso),
    *((p, _from_words) for p in _WORD_PATTERNS[5:]),
    (_RELATIVE, _from_relative),
]


def find_dates(text: str, today: date, planned: bool = False, day_first: bool = False) -> DateSpan | None:
    """The activity's date span in `text`, or None when it names no date.

    `planned`: the activity is still to come, so a date without a year is the next one.
    `day_first`: the text is in a language that writes numeric dates day-first only
    (French, Spanish), so 03/05/2024 is 3 May without asking.
    Raises DateError for a date that cannot be right (31 Feb 2024, 2024-13-01, an
    end before the start) or that reads two ways (03/05/2024, with `readings`), so
    the bot can tell the user what to fix.
    """
    work = fold(text)
    found: list[tuple[int, int, DateSpan | DateError]] = []
    for pattern, build in _PATTERNS:
        for m in pattern.finditer(work):
            try:
                result = build(m, text, today, planned, day_first)
            except DateError as error:
                result = (_RANK_FULL, error)
            if result is None:
                continue
            found.append((result[0], m.start(), result[1]))
            a, b = m.span()
            work = work[:a] + "\0" * (b - a) + work[b:]
    # A wrong date is reported even when another date is fine: it is a typo to fix.
    wrong = [(at, f) for rank, at, f in found if isinstance(f, DateError) and rank < _RANK_AMBIGUOUS]
    if wrong:
        raise min(wrong, key=lambda w: w[0])[1]
    if not found:
        return None
    best = min(found, key=lambda f: (f[0], f[1]))[2]
    if isinstance(best, DateError):
        raise best
    return best
