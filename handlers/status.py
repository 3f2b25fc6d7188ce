"""`status <target>` and `gaps <target>`: where the plan, a convention, outcome, indicator,
country or regional group stands, over the whole plan period or one period.

Each indicator's number is computed by its own measure (distinct Parties,
participants, pilot projects…), as the plan words it, never by one generic count.
"""
from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker

from handlers.counted import PRODUCT_LABELS
from handlers.log import KIND_LABELS
from handlers.messages import Field, Reply, ReplyKind, Table
from handlers.questions import Period, Question, Target, read_question, resolve_target  # noqa: F401 (re-exported)
from handlers.render import shorten
from plan_data.countries import country_name, get_country, region_countries, region_name
from plan_data.loader import Indicator, Measure, Plan
from plan_data.parties import bundled_parties
from storage import status as figures_db
from storage.activities import VERSION_BUMPED, data_version, recent_activities
from storage.status import Figures, KindFigures, LinkedFigures

log = logging.getLogger(__name__)

# Seconds a data version read from the database is trusted without reading it again. Changes
# made through this process are seen at once; this is how late another process's can show.
TRUST_VERSION_FOR = 1.0


@dataclass
class IndicatorFigures:
    """An indicator's figures as its words mean them: `value` by its measure, over the linked
    activities held in the plan's period that meet the measure; what is left out, beside."""

    value: int
    totals: Figures  # the activities that count: participants, women, men, countries reached
    parties: list[str]  # countries reached that were Parties of the indicator's convention then
    non_parties: list[str]  # countries reached that were not (shown, never counted)
    outside_period: list[int]  # linked activities held outside the plan's period (ids)
    undated: list[int]  # linked activities without a date
    unmet: dict[str, int]  # in the period but not what the measure counts: reason → how many
    stated_unnamed: dict[int, int] = field(default_factory=dict)  # activity id → countries stated, not named


def _meets(indicator: Indicator, group: KindFigures) -> str | None:
    """Why a group of linked activities does not meet the indicator's measure, or None."""
    if indicator.kinds and group.kind not in indicator.kinds:
        return f"{KIND_LABELS.get(group.kind, group.kind).lower()}"
    if indicator.product and group.product_kind != indicator.product:
        return "no " + PRODUCT_LABELS[indicator.product] + " recorded"
    return None


def indicator_figures(session: Session, plan: Plan, codes: list[str], since: date | None = None,
                      until: date | None = None, countries: list[str] | None = None) -> dict[str, IndicatorFigures]:
    """The one computation of indicator figures, for status, digests and the export alike;
    `countries` keeps the activities one of them took part in (a country, a regional group)."""
    linked = figures_db.by_indicator(session, plan.id, codes, since, until, within=(plan.start, plan.end),
                                     countries=countries)
    return {code: figures_of(plan, code, linked[code]) for code in codes}


