"""Structured forms (a Slack modal, a Teams card): read, checked and stored by the core's own rules.

Every channel hands in the same field names, with the values as its form gives them:

    title, kind, modality          text (kind and modality as the keys of KIND_LABELS / MODALITY_LABELS)
    start_date, end_date           ISO dates, "2024-03-12"
    countries, indicators          a list, or one string separated by commas (names or codes)
    participants, women, men       whole numbers, as numbers or text
    products                       what it produced, "2 case studies" (read as in a message)
    organiser                      who organised it, e.g. a regional centre ("BCRC-Senegal")

A form that can't be used comes back as {field: message} ("" for the form as a
whole), so the channel can show each message under its field. A good one is
stored exactly as a `log` message would be (handlers.log.store) and comes back
as its Reply; an edit goes through the same checks as `edit` and `link`.
"""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session

from handlers import parse
from handlers.activities import plan_of, run_edit, run_link
from handlers.context import Context
from handlers.counted import PRODUCT_LABELS, read_products
from handlers.dispatch import run_once
from handlers.examples import plan_examples
from handlers.extract import extract_log_fields
from handlers.log import KIND_LABELS, MODALITY_LABELS, ORGANISER, LogDraft, draft_from_text, status_for, store
from handlers.matcher import confidence, match_indicators
from handlers.messages import Incoming, Reply, ReplyKind
from handlers.render import day
from plan_data.countries import get_country, resolve_country
from plan_data.loader import Plan, Plans
from storage.activities import get_activity

MAX_COUNT = 9_999_999

FormErrors = dict[str, str]


def read_log_form(values: dict, plan: Plan, today: date, plans: Plans | None = None) -> LogDraft | FormErrors:
    """The form's fields as a LogDraft, or what is wrong with them, by field. With ``plans``, the
    activity goes to the plan whose period holds its dates (``plan`` when undated)."""
    errors: FormErrors = {}
    title = _text(values.get("title"))
    if not title:
        errors["title"] = "Give the activity a title."
    read = extract_log_fields(title, today) if title else None  # the kind and languages the title implies
    kind = _text(values.get("kind")) or (read.kind if read else "other")
    if kind not in KIND_LABELS:
        errors["kind"] = "Choose one of: " + ", ".join(KIND_LABELS.values()) + "."
    modality = _text(values.get("modality")) or None
    if modality and modality not in MODALITY_LABELS:
        errors["modality"] = "Choose one of: " + ", ".join(MODALITY_LABELS.values()) + "."
    start = _date(values.get("start_date"), "start_date", errors)
    end = _date(values.get("end_date"), "end_date", errors)
    if end and not start and "start_date" not in errors:
        errors["start_date"] = "Give the start date too (the same day for a one-day activity)."
    if plans is not None:
        plan = plans.for_activity(start, end, undated=plan)
    if start and end and end < start:
        errors["end_date"] = f"The end ({day(end)}) is before the start ({day(start)})."
    countries = []
    for typed in _items(values.get("countries")):
        country = get_country(typed) if len(typed) == 2 and typed.isupper() else resolve_country(typed)
        if country is None:
            errors["countries"] = f"I don't know the country “{typed}”. Use its name, e.g. “Côte d'Ivoire”."
        elif country.code not in countries:
            countries.append(country.code)
    participants = _count(values.get("participants"), "participants", errors)
    women = _count(values.get("women"), "women", errors)
    men = _count(values.get("men"), "men", errors)
    if participants is not None and women is not None and women > participants:
        errors["women"] = f"{women} women are more than the {participants} participants."
    elif participants is not None and (women or 0) + (men or 0) > participants:
        errors["men"] = f"{women or 0} women and {men} men are more than the {participants} participants."
    # What it produced ("2 case studies"), read as in a message (handlers/counted.py).
    products = _text(values.get("products"))
    organiser = _text(values.get("organiser"))[:200] or None
    if products and read_products(products) is None:
        errors["products"] = "Say how many of what, e.g. “2 case studies”, “1 guidance document”, “3 submissions”."
    codes = []
    for typed in _items(values.get("indicators")):
        code = typed.upper()
        carried = plans.successors(code, plan) if plans is not None and code not in plan.indicators else ()
        if carried:  # an earlier plan's code, for an activity of this plan: the crosswalk's codes
            codes += [c for c in carried if c not in codes]
        elif code not in plan.indicators:
            example = plan_examples(plan)["{indicator}"]
            errors["indicators"] = f"{code} is not an indicator of the plan (e.g. {example})."
        elif code not in codes:
            codes.append(code)
    if errors:
        return errors
    matches = [] if codes else match_indicators(title, plan)
    if organiser is None:
        named = ORGANISER.search(title + " " + _text(values.get("source_text")))
        organiser = named.group(1) if named else None
    text = _text(values.get("source_text")) or _summary(title, countries, start, end, participants, women,
                                                        modality, codes)
    # Products and the organiser's regional centre are read from the text (handlers.counted), as in a message.
    if products:
        text += f"; produced: {products}"
    if organiser and organiser not in text:
        text += f"; organised by {organiser}"
    return LogDraft(
        text=text,
        title=title[:300], kind=kind, modality=modality, start_date=start, end_date=end or start,
        countries=countries, organiser=organiser,
        participants=participants, women=women, men=men, languages=list(read.languages) if read else [],
        status=status_for(start, today),
        codes=codes, matches=matches, confidence=confidence(matches) if matches else 0.0, plan=plan,
    )


