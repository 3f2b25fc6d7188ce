"""Microsoft's side of a Teams conversation, on a free local port.

- The Bot Connector: records what the bot posts to
  {serviceUrl}v3/conversations/{id}/activities[/{replyToId}] and answers as Teams
  does, or with the status it was told to fail with.
- Microsoft's token-signing keys (a JWKS) at `keys_url`, and `token()` to sign
  inbound requests with them, as the Bot Connector would.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import jwt
from aiohttp import web

from cryptography.hazmat.primitives.asymmetric import rsa

from fakes import LocalServer

KEY_ID = "fake-connector-key"
BOTFRAMEWORK_ISSUER = "https://api.botframework.com"


@dataclass
class Post:
    conversation_id: str
    reply_to_id: str | None
    activity: dict
    authorization: str | None
    at: float = field(default_factory=time.perf_counter)

    @property
    def card(self) -> dict | None:
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None


class FakeBotConnector(LocalServer):
    def __init__(self, prefix: str = "/amer/"):
        self.prefix = prefix  # real serviceUrls have a path: https://smba.trafficmanager.net/amer/
        self.posts: list[Post] = []
        self.fail_status: int | None = None
        self.on_post = None  # called with each Post (benchmarks time replies with it)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        super().__init__()

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    @property
    def keys_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/keys"

    def fail_with(self, status: int | None) -> None:
        """Answer every post with this HTTP status (None: succeed again)."""
        self.fail_status = status

    def token(self, app_id: str, key=None, key_id: str = KEY_ID, **claims) -> str:
        """A token as the Bot Connector sends it to the bot `app_id`, signed with our key unless told otherwise."""
        now = int(time.time())
        body = {"iss": BOTFRAMEWORK_ISSUER, "aud": app_id, "iat": now, "nbf": now - 60, "exp": now + 3600,
                "serviceurl": self.service_url} | claims
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": key_id} if key_id else None)

    async def start(self) -> "FakeBotConnector":
        app = web.Application()
        app.router.add_post(self.prefix + "v3/conversations/{conversation}/activities", self._post)
        app.router.add_post(self.prefix + "v3/conversations/{conversation}/activities/{reply_to}", self._post)
        app.router.add_get("/keys", self._keys)
        await self.serve(app)
        return self

    async def _post(self, request: web.Request) -> web.Response:
        post = Post(request.match_info["conversation"], request.match_info.get("reply_to"),
                    await request.json(), request.headers.get("Authorization"))
        self.posts.append(post)
        if self.on_post:
            self.on_post(post)
        if self.fail_status:
            return web.json_response({"error": {"code": "Failed", "message": "told to fail"}},
                                     status=self.fail_status)
        return web.json_response({"id": uuid.uuid4().hex})

    async def _keys(self, _request: web.Request) -> web.Response:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": KEY_ID, "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": [public]})
