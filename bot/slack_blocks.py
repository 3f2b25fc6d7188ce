"""A Reply as Slack Block Kit, and the modals and App Home view tapbot opens.

Pure functions from data to Slack's JSON: nothing here calls Slack or the database.
A button carries the text command it stands for in its `value`, so whichever
process receives the press can run it (handlers.messages.Action).
"""
from __future__ import annotations

import json

from handlers.examples import with_examples
from handlers.forms import indicator_options
from handlers.log import KIND_LABELS, MODALITY_LABELS
from handlers.messages import Reply
from handlers.render import render_text
from plan_data.countries import REGIONS, all_countries, country_name, get_country
from plan_data.loader import Plan

COMMAND_ACTION = "tap_cmd"  # a button that sends its value as a command; ids are tap_cmd_0, tap_cmd_1…
OPEN_FORM_ACTION = "tap_open_form"  # value "log_activity" or "edit_activity:<id>"
PICK_INDICATOR_ACTION = "tap_pick_indicator"  # value: the activity id
LOG_FORM = "tap_log_form"  # the modals' callback ids
EDIT_FORM = "tap_edit_form"
LINK_FORM = "tap_link_form"
INDICATORS = "indicators"  # the block and action id of the indicator picker, whose options Slack asks for

SECTION_MAX = 3000
FALLBACK_MAX = 3000
TABLE_CELL_MAX = 40


def escape(text: str) -> str:
    """Core text as Slack mrkdwn: *bold* and `code` pass, &, < and > must be escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def message(reply: Reply) -> dict:
    """The arguments of a Slack message (chat.postMessage, respond, ack) for a Reply."""
    return {"text": fallback_text(reply), "blocks": reply_blocks(reply)}


def fallback_text(reply: Reply) -> str:
    """The plain text Slack shows in notifications and where blocks can't be shown."""
    return _cut(render_text(reply), FALLBACK_MAX)


def reply_blocks(reply: Reply) -> list[dict]:
    blocks: list[dict] = []
    if reply.title:
        blocks.append({"type": "header", "text": plain(reply.title, 150)})
    blocks += _sections("\n".join(escape(line) for line in reply.lines))
    for start in range(0, len(reply.fields), 10):  # Slack takes up to 10 fields per section
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": _cut(f"*{escape(f.label)}*\n{escape(f.value)}", 2000)}
            for f in reply.fields[start:start + 10]]})
    if reply.table:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": table_text(reply.table.columns,
                                                                                       reply.table.rows)}})
    buttons = [_button(f"{COMMAND_ACTION}_{i}", a.label, a.command, a.style) for i, a in enumerate(reply.actions)]
    if any(a.command.startswith("link ") for a in reply.actions) and reply.activity_id:
        buttons.insert(len([a for a in reply.actions if a.command.startswith("link ")]),
                       _button(PICK_INDICATOR_ACTION, "Another indicator…", str(reply.activity_id)))
    if reply.form == "log_activity":
        buttons.append(_button(OPEN_FORM_ACTION, "Open the form", "log_activity", "primary"))
    elif reply.form == "edit_activity" and reply.activity_id:
        buttons.append(_button(OPEN_FORM_ACTION, "Edit in a form", f"edit_activity:{reply.activity_id}", "primary"))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons[:25]})
    if reply.context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(escape(line), 2000)}
                                                       for line in reply.context[:10]]})
    return blocks[:50]


