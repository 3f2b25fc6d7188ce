"""Scheduled digests: the right instant across DST, exactly once across processes and crashes,
retries and removed conversations, and delivery through the channels' local fakes."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import POSTGRES_URL
from sqlalchemy import inspect, text

from bot.config import Settings
from bot.delivery import DeliveryError, Destination
from bot.scheduler import (
    CLAIM_TIMEOUT,
    DIGESTS,
    MAX_ATTEMPTS,
    DigestScheduler,
    DigestSender,
    attach_scheduler,
    job_id,
    sending_with,
)
from handlers.digest import as_utc, run_digest
from handlers.messages import Incoming, Reply
from handlers.render import render_text
from storage.db import upgrade
from storage.models import (
    SCHEDULER_JOBS_TABLE,
    Base,
    ConversationRef,
    DigestDelivery,
    DigestSubscription,
    managed_by_migrations,
)

UTC = UTC
ROOT = Path(__file__).resolve().parents[1]


def subscribe(ctx, args: str, now: datetime, channel: str = "console", conversation: str = "console") -> int:
    with ctx.sessions() as session:
        reply = run_digest(session, ctx, Incoming(f"digest {args}", "amina", conversation, channel), args, now=now)
        session.commit()
        assert reply.kind.value == "done", render_text(reply)
        return session.query(DigestSubscription).filter_by(channel=channel, conversation_id=conversation).one().id


def digest_list(ctx, now: datetime, channel: str = "console", conversation: str = "console") -> str:
    with ctx.sessions() as session:
        return render_text(run_digest(session, ctx, Incoming("digest list", "amina", conversation, channel),
                                      "list", now=now))


def deliveries(ctx) -> list[DigestDelivery]:
    with ctx.sessions() as session:
        return list(session.query(DigestDelivery).order_by(DigestDelivery.id))


class Recorder:
    """A send function that records what it was asked to post; `fail` with errors first."""

    def __init__(self, *errors: Exception):
        self.sent: list[tuple[Destination, Reply]] = []
        self.errors = list(errors)
        self.event = threading.Event()

    def __call__(self, destination: Destination, reply: Reply) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((destination, reply))
        self.event.set()


@pytest.fixture
def jobs_table(engine):
    """Schedulers create APScheduler's table; drop it after, as the migrations know nothing of it."""
    yield engine
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {SCHEDULER_JOBS_TABLE}"))


def url_of(engine, request) -> str:
    """The test database as a URL another process can open."""
    if engine.dialect.name == "sqlite":
        return engine.url.render_as_string(hide_password=False)
    schema = request.getfixturevalue("postgres_schema_url")
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def run_python(code: str, *args: str, env: dict | None = None, wait: bool = True):
    command = [sys.executable, "-c", textwrap.dedent(code), *args]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    if not wait:
        return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


# --- when ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("subscribed, first_run, second_run, weeks", [
    # Spring: Europe/Zurich goes from UTC+1 to UTC+2 on Sunday 30 March 2025.
    (datetime(2025, 3, 20, tzinfo=UTC), datetime(2025, 3, 24, 8, tzinfo=UTC), datetime(2025, 3, 31, 7, tzinfo=UTC),
     ["17–23 March 2025", "24–30 March 2025"]),
    # Autumn: back to UTC+1 on Sunday 26 October 2025.
    (datetime(2025, 10, 16, tzinfo=UTC), datetime(2025, 10, 20, 7, tzinfo=UTC), datetime(2025, 10, 27, 8, tzinfo=UTC),
     ["13–19 October 2025", "20–26 October 2025"]),
])
def test_nine_in_geneva_fires_at_the_right_utc_instant_on_both_sides_of_a_dst_change(
        ctx, jobs_table, subscribed, first_run, second_run, weeks):
    subscription = subscribe(ctx, "weekly monday 09:00 Geneva", subscribed)
    # The real APScheduler, its job stored in our database, computes the runs.
    scheduler = DigestScheduler(ctx, jobs_table, Recorder(), clock=lambda: subscribed)
    scheduler.start(paused=True)
    try:
        scheduler.sync_jobs()
        job = scheduler.scheduler.get_job(job_id(subscription), jobstore=DIGESTS)
        assert job.next_run_time == first_run
        assert job.trigger.get_next_fire_time(job.next_run_time, first_run) == second_run
    finally:
        scheduler.shutdown()

    # With the clock in our hands: nothing a second early, one digest at the instant, never twice.
    recorder = Recorder()
    sender = DigestSender(ctx, recorder, worker="w1")
    second = timedelta(seconds=1)
    for run in (first_run, second_run):
        assert sender.run_subscription(subscription, run - second) is None
        assert sender.run_subscription(subscription, run).state == "sent"
        assert sender.run_subscription(subscription, run + second) is None
    assert [as_utc(d.due_at) for d in deliveries(ctx)] == [first_run, second_run]
    assert [reply.title for _, reply in recorder.sent] == [f"Weekly digest · {week}" for week in weeks]


