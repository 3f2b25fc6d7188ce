"""Microsoft Teams, through the Microsoft 365 Agents SDK. The only module that imports the SDK.

In:  POST /api/messages, its token checked by the SDK's JWT authorization on this
     route alone → an Incoming → dispatch in a worker thread → the Reply as an
     Adaptive Card, posted through the Bot Connector at the activity's serviceUrl.
Out: send_proactive posts a Reply on a conversation reference kept in the database
     (table conversation_refs), so any process can send a digest.

Calls to Microsoft's identity platform (signing keys in, tokens out) run in worker
threads with a timeout, and say so in the log when they fail.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import uuid
import warnings
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from jwt import InvalidTokenError, PyJWKClient, PyJWKClientConnectionError
from microsoft_agents.activity import Activity, ActivityTypes, Attachment, ConversationReference, TurnContextProtocol
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import (
    ActivityHandler,
    AgentAuthConfiguration,
    AuthTypes,
    ClaimsIdentity,
    ConnectionManager,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator
from msal import ConfidentialClientApplication
from pydantic import ValidationError

from bot.config import Settings, secret
from bot.delivery import DeliveryError
from bot.teams_cards import CONTENT_TYPE, EDIT_FORM, LOG_FORM, fits, form_card, reply_card
from handlers.context import Context
from handlers.dispatch import dispatch, failure_reply, quick_reply
from handlers.forms import activity_values, form_plan, submit_edit_form, submit_log_form
from handlers.help import files_reply, welcome_reply
from handlers.messages import Incoming, Reply, ReplyKind
from storage.conversations import remember_conversation

log = logging.getLogger(__name__)

CHANNEL = "teams"
IDENTITY_TIMEOUT = 10.0  # seconds for one call to Microsoft's identity platform
SEND_TIMEOUT = 30.0  # seconds for a whole proactive message, token included
MAX_STORED_REFERENCES = 10_000  # conversations remembered as stored; past it, the memory starts afresh
MAX_SHARED_ANSWERS = 256

@dataclass(frozen=True)
class Microsoft:
    """Where Microsoft's identity platform is: None means the real one. Tests point both at local fakes."""

    authority: str | None = None  # issues the bot's tokens for the Bot Connector
    signing_keys: str | None = None  # the keys inbound tokens are checked against


class TokenUnavailable(Exception):
    """The bot could not get a token from the Microsoft identity platform to talk to the Bot Connector."""


def auth_configuration(settings: Settings, microsoft: Microsoft = Microsoft()) -> AgentAuthConfiguration | str:
    """The SDK's configuration from tapbot's settings, or why Teams stays off."""
    credentials = {"TEAMS_APP_ID": settings.teams_app_id, "TEAMS_APP_PASSWORD": settings.teams_app_password,
                   "TEAMS_TENANT_ID": settings.teams_tenant_id}
    given = [name for name, value in credentials.items() if value]
    if given and len(given) < len(credentials):
        missing = [name for name in credentials if name not in given]
        return (f"{', '.join(given)} set but {', '.join(missing)} not: set all three from the Azure Bot "
                f"registration (README, “Teams”)")
    if given:
        if settings.teams_allow_anonymous:
            log.warning("TEAMS_ALLOW_ANONYMOUS is ignored: credentials are configured, so every token is checked")
        return AgentAuthConfiguration(
            auth_type=AuthTypes.client_secret, client_id=settings.teams_app_id, tenant_id=settings.teams_tenant_id,
            client_secret=secret(settings.teams_app_password), authority=microsoft.authority,
            validate_issuer=True, anonymous_allowed=False)
    if settings.teams_allow_anonymous:
        if not settings.is_development:
            return (f"TEAMS_ALLOW_ANONYMOUS=true is a development setting and TAPBOT_ENV is {settings.tapbot_env!r} "
                    "(set TAPBOT_ENV=development to use it on this machine)")
        if not settings.listens_on_loopback:  # anyone who could reach it could act as any Teams user
            return (f"TEAMS_ALLOW_ANONYMOUS=true accepts requests without a token, so it is refused while tapbot "
                    f"listens on {settings.host}: listen on 127.0.0.1, or set the Teams credentials")
        log.warning("Teams accepts requests WITHOUT a token (TEAMS_ALLOW_ANONYMOUS=true): development only")
        return AgentAuthConfiguration(anonymous_allowed=True)
    return "no TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID (or TEAMS_ALLOW_ANONYMOUS=true in development)"


