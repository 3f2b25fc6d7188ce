"""Nothing acknowledged is lost, nobody is impersonated, every platform contract is kept.

Through the real server on a free port (test_slack's harness), the real databases, and
a small TCP proxy between tapbot and PostgreSQL that can be stopped or made to hang.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from conftest import POSTGRES_URL, TODAY, Chat, postgres_engine
from fakes.slack_api import TOKEN, FakeSlackAPI, command_body, signed
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import func, select, update
from test_slack import (
    AMINA,
    BOB,
    CHANNEL,
    DM,
    LOG,
    SECRET,
    USERS,
    SlackWorkspace,
    activities,
    header,
    run,
    settled,
    slack_server,
    text_of,
)

from bot.slack import clean_text
from bot.slack_blocks import log_modal, message, private_metadata, table_text
from handlers.context import Context
from handlers.dispatch import dispatch
from handlers.messages import Incoming, Reply, Table
from storage import inbox
from storage.db import make_engine, make_session_factory
from storage.models import Activity, InboxEntry

# --- nothing acknowledged is lost ---------------------------------------------------------------

def test_a_replayed_signed_slash_log_stores_one_activity(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            body = command_body(LOG, slack.api.response_url())
            headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(body, SECRET)}
            answers = []
            for _ in range(3):  # the same signed request, captured and sent again within five minutes
                async with slack.http.post(slack.url, data=body.encode(), headers=headers) as response:
                    answers.append((response.status, await response.text()))
            assert [status for status, _ in answers] == [200, 200, 200]
            assert header(json.loads(answers[0][1])["blocks"]).startswith("Logged #1")
            assert all(text == "" for _, text in answers[1:])  # a replay has no effect and says nothing
            # A new request with the same text is a new message: logged again, as the user asked.
            status, again = await slack.command(LOG)
            assert status == 200 and header(again["blocks"]).startswith("Logged #2")

    run(scenario())
    assert len(activities(ctx)) == 2
    with ctx.sessions() as session:
        assert session.scalars(select(InboxEntry)).all() == []  # each handled and done


def test_a_mention_acknowledged_before_a_crash_is_handled_at_start_up_once(ctx):
    # What a process that died after acknowledging leaves behind: an entry claimed long ago.
    key = f"slack:T0TAP:{CHANNEL}:1718000000.000777"
    payload = {"kind": "message", "text": LOG.replace("e-waste", "lead paint"), "user": AMINA, "channel": CHANNEL,
               "ts": "1718000000.000777", "thread_ts": None, "channel_type": "channel"}
    assert inbox.record(ctx.sessions, key, "slack", payload)
    assert not inbox.record(ctx.sessions, key, "slack", payload)  # a second delivery is not kept twice
    with ctx.sessions() as session:
        session.execute(update(InboxEntry).values(claimed_at=datetime.now(UTC) - timedelta(minutes=5)))
        session.commit()

    async def scenario():
        async with slack_server(ctx) as slack:
            [posted] = await slack.api.wait_for("chat.postMessage")
            assert header(posted.args["blocks"]).startswith("Logged #1 · Regional workshop on lead paint")
            # Slack's retry of the same event, arriving late: acknowledged, nothing doubled, nothing posted.
            event = slack.message_event(payload["text"], ts=payload["ts"])
            assert await slack.event(event) == 200
            await settled()
            assert len(slack.api.calls_to("chat.postMessage")) == 1

    run(scenario())
    [activity] = activities(ctx)
    assert activity.user_name == "Amina Diallo"
    with ctx.sessions() as session:
        assert session.scalars(select(InboxEntry)).all() == []


def test_an_entry_is_taken_up_by_one_sweep_only_and_given_up_after_its_attempts(ctx):
    assert inbox.record(ctx.sessions, "slack:k1", "slack", {"text": "x"})
    lease = timedelta(seconds=0)
    time.sleep(0.01)
    assert [key for key, _, _ in inbox.take_due(ctx.sessions, "slack", lease)] == ["slack:k1"]
    assert inbox.take_due(ctx.sessions, "slack", timedelta(minutes=1)) == []  # just claimed: not due
    for _ in range(inbox.MAX_ATTEMPTS):
        time.sleep(0.01)
        inbox.take_due(ctx.sessions, "slack", lease)
    assert inbox.take_due(ctx.sessions, "slack", lease) == []  # left for an operator, not retried for ever
    inbox.finish(ctx.sessions, "slack:k1")
    with ctx.sessions() as session:
        assert session.scalars(select(InboxEntry)).all() == []


# --- bounded waits, a database that is down or hangs --------------------------------------------

class TcpProxy:
    """A TCP relay on a free port that can stop (refuse), hang (hold every byte) or pass."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.hanging = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.hanging.is_set():  # packets held, as a broken network holds them
                    time.sleep(0.05)
                sink.sendall(data)
        except OSError:
            pass

    def stop(self) -> None:
        """As a database server that is down: existing connections reset, new ones refused."""
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass


