"""Teams through the real Microsoft 365 Agents SDK, behind the real aiohttp server on a free port.

Activities are the JSON Teams posts; replies are read where Teams would receive
them, at the fake Bot Connector on the activity's serviceUrl. Microsoft's
identity platform is never reached: signing keys come from the fake, and the
token authority is a closed local port, or a local fake served over TLS.
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from fakes.bot_connector import FakeAuthority, FakeBotConnector
from sqlalchemy import select

from bot.config import Settings
from bot.delivery import DeliveryError
from bot.teams import Microsoft, _Msal, auth_configuration, mount_teams, send_proactive
from bot.teams_cards import LOG_FORM, form_card, markdown, reply_card
from handlers.examples import plan_examples
from handlers.messages import Action, Reply
from storage.models import Activity, ConversationRef

APP_ID = "00000000-0000-0000-0000-0000000000a1"
TENANT = "00000000-0000-0000-0000-0000000000c1"
BOT = {"id": "28:tapbot-bot-id", "name": "tapbot"}
AMINA = {"id": "29:amina-teams-id", "name": "Amina Diallo", "aadObjectId": "aad-amina"}
PERSONAL = {"id": "a:1personal-chat", "conversationType": "personal", "tenantId": TENANT}
CHANNEL = {"id": "19:tap-progress@thread.tacv2;messageid=1718000000000", "conversationType": "channel",
           "isGroup": True, "tenantId": TENANT}
LOG = "log Regional workshop on e-waste ESM, Accra, Ghana, 12-14 March 2024, 35 participants (14 women)"

ANONYMOUS = Settings(teams_allow_anonymous=True, tapbot_env="development")
CREDENTIALS = Settings(teams_app_id=APP_ID, teams_app_password="a-real-looking-secret", teams_tenant_id=TENANT)
CLOSED_PORT = "https://127.0.0.1:1/" + TENANT  # fails at once: the offline stand-in for login.microsoftonline.com


def run(scenario):
    return asyncio.run(scenario)


class Teams:
    """tapbot's server with Teams mounted, the fake Bot Connector, and Teams' side of the wire."""

    def __init__(self, url: str, connector: FakeBotConnector):
        self.url = url
        self.connector = connector
        self.count = 0

    def activity(self, text: str | None = None, conversation: dict = PERSONAL, sender: dict = AMINA,
                 **extra) -> dict:
        self.count += 1
        activity = {"type": "message", "id": f"17180000000{self.count:02d}", "channelId": "msteams",
                    "serviceUrl": self.connector.service_url, "timestamp": "2025-06-16T08:00:00.000Z",
                    "localTimezone": "Europe/Zurich", "from": sender, "recipient": BOT,
                    "conversation": conversation, "channelData": {"tenant": {"id": TENANT}}, "locale": "en-GB"}
        if text is not None:
            activity["text"] = text
        return activity | extra

    async def post(self, activity: dict, token: str | None = None, headers: dict | None = None) -> int:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with aiohttp.ClientSession() as session, session.post(self.url, json=activity,
                                                                    headers=headers) as response:
            return response.status

    async def say(self, text: str | None, **kwargs) -> dict:
        """Post a message and return the card the bot answered with."""
        before = len(self.connector.posts)
        status = await self.post(self.activity(text, **kwargs))
        assert status in (200, 202), status
        assert len(self.connector.posts) == before + 1, "expected exactly one reply"
        return self.connector.posts[-1].card

    async def press(self, card: dict, label: str, **kwargs) -> dict:
        """Press a card button: Teams posts its data as `value`, with no text."""
        return await self.say(None, value=buttons(card)[label], **kwargs)


@asynccontextmanager
async def teams_server(settings: Settings, ctx, microsoft: Microsoft | None = None, authority: str = CLOSED_PORT):
    connector = await FakeBotConnector().start()
    app = web.Application()

    async def slack_events(_request):  # another channel on the same server: no Bot Framework token asked
        return web.json_response({"ok": True})

    app.router.add_post("/slack/events", slack_events)
    microsoft = microsoft or Microsoft(authority=authority, signing_keys=connector.keys_url)
    assert mount_teams(app, settings, ctx, microsoft) is None
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield Teams(f"http://127.0.0.1:{port}/api/messages", connector)
    finally:
        await runner.cleanup()
        await connector.stop()


def texts(card: dict) -> list[str]:
    """Every piece of text a user sees on a card."""
    out = []

    def walk(element):
        if isinstance(element, dict):
            if element.get("type") == "TextBlock":
                out.append(element["text"])
            if element.get("type") == "FactSet":
                out.extend(f"{fact['title']}: {fact['value']}" for fact in element["facts"])
            for value in element.values():
                walk(value)
        elif isinstance(element, list):
            for item in element:
                walk(item)

    walk(card["body"])
    return out


def buttons(card: dict) -> dict[str, dict]:
    """Every button on a card, in the order a user sees them: rows in the body, then the card's own."""
    actions = [a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]] + card.get("actions", [])
    return {action["title"]: action["data"] for action in actions}


