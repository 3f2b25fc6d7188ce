"""A plan document (plain text or .docx) → a plan file for a person to review.

`tapbot plan import DOCUMENT --out FILE` reads the plan's section of outcomes, outputs
and indicators ("A. Basel Convention", "1. Outcome: …", "(a) Outputs", "- (i) …"),
keeps every text verbatim, assigns the codes people type (``BC1``, ``BC1.O4``,
``BC1.I4``), and proposes each indicator's measure from its wording, marked
``measure_to_review`` until someone checks it. The file it writes passes
``tapbot plan validate``; codes, measures and aliases are the parts to review.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from plan_data.loader import Measure, PlanError, from_roman, parse_plan


class DocumentError(PlanError):
    """A document that holds no plan this importer can read; the message says what was missing."""


# Section headings: "VI. Outcomes, outputs and indicators" opens the plan, the next "VII." closes it.
PLAN_SECTION = re.compile(r"^[IVX]+\.\s+.*\boutcomes?\b.*\bindicators?\b", re.I)
SECTION = re.compile(r"^[IVX]+\.\s+\S")
CONVENTION = re.compile(r"^([A-H])\.\s+(.+?)\s*$")
OUTCOME = re.compile(r"^(\d+)\.\s+Outcome\s*[:.–-]\s*(.+?)\s*$", re.I)
LIST_HEADING = re.compile(r"^\(?[a-z]\)?\.?\s*(outputs?|indicators?)\s*:?\s*$", re.I)
ITEM = re.compile(r"^[-•–*]?\s*\(\s*([ivxl]+|\d+)\s*\)\s*(.+?)\s*$", re.I)
OBJECTIVE = re.compile(r"^\([a-h]\)\s+(.*\bobjective\b.*?)\s*$", re.I)
PERIOD = re.compile(r"\bfor the period\s+((?:19|20)\d\d)\s*[–—-]\s*((?:19|20)\d\d)", re.I)
TITLE = re.compile(r"^\**\s*(Technical assistance plan\b.*?(?:19|20)\d\d\s*[–—-]\s*(?:19|20)\d\d)\s*\**\s*$", re.I)
# What ends a list item in the document, not part of its text.
TRAILING = re.compile(r"\s*(?:;\s*and|;|\.|,\s*and)\s*$")


@dataclass
class _Outcome:
    number: int
    statement: str
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (numeral, text)
    indicators: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Convention:
    letter: str
    name: str
    outcomes: list[_Outcome] = field(default_factory=list)


def read_document(path: Path | str) -> list[str]:
    """The document's paragraphs as lines of text: a .docx through python-docx, anything else as UTF-8."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".docx":
            import docx

            return [p.text for p in docx.Document(str(path)).paragraphs]
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DocumentError(f"{path}: cannot read ({error.strerror})") from None
    except Exception as error:  # python-docx raises several kinds for a file that is not a document
        raise DocumentError(f"{path}: not a readable .docx document ({type(error).__name__})") from None


def import_plan(lines: list[str], plan_id: str | None = None) -> dict:
    """The plan file's data (as TOML would hold it) from a document's lines; checked by the loader."""
    lines = [line.replace("\u00a0", " ").strip() for line in lines]
    title, start, end = _title_and_period(lines)
    conventions = _conventions(lines)
    objectives = _objectives(lines)
    data: dict = {
        "plan": {"id": plan_id or f"tap-{start}-{end}", "title": title, "start_year": start, "end_year": end},
        "conventions": [], "outcomes": [], "outputs": [], "indicators": [],
    }
    used: set[str] = set()
    for position, conv in enumerate(conventions):
        code = _convention_code(conv.name, used)
        used.add(code)
        data["conventions"].append({
            "code": code, "name": conv.name,
            "objective": _objective_for(conv, position, len(conventions), objectives),
            "aliases": _aliases(conv.name),
        })
        for outcome in conv.outcomes:
            oc = f"{code}{outcome.number}"
            data["outcomes"].append({"code": oc, "convention": code, "statement": outcome.statement})
            outputs = {}
            for numeral, text in outcome.outputs:
                outputs[_number(numeral)] = f"{oc}.O{_number(numeral)}"
                data["outputs"].append({"code": outputs[_number(numeral)], "outcome": oc,
                                        "numeral": numeral, "text": text})
            for numeral, text in outcome.indicators:
                n = _number(numeral)
                proposal = propose_counting(text)
                data["indicators"].append({
                    "code": f"{oc}.I{n}", "outcome": oc, "numeral": numeral,
                    # An indicator answers the output of its number; without one, the outcome's last output.
                    "output": (outputs.get(n) or list(outputs.values())[-1]) if outputs else "",
                    "pairing": "direct" if n in outputs else "loose",
                    "text": text, "measure": str(proposal.measure), "unit": proposal.unit,
                    **({"product": proposal.product} if proposal.product else {}),
                    **({"kinds": list(proposal.kinds)} if proposal.kinds else {}),
                    "measure_to_review": True,
                })
    try:
        parse_plan(data)
    except PlanError as error:
        raise DocumentError(f"the document's plan is incomplete: {error}") from None
    return data


