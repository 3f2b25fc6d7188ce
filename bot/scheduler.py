"""Scheduled digests: APScheduler decides *when*, the outbox table decides *once*.

Each active subscription is an APScheduler cron job, in the subscription's time
zone, stored in the application's database (SQLAlchemyJobStore on the same
engine), so jobs survive restarts; missed runs coalesce into one catch-up run.
A firing job does not send anything by itself: it claims the outbox row of
(subscription, period) in its own transaction — the row's unique key lets one
process win — sends, and marks the row sent. A claim whose process died is taken
over after CLAIM_TIMEOUT; failures are retried with backoff; a conversation the
bot was removed from is marked gone and its subscription stopped.

`tapbot scheduler` runs this as the Procfile's worker; `tapbot serve
--with-scheduler` runs it inside the web process; `tapbot scheduler --once`
sends what is due, prints console digests, and exits.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import cast

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import CursorResult, Engine, and_, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from bot.config import Settings
from bot.delivery import LOCAL_CHANNELS, DeliveryError, Destination, deliver
from handlers.context import Context
from handlers.digest import Period, Schedule, as_utc, last_period, subscription_plan
from handlers.digest_content import build_digest, date_range
from handlers.messages import Reply
from handlers.render import render_text
from storage.models import SCHEDULER_JOBS_TABLE, ConversationRef, DigestDelivery, DigestSubscription

log = logging.getLogger(__name__)

# Longer than any send can take (HTTP calls time out well before), so a live
# sender never loses its claim; short enough that a crash costs minutes, not a week.
CLAIM_TIMEOUT = timedelta(minutes=10)
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                timedelta(hours=1), timedelta(hours=3))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
SYNC_SECONDS = 60  # how soon a subscription made in another process gets its job
SEND_TIMEOUT_SECONDS = 120
DIGESTS = "digests"  # the persistent job store's alias
LOCAL = "local"  # this process's housekeeping jobs, never persisted

SendFunction = Callable[[Destination, Reply], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# --- the outbox ------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one attempt at a digest came to."""

    delivery_id: int
    destination: Destination
    period: str
    state: str  # sent, failed, gone, lost (our claim was taken over while we were sending)
    text: str | None = None
    error: str | None = None


