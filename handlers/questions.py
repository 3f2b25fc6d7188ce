"""A question in English, French or Spanish → what it asks: status or gaps, of which target, over which period.

Targets: the whole plan (`PLAN`), a convention, an outcome, an indicator, a country
(its alpha-2 code) or a UN regional group (`region:AFR`). A question is about the plan
only on evidence — a plan code or name, a country, a region, words of the plan's
indicators, or status words with nothing else — so that "When was Slack released?"
gets an honest answer instead of the indicator that happens to share a word.
"""
from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from functools import cache

from babel.dates import get_month_names

from handlers.matcher import match_indicators
from plan_data.countries import Country, country_mentions, find_countries, find_region, get_country, resolve_country
from plan_data.loader import Plan

LANGUAGES = ("en", "fr", "es")
PLAN = "PLAN"
# A free-text question goes to its best indicator only from this score on (0–100): below it,
# one shared word ("released", "meeting") is all the evidence, and that is not enough.
MIN_INDICATOR_SCORE = 60.0
# A plan item is looked for in the first words only: a question names it early, and a pasted
# page would otherwise cost a lookup for every span of it.
MAX_QUESTION_WORDS = 80


@dataclass(frozen=True)
class Target:
    kind: str  # plan, convention, outcome, indicator, country, region
    code: str  # PLAN, a plan code, a country's alpha-2 code, or region:<code>


