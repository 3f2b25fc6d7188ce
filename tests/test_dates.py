import contextlib
import dataclasses
import random
import string
import time
from datetime import date

import pytest

from handlers.dates import DateError, DateSpan, find_dates

TODAY = date(2024, 6, 19)  # a Wednesday


def d(iso: str) -> date:
    return date.fromisoformat(iso)


@pytest.mark.parametrize(
    ("text", "start", "end", "phrase"),
    [
        # day ranges within one month
        ("National workshop, Lomé, 3-5 July 2023, 40 participants", "2023-07-03", "2023-07-05", "3-5 July 2023"),
        ("PIC training 21–23 Jan 2020", "2020-01-21", "2020-01-23", "21–23 Jan 2020"),
        ("wkshp 8 to 10 Oct 2022", "2022-10-08", "2022-10-10", "8 to 10 Oct 2022"),
        ("ESM course 4-8 nov 2024", "2024-11-04", "2024-11-08", "4-8 nov 2024"),
        ("meeting 7 and 8 May 2021", "2021-05-07", "2021-05-08", "7 and 8 May 2021"),
        # ranges across months and years
        ("inventory mission 29 Sept-3 Oct 2024", "2024-09-29", "2024-10-03", "29 Sept-3 Oct 2024"),
        ("held 30 Nov to 4 Dec 2021 in Lima", "2021-11-30", "2021-12-04", "30 Nov to 4 Dec 2021"),
        ("training from 26 Apr to 1 May 2019 on ULAB", "2019-04-26", "2019-05-01", "from 26 Apr to 1 May 2019"),
        ("course 28 Aug-2 Sep 2022", "2022-08-28", "2022-09-02", "28 Aug-2 Sep 2022"),
        ("mission 30 Dec - 3 Jan 2023", "2022-12-30", "2023-01-03", "30 Dec - 3 Jan 2023"),
        ("pilot 15 Dec 2022 - 20 Jan 2023", "2022-12-15", "2023-01-20", "15 Dec 2022 - 20 Jan 2023"),
        ("between 2 and 4 March 2022", "2022-03-02", "2022-03-04", "between 2 and 4 March 2022"),
        # ISO
        ("webinar 2022-05-17", "2022-05-17", "2022-05-17", "2022-05-17"),
        ("coaching 2021-11-02 to 2021-11-05, online", "2021-11-02", "2021-11-05", "2021-11-02 to 2021-11-05"),
        ("2020/02/03 briefing", "2020-02-03", "2020-02-03", "2020/02/03"),
        # single days
        ("validation meeting 9 Oct 2023", "2023-10-09", "2023-10-09", "9 Oct 2023"),
        ("launched 21 September 2019", "2019-09-21", "2019-09-21", "21 September 2019"),
        ("side event on 4 Sept 2020", "2020-09-04", "2020-09-04", "on 4 Sept 2020"),
        ("webinar 13 feb 2025 on POPs", "2025-02-13", "2025-02-13", "13 feb 2025"),
        ("on the 1st of March 2024", "2024-03-01", "2024-03-01", "on the 1st of March 2024"),
        ("held 22nd Nov. 2018", "2018-11-22", "2018-11-22", "22nd Nov. 2018"),
        ("Workshop 12 March, 2024", "2024-03-12", "2024-03-12", "12 March, 2024"),
        # month first
        ("call on April 9, 2024", "2024-04-09", "2024-04-09", "on April 9, 2024"),
        ("course June 3-7, 2022", "2022-06-03", "2022-06-07", "June 3-7, 2022"),
        ("mission March 30 - April 2, 2024", "2024-03-30", "2024-04-02", "March 30 - April 2, 2024"),
        # months
        ("PRT training, Sep-Oct 2022", "2022-09-01", "2022-10-31", "Sep-Oct 2022"),
        ("e-course January to March 2021", "2021-01-01", "2021-03-31", "January to March 2021"),
        ("pilot Nov 2022 - Feb 2023", "2022-11-01", "2023-02-28", "Nov 2022 - Feb 2023"),
        ("prep meeting (June 2019)", "2019-06-01", "2019-06-30", "June 2019"),
        ("held in February 2024", "2024-02-01", "2024-02-29", "in February 2024"),
        # deadlines are dates too; the caller decides what they mean
        ("send comments by 30 Sep 2024", "2024-09-30", "2024-09-30", "30 Sep 2024"),
    ],
)
def test_written_dates(text, start, end, phrase):
    found = find_dates(text, TODAY)
    assert (found.start, found.end) == (d(start), d(end))
    assert text[found.span[0]:found.span[1]] == phrase


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("workshop 12 March", "2024-03-12", "2024-03-12"),  # earlier this year
        ("webinar 20 Dec", "2023-12-20", "2023-12-20"),  # later in the year: last year's
        ("training 24-26 June", "2023-06-24", "2023-06-26"),  # not after today: last year's
        ("réunion du 12 au 14 juin", "2024-06-12", "2024-06-14"),
        ("taller el 3 de febrero", "2024-02-03", "2024-02-03"),
        ("training 20 Aug", "2023-08-20", "2023-08-20"),  # well ahead: last year's
        ("mission 28 Dec - 3 Jan", "2023-12-28", "2024-01-03"),
        ("meeting 29 Feb", "2024-02-29", "2024-02-29"),
        ("call May 2", "2024-05-02", "2024-05-02"),
        ("workshop 2-3 may", "2024-05-02", "2024-05-03"),
    ],
)
def test_yearless_dates_are_the_most_recent(text, start, end):
    found = find_dates(text, TODAY)
    assert (found.start, found.end) == (d(start), d(end))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("webinar today", "2024-06-19", "2024-06-19"),
        ("NIP call yesterday, 5 ppl", "2024-06-18", "2024-06-18"),
        ("briefing last Tuesday", "2024-06-18", "2024-06-18"),
        ("coaching last friday", "2024-06-14", "2024-06-14"),
        ("helpdesk call on Monday", "2024-06-17", "2024-06-17"),
        ("met on Wednesday", "2024-06-12", "2024-06-12"),  # said on a Wednesday: a week ago
        ("call on thu", "2024-06-13", "2024-06-13"),
        ("workshop last week", "2024-06-10", "2024-06-16"),
        ("pilot visits last month", "2024-05-01", "2024-05-31"),
        ("training 3 days ago", "2024-06-16", "2024-06-16"),
    ],
)
def test_relative_dates(text, start, end):
    found = find_dates(text, TODAY)
    assert (found.start, found.end) == (d(start), d(end))