def table_text(columns: list[str], rows: list[list[str]]) -> str:
    """A compact table in a code block, cut to fit one section (measured as Slack counts: escaped)."""
    cells = [[_cut(str(c), TABLE_CELL_MAX) for c in row] for row in [columns, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [escape("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    out: list[str] = []
    room = SECTION_MAX - len("``````") - len(f"… and {len(lines)} more rows") - 1
    for i, line in enumerate(lines):
        if sum(len(x) + 1 for x in out) + len(line) > room:
            out.append(f"… and {len(lines) - i} more rows")
            break
        out.append(line)
    return "```" + "\n".join(out) + "```"


def _sections(text: str) -> list[dict]:
    """Lines as sections of at most SECTION_MAX characters each."""
    chunks = [""]
    for line in text.split("\n"):
        line = _cut(line, SECTION_MAX)
        if chunks[-1] and len(chunks[-1]) + 1 + len(line) > SECTION_MAX:
            chunks.append(line)
        else:
            chunks[-1] = f"{chunks[-1]}\n{line}" if chunks[-1] else line
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks if c.strip()]


def _button(action_id: str, label: str, value: str, style: str | None = None) -> dict:
    button = {"type": "button", "action_id": action_id, "text": plain(label, 75), "value": value[:2000]}
    if style in ("primary", "danger"):
        button["style"] = style
    return button


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- modals ---------------------------------------------------------------------------------------

METADATA_MAX = 3000


def private_metadata(metadata: dict) -> str:
    """A modal's metadata as JSON within Slack's 3000 characters: a long pre-filled source text
    is shortened before encoding, never the JSON after it (cut JSON no longer parses)."""
    encoded = json.dumps(metadata, ensure_ascii=False)
    source = metadata.get("source_text") or ""
    while len(encoded) > METADATA_MAX and source:
        source = source[: max(0, len(source) - (len(encoded) - METADATA_MAX) - 1)]
        encoded = json.dumps(metadata | {"source_text": source or None}, ensure_ascii=False)
    if len(encoded) > METADATA_MAX:  # nothing of ours is that long; refuse rather than send broken JSON
        raise ValueError(f"a modal's metadata is {len(encoded)} characters long")
    return encoded


def log_modal(plan: Plan, values: dict | None = None, metadata: dict | None = None,
              activity_id: int | None = None) -> dict:
    """The log form; with `activity_id`, the same form editing that activity."""
    values = values or {}
    title = f"Edit #{activity_id}" if activity_id else "Log an activity"
    blocks = [
        _input("title", "Title", {"type": "plain_text_input", "max_length": 300,
                                  "placeholder": plain("Regional workshop on e-waste ESM, Accra", 150)},
               initial=("initial_value", values.get("title"))),
        _input("kind", "Kind", _static_select(KIND_LABELS), optional=not activity_id,
               initial=("initial_option", _option(values.get("kind"), KIND_LABELS)),
               hint=None if activity_id else "Left empty, I read it from the title."),
        _input("start_date", "Start date", {"type": "datepicker"}, optional=True,
               initial=("initial_date", values.get("start_date"))),
        _input("end_date", "End date", {"type": "datepicker"}, optional=True,
               initial=("initial_date", values.get("end_date")), hint="Left empty: a one-day activity."),
        _input("countries", "Countries", {"type": "multi_static_select", "option_groups": _country_groups(),
                                          "placeholder": plain("Ghana, Togo…", 150)}, optional=True,
               initial=("initial_options", [_country_option(c) for c in values.get("countries") or []
                                            if get_country(c)] or None)),
        _input("participants", "Participants", _number(), optional=True,
               initial=("initial_value", _str(values.get("participants")))),
        _input("women", "Of whom women", _number(), optional=True,
               initial=("initial_value", _str(values.get("women")))),
        _input("men", "Of whom men", _number(), optional=True,
               initial=("initial_value", _str(values.get("men")))),
        _input("products", "Produced", {"type": "plain_text_input", "max_length": 200,
                                        "placeholder": plain("2 case studies", 150)}, optional=True,
               initial=("initial_value", values.get("products")), hint="How many of what, if it made any."),
        _input("organiser", "Organiser", {"type": "plain_text_input", "max_length": 200,
                                          "placeholder": plain("a regional centre, e.g. BCRC-Senegal", 150)},
               optional=True, initial=("initial_value", values.get("organiser"))),
        _input("modality", "Modality", _static_select(MODALITY_LABELS), optional=True,
               initial=("initial_option", _option(values.get("modality"), MODALITY_LABELS))),
        _indicator_input(plan, values.get("indicators") or [],
                         "Type words or a code. Left empty, I suggest some once it is logged."),
    ]
    return {
        "type": "modal", "callback_id": EDIT_FORM if activity_id else LOG_FORM,
        "title": plain(title, 24), "submit": plain("Save" if activity_id else "Log it", 24),
        "close": plain("Cancel", 24), "private_metadata": private_metadata(metadata or {}), "blocks": blocks,
    }


def link_modal(plan: Plan, activity_id: int, metadata: dict) -> dict:
    """Pick any indicator of the plan for an activity (the buttons offer only the closest three)."""
    return {
        "type": "modal", "callback_id": LINK_FORM, "title": plain(f"Indicators of #{activity_id}", 24),
        "submit": plain("Link", 24), "close": plain("Cancel", 24),
        "private_metadata": private_metadata(metadata),
        "blocks": [_indicator_input(plan, [], "Type words from the indicator, or its code.", optional=False)],
    }


def form_values(view: dict) -> dict:
    """A submitted modal's inputs as the field → value dict of handlers.forms."""
    values: dict = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        for element in actions.values():
            kind = element.get("type")
            if kind in ("plain_text_input", "number_input"):
                values[block_id] = element.get("value")
            elif kind == "datepicker":
                values[block_id] = element.get("selected_date")
            elif kind in ("static_select", "external_select"):
                values[block_id] = (element.get("selected_option") or {}).get("value")
            elif kind.startswith("multi_"):
                values[block_id] = [o["value"] for o in element.get("selected_options") or []]
    return values


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """Per-field messages as Slack's view errors; one about the whole form goes under the title."""
    return {(name if name else "title"): _cut(text, 150) for name, text in errors.items()}


def indicator_choices(plan: Plan, typed: str) -> list[dict]:
    """The options of the indicator picker for what the user has typed so far."""
    return [_indicator_option(plan, code) for code, _ in indicator_options(plan, typed, limit=25)]


def _indicator_input(plan: Plan, codes: list[str], hint: str, optional: bool = True) -> dict:
    element = {"type": "multi_external_select", "min_query_length": 0,
               "placeholder": plain(with_examples("e-waste inventory, {indicator}…", plan), 150)}
    initial = [_indicator_option(plan, c) for c in codes if c in plan.indicators] or None
    return _input(INDICATORS, "Indicators", element, optional=optional, initial=("initial_options", initial),
                  hint=hint)


def _indicator_option(plan: Plan, code: str) -> dict:
    return {"text": plain(f"{code} · {plan.indicators[code].text}", 75), "value": code}


def _input(name: str, label: str, element: dict, optional: bool = False,
           initial: tuple[str, object] | None = None, hint: str | None = None) -> dict:
    element = {**element, "action_id": name}
    if initial and initial[1] not in (None, "", []):
        element[initial[0]] = initial[1]
    block = {"type": "input", "block_id": name, "label": plain(label, 2000), "element": element,
             "optional": optional}
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _static_select(labels: dict[str, str]) -> dict:
    return {"type": "static_select", "options": [{"text": plain(t, 75), "value": k} for k, t in labels.items()]}


def _option(key: str | None, labels: dict[str, str]) -> dict | None:
    return {"text": plain(labels[key], 75), "value": key} if key in labels else None


def _number() -> dict:
    return {"type": "number_input", "is_decimal_allowed": False, "min_value": "0"}


def _country_groups() -> list[dict]:
    countries = all_countries()
    return [{"label": plain(region, 75), "options": [_country_option(c.code) for c in countries if c.region == region]}
            for region in REGIONS]


def _country_option(code: str) -> dict:
    return {"text": plain(country_name(code), 75), "value": code}


def _str(value) -> str | None:
    return None if value is None else str(value)


# --- App Home -------------------------------------------------------------------------------------

def home_view(replies: list[Reply]) -> dict:
    """The App Home tab: a button to log, then the given replies (the user's activities, the outcomes)."""
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Log what you did against the Technical "
                                     "Assistance Plan, and see where it stands."}},
        {"type": "actions", "elements": [_button(OPEN_FORM_ACTION, "Log an activity", "log_activity", "primary")]},
    ]
    for reply in replies:
        blocks.append({"type": "divider"})
        blocks += reply_blocks(reply)
    return {"type": "home", "blocks": blocks[:100]}
