"""Commands on stored activities: list, show, edit, delete, undo, link, unlink, attendees."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from handlers import parse
from handlers.counted import read_products
from handlers.dates import DateError, find_dates
from handlers.extract import MAX_COUNT, count_problems
from handlers.log import KIND_LABELS, MODALITY_LABELS, activity_reply, codes_in_plan, status_for
from handlers.messages import Action, Field, Incoming, Reply, ReplyKind, Table
from handlers.plans import carry_activity_links
from handlers.render import day, shorten
from plan_data.centres import find_centre
from plan_data.countries import get_country, resolve_country
from plan_data.loader import Plan, Plans
from storage import activities as store
from storage.activities import Actor
from storage.models import Activity

EDIT_FIELDS = {
    "title": "text", "kind": "kind", "modality": "modality", "start_date": "date", "end_date": "date",
    "date": "daterange", "dates": "daterange", "city": "text", "countries": "countries", "country": "countries",
    "organiser": "text", "organizer": "text", "participants": "count", "women": "count", "men": "count",
    "status": "status", "produced": "products", "countries_stated": "count",
}
STATUSES = ("planned", "done", "cancelled")
MAX_COUNTRIES = 250  # more than every State and territory there is
TEXT_LIMITS = {"title": 300, "city": 120, "organiser": 200}  # the columns' lengths


def error(message: str, example: str = "") -> Reply:
    lines = [message] + ([f"For example: `{example}`"] if example else [])
    return Reply(title="That didn't work", lines=lines, kind=ReplyKind.ERROR)


def _actor(incoming: Incoming) -> Actor:
    return Actor(incoming.user_id, incoming.user_name, incoming.channel)


def _find(session: Session, activity_id: int, for_update: bool = False) -> Activity | Reply:
    activity = store.get_activity(session, activity_id, for_update)
    if activity is None:
        return error(f"There is no activity #{activity_id}.", "list mine")
    return activity


def _changeable(session: Session, ctx, incoming: Incoming, activity_id: int) -> Activity | Reply:
    """The activity, locked for changing, if this user may change it; else the reply saying why not."""
    activity = _find(session, activity_id, for_update=True)
    if isinstance(activity, Reply) or ctx.may_change(incoming.user_id, activity.user_id):
        return activity
    return error(f"Only {activity.user_name or 'its author'} or an admin can change #{activity.id}.")


def plan_of(ctx, activity: Activity) -> Plan:
    """The activity's plan: the one it is linked in, else the one whose period holds its dates."""
    linked_in = {link.plan_id for link in activity.links} & set(ctx.plans.by_id)
    return ctx.plans.by_id[min(linked_in)] if len(linked_in) == 1 else ctx.plan_for(activity.start_date,
                                                                                       activity.end_date)


def run_show(session: Session, plan: Plan, activity_id: int) -> Reply:
    activity = _find(session, activity_id)
    if isinstance(activity, Reply):
        return activity
    reply = activity_reply(plan, activity, title=f"#{activity.id} · {activity.title}")
    reply.context.append(f"Logged by {activity.user_name or activity.user_id} on "
                         f"{day(activity.created_at)} via {activity.channel}.")
    unnamed = (activity.countries_stated or 0) - len(activity.countries)
    if unnamed > 0:
        reply.lines.append(f"{unnamed} of the {activity.countries_stated} countries stated "
                           f"{'is' if unnamed == 1 else 'are'} not named, so no Parties figure counts "
                           f"{'it' if unnamed == 1 else 'them'}: `edit {activity.id} countries=…` names them.")
    if activity.attendees:
        reply.lines.append(f"{activity.attendee_count} attendees listed: `attendees {activity.id}`")
    reply.lines.append(f"> {activity.raw_text}")
    return reply


