"""The one entry point every channel calls: a message in, a Reply out.

One database transaction per message: a command's writes, its audit entries and
the claim on the platform's message id commit together or not at all. This is
also the one error boundary: an unexpected failure is logged with an id and the
user gets that id, never the exception text.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handlers import parse
from handlers.activities import (
    run_attendees,
    run_delete,
    run_edit,
    run_link,
    run_list,
    run_show,
    run_undo,
)
from handlers.context import Context
from handlers.help import run_help, run_plan, usage_reply
from handlers.log import run_log
from handlers.messages import Incoming, Reply, ReplyKind
from handlers.plans import conversation_plan, plans_line, run_plan_use, split_plan
from handlers.status import cached_status, run_status
from storage.activities import already_handled, claim_event
from storage.db import is_unavailable, without_control_characters

log = logging.getLogger(__name__)

# Longer messages are not answered on the event loop: matching free text to the plan takes
# time that grows with its length (~2 ms at 100 characters, ~0.1 s at 4000).
QUICK_TEXT_LIMIT = 100


def dispatch(incoming: Incoming, ctx: Context) -> Reply:
    incoming = replace(incoming, text=without_control_characters(incoming.text))
    command = parse.parse_command(incoming.text)
    if isinstance(command, parse.UsageError):
        return usage_reply(command.message, command.example, command.topic, ctx.plan)
    if not parse.changes_data(command):  # a question: nothing to claim, so no write at all
        incoming = replace(incoming, event_key=None)
    return run_once(incoming, ctx, lambda session: run(session, ctx, incoming, command))


def quick_reply(incoming: Incoming, ctx: Context) -> Reply | None:
    """The reply when it needs no database, else None (then call `dispatch`).

    Help, the plan, usage hints, and a status answer this process holds for the current
    data: cheap enough to compute on a channel's event loop, which saves the hop to a
    worker thread and the database round trips that most questions would otherwise cost.
    A status reply from here is shared (see StatusCache.cached): render it, never change it.
    """
    if len(incoming.text) > QUICK_TEXT_LIMIT:  # reading a long text to match it is work for a thread
        return None
    try:
        match parse.parse_command(without_control_characters(incoming.text)):
            case parse.UsageError(message, example, topic):
                return usage_reply(message, example, topic, ctx.plan)
            case parse.Help(topic):
                return run_help(topic, ctx.plan)
            case parse.PlanBrowse(code) if len(ctx.plans) == 1:  # with several, the conversation's choice counts
                return run_plan(ctx.plan, code)
            case parse.Status(target) if len(ctx.plans) == 1:
                return cached_status(ctx.plan, target, ctx.status_cache, ctx.today())
            case parse.Gaps(target) if len(ctx.plans) == 1:
                return cached_status(ctx.plan, target, ctx.status_cache, ctx.today(), "gaps")
    except Exception:  # dispatch, with its error boundary, will say what went wrong
        log.exception("quick reply failed; dispatching instead")
    return None


def run_once(incoming: Incoming, ctx: Context, work: Callable[[Session], Reply]) -> Reply:
    """Run `work` in one transaction, with the claim on the message's key, and catch what it throws.

    The key is claimed after the work, just before the commit, so that on SQLite the
    write lock is held no longer than needed; a second delivery racing the first fails
    on the key's unique constraint and its work is rolled back. An error reply rolls
    everything back and claims nothing: bad input changes nothing and may be sent again.
    """
    try:
        with ctx.sessions() as session:
            if incoming.event_key and already_handled(session, incoming.event_key):
                return Reply(duplicate=True)
            reply = work(session)
            if reply.kind is ReplyKind.ERROR:
                session.rollback()
                return reply
            if incoming.event_key:
                try:
                    claim_event(session, incoming.event_key)
                except IntegrityError:  # another process handled the same delivery first
                    session.rollback()
                    return Reply(duplicate=True)
            session.commit()
            return reply
    except Exception as error:
        return failure_reply(error, incoming)


def kept_reply() -> Reply:
    """When the database stops answering after a channel kept the message to handle it later."""
    return Reply(title="The database is not answering",
                 lines=["I have kept your message and will store it as soon as the database answers again. "
                        "There is no need to send it again."],
                 kind=ReplyKind.HELP)


def failure_reply(error: BaseException, incoming: Incoming) -> Reply:
    """What the user is told about an unexpected failure: an id to quote, never the exception's text.

    Called from an `except` block (the traceback is logged with the id), by dispatch and by
    every adapter's boundary around what it does beside dispatch (e.g. looking up a name).
    """
    error_id = uuid.uuid4().hex[:8]
    if is_unavailable(error):
        log.error("database unavailable [%s] channel=%s user=%s: %s", error_id, incoming.channel,
                  incoming.user_id, type(error).__name__, exc_info=error)
        return Reply(
            title="The database is not answering",
            lines=["Nothing was changed. Try again in a minute.",
                   f"If it goes on, tell the team the error id {error_id}."],
            kind=ReplyKind.ERROR, unavailable=True,
        )
    log.error("message failed [%s] channel=%s user=%s", error_id, incoming.channel, incoming.user_id,
              exc_info=error)
    return Reply(
        title="Sorry, something went wrong on my side",
        lines=[f"Nothing was changed. If it happens again, tell the team the error id {error_id}."],
        kind=ReplyKind.ERROR,
    )


def run(session: Session, ctx: Context, incoming: Incoming, command: parse.Command) -> Reply:
    today = ctx.today()
    match command:
        case parse.Log(text):
            return run_log(session, conversation_plan(session, ctx, incoming), incoming, text, today, ctx.plans)
        case parse.Status(target):
            return _question(session, ctx, incoming, target, "status")
        case parse.Gaps(target):
            return _question(session, ctx, incoming, target, "gaps")
        case parse.ListActivities(filter_text):
            return run_list(session, conversation_plan(session, ctx, incoming), incoming, filter_text, today,
                            ctx.plans)
        case parse.Show(activity_id):
            return run_show(session, ctx.plan, activity_id)
        case parse.Edit():
            return run_edit(session, ctx, incoming, command, today)
        case parse.Delete(activity_id):
            return run_delete(session, ctx, incoming, activity_id)
        case parse.Undo(activity_id):
            return run_undo(session, ctx, incoming, activity_id)
        case parse.Link() | parse.Unlink():
            return run_link(session, ctx, incoming, command)
        case parse.AttendeesAdd() | parse.AttendeesCount() | parse.AttendeesList():
            return run_attendees(session, ctx, incoming, command)
        case parse.PlanBrowse(code):
            named, code = split_plan(code, ctx.plans)
            return run_plan(named or conversation_plan(session, ctx, incoming), code, ctx.plans)
        case parse.PlanUse(name):
            return run_plan_use(session, ctx, incoming, name)
        case parse.Help(topic):
            return run_help(topic, ctx.plan)
        case parse.Digest(args):
            from handlers.digest import run_digest

            return run_digest(session, ctx, incoming, args)
    return run_help("", ctx.plan)


def _question(session: Session, ctx: Context, incoming: Incoming, text: str, command: str) -> Reply:
    """A status or gaps question, answered for the plan it names ("… in 2022-2025") or the conversation's."""
    named, text = split_plan(text, ctx.plans)
    plan = named or conversation_plan(session, ctx, incoming)
    reply = run_status(session, plan, text, ctx.status_cache, ctx.today(), command)
    others = plans_line(ctx.plans, plan)  # None when it is the only plan loaded
    if others and reply.kind is not ReplyKind.ERROR:  # say which plan answered
        reply = replace(reply, context=[*reply.context, others])
    return reply
