"""`digest …`: subscribe a conversation to a progress digest, and the schedule behind it.

A schedule is an APScheduler cron trigger in the subscription's own time zone, so
"Monday 09:00 Geneva" stays 09:00 in Geneva on both sides of a daylight-saving
change. The same trigger decides when the scheduler fires, what `digest list`
shows as the next run, and which period a digest covers: the days from the
previous run up to the day before this one.

  digest weekly monday 09:00 Geneva     subscribe (also daily, monthly; a filter: a convention or outcome)
  digest list · digest off [scope] · digest now [scope] · digest preview [scope]
"""
from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.context import Context
from handlers.digest_content import build_digest, date_range, sentence
from handlers.examples import plan_examples
from handlers.messages import Action, Field, Incoming, Reply, ReplyKind
from plan_data.loader import Plan
from storage.models import ConversationRef, DigestDelivery, DigestSubscription

DIGEST_EXAMPLE = "digest weekly monday 09:00 Geneva\ndigest daily 08:30 Nairobi SC\ndigest monthly 1st 10:00 Panama"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_HOUR, DEFAULT_MINUTE, DEFAULT_WEEKDAY, DEFAULT_DAY = 9, 0, 0, 1

# Cities people name for a time zone that the IANA database files under another
# name (Geneva keeps Zurich's time; there is no Europe/Geneva). Cities that are
# themselves zone names (Nairobi, Panama, Bangkok…) are found in the database.
# Basel, Rotterdam and Stockholm are left out on purpose: here they name conventions.
CITY_ZONES = {
    "geneva": "Europe/Zurich", "genève": "Europe/Zurich", "geneve": "Europe/Zurich", "genf": "Europe/Zurich",
    "ginevra": "Europe/Zurich", "bern": "Europe/Zurich", "berne": "Europe/Zurich", "lausanne": "Europe/Zurich",
    "the hague": "Europe/Amsterdam", "den haag": "Europe/Amsterdam", "bonn": "Europe/Berlin",
    "frankfurt": "Europe/Berlin", "munich": "Europe/Berlin", "milan": "Europe/Rome", "barcelona": "Europe/Madrid",
    "geneva time": "Europe/Zurich", "washington": "America/New_York", "washington dc": "America/New_York",
    "washington d.c.": "America/New_York", "ottawa": "America/Toronto", "montreal": "America/Toronto",
    "san francisco": "America/Los_Angeles", "brasilia": "America/Sao_Paulo", "brasília": "America/Sao_Paulo",
    "rio de janeiro": "America/Sao_Paulo", "rio": "America/Sao_Paulo", "quito": "America/Guayaquil",
    "san salvador": "America/El_Salvador", "port of spain": "America/Port_of_Spain",
    "kingston": "America/Jamaica", "havana": "America/Havana",
    "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata", "mumbai": "Asia/Kolkata", "bangalore": "Asia/Kolkata",
    "beijing": "Asia/Shanghai", "hanoi": "Asia/Bangkok", "ho chi minh city": "Asia/Ho_Chi_Minh",
    "islamabad": "Asia/Karachi", "abu dhabi": "Asia/Dubai", "doha": "Asia/Qatar", "kuala lumpur": "Asia/Kuala_Lumpur",
    "pretoria": "Africa/Johannesburg", "cape town": "Africa/Johannesburg", "abuja": "Africa/Lagos",
    "yaounde": "Africa/Douala", "yaoundé": "Africa/Douala", "addis": "Africa/Addis_Ababa",
    "canberra": "Australia/Sydney", "wellington": "Pacific/Auckland", "samoa": "Pacific/Apia",
    "suva": "Pacific/Fiji", "fiji": "Pacific/Fiji",
    "utc": "UTC", "gmt": "UTC", "z": "UTC",
}
_SKIP_ZONE_PREFIXES = ("Etc/", "SystemV/", "posix/", "right/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/")


@lru_cache(maxsize=1)
def _zone_index() -> dict[str, str]:
    """Lower-case IANA names and their last part ("nairobi") → the zone."""
    index: dict[str, str] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if name.startswith(_SKIP_ZONE_PREFIXES) or "/" not in name:
            continue
        index[name.lower()] = name
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        index.setdefault(city, name)
    index["utc"] = "UTC"
    return index