def test_jobs_survive_a_restart_and_missed_runs_coalesce_into_one_catch_up_digest(ctx, jobs_table):
    now = datetime.now(UTC)
    subscription = subscribe(ctx, "weekly monday 09:00 Geneva", now - timedelta(days=22))  # 3 runs missed
    recorder = Recorder()
    scheduler = DigestScheduler(ctx, jobs_table, recorder)
    scheduler.start()  # for real: sync adds the job with its first run in the past, so it is due at once
    try:
        assert recorder.event.wait(30), "the catch-up digest was not sent"
    finally:
        scheduler.shutdown()
    assert len(recorder.sent) == 1
    (delivery,) = deliveries(ctx)
    assert delivery.state == "sent" and delivery.subscription_id == subscription
    assert "Catch-up: earlier digests were not sent" in delivery.text

    # A new process finds the job in the database, its next run in the future.
    again = DigestScheduler(ctx, jobs_table, recorder)
    again.start(paused=True)
    try:
        job = again.scheduler.get_job(job_id(subscription), jobstore=DIGESTS)
        assert job is not None and job.next_run_time > now
        again.sync_jobs()  # an unchanged subscription keeps its job as it is
        assert again.scheduler.get_job(job_id(subscription), jobstore=DIGESTS).next_run_time == job.next_run_time
    finally:
        again.shutdown()


def test_a_stopped_subscription_loses_its_job(ctx, jobs_table):
    now = datetime(2025, 6, 16, 10, tzinfo=UTC)
    subscription = subscribe(ctx, "daily 08:00 Nairobi", now)
    scheduler = DigestScheduler(ctx, jobs_table, Recorder(), clock=lambda: now)
    scheduler.start(paused=True)
    try:
        scheduler.sync_jobs()
        assert scheduler.scheduler.get_job(job_id(subscription), jobstore=DIGESTS) is not None
        with ctx.sessions() as session:
            run_digest(session, ctx, Incoming("digest off", "amina", "console", "console"), "off", now=now)
            session.commit()
        scheduler.sync_jobs()
        assert scheduler.scheduler.get_job(job_id(subscription), jobstore=DIGESTS) is None
    finally:
        scheduler.shutdown()


def test_migrations_leave_the_scheduler_table_alone(ctx, jobs_table):
    scheduler = DigestScheduler(ctx, jobs_table, Recorder())
    scheduler.start(paused=True)
    scheduler.shutdown()
    assert SCHEDULER_JOBS_TABLE in inspect(jobs_table).get_table_names()
    with jobs_table.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": managed_by_migrations})
        assert compare_metadata(context, Base.metadata) == []
    upgrade(jobs_table)  # still a no-op


# --- once ------------------------------------------------------------------------------------------


