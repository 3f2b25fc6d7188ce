"""Round trip of `status SC2` over Teams, against a bare echo agent on the same SDK and server.

Run from the repository root: ``python benchmarks/teams_status.py [--activities 2000] [--requests 1000]``.

One aiohttp server carries tapbot's Teams endpoint (/api/messages) and an echo
agent (/api/echo) built on the same SDK adapter; both reply through the fake Bot
Connector of the tests. A round trip is the time from posting the Activity to
the reply arriving at the connector. Requests alternate between the two, so both
see the same machine. Anonymous mode: no token is checked or fetched on either.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from fakes.bot_connector import FakeBotConnector  # noqa: E402
from microsoft_agents.activity import Activity  # noqa: E402
from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator  # noqa: E402
from microsoft_agents.hosting.core import ActivityHandler, TurnContext  # noqa: E402

from benchmarks.seed import seed  # noqa: E402
from bot.app import build_context  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.server import build_web_app  # noqa: E402
from bot.teams import _adapter, auth_configuration, card_activity  # noqa: E402
from bot.teams_cards import reply_card  # noqa: E402
from handlers.dispatch import dispatch  # noqa: E402
from handlers.messages import Incoming  # noqa: E402
from storage.db import make_engine  # noqa: E402

TARGET = 1.5


class Echo(ActivityHandler):
    """Echoes the text; sends `card` when it is told "card"."""

    def __init__(self, card: Activity):
        self.card = card

    async def on_message_activity(self, context: TurnContext) -> None:
        text = context.activity.text or ""
        await context.send_activity(self.card if text == "card" else text)


def activity(text: str, n: int, service_url: str) -> dict:
    return {"type": "message", "id": f"bench-{n}", "text": text, "channelId": "msteams", "serviceUrl": service_url,
            "from": {"id": "29:bench", "name": "Bench", "aadObjectId": "aad-bench"},
            "recipient": {"id": "28:tapbot", "name": "tapbot"},
            "conversation": {"id": "a:bench", "conversationType": "personal", "tenantId": "t"}}


async def measure(settings: Settings, requests: int, warmup: int) -> dict[str, list[float]]:
    ctx = build_context(settings)
    connector = await FakeBotConnector().start()
    arrived: dict[str, float] = {}
    connector.on_post = lambda post: arrived.__setitem__(post.reply_to_id, post.at)

    app = build_web_app(settings, ctx)  # as `tapbot serve` builds it (Teams on, Slack off)
    # The card tapbot answers `status SC2` with, for the echo agent to send as it is.
    card = card_activity(reply_card(dispatch(Incoming("status SC2", "u", "c", "teams"), ctx)))
    echo_adapter, echo = _adapter(auth_configuration(settings)), Echo(card)

    @jwt_authorization_decorator
    async def echo_route(request: web.Request) -> web.StreamResponse:
        return await echo_adapter.process(request, echo)

    app.router.add_post("/api/echo", echo_route)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    # "echo card" is the bare agent sending tapbot's status card: what the SDK costs to send that card,
    # apart from anything tapbot does. `help` is tapbot's cheapest command.
    runs = (("echo", "/api/echo", "status SC2"), ("status SC2", "/api/messages", "status SC2"),
            ("echo card", "/api/echo", "card"), ("help", "/api/messages", "help"))
    times: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    async with aiohttp.ClientSession() as client:
        for n in range(warmup + requests):
            for name, path, text in runs:
                key = f"{name}-{n}"
                started = time.perf_counter()
                async with client.post(base + path, json=activity(text, key, connector.service_url)) as r:
                    assert r.status == 202, r.status
                if n >= warmup:
                    times[name].append(arrived[f"bench-{key}"] - started)
                # The connector runs in this process: posts kept would grow the heap that every
                # garbage collection walks, and the pauses would fall on whichever request was running.
                connector.posts.clear()
    await runner.cleanup()
    await connector.stop()
    return times


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 else max(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=2000, help="activities in the database")
    parser.add_argument("--requests", type=int, default=1000, help="measured requests of each kind")
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", teams_allow_anonymous=True,
                            tapbot_env="development")
        ctx = build_context(settings)  # migrates
        seed(make_engine(settings.database_url), args.activities, ctx.plan)
        times = asyncio.run(measure(settings, args.requests, args.warmup))

    print(f"Teams round trip (request in → reply at the fake Bot Connector), SQLite with {args.activities} "
          f"activities, {args.requests} requests each, interleaved")
    rows = {name: (percentile(t, 50) * 1000, percentile(t, 99) * 1000) for name, t in times.items()}
    print(f"{'':12} {'p50 ms':>8} {'p99 ms':>8}")
    for name, (p50, p99) in rows.items():
        print(f"{name:12} {p50:8.1f} {p99:8.1f}")
    for name in ("status SC2", "echo card", "help"):
        ratio50, ratio99 = rows[name][0] / rows["echo"][0], rows[name][1] / rows["echo"][1]
        verdict = "met" if max(ratio50, ratio99) <= TARGET else "NOT met"
        print(f"ratio {name}/echo: p50 {ratio50:.2f}, p99 {ratio99:.2f} (target ≤ {TARGET} at both: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
