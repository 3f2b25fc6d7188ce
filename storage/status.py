"""Status figures, computed by grouped SQL queries so they stay fast at 10⁶ activities.

Counted: activities that took place (status "done") and are not deleted.
Participants fall back on the attendee list when no total was stated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from storage.activities import takes_part
from storage.models import Activity, ActivityCountry, ActivityLanguage, Attendee, IndicatorLink

TRAINING_KINDS = ("workshop", "training", "webinar", "online_course")
# Where an activity's dates put it against a plan's period: only "in" counts toward the plan.
IN_PERIOD, OUTSIDE_PERIOD, UNDATED = "in", "outside", "undated"


@dataclass
class Figures:
    """What a set of activities adds up to."""

    activities: int = 0
    participants: int = 0
    # Women and men where an activity reported them (one of the two and its total is enough:
    # "35 participants (14 women)" has 21 men); None when no activity reported sex at all.
    women: int | None = None
    men: int | None = None
    participants_with_sex: int = 0  # the denominator of "% women"
    last_date: date | None = None
    countries: list[str] = field(default_factory=list)

    @property
    def sex_not_stated(self) -> int:
        return max(self.participants - self.participants_with_sex, 0)

    @property
    def women_share(self) -> float | None:
        if not self.participants_with_sex or self.women is None:
            return None
        return self.women / self.participants_with_sex


def _participants() -> ColumnElement:
    return func.coalesce(Activity.participants, func.nullif(Activity.attendee_count, 0), Activity.women + Activity.men)


def _listed_only() -> ColumnElement:
    # The attendee list stands in for the split by sex only when no total was stated at all;
    # attendee_women/men are NULL unless every listed attendee's sex is known.
    return and_(Activity.participants.is_(None), Activity.attendee_count > 0)


def _women_stated() -> ColumnElement:
    return func.coalesce(Activity.women, case((_listed_only(), Activity.attendee_women)))


def _men_stated() -> ColumnElement:
    return func.coalesce(Activity.men, case((_listed_only(), Activity.attendee_men)))


def _women() -> ColumnElement:
    """Women of an activity, stated or its total less the men stated; NULL when not reported or
    when there is no total to set them against (women and a total from one activity only)."""
    return case((_participants().is_not(None), func.coalesce(_women_stated(), _participants() - _men_stated())))


def _men() -> ColumnElement:
    return case((_participants().is_not(None), func.coalesce(_men_stated(), _participants() - _women_stated())))


def _sex_columns() -> list[ColumnElement]:
    """Sums of women, men, and participants whose sex was reported, and how many activities reported it."""
    women, men = _women(), _men()
    reported = or_(women.is_not(None), men.is_not(None))
    return [
        func.sum(women), func.sum(men),
        func.coalesce(func.sum(case((reported, func.coalesce(women, 0) + func.coalesce(men, 0)))), 0),
    ]


def _live() -> ColumnElement:
    return and_(Activity.deleted_at.is_(None), Activity.status == "done")


def _held() -> ColumnElement:
    return func.coalesce(Activity.end_date, Activity.start_date)


def _placement(within: tuple[date, date]) -> ColumnElement:
    """in, outside or undated: whether an activity's dates fall in a plan's period (first to last day)."""
    first, last = within
    return case((Activity.start_date.is_(None), literal(UNDATED)),
                (and_(Activity.start_date >= first, _held() <= last), literal(IN_PERIOD)),
                else_=literal(OUTSIDE_PERIOD))


def _within(within: tuple[date, date] | None) -> list[ColumnElement]:
    if within is None:
        return []
    first, last = within
    return [Activity.start_date >= first, _held() <= last]


def _country_rows(base: Select, *extra: str):
    """(key, country, *extra) of the activities `base` selects as (key, activity_id, *extra):
    the countries they reached and their attendees'. Two joins on indexed columns, unioned after,
    rather than one join on a union (which neither database can index)."""
    rows = base.subquery()
    carried = [rows.c[name] for name in extra]
    own = select(rows.c.key, ActivityCountry.country.label("country"), *carried).join(
        ActivityCountry, ActivityCountry.activity_id == rows.c.activity_id).join(
        Activity, Activity.id == ActivityCountry.activity_id).where(
        or_(ActivityCountry.role != "host", func.coalesce(Activity.modality, "") != "online"))
    listed = select(rows.c.key, Attendee.country.label("country"), *carried).join(
        Attendee, Attendee.activity_id == rows.c.activity_id).where(Attendee.country.is_not(None))
    return own, listed


def _distinct_countries(session: Session, base: Select) -> list[tuple[str, str]]:
    own, listed = _country_rows(base)
    both = union(own, listed).subquery()
    return list(session.execute(select(both.c.key, both.c.country).order_by(both.c.key, both.c.country)))


def _aggregates(group_key):
    return [
        group_key.label("key"),
        func.count(Activity.id),
        func.coalesce(func.sum(_participants()), 0),
        *_sex_columns(),
        func.max(_held()),
    ]


def _fill(figures: Figures, row) -> None:
    (_, figures.activities, figures.participants, figures.women, figures.men, figures.participants_with_sex,
     figures.last_date) = row


def _period(since: date | None, until: date | None) -> list[ColumnElement]:
    when = _held()
    clauses = []
    if since:
        clauses.append(when >= since)
    if until:
        clauses.append(when <= until)
    return clauses


def _among(countries: list[str] | None,
           activity_id: SQLColumnExpression[int] = Activity.id) -> list[ColumnElement]:
    """Activities that one of `countries` took part in (a regional group); no clause for None."""
    if countries is None:
        return []
    return [activity_id.in_(union(
        select(ActivityCountry.activity_id).where(ActivityCountry.country.in_(countries)),
        select(Attendee.activity_id).where(Attendee.country.in_(countries)),
    ))]


@dataclass
class KindFigures(Figures):
    """Linked activities of one indicator held in the plan's period that share a kind and a
    product kind: the unit from which an indicator's measure picks what it counts."""

    kind: str = ""
    product_kind: str | None = None
    products: int = 0
    reached: dict[str, date] = field(default_factory=dict)  # country → the latest day it was reached
    centres: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    # activity id → countries its log said took part but did not name ("35 participants from 9
    # countries" naming one: 8); a country not named cannot be counted as a Party.
    stated_unnamed: dict[int, int] = field(default_factory=dict)