SCHEDULER_PROCESS = """
    import sys, time
    from datetime import datetime, timezone
    from handlers.context import Context
    from plan_data.loader import load_plan
    from storage.db import make_engine, make_session_factory
    from storage.models import DigestDelivery
    from bot.scheduler import DigestScheduler

    url, sink, start_at, expected = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    engine = make_engine(url)
    ctx = Context(sessions=make_session_factory(engine), plan=load_plan())

    def send(destination, reply):
        with open(sink, "a") as out:  # one line per message, as a chat would show it
            out.write(f"{destination.conversation_id}\\t{reply.title}\\n")

    time.sleep(max(0.0, start_at - time.time()))  # both processes start together
    scheduler = DigestScheduler(ctx, engine, send)
    scheduler.start()
    deadline = time.time() + 60
    while time.time() < deadline:
        with ctx.sessions() as session:
            if session.query(DigestDelivery).filter_by(state="sent").count() >= expected:
                break
        time.sleep(0.1)
    scheduler.shutdown()
"""


def test_two_scheduler_processes_on_one_database_send_one_digest_per_period(ctx, jobs_table, request, tmp_path):
    """On PostgreSQL as the issue asks, and on SQLite as well: two real OS processes."""
    now = datetime.now(UTC)
    conversations = [f"room-{i}" for i in range(4)]
    for conversation in conversations:
        subscribe(ctx, "daily 07:00 Geneva", now - timedelta(days=9), conversation=conversation)
    sink = tmp_path / "messages.txt"
    start_at = str(datetime.now().timestamp() + 3)
    processes = [run_python(SCHEDULER_PROCESS, url_of(jobs_table, request), str(sink), start_at,
                            str(len(conversations)), wait=False) for _ in range(2)]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    messages = sink.read_text().splitlines()
    assert sorted(line.split("\t")[0] for line in messages) == conversations  # each exactly once
    rows = deliveries(ctx)
    assert [r.state for r in rows] == ["sent"] * len(conversations)
    assert len({r.subscription_id for r in rows}) == len(conversations)


def test_two_once_runs_of_the_cli_at_the_same_time_print_each_digest_once(ctx, jobs_table, request):
    now = datetime.now(UTC)
    for conversation in ("console", "second-terminal"):
        subscribe(ctx, "weekly monday 09:00 Geneva", now - timedelta(days=15), conversation=conversation)
    env = {"DATABASE_URL": url_of(jobs_table, request)}
    code = "import sys; from bot.cli import main; sys.exit(main(['scheduler', '--once']))"
    processes = [run_python(code, env=env, wait=False) for _ in range(2)]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(out)
    printed = "".join(outputs)
    assert printed.count("── digest for console:console ──") == 1
    assert printed.count("── digest for console:second-terminal ──") == 1
    assert printed.count("Weekly digest · ") == 2
    again = run_python(code, env=env)
    assert again.returncode == 0 and again.stdout.strip() == "no digest due"


def test_the_worker_process_sends_what_is_due_and_stops_cleanly_on_sigterm(ctx, jobs_table, request):
    """`tapbot scheduler`, the Procfile's worker, as a real process."""
    import signal
    import time

    subscribe(ctx, "weekly monday 09:00 Geneva", datetime.now(UTC) - timedelta(days=8))
    code = "import sys; from bot.cli import main; sys.exit(main(['scheduler']))"
    worker = run_python(code, env={"DATABASE_URL": url_of(jobs_table, request)}, wait=False)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not [d for d in deliveries(ctx) if d.state == "sent"]:
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert "digest scheduler started" in err and "stopping the digest scheduler" in err
    (row,) = deliveries(ctx)
    assert row.state == "sent" and row.text.startswith("Weekly digest · ")


CRASHING_SENDER = """
    import os, sys
    from datetime import datetime
    from handlers.context import Context
    from plan_data.loader import load_plan
    from storage.db import make_engine, make_session_factory
    from bot.scheduler import DigestSender

    url, subscription, now = sys.argv[1], int(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
    ctx = Context(sessions=make_session_factory(make_engine(url)), plan=load_plan())
    DigestSender(ctx, lambda destination, reply: os._exit(3), worker="doomed").run_subscription(subscription, now)
"""