@pytest.mark.parametrize(
    ("text", "quoted", "says"),
    [
        ("workshop 31 Feb 2024", "31 Feb 2024", "29 days"),
        ("training 30 February 2023", "30 February 2023", "28 days"),
        ("meeting 31 April 2022", "31 April 2022", "30 days"),
        ("webinar 2024-13-01", "2024-13-01", "no month 13"),
        ("webinar 2023-02-29", "2023-02-29", "28 days"),
        ("meeting 31 Apr", "31 Apr", "no day 31"),
        ("course 2022-06-31 to 2022-07-02", "2022-06-31 to 2022-07-02", "30 days"),
    ],
)
def test_impossible_dates_are_reported(text, quoted, says):
    with pytest.raises(DateError) as caught:
        find_dates(text, TODAY)
    assert quoted in caught.value.message and says in caught.value.message
    start, end = caught.value.span
    assert quoted in text[start:end]


@pytest.mark.parametrize(
    "text",
    ["workshop 14-12 March 2024", "course 2024-03-14 to 2024-03-12", "mission 2 Dec - 28 Nov 2022",
     "meeting 9 Oct 2023 to 3 Oct 2023", "training June 9-4, 2022"],
)
def test_end_before_start_is_reported(text):
    with pytest.raises(DateError, match="before the start"):
        find_dates(text, TODAY)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Lao PDR DNA training, 22/05/2023 - 24/05/2023, F:12 M:18", "2023-05-22", "2023-05-24"),
        ("atelier 28-30/11/2023", "2023-11-28", "2023-11-30"),
        ("taller 15-16/05/2024", "2024-05-15", "2024-05-16"),
        ("course 14/03/2024-15/03/2024", "2024-03-14", "2024-03-15"),
        ("visita 13/9/2022", "2022-09-13", "2022-09-13"),
        ("mission 6/13/2022", "2022-06-13", "2022-06-13"),  # 13 cannot be a month: month-first
        ("meeting 25.10.2023", "2023-10-25", "2023-10-25"),
        ("réunion 05/05/2024", "2024-05-05", "2024-05-05"),  # both readings agree
        ("formation du 28/11 au 1/12/2023", "2023-11-28", "2023-12-01"),
    ],
)
def test_numeric_dates_are_read_the_only_way_they_can_be(text, start, end):
    found = find_dates(text, TODAY)
    assert (found.start, found.end) == (d(start), d(end))


@pytest.mark.parametrize(
    ("text", "day_first", "month_first"),
    [
        ("training 5/10/2023", ("2023-10-05", "2023-10-05"), ("2023-05-10", "2023-05-10")),
        ("meeting 05.10.2023", ("2023-10-05", "2023-10-05"), ("2023-05-10", "2023-05-10")),
        ("taller 6/11/2024 to 8/11/2024", ("2024-11-06", "2024-11-08"), ("2024-06-11", "2024-08-11")),
    ],
)
def test_a_numeric_date_that_reads_two_ways_is_asked_with_both(text, day_first, month_first):
    with pytest.raises(DateError, match="day-first") as caught:
        find_dates(text, TODAY)
    readings = [(r.start.isoformat(), r.end.isoformat()) for r in caught.value.readings]
    assert readings == [day_first, month_first]