def mount_teams(app: web.Application, settings: Settings, ctx: Context,
                microsoft: Microsoft = Microsoft()) -> str | None:
    """Serve Teams on POST /api/messages; None when mounted, else the reason Teams is off."""
    config = auth_configuration(settings, microsoft)
    if isinstance(config, str):
        return config
    _use_signing_keys(microsoft.signing_keys)
    adapter = _adapter(config)
    agent = TapbotAgent(ctx)
    with warnings.catch_warnings():  # the SDK's JWT check looks the configuration up under this string key
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["agent_configuration"] = config

    @jwt_authorization_decorator
    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            return await adapter.process(request, agent)
        except (ValidationError, ValueError):  # ValueError: not JSON at all
            return web.json_response({"error": "The body is not an Activity."}, status=400)
        except TokenUnavailable:
            return web.json_response({"error": "The bot could not get a token to reply; see its log."}, status=503)

    app.router.add_post("/api/messages", messages)
    return None


class TapbotAgent(ActivityHandler):
    """Turns Teams activities into Incoming messages and Replies into cards."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        # What this process stored in conversation_refs, per conversation: while a message's
        # reference is the same, there is nothing to store.
        self._stored: dict[str, tuple[dict, str | None]] = {}
        self._answers: dict[int, tuple[Reply, Activity]] = {}

    async def on_message_activity(self, context: TurnContextProtocol) -> None:
        activity = context.activity
        values = activity.value if isinstance(activity.value, dict) else {}
        incoming = to_incoming(activity, values)
        if has_file(activity) and not incoming.text:  # a file sent in a chat, with no words
            await context.send_activity(card_activity(reply_card(files_reply())))
            return
        reference, timezone = stored_reference(activity), activity.local_timezone
        quick = None
        if not values.get("form") and self._stored.get(incoming.conversation_id) == (reference, timezone):
            quick = quick_reply(incoming, self.ctx)
        if quick is not None:
            await context.send_activity(self._activity_of_shared(quick))
            return
        personal_chat = activity.conversation.conversation_type == "personal"
        card = await asyncio.to_thread(self._answer, incoming, values, reference, timezone, personal_chat)
        if card is not None:
            await context.send_activity(card_activity(card))

    def _activity_of_shared(self, reply: Reply) -> Activity:
        """The answer to a quick reply. A cached status reply is one shared object while the data
        is unchanged, so its card is built once, not for every question (the SDK sends a copy)."""
        known = self._answers.get(id(reply))
        if known is not None and known[0] is reply:  # holding the reply keeps its id from being reused
            return known[1]
        if len(self._answers) > MAX_SHARED_ANSWERS:
            self._answers.clear()
        answer = card_activity(reply_card(reply))
        self._answers[id(reply)] = (reply, answer)
        return answer

    async def on_members_added_activity(self, members_added, context: TurnContextProtocol) -> None:
        activity = context.activity
        recipient = activity.recipient
        if recipient is None or not any(member.id == recipient.id for member in members_added):
            return  # someone else joined; the bot greets only when it is added itself
        await asyncio.to_thread(remember_conversation, self.ctx.sessions, CHANNEL, conversation_id(activity),
                                stored_reference(activity), activity.local_timezone)
        await context.send_activity(card_activity(reply_card(welcome_reply(self.ctx.plan))))

    def _answer(self, incoming: Incoming, values: dict, reference: dict, timezone: str | None,
                personal_chat: bool = False) -> dict | None:
        """The card to answer with (None: nothing, the message was handled before).

        Teams has its answer when this returns: what it changed is committed by then. The error
        boundary covers all of it, keeping the conversation's reference included.
        """
        try:
            return self._answer_unguarded(incoming, values, reference, timezone, personal_chat)
        except Exception as error:
            return reply_card(failure_reply(error, incoming))

    def _answer_unguarded(self, incoming: Incoming, values: dict, reference: dict, timezone: str | None,
                          personal_chat: bool) -> dict | None:
        remember_conversation(self.ctx.sessions, CHANNEL, incoming.conversation_id, reference, timezone)
        if len(self._stored) > MAX_STORED_REFERENCES:
            self._stored.clear()
        self._stored[incoming.conversation_id] = (reference, timezone)
        if values.get("form") in (LOG_FORM, EDIT_FORM):
            return submit_form(self.ctx, incoming, values)
        reply = dispatch(incoming, self.ctx)
        if reply.duplicate:
            return None
        if not personal_chat:  # a group chat or channel: everyone there would read it
            reply = reply.without_personal_data()
        if reply.form == LOG_FORM:
            return form_card(LOG_FORM, intro=reply.lines, plan=self.ctx.plan)
        if reply.form == EDIT_FORM and reply.activity_id:
            current = activity_values(self.ctx, reply.activity_id)
            if current is not None:
                return form_card(EDIT_FORM, current, activity_id=reply.activity_id, heading=reply.title,
                                 plan=form_plan(self.ctx, current))
        return reply_card(reply)


def to_incoming(activity: Activity, values: dict) -> Incoming:
    """A Teams message (typed, @mentioned in a channel, or a pressed button) as tapbot's one inbound type."""
    text = activity.remove_recipient_mention() if activity.text else ""
    if not text.strip() and isinstance(values.get("command"), str):
        text = values["command"]  # a button: its command, exactly as if typed
    sender = activity.from_property
    return Incoming(
        text=text.replace("\xa0", " ").strip(),
        # The Entra object id is stable across bots and shown in the Entra admin centre, so TAPBOT_ADMINS can use it.
        user_id=sender.aad_object_id or sender.id,
        user_name=sender.name,
        conversation_id=conversation_id(activity),
        channel=CHANNEL,
        event_key=f"{CHANNEL}:{activity.conversation.id}:{activity.id}" if activity.id else None,
    )