class DigestSender:
    """Sends due digests through the outbox, so each (subscription, period) goes out once."""

    def __init__(self, ctx: Context, send: SendFunction, worker: str | None = None,
                 claim_timeout: timedelta = CLAIM_TIMEOUT):
        self.ctx = ctx
        self.send = send
        self.worker = worker or worker_name()
        self.claim_timeout = claim_timeout

    def run_subscription(self, subscription_id: int, now: datetime) -> Outcome | None:
        """What a firing job does: send the subscription's latest complete period, unless
        some process already claimed it. After downtime this is the one catch-up digest."""
        with self.ctx.sessions() as session:
            subscription = session.get(DigestSubscription, subscription_id)
            if subscription is None or subscription.state != "active":
                return None
            period = last_period(Schedule.of(subscription), now)
            if period.due <= as_utc(subscription.starts_at):
                return None  # due before this schedule was set up
            _, problem = subscription_plan(self.ctx, subscription)
            if problem:  # never a digest for nothing; `digest list` tells the conversation
                log.warning("digest subscription %s (%s:%s) skipped: %s", subscription_id, subscription.channel,
                            subscription.conversation_id, problem)
                return None
            delivery = DigestDelivery(
                subscription_id=subscription_id, period_start=period.first_day, period_end=period.last_day,
                due_at=as_utc(period.due), state="claimed", claimed_at=now, claimed_by=self.worker, attempts=1)
            session.add(delivery)
            try:
                session.commit()  # the claim: its own transaction, before anything is sent
            except IntegrityError:
                return None  # another process has this period
            delivery_id = delivery.id
        return self._send(delivery_id, now)

    def send_due(self, now: datetime) -> list[Outcome]:
        """Every active subscription's due period, then retries: `tapbot scheduler --once`."""
        with self.ctx.sessions() as session:
            ids = list(session.scalars(select(DigestSubscription.id)
                                       .where(DigestSubscription.state == "active").order_by(DigestSubscription.id)))
        outcomes = [o for o in (self.run_subscription(i, now) for i in ids) if o is not None]
        return outcomes + self.retry_due(now)

    def retry_due(self, now: datetime) -> list[Outcome]:
        """Failed deliveries whose next attempt is due, and claims left by a process that died."""
        stale = now - self.claim_timeout
        with self.ctx.sessions() as session:
            ids = list(session.scalars(
                select(DigestDelivery.id)
                .join(DigestSubscription, DigestSubscription.id == DigestDelivery.subscription_id)
                .where(DigestSubscription.state == "active", or_(  # `digest off` also ends retries
                    and_(DigestDelivery.state == "failed", DigestDelivery.next_attempt_at <= now),
                    and_(DigestDelivery.state == "claimed", DigestDelivery.claimed_at < stale)))
                .order_by(DigestDelivery.id)))
        outcomes = []
        for delivery_id in ids:
            if self._take_over(delivery_id, now):
                outcomes.append(self._send(delivery_id, now))
        return outcomes

    def _take_over(self, delivery_id: int, now: datetime) -> bool:
        """Claim an existing row; the WHERE clause makes one process win, as the insert does."""
        stale = now - self.claim_timeout
        retryable = or_(
            and_(DigestDelivery.state == "failed", DigestDelivery.next_attempt_at <= now),
            and_(DigestDelivery.state == "claimed", DigestDelivery.claimed_at < stale),
        )
        with self.ctx.sessions() as session:
            # (An UPDATE's result is a CursorResult, which has the row count.)
            # A claim that keeps dying (a crash while building or sending) stops here.
            exhausted = cast(CursorResult, session.execute(
                update(DigestDelivery)
                .where(DigestDelivery.id == delivery_id, DigestDelivery.state == "claimed",
                       DigestDelivery.claimed_at < stale, DigestDelivery.attempts >= MAX_ATTEMPTS)
                .values(state="failed", next_attempt_at=None,
                        last_error=f"the sending process stopped {MAX_ATTEMPTS} times"))).rowcount
            if exhausted:
                session.commit()
                return False
            claimed = cast(CursorResult, session.execute(
                update(DigestDelivery).where(DigestDelivery.id == delivery_id, retryable)
                .values(state="claimed", claimed_at=now, claimed_by=self.worker, next_attempt_at=None,
                        attempts=DigestDelivery.attempts + 1))).rowcount
            session.commit()
            return claimed == 1

    def _send(self, delivery_id: int, now: datetime) -> Outcome:
        try:
            destination, reply, period = self._prepare(delivery_id)
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("digest %s could not be built [%s]", delivery_id, error_id)
            return self._finish(delivery_id, now, "failed", f"unexpected error {error_id}",
                                Destination("?", "?"), "")
        text = render_text(reply)
        try:
            self.send(destination, reply)
        except DeliveryError as error:
            state = "gone" if error.permanent else "failed"
            log.warning("digest %s to %s:%s %s: %s", delivery_id, destination.channel,
                        destination.conversation_id, state, error)
            return self._finish(delivery_id, now, state, str(error)[:500], destination, period)
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("digest %s to %s:%s failed [%s]", delivery_id, destination.channel,
                          destination.conversation_id, error_id)
            return self._finish(delivery_id, now, "failed", f"unexpected error {error_id}", destination, period)
        return self._finish(delivery_id, now, "sent", None, destination, period, text)

    def _prepare(self, delivery_id: int) -> tuple[Destination, Reply, str]:
        with self.ctx.sessions() as session:
            delivery = session.get_one(DigestDelivery, delivery_id)
            subscription = delivery.subscription
            schedule = Schedule.of(subscription)
            due = as_utc(delivery.due_at)
            days = (delivery.period_end - delivery.period_start).days + 1
            period = Period(delivery.period_start, delivery.period_end, due - timedelta(days=days), due)
            plan, problem = subscription_plan(self.ctx, subscription)
            if plan is None:
                raise LookupError(problem)
            reply = build_digest(session, plan, subscription.scope, schedule, period,
                                 today=due.astimezone(schedule.zone).date(),
                                 covers_from=self._catch_up_from(session, delivery, schedule))
            ref = session.get(ConversationRef, (subscription.channel, subscription.conversation_id))
            destination = Destination(subscription.channel, subscription.conversation_id,
                                      ref.reference if ref else None)
            return destination, reply, date_range(delivery.period_start, delivery.period_end)

    @staticmethod
    def _catch_up_from(session, delivery: DigestDelivery, schedule: Schedule) -> date:
        """After downtime, a digest reaches back to where the last one sent under this
        schedule ended, or to the first period this schedule was due to send."""
        starts_at = as_utc(delivery.subscription.starts_at)
        previous = session.scalars(
            select(DigestDelivery).where(
                DigestDelivery.subscription_id == delivery.subscription_id, DigestDelivery.state == "sent",
                DigestDelivery.period_end < delivery.period_start, DigestDelivery.due_at >= starts_at)
            .order_by(DigestDelivery.period_end.desc()).limit(1)).first()
        if previous is not None:
            return previous.period_end + timedelta(days=1)
        return last_period(schedule, schedule.next_run(starts_at)).first_day

    def _finish(self, delivery_id: int, now: datetime, state: str, error: str | None,
                destination: Destination, period: str, text: str | None = None) -> Outcome:
        with self.ctx.sessions() as session:
            delivery = session.get_one(DigestDelivery, delivery_id, with_for_update=True)
            if delivery.state != "claimed" or delivery.claimed_by != self.worker:
                # Our claim timed out and another process took over: a second message may exist.
                log.error("digest %s: claim lost to %s while sending", delivery_id, delivery.claimed_by)
                return Outcome(delivery_id, destination, period, "lost", text, error)
            delivery.last_error = error
            if state == "sent":
                delivery.state, delivery.sent_at, delivery.text = "sent", now, text
            elif state == "gone":
                delivery.state, delivery.next_attempt_at = "gone", None
                delivery.subscription.state = "gone"  # not retried forever; `digest list` says so
            else:
                delivery.state = "failed"
                delivery.next_attempt_at = (now + RETRY_DELAYS[delivery.attempts - 1]
                                            if delivery.attempts < MAX_ATTEMPTS else None)
            session.commit()
            return Outcome(delivery_id, destination, period, state, text, error)