def figures_of(plan: Plan, code: str, rows: LinkedFigures) -> IndicatorFigures:
    """An indicator's figures from its linked activities grouped by kind and product: the
    measure picks the groups that count and adds them up."""
    indicator = plan.indicators[code]
    convention = plan.outcomes[indicator.outcome].convention
    counted = [g for g in rows.groups if _meets(indicator, g) is None]
    unmet: dict[str, int] = {}
    for group in rows.groups:
        reason = _meets(indicator, group)
        if reason:
            unmet[reason] = unmet.get(reason, 0) + group.activities
    totals = Figures()
    reached: dict[str, date] = {}
    for group in counted:
        totals.activities += group.activities
        totals.participants += group.participants
        totals.participants_with_sex += group.participants_with_sex
        if group.women is not None:
            totals.women = (totals.women or 0) + group.women
        if group.men is not None:
            totals.men = (totals.men or 0) + group.men
        totals.last_date = max(filter(None, (totals.last_date, group.last_date)), default=None)
        for country, last in group.reached.items():
            reached[country] = max(last, reached.get(country, last))
    totals.countries = sorted(reached)
    # Reached on its latest activity's date: a Party then if it was one on any of them.
    parties = bundled_parties()
    is_party = {c: parties.was_party(convention, c, last) for c, last in reached.items()}
    value = {
        Measure.PARTIES: sum(is_party.values()),
        Measure.ACTIVITIES: totals.activities,
        Measure.PILOT_PROJECTS: totals.activities,
        Measure.TRAININGS: totals.activities,
        Measure.PARTICIPANTS: totals.participants,
        Measure.PRODUCTS: sum(g.products for g in counted),
        Measure.LANGUAGES: len(set().union(*(g.languages for g in counted))),
        Measure.REGIONAL_CENTRES: len(set().union(*(g.centres for g in counted))),
    }[indicator.measure]
    return IndicatorFigures(
        value=value, totals=totals, parties=[c for c in totals.countries if is_party[c]],
        non_parties=[c for c in totals.countries if not is_party[c]],
        outside_period=rows.outside_period, undated=rows.undated, unmet=unmet,
        stated_unnamed={i: n for g in counted for i, n in g.stated_unnamed.items()})


def indicator_json(plan: Plan, code: str, figures: IndicatorFigures) -> dict:
    """One indicator in the stable shape of `tapbot status --json`."""
    indicator, t = plan.indicators[code], figures.totals
    return {
        "code": code, "measure": indicator.measure, "unit": indicator.unit, "value": figures.value,
        "activities": t.activities, "participants": t.participants, "women": t.women, "men": t.men,
        "sex_not_stated": t.sex_not_stated, "countries": t.countries, "non_parties": figures.non_parties,
        "outside_period": figures.outside_period, "undated": figures.undated,
        "countries_stated_unnamed": sum(figures.stated_unnamed.values()),
        "last_date": t.last_date.isoformat() if t.last_date else None,
    }


def status_data(session: Session, plan: Plan, target: Target, period: Period | None = None) -> dict:
    """The figures behind a status reply, in the stable shape of `tapbot status --json`."""
    since, until = _bounds(period)
    if target.kind == "country":
        return _country_data(session, plan, target.code, period)
    if target.kind in ("plan", "region"):
        return _area_data(session, plan, target, period)
    codes = [i.code for i in plan.indicators_of(target.code)]
    rows = indicator_figures(session, plan, codes, since, until)
    indicators = [indicator_json(plan, code, rows[code]) for code in codes]
    return {"target": target.code, "kind": target.kind, "plan": plan.id, "period": _period_json(period),
            "indicators": indicators}


def _bounds(period: Period | None) -> tuple[date | None, date | None]:
    return (period.start, period.end) if period else (None, None)


def _period_json(period: Period | None) -> dict | None:
    return period.as_json() if period else None


def _conventions(plan: Plan) -> dict[str, list[str]]:
    return {c: [o.code for o in plan.outcomes.values() if o.convention == c] for c in plan.conventions}


def _area_data(session: Session, plan: Plan, target: Target, period: Period | None) -> dict:
    """The whole plan, or the activities a regional group's countries took part in."""
    since, until = _bounds(period)
    countries = region_countries(target.code) if target.kind == "region" else None
    within = (plan.start, plan.end)
    total = figures_db.totals(session, plan.id, since=since, until=until, countries=countries, within=within)
    per_convention = figures_db.by_convention(session, plan.id, _conventions(plan), countries, since, until,
                                              within=within)

    def reached(found: list[str]) -> list[str]:  # a region's activities also reach countries outside it
        return [c for c in found if countries is None or c in countries]

    data: dict[str, Any] = {"target": target.code, "kind": target.kind, "plan": plan.id,
                            "period": _period_json(period)}
    if countries is not None:
        data |= {"name": region_name(target.code), "members": len(countries)}
    return data | {
        "activities": total.activities, "participants": total.participants, "women": total.women,
        "men": total.men, "participants_with_sex": total.participants_with_sex,
        "sex_not_stated": total.sex_not_stated, "countries": reached(total.countries),
        "last_date": total.last_date.isoformat() if total.last_date else None,
        "conventions": [{"code": code, "activities": f.activities, "participants": f.participants,
                         "women": f.women, "men": f.men, "countries": reached(f.countries)}
                        for code, f in per_convention.items()],
    }