def test_a_crash_between_claim_and_send_is_recovered_with_exactly_one_message(ctx, request, engine):
    due = datetime(2025, 6, 16, 7, tzinfo=UTC)
    subscription = subscribe(ctx, "weekly monday 09:00 Geneva", due - timedelta(days=3))
    crashed = run_python(CRASHING_SENDER, url_of(engine, request), str(subscription), due.isoformat())
    assert crashed.returncode == 3  # killed after claiming, before anything was sent
    (claim,) = deliveries(ctx)
    assert (claim.state, claim.claimed_by, claim.attempts) == ("claimed", "doomed", 1)
    assert "being sent" in digest_list(ctx, due)

    recorder = Recorder()
    survivor = DigestSender(ctx, recorder, worker="survivor")
    assert survivor.send_due(due + timedelta(minutes=1)) == []  # a fresh claim is left alone
    assert survivor.retry_due(due + CLAIM_TIMEOUT - timedelta(seconds=1)) == []
    (outcome,) = survivor.retry_due(due + CLAIM_TIMEOUT + timedelta(seconds=1))
    assert outcome.state == "sent"
    assert survivor.send_due(due + timedelta(hours=1)) == []
    assert len(recorder.sent) == 1
    (row,) = deliveries(ctx)
    assert (row.state, row.claimed_by, row.attempts) == ("sent", "survivor", 2)


def test_a_claim_that_keeps_dying_is_given_up(ctx):
    due = datetime(2025, 6, 16, 7, tzinfo=UTC)
    subscription = subscribe(ctx, "weekly monday 09:00 Geneva", due - timedelta(days=3))
    with ctx.sessions() as session:
        session.add(DigestDelivery(subscription_id=subscription, period_start=date(2025, 6, 9),
                                   period_end=date(2025, 6, 15), due_at=due, state="claimed", claimed_at=due,
                                   claimed_by="doomed", attempts=MAX_ATTEMPTS))
        session.commit()
    recorder = Recorder()
    assert DigestSender(ctx, recorder).retry_due(due + timedelta(hours=1)) == []
    (row,) = deliveries(ctx)
    assert row.state == "failed" and row.next_attempt_at is None and not recorder.sent
    assert f"the sending process stopped {MAX_ATTEMPTS} times); gave up" in digest_list(ctx, due)


# --- failures --------------------------------------------------------------------------------------


def test_failures_are_retried_with_backoff_and_shown_in_digest_list(ctx):
    due = datetime(2025, 6, 16, 7, tzinfo=UTC)
    subscription = subscribe(ctx, "weekly monday 09:00 Geneva", due - timedelta(days=3))
    recorder = Recorder(DeliveryError("Slack answered ratelimited"), RuntimeError("secret internals"))
    sender = DigestSender(ctx, recorder)
    assert sender.run_subscription(subscription, due).state == "failed"
    assert "failed 1× (Slack answered ratelimited); next try Mon 16 June 2025, 09:01" in digest_list(ctx, due)

    assert sender.retry_due(due + timedelta(seconds=59)) == []  # not before the backoff
    (second,) = sender.retry_due(due + timedelta(minutes=1))
    assert second.state == "failed"
    listed = digest_list(ctx, due)
    assert "failed 2× (unexpected error " in listed and "secret internals" not in listed
    assert "next try Mon 16 June 2025, 09:06" in listed  # 5 minutes after the second attempt

    (third,) = sender.retry_due(due + timedelta(minutes=6))
    assert third.state == "sent" and len(recorder.sent) == 1
    assert "last: 9–15 June 2025: sent Mon 16 June 2025, 09:06" in digest_list(ctx, due)


