"""The one inbound and the one outbound message type that every channel speaks.

Adapters (terminal, Slack, Teams) turn their platform's message into an
`Incoming`, call `handlers.dispatch.dispatch`, and render the `Reply` they get
back in their own way. Nothing here knows of any platform.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


@dataclass(frozen=True)
class Incoming:
    text: str
    user_id: str
    conversation_id: str
    channel: str  # "console", "slack", "teams"
    user_name: str | None = None
    # A platform's own id for this message (Slack team+channel+ts, a Teams
    # activity id). When set, a second delivery of a command that changes data
    # is recognised in the database and does nothing; a question is answered again.
    event_key: str | None = None


class ReplyKind(StrEnum):
    INFO = "info"  # an answer: status, list, show, plan
    DONE = "done"  # something was stored or changed
    HELP = "help"  # usage and guidance, shown to the asker only where the channel can
    ERROR = "error"  # input that could not be used; nothing was changed


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Action:
    """A button. Pressing it sends `command` as if the user had typed it."""

    label: str
    command: str
    style: str | None = None  # "primary" or "danger"


@dataclass
class Reply:
    title: str | None = None
    lines: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    table: Table | None = None
    actions: list[Action] = field(default_factory=list)
    context: list[str] = field(default_factory=list)  # small print under the reply
    kind: ReplyKind = ReplyKind.INFO
    # Ask the channel to open its structured form ("log_activity") where it has one.
    form: str | None = None
    # The id of the activity the reply is about, so channels can offer Edit/Undo.
    activity_id: int | None = None
    # A repeated delivery of a message already handled: channels send nothing.
    duplicate: bool = False
    # The database did not answer: nothing was changed, and the same message may be tried again.
    unavailable: bool = False
    # The table holds personal data (attendees' names, organisations, sex): for the asker's eyes only.
    personal: bool = False

    @property
    def is_private(self) -> bool:
        """Help, errors and personal data concern the asker only."""
        return self.personal or self.kind in (ReplyKind.HELP, ReplyKind.ERROR)

    def without_personal_data(self) -> Reply:
        """The same reply for a conversation where it cannot be shown to the asker alone: counts only."""
        if not self.personal:
            return self
        return replace(self, table=None, personal=False, lines=[
            *self.lines, "Names, organisations and sex are shown only to the person who asks: "
                         "ask me in a personal chat to see them."])