def _country_data(session: Session, plan: Plan, code: str, period: Period | None = None) -> dict:
    since, until = _bounds(period)
    country = get_country(code)
    assert country is not None, f"{code} is not a country tapbot knows"  # read_question placed it
    within = (plan.start, plan.end)
    total = figures_db.totals(session, plan.id, country=code, with_countries=False, since=since, until=until,
                              within=within)
    per_outcome = figures_db.country_by_outcome(session, plan.id, code, since, until, within=within)
    groups = _conventions(plan)
    per_convention = figures_db.country_by_convention(session, plan.id, code, groups, since, until, within=within)
    conventions = []
    for convention in plan.conventions.values():
        outcomes = groups[convention.code]
        figures = per_convention[convention.code]
        conventions.append({
            "code": convention.code, "activities": figures.activities, "participants": figures.participants,
            "women": figures.women,
            "outcomes": [{"code": o, "activities": per_outcome[o].activities} for o in outcomes if o in per_outcome],
        })
    return {
        "target": code, "kind": "country", "plan": plan.id, "period": _period_json(period),
        "name": country.name, "region": country.region,
        "activities": total.activities, "participants": total.participants, "women": total.women,
        "unlinked_activities": figures_db.unlinked_count(session, plan.id, country=code),
        "conventions": conventions,
    }


class StatusCache:
    """Status replies, reused until the data changes.

    A reply is keyed by the data version (storage.models.DataVersion), which every change
    to activities, links and attendees bumps as it commits. `reply` reads the version from the
    database, so it is as current as the database. `cached` answers without the database,
    from the version read last, while that is trustworthy: no session of this process has
    committed a change since, and it was read less than TRUST_VERSION_FOR ago (which bounds
    how late a change made by another process can show). Each process keeps its own
    replies; nothing here is the only copy of anything.
    """

    def __init__(self, size: int = 256, trust_version_for: float = TRUST_VERSION_FOR):
        self.size, self.trust_version_for = size, trust_version_for
        self._replies: OrderedDict[tuple, Reply] = OrderedDict()
        self._lock = threading.Lock()
        self._version: int | None = None
        self._version_read_at = -math.inf
        self._changes = 0  # commits of changes seen: a version read before one of them is not trusted
        self._engine: Engine | None = None
        self._refresher: ThreadPoolExecutor | None = None
        self._refreshing = False

    def follow(self, sessions: sessionmaker) -> None:
        """Distrust the version read last as soon as a session from `sessions` commits a change
        to the data; read the version again before it is too old to trust (see `cached`)."""
        self._engine = sessions.kw["bind"]
        event.listen(sessions, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(VERSION_BUMPED, False):
            with self._lock:
                self._changes += 1
                self._version_read_at = -math.inf

    def reply(self, session: Session, key: tuple, build: Callable[[], Reply]) -> Reply:
        version = self._read_version(session)
        with self._lock:
            cached = self._replies.get((*key, version))
            if cached is not None:
                self._replies.move_to_end((*key, version))
        if cached is not None:
            return copy.deepcopy(cached)
        reply = build()
        stored = copy.deepcopy(reply)
        with self._lock:
            self._replies[(*key, version)] = stored
            while len(self._replies) > self.size:
                self._replies.popitem(last=False)
        return reply

    def cached(self, key: tuple) -> Reply | None:
        """The reply for the current data if this process has it and can tell without the database.

        It is the cached object itself, shared by everyone who asks: render it, never change it.
        """
        with self._lock:
            age = time.monotonic() - self._version_read_at
            if age > self.trust_version_for:
                return None
            if age > self.trust_version_for / 2 and not self._refreshing and self._engine is not None:
                # Asked often: read the version again in the background, so that questions go
                # on being answered from here instead of each waiting for the database in turn.
                self._refreshing = True
                if self._refresher is None:
                    self._refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="status-version")
                self._refresher.submit(self._refresh)
            cached = self._replies.get((*key, self._version))
            if cached is not None:
                self._replies.move_to_end((*key, self._version))
            return cached

    def _read_version(self, db: Session | Connection) -> int:
        with self._lock:
            changes = self._changes
        asked_at = time.monotonic()  # the version is as old as the question, not the answer
        version = data_version(db)
        with self._lock:
            if changes == self._changes:  # no change committed while the version was read
                self._version, self._version_read_at = version, asked_at
        return version

    def _refresh(self) -> None:
        try:
            assert self._engine is not None  # cached() starts a refresh only with an engine
            with self._engine.connect() as connection:  # a plain connection: less work beside the event loop
                self._read_version(connection)
        except Exception:  # the next question reads the version itself, and reports what is wrong
            log.warning("status: reading the data version in the background failed", exc_info=True)
        finally:
            self._refreshing = False


