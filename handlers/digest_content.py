"""What a digest says: the period's activities, what moved against the plan, gaps, what is coming.

Every figure comes from the queries `status` uses (storage/status.py and
handlers.status.indicator_value), so a digest and `status` agree at the same
moment: an indicator's "after" value is its status value counted up to the
period's last day, its "before" value the same up to the day before the period.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handlers.log import KIND_LABELS
from handlers.messages import Reply
from handlers.render import shorten
from handlers.status import indicator_figures, women_share
from plan_data.countries import country_name, get_country
from plan_data.loader import Plan
from storage import status as figures_db
from storage.status import DataGaps, Figures

if TYPE_CHECKING:
    from handlers.digest import Period, Schedule

QUIET_DAYS = 183  # "no activity in the last 6 months"
COMING_UP_DAYS = {"daily": 14, "weekly": 28, "monthly": 42}
SHOWN_ACTIVITIES = 8
SHOWN_QUIET = 12
SHOWN_OVERDUE = 5


@dataclass
class Move:
    code: str
    unit: str
    before: int
    after: int


@dataclass
class DigestData:
    """The figures of one digest, before any wording."""

    first_day: date
    last_day: date
    totals: Figures
    kinds: dict[str, int]
    activities: list  # storage.models.Activity, latest first
    newly_reached: dict[str, list[str]]  # convention (or outcome) → countries
    touched: dict[str, Figures]  # outcomes with activities in the period, in plan order
    conventions: dict[str, Figures]  # conventions of those outcomes (an activity counts once)
    moves: list[Move]
    values: dict[str, int]  # every indicator in scope → its value at the period's end
    quiet: list[str]  # indicators with no activity in the last 6 months
    gaps: DataGaps
    coming_up: list  # planned activities
    logged_late: int = 0
    scope_outcomes: list[str] = field(default_factory=list)
    # Linked activities left out of every indicator figure, as status lists them (ids).
    outside_period: list[int] = field(default_factory=list)
    undated: list[int] = field(default_factory=list)


def scope_outcomes(plan: Plan, scope: str) -> list[str] | None:
    """The outcome codes a digest covers; None for the whole plan (unlinked activities included)."""
    if not scope:
        return None
    if scope in plan.conventions:
        return [o.code for o in plan.outcomes.values() if o.convention == scope]
    return [scope]


def _groups(plan: Plan, scope: str) -> dict[str, list[str]]:
    """"Newly reached" is counted per convention, or per outcome for an outcome's digest."""
    if scope in plan.outcomes:
        return {scope: [scope]}
    conventions = [scope] if scope else list(plan.conventions)
    return {c: [o.code for o in plan.outcomes.values() if o.convention == c] for c in conventions}


def digest_data(session: Session, plan: Plan, scope: str, first_day: date, last_day: date, today: date,
                coming_up_days: int = 28, logged_between: tuple[datetime, datetime] | None = None) -> DigestData:
    outcomes = scope_outcomes(plan, scope)
    codes = [i.code for i in plan.indicators_of(scope)] if scope else list(plan.indicators)
    in_scope = outcomes if outcomes is not None else list(plan.outcomes)

    before = indicator_figures(session, plan, codes, until=first_day - timedelta(days=1))
    after = indicator_figures(session, plan, codes, until=last_day)
    values, moves = {}, []
    for code in codes:
        indicator = plan.indicators[code]
        old = before[code].value
        new = values[code] = after[code].value
        if new != old:
            moves.append(Move(code, indicator.unit, old, new))

    recent = indicator_figures(session, plan, codes, since=last_day - timedelta(days=QUIET_DAYS), until=last_day)
    within = (plan.start, plan.end)
    per_outcome = figures_db.by_outcome(session, plan.id, in_scope, since=first_day, until=last_day, within=within)
    touched = {code: f for code, f in per_outcome.items() if f.activities}
    conventions = {}
    for convention in dict.fromkeys(plan.outcomes[o].convention for o in touched):
        outcomes_of = [o for o in in_scope if plan.outcomes[o].convention == convention]
        conventions[convention] = figures_db.totals(session, plan.id, outcome_codes=outcomes_of,
                                                    since=first_day, until=last_day, within=within)
    late = 0
    if logged_between is not None:
        late = figures_db.logged_late(session, plan.id, *logged_between, before=first_day, outcome_codes=outcomes)
    return DigestData(
        first_day=first_day, last_day=last_day,
        totals=figures_db.totals(session, plan.id, outcome_codes=outcomes, since=first_day, until=last_day,
                                 within=within),
        kinds=figures_db.by_kind(session, plan.id, outcomes, since=first_day, until=last_day),
        activities=figures_db.held_between(session, plan.id, first_day, last_day, outcomes, limit=SHOWN_ACTIVITIES),
        newly_reached=figures_db.first_reached(session, plan.id, _groups(plan, scope), first_day, last_day),
        touched=touched, conventions=conventions,
        moves=moves, values=values,
        quiet=[code for code in codes if recent[code].totals.activities == 0],
        gaps=figures_db.data_gaps(session, plan.id, outcomes, today),
        coming_up=figures_db.planned_between(session, plan.id, today, today + timedelta(days=coming_up_days),
                                             outcomes),
        logged_late=late, scope_outcomes=in_scope,
        outside_period=sorted({i for f in after.values() for i in f.outside_period}),
        undated=sorted({i for f in after.values() for i in f.undated}),
    )