def submit_log_form(incoming: Incoming, values: dict, ctx: Context) -> Reply | FormErrors:
    """Store the activity a log form describes, once per `incoming.event_key`."""
    draft = read_log_form(values, ctx.plan, ctx.today(), ctx.plans)
    if isinstance(draft, dict):
        return draft
    return run_once(incoming, ctx, lambda session: store(session, ctx.plan, incoming, draft, ctx.today()))


def values_from_text(text: str, plan: Plan, today: date) -> dict:
    """A log form pre-filled from a message ("Log this as an activity" on a message)."""
    draft = draft_from_text(text, plan, today)
    link = draft.auto_link
    return {
        "title": draft.title, "kind": draft.kind, "modality": draft.modality,
        "start_date": _iso(draft.start_date), "end_date": _iso(draft.end_date),
        "countries": draft.countries, "participants": draft.participants, "women": draft.women,
        "men": draft.men, "products": products_text(*(read_products(text) or (None, None))),
        "organiser": draft.organiser,
        "indicators": draft.codes or ([link.code] if link else []), "source_text": text,
    }


def activity_values(ctx: Context, activity_id: int) -> dict | None:
    """The current fields of an activity as an edit form shows them, with "plan": the id of the
    activity's own plan, whose indicators the form offers; None when there is no such activity."""
    with ctx.sessions() as session:
        activity = get_activity(session, activity_id)
        if activity is None:
            return None
        plan = plan_of(ctx, activity)
        return {"plan": plan.id,
            "title": activity.title, "kind": activity.kind, "modality": activity.modality,
            "start_date": _iso(activity.start_date), "end_date": _iso(activity.end_date),
            "countries": [c.country for c in activity.countries],
            "participants": activity.participants, "women": activity.women, "men": activity.men,
            "products": products_text(activity.products, activity.product_kind), "organiser": activity.organiser,
            "indicators": [link.indicator_code for link in activity.links if link.plan_id == plan.id],
        }


def form_plan(ctx: Context, values: dict | None) -> Plan:
    """The plan an edit form is about (activity_values' "plan"), else the current plan."""
    return ctx.plans.by_id.get(str((values or {}).get("plan") or ""), ctx.plan)


def products_text(count: int | None, kind: str | None) -> str | None:
    """Stored products as a form shows them, "2 case studies": read back by read_products as the same."""
    return f"{count} {PRODUCT_LABELS[kind]}" if count and kind in PRODUCT_LABELS else None


