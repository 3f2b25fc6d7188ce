"""Status figures, computed by grouped SQL queries so they stay fast at 10⁶ activities.

Counted: activities that took place (status "done") and are not deleted.
Participants fall back on the attendee list when no total was stated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, case, distinct, exists, func, literal, or_, select, union, union_all
from sqlalchemy.orm import Session

from storage.activities import takes_part
from storage.models import Activity, ActivityCountry, ActivityLanguage, Attendee, IndicatorLink

TRAINING_KINDS = ("workshop", "training", "webinar", "online_course")
REGIONAL_CENTRE_PATTERNS = ("BCRC%", "SCRC%", "BCCC%", "%REGIONAL CENTRE%", "%REGIONAL CENTER%")


@dataclass
class Figures:
    """What a set of activities adds up to."""

    activities: int = 0
    participants: int = 0
    women: int = 0
    # "% women" is taken over the activities that stated both a total and the women in it.
    participants_with_sex: int = 0
    women_with_total: int = 0
    pilot_projects: int = 0
    trainings: int = 0
    regional_centres: int = 0
    languages: int = 0
    last_date: date | None = None
    countries: list[str] = field(default_factory=list)

    @property
    def women_share(self) -> float | None:
        if not self.participants_with_sex:
            return None
        return self.women_with_total / self.participants_with_sex


def _participants() -> ColumnElement:
    return func.coalesce(Activity.participants, func.nullif(Activity.attendee_count, 0))


def _women() -> ColumnElement:
    # Attendees stand in for women only when no total was stated at all; attendee_women
    # is NULL unless every listed attendee's sex is known.
    return func.coalesce(
        Activity.women,
        case((and_(Activity.participants.is_(None), Activity.attendee_count > 0), Activity.attendee_women)),
    )


def _live() -> ColumnElement:
    return and_(Activity.deleted_at.is_(None), Activity.status == "done")


def _country_rows(base: Select, *extra: str):
    """(key, country, *extra) of the activities `base` selects as (key, activity_id, *extra):
    their own countries and their attendees'. Two joins on indexed columns, unioned after,
    rather than one join on a union (which neither database can index)."""
    rows = base.subquery()
    carried = [rows.c[name] for name in extra]
    own = select(rows.c.key, ActivityCountry.country.label("country"), *carried).join(
        ActivityCountry, ActivityCountry.activity_id == rows.c.activity_id)
    listed = select(rows.c.key, Attendee.country.label("country"), *carried).join(
        Attendee, Attendee.activity_id == rows.c.activity_id).where(Attendee.country.is_not(None))
    return own, listed


def _distinct_countries(session: Session, base: Select) -> list[tuple[str, str]]:
    own, listed = _country_rows(base)
    both = union(own, listed).subquery()
    return list(session.execute(select(both.c.key, both.c.country).order_by(both.c.key, both.c.country)))


def _regional_centre() -> ColumnElement:
    """Organisers that are BRS regional centres (BCRC, SCRC, BCCC …), for the regional-centre measures."""
    name = func.upper(Activity.organiser)
    return or_(*(name.like(pattern) for pattern in REGIONAL_CENTRE_PATTERNS))


def _aggregates(group_key):
    women, participants = _women(), _participants()
    both = and_(women.is_not(None), participants.is_not(None))
    return [
        group_key.label("key"),
        func.count(Activity.id),
        func.coalesce(func.sum(participants), 0),
        func.coalesce(func.sum(women), 0),
        func.coalesce(func.sum(case((both, participants))), 0),
        func.coalesce(func.sum(case((both, women))), 0),
        func.coalesce(func.sum(case((Activity.kind == "pilot_project", 1), else_=0)), 0),
        func.coalesce(func.sum(case((Activity.kind.in_(TRAINING_KINDS), 1), else_=0)), 0),
        func.count(distinct(case((_regional_centre(), func.upper(Activity.organiser))))),
        func.max(func.coalesce(Activity.end_date, Activity.start_date)),
    ]


def _fill(figures: Figures, row) -> None:
    (_, figures.activities, figures.participants, figures.women, figures.participants_with_sex,
     figures.women_with_total, figures.pilot_projects, figures.trainings, figures.regional_centres,
     figures.last_date) = row


def _period(since: date | None, until: date | None) -> list[ColumnElement]:
    when = func.coalesce(Activity.end_date, Activity.start_date)
    clauses = []
    if since:
        clauses.append(when >= since)
    if until:
        clauses.append(when <= until)
    return clauses


def _among(countries: list[str] | None, activity_id: ColumnElement = Activity.id) -> list[ColumnElement]:
    """Activities that one of `countries` took part in (a regional group); no clause for None."""
    if countries is None:
        return []
    return [activity_id.in_(union(
        select(ActivityCountry.activity_id).where(ActivityCountry.country.in_(countries)),
        select(Attendee.activity_id).where(Attendee.country.in_(countries)),
    ))]


def by_indicator(session: Session, plan_id: str, codes: list[str],
                 since: date | None = None, until: date | None = None,
                 countries: list[str] | None = None) -> dict[str, Figures]:
    """Figures for each indicator code (activities linked to it); with `countries`, only the
    activities one of them took part in."""
    result = {code: Figures() for code in codes}
    where = [IndicatorLink.plan_id == plan_id, IndicatorLink.indicator_code.in_(codes), _live(),
             *_period(since, until), *_among(countries)]
    rows = session.execute(
        select(*_aggregates(IndicatorLink.indicator_code))
        .join(Activity, Activity.id == IndicatorLink.activity_id)
        .where(*where).group_by(IndicatorLink.indicator_code)
    )
    for row in rows:
        _fill(result[row[0]], row)
    for code, country in _distinct_countries(session, select(
        IndicatorLink.indicator_code.label("key"), Activity.id.label("activity_id"))
        .join(Activity, Activity.id == IndicatorLink.activity_id).where(*where)
    ):
        result[code].countries.append(country)
    for code, n in session.execute(
        select(IndicatorLink.indicator_code, func.count(distinct(ActivityLanguage.language)))
        .join(Activity, Activity.id == IndicatorLink.activity_id)
        .join(ActivityLanguage, ActivityLanguage.activity_id == Activity.id)
        .where(*where).group_by(IndicatorLink.indicator_code)
    ):
        result[code].languages = n
    return result


def by_outcome(session: Session, plan_id: str, outcome_codes: list[str],
               since: date | None = None, until: date | None = None) -> dict[str, Figures]:
    """Figures for each outcome; an activity linked to two of its indicators counts once."""
    result = {code: Figures() for code in outcome_codes}
    linked = (
        select(IndicatorLink.outcome_code, IndicatorLink.activity_id).distinct()
        .where(IndicatorLink.plan_id == plan_id, IndicatorLink.outcome_code.in_(outcome_codes))
        .subquery()
    )
    base = [_live(), *_period(since, until)]
    for row in session.execute(
        select(*_aggregates(linked.c.outcome_code))
        .join(Activity, Activity.id == linked.c.activity_id).where(*base).group_by(linked.c.outcome_code)
    ):
        _fill(result[row[0]], row)
    for code, country in _distinct_countries(session, select(
        linked.c.outcome_code.label("key"), Activity.id.label("activity_id"))
        .join(Activity, Activity.id == linked.c.activity_id).where(*base)
    ):
        result[code].countries.append(country)
    return result


def totals(session: Session, plan_id: str, outcome_codes: list[str] | None = None, country: str | None = None,
           since: date | None = None, until: date | None = None, with_countries: bool = True,
           countries: list[str] | None = None) -> Figures:
    """Figures for the distinct activities linked to any of the outcomes (all activities when None);
    `with_countries=False` skips the list of countries reached, the costliest part; `countries`
    keeps the activities one of them took part in."""
    figures = Figures()
    where = [_live(), *_period(since, until), *_among(countries)]
    if outcome_codes is not None:
        where.append(Activity.id.in_(select(IndicatorLink.activity_id).where(
            IndicatorLink.plan_id == plan_id, IndicatorLink.outcome_code.in_(outcome_codes))))
    if country is not None:
        where.append(takes_part(country))
    _fill(figures, session.execute(select(*_aggregates(literal("all"))).where(*where)).one())
    if with_countries:
        figures.countries = [country for _, country in _distinct_countries(
            session, select(literal("all").label("key"), Activity.id.label("activity_id")).where(*where))]
    return figures


def country_by_outcome(session: Session, plan_id: str, country: str,
                       since: date | None = None, until: date | None = None) -> dict[str, Figures]:
    """For one country: figures per outcome of the activities it took part in."""
    result: dict[str, Figures] = {}
    # The country's links only: distinct (outcome, activity) over every link of the plan
    # is a sort of all of them.
    linked = select(IndicatorLink.outcome_code, IndicatorLink.activity_id).distinct().where(
        IndicatorLink.plan_id == plan_id, takes_part(country, IndicatorLink.activity_id)).subquery()
    for row in session.execute(
        select(*_aggregates(linked.c.outcome_code))
        .join(Activity, Activity.id == linked.c.activity_id)
        .where(_live(), *_period(since, until)).group_by(linked.c.outcome_code)
    ):
        figures = Figures()
        _fill(figures, row)
        result[row[0]] = figures
    return result


def country_by_convention(session: Session, plan_id: str, country: str, conventions: dict[str, list[str]],
                          since: date | None = None, until: date | None = None) -> dict[str, Figures]:
    """For one country: figures per convention (each activity once per convention)."""
    convention_of = {outcome: code for code, outcomes in conventions.items() for outcome in outcomes}
    linked = (
        select(case(convention_of, value=IndicatorLink.outcome_code).label("convention"), IndicatorLink.activity_id)
        .distinct()
        .where(IndicatorLink.plan_id == plan_id, IndicatorLink.outcome_code.in_(list(convention_of)),
               takes_part(country, IndicatorLink.activity_id))
        .subquery()
    )
    result = {code: Figures() for code in conventions}
    for row in session.execute(
        select(*_aggregates(linked.c.convention)).join(Activity, Activity.id == linked.c.activity_id)
        .where(_live(), *_period(since, until)).group_by(linked.c.convention)
    ):
        _fill(result[row[0]], row)
    return result


def by_convention(session: Session, plan_id: str, conventions: dict[str, list[str]],
                  countries: list[str] | None = None,
                  since: date | None = None, until: date | None = None) -> dict[str, Figures]:
    """Figures per convention (each activity once per convention, its countries reached included);
    with `countries`, only the activities one of them took part in (a regional group)."""
    convention_of = {outcome: code for code, outcomes in conventions.items() for outcome in outcomes}
    linked = (
        select(case(convention_of, value=IndicatorLink.outcome_code).label("convention"), IndicatorLink.activity_id)
        .distinct()
        .where(IndicatorLink.plan_id == plan_id, IndicatorLink.outcome_code.in_(list(convention_of)),
               *_among(countries, IndicatorLink.activity_id))
        .subquery()
    )
    where = [_live(), *_period(since, until)]
    result = {code: Figures() for code in conventions}
    for row in session.execute(
        select(*_aggregates(linked.c.convention)).join(Activity, Activity.id == linked.c.activity_id)
        .where(*where).group_by(linked.c.convention)
    ):
        _fill(result[row[0]], row)
    for code, country in _distinct_countries(session, select(
        linked.c.convention.label("key"), Activity.id.label("activity_id"))
        .join(Activity, Activity.id == linked.c.activity_id).where(*where)
    ):
        result[code].countries.append(country)
    return result


def _linked(plan_id: str) -> ColumnElement:
    # EXISTS, not IN: PostgreSQL plans `NOT IN (subquery)` as a row-by-row scan of the subquery.
    return exists().where(IndicatorLink.activity_id == Activity.id, IndicatorLink.plan_id == plan_id)


def unlinked_count(session: Session, plan_id: str, country: str | None = None) -> int:
    query = select(func.count(Activity.id)).where(_live(), ~_linked(plan_id))
    if country is not None:
        query = query.where(takes_part(country))
    return session.scalar(query) or 0


# --- digests -------------------------------------------------------------------
# What a digest says beyond the status figures above; the figures themselves come
# from by_indicator/by_outcome/totals, so that a digest and `status` agree.

# Activities of these kinds have participants, so a missing split by sex is a gap.
PEOPLE_KINDS = (*TRAINING_KINDS, "meeting")


def _scoped(plan_id: str, outcome_codes: list[str] | None) -> list[ColumnElement]:
    if outcome_codes is None:
        return []
    return [Activity.id.in_(select(IndicatorLink.activity_id).where(
        IndicatorLink.plan_id == plan_id, IndicatorLink.outcome_code.in_(outcome_codes)))]


def by_kind(session: Session, plan_id: str, outcome_codes: list[str] | None = None,
            since: date | None = None, until: date | None = None) -> dict[str, int]:
    """How many activities of each kind took place (most frequent first)."""
    rows = session.execute(
        select(Activity.kind, func.count(Activity.id))
        .where(_live(), *_period(since, until), *_scoped(plan_id, outcome_codes))
        .group_by(Activity.kind).order_by(func.count(Activity.id).desc(), Activity.kind)
    )
    return {kind: n for kind, n in rows}


def first_reached(session: Session, plan_id: str, groups: dict[str, list[str]],
                  since: date, until: date) -> dict[str, list[str]]:
    """Countries whose first activity ever under each group of outcomes (a convention,
    or one outcome) took place between `since` and `until`: {group: [country, …]}."""
    result: dict[str, list[str]] = {group: [] for group in groups}
    group_of = {outcome: group for group, outcomes in groups.items() for outcome in outcomes}
    if not group_of:
        return result
    linked = (
        select(case(group_of, value=IndicatorLink.outcome_code).label("grp"), IndicatorLink.activity_id)
        .distinct()
        .where(IndicatorLink.plan_id == plan_id, IndicatorLink.outcome_code.in_(list(group_of)))
        .subquery()
    )
    own, listed = _country_rows(
        select(linked.c.grp.label("key"), Activity.id.label("activity_id"),
               func.coalesce(Activity.end_date, Activity.start_date).label("held"))
        .join(Activity, Activity.id == linked.c.activity_id).where(_live()),
        "held")
    rows = union_all(own, listed).subquery()
    first = func.min(rows.c.held)
    for group, country in session.execute(
        select(rows.c.key, rows.c.country).group_by(rows.c.key, rows.c.country)
        .having(first >= since, first <= until).order_by(rows.c.key, rows.c.country)
    ):
        result[group].append(country)
    return result


@dataclass
class DataGaps:
    unlinked: int = 0  # activities held that count toward no indicator
    without_sex: int = 0  # activities with participants but no count of women
    overdue: list[int] = field(default_factory=list)  # planned activities whose start date has passed (ids)


def data_gaps(session: Session, plan_id: str, outcome_codes: list[str] | None = None,
              today: date | None = None) -> DataGaps:
    """Activities whose record misses what the plan's indicators need; with `today`, also the
    planned ones whose date has passed, which count only once someone says they were held.

    Unlinked activities belong to no outcome, so they are counted over the whole plan."""
    unlinked = session.scalar(select(func.count(Activity.id)).where(_live(), ~_linked(plan_id))) or 0
    without_sex = session.scalar(
        select(func.count(Activity.id))
        .where(_live(), *_scoped(plan_id, outcome_codes), Activity.kind.in_(PEOPLE_KINDS), _women().is_(None))
    ) or 0
    overdue = [] if today is None else list(session.scalars(
        select(Activity.id)
        .where(Activity.deleted_at.is_(None), Activity.status == "planned",
               func.coalesce(Activity.end_date, Activity.start_date) < today,
               *_scoped(plan_id, outcome_codes))
        .order_by(Activity.start_date, Activity.id)))
    return DataGaps(unlinked=unlinked, without_sex=without_sex, overdue=overdue)


def planned_between(session: Session, plan_id: str, since: date, until: date,
                    outcome_codes: list[str] | None = None, limit: int = 10) -> list[Activity]:
    """Planned (not yet held) activities starting between `since` and `until`, soonest first."""
    return list(session.scalars(
        select(Activity)
        .where(Activity.deleted_at.is_(None), Activity.status == "planned",
               Activity.start_date >= since, Activity.start_date <= until, *_scoped(plan_id, outcome_codes))
        .order_by(Activity.start_date, Activity.id).limit(limit)
    ))


def logged_late(session: Session, plan_id: str, logged_from, logged_until, before: date,
                outcome_codes: list[str] | None = None) -> int:
    """Activities logged between two instants that took place before `before`: late news
    that moved figures of earlier periods."""
    when = func.coalesce(Activity.end_date, Activity.start_date)
    return session.scalar(
        select(func.count(Activity.id))
        .where(_live(), Activity.created_at >= logged_from, Activity.created_at < logged_until,
               when < before, *_scoped(plan_id, outcome_codes))
    ) or 0


def held_between(session: Session, plan_id: str, since: date, until: date,
                 outcome_codes: list[str] | None = None, limit: int = 10) -> list[Activity]:
    """The activities that `totals` counts for the same period, latest first."""
    when = func.coalesce(Activity.end_date, Activity.start_date)
    return list(session.scalars(
        select(Activity)
        .where(_live(), *_period(since, until), *_scoped(plan_id, outcome_codes))
        .order_by(when.desc(), Activity.id.desc()).limit(limit)
    ))