def cached_status(plan: Plan, text: str, cache: StatusCache, today: date, command: str = "status") -> Reply | None:
    """The status reply without the database, when the cache has it for the current data."""
    return cache.cached((plan.id, read_question(text, plan, today, command)))


def run_status(session: Session, plan: Plan, text: str, cache: StatusCache | None = None,
               today: date | None = None, command: str = "status") -> Reply:
    """The answer to a status or gaps question; `today` places "last year", "this year"…"""
    question = read_question(text, plan, today or date.today(), command)
    if question.target is None:
        return _not_about_the_plan(plan, text)
    if cache is None:
        return render_question(session, plan, question)
    # The question is the key, its period included: "Basel in 2023" is not "Basel".
    return cache.reply(session, (plan.id, question), lambda: render_question(session, plan, question))


def _not_about_the_plan(plan: Plan, text: str) -> Reply:
    """An honest answer to a question tapbot cannot place in the plan, with questions it can answer."""
    convention = next(iter(plan.conventions.values()))
    outcome = next(iter(plan.outcomes.values()))
    indicator = next(iter(plan.indicators.values()))
    examples = ["status", f"status {convention.name}", f"status {outcome.code} last year", f"status {indicator.code}",
                "status Ghana", "status Africa", f"gaps {convention.name}", "how many women have we trained?"]
    return Reply(
        title="I can answer questions about the plan",
        lines=[f"“{shorten(text, 60)}” does not name anything in the plan, a country or a region that I know.",
               "Ask me for example:", *(f"`{e}`" for e in examples), "", "To see every command: `help`"],
        kind=ReplyKind.HELP,
    )


def render_question(session: Session, plan: Plan, question: Question) -> Reply:
    """The reply to a question whose target is known (see handlers.questions.read_question)."""
    target, period = question.target, question.period
    assert target is not None, "only a question placed in the plan is rendered"
    if question.command == "gaps":
        reply = _gaps_reply(session, plan, target, period)
    elif question.view == "recent" and target.kind != "region":
        reply = _recent_reply(session, plan, target, period)
    elif target.kind in ("plan", "region"):
        reply = _area_reply(session, plan, target, period, question.view == "gender")
    elif target.kind == "country":
        reply = _country_reply(session, plan, target.code, period)
    elif target.kind == "convention":
        reply = _convention_reply(session, plan, target.code, period)
    else:
        reply = _indicators_reply(session, plan, target, period)
    if period and reply.title:
        reply.title += f" · {period_label(period)}"
    if question.note:
        reply.context.insert(0, f"Read as {target.code}: {question.note}.")
    return reply


def period_label(period: Period) -> str:
    start, end = period.start, period.end
    if start and end:
        return f"{start.isoformat()} – {end.isoformat()}"
    if start:
        return f"since {start.isoformat()}"
    return f"until {end.isoformat()}" if end else "at any date"


