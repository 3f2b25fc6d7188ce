"""`tapbot parse`: what a message would do, as JSON, without doing it."""
from __future__ import annotations

from datetime import date

from handlers import parse
from handlers.log import draft_from_text
from handlers.questions import read_question
from plan_data.loader import Plan, Plans


def describe(text: str, plan: Plan, today: date, plans: Plans | None = None) -> dict:
    """What `text` would do. A log is read against the plan whose period holds its dates
    (among ``plans``; ``plan`` when undated or without them), as logging it would."""
    command = parse.parse_command(text)
    match command:
        case parse.UsageError(message=message):
            return {"command": None, "error": message}
        case parse.Log(text=body):
            if not body:
                return {"command": "log", "form": True}
            return draft_from_text(body, plan, today, plans).as_json()
        case parse.Status(target=question):
            return read_question(question, plan, today).as_json()
        case parse.Gaps(target=question):
            return read_question(question, plan, today, "gaps").as_json()
    fields = {k: v for k, v in vars(command).items()}
    name = {"ListActivities": "list", "PlanBrowse": "plan", "AttendeesAdd": "attendees",
            "AttendeesCount": "attendees", "AttendeesList": "attendees"}.get(type(command).__name__,
                                                                            type(command).__name__.lower())
    return {"command": name, **_jsonable(fields)}


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(vars(value))
    return value