def resolve_zone(text: str) -> str | None:
    """An IANA zone for an IANA name or a city people say ("Geneva" → Europe/Zurich); None if unknown."""
    key = re.sub(r"\s+", " ", text.strip().lower())
    if not key:
        return None
    if key in CITY_ZONES:
        return CITY_ZONES[key]
    zone = _zone_index().get(key) or _zone_index().get(key.replace(" ", "_"))
    return zone


# --- the schedule ---------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    cadence: str  # daily (Monday to Friday), weekly, monthly
    hour: int
    minute: int
    timezone: str
    weekday: int | None = None  # weekly: 0 = Monday
    day_of_month: int | None = None  # monthly: 1–28

    @classmethod
    def of(cls, subscription: DigestSubscription) -> Schedule:
        return cls(subscription.cadence, subscription.hour, subscription.minute, subscription.timezone,
                   subscription.weekday, subscription.day_of_month)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def trigger(self) -> CronTrigger:
        """The cron trigger that fires this schedule, in its own zone."""
        fields: dict = {"hour": self.hour, "minute": self.minute, "second": 0}
        if self.cadence == "daily":
            fields["day_of_week"] = "mon-fri"
        elif self.cadence == "weekly":
            fields["day_of_week"] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[self.weekday or 0]
        else:
            fields["day"] = self.day_of_month or DEFAULT_DAY
        return CronTrigger(timezone=self.zone, **fields)

    def describe(self) -> str:
        at = f"{self.hour:02d}:{self.minute:02d}"
        if self.cadence == "daily":
            return f"daily, Monday to Friday at {at}"
        if self.cadence == "weekly":
            return f"weekly, {WEEKDAYS[self.weekday or 0].capitalize()}s at {at}"
        return f"monthly, on the {_ordinal(self.day_of_month or DEFAULT_DAY)} at {at}"

    def signature(self) -> str:
        """Changes whenever the schedule does (the scheduler compares it with its stored job)."""
        return f"{self.cadence} {self.weekday} {self.day_of_month} {self.hour:02d}:{self.minute:02d} {self.timezone}"

    def next_run(self, after: datetime) -> datetime:
        """The first run strictly after `after`, as an aware datetime in the schedule's zone."""
        return self.trigger().get_next_fire_time(None, after + timedelta(microseconds=1))

    def runs_between(self, start: datetime, end: datetime) -> list[datetime]:
        """Every run in [start, end]."""
        trigger, runs = self.trigger(), []
        run = trigger.get_next_fire_time(None, start)
        while run is not None and run <= end:
            runs.append(run)
            run = trigger.get_next_fire_time(run, run + timedelta(microseconds=1))
        return runs

    def last_runs(self, now: datetime, count: int = 2) -> list[datetime]:
        """The last `count` runs at or before `now`, oldest first."""
        lookback = {"daily": 10, "weekly": 22, "monthly": 95}[self.cadence]
        while True:
            runs = self.runs_between(now - timedelta(days=lookback), now)
            if len(runs) >= count:
                return runs[-count:]
            lookback *= 2


@dataclass(frozen=True)
class Period:
    """The days a digest covers, in the subscription's zone, and the runs that bound them."""

    first_day: date
    last_day: date  # included
    opened: datetime  # the run that started the period
    due: datetime  # the run that sends it (for a preview: the next run)

    def label(self) -> str:
        return date_range(self.first_day, self.last_day)


def last_period(schedule: Schedule, now: datetime) -> Period:
    """The latest complete period at `now`: from the run before the last one, to the last one."""
    opened, due = schedule.last_runs(now, 2)
    return Period(opened.date(), due.date() - timedelta(days=1), opened, due)


def current_period(schedule: Schedule, now: datetime) -> Period:
    """The period in progress at `now`, so far (what the next digest will cover)."""
    (opened,) = schedule.last_runs(now, 1)
    today = now.astimezone(schedule.zone).date()
    return Period(opened.date(), max(opened.date(), today), opened, schedule.next_run(now))


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; SQLite gives back the UTC values it stored without their zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def when_text(moment: datetime, zone: str) -> str:
    """"Mon 23 June 2025, 09:00 Europe/Zurich (07:00 UTC)"."""
    moment = as_utc(moment)
    local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    utc = moment.astimezone(UTC)
    text = f"{local:%a} {local.day} {local:%B %Y}, {local:%H:%M} {zone}"
    return text if zone == "UTC" else f"{text} ({utc:%H:%M} UTC)"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --- reading the command ----------------------------------------------------------


