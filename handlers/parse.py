"""Text → a typed command, or a usage error that shows the right form.

Parsing needs no database: it only decides what the user asked for. Resolving
names (countries, plan items) and running the command happen afterwards.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, process

from handlers.extract import reports_activity

MAX_MESSAGE_CHARS = 4000


@dataclass(frozen=True)
class Log:
    text: str  # the free text after "log"; empty asks for the form


@dataclass(frozen=True)
class AttendeeInput:
    name: str | None
    organisation: str | None
    country: str | None  # as typed; resolved when run
    sex: str | None
    role: str | None


@dataclass(frozen=True)
class AttendeesAdd:
    activity_id: int
    people: tuple[AttendeeInput, ...]


@dataclass(frozen=True)
class AttendeesCount:
    activity_id: int
    groups: tuple[tuple[int, str], ...]  # (count, country as typed)


@dataclass(frozen=True)
class AttendeesList:
    activity_id: int


@dataclass(frozen=True)
class Status:
    target: str  # the question as typed, period included; handlers.questions reads it ("" is the whole plan)


@dataclass(frozen=True)
class Gaps:
    target: str  # what to find the gaps of, as typed; "" is the whole plan


@dataclass(frozen=True)
class ListActivities:
    filter: str  # "", "mine", a country, a convention, a year or a date range


@dataclass(frozen=True)
class Show:
    activity_id: int


@dataclass(frozen=True)
class Edit:
    activity_id: int
    changes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Delete:
    activity_id: int


@dataclass(frozen=True)
class Undo:
    activity_id: int | None = None  # the user's last change to this activity; else their last change


@dataclass(frozen=True)
class Link:
    activity_id: int
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Unlink:
    activity_id: int
    codes: tuple[str, ...]


@dataclass(frozen=True)
class PlanBrowse:
    code: str


@dataclass(frozen=True)
class PlanUse:
    name: str  # a plan's period or id; empty asks which plan the conversation uses


@dataclass(frozen=True)
class Help:
    topic: str = ""


@dataclass(frozen=True)
class Digest:
    args: str


@dataclass(frozen=True)
class UsageError:
    """The message could not be read as a command; `example` shows the right form."""

    message: str
    example: str = ""
    topic: str = ""  # the command whose help applies


Command = (
    Log | AttendeesAdd | AttendeesCount | AttendeesList | Status | Gaps | ListActivities | Show | Edit
    | Delete | Undo | Link | Unlink | PlanBrowse | PlanUse | Help | Digest
)

VERBS = (
    "log", "attendees", "status", "gaps", "list", "show", "edit", "delete", "undo",
    "link", "unlink", "plan", "help", "digest",
)
SYNONYMS = {
    "record": "log",
    "attendee": "attendees", "participants": "attendees",
    "progress": "status", "stats": "status", "where": "status", "how": "status", "hows": "status",
    "gap": "gaps",
    "ls": "list", "recent": "list",
    "view": "show", "details": "show",
    "change": "edit", "update": "edit", "set": "edit",
    "remove": "delete", "del": "delete", "rm": "delete",
    "browse": "plan", "?": "help", "commands": "help",
    "digests": "digest",
}
FILLER = {
    "please", "pls", "plz", "hey", "hi", "hello", "ok", "okay", "can", "could", "would", "you",
    "me", "i", "we", "want", "to", "the", "a", "an", "show_me", "tapbot", "bot", "kindly", "what's",
    "whats", "what", "is", "are", "of", "on", "for", "give", "tell", "about",
}
STATUS_CUES = re.compile(
    r"\?\s*$|^\s*[¿¡]|\b(status|progress|where do we stand|how many|so far|où en|ou en|combien|"
    r"cómo va|como va|cómo van|como van|cuántos|cuantos|cuántas|cuantas|qué falta|que falta)\b", re.I)
# A message that opens with a question word asks something, even without "?" ("when was the last workshop
# in Ghana"); it never reports an activity.
QUESTION_OPENERS = re.compile(
    r"^\s*(when|which|what|whats|what's|how|hows|how's|where|who|quand|quel|quelle|quels|quelles|comment|"
    r"combien|où|ou en|qu['’]|cuándo|cuando|cuál|cuáles|cual|cuales|qué|que|cómo|como|dónde|donde|cuántos|cuántas|"
    r"(?:état|etat|situation|avancement|bilan|point|estado|situación|situacion|avance|progreso|balance)"
    r"\s+(?:de|du|des|d'|sur|del|au|aux|en|à|a|al)|"
    r"lacunes|carences|brechas|vacíos|vacios|faltantes|"  # "lacunes du résultat 2", "brechas del …"
    r"can you|could you|would you|do you|pouvez-vous|peux-tu|pourrais-tu|puedes|podrías|podrias|me puedes)\b",
    re.I)
# A request with no question word: an imperative to the bot ("give me", "montre-moi", "muéstrame"), or
# the figures asked for by name ("figures for last year", "chiffres de l'Afrique", "resumen de Basilea").
REQUESTS = re.compile(
    r"^\s*(?:(?:please|pls|plz|kindly|and|et|y|ok|okay|so|alors|bueno|entonces)[\s,]+)?(?:"
    r"(?:give|show|tell|send|get|bring|share)\s+(?:me|us)|"
    r"(?:montre|montrez|donne|donnez|dis|dites|affiche|affichez|envoie|envoyez|fais|faites)[-\s](?:moi|nous)|"
    r"(?:muéstra|muestra|ensena|enseña|da|di|manda|pasa)(?:me|nos)|(?:muéstre|muestre|dígame|digame|déme|deme)(?:me|nos)?|"
    r"(?:the\s+|les?\s+|la\s+|las?\s+|los\s+|el\s+|un\s+|une\s+)?"
    r"(?:figures?|numbers?|stats?|statistics|totals?|summary|overview|update|big picture|anything|any news|news|"
    r"chiffres?|résumé|resume|aperçu|apercu|statistiques|nouvelles|"
    r"cifras?|resumen|datos|panorama|números|numeros|estadísticas|estadisticas|novedades|algo)\b)", re.I)
QUESTION_WORDS = {"how", "hows", "where"}
MENTION = re.compile(r"^\s*(<@[\w|.-]+>|@\w+|/tap\b)\s*", re.I)
# Commands that only read: they need no author's name, and a second delivery of one is
# simply answered again (nothing is stored, so nothing can be stored twice).
READS = (Status, Gaps, ListActivities, Show, AttendeesList, PlanBrowse, Help, UsageError)


def changes_data(command: Command | UsageError) -> bool:
    return not isinstance(command, READS)


ID_FILLER = {"me", "activity", "entry", "number", "no", "no.", "please", "pls"}
ID = re.compile(r"#?(\d{1,9})$")
CODE = re.compile(r"^[A-Za-z]{2,5}\d{1,2}(\.[IiOo]\d{1,2})?$")


def parse_command(text: str) -> Command | UsageError:
    text = MENTION.sub("", text or "").strip()
    if not text:
        return UsageError("The message was empty.", "help", "help")
    if len(text) > MAX_MESSAGE_CHARS:
        return UsageError(
            f"That message is {len(text):,} characters long; I read up to {MAX_MESSAGE_CHARS:,}.",
            "log Regional workshop on e-waste ESM, Accra, Ghana, 12-14 March 2024, 35 participants (14 women)",
            "log",
        )
    verb, rest = _split_verb(text)
    if verb == "status" and text.split()[0].lower().strip(",:;!") in QUESTION_WORDS:
        return Status(text)  # "how is Basel outcome 1 doing?": the whole question names the target
    if verb is None:
        return _without_verb(text)
    command = _PARSERS[verb](rest, text)
    if verb == "show" and isinstance(command, UsageError) and REQUESTS.match(text):
        return Status(text)  # "show me last year": a request for figures, not for an activity's number
    return command


def _without_verb(text: str) -> Command | UsageError:
    """A message with no command word: a report of an activity is a log; anything else is a question, and
    the status reply says honestly when it names nothing in the plan."""
    if CODE.match(text.strip()) or STATUS_CUES.search(text) or QUESTION_OPENERS.match(text):
        return Status(text)
    if REQUESTS.match(text):
        return Status(text)  # "give me the big picture", "chiffres de l'Afrique", "muéstrame este año"
    if reports_activity(text, date.today()):
        return Log(text)  # "Taller sobre …, Bogotá, 3 de marzo de 2024, 30 participantes": no verb needed
    return Status(text)


def _split_verb(text: str) -> tuple[str | None, str]:
    # Words up to the verb are filler ("please", "what's the"); the rest keeps its line breaks.
    for match in re.finditer(r"\S+", text):
        if match.start() > 0 and len(text[:match.start()].split()) >= 4:
            break
        key = match.group().lower().strip(",:;!")
        verb = _verb_of(key)
        if verb:
            return verb, text[match.end():].strip()
        if key not in FILLER:
            break
    return None, text


def _verb_of(word: str) -> str | None:
    if word in VERBS:
        return word
    if word in SYNONYMS:
        return SYNONYMS[word]
    if len(word) >= 4:  # small typos ("stauts", "attendes", "dlete"), not other words ("helped", "delegates")
        hit = process.extractOne(word, VERBS, scorer=fuzz.ratio, score_cutoff=80)
        if hit and abs(len(word) - len(hit[0])) <= 1 and not word.startswith(hit[0]):
            return hit[0]
    return None


def _activity_id(word: str) -> int | None:
    match = ID.match(word.strip())
    return int(match.group(1)) if match else None


def _needs_id(verb: str, example: str) -> UsageError:
    return UsageError(f"`{verb}` needs the number of an activity.", example, verb)


def _parse_log(rest: str, _text: str) -> Command | UsageError:
    return Log(rest.strip())


def _parse_status(rest: str, text: str) -> Command | UsageError:
    return Status(re.sub(r"^(of|on|for|about)\s+", "", rest.strip(), flags=re.I).strip(" ?"))


def _parse_gaps(rest: str, _text: str) -> Command | UsageError:
    return Gaps(re.sub(r"^(of|on|in|for|about)\s+", "", rest.strip(), flags=re.I).strip(" ?"))


# "list the indicators with no activity": a question about the plan's indicators, not a list of activities.
INDICATORS = re.compile(r"\b(?:indicators?|indicateurs?|indicadores?|outcomes?|résultats?|resultados?)\b", re.I)


def _parse_list(rest: str, text: str) -> Command | UsageError:
    if INDICATORS.search(rest):
        return Status(text)
    return ListActivities(rest.strip())


def _single_id(verb: str, example: str, make):
    def parse(rest: str, _text: str) -> Command | UsageError:
        words = [w for w in rest.split() if w.lower() not in ID_FILLER]
        activity_id = _activity_id(words[0]) if words else None
        if activity_id is None or len(words) > 1:
            return _needs_id(verb, example)
        return make(activity_id)
    return parse


def _parse_edit(rest: str, _text: str) -> Command | UsageError:
    example = "edit 12 participants=40 women=18   ·   edit 12 title=Regional workshop on PCB"
    words = rest.split(maxsplit=1)
    activity_id = _activity_id(words[0]) if words else None
    if activity_id is None:
        return _needs_id("edit", example)
    body = words[1] if len(words) > 1 else ""
    # field=value pairs; a value runs until the next "field=".
    pairs = re.findall(r"([A-Za-z_ ]+?)\s*[=:]\s*(.*?)(?=\s+[A-Za-z_]+\s*[=:]|$)", body.strip())
    if not pairs:
        return Edit(activity_id, ())  # shows the activity's fields and how to change them
    return Edit(activity_id, tuple((name.strip().lower().replace(" ", "_"), value.strip()) for name, value in pairs))


def _parse_links(verb: str, make):
    example = f"{verb} 12 {{indicator}}"  # the token is filled from the plan (handlers.examples)

    def parse(rest: str, _text: str) -> Command | UsageError:
        words = rest.replace(",", " ").split()
        activity_id = _activity_id(words[0]) if words else None
        if activity_id is None:
            return _needs_id(verb, example)
        codes = tuple(dict.fromkeys(w.upper() for w in words[1:]))
        if not codes or not all(CODE.match(c) for c in codes):
            return UsageError(f"`{verb}` needs indicator codes such as {{indicator}}.", example, verb)
        return make(activity_id, codes)
    return parse


def _parse_undo(rest: str, _text: str) -> Command | UsageError:
    if not rest.strip():
        return Undo(None)
    activity_id = _activity_id(rest)
    if activity_id is None:
        return UsageError("`undo` takes nothing, or the number of an activity.", "undo\nundo 12", "undo")
    return Undo(activity_id)


# "plan completo", "the plan overall", "plan status": the whole plan's figures, not a plan code to browse.
WHOLE_PLAN = re.compile(r"^(?:complet[oae]?|entier|entière|enter[oa]|whole|overall|general|général|global|"
                        r"status|progress|estado|état|etat|bilan|situation|situación|situacion)\b", re.I)


def _parse_plan(rest: str, text: str) -> Command | UsageError:
    if WHOLE_PLAN.match(rest.strip()):
        return Status(text)
    words = rest.split(maxsplit=1)
    if words and words[0].lower() in ("use", "switch", "choose"):
        return PlanUse(words[1].strip() if len(words) > 1 else "")
    return PlanBrowse(rest.strip())


def _parse_help(rest: str, _text: str) -> Command | UsageError:
    topic = rest.strip().lower()
    return Help(_verb_of(topic) or topic if topic else "")


def _parse_digest(rest: str, _text: str) -> Command | UsageError:
    return Digest(rest.strip())


ATTENDEE_EXAMPLE = (
    "attendees 12 add Amina Diallo; Ministry of Environment; Senegal; F; customs officer\n"
    "attendees 12 12 from Ghana, 3 from Togo"
)
COUNT_GROUP = re.compile(r"^\s*(\d+)\s+(?:from|of|in)\s+(.+?)\s*$", re.I)
SEXES = {"f": "female", "female": "female", "w": "female", "woman": "female", "women": "female",
         "m": "male", "male": "male", "man": "male", "men": "male"}


def _parse_attendees(rest: str, _text: str) -> Command | UsageError:
    words = rest.split(maxsplit=1)
    activity_id = _activity_id(words[0]) if words else None
    if activity_id is None:
        return _needs_id("attendees", ATTENDEE_EXAMPLE)
    body = words[1].strip() if len(words) > 1 else ""
    if not body or body.lower() in ("list", "show"):
        return AttendeesList(activity_id)
    if re.match(r"add\b", body, re.I):
        return _parse_people(activity_id, body[3:])
    groups = []
    for part in re.split(r"[,;\n]|\band\b(?=\s*\d)", body):  # "3 from Trinidad and Tobago" stays whole
        if not part.strip():
            continue
        match = COUNT_GROUP.match(part)
        if not match:
            return UsageError(f"I could not read “{part.strip()[:60]}” as a count such as “12 from Ghana”.",
                              ATTENDEE_EXAMPLE, "attendees")
        groups.append((int(match.group(1)), match.group(2)))
    return AttendeesCount(activity_id, tuple(groups))


def _parse_people(activity_id: int, body: str) -> Command | UsageError:
    people = []
    for line in re.split(r"\n| \| ", body):
        if not line.strip():
            continue
        parts = [p.strip() or None for p in line.split(";")]
        if len(parts) > 5:
            return UsageError(f"An attendee has at most five parts; I got {len(parts)} in “{line.strip()[:80]}”.",
                              ATTENDEE_EXAMPLE, "attendees")
        if not any(parts):
            return UsageError("An attendee needs at least a name, an organisation or a country.",
                              ATTENDEE_EXAMPLE, "attendees")
        parts += [None] * (5 - len(parts))
        name, organisation, country, sex, role = parts
        if sex is not None and sex.lower() not in SEXES:
            return UsageError(f"“{sex}” is not a sex I know: write F or M, or leave it empty.",
                              ATTENDEE_EXAMPLE, "attendees")
        people.append(AttendeeInput(name, organisation, country, SEXES[sex.lower()] if sex else None, role))
    if not people:
        return UsageError("Add at least one attendee after `add`.", ATTENDEE_EXAMPLE, "attendees")
    return AttendeesAdd(activity_id, tuple(people))


_PARSERS = {
    "log": _parse_log,
    "attendees": _parse_attendees,
    "status": _parse_status,
    "gaps": _parse_gaps,
    "list": _parse_list,
    "show": _single_id("show", "show 12", Show),
    "edit": _parse_edit,
    "delete": _single_id("delete", "delete 12", Delete),
    "undo": _parse_undo,
    "link": _parse_links("link", Link),
    "unlink": _parse_links("unlink", Unlink),
    "plan": _parse_plan,
    "help": _parse_help,
    "digest": _parse_digest,
}