@dataclass
class LinkedFigures:
    """An indicator's linked activities: those in the plan's period by kind and product, and
    those left out because their dates are outside the period or missing (ids)."""

    groups: list[KindFigures] = field(default_factory=list)
    outside_period: list[int] = field(default_factory=list)
    undated: list[int] = field(default_factory=list)


def by_indicator(session: Session, plan_id: str, codes: list[str], since: date | None = None,
                 until: date | None = None, *, within: tuple[date, date],
                 countries: list[str] | None = None) -> dict[str, LinkedFigures]:
    """The activities linked to each indicator code, held in the plan's period `within` (and
    between `since` and `until` when given), grouped by kind and product so that the
    indicator's measure can pick what it counts (handlers.status.indicator_figures). With
    `countries`, only the activities one of them took part in (a regional group)."""
    result = {code: LinkedFigures() for code in codes}
    linked = [IndicatorLink.plan_id == plan_id, IndicatorLink.indicator_code.in_(codes), _live(),
              *_among(countries)]
    # since/until select dated activities; undated ones are always reported as left out.
    window = [or_(Activity.start_date.is_(None), and_(*_period(since, until)))] if since or until else []
    where = [*linked, *_within(within), *_period(since, until)]
    group = (IndicatorLink.indicator_code, Activity.kind, Activity.product_kind)
    groups: dict[tuple, KindFigures] = {}
    for code, kind, product_kind, n, participants, women, men, sexed, products, last in session.execute(
        select(*group, func.count(Activity.id), func.coalesce(func.sum(_participants()), 0), *_sex_columns(),
               func.coalesce(func.sum(Activity.products), 0), func.max(_held()))
        .join(Activity, Activity.id == IndicatorLink.activity_id).where(*where).group_by(*group)
    ):
        groups[code, kind, product_kind] = KindFigures(
            activities=n, participants=participants, women=women, men=men, participants_with_sex=sexed,
            last_date=last, kind=kind, product_kind=product_kind, products=products)
    keyed = select(IndicatorLink.indicator_code.label("key"), Activity.id.label("activity_id"),
                   Activity.kind.label("kind"), Activity.product_kind.label("product_kind"),
                   _held().label("held")).join(Activity, Activity.id == IndicatorLink.activity_id).where(*where)
    own, listed = _country_rows(keyed, "kind", "product_kind", "held")
    both = union_all(own, listed).subquery()
    for code, kind, product_kind, country, last in session.execute(
        select(both.c.key, both.c.kind, both.c.product_kind, both.c.country, func.max(both.c.held))
        .group_by(both.c.key, both.c.kind, both.c.product_kind, both.c.country)
    ):
        groups[code, kind, product_kind].reached[country] = last
    for column, attribute, joined in ((Activity.centre, "centres", None),
                                      (ActivityLanguage.language, "languages", ActivityLanguage)):
        query = select(*group, column).distinct().join(Activity, Activity.id == IndicatorLink.activity_id)
        if joined is not None:
            query = query.join(joined, joined.activity_id == Activity.id)
        for code, kind, product_kind, value in session.execute(query.where(*where, column.is_not(None))):
            getattr(groups[code, kind, product_kind], attribute).add(value)
    named = select(func.count()).where(ActivityCountry.activity_id == Activity.id).scalar_subquery()
    for code, kind, product_kind, activity_id, unnamed in session.execute(
        select(*group, Activity.id, Activity.countries_stated - named)
        .join(Activity, Activity.id == IndicatorLink.activity_id).where(*where, Activity.countries_stated > named)
    ):
        groups[code, kind, product_kind].stated_unnamed[activity_id] = int(unnamed or 0)
    for (code, *_), figures in groups.items():
        result[code].groups.append(figures)
    placement = _placement(within)
    for code, activity_id, where_it_is in session.execute(
        select(IndicatorLink.indicator_code, Activity.id, placement)
        .join(Activity, Activity.id == IndicatorLink.activity_id)
        .where(*linked, *window, placement != IN_PERIOD).order_by(Activity.id)
    ):
        (result[code].outside_period if where_it_is == OUTSIDE_PERIOD else result[code].undated).append(activity_id)
    return result