@pytest.fixture
def proxied_ctx(postgres_schema_url, _postgres_engine, plan):
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    engine = make_engine_via(proxy, postgres_schema_url)
    yield proxy, Context(sessions=make_session_factory(engine), plan=plan, today=lambda: TODAY)
    proxy.hanging.clear()
    engine.dispose()


def make_engine_via(proxy: TcpProxy, schema: str):
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL).set(host="127.0.0.1", port=proxy.port)
    return postgres_engine(schema, url.render_as_string(hide_password=False))


def test_a_hanging_database_is_answered_within_seconds_and_recovers_without_restart(proxied_ctx):
    proxy, ctx = proxied_ctx
    chat = Chat(ctx)
    assert chat(LOG).title.startswith("Logged #")
    proxy.hanging.set()
    started = time.monotonic()
    reply = chat("log Webinar on the PIC Circular, 4 June 2024, online, 38 participants")
    waited = time.monotonic() - started
    assert reply.unavailable and reply.title == "The database is not answering"
    assert "Nothing was changed" in reply.text and "Try again in a minute" in reply.text
    assert waited < 10
    proxy.hanging.clear()
    assert chat("log Webinar on the PIC Circular, 4 June 2024, online, 38 participants").title.startswith("Logged #")
    with ctx.sessions() as session:
        titles = session.scalars(select(Activity.title)).all()
    assert sorted(titles) == ["Regional workshop on e-waste inventories", "Webinar on the PIC Circular"]


def test_a_stopped_database_gets_a_clear_answer_in_slack_and_an_event_is_not_acknowledged(proxied_ctx):
    proxy, ctx = proxied_ctx
    proxy.stop()

    async def scenario():
        async with slack_server(ctx) as slack:
            started = time.monotonic()
            status, answer = await slack.command(LOG)
            assert status == 200 and answer["response_type"] == "ephemeral"
            assert header(answer["blocks"]) == "The database is not answering"
            assert "Nothing was changed" in text_of(answer["blocks"])
            # Not kept, so not acknowledged: Slack sends the event again later.
            assert await slack.event(slack.message_event(f"<@U0TAPBOT> {LOG}")) == 503
            assert time.monotonic() - started < 6
            # A question with the database down: the same clear answer, never a 500.
            status, answer = await slack.command("list mine")
            assert status == 200 and "The database is not answering" in text_of(answer["blocks"])

    run(scenario())


def test_tapbot_without_a_database_says_so(plan):
    # Nothing listens on this port: every connection is refused at once.
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    ctx = Context(sessions=make_session_factory(make_engine(f"postgresql://postgres@127.0.0.1:{port}/x")), plan=plan)
    reply = dispatch(Incoming(text=LOG, user_id="u", conversation_id="c", channel="console"), ctx)
    assert reply.unavailable and "Nothing was changed" in reply.lines[0]


# --- one error boundary -------------------------------------------------------------------------

def test_users_info_answering_html_500_still_logs(ctx, caplog):
    async def scenario():
        async with slack_server(ctx) as slack:
            slack.api.fail_with_html("users.info", 500, times=5)
            status, logged = await slack.command(LOG, user=BOB)
            assert status == 200 and header(logged["blocks"]).startswith("Logged #1")
            await slack.event(slack.message_event(f"<@U0TAPBOT> {LOG}", user=BOB))
            [posted] = await slack.api.wait_for("chat.postMessage")
            assert header(posted.args["blocks"]).startswith("Logged #2")

    run(scenario())
    assert len(activities(ctx)) == 2
    assert "HTTP 500" in caplog.text