@dataclass(frozen=True)
class Subscribe:
    cadence: str
    weekday: int | None
    day_of_month: int | None
    hour: int | None
    minute: int | None
    zone: str | None  # an IANA zone, when one was typed
    zone_typed: str | None
    scope: str  # a convention or outcome code, or ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Off:
    scope: str | None  # None: every digest of the conversation


@dataclass(frozen=True)
class ListDigests:
    pass


@dataclass(frozen=True)
class Now:
    scope: str | None
    preview: bool = False


@dataclass(frozen=True)
class Problem:
    message: str


DigestCommand = Subscribe | Off | ListDigests | Now | Problem

_OFF = {"off", "stop", "cancel", "unsubscribe", "none", "disable", "remove", "delete"}
_LIST = {"list", "ls", "show", "status", "subscriptions", ""}
_FILLER = {"at", "on", "the", "every", "each", "in", "a", "an", "digest", "please", "time", "of", "for", "to",
           "day", "-", "–", "and", "send", "me", "us"}
_CADENCE_WORDS = {"daily": "daily", "weekdays": "daily", "weekly": "weekly", "week": "weekly",
                  "monthly": "monthly", "month": "monthly"}
_WEEKDAY_WORDS = {name: i for i, full in enumerate(WEEKDAYS) for name in (full, full + "s", full[:3], full[:4])}
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|h)?$")
_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)$")


def parse_digest(args: str, plan: Plan) -> DigestCommand:
    """The digest sub-command in `args` (everything after the word "digest")."""
    words = [w for w in re.split(r"[\s,]+", args.strip()) if w]
    first = words[0].lower() if words else ""
    if first in _LIST and len(words) <= 1:
        return ListDigests()
    if first in _OFF:
        return _with_scope(words[1:], plan, lambda scope: Off(scope))
    if first in ("now", "preview"):
        return _with_scope(words[1:], plan, lambda scope: Now(scope, preview=first == "preview"))
    return _parse_subscribe(words, plan)


def _with_scope(words: list[str], plan: Plan, make) -> DigestCommand:
    if not words:
        return make(None)
    scope = _scope_code(" ".join(words), plan)
    if isinstance(scope, Problem):
        return scope
    if scope is None:
        return Problem(f"“{' '.join(words)}” is not a convention or an outcome of the plan ({_scope_examples(plan)}).")
    return make(scope)


def _scope_examples(plan: Plan) -> str:
    examples = plan_examples(plan)
    return f"e.g. {examples['{convention}']} or {examples['{outcome}']}"


def _scope_code(text: str, plan: Plan) -> str | None | Problem:
    code = plan.resolve(text)
    if code is None:
        return None
    if code in plan.conventions or code in plan.outcomes:
        return code
    return Problem(f"A digest can cover a convention or an outcome ({_scope_examples(plan)}), not {code}: "
                   f"`digest weekly {code.split('.')[0]}`.")


def _parse_subscribe(words: list[str], plan: Plan) -> DigestCommand:
    cadence = weekday = day = hour = minute = None
    rest: list[str] = []
    i = 0
    while i < len(words):
        word, low = words[i], words[i].lower()
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        if following in ("am", "pm") and _TIME.match(low):
            low, i = low + following, i + 1
        if low in _CADENCE_WORDS and (low not in ("week", "month") or cadence is None):
            cadence = _CADENCE_WORDS[low]
        elif low in _WEEKDAY_WORDS:
            weekday = _WEEKDAY_WORDS[low]
        elif (m := _TIME.match(low)) and (m.group(2) or m.group(3)):
            hour, minute = _clock(m)
            if hour is None:
                return Problem(f"“{word}” is not a time of day; write it as 09:00 or 9am.")
        elif (m := _ORDINAL.match(low)) or (low.isdigit() and cadence == "monthly" and day is None):
            day = int(m.group(1)) if m else int(low)
            if not 1 <= day <= 28:
                return Problem("A monthly digest goes out on a day from the 1st to the 28th, "
                               "so that every month has it.")
        elif low in _FILLER:
            pass
        else:
            rest.append(word)
        i += 1
    if cadence is None:
        cadence = "monthly" if day is not None else "weekly"
    if weekday is not None and cadence != "weekly":
        return Problem(f"A {cadence} digest has no weekday; for one day a week write "
                       f"`digest weekly {WEEKDAYS[weekday]}`.")
    if day is not None and cadence != "monthly":
        return Problem("A day of the month goes with `monthly`, e.g. `digest monthly 1st 09:00`.")
    found = _zone_and_scope(rest, plan)
    if isinstance(found, Problem):
        return found
    zone, zone_typed, scope, notes = found
    return Subscribe(cadence, weekday if cadence == "weekly" else None, day if cadence == "monthly" else None,
                     hour, minute, zone, zone_typed, scope, notes)


