"""Read the fields of a `log` message in English, French or Spanish: dates, head counts
and sex, modality, kind, status, title, the languages it was held in, the language it is
written in, and its places (`read_places`: countries, the host, words that could not be
placed, a stated number of countries), from plan_data.countries' names and cities.
Rules target the general shapes people type in chat ("35 participants (14 women)",
"52 ppl, 21 women", "dont 9 femmes", "12 mujeres y 16 hombres", "25 in the room + 40
online"), not particular messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Literal

from handlers.dates import DateError, DateSpan, find_dates, fold, month_numbers
from plan_data.countries import country_mentions, find_city, find_code_lists, get_country, resolve_country

__all__ = ["Kind", "LogFields", "Modality", "Places", "detect_language", "extract_log_fields", "read_places"]

Modality = Literal["in_person", "online", "hybrid"]
Kind = Literal["workshop", "training", "webinar", "online_course", "meeting",
               "pilot_project", "guidance_launch", "other"]

TITLE_MAX = 120
MAX_COUNT = 1_000_000  # more people than any activity has; also keeps counts inside a 32-bit column


@dataclass
class LogFields:
    """What one log message says about an activity; `problems` are for the user to fix."""

    start_date: date | None
    end_date: date | None
    participants: int | None
    women: int | None
    men: int | None
    modality: Modality | None
    kind: Kind
    title: str
    languages: list[str] = field(default_factory=list)  # ISO 639-1, languages the activity was held in
    problems: list[str] = field(default_factory=list)
    status: str | None = None  # "planned" or "done" when the message says so; else from the dates
    language: str = "en"  # the language the message is written in
    year_taken: bool = False  # the date had no year: the reply says which one was taken
    date_readings: tuple[DateSpan, ...] = ()  # a numeric date that reads two ways
    date_phrase: str = ""  # the date as typed


_COMMAND = re.compile(r"^\s*(?:@\S+\s+)?/?log\b\s*:?\s*", re.IGNORECASE)

# --- counts -------------------------------------------------------------------

# A count is not glued to a word or a decimal ("GEF5558", "SDG 12.4.2"); a minus
# sign glued to it is kept so that "-5 participants" is reported, not dropped
# ("in person - 60 stakeholders" is a dash, not a sign).
_NUM = (r"(?:(?<![\w)\]])(?P<sign>[-−]))?(?<![\w.,])"
        r"(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?!\d|[.,]\d)")
_ROOM = (r"in\s+(?:the\s+)?room|in[- ]person|on[- ]?site|face[- ]to[- ]face|f2f|physically"
         r"|en\s+salle|sur\s+place|en\s+pr[ée]sentiel|en\s+sala|presencial(?:es|mente)?")
_REMOTE = (r"online|on-line|virtual(?:ly|es)?|remotely|connected|(?:on|via)\s+(?:zoom|teams|webex)"
           r"|en\s+ligne|[àa]\s+distance|connect[ée]e?s|en\s+l[íi]nea|a\s+distancia|conectad[oa]s")
_SPLIT_COUNT = re.compile(_NUM + rf"\s+(?:(?P<room>{_ROOM})|(?P<online>{_REMOTE}))\b", re.IGNORECASE)
# "8 women-led NGOs" and "12 women's groups" are not head counts.
_NOT_PEOPLE_AFTER = r"(?!-|['’]s\b)"
_WOMEN_WORD = r"(?:women|woman|females?|ladies|girls|femmes?|mujer(?:es)?)"
_MEN_WORD = r"(?:men|man|males?|hommes?|hombres?|varones)"
_WOMEN = re.compile(_NUM + rf"\s*{_WOMEN_WORD}\b" + _NOT_PEOPLE_AFTER, re.IGNORECASE)
_MEN = re.compile(_NUM + rf"\s*{_MEN_WORD}\b" + _NOT_PEOPLE_AFTER, re.IGNORECASE)
# "of whom 15 were women"
_WOMEN_WERE = re.compile(_NUM + rf"(?=\s+(?:were|are|was)\s+{_WOMEN_WORD}\b)", re.IGNORECASE)
# "14 of the 35 participants were women", "9 of them women": only the 14 is taken.
_WOMEN_OF = re.compile(
    _NUM + r"(?=\s+(?:of\s+(?:them|whom|the\s+\d[\d,]*\s+[^\W\d]+)|de\s+(?:ellas|ellos)|d'entre\s+(?:elles|eux))"
    rf"\s+(?:were\s+|eran\s+|[ée]taient\s+|sont\s+|son\s+)?{_WOMEN_WORD}\b)", re.IGNORECASE)
# "35 (14 women)": a bare number right before a women count is the total.
_TOTAL_BEFORE_WOMEN = re.compile(
    _NUM + rf"(?=\s*\((?:incl\.?|including|of\s+whom|with|dont|dont|de\s+(?:ellas|ellos|los\s+cuales)|con)?"
    rf"\s*\d+\s*(?:{_WOMEN_WORD}|(?-i:F|W))\b)",
    re.IGNORECASE)
# "women: 14", "women 14, men 21", "femmes : 3"
_WOMEN_LABEL = re.compile(rf"\b{_WOMEN_WORD}\s*[:=]?\s*" + _NUM + r"(?!\s*%)", re.IGNORECASE)
_MEN_LABEL = re.compile(rf"\b{_MEN_WORD}\s*[:=]?\s*" + _NUM + r"(?!\s*%)", re.IGNORECASE)
# "F:12 M:18", "F=7 H=11": capital letters only, a man's letter only next to a woman's.
_WOMEN_LETTER_LABEL = re.compile(r"\b[FW]\s*[:=]\s*" + _NUM)
_MEN_LETTER_LABEL = re.compile(r"\b[MH]\s*[:=]\s*" + _NUM)
_LETTER_PAIR = re.compile(r"\b[FW]\s*(?P<n>\d{1,6})\s*[,/;]?\s*[MH]\s*(?P<men>\d{1,6})\b(?P<sign>)")
# "(14F, 21M)": capitals only, and an M only next to an F/W, because "5 M" is
# also five million.
_WOMEN_LETTER = re.compile(_NUM + r"\s?[FW]\b")
# In Spanish, M and H side by side are mujeres and hombres.
_MUJERES_HOMBRES = re.compile(_NUM + r"\s?M\b(?=.{0,12}?\d+\s?H\b)|"
                              + _NUM.replace("sign", "sign2").replace("?P<n>", "?P<n2>")
                              + r"\s?H\b(?=.{0,12}?\d+\s?M\b)")
_M_FOR_MUJERES = re.compile(_NUM + r"\s?M\b")
_MEN_LETTER = re.compile(_NUM + r"\s?[MH]\b")  # H: hombres, hommes
_WOMEN_SHARE = re.compile(r"(?<![\w.])(?P<pct>\d{1,3}(?:\.\d+)?)\s*%\s*"
                          r"(?:of\s+(?:them|the\s+participants|participants|attendees)\s+)?(?:were\s+)?"
                          rf"{_WOMEN_WORD}\b"
                          rf"|\b{_WOMEN_WORD}\s*[:=]?\s*(?P<pct2>\d{{1,3}}(?:\.\d+)?)\s*%", re.IGNORECASE)
# "participants: 45", "pax 30 (12 F)"; not "participants 2 days" nor "attendance 80%".
_TOTAL_LABEL = re.compile(r"\b(?:participants?|participantes?|attendees|attendance|pax|ppl|people)(?:\s*[:=]\s*|\s+)"
                          + _NUM + r"(?!\s*(?:[^\W\d]|%))", re.IGNORECASE)
# A number and the few words after it; whether they name people is decided in
# _people_noun, which can afford a fuzzy match for typos like "parcipants".
_WORD = r"[^\W\d][\w&'-]*"
_NUMBER_WORDS = re.compile(_NUM + rf"\+?(?P<words>(?:\s+{_WORD}){{1,3}})")
_APPROX = re.compile(r"(?:~|≈|\b(?:about|around|approx(?:imately|\.)?|ca\.|roughly|some|nearly))\s*"
                     + _NUM + r"(?=\s*(?:[,;)]|\.(?!\d)|$))", re.IGNORECASE)
_JOINER = re.compile(r"[\s\0]*(?:,|\+|&|\band\b|\bplus\b)?[\s\0]*", re.IGNORECASE)

# Nouns that give the total head count, and nouns for one group of people, which
# are added up when several are listed ("12 customs officers and 8 prosecutors").
_TOTAL_NOUNS = frozenset((
    "participant people ppl person pax attendee trainee learner attended joined "
    "participante personne persona pers asistente stagiaire apprenant alumno asistieron").split())
_ROLE_NOUNS = frozenset((
    "delegate representative rep official officer staff expert stakeholder technician "
    "inspector registrar practitioner specialist member journalist farmer recycler "
    "researcher scientist prosecutor judge engineer manager student teacher worker "
    "analyst auditor coordinator "
    "delegue representant fonctionnaire douanier agent expert inspecteur technicien cadre "
    "delegado representante funcionario aduanero agente experto experta inspector tecnico oficial "
    "especialista miembro membre estudiante etudiant recycleur reciclador acteur actor").split()
) | {"focal point", "point focal", "punto focal"}
# Counted before the event, not who came: "230 registered, 180 attended" is 180.
_BEFORE_EVENT = frozenset("registered invited expected nominated inscrits invites inscritos invitados".split())
# Words that end the search for a noun: "9 countries", "15 GRULAC countries and experts".
_NOT_PEOPLE = frozenset((
    "and or from of in at on for with to by per across than over under "
    "country countries party parties region regions city cities day days hour hours "
    "session sessions year years month months week weeks time times "
    "de des du et en pour avec sur pays region regions jour jours heure heures an ans annee annees mois "
    "semaine semaines "
    "y para con sobre pais paises region regiones dia dias hora horas ano anos mes meses semana semanas").split())


# A number after one of these words labels something ("session 2 online",
# "Art. 12 experts", "GEF 5558 stakeholders") and is not a head count.
_LABEL_BEFORE = re.compile(
    r"\b(?:art|article|session|module|day|phase|part|week|cycle|round|no|number|decision|goal|target|sdg"
    r"|cop|oewg|gef|project|series|vol|volume|chapter|section|annex|page|item|room|version)\.?\s*#?\s*$",
    re.IGNORECASE)


def _value(m: re.Match[str]) -> int | None:
    """The signed number of a _NUM match, or None when it labels something ("OEWG-12", "Art. 12")."""
    start = m.start("n")
    if not m.group("sign") and start >= 2 and m.string[start - 1] in "-–" and m.string[start - 2].isalpha():
        return None
    if _LABEL_BEFORE.search(m.string, max(0, start - 12), start):
        return None
    n = int(m.group("n").replace(",", ""))
    return -n if m.group("sign") else n


def _mask(text: str, span: tuple[int, int]) -> str:
    a, b = span
    return text[:a] + "\0" * (b - a) + text[b:]


def _take(pattern: re.Pattern[str], work: str, spans: list[tuple[int, int]]) -> tuple[list[re.Match[str]], str]:
    """Matches of a count pattern, masked so that later patterns do not read them again."""
    matches = [m for m in pattern.finditer(work) if _value(m) is not None]
    for m in matches:
        work = _mask(work, m.span())
        spans.append(m.span())
    return matches, work


def _people_noun(words: str) -> tuple[str, int] | None:
    """("total" | "role" | "before", end offset in `words`) when the words after a number
    name people; "before" is a count made before the event (registered, invited)."""
    prev = ""
    for w in re.finditer(_WORD, words):
        low = fold(w.group())
        # English and French plurals add -s, Spanish ones -s or -es ("inspectores")
        singulars = {low, low[:-1] if low.endswith("s") else low, low[:-2] if low.endswith("es") else low}
        one = next((w for w in singulars if w in _TOTAL_NOUNS or w in _ROLE_NOUNS),
                   low[:-1] if low.endswith("s") else low)
        if low in _BEFORE_EVENT:
            return "before", w.end()
        if one in _TOTAL_NOUNS or (low.startswith("pa") and 8 <= len(low) <= 14
                                   and SequenceMatcher(None, low, "participants").ratio() >= 0.85):
            after = re.match(rf"\s+({_WORD})", words[w.end():])
            if after and fold(after.group(1)) in _BEFORE_EVENT:  # "230 participants registered"
                return "before", w.end() + after.end()
            return "total", w.end()
        if one in _ROLE_NOUNS or f"{prev} {one}" in _ROLE_NOUNS:
            return "role", w.end()
        if low in _NOT_PEOPLE:
            return None
        prev = low
    return None


@dataclass
class _Counts:
    participants: int | None = None
    women: int | None = None
    men: int | None = None
    room: int = 0
    online: int = 0
    women_share: float | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)


def _first(matches: list[re.Match[str]]) -> int | None:
    return _value(matches[0]) if matches else None


def _read_counts(text: str) -> _Counts:
    c = _Counts()
    work = text
    split, work = _take(_SPLIT_COUNT, work, c.spans)
    c.room = sum(_value(m) or 0 for m in split if m.group("room"))
    c.online = sum(_value(m) or 0 for m in split if m.group("online"))

    before_women, work = _take(_TOTAL_BEFORE_WOMEN, work, c.spans)
    # Women and men first: "12 female participants" is 12 women, not 12 participants.
    women_of, work = _take(_WOMEN_OF, work, c.spans)
    women_were, work = _take(_WOMEN_WERE, work, c.spans)
    women, work = _take(_WOMEN, work, c.spans)
    men, work = _take(_MEN, work, c.spans)
    women_label, work = _take(_WOMEN_LABEL, work, c.spans)
    men_label, work = _take(_MEN_LABEL, work, c.spans)
    women_letter, work = _take(_WOMEN_LETTER_LABEL, work, c.spans)
    men_letter, work = _take(_MEN_LETTER_LABEL, work, c.spans) if women_letter else ([], work)
    pair = _LETTER_PAIR.search(work) if not women_letter else None
    if pair:  # "(F 13 / M 17)": the letters before their numbers
        women_letter, men_letter = [pair], [pair]
        c.spans.append(pair.span())
        work = _mask(work, pair.span())
    if not women_letter and _MUJERES_HOMBRES.search(work):  # "(8 M / 10 H)": mujeres, hombres
        women_letter, work = _take(_M_FOR_MUJERES, work, c.spans)
    more_women, work = _take(_WOMEN_LETTER, work, c.spans)
    women_letter += more_women
    more_men, work = _take(_MEN_LETTER, work, c.spans) if women_letter else ([], work)
    men_letter += more_men
    c.women = _first(sorted(women_of + women_were + women, key=lambda m: m.start()) or women_label or women_letter)
    if pair and not (men or men_label):
        c.men = int(pair.group("men"))
    else:
        c.men = _first(men or men_label or men_letter)
    share = _WOMEN_SHARE.search(work)
    if share:
        c.women_share = float(share.group("pct") or share.group("pct2"))
        c.spans.append(share.span())
        work = _mask(work, share.span())

    totals: list[tuple[int, int]] = []  # (position, value)
    roles: list[tuple[int, int, int]] = []  # (start, end, value)
    before_event: list[tuple[int, int]] = []
    labels, work = _take(_TOTAL_LABEL, work, c.spans)
    totals += [(m.start(), value) for m in labels + before_women if (value := _value(m)) is not None]
    for m in _NUMBER_WORDS.finditer(work):
        noun = _people_noun(m.group("words"))
        value = _value(m)
        if noun is None or value is None:
            continue
        end = m.start("words") + noun[1]
        c.spans.append((m.start(), end))
        if noun[0] == "total":
            totals.append((m.start(), value))
        elif noun[0] == "before":
            before_event.append((m.start(), value))
        else:
            roles.append((m.start(), end, value))

    if totals:
        c.participants = min(totals)[1]
    elif c.room or c.online:
        c.participants = c.room + c.online
    elif roles:
        # Groups listed one after another add up; a later, separate mention does not.
        c.participants = roles[0][2]
        for (_, end, _), (start, _, value) in pairwise(roles):
            if not _JOINER.fullmatch(work[end:start]):
                break
            c.participants += value
    else:
        approx = _APPROX.search(work)
        if approx and _value(approx) is not None:
            c.participants = _value(approx)
            c.spans.append(approx.span())
        elif c.women is not None and c.men is not None:
            c.participants = c.women + c.men  # only the split is given
        elif before_event:
            c.participants = min(before_event)[1]
    return c


def _count_problems(c: _Counts) -> list[str]:
    """Clears impossible counts (count_problems has reported them) and applies a share of women."""
    problems = []
    for name in ("participants", "women", "men"):
        value = getattr(c, name)
        if value is not None and not 0 <= value <= MAX_COUNT:
            setattr(c, name, None)
    if c.women_share is not None:
        if c.women_share > 100:
            problems.append(f"{c.women_share:g}% women is more than everyone.")
        elif c.women is None and c.participants is not None:
            c.women = round(c.participants * c.women_share / 100)
    return problems


def count_problems(participants: int | None, women: int | None, men: int | None) -> list[str]:
    """What is impossible about a head count, worded for the user (a log and an edit share it)."""
    problems = []
    for name, value in (("participants", participants), ("women", women), ("men", men)):
        if value is not None and value < 0:
            problems.append(f"The number of {name} can't be negative ({value}).")
        elif value is not None and value > MAX_COUNT:
            problems.append(f"{value:,} {name} is more than I can believe; the most is {MAX_COUNT:,}.")
    p, w, m = participants, women, men
    if p is not None and p >= 0:
        if w is not None and w > p:
            problems.append(f"More women ({w}) than participants ({p}).")
        if m is not None and m > p:
            problems.append(f"More men ({m}) than participants ({p}).")
        if w is not None and m is not None and w <= p and m <= p and w + m > p:
            problems.append(f"Women ({w}) and men ({m}) add up to more than the participants ({p}).")
    return problems


# --- modality -----------------------------------------------------------------

_MODALITY = re.compile(
    r"\b(?:(?P<hybrid>hybrid[eao]?|hibrid[oa]|online\s*(?:\+|and|&|/)\s*offline)"
    r"|(?P<in_person>in[- ]person|face[- ]to[- ]face|f2f|on[- ]?site|physically|offline"
    r"|physical\s+(?:meeting|workshop|training|event|session)s?"
    r"|(?:en\s+)?presentiel(?:le)?|presencial(?:es|mente)?|sur\s+place|in\s+situ)"
    r"|(?P<online>online|on-line|virtual(?:ly|es)?|virtuel(?:le)?|zoom|webex|webinars?|e-?courses?|e-?learning|mooc"
    r"|en\s+ligne|en\s+linea|a\s+distance|a\s+distancia|webinaires?|webinarios?|seminarios?\s+web"
    r"|visioconferences?|videoconferencias?"
    r"|(?:ms\s+|microsoft\s+)?teams\s+(?:call|meeting)|(?:via|on|over)\s+(?:ms\s+)?teams"
    r"|video[- ]?(?:call|conference)s?|videoconferenc\w*|remotely))\b",
    re.IGNORECASE)
_ALONE_BEFORE = re.compile(r"(?:^|[,;:(\-–—])\s*$")
_ALONE_AFTER = re.compile(r"\s*(?:$|[,;:).\-–—])")
_BOTH = re.compile(r"\s*(?:and|&|\+|/|plus|as well as|et|y|ou|o|or)\s*", re.IGNORECASE)
# "Geneva + online", "Dakar et en ligne", "Ciudad de Panamá y en línea": a venue and a remote way in.
_VENUE_AND_ONLINE = re.compile(r"[A-ZÀ-Þ][\w.'’-]*\s*(?:\+|&|\band\b|\bet\b|\by\b)\s*"
                               r"(?:online|on-line|virtual|en\s+ligne|en\s+l[ií]nea)\b")


def _read_modality(text: str, c: _Counts) -> Modality | None:
    if _VENUE_AND_ONLINE.search(text):
        return "hybrid"
    text = fold(text)
    found = list(_MODALITY.finditer(text))
    if any(m.lastgroup == "hybrid" for m in found) or (c.room and c.online):
        return "hybrid"
    # "in person and online" names both ways of taking part.
    for a, b in pairwise(found):
        if a.lastgroup != b.lastgroup and _BOTH.fullmatch(text[a.end():b.start()]):
            return "hybrid"
    # ", in person," said on its own outweighs an adjective ("the online reporting system").
    alone = [m for m in found
             if _ALONE_BEFORE.search(text, max(0, m.start() - 8), m.start()) and _ALONE_AFTER.match(text, m.end())]
    if alone or found:
        return (alone or found)[0].lastgroup  # type: ignore[return-value]
    if c.room or c.online:
        return "in_person" if c.room else "online"
    return None  # a "workshop" may be either; do not guess


# --- kind ---------------------------------------------------------------------

# The first activity word in the message names the activity ("meeting ... incl. pilot
# gender training" is a meeting). Alternatives that start at the same place are
# tried in order, so "online course" wins over "course".
_KIND = re.compile(r"""
    (?P<guidance_launch>
        \b(?:launch(?:ed|ing)?|publish(?:ed|ing)?|publication|releas(?:ed?|ing)
           |lancements?|lanc[ée]e?s?|publi[ée]e?s?|lanzamientos?|lanzad[oa]s?|publicad[oa]s?|publicaci[oó]n)\b
        (?:\W+\w+){0,5}?\W+(?:guidance|guidelines?|guides?|toolkits?|tools?|manuals?|handbooks?|fact\s?sheets?
           |brochures?|lignes\s+directrices|manuels?|fiches?|bo[iî]tes?\s+[àa]\s+outils|gu[ií]as?|directrices
           |manuales?|fichas?|folletos?|cajas?\s+de\s+herramientas)\b
      | \b(?:guidance|guidelines?|guides?|toolkits?|manuals?|handbooks?|fact\s?sheets?|lignes\s+directrices
           |manuels?|gu[ií]as?|directrices|manuales?)\b
        (?:\W+\w+){0,5}?\W+(?:launched|published|released|lanc[ée]e?s?|publi[ée]e?s?|lanzad[oa]s?
           |publicad[oa]s?)\b)
  | (?P<online_course>\b(?:online|e-?learning|self-paced)\s+courses?\b|\be-?courses?\b|\bmooc\b|\be-?learning\b
                  |\bcours\s+en\s+ligne\b|\bcursos?\s+(?:en\s+linea|virtual(?:es)?|online)\b)
  | (?P<webinar>\b(?:webinars?|webinaires?|webinarios?|seminarios?\s+web|seminaires?\s+en\s+ligne)\b)
  | (?P<pilot_project>\b(?:pilot(?:ed|ing|s)?|pilote|piloto|projets?\s+pilotes?|proyectos?\s+pilotos?)\b)
  | (?P<workshop>\b(?:workshops?|w(?:or|r)?ks?h?o?ps?|ateliers?|talleres|taller|seminars?|seminaires?
                  |seminarios?)\b)
  | (?P<training>\b(?:trainings?|(?<!of\s)courses?|coaching|train-the-trainers?|training-of-trainers|tot
                  |training\s+of\s+trainers|formations?|formacion(?:es)?|capacitaci(?:on|ones)|cursos?|(?<!au\s)(?<!en\s)cours
                  |entrenamientos?|stages?\s+de\s+formation)\b)
  | (?P<meeting>\b(?:meetings?|mtgs?|consultations?|briefings?|side[-\ ]events?|round[-\ ]?tables?
                  |kick[-\ ]?offs?|reunions?|reuniones|rencontres?|consultas?|mesas?\s+redondas?|tables?\s+rondes?
                  |validations?|validaci(?:on|ones)
                  |calls?(?!\s+for\b))\b)