def test_nul_and_control_characters_are_not_stored(chat, ctx):
    reply = chat("log Workshop\x00 on\x07 PCB\x1b[31m ESM, Accra, Ghana, 12 March 2024, 20 participants")
    assert reply.title.startswith("Logged #1")
    [activity] = activities(ctx)
    assert "\x00" not in activity.title and "\x1b" not in activity.title and "PCB" in activity.title
    assert chat("attendees 1 add Kofi\x00 Mensah; EPA\x01 Ghana; Ghana; M").title.startswith("Added 1")
    with ctx.sessions() as session:
        person = session.get(Activity, 1).attendees[0]
        assert (person.name, person.organisation) == ("Kofi Mensah", "EPA Ghana")


def test_malformed_signature_headers_are_refused_with_401(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            body = command_body("status SC2", slack.api.response_url())
            good = signed(body, SECRET)
            forged = [
                {**good, "X-Slack-Request-Timestamp": "abc"},
                {**good, "X-Slack-Request-Timestamp": "1700000000.5"},
                {**good, "X-Slack-Request-Timestamp": "-1"},
                {**good, "X-Slack-Request-Timestamp": "９９９"},  # digits, but not ASCII ones
                {**good, "X-Slack-Signature": "v0=zz"},
                {**good, "X-Slack-Signature": "v1=" + good["X-Slack-Signature"][3:]},
                {"X-Slack-Signature": good["X-Slack-Signature"]},
                {},
            ]
            for headers in forged:
                async with slack.http.post(slack.url, data=body.encode(), headers={
                        "Content-Type": "application/x-www-form-urlencoded", **headers}) as response:
                    assert response.status == 401, headers

    run(scenario())


# --- personal data, digests ---------------------------------------------------------------------

def test_attendee_names_are_shown_to_the_asker_only(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            await slack.command(LOG)
            _, added = await slack.command("attendees 1 add Kofi Mensah; EPA Ghana; Ghana; M; customs officer")
            assert added["response_type"] == "ephemeral" and "Kofi Mensah" in text_of(added["blocks"])
            _, listed = await slack.command("attendees 1")
            assert listed["response_type"] == "ephemeral" and "Kofi Mensah" in text_of(listed["blocks"])
            await slack.event(slack.message_event("<@U0TAPBOT> attendees 1", user=BOB))
            [shown] = await slack.api.wait_for("chat.postEphemeral")
            assert shown.args["user"] == BOB and "Kofi Mensah" in shown.text
            assert not [c for c in slack.api.calls_to("chat.postMessage") if "Kofi" in c.text]

    run(scenario())


def test_attendee_names_stay_out_of_a_shared_conversation_that_cannot_show_them_privately(chat):
    chat(LOG)
    listed = chat("attendees 1 add Kofi Mensah; EPA Ghana; Ghana; M")
    assert listed.personal and listed.is_private
    shared = listed.without_personal_data()
    assert shared.table is None and "personal chat" in shared.lines[-1]
    assert "Kofi" not in json.dumps([shared.title, shared.lines, [f.value for f in shared.fields]])
    assert [f.value for f in shared.fields][:1] == ["1"]  # the count stays


def test_only_the_subscriber_or_an_admin_changes_a_digest(chat):
    assert chat("digest weekly monday 09:00 Geneva").title.startswith("Weekly digest set")
    other = chat.as_user("bob")
    for attempt in ("digest daily 08:00 Geneva", "digest off"):
        refused = other(attempt)
        assert refused.title == "This digest is not yours to change" and refused.is_private
    assert "Weekly" in chat("digest list").text
    assert chat.as_user("admin")("digest off").title == "Digest stopped"
    assert other("digest daily 08:00 Geneva").title.startswith("Daily digest set")  # stopped: anyone may start it
    assert other("digest off").title == "Digest stopped"


# --- platform contracts -------------------------------------------------------------------------

def test_a_table_of_escaped_characters_fits_its_section():
    rows = [[f"R&D <{i}> & co", "a&b", "<x>"] for i in range(400)]
    text = table_text(["Name & role", "<a>", "b"], rows)
    assert len(text) <= 3000 and text.startswith("```") and text.endswith("```")
    assert "&amp;" in text and "more rows" in text


def test_private_metadata_from_a_long_non_ascii_message_is_json_within_slacks_limit(plan):
    source = "Atelier régional sur la gestion écologiquement rationnelle — « déchets » \"PCB\"\n" * 60
    encoded = private_metadata({"channel": CHANNEL, "source_text": source[:2000]})
    assert len(encoded) <= 3000
    decoded = json.loads(encoded)
    assert decoded["channel"] == CHANNEL and source.startswith(decoded["source_text"][:100])
    view = log_modal(plan, {}, {"channel": CHANNEL, "source_text": source})
    View(**view).validate_json()  # slack_sdk's own model checks every limit of the surface


def test_a_message_shortcut_prefills_without_raw_mentions():
    assert clean_text("<@W222> test", None) == "test"
    assert clean_text("<@U123|amina> ran a <!here> workshop", None) == "@amina ran a workshop"
    assert clean_text("<!subteam^S1|@trainers> workshop", None) == "@trainers workshop"


def test_every_reply_surface_passes_slack_sdks_block_models(chat, plan):
    chat(LOG)
    chat("attendees 1 add Kofi Mensah; EPA Ghana; Ghana; M")
    replies = [chat(text) for text in ("help", "status SC2", "status Ghana", "list", "show 1", "attendees 1",
                                       "plan SC2", "digest list", "log")]
    replies.append(Reply(title="t" * 400, lines=["x & <y>" * 1000], table=Table(["a&"], [["<b>" * 50]] * 500)))
    for reply in replies:
        for block in message(reply)["blocks"]:
            Block.parse(block).validate_json()


def test_a_file_shared_in_a_direct_message_is_answered(ctx):
    async def scenario():
        async with slack_server(ctx) as slack:
            files = [{"id": "F0SHEET", "name": "attendance.xlsx", "mimetype": "application/vnd.ms-excel"}]
            await slack.event(slack.message_event("", kind="message", channel=DM, subtype="file_share", files=files))
            [answer] = await slack.api.wait_for("chat.postMessage")
            assert answer.args["channel"] == DM and "I can't read files yet" in answer.text
            await slack.event(slack.message_event("status Ghana", kind="message", channel=DM, subtype="file_share",
                                                  files=files))
            answers = await slack.api.wait_for("chat.postMessage", 2)
            assert "Ghana" in answers[1].text and "I only read what you type" in answers[1].text

    run(scenario())


# --- a crash in the middle of a burst -----------------------------------------------------------

def test_kill_9_during_a_burst_loses_no_acknowledged_mention_and_doubles_none(ctx, engine, request):
    """The real `tapbot serve` in its own process, killed with SIGKILL while 30 mentions arrive."""
    from test_scheduler import ROOT, url_of

    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url_of(engine, request),
           "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET}

    async def start_server(api_url: str) -> tuple[asyncio.subprocess.Process, str]:
        with socket.create_server(("127.0.0.1", 0)) as probe:
            port = probe.getsockname()[1]
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(['serve']))",
            cwd=ROOT, env={**env, "SLACK_API_URL": api_url, "PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            return server, f"{url}/slack/events"
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        raise AssertionError("tapbot serve did not start")

    titles = [f"Training {chr(65 + i // 26)}{chr(65 + i % 26)} on chemicals" for i in range(30)]

    async def scenario():
        async with FakeSlackAPI(USERS) as api:
            server, url = await start_server(api.base_url)
            acknowledged: list[str] = []
            async with aiohttp.ClientSession() as http:
                slack = SlackWorkspace(http, url, api)

                async def mention(title: str) -> None:
                    event = slack.message_event(f"<@U0TAPBOT> log {title}, Accra, Ghana, 12 March 2024, "
                                                "20 participants")
                    try:
                        if await slack.event(event) == 200:
                            acknowledged.append(title)
                            if len(acknowledged) == 10:
                                server.kill()  # SIGKILL: no clean-up of any kind
                    except aiohttp.ClientError:
                        pass  # not acknowledged: Slack would send it again

                await asyncio.gather(*(mention(t) for t in titles))
                await server.wait()
                with ctx.sessions() as session:
                    interrupted = session.scalar(select(func.count()).select_from(InboxEntry))
                server, url = await start_server(api.base_url)  # the restart finds what was left
                try:
                    deadline = time.monotonic() + 40
                    while time.monotonic() < deadline:
                        with ctx.sessions() as session:
                            if session.scalar(select(func.count()).select_from(InboxEntry)) == 0:
                                break
                        await asyncio.sleep(0.5)
                finally:
                    server.kill()
                    await server.wait()
            return acknowledged, interrupted

    acknowledged, interrupted = run(scenario())
    assert len(acknowledged) >= 10 and interrupted > 0  # the crash did cut work off after its ack
    stored = [a.title for a in activities(ctx)]
    assert sorted(set(stored)) == sorted(stored)  # nothing doubled
    assert set(acknowledged) <= set(stored)  # nothing acknowledged lost


# --- Teams --------------------------------------------------------------------------------------

def teams_channel_message(teams, text: str) -> dict:
    """A channel message as Teams really sends it: explicit nulls included (cf. the Bot Framework
    SDKs' recorded activities), the bot @mentioned."""
    from test_teams import AMINA as TEAMS_AMINA
    from test_teams import BOT, TENANT
    from test_teams import CHANNEL as TEAMS_CHANNEL

    activity = teams.activity(f"<at>tapbot</at> {text}", conversation={**TEAMS_CHANNEL, "isGroup": True,
                                                                       "name": None})
    return activity | {
        "replyToId": None, "localTimezone": None, "localTimestamp": None, "textFormat": "plain",
        "attachments": [{"contentType": "text/html", "content": f"<p><at>tapbot</at> {text}</p>",
                         "name": None, "thumbnailUrl": None}],
        "entities": [{"type": "mention", "text": "<at>tapbot</at>", "mentioned": BOT},
                     {"type": "clientInfo", "locale": "en-GB", "country": "GB", "platform": "Web",
                      "timezone": None}],
        "from": {**TEAMS_AMINA, "role": None},
        "channelData": {"teamsChannelId": "19:tap-progress@thread.tacv2", "teamsTeamId": "19:team@thread.tacv2",
                        "channel": {"id": "19:tap-progress@thread.tacv2", "name": None},
                        "team": {"id": "19:team@thread.tacv2", "name": None}, "tenant": {"id": TENANT},
                        "eventType": None},
        "value": None, "summary": None, "speak": None, "inputHint": None, "label": None,
    }


def test_a_real_teams_channel_message_with_explicit_nulls_is_answered_and_hides_attendee_names(ctx):
    from test_teams import ANONYMOUS, teams_server, texts

    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            assert await teams.post(teams_channel_message(teams, LOG)) in (200, 202)
            assert texts(teams.connector.posts[-1].card)[0].startswith("Logged #1")
            await teams.post(teams_channel_message(teams, "attendees 1 add Kofi Mensah; EPA Ghana; Ghana; M"))
            shown = "\n".join(texts(teams.connector.posts[-1].card))
            assert "Kofi" not in shown and "personal chat" in shown
            personal = "\n".join(texts(await teams.say("attendees 1")))  # the personal chat: names shown
            assert "Kofi Mensah" in personal

    run(scenario())
    assert [a.title for a in activities(ctx)] == ["Regional workshop on e-waste inventories"]


def test_a_file_sent_in_teams_personal_chat_is_answered(ctx):
    from test_teams import ANONYMOUS, teams_server, texts

    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            attachment = {"contentType": "application/vnd.microsoft.teams.file.download.info",
                          "contentUrl": "https://contoso.sharepoint.com/attendance.xlsx", "name": "attendance.xlsx",
                          "content": {"downloadUrl": "https://download.example/x", "uniqueId": "1",
                                      "fileType": "xlsx"}}
            card = await teams.say(None, attachments=[attachment])
            assert texts(card)[0] == "I can't read files yet"

    run(scenario())


def test_teams_with_the_database_stopped_says_so_in_a_card(proxied_ctx):
    from test_teams import ANONYMOUS, teams_server, texts

    proxy, ctx = proxied_ctx
    proxy.stop()

    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            shown = texts(await teams.say(LOG))
            assert shown[0] == "The database is not answering" and "Nothing was changed" in "\n".join(shown)

    run(scenario())


def test_opening_a_slack_edit_form_with_the_database_stopped_says_so(proxied_ctx):
    from bot.slack_blocks import reply_blocks

    proxy, ctx = proxied_ctx

    async def scenario():
        async with slack_server(ctx) as slack:
            await slack.command(LOG)
            await settled()
            assert len(activities(ctx)) == 1
            # The "Edit in a form" button of an edit reply opens the form without a command first.
            posted = {"blocks": reply_blocks(Reply(title="Edit #1", form="edit_activity", activity_id=1))}
            proxy.stop()
            assert await slack.press(posted, "Edit in a form") == 200
            await settled()
            told = [c for c in slack.api.calls_to("response_url")
                    if header(c.args["blocks"]) == "The database is not answering"]
            assert len(told) == 1, [c.text for c in slack.api.posts()]
            told = told[0]
            assert "Nothing was changed" in told.text
            assert slack.api.calls_to("views.open") == []

    run(scenario())
