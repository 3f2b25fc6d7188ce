"""Slack's side of a workspace, on a free local port: the Web API and response_url.

- `base_url` stands in for https://slack.com/api/ (SLACK_API_URL): it records
  chat.postMessage, chat.postEphemeral, chat.update, views.open, views.publish,
  users.info, auth.test… and answers as Slack does.
- `response_url()` gives a link like the ones Slack puts in slash-command and
  button payloads; what the app posts there is recorded too, as "response_url".
- `fail(method, error)` makes the next call(s) to a method fail as Slack would
  ("ratelimited" as HTTP 429 with Retry-After, others as {"ok": false}).

Every call is kept as a `Call` with the time it arrived, so a test can assert
what the user saw and a benchmark can time when the answer got there.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from fakes import LocalServer

TOKEN = "xoxb-test-token"
TEAM = "T0TAP"
BOT_USER = "U0TAPBOT"


@dataclass
class Call:
    method: str  # "chat.postMessage", …, or "response_url"
    args: dict
    at: float = field(default_factory=time.perf_counter)
    url: str = ""

    @property
    def text(self) -> str:
        """The fallback text plus every text in the blocks: what a user reads."""
        return "\n".join([self.args.get("text") or "", *block_texts(self.args.get("blocks"))])


def block_texts(blocks) -> list[str]:
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    out: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks or [])
    return out


class FakeSlackAPI(LocalServer):
    def __init__(self, users: dict[str, str] | None = None, token: str = TOKEN):
        self.token = token
        self.users = users or {}  # user id -> display name, for users.info
        self.calls: list[Call] = []
        self._failures: dict[str, list[tuple[str, int]]] = {}
        self._changed = asyncio.Event()
        self._ts = 0
        super().__init__()
        self.on_call: Callable[[Call], None] | None = None  # told of each call as it arrives (benchmarks)

    async def start(self) -> FakeSlackAPI:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        await self.serve(app)
        return self

    async def __aenter__(self) -> FakeSlackAPI:
        return await self.start()

    async def __aexit__(self, *_exc) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"  # slack_sdk wants the trailing "/"

    def response_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/response/{uuid.uuid4().hex[:12]}"

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls to `method` fail with `error` ("response_url": HTTP 404, as an
        expired one does)."""
        status = 429 if error == "ratelimited" else 200
        self._failures.setdefault(method, []).extend([(error, status)] * times)

    def fail_with_html(self, method: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls to `method` get an HTML error page, as a proxy in front of Slack gives."""
        self._failures.setdefault(method, []).extend([("<html>", status)] * times)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(self) -> list[Call]:
        """Everything that put a message in front of a user."""
        return [c for c in self.calls if c.method in ("chat.postMessage", "chat.postEphemeral", "chat.update",
                                                       "response_url")]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """The calls to `method` once there are `count` of them (the app answers after its ack)."""
        deadline = time.monotonic() + timeout
        while len(self.calls_to(method)) < count:
            self._changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{method}: {len(self.calls_to(method))} calls, expected {count}; "
                                     f"got {[c.method for c in self.calls]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return self.calls_to(method)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()
        if self.on_call:
            self.on_call(call)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = dict(request.query)
        body = await request.text()
        if body:
            if request.content_type == "application/json":
                args.update(json.loads(body))
            else:
                args.update(parse_qsl(body))
        self._record(Call(method, args, url=str(request.url)))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self._failures.get(method):
            error, status = self._failures[method].pop(0)
            if error == "<html>":
                return web.Response(status=status, content_type="text/html",
                                    text="<html><body><h1>500 Internal Server Error</h1></body></html>")
            headers = {"Retry-After": "0"} if status == 429 else {}
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        return web.json_response(self._answer(method, args))

    def _answer(self, method: str, args: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "url": "https://tap.slack.com/", "team": "TAP", "user": "tapbot", "team_id": TEAM,
                    "user_id": BOT_USER, "bot_id": "B0TAPBOT"}
        if method == "users.info":
            user = args.get("user", "")
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            name = self.users[user]
            return {"ok": True, "user": {"id": user, "name": name.lower().replace(" ", "."), "real_name": name,
                                         "profile": {"display_name": name, "real_name": name}}}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            self._ts += 1
            ts = args.get("ts") or f"1700000000.{self._ts:06d}"
            key = "message_ts" if method == "chat.postEphemeral" else "ts"
            return {"ok": True, "channel": args.get("channel"), key: ts}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {**(view or {}), "id": f"V{uuid.uuid4().hex[:8].upper()}"}}
        return {"ok": True}

    async def _response_url(self, request: web.Request) -> web.Response:
        self._record(Call("response_url", await request.json(), url=str(request.url)))
        if self._failures.get("response_url"):
            error, _ = self._failures["response_url"].pop(0)
            return web.Response(status=404, text=error)
        return web.Response(text="ok")


# --- Slack's requests to the app ----------------------------------------------------------------

def signed(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs a request with: HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def command_body(text: str, response_url: str, user: str = "U0AMINA", channel: str = "C0TAP",
                 command: str = "/tap") -> str:
    """A slash command as Slack posts it (form-encoded)."""
    return urlencode({
        "token": "legacy-unused", "team_id": TEAM, "team_domain": "tap", "channel_id": channel,
        "channel_name": "tap-progress", "user_id": user, "user_name": user.lower(), "command": command,
        "text": text, "api_app_id": "A0TAP", "response_url": response_url,
        "trigger_id": f"{uuid.uuid4().int % 10**13}.{uuid.uuid4().hex[:20]}",
    })
