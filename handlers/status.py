"""`status <target>`: where a convention, outcome, indicator or country stands.

Each indicator's number is computed by its own measure (distinct Parties,
participants, pilot projects…), as the plan words it, never by one generic count.
"""
from __future__ import annotations

import copy
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker

from handlers.counted import PRODUCT_LABELS
from handlers.log import KIND_LABELS
from handlers.matcher import resolve_status_target
from handlers.messages import Field, Reply, ReplyKind, Table
from handlers.render import shorten
from plan_data.countries import Country, find_countries, get_country, resolve_country
from plan_data.loader import Indicator, Measure, Plan
from plan_data.parties import bundled_parties
from storage import status as figures_db
from storage.activities import VERSION_BUMPED, data_version, recent_activities
from storage.status import Figures, KindFigures, LinkedFigures

log = logging.getLogger(__name__)

STATUS_EXAMPLE = "status SC2   ·   status Basel   ·   status SC2.I5   ·   status Ghana   ·   status customs trainings"
# Seconds a data version read from the database is trusted without reading it again. Changes
# made through this process are seen at once; this is how late another process's can show.
TRUST_VERSION_FOR = 1.0
NOISE = re.compile(r"\b(status|progress|of|on|for|the|how|hows|how's|is|are|doing|looking|so far|stand|where|we|do)\b|[?!.]", re.I)


@dataclass(frozen=True)
class Target:
    kind: str  # convention, outcome, indicator, country
    code: str  # a plan code, or a country's alpha-2 code


def resolve_target(text: str, plan: Plan) -> Target | None:
    """What a status question is about: a plan item, a country, or free text matched to the plan."""
    code = plan.resolve(text) or plan.resolve(NOISE.sub(" ", text).strip())
    if code in plan.outputs:  # an output is reported through the indicator paired with it, else its outcome
        paired = [i.code for i in plan.indicators.values() if i.output == code]
        code = paired[0] if paired else plan.outputs[code].outcome
    if code:
        return Target(_kind_of(code, plan), code)
    country = _country_named(text)
    if country:
        return Target("country", country.code)
    code = resolve_status_target(text, plan)
    return Target(_kind_of(code, plan), code) if code else None


def _country_named(text: str) -> Country | None:
    country = resolve_country(text.strip(" ?!.,"))
    if country:
        return country
    cleaned = NOISE.sub(" ", text).strip(" ,")
    country = resolve_country(cleaned) if len(cleaned) > 2 or cleaned.isupper() else None
    if country:
        return country
    found = find_countries(text)
    # "Ghana" or "how is Ghana doing": a country and nothing else of substance.
    if len(found) == 1 and len(cleaned.split()) <= 3:
        return found[0]
    return None


def _kind_of(code: str, plan: Plan) -> str:
    if code in plan.conventions:
        return "convention"
    if code in plan.outcomes:
        return "outcome"
    return "indicator"


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


def _meets(indicator: Indicator, group: KindFigures) -> str | None:
    """Why a group of linked activities does not meet the indicator's measure, or None."""
    if indicator.kinds and group.kind not in indicator.kinds:
        return f"{KIND_LABELS.get(group.kind, group.kind).lower()}"
    if indicator.product and group.product_kind != indicator.product:
        return "no " + PRODUCT_LABELS[indicator.product] + " recorded"
    return None


def indicator_figures(session: Session, plan: Plan, codes: list[str], since: date | None = None,
                      until: date | None = None) -> dict[str, IndicatorFigures]:
    """The one computation of indicator figures, for status, digests and the export alike."""
    linked = figures_db.by_indicator(session, plan.id, codes, since, until, within=(plan.start, plan.end))
    return {code: figures_of(plan, code, linked[code]) for code in codes}