def build_digest(session: Session, plan: Plan, scope: str, schedule: Schedule, period: Period, today: date,
                 preview: bool = False, covers_from: date | None = None) -> Reply:
    """The digest of `period` as one Reply, which every channel renders its own way.

    `covers_from` widens a catch-up digest back to the end of the last one sent."""
    first_day = covers_from if covers_from and covers_from < period.first_day else period.first_day
    data = digest_data(session, plan, scope, first_day, period.last_day, today,
                       COMING_UP_DAYS[schedule.cadence], logged_between=(period.opened, period.due))
    reply = render_digest(plan, scope, schedule, data, preview)
    if first_day < period.first_day:
        reply.lines.insert(0, f"Catch-up: earlier digests were not sent (the scheduler was down), so this "
                              f"one covers everything from {first_day.day} {first_day:%B}.")
    return reply


def date_range(first: date, last: date) -> str:
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _country_names(codes: list[str]) -> str:
    return ", ".join(country_name(c) for c in codes)


def _kinds_text(kinds: dict[str, int]) -> str:
    parts = []
    for kind, n in kinds.items():
        label = KIND_LABELS.get(kind, kind).lower()
        parts.append(f"{n} {label}" + ("s" if n != 1 and not label.endswith("s") else ""))
    return ", ".join(parts)