def _clock(m: re.Match) -> tuple[int | None, int | None]:
    hour, minute, suffix = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None, None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None, None
    return hour, minute


def _zone_and_scope(words: list[str], plan: Plan):
    """A time zone and a plan filter among the words left; each may span several words."""
    zone = zone_typed = None
    scope = ""
    notes: list[str] = []
    unknown: list[str] = []
    i = 0
    while i < len(words):
        for length in range(min(4, len(words) - i), 0, -1):
            span = " ".join(words[i:i + length])
            code = _scope_code(span, plan)
            if isinstance(code, Problem):
                return code
            if code and not scope:
                scope = code
                city_zone = resolve_zone(span)
                if city_zone and code in plan.conventions:  # "Stockholm": a convention and a city
                    notes.append(f"“{span}” is read as {code}, the {plan.conventions[code].name}; "
                                 f"for the city's time zone write {city_zone}.")
                break
            found = resolve_zone(span) if zone is None else None
            if found:
                zone, zone_typed = found, span
                break
        else:
            unknown.append(words[i])
            i += 1
            continue
        i += length
    if unknown:
        return Problem(f"I don't know “{' '.join(unknown)}”: give a time zone as a city (Geneva, Nairobi, "
                       f"Panama) or a zone name (Europe/Zurich), and a filter as a convention or outcome "
                       f"({_scope_examples(plan)}).")
    return zone, zone_typed, scope, tuple(notes)


# --- running it --------------------------------------------------------------------


def run_digest(session: Session, ctx: Context, incoming: Incoming, args: str,
               now: datetime | None = None) -> Reply:
    now = now or datetime.now(UTC)
    from handlers.plans import conversation_plan

    plan = conversation_plan(session, ctx, incoming)  # a new subscription follows this plan
    command = parse_digest(args, plan)
    match command:
        case Problem(message):
            return _usage(message)
        case ListDigests():
            return _list(session, ctx, incoming, now)
        case Off(scope):
            return _off(session, ctx, incoming, scope)
        case Now(scope, preview):
            return _now(session, ctx, incoming, scope, preview, now)
        case Subscribe():
            return _subscribe(session, ctx, plan, incoming, command, now)
    return _usage("")


def _usage(message: str) -> Reply:
    lines = [message, ""] if message else []
    lines += ["Try:"] + [f"`{line}`" for line in DIGEST_EXAMPLE.splitlines()]
    lines += ["", "Also `digest list`, `digest now`, `digest preview`, `digest off`."]
    return Reply(title="I didn't get that digest", lines=lines, kind=ReplyKind.ERROR)


def conversation_zone(session: Session, channel: str, conversation_id: str) -> str | None:
    """The conversation's time zone where its platform told us, if it is a zone we know."""
    ref = session.get(ConversationRef, (channel, conversation_id))
    if ref is None or not ref.timezone:
        return None
    return resolve_zone(ref.timezone)


def subscriptions_of(session: Session, channel: str, conversation_id: str,
                     states: tuple[str, ...] = ("active", "gone")) -> list[DigestSubscription]:
    return list(session.scalars(
        select(DigestSubscription)
        .where(DigestSubscription.channel == channel, DigestSubscription.conversation_id == conversation_id,
               DigestSubscription.state.in_(states))
        .order_by(DigestSubscription.scope, DigestSubscription.id)))


def last_delivery(session: Session, subscription_id: int) -> DigestDelivery | None:
    return session.scalars(
        select(DigestDelivery).where(DigestDelivery.subscription_id == subscription_id)
        .order_by(DigestDelivery.due_at.desc(), DigestDelivery.id.desc()).limit(1)).first()


def subscription_plan(ctx: Context, subscription: DigestSubscription) -> tuple[Plan | None, str | None]:
    """The plan a subscription follows, or None and why its digest cannot be made.

    A subscription keeps the plan it was made under: an SC2 digest never silently
    becomes the digest of another plan's SC2.
    """
    plan = ctx.plans.by_id.get(subscription.plan_id)
    if plan is None:
        return None, f"its plan {subscription.plan_id} is not loaded any more"
    if subscription.scope and subscription.scope not in plan.conventions and subscription.scope not in plan.outcomes:
        return None, f"{subscription.scope} is not a convention or an outcome of the plan {plan.period}"
    return plan, None