def import_file(document: Path | str, out: Path | str, plan_id: str | None = None) -> dict:
    """Read a plan document and write its plan file; returns the data written."""
    data = import_plan(read_document(document), plan_id)
    Path(out).write_text(_HEADER.format(source=Path(document).name) + tomli_w.dumps(data), encoding="utf-8")
    return data


_HEADER = ("# Plan file imported by `tapbot plan import` from {source}.\n"
           "# Texts are verbatim from the document. To review: the codes, each indicator's measure and unit\n"
           "# (measure_to_review = true until checked), the pairing of indicators with outputs, and the aliases.\n\n")


def _title_and_period(lines: list[str]) -> tuple[str, int, int]:
    for line in lines:
        m = TITLE.match(line)
        if m:
            title = m.group(1)
            years = PERIOD.search(title)
            if years:
                return title, int(years.group(1)), int(years.group(2))
    text = " ".join(lines)
    years = PERIOD.search(text)
    if not years:
        raise DocumentError("no plan period found (a phrase such as “for the period 2026–2029”)")
    start, end = int(years.group(1)), int(years.group(2))
    return f"Technical assistance plan for the period {start}–{end}", start, end


def _plan_lines(lines: list[str]) -> list[str]:
    starts = [i for i, line in enumerate(lines) if PLAN_SECTION.match(line)]
    if not starts:
        return lines
    body = lines[starts[-1] + 1:]
    end = next((i for i, line in enumerate(body) if SECTION.match(line)), len(body))
    return body[:end]


def _conventions(lines: list[str]) -> list[_Convention]:
    conventions: list[_Convention] = []
    items: list[tuple[str, str]] | None = None
    for line in _plan_lines(lines):
        if not line:
            continue
        if m := OUTCOME.match(line):
            if not conventions:
                raise DocumentError(f"an outcome before any convention heading: “{line[:60]}”")
            conventions[-1].outcomes.append(_Outcome(int(m.group(1)), _clean(m.group(2))))
            items = None
        elif m := CONVENTION.match(line):
            conventions.append(_Convention(m.group(1), _clean(m.group(2))))
            items = None
        elif m := LIST_HEADING.match(line):
            if not conventions or not conventions[-1].outcomes:
                raise DocumentError(f"a list of {m.group(1).lower()} before any outcome")
            outcome = conventions[-1].outcomes[-1]
            items = outcome.outputs if m.group(1).lower().startswith("output") else outcome.indicators
        elif (m := ITEM.match(line)) and items is not None:
            items.append((m.group(1).lower(), _clean(m.group(2))))
        elif items:  # a paragraph that wraps onto the next line
            numeral, text = items[-1]
            items[-1] = (numeral, _clean(f"{text} {line}"))
    if not conventions:
        raise DocumentError("no convention heading found (a line such as “A. Basel Convention”)")
    return conventions


def _objectives(lines: list[str]) -> list[str]:
    start = next((i for i, line in enumerate(lines) if PLAN_SECTION.match(line)), len(lines))
    return [_clean(m.group(1)) for line in lines[:start] if (m := OBJECTIVE.match(line))]


