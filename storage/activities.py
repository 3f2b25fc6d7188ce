"""Reading and writing activities, their links and attendees, with an audit trail.

Every change goes through here so that each one is audited the same way and
`undo` can reverse it. Functions take the caller's session; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Select,
    SQLColumnExpression,
    and_,
    event,
    exists,
    select,
    union,
    update,
)
from sqlalchemy.orm import Session, selectinload

from storage import examples
from storage.models import (
    Activity,
    ActivityCountry,
    ActivityLanguage,
    Attendee,
    AuditEntry,
    DataVersion,
    IndicatorLink,
    ProcessedEvent,
    utcnow,
)


@dataclass(frozen=True)
class Actor:
    user_id: str
    user_name: str | None
    channel: str


def _audit(session: Session, actor: Actor, action: str, activity_id: int, changes: dict) -> AuditEntry:
    session.info["audited"] = True  # the data version goes up when this commits
    entry = AuditEntry(
        user_id=actor.user_id, user_name=actor.user_name, channel=actor.channel,
        action=action, activity_id=activity_id, changes=changes,
    )
    session.add(entry)
    return entry


# Set in a session's info when its transaction bumped the data version; whoever keeps
# answers per version (handlers.status.StatusCache) pops it after the commit.
VERSION_BUMPED = "data_version_bumped"


def data_version(db: Session | Connection) -> int:
    """Grows with every committed change to activities, links or attendees (each is audited)."""
    return db.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0


@event.listens_for(Session, "before_commit")
def _count_the_change(session: Session) -> None:
    """Bump the data version as the last write of a transaction that audited a change.

    Its row lock makes such transactions commit one at a time, so versions follow commit
    order; taken last, it is held only for the commit itself. A savepoint's release also
    passes here, and is not the end of the transaction.
    """
    if session.in_nested_transaction() or not session.info.pop("audited", False):
        return
    bumped = cast(CursorResult, session.execute(  # an UPDATE's result has the row count
        update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1))).rowcount
    if not bumped:  # the row was deleted (a wiped database): start counting again
        session.add(DataVersion(id=1, version=1))
    session.info[VERSION_BUMPED] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_the_change(session: Session, transaction) -> None:
    # Only when the whole transaction ends (committed, rolled back or closed): a change
    # undone by a savepoint's rollback may still be beside others that are not.
    if transaction.parent is None:
        session.info.pop("audited", None)
        session.info.pop(VERSION_BUMPED, None)


def already_handled(session: Session, key: str) -> bool:
    return session.get(ProcessedEvent, key) is not None


def claim_event(session: Session, key: str) -> None:
    """Record a platform message as handled, in the caller's transaction, so the message's
    effects and its claim commit together or not at all. A concurrent claim of the same
    key fails here, on the primary key, with IntegrityError."""
    session.add(ProcessedEvent(key=key))
    session.flush()


def create_activity(
    session: Session,
    actor: Actor,
    *,
    conversation_id: str,
    raw_text: str,
    countries: list[str],
    languages: list[str],
    links: list[tuple[str, str, str, str, float | None]],  # plan, outcome, indicator, method, score
    host: str | None = None,  # a country that only hosted it (not reached)
    **fields,
) -> Activity:
    activity = Activity(
        raw_text=raw_text, channel=actor.channel, conversation_id=conversation_id,
        user_id=actor.user_id, user_name=actor.user_name, **fields,
    )
    activity.countries = [ActivityCountry(country=c, position=i, role="host" if c == host else "participant")
                          for i, c in enumerate(dict.fromkeys(countries))]
    activity.languages = [ActivityLanguage(language=lang) for lang in dict.fromkeys(languages)]
    activity.links = [
        IndicatorLink(plan_id=plan_id, outcome_code=outcome, indicator_code=code, method=method,
                      score=score, created_by=actor.user_id)
        for plan_id, outcome, code, method, score in links
    ]
    session.add(activity)
    session.flush()
    _audit(session, actor, "create", activity.id, {})
    return activity


def get_activity(session: Session, activity_id: int, for_update: bool = False) -> Activity | None:
    """A live (not deleted) activity, with its countries, links and attendees. `for_update`
    locks its row until commit (PostgreSQL), so two processes changing it take turns."""
    query = select(Activity).where(Activity.id == activity_id, Activity.deleted_at.is_(None))
    return session.scalars(
        (query.with_for_update(of=Activity) if for_update else query)
        .options(selectinload(Activity.countries), selectinload(Activity.links),
                 selectinload(Activity.attendees), selectinload(Activity.languages))
    ).one_or_none()


def edit_activity(session: Session, actor: Actor, activity: Activity, changes: dict) -> dict:
    """Apply field changes; returns {field: [old, new]} of what really changed."""
    diff = {}
    for name, new in changes.items():
        if name == "countries":
            old = [c.country for c in activity.countries]
            if old != new:
                activity.countries = [ActivityCountry(country=c, position=i) for i, c in enumerate(new)]
                diff[name] = [old, new]
            continue
        old = getattr(activity, name)
        if old != new:
            setattr(activity, name, new)
            diff[name] = [_jsonable(old), _jsonable(new)]
    if diff:
        _audit(session, actor, "edit", activity.id, diff)
    return diff


def delete_activity(session: Session, actor: Actor, activity: Activity) -> None:
    activity.deleted_at = utcnow()
    _audit(session, actor, "delete", activity.id, {})


def add_links(session: Session, actor: Actor, activity: Activity, plan_id: str,
              links: list[tuple[str, str]], method: str) -> list[str]:
    """Link indicators given as (outcome, code). A suggested link among them is confirmed
    (takes `method`). Returns the codes linked or confirmed."""
    current = {link.indicator_code: link for link in activity.links if link.plan_id == plan_id}
    added, confirmed = [], []
    for outcome, code in links:
        link = current.get(code)
        if link is None:
            current[code] = IndicatorLink(plan_id=plan_id, outcome_code=outcome, indicator_code=code,
                                          method=method, score=None, created_by=actor.user_id)
            activity.links.append(current[code])
            added.append(code)
        elif link.method == "fuzzy" and method != "fuzzy":
            link.method = method
            confirmed.append(code)
    examples.unreject(session, activity.id, plan_id, added)
    if added or confirmed:
        _audit(session, actor, "link", activity.id,
               {"plan_id": plan_id, "codes": added, "confirmed": confirmed, "method": method})
    return added + confirmed


def remove_links(session: Session, actor: Actor, activity: Activity, plan_id: str, codes: list[str]) -> list[dict]:
    removed = [link for link in activity.links if link.plan_id == plan_id and link.indicator_code in codes]
    for link in removed:
        activity.links.remove(link)
    saved: list[dict[str, Any]] = [
        {"plan_id": link.plan_id, "outcome": link.outcome_code, "code": link.indicator_code,
         "method": link.method, "score": link.score, "created_by": link.created_by} for link in removed]
    if saved:
        examples.reject(session, activity.id, plan_id, [s["code"] for s in saved], actor.user_id)
        _audit(session, actor, "unlink", activity.id, {"links": saved})
    return saved


def add_attendees(session: Session, actor: Actor, activity: Activity, people: list[dict]) -> list[Attendee]:
    added = [Attendee(**person) for person in people]
    activity.attendees.extend(added)
    session.flush()
    _recount_attendees(activity)
    _audit(session, actor, "attendees", activity.id, {"attendee_ids": [a.id for a in added]})
    return added


def _recount_attendees(activity: Activity) -> None:
    activity.attendee_count = sum(a.count for a in activity.attendees)
    known = all(a.sex for a in activity.attendees)
    activity.attendee_women = sum(a.count for a in activity.attendees if a.sex == "female") if known else None
    activity.attendee_men = sum(a.count for a in activity.attendees if a.sex == "male") if known else None


def last_undoable(session: Session, user_id: str, activity_id: int | None = None) -> AuditEntry | None:
    query = select(AuditEntry).where(
        AuditEntry.user_id == user_id, AuditEntry.undone_at.is_(None), AuditEntry.action != "undo")
    if activity_id is not None:
        query = query.where(AuditEntry.activity_id == activity_id)
    return session.scalars(query.order_by(AuditEntry.id.desc()).limit(1)).first()


def changed_by_others_since(session: Session, entry: AuditEntry) -> AuditEntry | None:
    """A later change to the same activity by someone else, which an undo would silently overwrite."""
    return session.scalars(
        select(AuditEntry).where(AuditEntry.activity_id == entry.activity_id, AuditEntry.id > entry.id,
                                 AuditEntry.user_id != entry.user_id, AuditEntry.undone_at.is_(None))
        .order_by(AuditEntry.id.desc()).limit(1)
    ).first()


def undo(session: Session, actor: Actor, entry: AuditEntry) -> Activity:
    """Reverse one audited change and audit the reversal."""
    activity = session.get(Activity, entry.activity_id)
    assert activity is not None  # activities are never removed, only marked deleted
    changes = entry.changes or {}
    if entry.action == "create":
        activity.deleted_at = utcnow()
    elif entry.action == "delete":
        activity.deleted_at = None
    elif entry.action == "edit":
        for name, (old, _new) in changes.items():
            if name == "countries":
                activity.countries = [ActivityCountry(country=c, position=i) for i, c in enumerate(old)]
            else:
                setattr(activity, name, _from_json(name, old))
    elif entry.action == "link":
        codes, confirmed = set(changes.get("codes", [])), set(changes.get("confirmed", []))
        for link in [each for each in activity.links if each.plan_id == changes.get("plan_id")]:
            if link.indicator_code in codes:
                activity.links.remove(link)
            elif link.indicator_code in confirmed:
                link.method = "fuzzy"
    elif entry.action == "unlink":
        have = {(link.plan_id, link.indicator_code) for link in activity.links}
        for saved in changes.get("links", []):
            if (saved["plan_id"], saved["code"]) in have:
                continue  # linked again since
            activity.links.append(IndicatorLink(
                plan_id=saved["plan_id"], outcome_code=saved["outcome"], indicator_code=saved["code"],
                method=saved["method"], score=saved["score"], created_by=saved["created_by"]))
            examples.unreject(session, activity.id, saved["plan_id"], [saved["code"]])
    elif entry.action == "attendees":
        ids = set(changes.get("attendee_ids", []))
        for attendee in [a for a in activity.attendees if a.id in ids]:
            activity.attendees.remove(attendee)
        _recount_attendees(activity)
    entry.undone_at = utcnow()
    _audit(session, actor, "undo", activity.id, {"undid": entry.id, "action": entry.action})
    return activity


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


def _from_json(name: str, value):
    if value is not None and name in ("start_date", "end_date"):
        return date.fromisoformat(value)
    return value


def takes_part(country: str, activity_id: SQLColumnExpression[int] = Activity.id) -> ColumnElement:
    # One IN over a union rather than an OR of two INs: the country's few activities
    # then drive the query, instead of a test on every live activity.
    return activity_id.in_(union(
        select(ActivityCountry.activity_id).where(ActivityCountry.country == country),
        select(Attendee.activity_id).where(Attendee.country == country),
    ))


def recent_activities(
    session: Session,
    *,
    limit: int = 10,
    user_id: str | None = None,
    country: str | None = None,
    plan_id: str | None = None,
    outcome_codes: list[str] | None = None,
    indicator_code: str | None = None,
    since: date | None = None,
    until: date | None = None,
    outside: list[tuple[date, date]] | None = None,
) -> list[Activity]:
    """Live activities, newest first; ``outside``: only those dated outside all these periods."""
    query: Select = select(Activity).where(Activity.deleted_at.is_(None))
    if outside:
        query = query.where(Activity.start_date.is_not(None), *[
            ~Activity.start_date.between(first, last) for first, last in outside])
    if user_id:
        query = query.where(Activity.user_id == user_id)
    if country:
        query = query.where(takes_part(country))
    if outcome_codes:
        query = query.where(exists().where(and_(
            IndicatorLink.activity_id == Activity.id, IndicatorLink.plan_id == plan_id,
            IndicatorLink.outcome_code.in_(outcome_codes))))
    if indicator_code:
        query = query.where(exists().where(and_(
            IndicatorLink.activity_id == Activity.id, IndicatorLink.plan_id == plan_id,
            IndicatorLink.indicator_code == indicator_code)))
    if since:
        query = query.where(Activity.start_date >= since)
    if until:
        query = query.where(Activity.start_date <= until)
    query = query.order_by(Activity.start_date.desc().nulls_last(), Activity.id.desc()).limit(limit)
    return list(session.scalars(query.options(selectinload(Activity.links), selectinload(Activity.countries))))