def has_file(activity: Activity) -> bool:
    """Whether a message carries a file (Teams sends one as a download-info attachment, or inline)."""
    return any((a.content_type or "").startswith(("application/vnd.microsoft.teams.file", "image/"))
               or (a.content_url and not (a.content_type or "").startswith("text/"))
               for a in activity.attachments or [])


def without_nulls(value):
    """JSON without its explicit nulls: Teams sends `"replyToId": null` and the like, which the
    SDK's models refuse, while a missing field is what they take as "not given"."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


class _CleanedRequest:
    """An inbound request as the SDK reads it (its HttpRequestProtocol), its JSON without nulls."""

    def __init__(self, request: web.Request):
        self._request = request
        self.method, self.headers = request.method, request.headers

    async def json(self):
        return without_nulls(await self._request.json())

    def get_claims_identity(self):
        return self._request.get("claims_identity")

    def get_path_param(self, name: str) -> str:
        return self._request.match_info[name]


class _InboundAdapter(CloudAdapter):
    async def process(self, request: web.Request, agent) -> web.Response:
        return self._to_aiohttp_response(await self.process_request(_CleanedRequest(request), agent))


def conversation_id(activity: Activity) -> str:
    """The chat or channel; a channel thread's id adds ";messageid=…", which is left out."""
    return activity.conversation.id.split(";")[0]


def stored_reference(activity: Activity) -> dict:
    """How to post into this conversation later: its channel or chat, not the message or thread."""
    reference = activity.get_conversation_reference()
    reference.activity_id = reference.request_id = None  # per message; kept, they would rewrite the row each time
    reference.conversation = reference.conversation.model_copy(update={"id": conversation_id(activity)})
    if reference.conversation.is_group:
        reference.user = None  # a group's reference should not change with every speaker
    return reference.model_dump(mode="json", by_alias=True, exclude_none=True)