def _scope_text(plan: Plan, scope: str) -> str:
    if not scope:
        return "the whole plan"
    if scope in plan.conventions:
        return f"{scope} · {plan.conventions[scope].name}"
    statement = plan.outcomes[scope].statement
    return f"{scope} · {statement if len(statement) <= 80 else statement[:79].rsplit(' ', 1)[0] + '…'}"


def _not_yours() -> Reply:
    return Reply(title="This digest is not yours to change",
                 lines=["Only the person who set up this conversation's digest, or an admin, can change or "
                        "stop it. `digest list` shows what is set."], kind=ReplyKind.ERROR)


def _subscribe(session: Session, ctx: Context, plan: Plan, incoming: Incoming, request: Subscribe,
               now: datetime) -> Reply:
    zone = request.zone
    if zone:
        shown = request.zone_typed or zone
        zone_note = zone if shown.lower() == zone.lower() else f"{zone} (for “{shown}”)"
    else:
        zone = conversation_zone(session, incoming.channel, incoming.conversation_id)
        zone_note = f"{zone} (this conversation's time zone)" if zone else ""
    if not zone:
        zone = "UTC"
        zone_note = "UTC (no time zone given: add a city, e.g. `digest weekly monday 09:00 Geneva`)"
    schedule = Schedule(
        cadence=request.cadence,
        hour=DEFAULT_HOUR if request.hour is None else request.hour,
        minute=DEFAULT_MINUTE if request.minute is None else request.minute,
        timezone=zone,
        weekday=((DEFAULT_WEEKDAY if request.weekday is None else request.weekday)
                 if request.cadence == "weekly" else None),
        day_of_month=(request.day_of_month or DEFAULT_DAY) if request.cadence == "monthly" else None,
    )
    subscription = session.scalars(select(DigestSubscription).where(
        DigestSubscription.channel == incoming.channel,
        DigestSubscription.conversation_id == incoming.conversation_id,
        DigestSubscription.scope == request.scope)).one_or_none()
    changed, replaced = True, None
    if subscription is None:
        subscription = DigestSubscription(channel=incoming.channel, conversation_id=incoming.conversation_id,
                                          scope=request.scope, created_by=incoming.user_id, created_at=now)
        session.add(subscription)
    elif subscription.state == "active" and Schedule.of(subscription) == schedule:
        changed = False
    elif subscription.state == "active":
        if not ctx.may_change(incoming.user_id, subscription.created_by):
            return _not_yours()
        replaced = Schedule.of(subscription)
    else:  # stopped or gone: whoever starts it again owns it
        subscription.created_by = incoming.user_id
    if changed:
        subscription.plan_id = plan.id
        subscription.cadence, subscription.weekday = schedule.cadence, schedule.weekday
        subscription.day_of_month, subscription.timezone = schedule.day_of_month, schedule.timezone
        subscription.hour, subscription.minute = schedule.hour, schedule.minute
        subscription.state, subscription.starts_at = "active", now
        subscription.updated_at = now
    session.flush()
    title = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}[schedule.cadence]
    lines = [] if changed else ["This conversation already gets this digest; nothing changed."]
    if replaced is not None:
        lines.append(f"It replaces the digest {replaced.describe()} {replaced.timezone}.")
    lines += list(request.notes)
    return Reply(
        title=f"{title} digest {'set' if changed else 'unchanged'} for this conversation",
        lines=lines,
        fields=[
            Field("When", schedule.describe()),
            Field("Time zone", zone_note),
            Field("Covers", _scope_text(plan, subscription.scope)),
            Field("Plan", f"{plan.period} (a subscription keeps its plan)"),
            Field("Next digest", when_text(schedule.next_run(now), zone)),
        ],
        actions=[Action("Preview", "digest preview" + (f" {request.scope}" if request.scope else "")),
                 Action("Stop", "digest off" + (f" {request.scope}" if request.scope else ""), style="danger")],
        context=["Each digest covers the days since the previous one: what was held, what moved, gaps, "
                 "what is coming up."],
        kind=ReplyKind.DONE,
    )


