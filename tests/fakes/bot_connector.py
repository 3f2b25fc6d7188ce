"""Microsoft's side of a Teams conversation, on a free local port.

- The Bot Connector: records what the bot posts to
  {serviceUrl}v3/conversations/{id}/activities[/{replyToId}] and answers as Teams
  does, or with the status it was told to fail with.
- Microsoft's token-signing keys (a JWKS) at `keys_url`, and `token()` to sign
  inbound requests with them, as the Bot Connector would.
- FakeAuthority: Microsoft's identity platform, which gives the bot its own token
  to post with (MSAL's client-credentials flow), over TLS.
"""
from __future__ import annotations

import ipaddress
import json
import ssl
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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

    async def start(self) -> FakeBotConnector:
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


class FakeAuthority(LocalServer):
    """Microsoft's identity platform (login.microsoftonline.com/{tenant}) as MSAL sees it with
    instance_discovery=False: the tenant's OpenID configuration and its token endpoint, which
    answers the client-credentials grant with `access_token`.

    MSAL only talks https, so this serves TLS with a self-signed certificate for 127.0.0.1,
    written to `ca_file` in the given directory: point REQUESTS_CA_BUNDLE at it (MSAL's
    HTTP client is a requests.Session, which takes its CA bundle from there).
    """

    def __init__(self, tenant: str, directory: Path, access_token: str = "fake-bot-framework-access-token"):
        self.tenant = tenant
        self.access_token = access_token
        self.ca_file = directory / "fake-authority-cert.pem"
        self._key_file = directory / "fake-authority-key.pem"
        self.token_requests: list[dict[str, str]] = []  # the forms MSAL posted to the token endpoint
        super().__init__()

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self.port}/{self.tenant}"

    async def start(self) -> FakeAuthority:
        app = web.Application()
        app.router.add_get(f"/{self.tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration)
        app.router.add_post(f"/{self.tenant}/oauth2/v2.0/token", self._token)
        self._write_certificate()
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(self.ca_file, self._key_file)
        # LocalServer.serve has no TLS; the same, with it.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def _openid_configuration(self, _request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": f"{self.authority}/v2.0",
            "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.authority}/oauth2/v2.0/token",
            "jwks_uri": f"{self.authority}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append(form)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        return web.json_response({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600,
                                  "access_token": self.access_token})

    def _write_certificate(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake login.microsoftonline.com")])
        now = datetime.now(UTC)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        # Self-signed, and its own CA: complete enough for urllib3's strict verification.
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(key, hashes.SHA256())
        )
        self.ca_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self._key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                     serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