def target_label(plan: Plan, target: Target) -> str:
    if target.kind == "plan":
        return "The whole plan"
    if target.kind == "region":
        return region_name(target.code)
    if target.kind == "country":
        return country_name(target.code)
    item = plan.get(target.code)
    name = getattr(item, "name", None) or getattr(item, "statement", None) or getattr(item, "text", "")
    return f"{target.code} · {name}"


def _area_reply(session: Session, plan: Plan, target: Target, period: Period | None, gender: bool) -> Reply:
    data = _area_data(session, plan, target, period)
    figures = Figures(activities=data["activities"], participants=data["participants"], women=data["women"],
                      men=data["men"], participants_with_sex=data["participants_with_sex"], countries=data["countries"],
                      last_date=date.fromisoformat(data["last_date"]) if data["last_date"] else None)
    rows = [[c["code"], plan.conventions[c["code"]].name, str(c["activities"]), f"{c['participants']:,}",
             "–" if c["women"] is None else f"{c['women']:,}", str(len(c["countries"]))] for c in data["conventions"]]
    lines = []
    if gender:
        if figures.women is None:
            lines.append(f"No activity reported the sex of its {figures.participants:,} participants.")
        else:
            lines.append(f"Women: {figures.women:,} of the {figures.participants_with_sex:,} participants whose sex "
                         f"was reported ({women_share(figures)}); "
                         f"{figures.sex_not_stated:,} of {figures.participants:,} not reported.")
    if target.kind == "region":
        lines.append(f"Activities that at least one of the group's {data['members']} countries took part in.")
    title = f"{target_label(plan, target)} · {'women trained' if gender else 'status'}"
    return Reply(title=title, lines=lines, fields=_totals_fields(figures),
                 table=Table(["Convention", "", "Activities", "Participants", "Women", "Countries"], rows),
                 context=[FOOTNOTE, f"Details: status {next(iter(plan.conventions.values())).name}"])


def _gaps_reply(session: Session, plan: Plan, target: Target, period: Period | None) -> Reply:
    """The indicators with no activity, then those furthest behind (fewest activities, oldest last)."""
    since, until = _bounds(period)
    codes = ([i.code for i in plan.indicators_of(target.code)] if target.kind in ("convention", "outcome")
             else list(plan.indicators))
    countries = ([target.code] if target.kind == "country"
                 else region_countries(target.code) if target.kind == "region" else None)
    figures = {code: f.totals for code, f in indicator_figures(session, plan, codes, since, until, countries).items()}
    empty = [c for c in codes if not figures[c].activities]
    behind = sorted((c for c in codes if figures[c].activities),
                    key=lambda c: (figures[c].activities, figures[c].last_date or date.min))[:5]
    lines = [f"{len(empty)} of {len(codes)} indicators have no activity yet:" if empty
             else f"Every one of the {len(codes)} indicators has at least one activity."]
    lines += [f"{c} · {shorten(plan.indicators[c].text, 90)}" for c in empty]
    rows = [[c, str(figures[c].activities), last.isoformat() if (last := figures[c].last_date) else "–",
             shorten(plan.indicators[c].text, 60)] for c in behind]
    return Reply(title=f"Gaps · {target_label(plan, target)}", lines=lines,
                 table=Table(["Furthest behind", "Activities", "Last", ""], rows) if rows else None,
                 context=["Counts the linked activities held in the plan's period that meet each indicator's measure.",
                          f"To log one: `log …`   ·   details: `status {(empty or behind or codes)[0]}`"])


