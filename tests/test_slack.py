"""tapbot in Slack: the real bolt app behind the real aiohttp server, driven by signed requests.

Slack's Web API and response_url are a local fake (tests/fakes/slack_api.py) that
records what reached the user; the assertions are on that, and on the database.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml
from aiohttp import web
from fakes.slack_api import BOT_USER, TEAM, TOKEN, FakeSlackAPI, block_texts, command_body, signed
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

import bot.slack
from bot.config import Settings
from bot.delivery import DeliveryError
from bot.server import build_web_app
from bot.slack import mount_slack, post_reply
from handlers.context import Context
from handlers.messages import Reply
from handlers.status import TRUST_VERSION_FOR
from storage.db import make_session_factory
from storage.models import Activity, IndicatorLink, ProcessedEvent, UserName

SECRET = "8f2c1d9e7b6a5f4e3d2c1b0a9f8e7d6c"
AMINA, BOB = "U0AMINA", "U0BOB"
USERS = {AMINA: "Amina Diallo", BOB: "Bob Martin"}
CHANNEL, DM = "C0TAP", "D0AMINA"
LOG = ("log Regional workshop on e-waste inventories, Accra, Ghana, 12-14 March 2024, "
       "35 participants (14 women) from Ghana, Togo and Benin")
LOG_WITH_CODE = "log Webinar on the PIC Circular for DNAs, 4 June 2024, online, 38 participants (20 women) RC2.I4"


def run(scenario):
    return asyncio.run(scenario)


def settings(api: FakeSlackAPI) -> Settings:
    return Settings(slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=api.base_url)


class SlackWorkspace:
    """Slack as the app sees it: signed requests to /slack/events, and the fake Web API it answers through."""

    def __init__(self, http: aiohttp.ClientSession, url: str, api: FakeSlackAPI):
        self.http, self.url, self.api = http, url, api
        self._ts = 0

    async def post(self, body: str, content_type: str, headers: dict | None = None) -> tuple[int, str]:
        headers = {"Content-Type": content_type, **signed(body, SECRET), **(headers or {})}
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def command(self, text: str, user: str = AMINA, channel: str = CHANNEL) -> tuple[int, dict | None]:
        status, body = await self.post(command_body(text, self.api.response_url(), user, channel),
                                       "application/x-www-form-urlencoded")
        return status, json.loads(body) if body else None

    async def event(self, event: dict, headers: dict | None = None) -> int:
        body = json.dumps({
            "token": "legacy-unused", "team_id": TEAM, "api_app_id": "A0TAP", "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        })
        status, _ = await self.post(body, "application/json", headers)
        return status

    def message_event(self, text: str, kind: str = "app_mention", channel: str = CHANNEL, user: str = AMINA,
                      ts: str | None = None, **extra) -> dict:
        if ts is None:
            self._ts += 1
            ts = f"1718000000.{self._ts:06d}"
        event = {"type": kind, "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts, **extra}
        if kind == "message":
            event.setdefault("channel_type", "im" if channel.startswith("D") else "channel")
        return event

    async def interact(self, payload: dict) -> tuple[int, str]:
        payload = {"team": {"id": TEAM, "domain": "tap"}, "api_app_id": "A0TAP", "token": "legacy-unused",
                   "trigger_id": f"{uuid.uuid4().int % 10**13}.trigger", **payload}
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def press(self, posted: dict, label: str, user: str = AMINA, channel: str = CHANNEL,
                    message_ts: str = "1718000000.999999") -> int:
        """Press the button labelled `label` on a message the app posted (its blocks as they reached Slack)."""
        element = buttons(posted["blocks"])[label]
        status, _ = await self.interact({
            "type": "block_actions", "user": {"id": user}, "channel": {"id": channel},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "message": {"ts": message_ts, "blocks": posted["blocks"]}, "response_url": self.api.response_url(),
            "actions": [{"type": "button", "action_id": element["action_id"], "block_id": "b",
                         "value": element["value"], "action_ts": str(time.time())}],
        })
        return status

    async def submit(self, view: dict, values: dict, user: str = AMINA, view_id: str | None = None) -> tuple[int, dict]:
        """Submit a modal the app opened, with these field values."""
        submitted = {**view, "id": view_id or view.get("id") or f"V{uuid.uuid4().hex[:8]}",
                     "state": {"values": view_state(view, values)}}
        status, body = await self.interact({"type": "view_submission", "user": {"id": user}, "view": submitted})
        return status, json.loads(body) if body else {}


async def settled() -> None:
    """Wait until every listener bolt left running after its ack has finished, so that a test can
    assert that nothing more was posted (a duplicate posts nothing, so there is nothing to wait for)."""
    while pending := [t for t in asyncio.all_tasks() if not t.done()
                      and t.get_coro().__name__ == "run_ack_function_asynchronously"]:
        await asyncio.wait(pending)


def view_state(view: dict, values: dict) -> dict:
    """Slack's view.state.values for a modal, each input given as a user would fill it."""
    state = {}
    for block in view["blocks"]:
        if block["type"] != "input" or block["block_id"] not in values:
            continue
        element, value = block["element"], values[block["block_id"]]
        kind = element["type"]
        if kind in ("plain_text_input", "number_input"):
            entry = {"value": None if value is None else str(value)}
        elif kind == "datepicker":
            entry = {"selected_date": value}
        elif kind == "static_select":
            entry = {"selected_option": {"value": value} if value else None}
        else:
            entry = {"selected_options": [{"value": v} for v in value]}
        state[block["block_id"]] = {element["action_id"]: {"type": kind, **entry}}
    return state


