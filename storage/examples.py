"""The team's matching examples: what people linked, and what they unlinked.

Positive examples are the links a person made or confirmed (``indicator_links`` whose
method is not "fuzzy": typed codes, buttons, `link`, forms), read straight from that
table, so that undo, delete and a later unlink all change the examples with no second
copy to keep in step. Negative examples are the indicators a person unlinked
(``match_rejections``), which the removed link would otherwise forget. The text of an
example is its activity's message as typed.

A process keeps what it built from these rows (``cached_examples``) until the data
version moves: every link, unlink, undo or delete is audited and so bumps it, and every
process reads the same version, so a link confirmed through one process counts in all
of them at their next match.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Activity, IndicatorLink, MatchRejection

T = TypeVar("T")

# Link methods that a person chose; "fuzzy" is the matcher's own guess.
PERSON_METHODS = ("explicit", "confirmed")


def example_links(session: Session, plan_id: str) -> list[tuple[int, str, int]]:
    """(activity id, indicator code, +1 linked by a person / -1 unlinked) of live activities."""
    linked = session.execute(
        select(IndicatorLink.activity_id, IndicatorLink.indicator_code)
        .join(Activity, Activity.id == IndicatorLink.activity_id)
        .where(IndicatorLink.plan_id == plan_id, IndicatorLink.method.in_(PERSON_METHODS),
               Activity.deleted_at.is_(None)))
    rejected = session.execute(
        select(MatchRejection.activity_id, MatchRejection.indicator_code)
        .join(Activity, Activity.id == MatchRejection.activity_id)
        .where(MatchRejection.plan_id == plan_id, Activity.deleted_at.is_(None)))
    return [(a, c, 1) for a, c in linked] + [(a, c, -1) for a, c in rejected]


def activity_texts(session: Session, activity_ids: Iterable[int]) -> dict[int, str]:
    ids = list(activity_ids)
    texts: dict[int, str] = {}
    for start in range(0, len(ids), 500):  # bounded IN lists
        query = select(Activity.id, Activity.raw_text).where(Activity.id.in_(ids[start:start + 500]))
        texts.update((activity_id, text) for activity_id, text in session.execute(query))
    return texts


def reject(session: Session, activity_id: int, plan_id: str, codes: Iterable[str], user_id: str) -> None:
    """Record that a person unlinked ``codes`` from the activity (once per code)."""
    have = set(session.scalars(select(MatchRejection.indicator_code).where(
        MatchRejection.activity_id == activity_id, MatchRejection.plan_id == plan_id)))
    for code in dict.fromkeys(codes):
        if code not in have:
            session.add(MatchRejection(activity_id=activity_id, plan_id=plan_id, indicator_code=code,
                                       created_by=user_id))


def unreject(session: Session, activity_id: int, plan_id: str, codes: Iterable[str]) -> None:
    """A person linked ``codes`` again (or undid the unlink): no longer evidence against."""
    codes = list(codes)
    if codes:
        session.execute(delete(MatchRejection).where(
            MatchRejection.activity_id == activity_id, MatchRejection.plan_id == plan_id,
            MatchRejection.indicator_code.in_(codes)))


def _signature(session: Session) -> tuple:
    """The data version, and the newest link and rejection (id and time, read through their
    primary keys), in case the database was wiped or restored and its version counts again
    from where an old one stood."""
    from storage.activities import data_version  # activities records rejections through this module

    newest = []
    for model in (IndicatorLink, MatchRejection):
        row = session.execute(select(model.id, model.created_at).order_by(model.id.desc()).limit(1)).first()
        newest.append(tuple(row) if row else None)
    return (data_version(session), *newest)


_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> {key: (version, value)}
_lock = threading.Lock()


def cached_examples(session: Session, plan_id: str, build: Callable[[T | None], T]) -> T:
    """``build(previous)`` once per data version (see ``_signature``), database and plan;
    the result meanwhile.

    ``build`` gets what it built for the previous version (or None), so that it can reuse
    the work done on examples that have not changed.
    """
    engine = session.get_bind().engine
    version = _signature(session)
    with _lock:
        per_engine = _cache.setdefault(engine, {})
        hit = per_engine.get(plan_id)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = build(hit[1] if hit else None)
    with _lock:
        per_engine[plan_id] = (version, value)
    return value