# --- what users get -------------------------------------------------------------------------------

def test_personal_message_gets_a_status_card_at_the_service_url(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            card = await teams.say("status SC2")
            post = teams.connector.posts[-1]
            assert post.conversation_id == PERSONAL["id"]
            assert post.reply_to_id == f"17180000000{teams.count:02d}"  # threaded under the question
            assert post.authorization is None  # anonymous development mode sends no token
            assert post.activity["recipient"]["id"] == AMINA["id"]
            seen = texts(card)
            assert seen[0].startswith("SC2 · Strengthened capacities")
            assert {"Indicator", "SC2.I5"} <= set(seen)
            assert card["type"] == "AdaptiveCard" and "SC2" in card["fallbackText"]

    run(scenario())


def test_channel_mention_is_stripped_logged_and_answered_in_the_thread(ctx):
    mention = {"type": "mention", "text": "<at>tapbot</at>", "mentioned": BOT}

    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            card = await teams.say(f"<at>tapbot</at> {LOG} BC2.I1", conversation=CHANNEL, entities=[mention])
            assert teams.connector.posts[-1].conversation_id == CHANNEL["id"]
            assert texts(card)[0] == "Logged #1 · Regional workshop on e-waste ESM"
            assert "Participants: 35 (14 women, 40%)" in texts(card)
            assert buttons(card)["Undo"] == {"command": "undo 1"}

    run(scenario())
    with ctx.sessions() as session:
        activity = session.scalars(select(Activity)).one()
        assert (activity.channel, activity.user_id, activity.user_name) == ("teams", "aad-amina", "Amina Diallo")
        assert activity.conversation_id == "19:tap-progress@thread.tacv2"  # the channel, not the thread
        assert activity.raw_text == LOG.removeprefix("log ") + " BC2.I1"  # the mention is gone


def test_a_redelivered_activity_is_answered_once(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            activity = teams.activity(LOG)
            assert await teams.post(activity) == 202
            assert await teams.post(activity) == 202
            assert len(teams.connector.posts) == 1

    run(scenario())
    with ctx.sessions() as session:
        assert len(session.scalars(select(Activity)).all()) == 1


def test_a_question_asked_again_is_answered_from_memory_and_a_change_shows_at_once(ctx):
    def activities_shown(card: dict) -> str:
        return next(t for t in texts(card) if t.startswith("Activities: ")).removeprefix("Activities: ")

    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            for _ in range(2):  # the second answer comes from memory
                assert activities_shown(await teams.say("status SC2")) == "0"
            await teams.say("log Training on POPs inventories, Nairobi, Kenya, 3 May 2024, 20 participants SC2.I5")
            assert activities_shown(await teams.say("status SC2")) == "1"

    run(scenario())


def test_a_conversation_whose_reference_changes_is_stored_again_even_for_a_question(ctx):
    def stored() -> tuple[dict, str]:
        with ctx.sessions() as session:
            row = session.get(ConversationRef, ("teams", PERSONAL["id"]))
            return row.reference, row.timezone

    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            await teams.say("help")
            await teams.say("help")
            assert stored()[1] == "Europe/Zurich"
            await teams.say("help", localTimezone="Africa/Accra", locale="fr-FR")
            reference, timezone = stored()
            assert (reference["locale"], timezone) == ("fr-FR", "Africa/Accra")

    run(scenario())


def test_pressing_a_button_runs_its_command(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            logged = await teams.say(LOG)
            suggestion = next(label for label, data in buttons(logged).items() if data["command"].startswith("link 1 "))
            code = buttons(logged)[suggestion]["command"].split()[-1]
            linked = await teams.press(logged, suggestion)
            assert any(code in line for line in texts(linked))
            undone = await teams.press(logged, "Undo")
            assert "undo" in " ".join(texts(undone)).lower()

    run(scenario())


def test_log_without_text_sends_the_form(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            form = await teams.say("log")
            inputs = [e["id"] for e in form["body"] if e["type"].startswith("Input.")]
            assert inputs == ["title", "kind", "start_date", "end_date", "countries", "participants", "women", "men",
                              "products", "organiser", "modality", "indicators"]
            assert buttons(form) == {"Log it": {"form": "log_activity"}}

    run(scenario())


def test_submitting_the_form_logs_or_shows_the_errors_in_the_form(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            wrong = {"form": "log_activity", "title": "Webinar on PIC Circular", "kind": "webinar",
                     "start_date": "2024-06-04", "end_date": "2024-06-03", "countries": "Ghana",
                     "participants": "38", "women": "50", "modality": "online", "indicators": ""}
            again = await teams.say(None, value=wrong)
            assert texts(again)[0] == "Log an activity"  # the form again, with what was typed and the errors
            assert next(e for e in again["body"] if e.get("id") == "title")["value"] == "Webinar on PIC Circular"
            assert any(e.get("color") == "Attention" for e in again["body"])
            right = wrong | {"end_date": "2024-06-04", "women": "20", "indicators": "RC2.I4"}
            logged = await teams.say(None, value=right)
            assert texts(logged)[0].startswith("Logged #1")

    run(scenario())


def test_the_bot_added_to_a_team_says_hello_with_three_things_to_try(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            update = teams.activity(None, conversation=CHANNEL | {"id": "19:tap-progress@thread.tacv2"},
                                    type="conversationUpdate", membersAdded=[BOT])
            assert await teams.post(update) == 202
            welcome = teams.connector.posts[-1].card
            assert texts(welcome)[0] == "Hello! I'm tapbot"
            outcome = plan_examples(ctx.plan)["{outcome}"]  # an outcome of the loaded plan, not a fixed code
            assert list(buttons(welcome)) == ["Log an activity", f"Status of {outcome}", "Help"]
            someone = teams.activity(None, type="conversationUpdate", membersAdded=[AMINA])
            assert await teams.post(someone) == 202
            assert len(teams.connector.posts) == 1  # only the bot's own arrival is greeted

    run(scenario())
    with ctx.sessions() as session:
        ref = session.get(ConversationRef, ("teams", "19:tap-progress@thread.tacv2"))
        assert ref.reference["serviceUrl"].startswith("http://127.0.0.1")
        assert ref.timezone == "Europe/Zurich"


def test_edit_opens_the_activity_in_a_form_and_saves_it(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            logged = await teams.say(LOG + " BC2.I1")
            form = await teams.press(logged, "Edit")
            fields = {e["id"]: e.get("value") for e in form["body"] if "id" in e}
            assert texts(form)[0] == "Edit #1 · Regional workshop on e-waste ESM"
            assert fields["countries"] == "Ghana" and fields["participants"] == 35 and fields["indicators"] == "BC2.I1"
            assert buttons(form) == {"Save": {"form": "edit_activity", "activity_id": 1}}
            submitted = fields | {"form": "edit_activity", "activity_id": 1}  # Teams sends the inputs with the data
            again = await teams.say(None, value=submitted | {"women": "40"})
            assert "40 women are more than the 35 participants." in texts(again)
            saved = await teams.say(None, value=submitted | {"women": "18", "countries": "Ghana, Togo"})
            assert texts(saved)[0].startswith("Changed #1")
            assert "Countries: Ghana, Togo" in texts(saved)

    run(scenario())


def test_the_forms_take_men_products_and_organiser_and_show_their_errors(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            form = {"form": "log_activity", "title": "Regional workshop on BAT/BEP", "kind": "workshop",
                    "start_date": "2024-05-12", "countries": "Senegal", "participants": "30", "women": "12",
                    "men": "20", "products": "a lot", "organiser": "BCRC Senegal", "indicators": "SC2.I4"}
            again = await teams.say(None, value=form | {"indicators": "ZZ9.I9"})
            problems = [e["text"] for e in again["body"] if e.get("color") == "Attention"]
            example = plan_examples(ctx.plan)["{indicator}"]  # drawn from the loaded plan
            assert f"ZZ9.I9 is not an indicator of the plan (e.g. {example})." in problems
            assert any("12 women and 20 men are more than the 30 participants" in p for p in problems)
            assert any("how many of what" in p for p in problems)
            assert next(e for e in again["body"] if e.get("id") == "organiser")["value"] == "BCRC Senegal"
            logged = await teams.say(None, value=form | {"men": "18", "products": "2 case studies"})
            assert texts(logged)[0].startswith("Logged #1")
            edit = await teams.press(logged, "Edit")
            fields = {e["id"]: e.get("value") for e in edit["body"] if "id" in e}
            assert (fields["men"], fields["products"], fields["organiser"]) == (18, "2 case studies", "BCRC Senegal")
            saved = await teams.say(None, value=fields | {"form": "edit_activity", "activity_id": 1,
                                                          "products": "3 case studies", "men": ""})
            assert texts(saved)[0].startswith("Changed #1")

    run(scenario())
    with ctx.sessions() as session:
        activity = session.get(Activity, 1)
        assert (activity.men, activity.products, activity.product_kind) == (None, 3, "case_study")
        assert activity.organiser == "BCRC Senegal" and activity.centre is not None


# --- proactive messages (digests) -----------------------------------------------------------------

def test_a_proactive_message_on_a_stored_reference_reaches_the_conversation(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            await teams.say("help", conversation=CHANNEL)
            with ctx.sessions() as session:
                reference = session.get(ConversationRef, ("teams", "19:tap-progress@thread.tacv2")).reference
            digest = Reply(title="Weekly digest", lines=["3 activities logged"], actions=[Action("Status", "status")])
            await send_proactive(ANONYMOUS, reference, digest)
            post = teams.connector.posts[-1]
            assert post.conversation_id == "19:tap-progress@thread.tacv2"  # a new post in the channel
            assert texts(post.card) == ["Weekly digest", "3 activities logged"]

            teams.connector.fail_with(403)  # the bot was removed from the team
            with pytest.raises(DeliveryError) as removed:
                await send_proactive(ANONYMOUS, reference, digest)
            assert removed.value.permanent
            teams.connector.fail_with(502)
            with pytest.raises(DeliveryError) as flaky:
                await send_proactive(ANONYMOUS, reference, digest)
            assert not flaky.value.permanent

    run(scenario())


def test_a_proactive_message_without_a_token_is_a_failure_not_a_success(ctx, caplog):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            reference = {"conversation": {"id": "19:x@thread.tacv2"}, "serviceUrl": teams.connector.service_url,
                         "channelId": "msteams", "bot": BOT}
            with pytest.raises(DeliveryError) as failed:
                await send_proactive(CREDENTIALS, reference, Reply(title="digest"), Microsoft(authority=CLOSED_PORT))
            assert not failed.value.permanent and "token" in str(failed.value)
            assert teams.connector.posts == []

    run(scenario())
    assert "no token from the Microsoft identity platform" in caplog.text


# --- security -------------------------------------------------------------------------------------

def test_with_credentials_every_bad_token_gets_401_offline(ctx, caplog):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    async def scenario():
        async with teams_server(CREDENTIALS, ctx) as teams:
            fake = teams.connector
            activity = teams.activity("status SC2")
            assert await teams.post(activity) == 401  # no token
            assert await teams.post(activity, "not-a-jwt") == 401  # garbage
            assert await teams.post(activity, headers={"Authorization": "Basic YWxhZGRpbjpvcGVu"}) == 401
            assert await teams.post(activity, fake.token(APP_ID, key=stranger, key_id="unknown")) == 401
            assert await teams.post(activity, fake.token(APP_ID, key=stranger)) == 401  # our key id, their key
            assert await teams.post(activity, fake.token(APP_ID, key_id=None)) == 401  # no key id at all
            assert await teams.post(activity, fake.token("someone-elses-app")) == 401  # foreign audience
            assert await teams.post(activity, fake.token(APP_ID, iss="https://evil.example")) == 401
            assert await teams.post(activity, fake.token(APP_ID, exp=int(time.time()) - 3600)) == 401
            assert fake.posts == []
            # A good token passes; the reply then needs the bot's own token, which cannot be had offline:
            # 503 and a clear log line, never a 500 or a hang.
            assert await teams.post(activity, fake.token(APP_ID)) == 503
            async with aiohttp.ClientSession() as session, session.post(  # the check guards /api/messages only
                    teams.url.replace("/api/messages", "/slack/events"), json={}) as response:
                assert response.status == 200

    run(scenario())
    assert "no token from the Microsoft identity platform" in caplog.text
    with ctx.sessions() as session:
        assert session.scalars(select(Activity)).all() == []


def test_with_credentials_a_good_token_is_answered_with_the_bots_own_token(ctx, tmp_path, monkeypatch):
    async def scenario():
        authority = await FakeAuthority(TENANT, tmp_path).start()
        monkeypatch.setattr(_Msal, "_clients", {})  # a client kept from an earlier test on the same port
        # MSAL's HTTP client is a requests.Session, which trusts the CA bundle named here (and only it).
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(authority.ca_file))
        try:
            async with teams_server(CREDENTIALS, ctx, authority=authority.authority) as teams:
                fake = teams.connector
                assert await teams.post(teams.activity("status SC2"), fake.token(APP_ID)) in (200, 202)
                [post] = fake.posts
                assert (post.conversation_id, post.reply_to_id) == (PERSONAL["id"], "1718000000001")
                assert post.authorization == f"Bearer {authority.access_token}"
                assert texts(post.card)[0].startswith("SC2 · ")
                # The bot asked for a Bot Framework token as itself, with its app id and secret.
                [asked] = authority.token_requests
                assert (asked["grant_type"], asked["client_id"], asked["client_secret"], asked["scope"]) == (
                    "client_credentials", APP_ID, CREDENTIALS.teams_app_password.get_secret_value(),
                    "https://api.botframework.com/.default")

                # The next reply reuses that token (MSAL's cache): Microsoft is not asked again.
                assert await teams.post(teams.activity("status SC2"), fake.token(APP_ID)) in (200, 202)
                assert len(fake.posts) == 2 and fake.posts[1].conversation_id == PERSONAL["id"]
                assert fake.posts[1].authorization == f"Bearer {authority.access_token}"
                assert texts(fake.posts[1].card)[0].startswith("SC2 · ")
                assert len(authority.token_requests) == 1
        finally:
            await authority.stop()

    run(scenario())


def test_proactive_messages_with_credentials_share_one_token(ctx, tmp_path, monkeypatch):
    async def scenario():
        authority = await FakeAuthority(TENANT, tmp_path).start()
        monkeypatch.setattr(_Msal, "_clients", {})  # a client kept from an earlier test on the same port
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(authority.ca_file))
        connector = await FakeBotConnector().start()
        try:
            microsoft = Microsoft(authority=authority.authority)
            for conversation in ("19:one@thread.tacv2", "19:two@thread.tacv2"):  # two digests, two adapters
                reference = {"conversation": {"id": conversation}, "serviceUrl": connector.service_url,
                             "channelId": "msteams", "bot": BOT}
                await send_proactive(CREDENTIALS, reference, Reply(title="Weekly digest"), microsoft)
            assert [p.conversation_id for p in connector.posts] == ["19:one@thread.tacv2", "19:two@thread.tacv2"]
            assert {p.authorization for p in connector.posts} == {f"Bearer {authority.access_token}"}
            assert len(authority.token_requests) == 1
        finally:
            await connector.stop()
            await authority.stop()

    run(scenario())


def test_unreachable_signing_keys_mean_401_quickly_and_a_log_line(ctx, caplog):
    async def scenario():
        microsoft = Microsoft(authority=CLOSED_PORT, signing_keys="http://127.0.0.1:1/keys")
        async with teams_server(CREDENTIALS, ctx, microsoft) as teams:
            started = time.perf_counter()
            assert await teams.post(teams.activity("status SC2"), teams.connector.token(APP_ID)) == 401
            assert time.perf_counter() - started < 5

    with caplog.at_level(logging.ERROR, logger="bot.teams"):
        run(scenario())
    assert "token-signing keys could not be fetched" in caplog.text


def test_tapbot_serve_mounts_teams_beside_the_other_channels(ctx):
    from bot.server import build_web_app

    async def scenario():
        connector = await FakeBotConnector().start()
        runner = web.AppRunner(build_web_app(ANONYMOUS, ctx))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        teams = Teams(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/messages", connector)
        try:
            assert texts(await teams.say("status Ghana"))[0].startswith("Ghana")
        finally:
            await runner.cleanup()
            await connector.stop()

    run(scenario())


def test_teams_is_off_unless_configured(ctx):
    assert "TEAMS_APP_ID" in auth_configuration(Settings())
    partial = auth_configuration(Settings(teams_app_id=APP_ID))
    assert "TEAMS_APP_PASSWORD" in partial and "TEAMS_TENANT_ID" in partial
    assert "development" in auth_configuration(Settings(teams_allow_anonymous=True, tapbot_env="production"))
    app = web.Application()
    assert mount_teams(app, Settings(), ctx) is not None
    assert not [r for r in app.router.routes() if r.resource.canonical == "/api/messages"]


def test_anonymous_mode_is_refused_unless_development_on_loopback(ctx):
    assert "TAPBOT_ENV" in auth_configuration(Settings(teams_allow_anonymous=True))  # production by default
    for host in ("0.0.0.0", "10.1.2.3", "tapbot.example.org"):
        reason = auth_configuration(Settings(teams_allow_anonymous=True, tapbot_env="development", host=host))
        assert isinstance(reason, str) and host in reason
        app = web.Application()
        assert mount_teams(app, Settings(teams_allow_anonymous=True, tapbot_env="development", host=host),
                           ctx) is not None
        assert not [r for r in app.router.routes() if r.resource.canonical == "/api/messages"]
    assert not isinstance(auth_configuration(ANONYMOUS), str)  # development on 127.0.0.1: allowed


def test_a_body_that_is_not_an_activity_gets_400(ctx):
    async def scenario():
        async with teams_server(ANONYMOUS, ctx) as teams:
            assert await teams.post({"type": "message", "conversation": "not-an-object"}) == 400
            assert await teams.post({"type": "message"}) == 400  # no conversation

    run(scenario())


# --- cards ------------------------------------------------------------------------------------------

def test_core_markup_becomes_card_markdown():
    assert markdown("• *status* — `status SC2`") == "• **status** — “status SC2”"
    assert markdown("3 * 4 = 12, a*b") == "3 * 4 = 12, a*b"


def test_a_huge_reply_goes_out_as_text(ctx):
    from bot.teams import card_activity

    huge = Reply(title="All activities", lines=[f"#{i} · a workshop somewhere" for i in range(2000)])
    activity = card_activity(reply_card(huge))
    assert not activity.attachments and activity.text.startswith("All activities")


def test_form_errors_are_shown_by_field():
    card = form_card(LOG_FORM, values={"title": "Webinar", "women": "50"},
                     errors={"women": "More women than participants."})
    ids = [e.get("id") for e in card["body"]]
    after_women = card["body"][ids.index("women") + 1]
    assert after_women["text"] == "More women than participants." and after_women["color"] == "Attention"
    assert card["body"][ids.index("women")]["value"] == 50


# --- the app package ----------------------------------------------------------------------------------

def test_the_package_has_a_manifest_for_the_configured_bot_and_two_icons(tmp_path):
    import json
    import struct
    import zipfile
    import zlib

    from bot.config import ConfigError
    from bot.teams_package import write_package

    path = write_package(CREDENTIALS, tmp_path / "tapbot-teams.zip")
    with zipfile.ZipFile(path) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        icons = {name: package.read(name) for name in ("color.png", "outline.png")}
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    # Manifest 1.17's limits on a bot command (MicrosoftTeams.schema.json: commands[].title, description).
    assert manifest["manifestVersion"] == "1.17"
    for command in manifest["bots"][0]["commandLists"][0]["commands"]:
        assert 1 <= len(command["title"]) <= 32 and 1 <= len(command["description"]) <= 128, command

    for name, size in (("color.png", 192), ("outline.png", 32)):
        data = icons[name]
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (size, size)
    # The outline icon is white on transparent, as Teams requires.
    raw = zlib.decompress(icons["outline.png"][icons["outline.png"].index(b"IDAT") + 4:-16])
    rows = [raw[i * (1 + 32 * 4) + 1:(i + 1) * (1 + 32 * 4)] for i in range(32)]
    pixels = {bytes(row[j:j + 4]) for row in rows for j in range(0, len(row), 4)}
    assert pixels == {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}

    with pytest.raises(ConfigError):
        write_package(Settings(), tmp_path / "no-app-id.zip")