def run_list(session: Session, plan: Plan, incoming: Incoming, text: str, today: date,
             plans: Plans | None = None) -> Reply:
    query = text.strip()
    kwargs: dict = {"plan_id": plan.id}
    label = "Recent activities"
    plans = plans or Plans([plan])
    if query.lower() in ("mine", "my", "my activities"):
        kwargs["user_id"], label = incoming.user_id, "Your recent activities"
    elif re.fullmatch(r"(outside|out of|beyond)( (the|all|every|any))? (plans?|periods?)", query.lower()):
        kwargs["outside"] = [(date(p.info.start_year, 1, 1), date(p.info.end_year, 12, 31)) for p in plans]
        label = f"Activities no loaded plan covers ({', '.join(p.period for p in plans)})"
    elif query:
        code = plan.resolve(query)
        country = resolve_country(query)
        if code and code in plan.conventions:
            kwargs["outcome_codes"] = [o.code for o in plan.outcomes.values() if o.convention == code]
            label = f"Recent activities · {plan.conventions[code].name}"
        elif code and code in plan.outcomes:
            kwargs["outcome_codes"], label = [code], f"Recent activities · {code}"
        elif code and code in plan.indicators:
            kwargs["indicator_code"], label = code, f"Recent activities · {code}"
        elif country:
            kwargs["country"], label = country.code, f"Recent activities · {country.name}"
        else:
            span = _period(query, today)
            if span is None:
                return error(f"I can't list by “{query}”.",
                             "list   ·   list mine   ·   list Ghana   ·   list Basel   ·   list 2024   ·   "
                             "list March 2024")
            kwargs["since"], kwargs["until"] = span
            label = f"Activities · {day(span[0])} – {day(span[1])}"
    activities = store.recent_activities(session, limit=15, **kwargs)
    if not activities:
        return Reply(title=label, lines=["Nothing logged yet. Log one: `log …` (see `help log`)."])
    rows = [[f"#{a.id}", a.start_date.isoformat() if a.start_date else "–", shorten(a.title, 50),
             ", ".join(c.country for c in a.countries) or "–",
             ", ".join(link.indicator_code + ("" if link.plan_id == plan.id else f" ({link.plan_id})")
                       for link in a.links) or "–"]
            for a in activities]
    return Reply(title=label, table=Table(["#", "Date", "Title", "Countries", "Indicators"], rows),
                 context=["`show <#>` for details"])


def _period(text: str, today: date) -> tuple[date, date] | None:
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 1, 1), date(int(text), 12, 31)
    try:
        span = find_dates(text, today)
    except DateError:
        return None
    return (span.start, span.end) if span else None


def run_edit(session: Session, ctx, incoming: Incoming, command: parse.Edit, today: date) -> Reply:
    activity = _changeable(session, ctx, incoming, command.activity_id)
    if isinstance(activity, Reply):
        return activity
    if not command.changes:
        reply = activity_reply(ctx.plan, activity, title=f"Edit #{activity.id} · {activity.title}")
        reply.kind = ReplyKind.HELP
        reply.lines = [f"Change fields with `edit {activity.id} field=value`, e.g. "
                       f"`edit {activity.id} participants=40 women=18` or `edit {activity.id} dates=12-14 March 2024`.",
                       "Fields: " + ", ".join(sorted(set(EDIT_FIELDS) - {"organizer", "country", "date"}))]
        reply.form = "edit_activity"
        return reply
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in command.changes:
        problem = _read_field(name, value, today, changes)
        if problem:
            problems.append(problem)
    problems += _contradictions(activity, changes)
    if ("start_date" in changes and changes["start_date"] != activity.start_date and "status" not in changes
            and activity.status != "cancelled"):
        # New dates: held or still to come. The same date again (an edit form sends every field)
        # says nothing about whether a planned activity took place.
        changes["status"] = status_for(changes["start_date"], today)
    if problems:
        return Reply(title=f"#{activity.id} not changed", lines=[f"• {p}" for p in problems],
                     kind=ReplyKind.ERROR)
    diff = store.edit_activity(session, _actor(incoming), activity, changes)
    if not diff:
        return Reply(title=f"#{activity.id} already has those values", kind=ReplyKind.INFO)
    moved = _follow_dates(session, ctx, incoming, activity) if {"start_date", "end_date"} & set(diff) else []
    reply = activity_reply(plan_of(ctx, activity), activity, title=f"Changed #{activity.id} · {activity.title}")
    reply.kind = ReplyKind.DONE
    reply.lines = ["Changed: " + ", ".join(diff)] + moved
    reply.actions = [Action("Undo", f"undo {activity.id}", "danger")]
    return reply


