"""Slack: a slack-bolt AsyncApp behind POST /slack/events, and Replies posted into Slack.

Everything Slack sends (slash command, mention, direct message, button, shortcut,
modal, picker options, App Home) arrives signed at one URL; bolt checks the
signature and its age before any listener runs. A listener turns the payload
into an `Incoming`, runs the core in a worker thread (the core is synchronous),
and renders the `Reply` with bot.slack_blocks. Slack wants an answer within
3 seconds: events and buttons are acked at once and answered afterwards; a
slash command's answer goes in the ack when it is ready in time, else after it.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import replace
from datetime import timedelta

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings, secret
from bot.delivery import DeliveryError
from bot.slack_blocks import (
    COMMAND_ACTION,
    EDIT_FORM,
    INDICATORS,
    LINK_FORM,
    LOG_FORM,
    OPEN_FORM_ACTION,
    PICK_INDICATOR_ACTION,
    form_errors,
    form_values,
    home_view,
    indicator_choices,
    link_modal,
    log_modal,
    message,
)
from handlers.context import Context
from handlers.dispatch import dispatch, failure_reply, kept_reply, quick_reply
from handlers.forms import activity_values, form_plan, submit_edit_form, submit_log_form, values_from_text
from handlers.help import files_reply
from handlers.messages import Incoming, Reply, ReplyKind
from handlers.parse import changes_data, parse_command
from storage import inbox
from storage.users import known_name, remember_name

log = logging.getLogger(__name__)

CHANNEL = "slack"
SLASH_COMMAND = "/tap"
LOG_SHORTCUT = "tap_log_activity"  # global shortcut
LOG_MESSAGE_SHORTCUT = "tap_log_message"  # message shortcut: the form filled from the message
ANSWER_IN_ACK_WITHIN = 2.0  # seconds; Slack gives up on an ack after 3
NAME_FRESH_FOR = timedelta(days=7)
KEEP_WITHIN = 2.0  # seconds to record a message in the inbox before Slack's 3 s run out
# An inbox entry untouched this long was interrupted (a crash, a restart): any process takes it up.
INBOX_LEASE = timedelta(seconds=10)
SWEEP_EVERY = 5.0  # seconds between looks at the inbox
# Errors after which posting to that conversation again cannot succeed.
PERMANENT_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "account_inactive", "invalid_auth",
                    "token_revoked", "missing_scope", "user_not_found", "cannot_dm_bot"}


def mount_slack(app: web.Application, settings: Settings, ctx: Context) -> str | None:
    """Serve Slack at POST /slack/events; returns why Slack is off, or None when it is on."""
    if not settings.slack_bot_token:
        return "SLACK_BOT_TOKEN is not set"
    if not settings.slack_signing_secret:
        return "SLACK_SIGNING_SECRET is not set, so Slack's requests could not be verified"
    slack = SlackListeners(ctx)
    bolt = build_bolt_app(settings, slack)

    async def slack_events(request: web.Request) -> web.Response:
        if not well_formed_signature(request.headers):  # bolt would fail on them with a 500
            return web.Response(status=401, text="Invalid request")
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app.router.add_post("/slack/events", slack_events)
    sweeper = InboxSweeper(slack, bolt.client)
    app.on_startup.append(sweeper.start)
    app.on_cleanup.append(sweeper.stop)
    return None


def well_formed_signature(headers) -> bool:
    """Slack's signature headers have one shape: a whole number of seconds and "v0=" with hex."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    return (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12
            and re.fullmatch(r"v0=[0-9a-f]{64}", signature) is not None)