def figures_of(plan: Plan, code: str, rows: LinkedFigures) -> IndicatorFigures:
    """An indicator's figures from its linked activities grouped by kind and product: the
    measure picks the groups that count and adds them up."""
    indicator, convention = plan.indicators[code], plan.convention_of(code)
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
        outside_period=rows.outside_period, undated=rows.undated, unmet=unmet)


def indicator_json(plan: Plan, code: str, figures: IndicatorFigures) -> dict:
    """One indicator in the stable shape of `tapbot status --json`."""
    indicator, t = plan.indicators[code], figures.totals
    return {
        "code": code, "measure": indicator.measure, "unit": indicator.unit, "value": figures.value,
        "activities": t.activities, "participants": t.participants, "women": t.women, "men": t.men,
        "sex_not_stated": t.sex_not_stated, "countries": t.countries, "non_parties": figures.non_parties,
        "outside_period": figures.outside_period, "undated": figures.undated,
        "last_date": t.last_date.isoformat() if t.last_date else None,
    }


def status_data(session: Session, plan: Plan, target: Target) -> dict:
    """The figures behind a status reply, in the stable shape of `tapbot status --json`."""
    if target.kind == "country":
        return _country_data(session, plan, target.code)
    codes = [i.code for i in plan.indicators_of(target.code)]
    rows = indicator_figures(session, plan, codes)
    indicators = [indicator_json(plan, code, rows[code]) for code in codes]
    return {"target": target.code, "kind": target.kind, "plan": plan.id, "indicators": indicators}


def _country_data(session: Session, plan: Plan, code: str) -> dict:
    country = get_country(code)
    within = (plan.start, plan.end)
    total = figures_db.totals(session, plan.id, country=code, with_countries=False, within=within)
    per_outcome = figures_db.country_by_outcome(session, plan.id, code, within=within)
    groups = {c: [o.code for o in plan.outcomes.values() if o.convention == c] for c in plan.conventions}
    per_convention = figures_db.country_by_convention(session, plan.id, code, groups, within=within)
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
        "target": code, "kind": "country", "plan": plan.id, "name": country.name, "region": country.region,
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
            with self._engine.connect() as connection:  # a plain connection: less work beside the event loop
                self._read_version(connection)
        except Exception:  # the next question reads the version itself, and reports what is wrong
            log.warning("status: reading the data version in the background failed", exc_info=True)
        finally:
            self._refreshing = False


def cached_status(plan: Plan, text: str, cache: StatusCache) -> Reply | None:
    """The status reply without the database, when the cache has it for the current data."""
    target = resolve_target(text, plan)
    return None if target is None else cache.cached((plan.id, target))


def run_status(session: Session, plan: Plan, text: str, cache: StatusCache | None = None) -> Reply:
    target = resolve_target(text, plan)
    if target is None:
        return Reply(
            title=f"I didn't understand “{shorten(text, 60)}”",
            lines=["It is not a command, and not a plan code, a convention, a country or close to any indicator.",
                   f"To ask where something stands: `{STATUS_EXAMPLE}`", "To see every command: `help`"],
            kind=ReplyKind.ERROR,
        )
    if cache is None:
        return _status_reply(session, plan, target)
    return cache.reply(session, (plan.id, target), lambda: _status_reply(session, plan, target))


def _status_reply(session: Session, plan: Plan, target: Target) -> Reply:
    if target.kind == "country":
        return _country_reply(session, plan, target.code)
    if target.kind == "convention":
        return _convention_reply(session, plan, target.code)
    return _indicators_reply(session, plan, target)


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
    return ", ".join(get_country(c).name if get_country(c) else c for c in codes)