def _follow_dates(session: Session, ctx, incoming: Incoming, activity: Activity) -> list[str]:
    """After new dates put an activity in another loaded plan's period: its links follow the
    crosswalk into that plan; the reply says what moved, and what stayed and how to relink."""
    carried, stayed = carry_activity_links(session, ctx.plans, _actor(incoming), activity)
    if not carried and not stayed:
        return []
    own = ctx.plan_for(activity.start_date, activity.end_date)
    lines = [f"Its dates are now in the plan {own.period}: " + "; ".join(
        f"{old} → {', '.join(new)}" for old, new in carried.items()) + " (by the crosswalk)."] if carried else []
    if stayed:
        lines.append(f"{', '.join(stayed)} {'stays' if len(stayed) == 1 else 'stay'} linked in its former plan and "
                     f"{'does' if len(stayed) == 1 else 'do'} not count in {own.period} (no crosswalk says what "
                     f"{'it becomes' if len(stayed) == 1 else 'they become'}): relink with "
                     f"`unlink {activity.id} {stayed[0]}` and `link {activity.id} <code of {own.period}>`.")
    return lines


def _read_field(name: str, value: str, today: date, out: dict) -> str | None:
    kind = EDIT_FIELDS.get(name)
    if kind is None:
        return f"“{name}” is not a field I can change. Fields: " + ", ".join(sorted(EDIT_FIELDS))
    name = {"organizer": "organiser", "country": "countries"}.get(name, name)
    value = value.strip()
    if kind == "text":
        if not value and name == "title":
            return "The title can't be empty."
        out[name] = value[:TEXT_LIMITS[name]] or None
        if name == "organiser":  # the regional centre it names, for "Number of regional centres"
            centre = find_centre(value)
            out["centre"] = centre.id if centre else None
    elif kind == "products":
        if value.lower() in ("", "none", "-"):
            out["products"], out["product_kind"] = None, None
        elif (read := read_products(value)) is None:
            return f"produced says how many of what, e.g. produced=2 case studies (got “{value[:30]}”)."
        else:
            out["products"], out["product_kind"] = read
    elif kind == "count":
        if value.lower() in ("", "none", "unknown", "-"):
            out[name] = None
        elif not re.fullmatch(r"-?\d{1,9}", value):
            return f"{name} must be a whole number, e.g. {name}=35 (got “{value[:20]}”)."
        else:
            out[name] = int(value)  # count_problems says what is impossible about it
    elif kind in ("date", "daterange"):
        try:
            span = find_dates(value, today)
        except DateError as problem:
            return str(problem)
        if span is None:
            return f"I can't read “{value}” as a date; write it as 2024-03-12 or 12 March 2024."
        if kind == "daterange":
            out["start_date"], out["end_date"] = span.start, span.end
        else:  # a range given for one end: the start's start, the end's end
            out[name] = span.start if name == "start_date" else span.end
    elif kind == "countries":
        codes = []
        for part in filter(None, (p.strip() for p in re.split(r"[,;]", value))):
            # "Trinidad and Tobago" is one country; "Ghana and Togo" two.
            found = [resolve_country(part)] if resolve_country(part) else [
                resolve_country(p.strip()) for p in re.split(r"\band\b", part)]
            if None in found:
                return f"I don't know the country “{part}”."
            codes += [country.code for country in found if country]
        out["countries"] = list(dict.fromkeys(codes))
        out["country"] = codes[0] if codes else None
    elif kind == "kind":
        key = value.lower().replace(" ", "_")
        if key not in KIND_LABELS:
            return f"kind is one of: {', '.join(KIND_LABELS)}."
        out[name] = key
    elif kind == "modality":
        key = value.lower().replace("-", "_").replace(" ", "_")
        if key not in MODALITY_LABELS:
            return "modality is one of: in_person, online, hybrid."
        out[name] = key
    elif kind == "status":
        if value.lower() not in STATUSES:
            return f"status is one of: {', '.join(STATUSES)}."
        out[name] = value.lower()
    return None