def _recent_reply(session: Session, plan: Plan, target: Target, period: Period | None) -> Reply:
    since, until = _bounds(period)
    scope: dict = {"country": target.code} if target.kind == "country" else {}
    if target.kind in ("convention", "outcome"):
        scope = {"plan_id": plan.id, "outcome_codes": [
            o.code for o in plan.outcomes.values() if target.code in (o.code, o.convention)]}
    elif target.kind == "indicator":
        scope = {"plan_id": plan.id, "indicator_code": target.code}
    recent = recent_activities(session, limit=10, since=since, until=until, **scope)
    lines = [f"#{a.id} {a.start_date or 'no date'} · {a.kind.replace('_', ' ')} · {a.title}"
             + ("" if a.status == "done" else f" ({a.status})") for a in recent] or ["No activity logged yet."]
    asked = "" if target.kind == "plan" else target_label(plan, target).split(" · ")[0]
    return Reply(title=f"{target_label(plan, target)} · latest activities", lines=lines,
                 context=[f"Figures: status {asked}".rstrip()])


def women_share(figures: Figures) -> str:
    share = figures.women_share
    return "–" if share is None else f"{round(100 * share)}%"


def sex_split(figures: Figures) -> str:
    """Women and men with their denominator: "women 41% of the 135 participants whose sex was
    reported (55 women, 80 men); 120 not reported"."""
    if figures.women is None and figures.men is None:
        return "not reported"
    text = (f"women {women_share(figures)} of the {figures.participants_with_sex:,} participants whose sex was "
            f"reported ({figures.women or 0:,} women, {figures.men or 0:,} men)")
    return text + (f"; {figures.sex_not_stated:,} not reported" if figures.sex_not_stated else "")


def _totals_fields(figures: Figures) -> list[Field]:
    return [
        Field("Activities", str(figures.activities)),
        Field("Participants", f"{figures.participants:,}"),
        Field("Women and men", sex_split(figures)),
        Field("Countries reached", str(len(figures.countries))),
        Field("Last activity", figures.last_date.isoformat() if figures.last_date else "none yet"),
    ]


FOOTNOTE = ("Counts activities held (not planned or cancelled) within the plan's period. % women is over the "
            "participants whose sex was reported. Each indicator is counted by its own measure.")


def _names(codes: list[str]) -> str:
    return ", ".join(country_name(c) for c in codes)


def left_out(plan: Plan, code: str, figures: IndicatorFigures) -> list[str]:
    """What is linked to an indicator but not in its figure, and why (status and digest alike)."""
    indicator, notes = plan.indicators[code], []
    if figures.non_parties:
        notes.append(f"Reached but not Parties then, so not counted: {_names(figures.non_parties)}.")
    if figures.stated_unnamed and indicator.measure == Measure.PARTIES:
        unnamed = sum(figures.stated_unnamed.values())
        ids = ", ".join(f"#{i}" for i in sorted(figures.stated_unnamed)[:10])
        first = min(figures.stated_unnamed)
        notes.append(f"{unnamed} more {'country was' if unnamed == 1 else 'countries were'} stated but not named "
                     f"({ids}), so not counted: name them with `edit {first} countries=…`.")
    period = f"{plan.start.year}–{plan.end.year}"
    if figures.outside_period:
        ids = ", ".join(f"#{i}" for i in figures.outside_period[:10])
        notes.append(f"{len(figures.outside_period)} linked "
                     f"{'activity' if len(figures.outside_period) == 1 else 'activities'}"
                     f" outside {period}, not counted: {ids}.")
    if figures.undated:
        ids = ", ".join(f"#{i}" for i in figures.undated[:10])
        notes.append(f"Date missing — not counted: {ids} (`edit <id> dates=…`).")
    for reason, n in figures.unmet.items():
        kinds = ", ".join(KIND_LABELS.get(k, k).lower() for k in indicator.kinds)
        notes.append(f"Linked but not counted — {reason} ({n}): {code} counts {indicator.unit}"
                     + (f" ({kinds})." if indicator.kinds else "."))
    return notes