def _off(session: Session, ctx: Context, incoming: Incoming, scope: str | None) -> Reply:
    subscriptions = [s for s in subscriptions_of(session, incoming.channel, incoming.conversation_id)
                     if scope is None or s.scope == scope]
    if any(not ctx.may_change(incoming.user_id, s.created_by) for s in subscriptions):
        return _not_yours()
    if not subscriptions:
        what = f"a {scope} digest" if scope else "a digest"
        return Reply(title=f"This conversation has no {what.split(' ', 1)[1]}",
                     lines=["Nothing to stop. Subscribe with:"] + [f"`{DIGEST_EXAMPLE.splitlines()[0]}`"],
                     kind=ReplyKind.INFO)
    for subscription in subscriptions:
        subscription.state = "off"
    names = ", ".join(s.scope or "whole plan" for s in subscriptions)
    return Reply(title="Digest stopped", lines=[f"No more digests here ({names}).",
                                                "`digest weekly monday 09:00 Geneva` starts one again."],
                 kind=ReplyKind.DONE)


def delivery_text(delivery: DigestDelivery | None, zone: str) -> str:
    """What `digest list` says about a subscription's latest delivery."""
    if delivery is None:
        return "none yet"
    period = date_range(delivery.period_start, delivery.period_end)
    if delivery.state == "sent":
        assert delivery.sent_at is not None  # stored with the state
        return f"{period}: sent {when_text(delivery.sent_at, zone)}"
    if delivery.state == "claimed":
        return f"{period}: being sent (attempt {delivery.attempts})"
    if delivery.state == "gone":
        return f"{period}: not delivered, the conversation cannot be reached ({delivery.last_error}); stopped"
    retry = (f"next try {when_text(delivery.next_attempt_at, zone)}" if delivery.next_attempt_at
             else "gave up")
    return f"{period}: failed {delivery.attempts}× ({delivery.last_error}); {retry}"


def _list(session: Session, ctx: Context, incoming: Incoming, now: datetime) -> Reply:
    subscriptions = subscriptions_of(session, incoming.channel, incoming.conversation_id)
    if not subscriptions:
        return Reply(title="No digest in this conversation",
                     lines=["Subscribe with one message:"] + [f"`{line}`" for line in DIGEST_EXAMPLE.splitlines()])
    lines = []
    for subscription in subscriptions:
        schedule = Schedule.of(subscription)
        plan, problem = subscription_plan(ctx, subscription)
        if plan is None:
            lines.append(f"*{sentence(schedule.describe())} {subscription.timezone}* — "
                         f"{subscription.scope or 'whole plan'} ({subscription.plan_id})")
            off = f"digest off {subscription.scope}".strip()
            lines.append(f"  not sent: {problem}. `{off}` stops it; `digest {schedule.cadence} <scope>` "
                         f"subscribes under the plan {ctx.plan.period}.")
            continue
        shown = _scope_text(plan, subscription.scope) + (f" (plan {plan.period})" if len(ctx.plans) > 1 else "")
        lines.append(f"*{sentence(schedule.describe())} {subscription.timezone}* — {shown}")
        if subscription.state == "gone":
            lines.append("  stopped: I could not post here any more. "
                         "`digest " + f"{schedule.cadence}` resumes it.")
        else:
            lines.append(f"  next: {when_text(schedule.next_run(now), subscription.timezone)}")
        lines.append(f"  last: {delivery_text(last_delivery(session, subscription.id), subscription.timezone)}")
    return Reply(title="Digests of this conversation", lines=lines,
                 actions=[Action("Preview", "digest preview"), Action("Stop all", "digest off", style="danger")])


def _now(session: Session, ctx: Context, incoming: Incoming, scope: str | None, preview: bool,
         now: datetime) -> Reply:
    subscriptions = subscriptions_of(session, incoming.channel, incoming.conversation_id, ("active",))
    chosen = next((s for s in subscriptions if scope is None or s.scope == scope), None)
    plan = ctx.plan
    if chosen is not None:
        followed, problem = subscription_plan(ctx, chosen)
        if followed is None:
            return Reply(title="No digest to make", lines=[f"This conversation's {chosen.scope or 'whole-plan'} digest "
                                                            f"cannot be made: {problem}."], kind=ReplyKind.ERROR)
        plan = followed
        schedule, scope = Schedule.of(chosen), chosen.scope if scope is None else scope
    else:
        zone = conversation_zone(session, incoming.channel, incoming.conversation_id) or "UTC"
        schedule = Schedule("weekly", DEFAULT_HOUR, DEFAULT_MINUTE, zone, weekday=DEFAULT_WEEKDAY)
    period = current_period(schedule, now) if preview else last_period(schedule, now)
    today = now.astimezone(schedule.zone).date()
    return build_digest(session, plan, scope or "", schedule, period, today, preview=preview)