def _contradictions(activity: Activity, changes: dict) -> list[str]:
    def after(name):
        return changes[name] if name in changes else getattr(activity, name)

    problems = []
    start, end = after("start_date"), after("end_date")
    if start and end and end < start:
        problems.append(f"The end ({end}) would be before the start ({start}).")
    stated = after("countries_stated")
    if stated is not None and not 1 <= stated <= MAX_COUNTRIES:
        problems.append(f"countries_stated is how many countries took part, between 1 and {MAX_COUNTRIES} "
                        f"(got {stated}); `countries_stated=none` clears it.")
    return problems + count_problems(after("participants"), after("women"), after("men"))


def run_delete(session: Session, ctx, incoming: Incoming, activity_id: int) -> Reply:
    activity = _changeable(session, ctx, incoming, activity_id)
    if isinstance(activity, Reply):
        return activity
    store.delete_activity(session, _actor(incoming), activity)
    return Reply(title=f"Deleted #{activity.id} · {activity.title}", kind=ReplyKind.DONE,
                 lines=["It no longer counts in any figure."],
                 actions=[Action("Undo", f"undo {activity.id}")], activity_id=activity.id)


def run_undo(session: Session, ctx, incoming: Incoming, activity_id: int | None) -> Reply:
    entry = store.last_undoable(session, incoming.user_id, activity_id)
    if entry is None:
        where = f" to #{activity_id}" if activity_id else ""
        return error(f"You have no change{where} to undo.")
    later = store.changed_by_others_since(session, entry)
    if later is not None:
        return error(f"{later.user_name or later.user_id} changed #{entry.activity_id} after you; undoing now "
                     f"would overwrite that. Use `edit {entry.activity_id} …` instead.")
    activity = store.undo(session, _actor(incoming), entry)
    what = {"create": "logging", "delete": "deleting", "edit": "editing", "link": "linking",
            "unlink": "unlinking", "attendees": "adding attendees to"}[entry.action]
    return Reply(title=f"Undone: {what} #{activity.id} · {activity.title}", kind=ReplyKind.DONE,
                 activity_id=activity.id)


def run_link(session: Session, ctx, incoming: Incoming, command: parse.Link | parse.Unlink) -> Reply:
    activity = _changeable(session, ctx, incoming, command.activity_id)
    if isinstance(activity, Reply):
        return activity
    plan = plan_of(ctx, activity)
    codes = list(command.codes)
    notes: list[str] = []
    if isinstance(command, parse.Link):  # an earlier plan's code follows the crosswalk into this one
        codes, _, notes = codes_in_plan(codes, plan, ctx.plans)
    unknown = [c for c in command.codes if c not in plan.indicators and c not in codes
               and not (isinstance(command, parse.Link) and ctx.plans.successors(c, plan))]
    if unknown:
        where = f"the plan {plan.period}, which holds #{activity.id}'s dates" if len(ctx.plans) > 1 else "the plan"
        return error(f"{', '.join(unknown)} is not an indicator of {where}.", f"plan {unknown[0][:3]}")
    if isinstance(command, parse.Link):
        # A person chose these: a suggestion among them becomes "confirmed".
        pairs = [(plan.indicators[c].outcome, c) for c in codes]
        done = store.add_links(session, _actor(incoming), activity, plan.id, pairs, "confirmed")
        verb = "Linked"
    else:
        done = [s["code"] for s in store.remove_links(session, _actor(incoming), activity, plan.id, codes)]
        verb = "Unlinked"
    if not done:
        state = "already linked to" if verb == "Linked" else "not linked to"
        return Reply(title=f"#{activity.id} is {state} {', '.join(codes)}")
    reply = activity_reply(plan, activity, title=f"{verb} #{activity.id} → {', '.join(done)}")
    reply.kind = ReplyKind.DONE
    reply.lines = notes + [f"{c}: {plan.indicators[c].text}" for c in done]
    reply.actions = [Action("Undo", f"undo {activity.id}", "danger")]
    return reply


