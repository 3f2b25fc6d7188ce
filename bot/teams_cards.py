"""A Reply as a Microsoft Teams Adaptive Card, and the card forms for `log` and `edit`.

Plain dicts in, plain dicts out: nothing here imports the Agents SDK. Buttons are
Action.Submit with data {"command": …}; Teams posts that back as the activity's
`value`, and bot/teams.py dispatches the command as if it had been typed.
"""
from __future__ import annotations

import json
import re

from handlers.examples import with_examples
from handlers.log import KIND_LABELS, MODALITY_LABELS
from handlers.messages import Reply, ReplyKind
from handlers.render import render_text
from plan_data.countries import country_name
from plan_data.loader import Plan

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
LOG_FORM, EDIT_FORM = "log_activity", "edit_activity"
# Teams refuses messages over about 28 KB; a reply larger than this goes out as text.
MAX_CARD_BYTES = 24_000
# Body cells this short (figures, codes) fit any column, so they are sent without "wrap":
# a status table has ~50 cells, and every byte is copied and serialised on each send.
NO_WRAP_CELL = 12
# Buttons with longer labels (indicator suggestions) get a row each, so Teams does not cut them.
ROW_LABEL = 24

_TITLE_COLOR = {ReplyKind.DONE: "Good", ReplyKind.ERROR: "Attention"}
_BUTTON_STYLE = {"primary": "positive", "danger": "destructive"}
_SLACK_BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_CODE = re.compile(r"`([^`\n]+)`")

# The form's fields (handlers.forms reads them by these names), in order: (input id, label, placeholder).
FORM_FIELDS = [
    ("title", "Title", "Regional workshop on e-waste ESM, Accra"),
    ("kind", "Kind", ""),
    ("start_date", "Start date", ""),
    ("end_date", "End date", ""),
    ("countries", "Countries", "Ghana, Togo, Benin"),
    ("participants", "Participants", "35"),
    ("women", "Of whom women", "14"),
    ("men", "Of whom men", "21"),
    ("products", "Produced", "2 case studies"),
    ("organiser", "Organiser", "a regional centre, e.g. BCRC-Senegal"),
    ("modality", "Modality", ""),
    ("indicators", "Indicators", "{indicator}, {indicator2} (optional: I suggest some if you leave it empty)"),
]


def markdown(line: str) -> str:
    """Core text (Slack-style *bold*, `code`) as the markdown subset a TextBlock shows (which has no code)."""
    return _CODE.sub(r"“\1”", _SLACK_BOLD.sub(r"**\1**", line)).replace("`", "")


def reply_card(reply: Reply) -> dict:
    """The card for any Reply (forms have their own, see form_card)."""
    body: list[dict] = []
    if reply.title:
        body.append(_text(reply.title, weight="Bolder", size="Medium", color=_TITLE_COLOR.get(reply.kind)))
    body += [_text(line) for line in reply.lines if line.strip()]
    if reply.fields:
        facts = [{"title": f.label, "value": markdown(f.value)} for f in reply.fields]
        body.append({"type": "FactSet", "facts": facts})
    if reply.table:
        body.append(_table(reply.table.columns, reply.table.rows))
    rows = [a for a in reply.actions if len(a.label) > ROW_LABEL]
    body += [{"type": "ActionSet", "actions": [_button(a.label, a.command, a.style)]} for a in rows]
    body += [_text(line, size="Small", isSubtle=True) for line in reply.context]
    actions = [_button(a.label, a.command, a.style) for a in reply.actions if a not in rows]
    return _card(body, actions, render_text(reply))