def test_digest_off_also_ends_retries(ctx):
    due = datetime(2025, 6, 16, 7, tzinfo=UTC)
    subscription = subscribe(ctx, "weekly monday 09:00 Geneva", due - timedelta(days=3))
    recorder = Recorder(DeliveryError("Slack answered ratelimited"))
    sender = DigestSender(ctx, recorder)
    assert sender.run_subscription(subscription, due).state == "failed"
    with ctx.sessions() as session:
        run_digest(session, ctx, Incoming("digest off", "amina", "console", "console"), "off", now=due)
        session.commit()
    assert sender.retry_due(due + timedelta(hours=1)) == [] and recorder.sent == []


def test_a_conversation_the_bot_was_removed_from_is_marked_gone_not_retried(ctx):
    due = datetime(2025, 6, 16, 7, tzinfo=UTC)
    subscription = subscribe(ctx, "weekly monday 09:00 Geneva", due - timedelta(days=3))
    recorder = Recorder(DeliveryError("Slack answered not_in_channel", permanent=True))
    sender = DigestSender(ctx, recorder)
    assert sender.run_subscription(subscription, due).state == "gone"
    assert sender.retry_due(due + timedelta(days=1)) == []
    assert sender.run_subscription(subscription, due + timedelta(days=7)) is None  # next week: not tried
    listed = digest_list(ctx, due)
    assert "cannot be reached (Slack answered not_in_channel); stopped" in listed
    assert "stopped: I could not post here any more" in listed
    with ctx.sessions() as session:
        assert session.get(DigestSubscription, subscription).state == "gone"
    subscribe(ctx, "weekly monday 09:00 Geneva", due + timedelta(days=8))  # added back, subscribed again
    assert sender.run_subscription(subscription, due + timedelta(days=14)).state == "sent"


# --- delivery through the channels' fakes ---------------------------------------------------------------


def _teams_reference(service_url: str, conversation: str) -> dict:
    return {"conversation": {"id": conversation, "isGroup": True, "conversationType": "channel"},
            "serviceUrl": service_url, "channelId": "msteams",
            "bot": {"id": "28:tapbot", "name": "tapbot"}}


def test_teams_digests_reach_the_bot_connector_from_serve_with_scheduler(ctx, jobs_table):
    """`tapbot serve --with-scheduler`: the scheduler starts with the app and posts on its loop."""
    from aiohttp import web
    from fakes.bot_connector import FakeBotConnector

    settings = Settings(teams_allow_anonymous=True, tapbot_env="development")
    conversation = "19:tap-progress@thread.tacv2"

    async def scenario():
        connector = await FakeBotConnector().start()
        posted = asyncio.Event()
        connector.on_post = lambda post: posted.set()
        with ctx.sessions() as session:
            session.add(ConversationRef(channel="teams", conversation_id=conversation,
                                        reference=_teams_reference(connector.service_url, conversation),
                                        timezone="Europe/Zurich"))
            session.commit()
        subscribe(ctx, "weekly", datetime.now(UTC) - timedelta(days=8), channel="teams", conversation=conversation)
        app = web.Application()
        attach_scheduler(app, settings, ctx)
        runner = web.AppRunner(app)
        await runner.setup()  # on_startup: the scheduler starts, the missed run is due
        try:
            await asyncio.wait_for(posted.wait(), 30)
        finally:
            await runner.cleanup()  # on_cleanup: the scheduler stops
            await connector.stop()
        return connector.posts

    (post,) = asyncio.run(scenario())
    assert post.conversation_id == conversation
    assert post.card is not None and "Weekly digest" in str(post.card)
    (row,) = deliveries(ctx)
    assert row.state == "sent"