def by_outcome(session: Session, plan_id: str, outcome_codes: list[str],
               since: date | None = None, until: date | None = None,
               within: tuple[date, date] | None = None) -> dict[str, Figures]:
    """Figures for each outcome; an activity linked to two of its indicators counts once.
    `within`: the plan's period (first and last day); activities outside it do not count."""
    result = {code: Figures() for code in outcome_codes}
    linked = (
        select(IndicatorLink.outcome_code, IndicatorLink.activity_id).distinct()
        .where(IndicatorLink.plan_id == plan_id, IndicatorLink.outcome_code.in_(outcome_codes))
        .subquery()
    )
    _add_grouped(session, result, linked.c.outcome_code, linked.c.activity_id,
                 [_live(), *_period(since, until), *_within(within)])
    return result


def _add_grouped(session: Session, result: dict[str, Figures], key: ColumnElement, activity_id: ColumnElement,
                 where: list[ColumnElement]) -> None:
    """Fill `result` with the figures and countries reached of the activities grouped by `key`
    (an outcome or convention column of a (key, activity_id) subquery)."""
    for row in session.execute(
        select(*_aggregates(key)).join(Activity, Activity.id == activity_id).where(*where).group_by(key)
    ):
        _fill(result[row[0]], row)
    for code, country in _distinct_countries(session, select(key.label("key"), Activity.id.label("activity_id"))
                                             .join(Activity, Activity.id == activity_id).where(*where)):
        result[code].countries.append(country)


def totals(session: Session, plan_id: str, outcome_codes: list[str] | None = None, country: str | None = None,
           since: date | None = None, until: date | None = None, with_countries: bool = True,
           countries: list[str] | None = None, within: tuple[date, date] | None = None) -> Figures:
    """Figures for the distinct activities linked to any of the outcomes (all activities when None);
    `with_countries=False` skips the list of countries reached, the costliest part; `countries`
    keeps the activities one of them took part in."""
    figures = Figures()
    where = [_live(), *_period(since, until), *_among(countries), *_within(within)]
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
                       since: date | None = None, until: date | None = None,
                       within: tuple[date, date] | None = None) -> dict[str, Figures]:
    """For one country: figures per outcome of the activities it took part in."""
    result: dict[str, Figures] = {}
    # The country's links only: distinct (outcome, activity) over every link of the plan
    # is a sort of all of them.
    linked = select(IndicatorLink.outcome_code, IndicatorLink.activity_id).distinct().where(
        IndicatorLink.plan_id == plan_id, takes_part(country, IndicatorLink.activity_id)).subquery()
    for row in session.execute(
        select(*_aggregates(linked.c.outcome_code))
        .join(Activity, Activity.id == linked.c.activity_id)
        .where(_live(), *_period(since, until), *_within(within)).group_by(linked.c.outcome_code)
    ):
        figures = Figures()
        _fill(figures, row)
        result[row[0]] = figures
    return result


def country_by_convention(session: Session, plan_id: str, country: str, conventions: dict[str, list[str]],
                          since: date | None = None, until: date | None = None,
                          within: tuple[date, date] | None = None) -> dict[str, Figures]:
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
        .where(_live(), *_period(since, until), *_within(within)).group_by(linked.c.convention)
    ):
        _fill(result[row[0]], row)
    return result


def by_convention(session: Session, plan_id: str, conventions: dict[str, list[str]],
                  countries: list[str] | None = None,
                  since: date | None = None, until: date | None = None,
                  within: tuple[date, date] | None = None) -> dict[str, Figures]:
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
    result = {code: Figures() for code in conventions}
    _add_grouped(session, result, linked.c.convention, linked.c.activity_id,
                 [_live(), *_period(since, until), *_within(within)])
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