def left_out(plan: Plan, code: str, figures: IndicatorFigures) -> list[str]:
    """What is linked to an indicator but not in its figure, and why (status and digest alike)."""
    indicator, notes = plan.indicators[code], []
    if figures.non_parties:
        notes.append(f"Reached but not Parties then, so not counted: {_names(figures.non_parties)}.")
    period = f"{plan.start.year}–{plan.end.year}"
    if figures.outside_period:
        ids = ", ".join(f"#{i}" for i in figures.outside_period[:10])
        notes.append(f"{len(figures.outside_period)} linked {'activity' if len(figures.outside_period) == 1 else 'activities'}"
                     f" outside {period}, not counted: {ids}.")
    if figures.undated:
        ids = ", ".join(f"#{i}" for i in figures.undated[:10])
        notes.append(f"Date missing — not counted: {ids} (`edit <id> dates=…`).")
    for reason, n in figures.unmet.items():
        kinds = ", ".join(KIND_LABELS.get(k, k).lower() for k in indicator.kinds)
        notes.append(f"Linked but not counted — {reason} ({n}): {code} counts {indicator.unit}"
                     + (f" ({kinds})." if indicator.kinds else "."))
    return notes


def _indicators_reply(session: Session, plan: Plan, target: Target) -> Reply:
    codes = [i.code for i in plan.indicators_of(target.code)]
    per_indicator = indicator_figures(session, plan, codes)
    rows = []
    for code in codes:
        indicator, figures = plan.indicators[code], per_indicator[code]
        rows.append([code, f"{figures.value:,} {indicator.unit}", str(figures.totals.activities),
                     f"{figures.totals.participants:,}", women_share(figures.totals),
                     str(len(figures.totals.countries))])
    table = Table(["Indicator", "Value", "Activities", "Participants", "Women", "Countries"], rows)
    if target.kind == "outcome":
        outcome = plan.outcomes[target.code]
        figures = figures_db.by_outcome(session, plan.id, [target.code], within=(plan.start, plan.end))[target.code]
        return Reply(title=f"{target.code} · {outcome.statement}", fields=_totals_fields(figures),
                     table=table, context=[FOOTNOTE])
    indicator = plan.indicators[target.code]
    figures = per_indicator[target.code]
    recent = recent_activities(session, plan_id=plan.id, limit=5, indicator_code=target.code)
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


def _convention_reply(session: Session, plan: Plan, code: str) -> Reply:
    convention = plan.conventions[code]
    outcomes = [o for o in plan.outcomes.values() if o.convention == code]
    within = (plan.start, plan.end)
    per_outcome = figures_db.by_outcome(session, plan.id, [o.code for o in outcomes], within=within)
    total = figures_db.totals(session, plan.id, outcome_codes=[o.code for o in outcomes], within=within)
    rows = [[o.code, shorten(o.statement, 60), str(per_outcome[o.code].activities),
             f"{per_outcome[o.code].participants:,}", women_share(per_outcome[o.code]),
             str(len(per_outcome[o.code].countries))] for o in outcomes]
    return Reply(
        title=f"{code} · {convention.name}", fields=_totals_fields(total),
        table=Table(["Outcome", "", "Activities", "Participants", "Women", "Countries"], rows),
        context=[FOOTNOTE, f"Details: status {outcomes[0].code}"],
    )


def _country_reply(session: Session, plan: Plan, code: str) -> Reply:
    data = _country_data(session, plan, code)
    rows = [[c["code"], plan.conventions[c["code"]].name, str(c["activities"]), f"{c['participants']:,}",
             ", ".join(o["code"] for o in c["outcomes"]) or "–"] for c in data["conventions"]]
    fields = [Field("Activities", str(data["activities"])),
              Field("Participants in them", f"{data['participants']:,}"), Field("Region", data["region"])]
    context = []
    if data["unlinked_activities"]:
        context.append(f"{data['unlinked_activities']} of its activities are not linked to any indicator yet.")
    recent = recent_activities(session, country=code, limit=5)
    lines = [f"#{a.id} {a.start_date or 'no date'} · {a.title}" for a in recent] or ["No activity yet."]
    return Reply(title=f"{data['name']} · what it took part in", lines=lines, fields=fields,
                 table=Table(["Convention", "", "Activities", "Participants", "Outcomes"], rows), context=context)