# --- APScheduler -------------------------------------------------------------------


def digest_job(subscription_id: int) -> None:
    """The function stored in every digest job. DigestJobStore hands each job loaded from
    the database this process's sender instead, so no secret or live object is pickled."""
    raise RuntimeError("digest jobs run through DigestJobStore")


class DigestJobStore(SQLAlchemyJobStore):
    """The digest jobs, in the application's database."""

    def __init__(self, engine: Engine, fire: Callable[[int], None]):
        super().__init__(engine=engine, tablename=SCHEDULER_JOBS_TABLE)
        self._fire = fire

    def start(self, scheduler, alias):
        try:
            super().start(scheduler, alias)
        except (ProgrammingError, IntegrityError, OperationalError):
            # Two processes starting at once both try CREATE TABLE; the loser finds it there.
            super().start(scheduler, alias)

    def _reconstitute_job(self, job_state):
        job = super()._reconstitute_job(job_state)
        job.func = partial(self._fire)
        return job


def job_id(subscription_id: int) -> str:
    return f"digest-{subscription_id}"


class DigestScheduler:
    """One process's scheduler: digest jobs in the database, housekeeping in memory."""

    def __init__(self, ctx: Context, engine: Engine, send: SendFunction, worker: str | None = None,
                 clock: Callable[[], datetime] = utcnow):
        self.sender = DigestSender(ctx, send, worker)
        self.ctx = ctx
        self.clock = clock
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            # One catch-up run however many were missed, however late: the outbox keeps it once.
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self.scheduler.add_jobstore(DigestJobStore(engine, self._fire), alias=DIGESTS)
        self.scheduler.add_jobstore(MemoryJobStore(), alias=LOCAL)

    def start(self, paused: bool = False) -> None:
        """Start; `paused` keeps every job from running (the job store and jobs still work)."""
        self.scheduler.start(paused=paused)
        now = self.clock()
        self.scheduler.add_job(self.sync_jobs, "interval", seconds=SYNC_SECONDS, id="sync", jobstore=LOCAL,
                               next_run_time=now, replace_existing=True)
        self.scheduler.add_job(self._retry, "interval", seconds=60, id="retry", jobstore=LOCAL,
                               next_run_time=now + timedelta(seconds=5), replace_existing=True)
        log.info("digest scheduler started as %s", self.sender.worker)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def sync_jobs(self) -> None:
        """Make the stored jobs match the active subscriptions (made by any process)."""
        with self.ctx.sessions() as session:
            subscriptions = list(session.scalars(
                select(DigestSubscription).where(DigestSubscription.state == "active")))
        wanted = {job_id(s.id): s for s in subscriptions}
        for job in self.scheduler.get_jobs(jobstore=DIGESTS):
            if job.id not in wanted:
                with contextlib.suppress(JobLookupError):  # another process removed it first
                    self.scheduler.remove_job(job.id, jobstore=DIGESTS)
        for jid, subscription in wanted.items():
            schedule = Schedule.of(subscription)
            starts_at = as_utc(subscription.starts_at)
            name = f"{schedule.signature()} from {starts_at.isoformat()}"
            job = self.scheduler.get_job(jid, jobstore=DIGESTS)
            if job is not None and job.name == name:
                continue  # untouched, so a run missed during downtime is still pending
            self.scheduler.add_job(
                "bot.scheduler:digest_job", trigger=schedule.trigger(), args=[subscription.id], id=jid, name=name,
                jobstore=DIGESTS, replace_existing=True,
                # From when the schedule took effect, not from now: a run due while no
                # scheduler was up is in the past, so it fires at once (coalesced).
                next_run_time=schedule.next_run(starts_at),
            )

    def _fire(self, subscription_id: int) -> None:
        self.sender.run_subscription(subscription_id, self.clock())

    def _retry(self) -> None:
        self.sender.retry_due(self.clock())