@dataclass(frozen=True)
class Period:
    start: date | None
    end: date | None  # None: up to now

    def as_json(self) -> dict:
        return {"from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


@dataclass(frozen=True)
class Question:
    command: str  # "status" or "gaps"
    target: Target | None  # None: not a question about the plan
    period: Period | None = None
    view: str = ""  # "recent": the latest activities; "gender": the figures by sex
    note: str = ""  # how the target was read, when it is not what was typed ("SC2.O5 is reported by …")

    def as_json(self) -> dict:
        return {"command": self.command, "target": self.target.code if self.target else None,
                "kind": self.target.kind if self.target else None,
                "period": self.period.as_json() if self.period else None}


# --- words -----------------------------------------------------------------------
# Patterns over accent-free lower-case text. Shapes of the three languages, not sentences.

# Asks what is missing: indicators with no activity, or behind.
GAP_CUES = re.compile(
    r"\b(gaps?|missing|lacking|behind|lagging|neglected|untouched|not (?:yet )?(?:started|covered|reached)|"
    r"no (?:activity|activities|progress|work)|nothing (?:yet|logged|done)|without (?:any )?activit\w*|"
    r"lacunes?|manque|manquent|en retard|a la traine|delaisse|sans (?:aucune )?activite\w*|aucune activite\w*|"
    r"pas (?:encore )?(?:d'|de )?activite|rien (?:encore|n'a)|"
    r"falta|faltan|faltantes?|brechas?|vacios?|rezagad\w*|atrasad\w*|retrasad\w*|"
    r"sin (?:ninguna )?actividad\w*|ninguna actividad\w*|nada (?:todavia|aun)|lagunas?|"
    r"(?:have|has) no activit\w*|n'ont (?:pas|aucune) (?:d'|de )?activite\w*|no tienen? (?:ninguna )?actividad\w*)\b")
# Asks for the latest activities rather than the figures.
RECENT_CUES = re.compile(
    r"\b(when (?:was|were|did)|(?:the )?(?:last|latest|most recent) (?:\w+ )?(?:workshops?|trainings?|activit\w*|"
    r"webinars?|meetings?|events?|missions?|courses?)|quand|derniere?s?|plus recente?s?|cuando|ultim[oa]s?|"
    r"mas recientes?)\b")
# Asks about women among those trained.
GENDER_CUES = re.compile(r"\b(women|woman|female|gender|femmes?|feminin\w*|genre|mujeres?|femenin\w*|genero)\b")

# Words of a status question that say nothing about what it is about.
QUESTION_WORDS = re.compile(
    r"\b(status|progress|update|updates|report|overview|summary|figures?|numbers?|stats?|totals?|"
    r"how|hows|how's|what|what's|whats|which|where|when|who|is|are|was|were|did|do|does|done|has|have|had|"
    r"doing|going|looking|stand|stands|standing|so far|yet|any|many|much|please|pls|show|give|tell|me|us|"
    r"we|our|ours|about|overall|whole|entire|all|everything|general|globally|global|across|total|"
    r"globalement|generalement|dans l'ensemble|en general|en conjunto|generalmente|"
    r"of|on|for|in|at|to|by|with|the|a|an|and|or|re|since|between|from|there|been|get|got|"
    r"etat|situation|avancement|progres|bilan|point|ou|en|est|sont|on|comment|va|vont|avance|avancent|"
    r"quel|quelle|quels|quelles|combien|qu'|que|quoi|ce|cette|ces|nous|notre|nos|avons|a|ont|"
    r"de|du|des|d'|n'|s'|c'|j'|ne|la|le|les|l'|un|une|et|pour|sur|dans|au|aux|ensemble|global|globale|tout|toute|"
    r"estado|situacion|avances?|progresos?|balance|como|va|van|vamos|que|cual|cuales|cuantos|cuantas|"
    r"donde|esta|estan|estamos|hemos|han|ha|hay|nuestro|nuestra|nuestros|el|los|las|lo|del|al|y|o|"
    r"para|por|sobre|con|todo|toda|todos|conjunto|encore|todavia|aun|ya|gaps?|tiene|tienen|tenemos|es|son|fue|"
    r"fueron|hecho|hicimos|ete|fait|faits|eu|lieu|quand|cuando|hizo|hicieron|s|"
    r"list|liste|lista|anything|news|big picture|picture|quick|brief|short|chiffres?|statistiques|nouvelles|"
    r"resume|apercu|"
    r"cifras?|resumen|datos|numeros|estadisticas|novedades|panorama|algo|"
    r"general|generale|generales|complet|complete|completo|completa|entier|entiere|entero|entera|"
    r"took part|taken part|take part|taking part|"
    r"montre|montrez|donne|donnez|affiche|affichez|dis|dites|moi|"
    r"muestrame|muestranos|ensename|dame|danos|dime|mandame|pasame|muestreme|digame|deme|"
    r"plan|tap|technical assistance plan|plan d'assistance technique|plan de asistencia tecnica)\b"
    r"|[?¿!¡:.,;()\-–]")
# Words about the plan's work in general: with status words only, the question is about the whole plan.
GENERAL_WORDS = re.compile(
    r"\b(activit\w*|actividad\w*|workshops?|ateliers?|taller(?:es)?|courses?|cours|cursos?|trainings?|trained|train|formations?|formee?s?|"
    r"formad\w*|capacitad\w*|capacitacion\w*|webinars?|seminaires?|seminarios?|meetings?|reunion\w*|events?|"
    r"evenements?|eventos?|people|personnes|personas|participants?|participantes?|women|woman|female|men|"
    r"femmes?|hommes?|mujeres?|hombres?|gender|genre|genero|indicators?|indicateurs?|indicadores?|"
    r"outcomes?|resultats?|resultados?|countries|pays|paises|parties|logged|held|"
    r"missing|lacking|behind|lagging|no|nothing|not|started|without|neglected|manque\w*|retard|aucune?|"
    r"sans|pas|rien|n'ont|n'a|falta\w*|sin|ninguna?|nada|rezagad\w*|atrasad\w*|particip\w*|"
    r"quarters?|trimestres?|semestres?|half|months?|mois|mes(?:es)?|years?|annees?|ans?|anos?|"
    r"first|second|premier|deuxieme|primer|segundo|"
    r"last|latest|most|recent|dernier\w*|plus|recente?s?|ultim[oa]s?|mas|recientes?)\b")
# French and Spanish words of a structured reference, in the English the plan's resolver reads.
REFERENCE_WORDS = [
    (re.compile(r"\b(resultat|resultado)\b"), "outcome"),
    (re.compile(r"\b(indicateur|indicador)\b"), "indicator"),
    (re.compile(r"\b(produit|producto)\b"), "output"),
    (re.compile(r"\b(outcome|indicator|output) (\w+) (?:de la |de l'|du |del |de |of the |of )"), r"\1 \2 of "),
    (re.compile(r"\b(convention|convenio|convencion) (?:de|of) (?:la |the )?"), ""),
    (re.compile(r"\b(?:(?:la|le|les|el|los|las|the)\s+|l')"), ""),
]


def plain(text: str) -> str:
    """Lower case, without accents, with one kind of apostrophe: what the patterns above read."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("`", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


# --- periods ---------------------------------------------------------------------


@cache
def _month_numbers() -> dict[str, int]:
    """Month names and abbreviations in the three languages (CLDR, through Babel) → 1..12."""
    names: dict[str, int] = {}
    for locale in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale=locale).items():
                    key = plain(name).strip(".")
                    if len(key) >= 3:
                        names.setdefault(key, number)
    return names


# Ordinal words for quarters, accent-free as the patterns read them.
_QUARTER_WORDS = {"first": 1, "1st": 1, "premier": 1, "1er": 1, "primer": 1, "primero": 1,
                  "second": 2, "2nd": 2, "deuxieme": 2, "2e": 2, "segundo": 2,
                  "third": 3, "3rd": 3, "troisieme": 3, "3e": 3, "tercer": 3, "tercero": 3,
                  "fourth": 4, "4th": 4, "quatrieme": 4, "4e": 4, "cuarto": 4}


@cache
def _period_patterns() -> dict[str, re.Pattern[str]]:
    month = "|".join(sorted(map(re.escape, _month_numbers()), key=len, reverse=True))
    year = r"(?P<{n}>(?:19|20)\d\d)"
    since = r"(?:since|from|as of|starting|depuis|a partir de|desde|a partir del?)"
    return {
        "since_month": re.compile(rf"\b{since} (?:(?:le )?mois de |el mes de )?(?P<m>{month})\.?"
                                  rf"(?: (?:de |of )?{year.format(n='y')})?\b"),
        "since_year": re.compile(rf"\b{since} (?:(?:l'annee|el ano|the year) )?{year.format(n='y')}\b"),
        "range": re.compile(rf"\b(?:between|from|entre|de|del|desde)? ?{year.format(n='y')} "
                            rf"?(?:and|to|until|-|–|a|au|et|y|hasta|al) ?{year.format(n='y2')}\b"),
        "quarter": re.compile(rf"\b(?:q|t)(?P<q>[1-4]) (?:de |of )?{year.format(n='y')}\b"
                              rf"|\b{year.format(n='y2')} (?:q|t)(?P<q2>[1-4])\b"
                              rf"|\b(?:the |le |el )?(?P<qw>{'|'.join(_QUARTER_WORDS)}) (?:quarter|trimestre)"
                              rf"(?: (?:of |de |del )?{year.format(n='y3')})?\b"),
        "month": re.compile(rf"\b(?P<m>{month})\.? (?:de |of )?{year.format(n='y')}\b"),
        "year": re.compile(rf"\b{year.format(n='y')}\b"),
        "last_year": re.compile(r"\b(last year|previous year|the year before|l'annee (?:derniere|passee|precedente)|"
                                r"l'an (?:dernier|passe)|(?:d|\b)el ano (?:pasado|anterior))\b"),
        "this_year": re.compile(r"\b(this year|so far this year|year to date|ytd|cette annee|"
                                r"depuis le debut de l'annee|"
                                r"este ano|en lo que va del? ano)\b"),
        "last_month": re.compile(r"\b(last month|previous month|le mois (?:dernier|passe)"
                                 r"|el mes (?:pasado|anterior))\b"),
        "this_month": re.compile(r"\b(this month|ce mois(?:-ci)?|este mes)\b"),
        "last_quarter": re.compile(r"\b(last quarter|previous quarter|le trimestre (?:dernier|passe|precedent)|"
                                   r"el trimestre (?:pasado|anterior))\b"),
        "this_quarter": re.compile(r"\b(this quarter|ce trimestre|este trimestre)\b"),
    }


def _quarter(year: int, q: int) -> Period:
    return Period(date(year, 3 * q - 2, 1), date(year, 3 * q, monthrange(year, 3 * q)[1]))


def _month(year: int, m: int) -> Period:
    return Period(date(year, m, 1), date(year, m, monthrange(year, m)[1]))


def find_period(text: str, today: date) -> tuple[Period | None, str]:
    """The period a question names, relative to `today`, and the question without it.

    A named year, quarter or month runs to its last day; "since …" runs to now.
    """
    patterns = _period_patterns()
    for name, pattern in patterns.items():
        m = pattern.search(text)
        if not m:
            continue
        g = m.groupdict()
        rest = (text[:m.start()] + " " + text[m.end():]).strip()
        if name == "since_month":
            month = _month_numbers()[m.group("m")]
            year = int(g["y"]) if g.get("y") else today.year - (month > today.month)
            return Period(date(year, month, 1), None), rest
        if name == "since_year":
            return Period(date(int(g["y"]), 1, 1), None), rest
        if name == "range":
            first, last = sorted((int(g["y"]), int(g["y2"])))
            return Period(date(first, 1, 1), date(last, 12, 31)), rest
        if name == "quarter":
            if g["qw"]:  # "premier trimestre 2025", "the third quarter" (of this year when none is said)
                return _quarter(int(g["y3"] or today.year), _QUARTER_WORDS[g["qw"]]), rest
            return _quarter(int(g["y"] or g["y2"]), int(g["q"] or g["q2"])), rest
        if name == "month":
            return _month(int(g["y"]), _month_numbers()[m.group("m")]), rest
        if name == "year":
            return Period(date(int(g["y"]), 1, 1), date(int(g["y"]), 12, 31)), rest
        if name in ("last_year", "this_year"):
            year = today.year - (name == "last_year")
            return Period(date(year, 1, 1), date(year, 12, 31)), rest
        if name in ("last_month", "this_month"):
            year, month = (today.year, today.month) if name == "this_month" else (
                (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12))
            return _month(year, month), rest
        q = (today.month - 1) // 3 + 1
        year, q = (today.year, q) if name == "this_quarter" else ((today.year, q - 1) if q > 1 else (today.year - 1, 4))
        return _quarter(year, q), rest
    return None, text


# --- targets ---------------------------------------------------------------------


def read_question(text: str, plan: Plan, today: date, command: str = "status") -> Question:
    """What a status or gaps question asks. `command` is "gaps" when the user typed that verb."""
    said = plain(text)
    period, said = find_period(said, today)
    if GAP_CUES.search(said):
        command = "gaps"
    view = ("recent" if RECENT_CUES.search(said) else "gender" if GENDER_CUES.search(said) else "")
    target, note = _target(text, said, plan)
    if target is None and not _leftover(said):
        target = Target("plan", PLAN)  # status words and words about the plan's work, nothing more specific
    if command == "gaps" and target is not None and target.kind == "indicator":
        outcome = plan.indicators[target.code].outcome
        target, note = Target("outcome", outcome), f"the gaps of {outcome}, the outcome of {target.code}"
    return Question(command, target, period, view if target else "", note)


def resolve_target(text: str, plan: Plan) -> Target | None:
    """What a status question is about, with no period (as `tapbot status` reads its target)."""
    return _target(text, plain(text), plan)[0]


def _target(text: str, said: str, plan: Plan) -> tuple[Target | None, str]:
    cleaned = _clean(said)
    english = _in_english(said)
    code = plan.resolve(cleaned) or _reference(english, plan, conventions=False)
    if code:
        return _as_target(code, plan)
    convention, rest = _convention_named(english, plan)
    if convention and not _leftover(rest):  # "où en est la Convention de Rotterdam ?"
        return Target("convention", convention), ""
    region = find_region(said)
    if region:
        return Target("region", f"region:{region.code}"), ""
    country = _country_named(text, cleaned)
    if country:  # "what's the capital of France?" names a country, and is not about the plan
        return (None, "") if _about_something_else(text, plan) else (Target("country", country.code), "")
    if cleaned and _leftover(said):
        code = _outcome_by_alias(cleaned, plan) or _best_indicator(cleaned, plan)
        if code:  # "national reports under Basel": the indicator, more precise than its convention
            return _as_target(code, plan)
    return (Target("convention", convention), "") if convention else (None, "")


def _as_target(code: str, plan: Plan) -> tuple[Target, str]:
    if code in plan.outputs:  # an output is reported through the indicator paired with it, else its outcome
        paired = [i.code for i in plan.indicators.values() if i.output == code]
        reported = paired[0] if paired else plan.outputs[code].outcome
        return _as_target(reported, plan)[0], f"{code} is an output; it is reported through {reported}"
    if code in plan.conventions:
        return Target("convention", code), ""
    if code in plan.outcomes:
        return Target("outcome", code), ""
    return Target("indicator", code), ""


def _in_english(said: str) -> str:
    """A structured reference's French or Spanish words in English ("résultat 2 de Stockholm")."""
    for pattern, english in REFERENCE_WORDS:
        said = pattern.sub(english, said)
    return re.sub(r"\s+", " ", re.sub(r"[?¿!¡:,;]", " ", said)).strip(" .")


def _clean(said: str) -> str:
    cleaned = QUESTION_WORDS.sub(" ", _in_english(said))
    return re.sub(r"\s+", " ", cleaned).strip(" -,.'")


def _leftover(said: str) -> str:
    """What the question says beyond status words and words about the plan's work in general."""
    return re.sub(r"\s+", " ", GENERAL_WORDS.sub(" ", QUESTION_WORDS.sub(" ", said))).strip(" -,.'")


def _reference(english: str, plan: Plan, conventions: bool) -> str | None:
    """An outcome, output or indicator (or, with `conventions`, a convention) named by code or
    structured reference in a span of the text, the longest first."""
    words = english.split()[:MAX_QUESTION_WORDS]
    for size in range(min(len(words), 7), 0, -1):
        for start in range(len(words) - size + 1):
            code = plan.resolve(" ".join(words[start:start + size]))
            if code and (conventions or code not in plan.conventions):
                return code
    return None


def _convention_named(english: str, plan: Plan) -> tuple[str | None, str]:
    """A convention named in the text, and the text without its name."""
    words = english.split()[:MAX_QUESTION_WORDS]
    for size in range(min(len(words), 4), 0, -1):
        for start in range(len(words) - size + 1):
            code = plan.resolve(" ".join(words[start:start + size]))
            if code in plan.conventions:
                return code, " ".join(words[:start] + words[start + size:])
    return None, english


def _country_named(text: str, cleaned: str) -> Country | None:
    country = resolve_country(text.strip(" ?!.,¿¡"))
    if country:
        return country
    # Two letters are a country's code when they are all the question says ("status ke"), else too often a word.
    alone = text.strip(" ?!.,¿¡")
    if len(alone) == 2 and alone.isalpha() and get_country(alone.upper()):
        return get_country(alone.upper())
    country = resolve_country(cleaned) if len(cleaned) > 2 or cleaned.isupper() else None
    if country:
        return country
    found = find_countries(text)
    return found[0] if len(found) == 1 else None


def _about_something_else(text: str, plan: Plan) -> bool:
    """Whether the words beside the places a question names are about something other than the plan's
    work ("what's the capital of France?", "quel temps fait-il au Sénégal ?"): then a country alone is
    no evidence that the question is about the plan."""
    rest = list(text)
    for (start, end), _country in country_mentions(text):
        rest[start:end] = " " * (end - start)
    left = " ".join(w for w in _leftover(find_period(plain("".join(rest)), date.today())[1]).split()
                    if len(w) > 2)  # elisions left by a blanked name ("l'", "'s") say nothing
    return bool(left) and _best_indicator(left, plan) is None


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", plain(text))


def _outcome_by_alias(text: str, plan: Plan) -> str | None:
    """An outcome named by one of its aliases: the whole text, or with the word "outcome"."""
    said = " ".join(_tokens(text))
    best: tuple[int, str] | None = None
    for outcome in plan.outcomes.values():
        for alias in outcome.aliases:
            a = " ".join(_tokens(alias))
            whole = said == a or said == f"{a} outcome" or said == f"outcome {a}"
            inside = re.search(r"\boutcome\b", said) and re.search(rf"\b{re.escape(a)}\b", said)
            if (whole or inside) and (best is None or len(a) > best[0]):
                best = (len(a), outcome.code)
    return best[1] if best else None


def _best_indicator(text: str, plan: Plan) -> str | None:
    matches = match_indicators(text, plan, limit=1)
    return matches[0].code if matches and matches[0].score >= MIN_INDICATOR_SCORE else None