@pytest.mark.parametrize(
    ("text", "planned", "start"),
    [
        ("workshop 24 June", False, "2023-06-24"),
        ("workshop 24 June", True, "2024-06-24"),
        ("atelier 12 mars", True, "2025-03-12"),
        ("taller 19 de junio", True, "2024-06-19"),
        ("taller 19 de junio", False, "2024-06-19"),
    ],
)
def test_a_date_without_a_year_is_the_last_one_held_or_the_next_one_planned(text, planned, start):
    found = find_dates(text, TODAY, planned=planned)
    assert found.start == d(start) and found.year_taken


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Atelier sous-régional, Dakar, du 28 au 30 novembre 2023", "2023-11-28", "2023-11-30"),
        ("Atelier le 12 décembre 2023", "2023-12-12", "2023-12-12"),
        ("webinaire 9 et 10 juillet 2024", "2024-07-09", "2024-07-10"),
        ("formation du 28 novembre au 2 décembre 2022", "2022-11-28", "2022-12-02"),
        ("réunion 3 févr. 2024", "2024-02-03", "2024-02-03"),
        ("mission 1er avril 2023", "2023-04-01", "2023-04-01"),
        ("visite en août 2022", "2022-08-01", "2022-08-31"),
        ("Taller regional, Bogotá, del 10 al 12 de julio de 2023", "2023-07-10", "2023-07-12"),
        ("curso 4 y 5 de septiembre de 2024", "2024-09-04", "2024-09-05"),
        ("reunión el 3 de dic. de 2023", "2023-12-03", "2023-12-03"),
        ("taller del 30 de enero al 2 de febrero de 2024", "2024-01-30", "2024-02-02"),
        ("capacitación en marzo de 2023", "2023-03-01", "2023-03-31"),
        ("training 3rd–7th June 2024", "2024-06-03", "2024-06-07"),
        ("wkshp 27 Feb - 1 Mar 2024", "2024-02-27", "2024-03-01"),
        ("mtg 28 Nov-1 Dec 2023", "2023-11-28", "2023-12-01"),
    ],
)
def test_french_spanish_and_english_forms(text, start, end):
    found = find_dates(text, TODAY)
    assert (found.start, found.end) == (d(start), d(end))


def test_a_wrong_date_is_reported_even_next_to_a_good_one():
    with pytest.raises(DateError, match="31 June 2024"):
        find_dates("workshop 12-14 March 2024, report by 31 June 2024", TODAY)


def test_explicit_date_beats_relative_word_and_first_explicit_wins():
    found = find_dates("posted today: report of the 5-7 Feb 2024 workshop, comments by 30 Apr 2024", TODAY)
    assert (found.start, found.end) == (d("2024-02-05"), d("2024-02-07"))


@pytest.mark.parametrize(
    "text",
    [
        "35 participants (14 women) from 9 countries",
        "BCRC executing the GEF 5558 project",
        "side event at OEWG-12",
        "data on SDG 12.4.2",
        "decisions at COP-10 and COP-11",
        "notifications under art. 12 and Art.15",
        "2nd of the series, half-day, one-day follow-up",
        "2020 active air sampling, 2024 reports uploaded",
        "35 may attend, 12 may not",
        "we sat down with the sun shining",
        "version 2.10.11 of the toolkit",
        "in May 35 people attended",
        "",
    ],
)
def test_counts_and_codes_are_not_dates(text):
    assert find_dates(text, TODAY) is None


def test_date_span_is_frozen_and_error_is_a_value_error():
    found = find_dates("5 Oct 2023", TODAY)
    assert found == DateSpan(d("2023-10-05"), d("2023-10-05"), (0, 10))
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.start = TODAY  # type: ignore[misc]
    assert issubclass(DateError, ValueError)


def test_random_text_does_not_crash_and_is_quick():
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + " ,.;:-–/()~+%'\n"
    tokens = "12 March 2024 - 3 to May Feb-Mar 2023-09-12 5/10/2023 last Tuesday on ( ) , 31 Feb".split()
    texts = [
        "".join(rng.choice(alphabet) for _ in range(10_000)),
        " ".join(rng.choice(tokens) for _ in range(2_000))[:10_000],
        "1-" * 5_000,
        "12 March " * 1_100,
    ]
    for text in texts:
        began = time.perf_counter()
        with contextlib.suppress(DateError):
            find_dates(text, TODAY)
        assert time.perf_counter() - began < 1.0