""", re.IGNORECASE | re.VERBOSE)


_NEGATION = re.compile(r"\b(?:no|not\s+an?|without|sans|sin|pas\s+de|aucune?|ningun[oa]?)\s+$", re.IGNORECASE)


def _kind_matches(text: str) -> list[re.Match[str]]:
    """Activity words, leaving out negated ones ("no meeting yet")."""
    text = fold(text)
    return [m for m in _KIND.finditer(text) if not _NEGATION.search(text, max(0, m.start() - 12), m.start())]


def _read_kind(text: str) -> Kind:
    found = _kind_matches(text)
    return found[0].lastgroup if found else "other"  # type: ignore[return-value]


_DAY = re.compile(r"(?<!\d)\d{1,2}(?!\d)")
# A reported action, by the shape of the past in each language: French passé composé ("le Niger a
# appliqué", "ont transmis"), Spanish preterite ("Colombia probó", "transmitieron"), English past verbs
# opening the message ("helped Jordan's DNA …") or after the one who acted ("we ran", "Fiji adopted").
_FR_PAST = re.compile(r"\b(?:a|ont|avons|ai|as|avez)\s+(?:(?:d[ée]j[àa]|bien|aussi|enfin)\s+)?"
                      r"\w{2,}(?:é|ée|és|ées|is|ise|it|uit|u|us|ert|erts)\b", re.IGNORECASE)
_ES_PAST = re.compile(r"\b\w{2,}(?:ó|aron|ieron|amos)\b(?<!\bcómo)(?<!\bvamos)(?<!\bestamos)", re.IGNORECASE)
_EN_PAST_WORD = (r"(?:(?!(?:need|feed|speed|seed|indeed|proceed|exceed|succeed)\b)\w{2,}ed"
                 r"|held|took|met|sent|got|made|did|gave|wrote|began|ran|led|built|set\s+up)")
_EN_PAST = re.compile(rf"^\W*{_EN_PAST_WORD}\b"
                      rf"|\b(?:we|they|i|he|she|our\s+\w+|the\s+team)\s+(?:\w+ly\s+)?{_EN_PAST_WORD}\b",
                      re.IGNORECASE)


def _names_one(kind_words: str) -> bool:
    """Whether activity words name one activity ("atelier", "training of trainers", "cours en ligne")
    rather than several ("workshops", "formations", "talleres")."""
    first = kind_words.split()[0].lower()
    return first == "cours" or not first.endswith("s")


def _reported_action(text: str) -> bool:
    if _FR_PAST.search(text) or _ES_PAST.search(text) or _EN_PAST.search(text):
        return True
    ends = [end for (_start, end), country in country_mentions(text) if country]  # "Nigeria and Ghana tried out"
    return any(re.match(rf"\W*(?:and\s+|&\s+)?(?:[A-Z][\w'-]*\s+)*{_EN_PAST_WORD}\b", text[end:]) for end in ends)


def reports_activity(text: str, today: date) -> bool:
    """Whether a message with no command word reads as a report of an activity, in any of the three
    languages: it names a kind of activity ("atelier", "taller", "webinar"), a head count ("30
    participantes", "F:12 M:18"), a dated day ("3 de marzo de 2024") or an action told in the past
    ("Colombia probó las directrices"). The readers of a log decide, so that routing and logging never
    disagree on what a report looks like."""
    if any(_names_one(m.group()) for m in _kind_matches(text)):
        return True  # "Taller sobre …": one activity; "talleres en Colombia en 2024" asks about many
    try:
        found = find_dates(text, today, day_first=True)
    except DateError:
        return True  # an ambiguous day ("03/05/2024") is still a day
    counted = _mask(text, found.span) if found else text
    counts = _read_counts(counted)
    if counts.participants is not None or counts.women is not None or counts.men is not None:
        return True
    if found and _DAY.search(text[found.span[0]:found.span[1]]):
        return True
    return len(text.split()) >= 4 and _reported_action(text)


# --- languages ----------------------------------------------------------------

_LANGUAGE_CODES = {
    "english": "en", "french": "fr", "spanish": "es", "arabic": "ar", "chinese": "zh",
    "mandarin": "zh", "russian": "ru", "portuguese": "pt", "german": "de", "italian": "it",
    "dutch": "nl", "swahili": "sw", "kiswahili": "sw", "vietnamese": "vi", "thai": "th",
    "indonesian": "id", "malay": "ms", "mongolian": "mn", "persian": "fa", "farsi": "fa",
    "turkish": "tr", "japanese": "ja", "korean": "ko", "khmer": "km", "hindi": "hi",
    "urdu": "ur", "bengali": "bn", "amharic": "am", "hausa": "ha", "ukrainian": "uk",
    "georgian": "ka", "armenian": "hy", "kazakh": "kk", "uzbek": "uz", "kyrgyz": "ky",
    "tajik": "tg", "nepali": "ne", "sinhala": "si", "tamil": "ta", "burmese": "my",
    "tagalog": "tl",
}
_PHONE_CODES = {"franco": "fr", "anglo": "en", "luso": "pt", "hispano": "es", "arabo": "ar"}
_LANG = "|".join(sorted(_LANGUAGE_CODES, key=len, reverse=True))
_LANG_ITEM = re.compile(rf"\b(?:{_LANG})\b", re.IGNORECASE)
_LANG_JOIN = r"\s*(?:,|/|&|\+|\band\b)\s*"
_UN_CODES = r"EN|FR|ES|AR|RU|ZH|PT"
_LANGUAGES = re.compile(rf"""
    # "in English, French and Spanish"; not "in French Polynesia"
    \b(?:in|into|languages?\s*:?)\s+(?P<listed>(?:{_LANG})(?:{_LANG_JOIN}(?:{_LANG}))*)\b(?!\s+(?-i:[A-Z]))
    # "English/French": two or more language names together are always languages
  | \b(?P<listed2>(?:{_LANG})(?:{_LANG_JOIN}(?:{_LANG}))+)\b
  | \b(?P<listed3>{_LANG})[-\ ]speaking\b
  | \b(?P<phone>franco|anglo|luso|hispano|arabo)phone\b
  | \b(?P<codes>(?-i:(?:{_UN_CODES})(?:\s*/\s*(?:{_UN_CODES}))+))\b
""", re.IGNORECASE | re.VERBOSE)


def _read_languages(text: str) -> list[str]:
    codes: list[str] = []
    for m in _LANGUAGES.finditer(text):
        if m.group("phone"):
            found = [_PHONE_CODES[m.group("phone").lower()]]
        elif m.group("codes"):
            found = [c.lower() for c in re.findall(_UN_CODES, m.group("codes"))]
        else:
            assert m.lastgroup is not None  # each alternative of _LANGUAGES is a named group
            found = [_LANGUAGE_CODES[w.lower()] for w in _LANG_ITEM.findall(m.group(m.lastgroup))]
        codes += [c for c in found if c not in codes]
    return codes


# --- title --------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(r"[()]|[,;:|\n]|\s[-–—]+\s|—")
# What the trainer did and where a cut left a preposition: "took part in the ...",
# "(5 women among 20 delegates) at the steering mtg".
_LEADING_FILLER = re.compile(
    r"^(?:(?:we|i|ran|held|organi[sz]ed|co-organi[sz]ed|delivered|conducted|hosted|facilitated|gave"
    r"|took\s+part\s+in|participated\s+in|attended|joined|at|in|on|during|with|w/|for|the|a|an|our"
    r"|nous\s+avons|avons|organis[ée]e?s?|tenue?|realizamos|organizamos|hemos|se\s+realiz[óo])\s+)+",
    re.IGNORECASE)
_TRAILING_FILLER = re.compile(
    r"(?:[\s,.;:(\-–—]+|(?:^|\s+)(?:on|in|at|from|to|by|for|with|w/|and|&|of|the|a|an|incl\.?|including"
    r"|de|du|des|en|à|a|au|aux|et|y|del|la|le|les|el|los|pour|para|con|avec|sur|sobre|dont))+$",
    re.IGNORECASE)
# Clock times are cut from titles like dates ("webinar 2 pm 12 March").
_CLOCK = re.compile(r"\b\d{1,2}(?::\d\d)?\s*(?:am|pm)\b|\b\d{1,2}:\d\d\b(?:\s*(?-i:[A-Z]{3,4})\b)?", re.IGNORECASE)
_EMPTY_PARENS = re.compile(r"\([^\w()]*\)")
_TOPIC = re.compile(r"^(?:on|about|regarding|sur|sobre|concernant|acerca\s+de)\s", re.IGNORECASE)


def _clauses(text: str) -> list[tuple[int, str]]:
    """(offset, clause): split on commas, semicolons, colons and spaced dashes, not inside parentheses."""
    out, depth, start = [], 0, 0
    for m in _CLAUSE_BREAK.finditer(text):
        if m.group() == "(":
            depth += 1
        elif m.group() == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append((start, text[start:m.start()]))
            start = m.end()
    out.append((start, text[start:]))
    return [(at, " ".join(_EMPTY_PARENS.sub(" ", c).split())) for at, c in out]


def _tidy(clause: str) -> str:
    """A clause without filler, or "" when nothing in it could be a title."""
    clause = clause.strip(" -–—.,;:")
    if _MODALITY.fullmatch(fold(clause)) and not _KIND.search(fold(clause)):  # ", in person," is not a title
        return ""
    clause = _TRAILING_FILLER.sub("", _LEADING_FILLER.sub("", clause))
    return clause if re.search(r"[^\W\d]", clause) else ""


def _read_title(text: str, dates: list[tuple[int, int]], counts: list[tuple[int, int]]) -> str:
    """The leading phrase that says what the activity was, without date and counts."""
    first_count = min((a for a, _ in counts), default=len(text))
    for a, b in dates + counts + [m.span() for m in _CLOCK.finditer(text)]:
        text = text[:a] + "," + " " * (b - a - 1) + text[b:]  # a cut date, count or time ends a clause
    raw = [(at, c) for at, c in _clauses(text) if _tidy(c)]
    clauses = [_tidy(c) for _, c in raw]
    # The first clause that names the activity, else the first before the counts
    # that says something (three words or more): "Accra", "Ghana" or "in person"
    # alone is not a title, nor are the leftovers of "9 of them women".
    pick = next((i for i, c in enumerate(clauses) if _kind_matches(c)), None)
    if pick is None:
        early = [i for i, (at, _) in enumerate(raw) if at < first_count]
        pick = next((i for i in early if len(clauses[i].split()) >= 3), early[0] if early else None)
    if pick is None:
        return ""
    title = clauses[pick]
    # "Webinar: gender mainstreaming in …": the activity word names what follows the colon.
    if pick + 1 < len(raw) and len(title.split()) <= 2 and text[:raw[pick + 1][0]].rstrip().endswith(":"):
        title = f"{title}: {clauses[pick + 1]}"
    untidy = [c for _, c in raw]
    # "Training in Dar es Salaam, Tanzania, on plastic waste": keep the topic.
    topic = next((c for c in untidy[pick + 1:pick + 3] if _TOPIC.match(c)), None)
    if topic and not re.search(r"\s(?:on|about|sur|sobre)\s", title, re.IGNORECASE):
        title = f"{title} {_TRAILING_FILLER.sub('', topic)}"
    if len(title) > TITLE_MAX:
        title = title[:TITLE_MAX].rsplit(" ", 1)[0].rstrip(" ,;:-") + "…"
    return title[:1].upper() + title[1:]


# --- the whole message --------------------------------------------------------


# Slack mentions, channel links, links and emoji say nothing about the activity.
_CHAT_NOISE = re.compile(
    r"<[@#!][^>]*>|<(?:https?|mailto):[^>]*>|\bhttps?://\S+|:[a-z0-9_+'-]+:"
    r"|[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]")
_STATUS_WORDS = {
    "planned": r"planned|upcoming|forthcoming|to\s+be\s+held|will\s+be\s+held|scheduled|pr[ée]vue?s?|[àa]\s+venir"
               r"|planifi[ée]e?s?|se\s+tiendra|previst[oa]s?|programad[oa]s?|planificad[oa]s?"
               r"|se\s+realizar[áa]|pr[óo]xim[oa]",
    "done": r"done|held|completed|delivered|r[ée]alis[ée]e?s?|termin[ée]e?s?|tenue?|realizad[oa]|completad[oa]"
            r"|celebrad[oa]",
}
# "planned: national workshop …": a status word before a colon sets the status and leaves the title.
_LEADING_STATUS = re.compile(
    rf"^\s*\[?(?:(?P<planned>{_STATUS_WORDS['planned']})|(?P<done>{_STATUS_WORDS['done']}))\]?\s*[:\-–—]\s*",
    re.IGNORECASE)
_PLANNED_ANYWHERE = re.compile(rf"\b(?:{_STATUS_WORDS['planned']})\b", re.IGNORECASE)


def _read_status(body: str) -> tuple[str | None, str]:
    """("planned" | "done" | None, the body without a leading status word)."""
    lead = _LEADING_STATUS.match(body)
    if lead:
        return lead.lastgroup, body[lead.end():]
    return ("planned" if _PLANNED_ANYWHERE.search(body) else None), body


# Words that mostly belong to one of the three languages; enough of them tell
# which one a message is written in.
_FUNCTION_WORDS = {
    "en": set("the and of with for from to at on in was were women men participants held "
              "workshop training meeting countries".split()),
    "fr": set("le la les des du au aux et avec pour sur dont une à été femmes hommes pays "
              "atelier formation réunion ligne présentiel".split()),
    "es": set("el los las del al y con para sobre una fue mujeres hombres países país "
              "taller capacitación reunión curso línea presencial".split()),
}


def detect_language(text: str) -> str:
    """"en", "fr" or "es": the language with the most of its own words in the text."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    best = max(scores.values())
    return next(lang for lang in ("en", "fr", "es") if scores[lang] == best) if best else "en"


def extract_log_fields(text: str, today: date) -> LogFields:
    """Every field a log message states; contradictions go to `problems`, never dropped silently."""
    body = _CHAT_NOISE.sub(lambda m: " " * len(m[0]), _COMMAND.sub("", text, count=1))
    status, body = _read_status(body)
    language = detect_language(body)
    problems: list[str] = []
    start = end = None
    date_span: tuple[int, int] | None = None
    year_taken = False
    readings: tuple[DateSpan, ...] = ()
    try:
        found = find_dates(body, today, planned=status == "planned", day_first=language in ("fr", "es"))
        if found:
            start, end, date_span, year_taken = found.start, found.end, found.span, found.year_taken
    except DateError as error:
        problems.append(error.message)
        date_span, readings = error.span, error.readings

    # Numbers inside the date are not counts.
    counted = _mask(body, date_span) if date_span else body
    counts = _read_counts(counted)
    problems += count_problems(counts.participants, counts.women, counts.men)
    problems += _count_problems(counts)

    return LogFields(
        start_date=start,
        end_date=end,
        participants=counts.participants,
        women=counts.women,
        men=counts.men,
        modality=_read_modality(body, counts),
        kind=_read_kind(body),
        title=_read_title(body, [date_span] if date_span else [], sorted(counts.spans)),
        languages=_read_languages(body),
        problems=problems,
        status=status,
        language=language,
        year_taken=year_taken,
        date_readings=readings,
        date_phrase=body[date_span[0]:date_span[1]] if date_span else "",
    )


# --- places -------------------------------------------------------------------


@dataclass
class Places:
    """The countries a log names, where it was held, and what could not be placed."""

    countries: list[str]  # alpha-2 codes, the host first, then the others in order of mention
    host: str | None  # where it took place: the country of its city, else the first named
    unresolved: list[str]  # words in the place of a place that name no country or city known
    stated: int | None  # "from 9 countries": how many countries the message says took part
    city: str | None = None  # the first city named, as GeoNames spells it


# "from 9 countries", "8 ASEAN countries", "20 developing countries", "14 pays d'Afrique".
_STATED = re.compile(r"(?<![\w.,])(\d{1,3})\s+(?:[^\W\d][\w-]*\s+){0,2}?(?:countries|pays|pa[ií]ses|nations"
                     r"|naciones|member\s+states|[ÉE]tats\s+membres|Estados\s+miembros|Parties|Partes)\b",
                     re.IGNORECASE)
# A capitalised phrase of up to four words, joined by the small words of place names
# ("Dar es Salaam", "Port of Spain", "Santo Domingo de los Colorados").
_CODE_AFTER_PLACE = re.compile(r"(?<=[^\W\d_]{3}),\s*([A-Z]{2})(?=\s*(?:[,;.)]|$|\s\d|\s[-–—]))")
_CAPITALISED = re.compile(r"(?<![\w'’])[A-ZÀ-Þ][\w'’.-]*"
                          r"(?:\s+(?:(?:es|of|de|del|la|los|el|do|da)\s+)?[A-ZÀ-Þ][\w'’.-]*){0,3}")
_PLACE_BEFORE = re.compile(r"(?:\b(?:in|at|à|en|au|aux|dans|desde|from|near|hosted\s+by|city\s+of|ville\s+de"
                           r"|ciudad\s+de)"
                           r"|[,;(/]|\b(?:and|et|y)|[-–—])\s*$", re.IGNORECASE)
_PLACE_PREPOSITION = re.compile(r"\b(?:in|at|à|en|au|aux|dans|desde|near)\s+$", re.IGNORECASE)
_PLACE_AFTER = re.compile(r"\s*(?:$|[,;.)/+]|\s[-–—]\s|\b(?:and|et|y)\b|\d)")
# A day right after a city's name ("Abidjan 12-14 juin", "Nairobi 9 Apr") says where and when.
_DATE_AFTER = re.compile(r"\s+\d{1,2}(?:\s*[-–/]\s*\d{1,2}|\s+[^\W\d]{3})")
# Cities named like the conventions: "Basel" here is the Basel Convention.
_CONVENTION_WORDS = re.compile(r"\s*(?:conventions?|conv\b|cop\b|protocol|secretariat|/|&"
                               r"|,?\s+(?:Rotterdam|Stockholm))",
                               re.IGNORECASE)
_CONVENTION_CITIES = frozenset("basel rotterdam stockholm minamata bale bâle basilea estocolmo".split())
_LANGUAGE_NAMES = frozenset(_LANGUAGE_CODES) | frozenset(
    "anglais francais espagnol portugais arabe russe chinois ingles frances espanol portugues".split())
_NOT_PLACE_WORDS = frozenset(
    "the a an our their my this that le la les un une el los las mi nuestro notre".split())


def _is_word_not_place(phrase: str) -> bool:
    low = fold(phrase)
    first = low.split()[0]
    return (first in _NOT_PLACE_WORDS or low in _LANGUAGE_NAMES or low.rstrip(".") in month_numbers()
            or bool(_KIND.fullmatch(low) or _MODALITY.fullmatch(low) or _RELATIVE_WORD.fullmatch(low))
            or any(sum(c.isupper() for c in w) >= 2 for w in phrase.split()))  # an acronym: PIC, ESM, DNAs


_RELATIVE_WORD = re.compile(r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|today|yesterday|hier|ayer|lundi|mardi"
                            r"|mercredi|jeudi|vendredi|lunes|martes|miercoles|jueves|viernes", re.IGNORECASE)


def _in_place_position(body: str, start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    """Whether a word that names a city stands where a place is named: after "in", "à",
    "en", set off by commas or brackets, next to a country, or right after the activity
    word ("wkshp Nairobi"). Many cities share their name with a word ("Male: 18",
    "Mobile app", "Split the group")."""
    before, after = body[max(0, start - 25):start], body[end:]
    if _PLACE_PREPOSITION.search(before) or any(0 <= start - b <= 3 or 0 <= a - end <= 3 for a, b in taken):
        return True
    kinds = _kind_matches(before)
    if kinds and not before[kinds[-1].end():].strip():
        return True
    if _DATE_AFTER.match(after):
        return True
    set_off = not before.strip() or re.search(r"[,;(/\-–—]\s*$", before)
    before_kind = any(m.start() == len(after) - len(after.lstrip()) for m in _kind_matches(after[:40]))
    return bool(set_off and (before_kind or _PLACE_AFTER.match(after)) and not re.match(r"\s*[:=]", after))


def read_places(text: str) -> Places:
    """Countries by name (three languages), ISO code lists and cities, and the words in
    the place of a place that name none of them, so that the reply can say so."""
    body = _CHAT_NOISE.sub(lambda m: " " * len(m[0]), text)
    codes: list[str] = []
    taken: list[tuple[int, int]] = []
    city_host = city_name = None
    first_place: list[tuple[int, str]] = []  # (position, code) for the host
    for span, country in country_mentions(body):
        taken.append(span)
        if country is None:  # "Port of Spain" hides "Spain" and is a city
            city = find_city(body[span[0]:span[1]])
            country = city.country if city else None
            if city and city_host is None:
                city_host, city_name = city.country.code, city.name
        if country is not None:
            codes.append(country.code)
            first_place.append((span[0], country.code))
    for span, in_list in find_code_lists(body):
        taken.append(span)
        codes += [c.code for c in in_list]
    placed_by_code: list[int] = []  # where "Ouaga, BF" puts a town by its country's code
    for m in _CODE_AFTER_PLACE.finditer(body):  # "Ouaga, BF": one code, right after a place
        if get_country(m.group(1)) and not any(a <= m.start(1) < b for a, b in taken):
            taken.append(m.span(1))
            placed_by_code.append(m.start())
            codes.append(m.group(1))
            first_place.append((m.start(1), m.group(1)))
    unresolved: list[str] = []
    for m in _CAPITALISED.finditer(body):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        words = m.group().rstrip(".'’").split()
        at = m.start()
        while words:
            place, n = None, len(words)
            for n in range(len(words), 0, -1):
                phrase = " ".join(words[:n])
                if _is_word_not_place(phrase):
                    continue
                country = resolve_country(phrase)  # a typo of a country's name ("Senegall")
                city = None if country else find_city(phrase)
                after = body[at + len(phrase):]
                if city and (fold(phrase) in _CONVENTION_CITIES or _CONVENTION_WORDS.match(after)
                             or not _in_place_position(body, at, at + len(phrase), taken)):
                    city = None
                if country or city:
                    place = country or (city.country if city else None)
                    break
            if place is not None:
                codes.append(place.code)
                if city_host is None and not country and city:
                    city_host, city_name = place.code, city.name
                first_place.append((at, place.code))
            else:
                n = len(words)
                phrase = " ".join(words)
                before = body[max(0, at - 15):at]
                after = body[at + len(phrase):]
                listed = _PLACE_BEFORE.search(before) and _PLACE_AFTER.match(after)
                # Beside a place or after "in": a word meant as a place ("workshop in Atlantis").
                near_place = any(0 <= at - b <= 6 or 0 <= a - (at + len(phrase)) <= 6 for a, b in taken)
                if (listed and (_PLACE_PREPOSITION.search(before) or near_place) and len(phrase) > 2
                        and not _is_word_not_place(phrase) and at + len(phrase) not in placed_by_code):
                    unresolved.append(phrase)
                else:  # "University of Nairobi": the words after the first may still be a place
                    n = 1
            consumed = " ".join(words[:n])
            taken.append((at, at + len(consumed)))
            at = body.find(words[n], at + len(consumed)) if n < len(words) else at
            words = words[n:]
    countries = list(dict.fromkeys(codes))
    host = city_host or (min(first_place)[1] if first_place else None) or (countries[0] if countries else None)
    if host:
        countries = [host] + [c for c in countries if c != host]
    stated = _STATED.search(body)
    return Places(countries, host, list(dict.fromkeys(unresolved)), int(stated.group(1)) if stated else None,
                  city_name)