def run_attendees(session: Session, ctx, incoming: Incoming,
                  command: parse.AttendeesAdd | parse.AttendeesCount | parse.AttendeesList) -> Reply:
    if isinstance(command, parse.AttendeesList):
        activity = _find(session, command.activity_id)
        return activity if isinstance(activity, Reply) else _attendee_list(activity)
    activity = _changeable(session, ctx, incoming, command.activity_id)
    if isinstance(activity, Reply):
        return activity
    people: list[dict[str, Any]] = []
    problems: list[str] = []
    if isinstance(command, parse.AttendeesAdd):
        for person in command.people:
            code = _country_code(person.country, problems)
            people.append({"name": _cut(person.name), "organisation": _cut(person.organisation), "country": code,
                           "sex": person.sex, "role": _cut(person.role), "count": 1})
    else:
        for count, typed in command.groups:
            if not 1 <= count <= MAX_COUNT:
                problems.append(f"“{count} from {typed}”: a count must be between 1 and {MAX_COUNT:,}.")
            code = _country_code(typed, problems)
            people.append({"name": None, "organisation": None, "country": code, "sex": None, "role": None,
                           "count": count})
    if problems:
        return Reply(title="No attendee added", lines=[f"• {p}" for p in problems] +
                     ["", f"For example: `{parse.ATTENDEE_EXAMPLE.splitlines()[0]}`"], kind=ReplyKind.ERROR)
    store.add_attendees(session, _actor(incoming), activity, people)
    added = sum(p["count"] for p in people)
    reply = _attendee_list(activity)
    reply.title = f"Added {added} attendee{'s' if added != 1 else ''} to #{activity.id} · {activity.title}"
    reply.kind = ReplyKind.DONE
    reply.actions = [Action("Undo", f"undo {activity.id}", "danger")]
    if activity.participants is not None and activity.attendee_count > activity.participants:
        # The figures use the stated total; more people listed than that is a total to raise, or a list to fix.
        reply.lines.insert(0, f"{activity.attendee_count} attendees are now listed, more than the "
                              f"{activity.participants} participants stated; the figures still count "
                              f"{activity.participants}. Raise the count, or undo this list.")
        reply.actions.insert(0, Action(f"Raise participants to {activity.attendee_count}",
                                       f"edit {activity.id} participants={activity.attendee_count}"))
    return reply


def _cut(text: str | None) -> str | None:
    return text[:200] if text else text  # the columns' length


def _country_code(typed: str | None, problems: list[str]) -> str | None:
    if not typed:
        return None
    country = resolve_country(typed)
    if country is None:
        problems.append(f"I don't know the country “{typed}”.")
        return None
    return country.code


def _attendee_list(activity: Activity) -> Reply:
    rows = []
    for a in activity.attendees:
        known = get_country(a.country) if a.country else None
        country = known.name if known else "–"
        who = a.name or (f"{a.count} people" if a.count != 1 else "(unnamed)")
        rows.append([who, a.organisation or "–", country, a.sex or "–", a.role or "–"])
    fields = [Field("Attendees listed", str(activity.attendee_count)),
              Field("Women listed", "sex not stated for all" if activity.attendee_women is None
                    else str(activity.attendee_women))]
    if activity.participants is not None:
        fields.append(Field("Participants stated", str(activity.participants)))
    return Reply(title=f"Attendees of #{activity.id} · {activity.title}", fields=fields,
                 table=Table(["Name", "Organisation", "Country", "Sex", "Role"], rows) if rows else None,
                 lines=[] if rows else [
                     f"None yet. `{parse.ATTENDEE_EXAMPLE.splitlines()[0].replace('12', str(activity.id))}`"],
                 activity_id=activity.id, personal=bool(rows))
