"""Time until a Slack user has the answer to `/tap status SC2`, beside a bare bolt app.

Run from the repository root:
``python benchmarks/slack_status.py [--activities 100000] [--requests 1000] [--database-url URL]``.

Seeds N activities (benchmarks/seed.py) into a fresh database: an SQLite file in
a temporary directory by default, or a schema of its own on a PostgreSQL URL
(dropped at the end). A server process then runs tapbot's web app as `tapbot
serve` builds it, and on the same aiohttp server a bare bolt AsyncApp whose
`/tap` listener acks a fixed text. This process plays Slack: it signs `/tap
status SC2` slash commands, sends them over loopback, and runs the fake Web API
(tests/fakes/slack_api.py) that receives response_url posts.

"Answered" is the HTTP ack when it carries the answer (tapbot answers in the
ack when the answer is ready within 2 s), else the arrival of the response_url
post at the fake. Each series runs alone, with 1 client and then with 20
concurrent clients: the bare app, tapbot's `status SC2`, and tapbot's `help`
(what the Slack adapter costs without the status query).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from fakes.slack_api import TOKEN, FakeSlackAPI, command_body, signed  # noqa: E402
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # noqa: E402
from slack_bolt.async_app import AsyncApp  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from benchmarks.seed import seed  # noqa: E402
from benchmarks.status_scale import database, ms, percentile  # noqa: E402
from bot.app import build_context  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.server import build_web_app  # noqa: E402
from bot.slack import web_client  # noqa: E402
from plan_data.loader import load_plan  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from storage.models import Activity  # noqa: E402

SECRET = "bench-signing-secret-5d1f0c9a7e"
USER = "U0BENCH"
TARGET = 1.5
GIVE_UP_AFTER = 120.0  # seconds without an answer: the user has given up too
SERIES = (("bare bolt app", "/bare/slack/events", "status SC2"),
          ("tapbot status SC2", "/slack/events", "status SC2"),
          ("tapbot help", "/slack/events", "help"))


# --- the server process ---------------------------------------------------------------------------

async def serve(url: str, api_url: str) -> None:
    settings = Settings(database_url=url, slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=api_url)
    app = build_web_app(settings, build_context(settings))
    bare = AsyncApp(client=web_client(settings), signing_secret=SECRET, name="bare")

    @bare.command("/tap")
    async def fixed(ack):
        await ack("SC2 · 7 indicators, 12,345 activities, 345,678 participants")

    async def bare_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bare.async_dispatch(await to_bolt_request(request)))

    app.router.add_post("/bare/slack/events", bare_events)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    await runner.cleanup()


# --- Slack's side: the clients ----------------------------------------------------------------------

class Clients:
    def __init__(self, http: aiohttp.ClientSession, api: FakeSlackAPI, base: str):
        self.http, self.api, self.base = http, api, base
        self.waiting: dict[str, asyncio.Future] = {}
        self.in_ack = self.later = self.lost = 0
        api.on_call = self._arrived

    def _arrived(self, call) -> None:
        future = self.waiting.pop(call.url, None)
        if future and not future.done():
            future.set_result(call.at)

    async def answered_in(self, path: str, command: str) -> float:
        """Seconds from sending the command to the user having the answer."""
        response_url = self.api.response_url()
        arrival = self.waiting[response_url] = asyncio.get_running_loop().create_future()
        body = command_body(command, response_url, user=USER)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(body, SECRET)}
        started = time.perf_counter()
        async with self.http.post(self.base + path, data=body.encode(), headers=headers) as response:
            ack = await response.text()
            acked = time.perf_counter()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status} {ack[:200]}")
        if ack:  # the answer is in the ack: JSON with blocks, or plain text as the bare app's
            self.waiting.pop(response_url, None)
            self.in_ack += 1
            return acked - started
        self.later += 1
        try:
            return await asyncio.wait_for(arrival, GIVE_UP_AFTER) - started
        except TimeoutError:  # counted, as a lower bound, so that a slow server's p99 shows it
            self.waiting.pop(response_url, None)
            self.lost += 1
            return GIVE_UP_AFTER

    async def run(self, path: str, command: str, requests: int, concurrency: int,
                  seconds: float = float("inf")) -> list[float]:
        """`requests` answers from `concurrency` clients, each asking again as soon as it has its answer;
        no new request after `seconds` (a slow server still gets its p50 and p99 measured)."""
        times: list[float] = []
        tickets = iter(range(requests))
        stop = time.perf_counter() + seconds

        async def client() -> None:
            while time.perf_counter() < stop and next(tickets, None) is not None:
                times.append(await self.answered_in(path, command))

        await asyncio.gather(*(client() for _ in range(concurrency)))
        return times


async def measure(url: str, requests: int, warmup: int, seconds: float) -> dict[tuple[str, int], list[float]]:
    async with FakeSlackAPI(users={USER: "Bench Trainer"}) as api:
        server = subprocess.Popen([sys.executable, __file__, "--serve", url, api.base_url], cwd=REPO,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = await asyncio.get_running_loop().run_in_executor(None, server.stdout.readline)
            if not line.strip():
                raise RuntimeError("the server process did not start")
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
                clients = Clients(http, api, f"http://127.0.0.1:{int(line)}")
                results = {}
                for concurrency in (1, 20):
                    for name, path, command in SERIES:
                        await clients.run(path, command, warmup, min(concurrency, warmup), seconds)
                        clients.in_ack = clients.later = clients.lost = 0
                        started = time.perf_counter()
                        times = results[name, concurrency] = await clients.run(path, command, requests, concurrency,
                                                                               seconds)
                        print(f"  {name:18} {concurrency:>2} client(s): {len(times)} answers in "
                              f"{time.perf_counter() - started:.1f} s ({clients.in_ack} in the ack, "
                              f"{clients.later} after it" + (f", {clients.lost} not within {GIVE_UP_AFTER:.0f} s"
                                                             if clients.lost else "") + ")", flush=True)
                return results
        finally:
            server.stdin.close()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=100_000, help="activities to seed (default 10^5)")
    parser.add_argument("--requests", type=int, default=1000,
                        help="timed answers per series and concurrency (default 1000)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30,
                        help="no new request in a series after this many seconds (default 30)")
    parser.add_argument("--database-url", help="default: an SQLite file in a temporary directory")
    parser.add_argument("--serve", nargs=2, metavar=("URL", "API_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.serve:
        asyncio.run(serve(*args.serve))
        return 0

    with database(args.database_url) as url:
        engine = make_engine(url)
        upgrade(engine)
        if args.activities:
            stats = seed(engine, args.activities, load_plan())
            print(f"seeded {stats.activities:,} activities in {stats.seconds:.1f} s")
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        with engine.connect() as conn:
            held = conn.scalar(select(func.count(Activity.id)))
        dialect = engine.dialect.name
        engine.dispose()
        print(f"/tap status SC2 over loopback on {held:,} activities ({dialect}); up to {args.requests} timed "
              f"answers or {args.seconds:.0f} s per series, after {args.warmup} untimed")
        results = asyncio.run(measure(url, args.requests, args.warmup, args.seconds))

    print(f"\n{'time until the user has the answer':34} {'1 client':>20} {'20 clients':>20}")
    print(f"{'':34} {'p50':>9} {'p99':>10} {'p50':>9} {'p99':>10}")
    for name, _, _ in SERIES:
        cells = [f"{ms(statistics.median(results[name, c])):>9} {ms(percentile(results[name, c], 99)):>10}"
                 for c in (1, 20)]
        print(f"{name:34} {cells[0]} {cells[1]}")
    for concurrency in (1, 20):
        bare, ours = results["bare bolt app", concurrency], results["tapbot status SC2", concurrency]
        ratio = percentile(ours, 99) / percentile(bare, 99)
        print(f"p99 ratio tapbot/bare, {concurrency:>2} client(s): {ratio:.2f} "
              f"(p50 {statistics.median(ours) / statistics.median(bare):.2f}); target <= {TARGET}: "
              f"{'met' if ratio <= TARGET else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
