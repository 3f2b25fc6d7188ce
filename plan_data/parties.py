"""The Parties of each convention and the date each became one, from `parties.toml`.

"Number of Parties" indicators count a State only if it was a Party of the indicator's
convention on the activity's date; a cross-cutting indicator counts a Party to any of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from plan_data.countries import get_country
from plan_data.loader import read_toml

DEFAULT_PARTIES_PATH = Path(__file__).with_name("parties.toml")
CONVENTIONS = ("BC", "RC", "SC")


class PartiesError(ValueError):
    """A parties file that cannot be used; the message names the entry that is wrong."""


@dataclass(frozen=True)
class Parties:
    source: str
    as_of: date
    names: dict[str, str]  # convention code → its name
    since: dict[str, dict[str, date]]  # convention code → {alpha-2: the day it became a Party}

    def count(self, convention: str, on: date | None = None) -> int:
        """How many Parties the convention had on a day (the file's as-of date by default)."""
        on = on or self.as_of
        return sum(1 for joined in self.since[convention].values() if joined <= on)

    def party_since(self, convention: str, country: str) -> date | None:
        """When `country` became a Party of `convention`; for a code outside the three (the
        cross-cutting areas), of the first of them it joined. None: a Party of none."""
        conventions = [convention] if convention in self.since else CONVENTIONS
        dates = [self.since[c][country] for c in conventions if country in self.since[c]]
        return min(dates, default=None)

    def was_party(self, convention: str, country: str, on: date) -> bool:
        joined = self.party_since(convention, country)
        return joined is not None and joined <= on


def _day(value, where: str) -> date:
    """A TOML date, or a bare year ("2019"): the end of the year, by which it certainly was a Party."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) == 4:
        return date(int(value), 12, 31)
    raise PartiesError(f"{where}: {value!r} is neither a date (1994-05-07) nor a year (\"2019\")")


def parse_parties(data: dict) -> Parties:
    if not isinstance(data.get("source"), str) or not data["source"].strip():
        raise PartiesError("`source` is missing: say where the list comes from")
    if not isinstance(data.get("as_of"), date):
        raise PartiesError("`as_of` is missing or not a date (e.g. as_of = 2024-12-31)")
    conventions = data.get("conventions", {})
    missing = [c for c in CONVENTIONS if c not in conventions]
    if missing:
        raise PartiesError(f"[conventions.{missing[0]}] is missing")
    names: dict[str, str] = {}
    since: dict[str, dict[str, date]] = {}
    for code in CONVENTIONS:
        table = conventions[code]
        names[code] = table.get("name") or code
        since[code] = {}
        for country, value in table.get("parties", {}).items():
            where = f"conventions.{code}.parties.{country}"
            if get_country(country) is None:
                raise PartiesError(f"{where}: {country!r} is not a country code tapbot knows")
            joined = _day(value, where)
            if joined > data["as_of"]:
                raise PartiesError(f"{where}: {joined} is after the file's as_of date {data['as_of']}")
            since[code][country] = joined
        if not since[code]:
            raise PartiesError(f"[conventions.{code}.parties] lists no Party")
    return Parties(source=data["source"].strip(), as_of=data["as_of"], names=names, since=since)


def load_parties(path: Path | str | None = None) -> Parties:
    return parse_parties(read_toml(Path(path) if path is not None else DEFAULT_PARTIES_PATH, PartiesError))


@cache
def bundled_parties() -> Parties:
    """The parties file shipped beside the plan, loaded once."""
    return load_parties()