def test_a_teams_conversation_that_removed_the_bot_is_gone(ctx):
    from fakes.bot_connector import FakeBotConnector

    settings = Settings(teams_allow_anonymous=True, tapbot_env="development")
    conversation = "19:removed@thread.tacv2"
    due = datetime(2025, 6, 16, 7, tzinfo=UTC)

    async def scenario():
        connector = await FakeBotConnector().start()
        connector.fail_with(403)
        with ctx.sessions() as session:
            session.add(ConversationRef(channel="teams", conversation_id=conversation,
                                        reference=_teams_reference(connector.service_url, conversation)))
            session.commit()
        subscription = subscribe(ctx, "weekly monday 09:00 Geneva", due - timedelta(days=3),
                                 channel="teams", conversation=conversation)
        loop = asyncio.get_running_loop()
        send = sending_with(settings, lambda c: asyncio.run_coroutine_threadsafe(c, loop).result(30))
        outcome = await asyncio.to_thread(DigestSender(ctx, send).run_subscription, subscription, due)
        await connector.stop()
        return outcome, connector.posts

    outcome, posts = asyncio.run(scenario())
    assert outcome.state == "gone" and len(posts) == 1
    assert "Teams answered 403" in digest_list(ctx, due, "teams", conversation)


def test_slack_digests_from_the_worker_reach_the_slack_web_api(ctx, jobs_table, request):
    """`tapbot scheduler --once` as a real process, posting with chat.postMessage to the fake Web API."""
    from fakes.slack_api import TOKEN, FakeSlackAPI

    subscribe(ctx, "weekly monday 09:00 Geneva", datetime.now(UTC) - timedelta(days=8),
              channel="slack", conversation="C0PROGRESS")

    async def scenario():
        async with FakeSlackAPI() as slack:
            env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url_of(jobs_table, request),
                   "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.base_url}
            worker = await asyncio.create_subprocess_exec(
                sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(['scheduler', '--once']))",
                cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(worker.communicate(), 120)
            return worker.returncode, out.decode(), err.decode(), slack.calls_to("chat.postMessage")

    returncode, out, err, posts = asyncio.run(scenario())
    assert returncode == 0, err
    assert "sent the digest of" in out and "to slack:C0PROGRESS" in out
    (post,) = posts
    assert post.args["channel"] == "C0PROGRESS"
    assert "Weekly digest · " in post.text and "What moved" in post.text
    (row,) = deliveries(ctx)
    assert row.state == "sent"


def test_slack_refusals_are_retried_or_end_the_subscription(ctx):
    from fakes.slack_api import TOKEN, FakeSlackAPI

    due = datetime(2025, 6, 16, 7, tzinfo=UTC)
    flaky = subscribe(ctx, "weekly monday 09:00 Geneva", due - timedelta(days=3), "slack", "C0FLAKY")
    removed = subscribe(ctx, "weekly monday 09:00 Geneva", due - timedelta(days=3), "slack", "C0REMOVED")

    async def scenario():
        async with FakeSlackAPI() as slack:
            settings = Settings(slack_bot_token=TOKEN, slack_api_url=slack.base_url)
            loop = asyncio.get_running_loop()
            sender = DigestSender(ctx, sending_with(
                settings, lambda c: asyncio.run_coroutine_threadsafe(c, loop).result(30)))
            slack.fail("chat.postMessage", "internal_error")
            first = await asyncio.to_thread(sender.run_subscription, flaky, due)
            slack.fail("chat.postMessage", "not_in_channel")
            gone = await asyncio.to_thread(sender.run_subscription, removed, due)
            retried = await asyncio.to_thread(sender.retry_due, due + timedelta(minutes=1))
            return first, gone, retried, slack.calls_to("chat.postMessage")

    first, gone, retried, posts = asyncio.run(scenario())
    assert first.state == "failed" and "internal_error" in first.error
    assert gone.state == "gone" and "not_in_channel" in gone.error
    assert [o.state for o in retried] == ["sent"]  # the flaky one only; the removed one is not retried
    assert [p.args["channel"] for p in posts] == ["C0FLAKY", "C0REMOVED", "C0FLAKY"]
    assert "cannot be reached (Slack refused the post to C0REMOVED: not_in_channel); stopped" in digest_list(
        ctx, due, "slack", "C0REMOVED")