def submit_form(ctx: Context, incoming: Incoming, values: dict) -> dict | None:
    """A submitted log or edit form, checked and stored by handlers.forms; the form again if it has errors."""
    form, activity_id = values["form"], None
    if form == LOG_FORM:
        result = submit_log_form(incoming, values, ctx)
    else:
        activity_id = values.get("activity_id")
        if not isinstance(activity_id, int):
            return None  # not a form this bot sent
        result = submit_edit_form(incoming, activity_id, values, ctx)
    if isinstance(result, Reply):
        return None if result.duplicate else reply_card(result)
    return form_card(form, values, result, activity_id=activity_id, plan=ctx.plan)


class _Card(dict):
    """A card as an attachment's content. The SDK deep-copies every activity it sends; a card
    is never changed once built (a cached one is shared), so the copy would be wasted work."""

    def __deepcopy__(self, memo: dict) -> _Card:
        return self


def card_activity(card: dict) -> Activity:
    if not fits(card):
        return Activity(type=ActivityTypes.message, text=card.get("fallbackText", ""))
    summary = card.get("fallbackText", "").split("\n")[0][:200]  # what notifications show
    return Activity(type=ActivityTypes.message, summary=summary,
                    attachments=[Attachment(content_type=CONTENT_TYPE, content=_Card(card))])


async def send_proactive(settings: Settings, reference: dict, reply: Reply,
                         microsoft: Microsoft = Microsoft()) -> None:
    """Post a Reply into a stored conversation. Raises DeliveryError, permanent when the bot was removed."""
    config = auth_configuration(settings, microsoft)
    if isinstance(config, str):
        raise DeliveryError(f"Teams is off: {config}")
    try:
        continuation = ConversationReference.model_validate(reference).get_continuation_activity()
    except ValidationError as error:
        raise DeliveryError(f"not a Teams conversation reference: {error.error_count()} problems",
                            permanent=True) from error
    activity = card_activity(reply_card(reply))

    async def send(context: TurnContext) -> None:
        try:
            await context.send_activity(activity)
        except aiohttp.ClientResponseError as error:
            # 403: the bot was removed from the team or chat; 404: the conversation is gone.
            raise DeliveryError(f"Teams answered {error.status}", permanent=error.status in (403, 404)) from error
        except (aiohttp.ClientError, OSError) as error:
            raise DeliveryError(f"Teams could not be reached: {type(error).__name__}") from error

    adapter = _adapter(config)
    try:
        async with asyncio.timeout(SEND_TIMEOUT):
            if config.ANONYMOUS_ALLOWED:
                await adapter.continue_conversation_with_claims(ClaimsIdentity(), continuation, send)
            else:
                assert config.CLIENT_ID is not None  # auth_configuration sets it with the other credentials
                await adapter.continue_conversation(config.CLIENT_ID, continuation, send)
    except TokenUnavailable as error:
        # The error's own text is logged where it happened (_Msal); what is kept may be shown in chat.
        raise DeliveryError("no token from the Microsoft identity platform (the log says why)") from error
    except TimeoutError as error:
        raise DeliveryError(f"Teams did not answer within {SEND_TIMEOUT:.0f} s") from error


def _adapter(config: AgentAuthConfiguration) -> _InboundAdapter:
    connections = ConnectionManager(provider_factory=_Msal, connections_configurations={"SERVICE_CONNECTION": config})
    adapter = _InboundAdapter(connection_manager=connections)
    adapter.on_turn_error = _on_turn_error
    return adapter


