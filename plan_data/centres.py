"""The Basel and Stockholm convention regional centres, from `centres.toml`, and which one
an organiser's text names ("BCRC-Senegal", "BCRC Senegal", "the SN regional centre",
"Centre régional de la Convention de Bâle pour les pays d'Afrique francophone")."""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz

from plan_data.countries import find_countries, get_country, resolve_country

DEFAULT_CENTRES_PATH = Path(__file__).with_name("centres.toml")
# A full name this close to a passage of the text names the centre (rapidfuzz, 0-100): a
# dropped accent or article still matches, another region's centre does not.
NAME_SCORE = 90

# "BCRC-Senegal", "SCRC Spain", "BCCC-Africa", the French and Spanish acronyms, followed by a place.
_ACRONYM = re.compile(r"\b(?:BCRC|SCRC|BCCC|CRCB|CRCS|CRCBS|CRBS)(?:[\s/-]+(?:SCRC|BCRC))?[\s-]+"
                      r"(?P<place>[A-Z][\w'-]*(?:\s(?:and\s|y\s|et\s)?[A-Z][\w'-]*)*)")
# "the SN regional centre", "regional centre in Senegal", "centro regional de ... (Uruguay)".
_REGIONAL_CENTRE = re.compile(r"regional\s+cent(?:re|er)s?|centres?\s+r[ée]gional(?:es|aux)?"
                              r"|centros?\s+regional(?:es)?", re.I)
_BASEL = re.compile(r"\b(?:basel|b[âa]le|basilea|bcrc|bccc|crcb)\b", re.I)
_STOCKHOLM = re.compile(r"\b(?:stockholm|estocolmo|scrc|crcs)\b", re.I)


class CentresError(ValueError):
    """A centres file that cannot be used; the message names the entry that is wrong."""


@dataclass(frozen=True)
class Centre:
    id: str
    conventions: tuple[str, ...]
    country: str
    acronyms: tuple[str, ...]
    names: tuple[str, ...]  # English, French, Spanish

    @property
    def label(self) -> str:
        return self.acronyms[0] if self.acronyms else self.names[0]


def _key(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "", plain.casefold())


def parse_centres(data: dict) -> dict[str, Centre]:
    centres: dict[str, Centre] = {}
    for pos, raw in enumerate(data.get("centres", []), 1):
        where = f"centre {raw.get('id') or f'#{pos}'}"
        try:
            centre = Centre(id=raw["id"], conventions=tuple(raw["convention"]), country=raw["country"],
                            acronyms=tuple(raw.get("acronyms", [])), names=tuple(raw["names"]))
        except KeyError as missing:
            raise CentresError(f"{where}: {missing.args[0]} is missing") from None
        if not set(centre.conventions) <= {"BC", "SC"} or not centre.conventions:
            raise CentresError(f"{where}: convention must be BC, SC or both")
        if get_country(centre.country) is None:
            raise CentresError(f"{where}: {centre.country!r} is not a country code tapbot knows")
        if len(centre.names) != 3:
            raise CentresError(f"{where}: names must be [English, French, Spanish]")
        if centre.id in centres:
            raise CentresError(f"{where}: duplicate id")
        centres[centre.id] = centre
    if not centres:
        raise CentresError("no [[centres]] defined")
    return centres


@cache
def all_centres() -> dict[str, Centre]:
    with DEFAULT_CENTRES_PATH.open("rb") as f:
        return parse_centres(tomllib.load(f))


def get_centre(centre_id: str) -> Centre | None:
    return all_centres().get(centre_id)


def _of_country(country: str, text: str) -> Centre | None:
    """The centre hosted by a country; where it hosts a Basel and a Stockholm one, the
    one the text's convention names."""
    hosted = [c for c in all_centres().values() if c.country == country]
    if len(hosted) > 1:
        wanted = "BC" if _BASEL.search(text) else "SC" if _STOCKHOLM.search(text) else None
        hosted = [c for c in hosted if wanted in c.conventions] or hosted
    return hosted[0] if len(hosted) == 1 else None


def find_centre(text: str) -> Centre | None:
    """The regional centre a log's text names as organiser or partner, or None."""
    centres = all_centres()
    keyed = _key(text)
    for centre in centres.values():
        if any(len(_key(a)) > 5 and _key(a) in keyed for a in centre.acronyms):
            return centre
    for match in _ACRONYM.finditer(text):
        place = match["place"]
        country = resolve_country(place) or next(iter(find_countries(place)), None)
        if country is None:  # "BCRC-Caribbean", "BCCC-Africa": a region, spelt near an acronym
            best = max(centres.values(),
                       key=lambda c: max(fuzz.partial_ratio(_key(place), _key(a)) for a in c.acronyms))
            if max(fuzz.partial_ratio(_key(place), _key(a)) for a in best.acronyms) >= NAME_SCORE:
                return best
            continue
        near = _of_country(country.code, match[0])
        if near:
            return near
    folded = text.casefold()
    for centre in centres.values():
        if any(fuzz.partial_ratio(name.casefold(), folded) >= NAME_SCORE for name in centre.names):
            return centre
    for match in _REGIONAL_CENTRE.finditer(text):
        # A country named, or its code in capitals, within a few words either side.
        around = text[max(0, match.start() - 40):match.end() + 60]
        codes = [word for word in re.findall(r"\b[A-Z]{2}\b", around) if get_country(word)]
        for country in [*find_countries(around), *filter(None, map(get_country, codes))]:
            near = _of_country(country.code, text)
            if near:
                return near
    return None