def submit_edit_form(incoming: Incoming, activity_id: int, values: dict, ctx: Context) -> Reply | FormErrors:
    """Apply an edit form: the same checks as a log form, then `edit`, `link` and `unlink` in one transaction."""
    with ctx.sessions() as session:
        activity = get_activity(session, activity_id)
        plan = plan_of(ctx, activity) if activity is not None else ctx.plan
    # The indicators are checked against the plan of the dates the form gives (as a log form's).
    draft = read_log_form(values, plan, ctx.today(), ctx.plans if values.get("start_date") else None)
    if isinstance(draft, dict):
        return draft
    changes = [("title", draft.title), ("kind", draft.kind), ("participants", _str(draft.participants)),
               ("women", _str(draft.women)), ("countries", ", ".join(draft.countries))]
    # A form sent before it had these fields (a card still in a chat) leaves them as they are.
    changes += [(name, value) for name, key, value in (("men", "men", _str(draft.men)),
                                                        ("produced", "products", _text(values.get("products"))))
                if key in values]
    if draft.modality:
        changes.append(("modality", draft.modality))
    if draft.start_date and draft.end_date:  # a form's end date is its start when not given
        changes += [("start_date", draft.start_date.isoformat()), ("end_date", draft.end_date.isoformat())]

    def edit(session: Session) -> Reply:
        current = get_activity(session, activity_id)
        # The organiser only when the form changed it: setting it resolves the regional centre
        # again, and a centre read from the log's text is kept while the organiser stays.
        organiser = [("organiser", draft.organiser or "")] if (
            "organiser" in values and current and draft.organiser != current.organiser) else []
        reply = run_edit(session, ctx, incoming, parse.Edit(activity_id, tuple(changes + organiser)), ctx.today())
        if reply.kind is ReplyKind.ERROR:
            return reply
        activity = get_activity(session, activity_id)
        assert activity is not None and draft.plan is not None  # the edit just found and changed it, in its plan
        linked = {link.indicator_code for link in activity.links if link.plan_id == draft.plan.id}
        steps: list[parse.Unlink | parse.Link] = [parse.Unlink(activity_id, tuple(sorted(linked - set(draft.codes)))),
                 parse.Link(activity_id, tuple(c for c in draft.codes if c not in linked))]
        for step in steps:
            if step.codes:
                done = run_link(session, ctx, incoming, step)
                if done.kind is ReplyKind.ERROR:
                    return done
                reply = done if reply.kind is not ReplyKind.DONE else _merged(reply, done)
        return reply

    return run_once(incoming, ctx, edit)


def indicator_options(plan: Plan, typed: str, limit: int = 20) -> list[tuple[str, str]]:
    """(code, text) of the indicators a picker offers for what the user typed: codes first, then the matcher's."""
    typed = typed.strip()
    by_code = [code for code in plan.indicators if typed and code.startswith(typed.upper())]
    ranked = [m.code for m in match_indicators(typed, plan, limit) if m.score > 0] if typed else list(plan.indicators)
    codes = list(dict.fromkeys(by_code + ranked))[:limit]
    return [(code, plan.indicators[code].text) for code in codes]


def _merged(first: Reply, then: Reply) -> Reply:
    then.title = first.title
    then.lines = first.lines + then.lines
    return then


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _str(value: int | None) -> str:
    return "" if value is None else str(value)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _items(value) -> list[str]:
    parts = value if isinstance(value, (list, tuple)) else re.split(r"[,;\n]", _text(value))
    return [str(p).strip() for p in parts if str(p).strip()]


def _date(value, name: str, errors: FormErrors) -> date | None:
    text = _text(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        errors[name] = f"“{text}” is not a date; pick one or write it as 2024-03-12."
        return None


def _count(value, name: str, errors: FormErrors) -> int | None:
    text = _text(value).replace(",", "")
    if not text:
        return None
    if not re.fullmatch(r"-?\d+(\.0+)?", text):
        errors[name] = f"Write {name} as a whole number, e.g. 35."
        return None
    number = int(float(text))
    if not 0 <= number <= MAX_COUNT:
        errors[name] = f"{name.capitalize()} can't be {number}."
        return None
    return number


def _summary(title, countries, start, end, participants, women, modality, codes) -> str:
    """What the form said, as one line: kept as the activity's raw text, shown by `show`."""
    parts = [title]
    names = [country.name for c in countries if (country := get_country(c))]
    if names:
        parts.append(", ".join(names))
    if start:
        parts.append(start.isoformat() + (f" – {end.isoformat()}" if end and end != start else ""))
    if participants is not None:
        parts.append(f"{participants} participants" + (f" ({women} women)" if women is not None else ""))
    if modality:
        parts.append(MODALITY_LABELS[modality].lower())
    return ", ".join(parts) + (" " + " ".join(codes) if codes else "") + " (form)"