def _objective_for(conv: _Convention, position: int, count: int, objectives: list[str]) -> str:
    first_word = conv.name.split()[0].lower()
    named = [o for o in objectives if first_word in o.lower()]
    if len(named) == 1:
        return named[0]
    if len(objectives) == count:
        return objectives[position]
    return f"{conv.name} (objective not found in the document: to fill in)"


def _clean(text: str) -> str:
    return TRAILING.sub("", re.sub(r"\s+", " ", text.strip().strip("*")).strip())


def _number(numeral: str) -> int:
    return int(numeral) if numeral.isdigit() else from_roman(numeral) or 0


def _convention_code(name: str, used: set[str]) -> str:
    """Initials of the name's capitalised words and their hyphenated parts: Basel Convention → BC,
    Cross-cutting areas → CC; two letters at least, made unique."""
    initials = "".join(part[0] for word in name.split() if word[:1].isupper()
                       for part in word.split("-") if part[:1].isalpha()).upper()
    letters = re.sub(r"[^A-Z]", "", name.upper())
    code = (initials if len(initials) >= 2 else letters[:2])[:5]
    candidate, extra = code, iter(letters[2:])
    while candidate in used:
        candidate = (code + next(extra, "X"))[:5]
        code = candidate
    return candidate


def _aliases(name: str) -> list[str]:
    lower = name.lower()
    first = lower.split()[0]
    aliases = {lower, first, first.replace("-", " ")}
    if lower.endswith(" convention"):
        aliases.add(f"the {lower}")
    return sorted(aliases)


# ---- measures -------------------------------------------------------------------------

_HEAD = re.compile(r"^(?:the\s+)?number of\s+(.+?)(?=\s+(?:that|who|which|on|in|to|for|per|of|from|by|"
                   r"involved|implemented|developed|trained|submitted|receiving|participating|providing|using|"
                   r"have|has|are|is|were|was|held|made|available)\b|\s+\w+ed\b|[,;]|$)", re.I)
# What an indicator counts when it names a product rather than Parties or people: the product
# kinds of handlers/counted.py, named as plan documents word them.
_PRODUCT_RULES: list[tuple[re.Pattern, Measure, str]] = [
    (re.compile(r"\bweb\s*portals?\b.*\bupdated\b", re.I), Measure.REGIONAL_CENTRES, "portal_update"),
    (re.compile(r"\bcase stud(y|ies)\b", re.I), Measure.PRODUCTS, "case_study"),
    (re.compile(r"\bguidance|guidelines\b", re.I), Measure.PRODUCTS, "guidance"),
    (re.compile(r"\binventor(y|ies)\b", re.I), Measure.PRODUCTS, "inventory"),
    (re.compile(r"\binformation submitted\b|\bsubmissions\b", re.I), Measure.PRODUCTS, "submission"),
    (re.compile(r"\bjoint programmes?\b", re.I), Measure.PRODUCTS, "joint_programme"),
]
_HEAD_RULES: list[tuple[re.Pattern, Measure]] = [
    (re.compile(r"\b(parties|countries|states)\b", re.I), Measure.PARTIES),
    (re.compile(r"\bpilot projects?\b", re.I), Measure.PILOT_PROJECTS),
    (re.compile(r"\bregional centres?\b", re.I), Measure.REGIONAL_CENTRES),
    (re.compile(r"\blanguages?\b", re.I), Measure.LANGUAGES),
    (re.compile(r"\b(training workshops?|trainings?|webinars?|courses?)\b", re.I), Measure.TRAININGS),
    (re.compile(r"\b(participants?|experts?|officials?|officers?|people|persons|trainees?|women)\b", re.I),
     Measure.PARTICIPANTS),
]
# Without "Number of …": what the statement is about.
_TEXT_RULES: list[tuple[re.Pattern, Measure]] = [
    (re.compile(r"\bpilot projects?\b", re.I), Measure.PILOT_PROJECTS),
    (re.compile(r"\b(in|into) (three|two|four|five|six|several|\d+) languages\b|\blanguages\b", re.I),
     Measure.LANGUAGES),
    (re.compile(r"(?<!of the )\bregional centres\b", re.I), Measure.REGIONAL_CENTRES),
    (re.compile(r"\b(a number of|by|in|several|more) (pilot )?(parties|countries)\b", re.I), Measure.PARTIES),
]
# Which kinds of activity meet a measure, from the wording: people "trained" come from trainings.
TRAINING_KINDS = ["workshop", "training", "webinar", "online_course"]
_TRAINED = re.compile(r"\btrain(ed|ing)\b", re.I)
UNITS = {
    Measure.PARTIES: "Parties", Measure.PILOT_PROJECTS: "pilot projects", Measure.PRODUCTS: "products",
    Measure.REGIONAL_CENTRES: "regional centres", Measure.LANGUAGES: "languages", Measure.TRAININGS: "trainings",
    Measure.PARTICIPANTS: "participants", Measure.ACTIVITIES: "activities",
}
PRODUCT_UNITS = {"case_study": "case studies", "guidance": "guidance documents", "inventory": "inventories",
                 "submission": "submissions", "joint_programme": "joint programmes",
                 "portal_update": "regional centres"}