async def _on_turn_error(context: TurnContext, error: Exception) -> None:
    # Replaces the SDK's default, which would post the exception text into the chat.
    if isinstance(error, DeliveryError):
        raise error  # a proactive send: its caller records the failure
    error_id = uuid.uuid4().hex[:8]
    log.error("Teams turn failed [%s] conversation=%s", error_id, context.activity.conversation.id, exc_info=error)
    sorry = Reply(title="Sorry, I could not answer that",
                  lines=[f"If it happens again, tell the team the error id {error_id}."], kind=ReplyKind.ERROR)
    try:
        await context.send_activity(card_activity(reply_card(sorry)))
    except Exception:  # the connector itself may be what failed
        log.warning("Teams: could not tell the user about error %s", error_id)


class _Msal(MsalAuth):
    """The SDK's MSAL token provider, kept off the event loop and bounded in time.

    MSAL blocks on HTTP, and already fetches the authority's OpenID configuration
    when its client is built, which the SDK does on the event loop.

    One MSAL client per app and authority serves the whole process: its token cache
    then serves every adapter too, so proactive messages (a new adapter each) reuse
    the bot's token instead of asking Microsoft for one per digest.
    """

    _clients: dict[tuple, ConfidentialClientApplication] = {}
    _clients_lock = threading.Lock()

    def _create_client_application(self, tenant_id: str | None = None) -> ConfidentialClientApplication:
        config = self._msal_configuration
        authority = MsalAuth._resolve_authority(config, tenant_id)
        key = (config.CLIENT_ID, config.CLIENT_SECRET, authority)
        with _Msal._clients_lock:
            client = _Msal._clients.get(key)
        if client is None:  # built outside the lock: it asks Microsoft for the authority's configuration
            client = ConfidentialClientApplication(
                client_id=config.CLIENT_ID, client_credential=config.CLIENT_SECRET, authority=authority,
                timeout=IDENTITY_TIMEOUT,
                # An authority given explicitly is taken as it is, without asking Microsoft about it.
                instance_discovery=False if config.AUTHORITY else None)
            with _Msal._clients_lock:
                client = _Msal._clients.setdefault(key, client)
        return client

    async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
        try:
            async with asyncio.timeout(3 * IDENTITY_TIMEOUT):
                await asyncio.to_thread(self._get_client)
                return await super().get_access_token(resource_url, scopes, force_refresh)
        except Exception as error:
            log.error("Teams: no token from the Microsoft identity platform for app %s: %s: %s",
                      self._msal_configuration.CLIENT_ID, type(error).__name__, error)
            raise TokenUnavailable(f"{type(error).__name__}: {error}") from error


class _SigningKeyClient(PyJWKClient):
    def fetch_data(self):
        try:
            return super().fetch_data()
        except PyJWKClientConnectionError:
            log.error("Teams: Microsoft's token-signing keys could not be fetched from %s within %.0f s; "
                      "requests are refused (401) until they can be", self.uri, IDENTITY_TIMEOUT)
            raise


class _SigningKeys(jwt_token_validator._JwkClientManager):
    """The SDK's cache of signing-key clients, with a short timeout and a clear log line, and
    a 401 for a token without a key id.

    The SDK keeps this cache on its validator class (microsoft-agents 1.9.0); a
    redirect sends every key lookup to one URL (a local fake in tests).
    """

    def __init__(self, redirect: str | None):
        super().__init__()
        self.redirect = redirect

    async def get_signing_key(self, jwks_uri: str, header: dict):
        if not isinstance(header.get("kid"), str):  # the SDK would fail on it with a KeyError: a 500
            raise InvalidTokenError("the token does not name its signing key")
        return await super().get_signing_key(jwks_uri, header)

    def _get_jwk_client(self, jwks_uri: str):
        if jwks_uri not in self._cache:
            client = _SigningKeyClient(self.redirect or jwks_uri, timeout=IDENTITY_TIMEOUT)
            self._cache[jwks_uri] = jwt_token_validator._JwkClientCacheEntry(client, threading.Lock())
        return self._cache[jwks_uri]


def _use_signing_keys(redirect: str | None) -> None:
    jwt_token_validator.JwtTokenValidator._jwk_client_manager = _SigningKeys(redirect)
