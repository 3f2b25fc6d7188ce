"""Find the date, or date range, of an activity in a chat message.

Read: ISO dates (2024-03-12, 2023-09-12 to 2023-09-14), dates with the month as a
word (12-14 March 2024, 30 Sept-2 Oct 2024, March 5, 2024, Feb-Mar 2023, March
2019, 12 March) and a few relative words (today, yesterday, last Tuesday, on
Tuesday, last week, last month, 3 days ago).

Not read: numeric day/month dates such as 5/10/2023. Half of the users read that
as 5 October and the other half as 10 May, so they get a DateError asking for the
month as a word. Bare years ("2019 COPs") are not dates either.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["DateError", "DateSpan", "find_dates"]


@dataclass(frozen=True)
class DateSpan:
    """Start and end (inclusive) of an activity, and where the text said so."""

    start: date
    end: date
    span: tuple[int, int]  # character offsets of the matched text


class DateError(ValueError):
    """A date that cannot be right; `message` is written to be shown to the user."""

    def __init__(self, message: str, span: tuple[int, int]):
        super().__init__(message)
        self.message = message
        self.span = span


# A year-less date ("12 March") is logged after the fact, so it is the most recent
# such date; the margin lets someone log a workshop that starts in a few days.
YEARLESS_MARGIN = timedelta(days=14)

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July",
                "August", "September", "October", "November", "December")
_MONTH_NUMBERS = {name[:3].lower(): i for i, name in enumerate(_MONTH_NAMES, start=1)}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_MONTH_WORD = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
               r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")


def _day(g: str, first: bool = True) -> str:
    # A first day is not part of a code or a decimal ("OEWG-12", "SDG 12.4.2", "art.12").
    # Only 1-31 can be a day ("in May 35 attended" is a count); 31 April is a day
    # that does not exist and gets a DateError.
    guard = r"(?<![\w.:/-])" if first else ""
    return rf"{guard}(?P<{g}>0?[1-9]|[12]\d|3[01])(?!\d)(?:st|nd|rd|th)?"


def _month(g: str) -> str:
    return rf"\b(?P<{g}>{_MONTH_WORD})\.?(?![a-z])"


def _year(g: str) -> str:
    return rf"(?P<{g}>(?:19|20)\d\d)(?!\d)"


def _iso(n: str) -> str:
    guard = r"(?<![\d.-])" if n == "1" else ""
    return rf"{guard}(?P<y{n}>(?:19|20)\d\d)[-/.](?P<m{n}>\d{{1,2}})[-/.](?P<d{n}>\d{{1,2}})(?![\d])"


# Leading words belong to the date phrase, so a caller that cuts the date out of
# the text does not leave a dangling "from" or "on" behind.
_LEAD = r"(?:\b(?:from|between|on|in|during)\s+)?"
_TO = r"\s*(?:[-–—]|\bto\b|\btill\b|\buntil\b|\bthrough\b|\bthru\b|\band\b|&)\s*"
_MONTH_TO = r"\s*(?:[-–—/]|\bto\b|\btill\b|\buntil\b|\bthrough\b|\band\b|&)\s*"
_LEAD_WORD = re.compile(r"^(?:from|between|on|in|during)\s+", re.IGNORECASE)
_YSEP = r",?\s*"
_OF = r"\s*(?:of\s+)?"


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
_NUMERIC_DMY = re.compile(r"(?<![\d./-])\d{1,2}([/.])\d{1,2}\1(?:19|20)\d\d(?!\d)")
_RELATIVE = _rx(
    r"\b(?:(?P<today>today)|(?P<yesterday>yesterday)|(?P<tomorrow>tomorrow)"
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


def _recent_year(m: int, d: int, today: date, raw: str, span: tuple[int, int]) -> int:
    # Eight years back reaches a leap year for 29 February.
    for y in range(today.year + 1, today.year - 9, -1):
        if 1 <= m <= 12 and 1 <= d <= monthrange(y, m)[1] and date(y, m, d) <= today + YEARLESS_MARGIN:
            return y
    raise DateError(f"“{raw}” is not a real date: {_MONTH_NAMES[m - 1]} has no day {d}.", span)


def _resolve(d1: int | None, m1: int, y1: int | None, d2: int | None, m2: int, y2: int | None,
             today: date, raw: str, span: tuple[int, int]) -> DateSpan:
    """Dates from parts; a missing day means the whole month, a missing year is inferred."""
    if d1 is None:
        first_day, last_day = 1, None  # month forms: first of m1 to last of m2
    else:
        first_day, last_day = d1, d2 if d2 is not None else d1
    # A range that names the year once ("28 Dec - 3 Jan 2024") crosses New Year when
    # the months go backwards by more than half a year; a smaller step backwards is
    # a mistake the user should hear about.
    crosses_new_year = m1 > m2 + 5
    if y2 is None and y1 is None:
        y2 = _recent_year(m2, last_day or 1, today, raw, span)
    if y1 is None:
        y1 = y2 - 1 if crosses_new_year else y2
    elif y2 is None:
        y2 = y1 + 1 if crosses_new_year else y1
    if last_day is None:
        last_day = monthrange(y2, m2)[1] if 1 <= m2 <= 12 else 1
    start = _make_date(y1, m1, first_day, raw, span)
    end = _make_date(y2, m2, last_day, raw, span)
    if end < start:
        raise DateError(f"In “{raw}” the end ({_fmt(end)}) is before the start ({_fmt(start)}).", span)
    return DateSpan(start, end, span)


def _int(s: str | None) -> int | None:
    return int(s) if s else None


def _raw(m: re.Match[str]) -> str:
    return _LEAD_WORD.sub("", m.group(0))


def _from_words(m: re.Match[str], today: date) -> tuple[int, DateSpan] | None:
    g = m.groupdict()
    month1, month2 = g.get("m1") or g["m2"], g.get("m2") or g["m1"]
    has_year = bool(g.get("y1") or g.get("y2"))
    # "35 may attend": a lowercase "may" is a verb unless a year or a second day follows.
    if not has_year and g.get("d2") is None and "may" in (month1, month2):
        return None
    result = _resolve(_int(g.get("d1")), _MONTH_NUMBERS[month1[:3].lower()], _int(g.get("y1")),
                      _int(g.get("d2")), _MONTH_NUMBERS[month2[:3].lower()], _int(g.get("y2")),
                      today, _raw(m), m.span())
    return (_RANK_FULL if has_year else _RANK_YEARLESS), result


def _from_iso(m: re.Match[str], today: date) -> tuple[int, DateSpan]:
    g = m.groupdict()
    y1, m1, d1 = int(g["y1"]), int(g["m1"]), int(g["d1"])
    y2, m2, d2 = (int(g["y2"]), int(g["m2"]), int(g["d2"])) if g.get("y2") else (y1, m1, d1)
    raw, span = _raw(m), m.span()
    start, end = _make_date(y1, m1, d1, raw, span), _make_date(y2, m2, d2, raw, span)
    if end < start:
        raise DateError(f"In “{raw}” the end ({_fmt(end)}) is before the start ({_fmt(start)}).", span)
    return _RANK_FULL, DateSpan(start, end, span)


def _from_numeric(m: re.Match[str], today: date) -> tuple[int, DateError]:
    return _RANK_AMBIGUOUS, DateError(
        f"“{m.group(0)}” can be read as day/month or month/day; please write the month as a word "
        "(e.g. 5 Oct 2023) or use YYYY-MM-DD.", m.span())


def _from_relative(m: re.Match[str], today: date) -> tuple[int, DateSpan] | None:
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


_Builder = Callable[[re.Match[str], date], "tuple[int, DateSpan | DateError] | None"]
_PATTERNS: list[tuple[re.Pattern[str], _Builder]] = [
    (_ISO_RANGE, _from_iso),
    *((p, _from_words) for p in _WORD_PATTERNS[:5]),
    (_ISO_SINGLE, _from_iso),
    *((p, _from_words) for p in _WORD_PATTERNS[5:]),
    (_NUMERIC_DMY, _from_numeric),
    (_RELATIVE, _from_relative),
]


def find_dates(text: str, today: date) -> DateSpan | None:
    """The activity's date span in `text`, or None when it names no date.

    Raises DateError for a date that cannot be right (31 Feb 2024, 2024-13-01, an
    end before the start, 5/10/2023) so the bot can tell the user what to fix.
    """
    work = text
    found: list[tuple[int, int, DateSpan | DateError]] = []
    for pattern, build in _PATTERNS:
        for m in pattern.finditer(work):
            try:
                result = build(m, today)
            except DateError as error:
                result = (_RANK_FULL, error)
            if result is None:
                continue
            found.append((result[0], m.start(), result[1]))
            a, b = m.span()
            work = work[:a] + "\0" * (b - a) + work[b:]
    # A wrong date is reported even when another date is fine: it is a typo to fix.
    wrong = [f for f in found if isinstance(f[2], DateError) and f[0] < _RANK_AMBIGUOUS]
    if wrong:
        raise min(wrong, key=lambda f: f[1])[2]
    if not found:
        return None
    best = min(found, key=lambda f: (f[0], f[1]))[2]
    if isinstance(best, DateError):
        raise best
    return best