@dataclass(frozen=True)
class Proposal:
    """A measure proposed from an indicator's wording, for a person to check."""

    measure: Measure
    unit: str
    product: str | None = None
    kinds: tuple[str, ...] = ()


def propose_counting(text: str) -> Proposal:
    """The measure, unit, product and counted kinds an indicator's wording asks for.

    A product counts when it is what the indicator numbers ("Number of regional inventories …",
    "Case studies … available"), not when Parties are said to use it ("Guidance … used by a
    number of Parties" counts Parties)."""
    product = _product_named(text)
    if product:
        return Proposal(product[0], PRODUCT_UNITS[product[1]], product[1])
    measure, unit = propose_measure(text)
    kinds: tuple[str, ...] = ()
    if measure is Measure.PILOT_PROJECTS:
        kinds = ("pilot_project",)
    elif measure is Measure.TRAININGS and re.search(r"\btraining workshops?\b", text, re.I):
        kinds = ("workshop", "training", "online_course")
    elif measure in (Measure.PARTIES, Measure.PARTICIPANTS, Measure.TRAININGS) and _TRAINED.search(text):
        kinds = tuple(TRAINING_KINDS)
    return Proposal(measure, unit, None, kinds)


_USED_BY_PARTIES = re.compile(r"\b(used|applied|pilot[- ]tested|shared)\b.*\b(by|in) a number of (pilot )?"
                              r"(parties|countries)\b|\blanguages\b", re.I)


def _product_named(text: str) -> tuple[Measure, str] | None:
    """(measure, product kind) when the indicator numbers a product, else None."""
    head = _HEAD.match(text.strip())
    if head:  # the counted noun and the word after it ("information submitted")
        subject = text.strip()[:head.end() + 12]
        subject = subject[head.start(1):]
    elif _USED_BY_PARTIES.search(text):
        return None
    else:
        subject = text
    for pattern, measure, product in _PRODUCT_RULES:
        if pattern.search(subject):
            return measure, product
    return None


def propose_measure(text: str) -> tuple[Measure, str]:
    """The measure an indicator's wording asks for, and its unit: a proposal for a person to check.

    "Number of Parties that …" counts Parties, "Number of pilot projects …" pilot projects,
    "Number of experts … trained" participants; any other "Number of <things>" counts
    activities in <things>; a statement "… in a number of Parties" counts Parties.
    """
    head = _HEAD.match(text.strip())
    if head:
        noun = head.group(1).strip()
        for pattern, measure in _HEAD_RULES:
            if pattern.search(noun):
                return measure, UNITS[measure] if measure is not Measure.PARTICIPANTS else noun
        return Measure.ACTIVITIES, noun
    for pattern, measure in _TEXT_RULES:
        if pattern.search(text):
            return measure, UNITS[measure]
    return Measure.ACTIVITIES, UNITS[Measure.ACTIVITIES]