# --- entry points ------------------------------------------------------------------------


def sending_with(settings: Settings, run: Callable[[Coroutine], object]) -> SendFunction:
    """A blocking send function over the async channel clients; `run` runs one coroutine."""
    def send(destination: Destination, reply: Reply) -> None:
        run(deliver(settings, destination, reply))
    return send


def run_scheduler(settings: Settings, once: bool) -> int:
    """`tapbot scheduler [--once]`."""
    from bot.app import build_context

    ctx = build_context(settings)
    send = sending_with(settings, asyncio.run)
    if once:
        outcomes = DigestSender(ctx, send).send_due(utcnow())
        for outcome in outcomes:
            _print_outcome(outcome)
        if not outcomes:
            print("no digest due")
        return 1 if any(o.state in ("failed", "lost") for o in outcomes) else 0
    scheduler = DigestScheduler(ctx, ctx.engine, send)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    stop.wait()
    log.info("stopping the digest scheduler")
    scheduler.shutdown()
    return 0


def _print_outcome(outcome: Outcome) -> None:
    where = f"{outcome.destination.channel}:{outcome.destination.conversation_id}"
    if outcome.state == "sent" and outcome.destination.channel in LOCAL_CHANNELS:
        print(f"── digest for {where} ──\n{outcome.text}\n", flush=True)
    elif outcome.state == "sent":
        print(f"sent the digest of {outcome.period} to {where}", flush=True)
    else:
        print(f"digest of {outcome.period} to {where}: {outcome.state} ({outcome.error})", flush=True)


def attach_scheduler(app, settings: Settings, ctx: Context) -> None:
    """`tapbot serve --with-scheduler`: the scheduler starts and stops with the web app.

    Jobs run in the scheduler's threads (database work never blocks the event loop);
    their Slack and Teams calls run on the app's loop, where the HTTP clients live."""
    from aiohttp import web

    key = web.AppKey("digest_scheduler", DigestScheduler)

    async def start(app: web.Application) -> None:
        loop = asyncio.get_running_loop()

        def run(coroutine: Coroutine) -> object:
            return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=SEND_TIMEOUT_SECONDS)

        scheduler = DigestScheduler(ctx, ctx.engine, sending_with(settings, run))
        await loop.run_in_executor(None, scheduler.start)
        app[key] = scheduler

    async def stop(app: web.Application) -> None:
        scheduler = app.get(key)
        if scheduler is not None:
            await asyncio.get_running_loop().run_in_executor(None, scheduler.shutdown)

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
