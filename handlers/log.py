"""`log <free text>`: read an activity from one message, store it at once, link it to the plan.

Nothing a user typed is lost: an incomplete log is stored and the reply says
what is missing. Only a log that contradicts itself (end before start, more
women than participants, an unknown code…) is refused, quoted back for resending.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from handlers.counted import counted_fields, counted_reply_fields
from handlers.dates import DateSpan, describe_span
from handlers.examples import with_examples
from handlers.extract import extract_log_fields, read_places
from handlers.matcher import (
    AUTO_LINK_CONFIDENCE,
    AUTO_LINK_LIKENESS,
    Match,
    TeamExamples,
    confidence,
    match_indicators,
    matching_words,
    team_examples,
)
from handlers.messages import Action, Field, Incoming, Reply, ReplyKind
from handlers.render import day, shorten
from plan_data.countries import get_country, resolve_country
from plan_data.loader import Plan, Plans
from storage.activities import Actor, create_activity

# Tokens such as {indicator} are filled from the plan in use (handlers.examples).
LOG_EXAMPLE = ("log Regional workshop on e-waste ESM, Accra, Ghana, 12-14 March 2024, 35 participants (14 women) "
               "{indicator}")
INDICATOR_CODE = re.compile(r"\b([A-Za-z]{2,5}\d{1,2}\.[Ii]\d{1,2})\b")
# "country: Ghana" or "country=Ghana": an explicit field, so an unknown name is an error.
COUNTRY_FIELD = re.compile(r"\bcountry\s*[:=]\s*([^,;\n]+)", re.I)
# Regional centres and partner organisations, so "regional centres" indicators can count organisers.
ORGANISER = re.compile(
    r"\b((?:BCRC|SCRC|BCCC|BCRC-SCRC)[- ][A-Z][\w-]*(?: [A-Z][a-z]+)?|FAO|UNEP|UNITAR|UNODC|UNIDO|UNDP|WCO|"
    r"INTERPOL|Interpol|WHO|ILO|OCHA|GEF|SAICM)\b"
)

KIND_LABELS = {
    "workshop": "Workshop", "training": "Training", "webinar": "Webinar", "online_course": "Online course",
    "meeting": "Meeting", "pilot_project": "Pilot project", "guidance_launch": "Guidance or tool launch",
    "other": "Other",
}
MODALITY_LABELS = {"in_person": "In person", "online": "Online", "hybrid": "Hybrid"}
BUTTON_COMMAND_MAX = 2000


@dataclass
class LogDraft:
    """What a log message says, before anything is stored."""

    text: str
    title: str
    kind: str
    modality: str | None
    start_date: date | None
    end_date: date | None
    countries: list[str]
    organiser: str | None
    participants: int | None
    women: int | None
    men: int | None
    languages: list[str]
    status: str
    codes: list[str]  # indicator codes typed in the message
    matches: list[Match] = field(default_factory=list)
    confidence: float = 0.0
    problems: list[str] = field(default_factory=list)  # contradictions: the log is refused
    countries_stated: int | None = None
    unresolved_places: list[str] = field(default_factory=list)
    language: str = "en"
    city: str | None = None
    year_taken: bool = False
    date_phrase: str = ""
    date_readings: tuple[DateSpan, ...] = ()
    # The earlier log a person linked to the best match that this one is most like, and how much.
    like: tuple[int, float] | None = None
    # The plan the activity counts in: the one whose period holds its dates, else the nearest
    # (whose figures then show the activity as out of period).
    plan: Plan | None = None
    notes: list[str] = field(default_factory=list)  # what the reply must say about codes carried or left

    @property
    def linked_like(self) -> int | None:
        """The earlier log that makes the best match sure enough by itself, if any."""
        return self.like[0] if self.like and self.like[1] >= AUTO_LINK_LIKENESS else None

    @property
    def unread(self) -> list[str]:
        """What the message said that could not be read; stored anyway, and the reply says so."""
        notes = []
        if self.unresolved_places:
            words = ", ".join(f"“{w}”" for w in self.unresolved_places)
            notes.append(f"I could not place {words}: no country or city I know by that name.")
        if self.countries_stated and self.countries_stated > len(self.countries):
            notes.append(f"The message says {self.countries_stated} countries but names {len(self.countries)}.")
        return notes

    @property
    def auto_link(self) -> Match | None:
        """The best match, when it is clear enough to link without asking."""
        if not self.codes and self.matches and (self.confidence > AUTO_LINK_CONFIDENCE or self.linked_like):
            return self.matches[0]
        return None

    def as_json(self) -> dict:
        link = self.auto_link
        return {
            "command": "log", "title": self.title, "kind": self.kind, "countries": self.countries,
            "start_date": _iso(self.start_date), "end_date": _iso(self.end_date),
            "participants": self.participants, "women": self.women, "men": self.men,
            "modality": self.modality, "organiser": self.organiser, "languages": self.languages,
            "status": self.status,
            "indicators": self.codes or ([link.code] if link else []),
            "suggestions": [{"code": m.code, "score": round(m.score, 1)} for m in self.matches[:3]],
            "confidence": round(self.confidence, 3), "problems": self.problems + self.unread,
            "countries_stated": self.countries_stated, "unresolved_places": self.unresolved_places,
            "language": self.language, **counted_fields(self.text),
            "plan": self.plan.id if self.plan else None, "notes": self.notes,
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def status_for(start: date | None, today: date) -> str:
    """An activity that has not started yet is planned; anything else was held."""
    return "planned" if start and start > today else "done"


def draft_from_text(text: str, plan: Plan, today: date, plans: Plans | None = None,
                    examples_for: Callable[[Plan], TeamExamples] | None = None) -> LogDraft:
    """What a log message says. With ``plans``, the activity goes to the plan whose period holds
    its dates (``plan`` when undated); without, to ``plan``. ``examples_for`` gives the team's
    confirmed links of a plan, which the matcher learns from."""
    fields = extract_log_fields(text, today)
    problems = list(fields.problems)
    notes: list[str] = []
    own = plans.for_activity(fields.start_date, fields.end_date, undated=plan) if plans else plan

    places = read_places(text)
    countries = list(places.countries)
    for typed in COUNTRY_FIELD.findall(text):
        country = resolve_country(typed.strip())
        if country is None:
            problems.append(f"I don't know the country “{typed.strip()}”. "
                            "Use its name, e.g. “Côte d'Ivoire” or “Viet Nam”.")
        elif country.code not in countries:
            countries.append(country.code)

    held = fields.start_date or fields.end_date
    outside = plans is not None and held is not None and plans.holding(held) is None
    codes, problems_of_codes, notes = codes_in_plan(
        list(dict.fromkeys(t.upper() for t in INDICATOR_CODE.findall(text))), own, plans)
    problems += problems_of_codes
    if outside:
        assert plans is not None and held is not None  # what `outside` checked
        notes.append(f"No loaded plan covers {day(held)} (plans: {', '.join(p.period for p in plans)}): kept in "
                     f"the plan {own.period}, whose figures show it as out of period (`list outside plans`).")

    matches: list[Match] = []
    sure = 0.0
    like = None
    if not codes:
        examples = examples_for(own) if examples_for else None
        matches = match_indicators(INDICATOR_CODE.sub(" ", text), own, examples=examples)
        sure = confidence(matches)
        if examples and matches:
            like = examples.nearest(text, matches[0].code)
    organiser = ORGANISER.search(text)
    status = fields.status or status_for(fields.start_date, today)
    return LogDraft(
        text=text, title=fields.title or text[:120], kind=fields.kind, modality=fields.modality,
        start_date=fields.start_date, end_date=fields.end_date, countries=countries,
        organiser=organiser.group(1) if organiser else None, participants=fields.participants,
        women=fields.women, men=fields.men, languages=list(fields.languages), status=status,
        codes=codes, matches=matches, confidence=sure, problems=problems, like=like,
        plan=own, notes=notes,
        countries_stated=places.stated, unresolved_places=places.unresolved, language=fields.language,
        city=places.city, year_taken=fields.year_taken, date_phrase=fields.date_phrase,
        date_readings=fields.date_readings,
    )


def codes_in_plan(typed: list[str], plan: Plan, plans: Plans | None) -> tuple[list[str], list[str], list[str]]:
    """Typed indicator codes as codes of the activity's plan: an older plan's code follows the crosswalk."""
    codes: list[str] = []
    problems: list[str] = []
    notes: list[str] = []
    for code in typed:
        carried = () if code in plan.indicators or plans is None else plans.successors(code, plan)
        if code in plan.indicators:
            codes.append(code)
        elif carried:
            codes += [c for c in carried if c not in codes]
            notes.append(f"{code} is a code of an earlier plan: counted as {', '.join(carried)} of {plan.period}.")
        elif plans is not None and len(plans) > 1:
            problems.append(f"{code} is not an indicator of the plan {plan.period}, which holds the activity's "
                            f"dates (see `plan` for its codes).")
        else:
            problems.append(f"{code} is not an indicator of the plan (see `plan` for the codes).")
    return list(dict.fromkeys(codes)), problems, notes


def missing_parts(draft: LogDraft, activity_id: int, linked: bool, today: date) -> list[str]:
    """What the activity still lacks, each with the command that adds it, written from the
    activity itself: its own words, places, dates and best indicator match."""
    hints = []
    if draft.start_date is None:
        hints.append(f"the date: `edit {activity_id} dates={day(today)}` (or a range, e.g. "
                     f"`dates={day(today - timedelta(days=2))} – {day(today)}`)")
    named = [country.name for c in draft.countries if (country := get_country(c))]
    if draft.unresolved_places:
        hints.append(f"the country of {', '.join(f'“{w}”' for w in draft.unresolved_places)}: "
                     f"`edit {activity_id} countries=<its country>`")
    elif not draft.countries:
        hints.append(f"the country: `edit {activity_id} countries=<where it took place>`")
    if draft.countries_stated and draft.countries_stated > len(draft.countries):
        listed = ", ".join(named + ["…"])
        hints.append(f"the names of all {draft.countries_stated} countries (you named {len(draft.countries)}): "
                     f"`edit {activity_id} countries={listed}`, or press Edit")
    if draft.participants is None:
        women = f" women={draft.women}" if draft.women is not None else ""
        hints.append(f"participants: `edit {activity_id} participants=<how many>{women}`")
    elif draft.women is None:
        hints.append(f"women among the {draft.participants} participants: `edit {activity_id} women=<how many>`")
    if not linked:
        if draft.matches:
            hints.append(f"an indicator: pick one below or `link {activity_id} {draft.matches[0].code}`")
        else:
            hints.append(f"an indicator: `link {activity_id} <code>` (see `plan` for the codes)")
    return hints


def _year_note(draft: LogDraft) -> str:
    which = "next" if draft.status == "planned" else "most recent"
    assert draft.start_date is not None  # a year is only taken for a date that was read
    return (f"“{draft.date_phrase.strip()}” has no year: I took {draft.start_date.year}, the {which} one. "
            f"If it was another year, write it with `edit <#> dates=…`.")


def ask_date_reading(draft: LogDraft, text: str) -> Reply:
    """A numeric date that reads two ways: both readings as buttons that log the message again."""
    actions = []
    for reading in draft.date_readings:
        iso = reading.start.isoformat() + ("" if reading.end == reading.start else f" to {reading.end.isoformat()}")
        actions.append(Action(describe_span(reading), "log " + text.replace(draft.date_phrase.strip(), iso, 1)))
    reply = refuse(draft.problems, text)
    reply.title = "Which date did you mean?"
    # A button carries its whole command, and channels cap what a button holds (Slack: 2,000
    # characters); a longer message is resent by hand rather than logged cut short.
    if all(len(a.command) <= BUTTON_COMMAND_MAX for a in actions):
        reply.actions = actions
    return reply


def run_log(session: Session, plan: Plan, incoming: Incoming, text: str, today: date,
            plans: Plans | None = None) -> Reply:
    if not text.strip():
        return Reply(
            title="Log an activity",
            lines=["Describe it in one message: what, where, when, how many (and how many women), "
                   "which indicator if you know it.",
                   f"`{with_examples(LOG_EXAMPLE, plan)}`"],
            kind=ReplyKind.HELP, form="log_activity",
        )
    draft = draft_from_text(text, plan, today, plans, lambda own: team_examples(session, own))
    if draft.date_readings and len(draft.problems) == 1:
        return ask_date_reading(draft, text)
    if draft.problems:
        return refuse(draft.problems, text)
    return store(session, plan, incoming, draft, today)


def refuse(problems: list[str], text: str) -> Reply:
    return Reply(
        title="Not logged: please fix and send again",
        lines=[f"• {p}" for p in problems] + ["", "Your message, to correct and resend:", f"> {text}"],
        kind=ReplyKind.ERROR,
    )


def store(session: Session, plan: Plan, incoming: Incoming, draft: LogDraft, today: date) -> Reply:
    actor = Actor(incoming.user_id, incoming.user_name, incoming.channel)
    plan = draft.plan or plan
    links: list[tuple[str, str, str, str, float | None]]
    if draft.codes:
        links = [(plan.id, plan.indicators[c].outcome, c, "explicit", None) for c in draft.codes]
    elif draft.auto_link:
        best = draft.auto_link
        links = [(plan.id, plan.indicators[best.code].outcome, best.code, "fuzzy", best.score)]
    else:
        links = []
    activity = create_activity(
        session, actor, conversation_id=incoming.conversation_id, raw_text=draft.text,
        countries=draft.countries, languages=draft.languages, links=links,
        title=draft.title[:300], kind=draft.kind, modality=draft.modality, start_date=draft.start_date,
        end_date=draft.end_date, country=draft.countries[0] if draft.countries else None,
        city=draft.city, organiser=draft.organiser, participants=draft.participants, women=draft.women,
        men=draft.men, status=draft.status, countries_stated=draft.countries_stated, **counted_fields(draft.text),
    )
    reply = activity_reply(plan, activity, title=f"Logged #{activity.id} · {activity.title}")
    reply.kind = ReplyKind.DONE
    reply.lines += draft.notes + draft.unread
    if draft.year_taken:
        reply.context.append(_year_note(draft).replace("<#>", str(activity.id)))
    hints = missing_parts(draft, activity.id, linked=bool(links), today=today)
    if hints:
        reply.lines += ["Stored. Still missing:"] + [f"• {h}" for h in hints]
    if not links and draft.matches:
        reply.lines.append("Which indicator does it count toward?")
        reply.actions = [Action(f"{m.code} · {shorten(m.text, 40)}", f"link {activity.id} {m.code}")
                         for m in draft.matches[:3]]
    elif links and links[0][3] == "fuzzy":
        code = links[0][2]
        if draft.linked_like:
            why = f"like #{draft.linked_like} that you linked to {code}"
        else:
            words = matching_words(draft.text, plan, code)
            why = f"by the matching words {', '.join(words)}" if words else "by its closest match"
        reply.context.append(f"Linked to {code} {why}; change with "
                             f"`unlink {activity.id} {code}` and `link {activity.id} <code>`.")
    reply.actions += [Action("Edit", f"edit {activity.id}"), Action("Undo", f"undo {activity.id}", "danger")]
    return reply


def activity_reply(plan: Plan, activity, title: str) -> Reply:
    """The fields of one activity, as `show` and `log` print them."""
    fields = [Field("Kind", KIND_LABELS.get(activity.kind, activity.kind))]
    fields.append(Field("When", _dates(activity.start_date, activity.end_date)))
    names = [country.name for c in activity.countries if (country := get_country(c.country))]
    countries = ", ".join(names) if names else "not stated"
    if activity.countries_stated and activity.countries_stated > len(names):
        countries += f" ({len(names)} named of the {activity.countries_stated} stated)"
    fields.append(Field("Countries", countries))
    fields.append(Field("Participants", _people(activity.participants, activity.women)))
    if activity.modality:
        fields.append(Field("Modality", MODALITY_LABELS[activity.modality]))
    if activity.organiser:
        fields.append(Field("Organiser", activity.organiser))
    fields += counted_reply_fields(activity)
    if activity.status != "done":
        fields.append(Field("Status", activity.status))
    # Links in another plan than the one asked about are shown with their plan's id.
    links = [f"{link.indicator_code}" + (" (suggested)" if link.method == "fuzzy" else "")
             + ("" if link.plan_id == plan.id else f" ({link.plan_id})") for link in activity.links]
    fields.append(Field("Indicators", ", ".join(links) if links else "none yet"))
    return Reply(title=title, fields=fields, activity_id=activity.id)


def _dates(start: date | None, end: date | None) -> str:
    if start is None:
        return "no date"
    if end is None or end == start:
        return day(start)
    return f"{day(start)} – {day(end)}"


def _people(total: int | None, women: int | None) -> str:
    if total is None:
        return "not stated" if women is None else f"not stated ({women} women)"
    if women is None:
        return f"{total} (women not stated)"
    return f"{total} ({women} women, {round(100 * women / total) if total else 0}%)"