def form_card(form: str, values: dict | None = None, errors: dict[str, str] | None = None,
              intro: list[str] | None = None, activity_id: int | None = None, heading: str | None = None,
              plan: Plan | None = None) -> dict:
    """The log form (`log` with no text) or an activity's edit form, filled with `values`;
    when a submission is sent back, `errors` shows each problem under its field."""
    values, errors = values or {}, errors or {}
    editing = form == EDIT_FORM
    heading = heading or (f"Edit #{activity_id}" if editing else "Log an activity")
    body: list[dict] = [_text(heading, weight="Bolder", size="Medium")]
    body += [_text(line) for line in (intro or []) if line.strip()]
    if errors.get(""):  # a problem with the submission as a whole
        body.append(_text(errors[""], color="Attention"))
    for name, label, placeholder in FORM_FIELDS:
        body.append(_input(name, label, with_examples(placeholder, plan), values.get(name)))
        if name in errors:
            body.append(_text(errors[name], color="Attention", size="Small", spacing="None"))
    data = {"form": form, "activity_id": activity_id} if editing else {"form": form}
    submit = {"type": "Action.Submit", "title": "Save" if editing else "Log it", "style": "positive", "data": data}
    return _card(body, [submit], f"{heading}: title, kind, dates, countries, participants, products, organiser, "
                                    "modality, indicators.")


def fits(card: dict) -> bool:
    return len(json.dumps(card, ensure_ascii=False).encode()) <= MAX_CARD_BYTES


def _card(body: list[dict], actions: list[dict], fallback: str) -> dict:
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": body,
        "fallbackText": fallback,
        "msteams": {"width": "Full"},  # room for the status table
    }
    if actions:
        card["actions"] = actions
    return card


def _text(text: str, wrap: bool = True, **style) -> dict:
    block: dict[str, object] = {"type": "TextBlock", "text": markdown(text)}
    if wrap:
        block["wrap"] = True
    block.update({key: value for key, value in style.items() if value is not None})
    return block


def _button(label: str, command: str, style: str | None = None) -> dict:
    button = {"type": "Action.Submit", "title": label, "data": {"command": command}}
    if style in _BUTTON_STYLE:
        button["style"] = _BUTTON_STYLE[style]
    return button


def _table(columns: list[str], rows: list[list[str]]) -> dict:
    def row(cells: list[str], bold: bool = False) -> dict:
        return {"type": "TableRow", "cells": [
            {"type": "TableCell", "items": [_text(str(cell), wrap=bold or len(str(cell)) > NO_WRAP_CELL,
                                                  weight="Bolder" if bold else None)]} for cell in cells]}

    return {
        "type": "Table",
        "columns": [{"width": 1} for _ in columns],
        "firstRowAsHeader": True,
        "gridStyle": "accent",
        "rows": [row(columns, bold=True)] + [row(r) for r in rows],
    }


def _input(name: str, label: str, placeholder: str, value) -> dict:
    if isinstance(value, (list, tuple)):  # an edit form's countries (codes) and indicators
        value = ", ".join(country_name(v) if name == "countries" else str(v) for v in value)
    value = "" if value is None else str(value)
    if name == "kind":
        element = _choices(KIND_LABELS, value or "workshop")
    elif name == "modality":
        element = _choices(MODALITY_LABELS, value)
    elif name in ("start_date", "end_date"):
        element = {"type": "Input.Date"}
    elif name in ("participants", "women", "men"):
        element = {"type": "Input.Number", "min": 0}
    else:
        element = {"type": "Input.Text"}
    element.update({"id": name, "label": label})
    if placeholder:
        element["placeholder"] = placeholder
    if name == "title":
        element["isRequired"] = True
        element["errorMessage"] = "Give the activity a title."
    if value and element["type"] == "Input.Number":
        if value.isdigit():
            element["value"] = int(value)
    elif value and element["type"] != "Input.ChoiceSet":
        element["value"] = value
    return element


def _choices(labels: dict[str, str], value: str) -> dict:
    element = {"type": "Input.ChoiceSet", "style": "compact", "placeholder": "Choose",
               "choices": [{"title": title, "value": key} for key, title in labels.items()]}
    if value:
        element["value"] = value
    return element