def slack_error_code(error: SlackApiError) -> str:
    """Slack's error code from a refusal, whatever its body (an HTML error page has no JSON)."""
    data = getattr(error.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {getattr(error.response, 'status_code', '?')}"


def web_client(settings: Settings) -> AsyncWebClient:
    """The Slack Web API client: SLACK_API_URL when set (tests), retrying once when rate-limited."""
    base_url = settings.slack_api_url or AsyncWebClient.BASE_URL
    return AsyncWebClient(
        token=secret(settings.slack_bot_token), base_url=base_url.rstrip("/") + "/",
        retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )


def build_bolt_app(settings: Settings, slack: SlackListeners) -> AsyncApp:
    # Request verification (signature and a 5-minute age limit) is bolt's default and stays on.
    bolt = AsyncApp(client=web_client(settings), signing_secret=secret(settings.slack_signing_secret), name="tapbot")
    bolt.middleware(slack.keep_before_ack)
    bolt.command(SLASH_COMMAND)(slack.on_command)
    bolt.event("app_mention")(slack.on_mention)
    bolt.event("message")(slack.on_message)
    bolt.event("app_home_opened")(slack.on_home_opened)
    bolt.action(re.compile(rf"^{COMMAND_ACTION}_\d+$"))(slack.on_button)
    bolt.action(OPEN_FORM_ACTION)(slack.on_open_form)
    bolt.action(PICK_INDICATOR_ACTION)(slack.on_pick_indicator)
    bolt.shortcut(LOG_SHORTCUT)(slack.on_log_shortcut)
    bolt.shortcut(LOG_MESSAGE_SHORTCUT)(slack.on_log_shortcut)
    bolt.view(LOG_FORM)(slack.on_log_form)
    bolt.view(EDIT_FORM)(slack.on_edit_form)
    bolt.view(LINK_FORM)(slack.on_link_form)
    bolt.options(INDICATORS)(slack.on_indicator_options)
    return bolt


async def post_reply(settings: Settings, channel_id: str, reply: Reply) -> None:
    """Post a Reply into a Slack conversation unasked (digests). Raises DeliveryError."""
    try:
        await web_client(settings).chat_postMessage(channel=channel_id, **message(reply))
    except SlackApiError as error:
        code = slack_error_code(error)
        raise DeliveryError(f"Slack refused the post to {channel_id}: {code}",
                            permanent=code in PERMANENT_ERRORS) from error
    except Exception as error:  # network: worth trying again later
        raise DeliveryError(f"Slack could not be reached for {channel_id}: {type(error).__name__}") from error


def answer(reply: Reply) -> dict:
    """A response to a slash command or a button: help and errors for the asker only."""
    return {"response_type": "ephemeral" if reply.is_private else "in_channel", **message(reply)}


def clean_text(text: str, bot_user_id: str | None) -> str:
    """Slack's message markup as the text the user typed: no mention of the bot, links as their labels."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
    # Other mentions: a user or group by their label where Slack gives one, else nothing.
    text = re.sub(r"<[@!](?:subteam\^)?[\w^-]+\|@?([^>]+)>", r"@\1", text)
    text = re.sub(r"<[@!][\w^-]+>", " ", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"<((?:https?|mailto):[^|>]+)\|([^>]+)>", r"\2", text)
    text = re.sub(r"<((?:https?|mailto):[^>]+)>", r"\1", text)
    text = re.sub(r"<#\w+\|([^>]+)>", r"#\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


class SlackListeners:
    """The bolt listeners; bolt passes each the parts of the request it names (ack, body, client…)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    # --- messages: slash command, mention, direct message ----------------------------------------

    async def keep_before_ack(self, req, body: dict, context, next):
        """Bolt middleware: a message that changes data is kept in the inbox before anything acks it.

        Slack sends an acknowledged event only once, and a slash command never again, so what
        a crash interrupts after the ack must be in the database already. A slash command's
        key is a hash of its signed request: a replay of it does nothing.
        """
        kept = self._to_keep(req, body, context)
        if kept is None:
            return await next()
        key, payload = kept
        try:
            fresh = await asyncio.wait_for(asyncio.to_thread(inbox.record, self.ctx.sessions, key, CHANNEL, payload),
                                           KEEP_WITHIN)
        except Exception as error:  # not kept, so not acknowledged: Slack tries an event again
            reply = failure_reply(error, self._incoming(payload["text"], payload["user"], payload["channel"]))
            if payload["kind"] == "command":
                return BoltResponse(status=200, body=json.dumps(answer(reply)),
                                    headers={"content-type": "application/json"})
            return BoltResponse(status=503, body="")
        if not fresh:  # a redelivery or a replay: the first is handled, or in the inbox to be
            return BoltResponse(status=200, body="")
        context["inbox_key"] = key
        return await next()

    def _to_keep(self, req, body: dict, context) -> tuple[str, dict] | None:
        """The inbox key and what to keep of a request, when it is a message that changes data."""
        if body.get("command") == SLASH_COMMAND:
            text, user, conversation = body.get("text", ""), body.get("user_id"), body.get("channel_id")
            signed = req.headers.get("x-slack-request-timestamp", [""])[0] + ":" + req.raw_body
            key = f"slash:{hashlib.sha256(signed.encode()).hexdigest()}"
            payload = {"kind": "command", "response_url": body.get("response_url")}
        elif body.get("type") == "event_callback" and self._answers_event(body.get("event") or {}):
            event = body["event"]
            text = clean_text(event.get("text", ""), context.bot_user_id)
            user, conversation = event["user"], event["channel"]
            key = f"{context.team_id}:{conversation}:{event['ts']}"
            payload = {"kind": "message", "ts": event["ts"], "thread_ts": event.get("thread_ts"),
                       "channel_type": event.get("channel_type")}
        else:
            return None
        if not user or not conversation or not changes_data(parse_command(text)):
            return None
        return f"{CHANNEL}:{key}", payload | {"text": text, "user": user, "channel": conversation}

    @staticmethod
    def _answers_event(event: dict) -> bool:
        """Whether tapbot answers this event: a mention in a channel, a direct message from a person.

        A mention in a direct message also arrives as that message, which is the one answered.
        Edits, joins and bots' messages have a subtype or a bot_id and are not commands; a file
        shared in a direct message (subtype file_share) is answered with what tapbot does with files.
        """
        if event.get("type") == "app_mention":
            return event.get("channel_type") != "im" and not event.get("channel", "").startswith("D")
        return (event.get("type") == "message" and event.get("channel_type") == "im" and not event.get("bot_id")
                and event.get("subtype") in (None, "file_share"))

    async def on_command(self, ack, command: dict, respond, client: AsyncWebClient, context) -> None:
        key = context.get("inbox_key")  # set for a command that changes data (keep_before_ack)
        incoming = self._incoming(command["text"], command["user_id"], command["channel_id"])
        quick = None if key else quick_reply(incoming, self.ctx)
        if quick is not None:  # most questions: answered in the ack straight away
            await ack(**answer(quick))
            return
        incoming = replace(incoming, event_key=key)
        work = asyncio.ensure_future(self._handle(client, incoming, key, first=True))
        await asyncio.wait({work}, timeout=ANSWER_IN_ACK_WITHIN)
        if not work.done():  # slow: ack now, answer through the response_url when ready
            await ack()
            reply = await work
            if reply is not None:
                await self._safely(respond(**answer(reply)), "response_url")
            return
        reply = work.result()
        if reply is not None and reply.form:
            reply = await self._open_form_for(client, command["trigger_id"], reply, command["user_id"],
                                              {"channel": command["channel_id"]})
        if reply is None:
            await ack()
            return
        await ack(**answer(reply))

    async def on_mention(self, event: dict, client: AsyncWebClient, context) -> None:
        if self._answers_event(event):
            await self._message(event, client, context)

    async def on_message(self, event: dict, client: AsyncWebClient, context) -> None:
        # Direct messages only: in channels tapbot answers when mentioned (app_mention).
        if self._answers_event(event):
            await self._message(event, client, context)

    async def _message(self, event: dict, client: AsyncWebClient, context) -> None:
        # The same key for a retry and for one message delivered both as app_mention and as message.
        key = context.get("inbox_key") or f"{CHANNEL}:{context.team_id}:{event['channel']}:{event['ts']}"
        payload = {"kind": "message", "text": clean_text(event.get("text", ""), context.bot_user_id),
                   "user": event["user"], "channel": event["channel"], "ts": event["ts"],
                   "thread_ts": event.get("thread_ts"), "channel_type": event.get("channel_type"),
                   "files": bool(event.get("files")) or event.get("subtype") == "file_share"}
        await self.handle_kept(client, key if context.get("inbox_key") else None, payload, first=True,
                               event_key=key)

    async def handle_kept(self, client: AsyncWebClient, key: str | None, payload: dict, first: bool,
                          event_key: str | None = None) -> None:
        """Handle a message (from the inbox when `key` is set) and answer where it came from."""
        incoming = self._incoming(payload["text"], payload["user"], payload["channel"])
        incoming = replace(incoming, event_key=key or event_key)
        reply: Reply | None
        if payload.get("files") and not payload["text"].strip():
            reply = files_reply()
        else:
            reply = await self._handle(client, incoming, key, first)
        if reply is None:
            return
        if payload.get("files"):
            reply = replace(reply, context=[*reply.context, *files_reply().lines])
        if payload["kind"] == "command":
            if payload.get("response_url"):
                await self._safely(AsyncRespond(response_url=payload["response_url"])(**answer(reply)),
                                   "response_url")
            return
        thread = {"thread_ts": payload["thread_ts"]} if payload.get("thread_ts") else {}
        if reply.is_private and payload.get("channel_type") != "im":
            await self._safely(client.chat_postEphemeral(channel=payload["channel"], user=payload["user"], **thread,
                                                         **message(reply)), "chat.postEphemeral")
        else:
            await self._safely(client.chat_postMessage(channel=payload["channel"], **thread, **message(reply)),
                               "chat.postMessage")

    async def _handle(self, client: AsyncWebClient, incoming: Incoming, key: str | None, first: bool) -> Reply | None:
        """The reply to send (None: nothing to send), and the inbox entry `key` finished once handled.

        When the database does not answer, a kept message stays in the inbox and is handled
        when it answers again; the user is told so once.
        """
        reply = await self._run(client, incoming)
        if key is None:
            return None if reply.duplicate else reply
        if reply.unavailable:
            return kept_reply() if first else None
        try:
            await asyncio.to_thread(inbox.finish, self.ctx.sessions, key)
        except Exception:  # it stays in the inbox; handled again, it is a duplicate and says nothing
            log.warning("inbox: could not mark %s handled", key, exc_info=True)
        return None if reply.duplicate else reply

    # --- buttons --------------------------------------------------------------------------------

    async def on_button(self, ack, body: dict, action: dict, respond, client: AsyncWebClient, context) -> None:
        """A button stands for a text command: run it as if the user had typed it."""
        await ack()
        container = body.get("container", {})
        where = container.get("message_ts") or container.get("view_id")
        user = body["user"]["id"]
        conversation = (body.get("channel") or {}).get("id") or user
        # Once per button and message: a double click does not undo twice.
        incoming = self._incoming(action["value"], user, conversation,
                                  key=f"{context.team_id}:button:{where}:{action['action_id']}:{action['value'][:60]}")
        reply = await self._run(client, incoming)
        if reply.duplicate:
            return
        metadata = {"channel": conversation, "response_url": body.get("response_url")}
        if reply.form:
            instead = await self._open_form_for(client, body["trigger_id"], reply, user, metadata)
            if instead is None:
                return
            reply = instead
        if not body.get("response_url"):  # a button in App Home: answer in the app's DM
            await self._safely(client.chat_postMessage(channel=user, **message(reply)), "chat.postMessage")
        elif reply.kind is ReplyKind.DONE:  # the message it was on is spent: show what happened in its place
            await self._post_result(client, user, metadata, reply)
        # The response_url expires after 30 minutes: then tell the presser directly, and by DM
        # in a channel tapbot is not in.
        elif (not await self._safely(respond(response_type="ephemeral", replace_original=False, **message(reply)),
                                     "response_url")
              and not await self._safely(client.chat_postEphemeral(channel=conversation, user=user,
                                                                   **message(reply)), "chat.postEphemeral")):
            await self._safely(client.chat_postMessage(channel=user, **message(reply)), "chat.postMessage")

    async def on_open_form(self, ack, body: dict, action: dict, respond, client: AsyncWebClient) -> None:
        await ack()
        form, _, activity_id = action["value"].partition(":")
        reply = Reply(form=form, activity_id=int(activity_id) if activity_id else None)
        metadata = {"channel": (body.get("channel") or {}).get("id"), "response_url": body.get("response_url")}
        instead = await self._open_form_for(client, body["trigger_id"], reply, body["user"]["id"], metadata)
        if instead is not None and body.get("response_url"):
            if instead is reply:
                instead = Reply(title=f"There is no activity #{activity_id}", kind=ReplyKind.ERROR)
            await self._safely(respond(response_type="ephemeral", replace_original=False, **message(instead)),
                               "response_url")

    async def on_pick_indicator(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        activity_id = int(action["value"])
        metadata = {"activity_id": activity_id, "channel": (body.get("channel") or {}).get("id"),
                    "response_url": body.get("response_url")}
        view = link_modal(self.ctx.plan, activity_id, metadata)
        await self._safely(client.views_open(trigger_id=body["trigger_id"], view=view), "views.open")

    async def on_indicator_options(self, ack, payload: dict) -> None:
        # An edit form offers the indicators of its activity's plan (kept in the modal's metadata).
        metadata = json.loads((payload.get("view") or {}).get("private_metadata") or "{}")
        await ack(options=indicator_choices(form_plan(self.ctx, metadata), payload.get("value", "")))

    # --- shortcuts and modals -----------------------------------------------------------------------

    async def on_log_shortcut(self, ack, shortcut: dict, client: AsyncWebClient) -> None:
        await ack()
        values, metadata = {}, {}
        if shortcut.get("type") == "message_action":  # "Log this as an activity" on a message
            text = clean_text(shortcut["message"].get("text", ""), None)
            values = await asyncio.to_thread(values_from_text, text, self.ctx.plan, self.ctx.today())
            metadata = {"channel": shortcut["channel"]["id"], "source_text": text[:2000]}
        view = log_modal(self.ctx.plan, values, metadata)
        await self._safely(client.views_open(trigger_id=shortcut["trigger_id"], view=view), "views.open")

    async def on_log_form(self, ack, body: dict, view: dict, client: AsyncWebClient, context) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        values = form_values(view) | {"source_text": metadata.get("source_text")}
        incoming = await self._named(client, self._view_incoming(body, view, metadata, context))
        result = await asyncio.to_thread(submit_log_form, incoming, values, self.ctx)
        await self._form_done(ack, client, incoming, metadata, result)

    async def on_edit_form(self, ack, body: dict, view: dict, client: AsyncWebClient, context) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        incoming = await self._named(client, self._view_incoming(body, view, metadata, context))
        result = await asyncio.to_thread(submit_edit_form, incoming, metadata["activity_id"], form_values(view),
                                         self.ctx)
        await self._form_done(ack, client, incoming, metadata, result)

    async def on_link_form(self, ack, body: dict, view: dict, client: AsyncWebClient, context) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        codes = form_values(view).get(INDICATORS) or []
        incoming = self._view_incoming(body, view, metadata, context,
                                       text=f"link {metadata['activity_id']} {' '.join(codes)}")
        reply = await self._run(client, incoming)
        if reply.kind is ReplyKind.ERROR:
            await ack(response_action="errors", errors={INDICATORS: "\n".join(reply.lines)[:150]})
            return
        await self._form_done(ack, client, incoming, metadata, reply)

    async def _form_done(self, ack, client: AsyncWebClient, incoming: Incoming, metadata: dict,
                         result: Reply | dict) -> None:
        if isinstance(result, dict):  # the form comes back with a message under each wrong field
            await ack(response_action="errors", errors=form_errors(result))
            return
        if result.kind is ReplyKind.ERROR:
            await ack(response_action="errors", errors=form_errors({"": " ".join([result.title or ""] +
                                                                                 result.lines)}))
            return
        await ack()
        if not result.duplicate:
            await self._post_result(client, incoming.user_id, metadata, result)

    async def _post_result(self, client: AsyncWebClient, user: str, metadata: dict, reply: Reply) -> None:
        """A form's result: in place of the message it was opened from, else in its conversation, else by DM."""
        if metadata.get("response_url"):  # it expires after 30 minutes: then post instead
            respond = AsyncRespond(response_url=metadata["response_url"])
            if await self._safely(respond(replace_original=True, **message(reply)), "response_url"):
                return
        channel = metadata.get("channel")
        if channel and channel != user:
            try:
                await client.chat_postMessage(channel=channel, **message(reply))
                return
            except SlackApiError as error:
                code = slack_error_code(error)
                log.warning("Slack chat.postMessage to %s failed: %s; telling the user directly", channel, code)
                reply = replace(reply, context=[*reply.context, f"I could not post this in <#{channel}> ({code}): "
                                                                "invite me there with `/invite @tapbot`."])
        await self._safely(client.chat_postMessage(channel=user, **message(reply)), "chat.postMessage")

    async def _open_form_for(self, client: AsyncWebClient, trigger_id: str, reply: Reply, user: str,
                             metadata: dict) -> Reply | None:
        """Open the modal a Reply asks for: None when it opened, else what to show instead — the
        Reply itself when there is no form to open, or what went wrong reading the activity."""
        if reply.form == "log_activity":
            view = log_modal(self.ctx.plan, metadata=metadata)
        elif reply.form == "edit_activity" and reply.activity_id:
            try:
                values = await asyncio.to_thread(activity_values, self.ctx, reply.activity_id)
            except Exception as error:  # a database that stopped answering: said so, never a 500
                return failure_reply(error, self._incoming(f"edit {reply.activity_id}", user,
                                                           metadata.get("channel") or user))
            if values is None:
                return reply
            view = log_modal(form_plan(self.ctx, values), values,
                             metadata | {"activity_id": reply.activity_id, "plan": values["plan"]},
                             activity_id=reply.activity_id)
        else:
            return reply
        return None if await self._safely(client.views_open(trigger_id=trigger_id, view=view), "views.open") else reply

    # --- App Home ----------------------------------------------------------------------------------

    async def on_home_opened(self, event: dict, client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            return
        user = event["user"]
        commands = ["list mine"] + [f"status {code}" for code in self.ctx.plan.conventions]
        replies = await asyncio.to_thread(
            lambda: [dispatch(self._incoming(c, user, user), self.ctx) for c in commands])
        await self._safely(client.views_publish(user_id=user, view=home_view(replies)), "views.publish")

    # --- common ------------------------------------------------------------------------------------

    def _incoming(self, text: str, user: str, conversation: str, key: str | None = None) -> Incoming:
        return Incoming(text=text, user_id=user, conversation_id=conversation, channel=CHANNEL,
                        event_key=f"{CHANNEL}:{key}" if key else None)

    def _view_incoming(self, body: dict, view: dict, metadata: dict, context, text: str = "") -> Incoming:
        user = body["user"]["id"]
        return self._incoming(text, user, metadata.get("channel") or user,
                              key=f"{context.team_id}:view:{view['id']}")

    async def _run(self, client: AsyncWebClient, incoming: Incoming) -> Reply:
        """The reply: at once when it needs no database, else from `_dispatch`."""
        quick = quick_reply(incoming, self.ctx)
        return quick if quick is not None else await self._dispatch(client, incoming)

    async def _dispatch(self, client: AsyncWebClient, incoming: Incoming) -> Reply:
        """Dispatch in a worker thread, with the user's display name when the command stores who did it.

        The error boundary is around all of it: reading the name from the database fails as
        a command would, with the same reply.
        """
        try:
            if not changes_data(parse_command(incoming.text)):
                return await asyncio.to_thread(dispatch, incoming, self.ctx)
            reply = await asyncio.to_thread(self._dispatch_if_named, incoming)
            if reply is None:  # the user's first message, or a name older than NAME_FRESH_FOR
                reply = await asyncio.to_thread(dispatch, await self._ask_name(client, incoming), self.ctx)
            return reply
        except Exception as error:
            return failure_reply(error, incoming)

    def _dispatch_if_named(self, incoming: Incoming) -> Reply | None:
        name = self._known_name(incoming.user_id)
        return None if name is None else dispatch(replace(incoming, user_name=name), self.ctx)

    async def _named(self, client: AsyncWebClient, incoming: Incoming) -> Incoming:
        try:
            name = await asyncio.to_thread(self._known_name, incoming.user_id)
        except Exception:  # the form's own transaction will say whether the database answers
            log.warning("Slack: the display name of %s could not be read", incoming.user_id, exc_info=True)
            return incoming
        return replace(incoming, user_name=name) if name else await self._ask_name(client, incoming)

    async def _ask_name(self, client: AsyncWebClient, incoming: Incoming) -> Incoming:
        """The Incoming with the display name from users.info, which is then kept in the database."""
        try:
            user = (await client.users_info(user=incoming.user_id))["user"]
        except SlackApiError as error:
            log.warning("Slack users.info %s failed: %s", incoming.user_id, slack_error_code(error))
            return incoming
        except Exception as error:  # network: the message goes on without the name
            log.warning("Slack users.info %s failed: %s", incoming.user_id, type(error).__name__)
            return incoming
        profile = user.get("profile", {})
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user["name"]
        try:
            await asyncio.to_thread(self._remember_name, incoming.user_id, name)
        except Exception:  # kept next time; the message itself is what matters
            log.warning("Slack: the display name of %s could not be kept", incoming.user_id, exc_info=True)
        return replace(incoming, user_name=name)

    def _known_name(self, user_id: str) -> str | None:
        return known_name(self.ctx.sessions, CHANNEL, user_id, NAME_FRESH_FOR)

    def _remember_name(self, user_id: str, name: str) -> None:
        remember_name(self.ctx.sessions, CHANNEL, user_id, name)

    @staticmethod
    async def _safely(call, what: str) -> bool:
        """Make a Slack call; a refusal or a network failure is logged, never raised into the server."""
        try:
            response = await call
            status = getattr(response, "status_code", 200)  # response_url posts answer with a status, not raise
            if status < 400:
                return True
            log.warning("Slack %s failed: HTTP %s %s", what, status, getattr(response, "body", ""))
        except SlackApiError as error:
            log.warning("Slack %s failed: %s", what, slack_error_code(error))
        except Exception:
            log.exception("Slack %s failed", what)
        return False


class InboxSweeper:
    """Handles what is left in the inbox: at start-up, then every SWEEP_EVERY seconds.

    An entry is left when a process died between acknowledging a message and handling it,
    or when the database stopped answering meanwhile. Any process may take it up once its
    lease has run out; the claim on its key makes its change happen once.
    """

    def __init__(self, listeners: SlackListeners, client: AsyncWebClient):
        self.listeners, self.client = listeners, client
        self._task: asyncio.Task | None = None

    async def start(self, _app: web.Application) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self, _app: web.Application) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self.sweep()
            await asyncio.sleep(SWEEP_EVERY)

    async def sweep(self) -> int:
        """Handle the entries that are due; how many were taken up."""
        try:
            due = await asyncio.to_thread(inbox.take_due, self.listeners.ctx.sessions, CHANNEL, INBOX_LEASE)
        except Exception as error:  # the database is down: the next sweep tries again
            log.warning("inbox: could not be read: %s", type(error).__name__)
            return 0
        for key, payload, attempt in due:
            log.info("inbox: handling %s again (attempt %d)", key, attempt)
            try:
                await self.listeners.handle_kept(self.client, key, payload, first=False)
            except Exception:
                log.exception("inbox: %s failed", key)
        return len(due)
