"""`log <free text>`: read an activity from one message, store it at once, link it to the plan.

Nothing a user typed is lost: an incomplete log is stored and the reply says
what is missing. Only a log that contradicts itself (end before start, more
women than participants, an unknown code…) is refused, quoted back for resending.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from handlers.counted import counted_fields, counted_reply_fields
from handlers.extract import extract_log_fields
from handlers.matcher import AUTO_LINK_CONFIDENCE, Match, confidence, match_indicators
from handlers.messages import Action, Field, Incoming, Reply, ReplyKind
from handlers.render import day, shorten
from plan_data.countries import find_countries, get_country, resolve_country
from plan_data.loader import Plan
from storage.activities import Actor, create_activity

LOG_EXAMPLE = "log Regional workshop on e-waste ESM, Accra, Ghana, 12-14 March 2024, 35 participants (14 women) BC2.I1"
INDICATOR_CODE = re.compile(r"\b([A-Za-z]{2}\d{1,2}\.[Ii]\d{1,2})\b")
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
    problems: list[str] = field(default_factory=list)

    @property
    def auto_link(self) -> Match | None:
        """The best match, when it is clear enough to link without asking."""
        if not self.codes and self.matches and self.confidence > AUTO_LINK_CONFIDENCE:
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
            "confidence": round(self.confidence, 3), "problems": self.problems,
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def status_for(start: date | None, today: date) -> str:
    """An activity that has not started yet is planned; anything else was held."""
    return "planned" if start and start > today else "done"


def draft_from_text(text: str, plan: Plan, today: date) -> LogDraft:
    fields = extract_log_fields(text, today)
    problems = list(fields.problems)

    countries = [c.code for c in find_countries(text)]
    for typed in COUNTRY_FIELD.findall(text):
        country = resolve_country(typed.strip())
        if country is None:
            problems.append(f"I don't know the country “{typed.strip()}”. Use its name, e.g. “Côte d'Ivoire” or “Viet Nam”.")
        elif country.code not in countries:
            countries.append(country.code)

    codes = []
    for typed in INDICATOR_CODE.findall(text):
        code = typed.upper()
        if code not in plan.indicators:
            problems.append(f"{code} is not an indicator of the plan (see `plan` for the codes).")
        elif code not in codes:
            codes.append(code)

    matches: list[Match] = []
    sure = 0.0
    if not codes:
        matches = match_indicators(INDICATOR_CODE.sub(" ", text), plan)
        sure = confidence(matches)
    organiser = ORGANISER.search(text)
    status = status_for(fields.start_date, today)
    return LogDraft(
        text=text, title=fields.title or text[:120], kind=fields.kind, modality=fields.modality,
        start_date=fields.start_date, end_date=fields.end_date, countries=countries,
        organiser=organiser.group(1) if organiser else None, participants=fields.participants,
        women=fields.women, men=fields.men, languages=list(fields.languages), status=status,
        codes=codes, matches=matches, confidence=sure, problems=problems,
    )


def missing_parts(draft: LogDraft, activity_id: int, linked: bool) -> list[str]:
    hints = []
    if draft.start_date is None:
        hints.append(f"the date: `edit {activity_id} start_date=2024-03-12 end_date=2024-03-14`")
    if not draft.countries:
        hints.append(f"the country: `edit {activity_id} countries=Ghana, Togo`")
    if draft.participants is None:
        hints.append(f"participants: `edit {activity_id} participants=35 women=14`")
    elif draft.women is None:
        hints.append(f"women among the participants: `edit {activity_id} women=14`")
    if not linked:
        hints.append(f"an indicator: pick one below or `link {activity_id} BC1.I4`")
    return hints


def run_log(session: Session, plan: Plan, incoming: Incoming, text: str, today: date) -> Reply:
    if not text.strip():
        return Reply(
            title="Log an activity",
            lines=["Describe it in one message: what, where, when, how many (and how many women), which indicator if you know it.",
                   f"`{LOG_EXAMPLE}`"],
            kind=ReplyKind.HELP, form="log_activity",
        )
    draft = draft_from_text(text, plan, today)
    if draft.problems:
        return refuse(draft.problems, text)
    return store(session, plan, incoming, draft)


def refuse(problems: list[str], text: str) -> Reply:
    return Reply(
        title="Not logged: please fix and send again",
        lines=[f"• {p}" for p in problems] + ["", "Your message, to correct and resend:", f"> {text}"],
        kind=ReplyKind.ERROR,
    )


def store(session: Session, plan: Plan, incoming: Incoming, draft: LogDraft) -> Reply:
    actor = Actor(incoming.user_id, incoming.user_name, incoming.channel)
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
        organiser=draft.organiser, participants=draft.participants, women=draft.women, men=draft.men,
        status=draft.status, **counted_fields(draft.text),
    )
    reply = activity_reply(plan, activity, title=f"Logged #{activity.id} · {activity.title}")
    reply.kind = ReplyKind.DONE
    hints = missing_parts(draft, activity.id, linked=bool(links))
    if hints:
        reply.lines += ["Stored. Still missing:"] + [f"• {h}" for h in hints]
    if not links and draft.matches:
        reply.lines.append("Which indicator does it count toward?")
        reply.actions = [Action(f"{m.code} · {shorten(m.text, 40)}", f"link {activity.id} {m.code}")
                         for m in draft.matches[:3]]
    elif links and links[0][3] == "fuzzy":
        reply.context.append(f"Linked to {links[0][2]} by its closest match; change with "
                             f"`unlink {activity.id} {links[0][2]}` and `link {activity.id} <code>`.")
    reply.actions += [Action("Edit", f"edit {activity.id}"), Action("Undo", f"undo {activity.id}", "danger")]
    return reply


def activity_reply(plan: Plan, activity, title: str) -> Reply:
    """The fields of one activity, as `show` and `log` print them."""
    fields = [Field("Kind", KIND_LABELS.get(activity.kind, activity.kind))]
    fields.append(Field("When", _dates(activity.start_date, activity.end_date)))
    names = [get_country(c.country).name for c in activity.countries if get_country(c.country)]
    fields.append(Field("Countries", ", ".join(names) if names else "not stated"))
    fields.append(Field("Participants", _people(activity.participants, activity.women)))
    if activity.modality:
        fields.append(Field("Modality", MODALITY_LABELS[activity.modality]))
    if activity.organiser:
        fields.append(Field("Organiser", activity.organiser))
    fields += counted_reply_fields(activity)
    if activity.status != "done":
        fields.append(Field("Status", activity.status))
    links = [f"{l.indicator_code}" + (" (suggested)" if l.method == "fuzzy" else "")
             for l in activity.links if l.plan_id == plan.id]
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