def _indicators_reply(session: Session, plan: Plan, target: Target, period: Period | None = None) -> Reply:
    since, until = _bounds(period)
    codes = [i.code for i in plan.indicators_of(target.code)]
    per_indicator = indicator_figures(session, plan, codes, since, until)
    rows = []
    for code in codes:
        indicator, figures = plan.indicators[code], per_indicator[code]
        rows.append([code, f"{figures.value:,} {indicator.unit}", str(figures.totals.activities),
                     f"{figures.totals.participants:,}", women_share(figures.totals),
                     str(len(figures.totals.countries))])
    table = Table(["Indicator", "Value", "Activities", "Participants", "Women", "Countries"], rows)
    if target.kind == "outcome":
        outcome = plan.outcomes[target.code]
        totals = figures_db.by_outcome(session, plan.id, [target.code], since, until,
                                       within=(plan.start, plan.end))[target.code]
        return Reply(title=f"{target.code} · {outcome.statement}", fields=_totals_fields(totals),
                     table=table, context=[FOOTNOTE])
    indicator = plan.indicators[target.code]
    figures = per_indicator[target.code]
    recent = recent_activities(session, plan_id=plan.id, limit=5, indicator_code=target.code,
                               since=since, until=until)
    lines = [indicator.text, ""] + (
        [f"#{a.id} {a.start_date or 'no date'} · {a.title}" for a in recent] or ["No activity linked yet."])
    notes = left_out(plan, target.code, figures)
    if notes:
        lines += [""] + notes
    fields = [Field("Value", f"{figures.value:,} {indicator.unit}")] + _totals_fields(figures.totals)
    if figures.parties and indicator.measure == Measure.PARTIES:
        fields.append(Field("Parties", _names(figures.parties)))
    elif figures.totals.countries:
        fields.append(Field("Countries", _names(figures.totals.countries)))
    return Reply(title=f"{target.code} · status", lines=lines, fields=fields, context=[FOOTNOTE])


def _convention_reply(session: Session, plan: Plan, code: str, period: Period | None = None) -> Reply:
    since, until = _bounds(period)
    convention = plan.conventions[code]
    outcomes = [o for o in plan.outcomes.values() if o.convention == code]
    within = (plan.start, plan.end)
    per_outcome = figures_db.by_outcome(session, plan.id, [o.code for o in outcomes], since, until, within=within)
    total = figures_db.totals(session, plan.id, outcome_codes=[o.code for o in outcomes], since=since, until=until,
                              within=within)
    rows = [[o.code, shorten(o.statement, 60), str(per_outcome[o.code].activities),
             f"{per_outcome[o.code].participants:,}", women_share(per_outcome[o.code]),
             str(len(per_outcome[o.code].countries))] for o in outcomes]
    return Reply(
        title=f"{code} · {convention.name}", fields=_totals_fields(total),
        table=Table(["Outcome", "", "Activities", "Participants", "Women", "Countries"], rows),
        context=[FOOTNOTE, f"Details: status {outcomes[0].code}"],
    )


def _country_reply(session: Session, plan: Plan, code: str, period: Period | None = None) -> Reply:
    since, until = _bounds(period)
    data = _country_data(session, plan, code, period)
    rows = [[c["code"], plan.conventions[c["code"]].name, str(c["activities"]), f"{c['participants']:,}",
             ", ".join(o["code"] for o in c["outcomes"]) or "–"] for c in data["conventions"]]
    fields = [Field("Activities", str(data["activities"])),
              Field("Participants in them", f"{data['participants']:,}"), Field("Region", data["region"])]
    context = []
    if data["unlinked_activities"]:
        context.append(f"{data['unlinked_activities']} of its activities are not linked to any indicator yet.")
    recent = recent_activities(session, country=code, limit=5, since=since, until=until)
    lines = [f"#{a.id} {a.start_date or 'no date'} · {a.title}" for a in recent] or ["No activity yet."]
    return Reply(title=f"{data['name']} · what it took part in", lines=lines, fields=fields,
                 table=Table(["Convention", "", "Activities", "Participants", "Outcomes"], rows), context=context)