def buttons(blocks) -> dict[str, dict]:
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return {e["text"]["text"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def header(blocks) -> str:
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return next(b["text"]["text"] for b in blocks if b["type"] == "header")


def text_of(blocks) -> str:
    return "\n".join(block_texts(blocks))


@asynccontextmanager
async def slack_server(ctx, api: FakeSlackAPI | None = None):
    """tapbot's web server (the one `tapbot serve` runs) on a free port, talking to a fake Slack."""
    async with (FakeSlackAPI(USERS) if api is None else _same(api)) as api:
        runner = web.AppRunner(build_web_app(settings(api), ctx), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            async with aiohttp.ClientSession() as http:
                yield SlackWorkspace(http, f"http://127.0.0.1:{port}/slack/events", api)
        finally:
            await runner.cleanup()


@asynccontextmanager
async def _same(api):
    yield api


def activities(ctx) -> list[Activity]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Activity).order_by(Activity.id).options(selectinload(Activity.links))))


# --- slash command ----------------------------------------------------------------------------------

def test_slash_status_answers_in_the_ack_for_the_channel(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            status, logged = await slack.command("log Training on POPs inventories, Nairobi, Kenya, 3 May 2024, "
                                                 "20 participants (9 women) SC2.I5")
            assert status == 200 and header(logged["blocks"]).startswith("Logged #1")
            status, answer = await slack.command("status SC2")
            assert status == 200
            assert answer["response_type"] == "in_channel"
            assert header(answer["blocks"]).startswith("SC2 · ")
            table = next(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"
                         and b.get("text", {}).get("text", "").startswith("```"))
            assert "SC2.I5" in table and "Indicator" in table
            assert "SC2" in answer["text"]  # the plain-text fallback for notifications
            assert slack.api.posts() == []  # the answer was in the ack: nothing else was sent
            assert len(slack.api.calls_to("users.info")) == 1  # the name is then read from the database

    run(scenario())
    with ctx.sessions() as session:
        assert session.get(UserName, ("slack", AMINA)).display_name == "Amina Diallo"
    assert activities(ctx)[0].user_name == "Amina Diallo"


def test_slash_log_is_confirmed_in_the_channel_with_indicator_edit_and_undo_buttons(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            status, logged = await slack.command(LOG)
            assert status == 200 and logged["response_type"] == "in_channel"
            assert header(logged["blocks"]).startswith("Logged #1 · Regional workshop on e-waste inventories")
            shown = text_of(logged["blocks"])
            assert "*Participants*\n35 (14 women, 40%)" in shown and "Ghana" in shown
            labels = list(buttons(logged["blocks"]))
            assert labels[-3:] == ["Another indicator…", "Edit", "Undo"] or labels[-2:] == ["Edit", "Undo"]
            assert buttons(logged["blocks"])["Undo"]["value"] == "undo 1"
            assert buttons(logged["blocks"])["Undo"]["style"] == "danger"

    run(scenario())
    [activity] = activities(ctx)
    assert ((activity.participants, activity.women, activity.channel, activity.conversation_id)
            == (35, 14, "slack", CHANNEL))


def test_help_and_errors_are_shown_to_the_asker_only(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            _, helped = await slack.command("help")
            assert helped["response_type"] == "ephemeral" and header(helped["blocks"]) == "tapbot · help"
            _, wrong = await slack.command("show")
            assert wrong["response_type"] == "ephemeral"
            assert "needs the number of an activity" in text_of(wrong["blocks"])
            _, bad = await slack.command("log workshop in Accra, 31 February 2024, 20 participants")
            assert bad["response_type"] == "ephemeral" and header(bad["blocks"]).startswith("Not logged")

    run(scenario())
    assert activities(ctx) == []


def test_a_slow_answer_comes_after_the_ack_through_the_response_url(ctx, monkeypatch):
    monkeypatch.setattr(bot.slack, "ANSWER_IN_ACK_WITHIN", 0.0)  # as if the database were slow

    async def scenario():
        async with slack_server(ctx) as slack:
            started = time.perf_counter()
            status, acked = await slack.command("status Ghana")
            assert status == 200 and acked is None and time.perf_counter() - started < 3
            [answer] = await slack.api.wait_for("response_url")
            assert answer.args["response_type"] == "in_channel"
            assert header(answer.args["blocks"]) == "Ghana · what it took part in"

    run(scenario())


def test_log_without_text_opens_the_form(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            status, acked = await slack.command("log")
            assert status == 200 and acked is None
            [opened] = await slack.api.wait_for("views.open")
            view = opened.args["view"]
            assert view["callback_id"] == "tap_log_form"
            assert [b["block_id"] for b in view["blocks"]] == [
                "title", "kind", "start_date", "end_date", "countries", "participants", "women", "men", "products",
                "organiser", "modality", "indicators"]
            assert json.loads(view["private_metadata"])["channel"] == CHANNEL

    run(scenario())


# --- mentions and direct messages -----------------------------------------------------------------------

def test_a_mention_logs_in_the_channel_and_errors_go_to_the_asker_only(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            assert await slack.event(slack.message_event(f"<@{BOT_USER}> {LOG_WITH_CODE}")) == 200
            [posted] = await slack.api.wait_for("chat.postMessage")
            assert posted.args["channel"] == CHANNEL
            assert header(posted.args["blocks"]).startswith("Logged #1 · Webinar on the PIC Circular")
            assert "RC2.I4" in text_of(posted.args["blocks"])
            await slack.event(slack.message_event(f"<@{BOT_USER}> show", user=BOB))
            [private] = await slack.api.wait_for("chat.postEphemeral")
            assert private.args["user"] == BOB and "needs the number of an activity" in private.text

    run(scenario())
    [activity] = activities(ctx)
    assert activity.user_id == AMINA and activity.user_name == "Amina Diallo"


def test_a_direct_message_is_answered_in_the_dm_and_channel_chatter_is_ignored(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            await slack.event(slack.message_event("status SC2", kind="message", channel=DM))
            [answer] = await slack.api.wait_for("chat.postMessage")
            assert answer.args["channel"] == DM and header(answer.args["blocks"]).startswith("SC2 · ")
            # A channel message without a mention, an edit and a bot's message are not commands.
            await slack.event(slack.message_event("status SC2", kind="message", channel=CHANNEL))
            await slack.event(slack.message_event("status SC1", kind="message", channel=DM, subtype="message_changed"))
            await slack.event(slack.message_event("status SC1", kind="message", channel=DM, bot_id="B0OTHER"))
            await slack.event(slack.message_event("help", kind="message", channel=DM))
            await slack.api.wait_for("chat.postMessage", 2)
            assert [header(c.args["blocks"]) for c in slack.api.posts()][1] == "tapbot · help"
            assert len(slack.api.posts()) == 2

    run(scenario())


def test_a_retry_and_the_same_message_as_mention_and_dm_make_one_activity(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            first = slack.message_event(f"<@{BOT_USER}> {LOG}", kind="message", channel=DM)
            assert await slack.event(first) == 200
            await slack.api.wait_for("chat.postMessage")
            as_mention = {**first, "type": "app_mention"}
            del as_mention["channel_type"]
            assert await slack.event(as_mention) == 200
            retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            assert await slack.event(first, headers=retry) == 200
            await settled()
            logged = [c for c in slack.api.posts() if header(c.args["blocks"]).startswith("Logged")]
            assert len(logged) == 1

    run(scenario())
    assert len(activities(ctx)) == 1


def test_a_question_with_a_mention_in_a_direct_message_is_answered_once(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            dm = slack.message_event(f"<@{BOT_USER}> status SC2", kind="message", channel=DM)
            assert await slack.event(dm) == 200
            as_mention = {**dm, "type": "app_mention"}
            del as_mention["channel_type"]
            assert await slack.event(as_mention) == 200
            await slack.api.wait_for("chat.postMessage")
            await settled()
            assert [header(c.args["blocks"])[:6] for c in slack.api.posts()] == ["SC2 · "]

    run(scenario())


# --- buttons ----------------------------------------------------------------------------------------------

def test_an_indicator_button_links_in_place_and_undo_removes_the_activity(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            await slack.event(slack.message_event(f"<@{BOT_USER}> {LOG}"))
            [posted] = await slack.api.wait_for("chat.postMessage")
            choice = next(label for label, e in buttons(posted.args["blocks"]).items()
                          if e["value"].startswith("link 1 "))
            code = buttons(posted.args["blocks"])[choice]["value"].split()[-1]
            assert await slack.press(posted.args, choice) == 200
            [linked] = await slack.api.wait_for("response_url")
            assert linked.args["replace_original"] is True
            assert header(linked.args["blocks"]) == f"Linked #1 → {code}"
            # Undo on the original message; a double click undoes once.
            await slack.press(posted.args, "Undo", message_ts="1718000000.000001")
            await slack.press(posted.args, "Undo", message_ts="1718000000.000001")
            await slack.api.wait_for("response_url", 2)
            await settled()
            replies = [header(c.args["blocks"]) for c in slack.api.calls_to("response_url")]
            assert replies == [f"Linked #1 → {code}", "Undone: linking #1 · Regional workshop on e-waste inventories"]
            await slack.press(posted.args, "Undo", message_ts="1718000000.000002")
            await slack.api.wait_for("response_url", 3)
            assert header(slack.api.calls_to("response_url")[-1].args["blocks"]).startswith("Undone: logging #1")
            return code

    code = run(scenario())
    [activity] = activities(ctx)
    assert activity.deleted_at is not None
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IndicatorLink).where(
            IndicatorLink.indicator_code == code)) == 0


def test_someone_else_pressing_undo_is_told_privately(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            _, logged = await slack.command(LOG_WITH_CODE)
            await slack.press(logged, "Undo", user=BOB)
            [refused] = await slack.api.wait_for("response_url")
            assert refused.args["response_type"] == "ephemeral" and refused.args["replace_original"] is False
            assert "You have no change to #1 to undo." in refused.text  # undo is of one's own changes

    run(scenario())
    assert activities(ctx)[0].deleted_at is None


def test_buttons_on_a_message_older_than_its_response_url_still_answer(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            _, logged = await slack.command(LOG_WITH_CODE)
            slack.api.fail("response_url", "expired_url", times=2)  # Slack's lapse after 30 minutes
            await slack.press(logged, "Undo", user=BOB)
            [refused] = await slack.api.wait_for("chat.postEphemeral")
            assert refused.args["user"] == BOB and refused.args["channel"] == CHANNEL
            assert "You have no change to #1 to undo." in refused.text
            slack.api.fail("response_url", "expired_url")
            slack.api.fail("chat.postEphemeral", "channel_not_found")  # a channel tapbot was never invited to
            await slack.press(logged, "Undo", user=BOB)
            [by_dm] = await slack.api.wait_for("chat.postMessage")
            assert by_dm.args["channel"] == BOB and "You have no change to #1 to undo." in by_dm.text
            await slack.press(logged, "Undo")
            undone = (await slack.api.wait_for("chat.postMessage", 2))[-1]
            assert undone.args["channel"] == CHANNEL and "#1" in undone.text

    run(scenario())
    assert activities(ctx)[0].deleted_at is not None


def test_the_edit_button_opens_the_activity_in_a_form_and_saving_changes_it(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            _, logged = await slack.command(LOG_WITH_CODE)
            await slack.press(logged, "Edit")
            [opened] = await slack.api.wait_for("views.open")
            view = opened.args["view"]
            assert view["callback_id"] == "tap_edit_form"
            initial = {b["block_id"]: b["element"] for b in view["blocks"]}
            assert initial["title"]["initial_value"] == "Webinar on the PIC Circular for DNAs"
            assert initial["participants"]["initial_value"] == "38"
            assert [o["value"] for o in initial["indicators"]["initial_options"]] == ["RC2.I4"]
            values = {"title": "Webinar on the PIC Circular for DNAs", "kind": "webinar", "start_date": "2024-06-04",
                      "end_date": "2024-06-04", "countries": ["GH"], "participants": "40", "women": "22",
                      "modality": "online", "indicators": ["RC2.I4", "RC2.I3"]}
            status, body = await slack.submit(view, values)
            assert status == 200 and body == {}
            [changed] = await slack.api.wait_for("response_url")
            assert changed.args["replace_original"] is True
            assert header(changed.args["blocks"]).startswith("Changed #1")
            assert "participants" in changed.text and "RC2.I3" in changed.text

    run(scenario())
    [activity] = activities(ctx)
    assert (activity.participants, activity.women) == (40, 22)
    assert {link.indicator_code for link in activity.links} == {"RC2.I4", "RC2.I3"}


# --- shortcuts, modals, options -----------------------------------------------------------------------------

def test_the_log_form_shows_errors_by_field_then_logs_in_the_channel(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            await slack.interact({"type": "message_action", "callback_id": "tap_log_message",
                                  "user": {"id": AMINA}, "channel": {"id": CHANNEL},
                                  "message": {"ts": "1718000000.000100", "text": LOG},
                                  "response_url": slack.api.response_url()})
            [opened] = await slack.api.wait_for("views.open")
            view = opened.args["view"]
            initial = {b["block_id"]: b["element"] for b in view["blocks"]}
            assert initial["title"]["initial_value"].startswith("Regional workshop on e-waste inventories")
            assert initial["participants"]["initial_value"] == "35"
            assert initial["start_date"]["initial_date"] == "2024-03-12"
            assert [o["value"] for o in initial["countries"]["initial_options"]] == ["GH", "TG", "BJ"]
            wrong = {"title": "Regional workshop on e-waste inventories", "kind": "workshop",
                     "start_date": "2024-03-14", "end_date": "2024-03-12", "countries": ["GH"],
                     "participants": "35", "women": "50", "modality": "in_person", "indicators": ["BC2.I1"]}
            status, refused = await slack.submit(view, wrong, view_id="V0LOGFORM")
            assert status == 200 and refused["response_action"] == "errors"
            assert set(refused["errors"]) == {"end_date", "women"}
            assert "before the start" in refused["errors"]["end_date"]
            assert activities(ctx) == []
            status, done = await slack.submit(view, wrong | {"start_date": "2024-03-12", "end_date": "2024-03-14",
                                                             "women": "14"}, view_id="V0LOGFORM")
            assert status == 200 and done == {}
            [posted] = await slack.api.wait_for("chat.postMessage")
            assert posted.args["channel"] == CHANNEL
            assert header(posted.args["blocks"]) == "Logged #1 · Regional workshop on e-waste inventories"
            # The same submission again (a second process, a retry) stores nothing more.
            await slack.submit(view, wrong | {"start_date": "2024-03-12", "end_date": "2024-03-14", "women": "14"},
                               view_id="V0LOGFORM")

    run(scenario())
    [activity] = activities(ctx)
    assert (activity.participants, activity.women, activity.raw_text) == (35, 14, LOG)
    assert [(link.indicator_code, link.method) for link in activity.links] == [("BC2.I1", "explicit")]


def test_the_forms_take_men_products_and_organiser_with_errors_on_the_form(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            await slack.command("log")
            [opened] = await slack.api.wait_for("views.open")
            view = opened.args["view"]
            typed = {"title": "Regional workshop on BAT/BEP", "kind": "workshop", "start_date": "2024-05-12",
                     "countries": ["SN"], "participants": "30", "women": "12", "men": "20",
                     "products": "some", "organiser": "BCRC-Senegal", "indicators": ["SC2.I4"]}
            status, refused = await slack.submit(view, typed, view_id="V0FORM")
            assert status == 200 and refused["response_action"] == "errors"
            assert set(refused["errors"]) == {"men", "products"}
            assert "12 women and 20 men are more than the 30 participants" in refused["errors"]["men"]
            assert activities(ctx) == []
            status, done = await slack.submit(view, typed | {"men": "18", "products": "2 case studies"},
                                              view_id="V0FORM")
            assert status == 200 and done == {}
            [logged] = await slack.api.wait_for("chat.postMessage")
            assert "2 case studies" in logged.text and "BCRC-Senegal" in logged.text
            await slack.press(logged.args, "Edit")
            [_, edit] = await slack.api.wait_for("views.open", 2)
            initial = {b["block_id"]: b["element"] for b in edit.args["view"]["blocks"]}
            assert initial["men"]["initial_value"] == "18"
            assert initial["products"]["initial_value"] == "2 case studies"
            assert initial["organiser"]["initial_value"] == "BCRC-Senegal"
            status, body = await slack.submit(edit.args["view"], typed | {"men": "18", "products": "3 case studies"})
            assert status == 200 and body == {}
            [changed] = await slack.api.wait_for("response_url")
            assert header(changed.args["blocks"]).startswith("Changed #1") and "products" in changed.text

    run(scenario())
    [activity] = activities(ctx)
    assert (activity.men, activity.women, activity.products, activity.product_kind) == (18, 12, 3, "case_study")
    assert activity.organiser == "BCRC-Senegal" and activity.centre is not None


def test_the_global_shortcut_opens_an_empty_form_and_its_result_comes_by_dm(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            await slack.interact({"type": "shortcut", "callback_id": "tap_log_activity", "user": {"id": AMINA}})
            [opened] = await slack.api.wait_for("views.open")
            view = opened.args["view"]
            assert all("initial_value" not in b["element"] for b in view["blocks"])
            status, body = await slack.submit(view, {"title": "Pilot project on PCB phase-out in Senegal",
                                                     "countries": ["SN"], "start_date": "2024-02-01"})
            assert status == 200 and body == {}
            [posted] = await slack.api.wait_for("chat.postMessage")
            assert posted.args["channel"] == AMINA  # no conversation to go back to: the app's DM
            assert header(posted.args["blocks"]).startswith("Logged #1 · Pilot project on PCB phase-out")

    run(scenario())
    assert activities(ctx)[0].kind == "pilot_project"  # read from the title, as in a typed log


def test_the_indicator_picker_offers_the_matchers_ranking(ctx, plan):
    async def scenario():
        async with slack_server(ctx) as slack:
            status, body = await slack.interact({"type": "block_suggestion", "user": {"id": AMINA},
                                                 "action_id": "indicators", "block_id": "indicators",
                                                 "value": "customs officers trained",
                                                 "view": {"id": "V1", "callback_id": "tap_log_form"}})
            assert status == 200
            options = json.loads(body)["options"]
            from handlers.matcher import match_indicators
            best = match_indicators("customs officers trained", plan, 1)[0].code
            assert options[0]["value"] == best and options[0]["text"]["text"].startswith(f"{best} · ")
            assert all(len(o["text"]["text"]) <= 75 for o in options)
            _, body = await slack.interact({"type": "block_suggestion", "user": {"id": AMINA},
                                            "action_id": "indicators", "block_id": "indicators", "value": "sc2.i",
                                            "view": {"id": "V1", "callback_id": "tap_log_form"}})
            assert [o["value"] for o in json.loads(body)["options"]][:3] == ["SC2.I1", "SC2.I2", "SC2.I3"]

    run(scenario())


def test_another_indicator_opens_a_picker_and_links_the_choice(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            _, logged = await slack.command(LOG)
            if "Another indicator…" not in buttons(logged["blocks"]):
                pytest.skip("this log was linked without asking")
            await slack.press(logged, "Another indicator…")
            [opened] = await slack.api.wait_for("views.open")
            status, body = await slack.submit(opened.args["view"], {"indicators": ["CC1.I3"]})
            assert status == 200 and body == {}
            [linked] = await slack.api.wait_for("response_url")
            assert header(linked.args["blocks"]) == "Linked #1 → CC1.I3"

    run(scenario())
    assert [link.indicator_code for link in activities(ctx)[0].links] == ["CC1.I3"]


def test_app_home_shows_my_activities_and_each_outcome(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            await slack.command(LOG_WITH_CODE)
            await slack.event({"type": "app_home_opened", "user": AMINA, "channel": DM, "tab": "home",
                               "event_ts": "1718000000.000500"})
            [published] = await slack.api.wait_for("views.publish")
            assert published.args["user_id"] == AMINA
            view = published.args["view"]
            assert view["type"] == "home"
            headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
            assert headers == ["Your recent activities", "BC · Basel Convention", "RC · Rotterdam Convention",
                               "SC · Stockholm Convention", "CC · Cross-cutting areas"]
            shown = text_of(view["blocks"])
            assert "Webinar on the PIC Circular" in shown and "RC2" in shown and "BC1" in shown
            assert "Log an activity" in buttons(view["blocks"])

    run(scenario())


# --- verification -----------------------------------------------------------------------------------------

def test_url_verification_answers_the_challenge(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            body = json.dumps({"token": "legacy-unused",
                               "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                               "type": "url_verification"})
            status, text = await slack.post(body, "application/json")
            assert status == 200 and json.loads(text)["challenge"].startswith("3eZbrw1a")

    run(scenario())


def test_unsigned_forged_and_stale_requests_are_refused(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            body = command_body(LOG, slack.api.response_url())
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            attempts = {
                "unsigned": form,
                "wrong secret": {**form, **signed(body, "not-the-secret")},
                "stale": {**form, **signed(body, SECRET, timestamp=int(time.time()) - 301)},
                "from the future": {**form, **signed(body, SECRET, timestamp=int(time.time()) + 360)},
                "body changed after signing": {**form, **signed(body.replace("35", "350"), SECRET)},
            }
            for name, headers in attempts.items():
                async with slack.http.post(slack.url, data=body.encode(), headers=headers) as response:
                    assert response.status == 401, name
            assert slack.api.calls == []

    run(scenario())
    assert activities(ctx) == []


# --- Slack API failures ---------------------------------------------------------------------------------------

def test_slack_api_errors_are_logged_the_activity_is_kept_and_the_server_goes_on(ctx, caplog):
    caplog.set_level(logging.WARNING, logger="bot.slack")

    async def scenario():
        async with slack_server(ctx) as slack:
            slack.api.fail("chat.postMessage", "channel_not_found")
            await slack.event(slack.message_event(f"<@{BOT_USER}> {LOG_WITH_CODE}"))
            await slack.api.wait_for("chat.postMessage")
            slack.api.fail("chat.postMessage", "ratelimited")  # 429 once: retried after Retry-After
            await slack.event(slack.message_event(f"<@{BOT_USER}> status RC2"))
            await slack.api.wait_for("chat.postMessage", 3)
            answered = slack.api.calls_to("chat.postMessage")[-1]
            assert header(answered.args["blocks"]).startswith("RC2 · ")
            status, answer = await slack.command("status RC2.I4")
            assert status == 200 and "RC2.I4" in header(answer["blocks"])

    run(scenario())
    assert "chat.postMessage failed: channel_not_found" in caplog.text
    assert len(activities(ctx)) == 1


def test_a_form_result_that_cannot_go_to_its_channel_comes_by_dm(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            _, _ = await slack.command("log")
            [opened] = await slack.api.wait_for("views.open")
            slack.api.fail("chat.postMessage", "not_in_channel")
            await slack.submit(opened.args["view"], {"title": "Webinar on BAT/BEP", "start_date": "2024-05-02"})
            posts = await slack.api.wait_for("chat.postMessage", 2)
            assert [p.args["channel"] for p in posts] == [CHANNEL, AMINA]
            assert "invite me there" in posts[1].text

    run(scenario())
    assert len(activities(ctx)) == 1


def test_post_reply_delivers_or_says_whether_to_retry():
    async def scenario():
        async with FakeSlackAPI() as api:
            await post_reply(settings(api), CHANNEL, Reply(title="Weekly digest", lines=["3 activities logged"]))
            [posted] = api.calls_to("chat.postMessage")
            assert posted.args["channel"] == CHANNEL and header(posted.args["blocks"]) == "Weekly digest"
            assert "3 activities logged" in posted.args["text"]
            for error, permanent in (("channel_not_found", True), ("not_in_channel", True), ("is_archived", True),
                                     ("account_inactive", True), ("ratelimited", False), ("fatal_error", False)):
                api.fail("chat.postMessage", error, times=2)
                with pytest.raises(DeliveryError) as raised:
                    await post_reply(settings(api), CHANNEL, Reply(title="Weekly digest"))
                assert raised.value.permanent is permanent, error
                api._failures.clear()

    run(scenario())


# --- two processes -----------------------------------------------------------------------------------------

def test_a_button_rendered_by_one_process_works_on_another(ctx):
    async def scenario():
        async with FakeSlackAPI(USERS) as api, slack_server(ctx, api) as first, slack_server(ctx, api) as second:
            _, logged = await first.command(LOG)
            choice = next(label for label, e in buttons(logged["blocks"]).items()
                          if e["value"].startswith("link 1 "))
            await second.press(logged, choice)
            [linked] = await api.wait_for("response_url")
            assert header(linked.args["blocks"]).startswith("Linked #1 → ")
            await first.press(logged, "Undo", message_ts="1718000000.000777")
            await second.press(logged, "Undo", message_ts="1718000000.000777")  # the same press, twice
            await api.wait_for("response_url", 2)
            await settled()
            assert len(api.calls_to("response_url")) == 2

    run(scenario())
    [activity] = activities(ctx)
    assert activity.links == [] and activity.deleted_at is None  # one undo (of the link), not two


# --- questions answered from memory ---------------------------------------------------------------------

SC2_LOG = "log Training on POPs inventories, Nairobi, Kenya, 3 May 2024, 20 participants (9 women) SC2.I5"


def activities_shown(answer: dict) -> str:
    return next(f["text"] for b in answer["blocks"] for f in b.get("fields", [])
                if f["text"].startswith("*Activities*")).split("\n")[1]


def test_a_status_answered_from_memory_shows_a_change_made_here_at_once(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            for _ in range(2):  # the second answer comes from memory
                _, answer = await slack.command("status SC2")
                assert activities_shown(answer) == "0"
            await slack.command(SC2_LOG)
            _, answer = await slack.command("status SC2")
            assert activities_shown(answer) == "1"
            await slack.command("undo")
            _, answer = await slack.command("status SC2")
            assert activities_shown(answer) == "0"

    run(scenario())


def test_a_change_made_by_another_process_shows_within_a_second(ctx):
    other = Context(sessions=make_session_factory(ctx.engine), plan=ctx.plan, today=ctx.today)  # its own memory

    async def scenario():
        async with FakeSlackAPI(USERS) as api, slack_server(ctx, api) as here, slack_server(other, api) as there:
            for _ in range(2):
                _, answer = await here.command("status SC2")
                assert activities_shown(answer) == "0"
            await there.command(SC2_LOG)
            changed_at = time.monotonic()
            while activities_shown((await here.command("status SC2"))[1]) != "1":
                assert time.monotonic() - changed_at < TRUST_VERSION_FOR + 5, "the change never showed"
                await asyncio.sleep(0.05)

    run(scenario())


def test_a_question_needs_no_name_and_stores_nothing(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            _, answer = await slack.command("status SC2", user=BOB)
            assert header(answer["blocks"]).startswith("SC2 · ")
            await slack.event(slack.message_event("list", kind="message", channel="D0BOB", user=BOB))
            await slack.api.wait_for("chat.postMessage")
            assert slack.api.calls_to("users.info") == []

    run(scenario())
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0
        assert session.scalar(select(func.count()).select_from(UserName)) == 0


# --- configuration --------------------------------------------------------------------------------------------

def test_slack_is_off_until_configured_and_never_without_a_signing_secret(ctx):
    app = web.Application()
    assert mount_slack(app, Settings(), ctx) == "SLACK_BOT_TOKEN is not set"
    assert "SLACK_SIGNING_SECRET" in mount_slack(app, Settings(slack_bot_token=TOKEN), ctx)
    assert not any(r.resource.canonical == "/slack/events" for r in app.router.routes())


def test_the_manifest_asks_for_what_the_app_listens_to():
    manifest = yaml.safe_load((Path(__file__).resolve().parents[1] / "slack" / "manifest.yaml").read_text())
    features, settings_ = manifest["features"], manifest["settings"]
    [command] = features["slash_commands"]
    assert command["command"] == bot.slack.SLASH_COMMAND
    assert {(s["callback_id"], s["type"]) for s in features["shortcuts"]} == {
        (bot.slack.LOG_SHORTCUT, "global"), (bot.slack.LOG_MESSAGE_SHORTCUT, "message")}
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert set(settings_["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im", "app_home_opened"}
    assert settings_["interactivity"]["is_enabled"]
    urls = [command["url"], settings_["event_subscriptions"]["request_url"],
            settings_["interactivity"]["request_url"], settings_["interactivity"]["message_menu_options_url"]]
    assert all(url.endswith("/slack/events") for url in urls)  # bolt takes everything at one URL
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read", "chat:write", "commands", "im:history", "users:read"}


def test_long_replies_fit_slacks_limits():
    from bot.slack_blocks import message
    from handlers.messages import Action, Field, Table

    reply = Reply(title="x" * 300, lines=["a & b <c>"] + ["line " * 100] * 80,
                  fields=[Field(f"f{i}", "v" * 3000) for i in range(23)],
                  table=Table(["a", "b"], [["1" * 80, "2"]] * 500),
                  actions=[Action(f"b{i}", "help") for i in range(30)],
                  context=["c"] * 12)
    shown = message(reply)
    blocks = shown["blocks"]
    assert len(blocks) <= 50 and len(shown["text"]) <= 3000
    assert len(blocks[0]["text"]["text"]) <= 150
    assert blocks[1]["text"]["text"].startswith("a &amp; b &lt;c&gt;")
    for block in blocks:
        assert len(block.get("text", {}).get("text", "")) <= 3000
        assert len(block.get("fields", [])) <= 10 and len(block.get("elements", [])) <= 25