def render_digest(plan: Plan, scope: str, schedule: Schedule, data: DigestData, preview: bool) -> Reply:
    cadence = schedule.cadence.capitalize()
    span = date_range(data.first_day, data.last_day)
    title = f"{'Preview · ' if preview else ''}{cadence} digest · {span}{' so far' if preview else ''}"
    if scope:
        title += f" · {scope}"
    t = data.totals
    lines = []
    if t.activities:
        lines.append(f"*{t.activities} {'activity' if t.activities == 1 else 'activities'} held*: "
                     f"{_kinds_text(data.kinds)} · {t.participants:,} participants · "
                     f"{women_share(t)} women · "
                     f"{len(t.countries)} {'country' if len(t.countries) == 1 else 'countries'}")
        for activity in data.activities:
            when = activity.end_date or activity.start_date
            country = get_country(activity.country) if activity.country else None
            where = f" ({country.name})" if country else ""
            lines.append(f"• #{activity.id} {when:%d %b} · {shorten(activity.title, 70)}{where}")
        if t.activities > len(data.activities):
            lines.append(f"  … and {t.activities - len(data.activities)} more: `list {data.first_day:%B %Y}`")
    else:
        lines.append("*No activity held in this period* has been logged.")
    if data.logged_late:
        lines.append(f"Also logged in this period: {data.logged_late} earlier "
                     f"{'activity' if data.logged_late == 1 else 'activities'} "
                     "(counted in the figures of their dates).")

    reached = {group: countries for group, countries in data.newly_reached.items() if countries}
    if reached:
        lines += ["", "*Countries reached for the first time*"]
        lines += [f"{group}: {_country_names(countries)}" for group, countries in reached.items()]

    lines += ["", "*What moved*"]
    moves: dict[str, list[Move]] = {}
    for move in data.moves:
        moves.setdefault(plan.indicators[move.code].outcome, []).append(move)
    for convention, figures in data.conventions.items():
        lines.append(f"{convention} · {plan.conventions[convention].name} — {_held(figures.activities)}")
        for outcome, outcome_figures in data.touched.items():
            if plan.outcomes[outcome].convention != convention:
                continue
            changed = moves.get(outcome, [])
            lines.append(f"  {outcome} — {_held(outcome_figures.activities)}"
                         + ("" if changed else ", no indicator changed"))
            lines += [f"    {m.code}: {m.before:,} → {m.after:,} {m.unit} (+{m.after - m.before:,})" for m in changed]
    if not data.conventions:
        lines.append("No indicator changed.")

    lines += ["", "*Gaps*"]
    gap_lines = []
    if data.quiet:
        shown = ", ".join(data.quiet[:SHOWN_QUIET]) + (f" and {len(data.quiet) - SHOWN_QUIET} more"
                                                        if len(data.quiet) > SHOWN_QUIET else "")
        gap_lines.append(f"No activity in 6 months for {len(data.quiet)} of {len(data.values)} indicators: {shown}")
    if data.gaps.unlinked:
        gap_lines.append(f"{data.gaps.unlinked} {'activity counts' if data.gaps.unlinked == 1 else 'activities count'}"
                         " toward no indicator: `link <id> <code>`")
    if data.gaps.without_sex:
        gap_lines.append(f"{data.gaps.without_sex} "
                         f"{'activity has' if data.gaps.without_sex == 1 else 'activities have'}"
                         " no participants by sex: `edit <id> women=…`")
    if data.undated:
        gap_lines.append(f"Date missing — not counted: {_ids(data.undated)} (`edit <id> dates=…`)")
    if data.outside_period:
        gap_lines.append(f"{len(data.outside_period)} linked "
                         f"{'activity' if len(data.outside_period) == 1 else 'activities'}"
                         f" outside {plan.start.year}–{plan.end.year}, not counted: {_ids(data.outside_period)}")
    if data.gaps.overdue:
        ids = ", ".join(f"#{i}" for i in data.gaps.overdue[:SHOWN_OVERDUE]) + (
            f" and {len(data.gaps.overdue) - SHOWN_OVERDUE} more" if len(data.gaps.overdue) > SHOWN_OVERDUE else "")
        gap_lines.append(f"{len(data.gaps.overdue)} planned "
                         f"{'activity' if len(data.gaps.overdue) == 1 else 'activities'}"
                         f" should have taken place by now ({ids}) and count only once held: its author or "
                         "an admin confirms with `edit <id> status=done` (or `status=cancelled`)")
    lines += gap_lines or ["None: every indicator moved in 6 months and every record is complete."]

    if data.coming_up:
        lines += ["", "*Coming up*"]
        for activity in data.coming_up:
            country = get_country(activity.country) if activity.country else None
            where = f" ({country.name})" if country else ""
            lines.append(f"• {activity.start_date:%a %d %b} · {shorten(activity.title, 70)}{where}")

    context = ["Figures as `status` counts them, by each indicator's measure, for activities held "
               f"(not planned or cancelled) by their dates up to {data.last_day:%d %B %Y}."]
    if not preview:
        context.append(f"{sentence(schedule.describe())} {schedule.timezone} · `digest off` to stop")
    else:
        context.append("A preview: nothing was sent to anyone else.")
    return Reply(title=title, lines=lines, context=context)


def _ids(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids[:SHOWN_OVERDUE]) + (
        f" and {len(ids) - SHOWN_OVERDUE} more" if len(ids) > SHOWN_OVERDUE else "")


def _held(n: int) -> str:
    return f"{n} {'activity' if n == 1 else 'activities'}"
