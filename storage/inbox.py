"""The durable inbox: messages acknowledged to their platform but not yet handled.

A channel records a message here before it acknowledges it, handles it, and then
removes it. What a crash leaves behind is taken up again by `take_due` (at start-up
and by a periodic sweep, in any process) until it is handled; dispatch's claim on the
same key in processed_events makes sure it changes data once however often it runs.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import InboxEntry, ProcessedEvent

log = logging.getLogger(__name__)

# After this many attempts an entry is left for the operator (the log names it), so that one
# message that always fails cannot keep a sweep busy for ever.
MAX_ATTEMPTS = 5


def record(sessions: sessionmaker[Session], key: str, channel: str, payload: dict) -> bool:
    """Keep a message; False when it is already kept or was handled (a redelivery, a replay)."""
    try:
        with sessions() as session:
            if session.get(ProcessedEvent, key) is not None:
                return False
            session.add(InboxEntry(key=key, channel=channel, payload=payload))
            session.commit()
            return True
    except IntegrityError:
        return False


def finish(sessions: sessionmaker[Session], key: str) -> None:
    with sessions() as session:
        session.execute(delete(InboxEntry).where(InboxEntry.key == key))
        session.commit()


def take_due(sessions: sessionmaker[Session], channel: str, lease: timedelta,
             limit: int = 50) -> list[tuple[str, dict, int]]:
    """Entries nobody has worked on for `lease`, each claimed for this process: (key, payload, attempt)."""
    now = datetime.now(UTC)
    taken = []
    with sessions() as session:
        due = session.execute(select(InboxEntry.key, InboxEntry.payload, InboxEntry.claimed_at, InboxEntry.attempts)
                              .where(InboxEntry.channel == channel, InboxEntry.claimed_at < now - lease,
                                     InboxEntry.attempts < MAX_ATTEMPTS)
                              .order_by(InboxEntry.received_at).limit(limit)).all()
        for key, payload, claimed_at, attempts in due:
            if attempts + 1 == MAX_ATTEMPTS:
                log.error("inbox: the last attempt at %s; if it fails, it is left for an operator", key)
            # Only one process wins an entry: the claim must still be the one it read.
            won = cast(CursorResult, session.execute(  # an UPDATE's result has the row count
                update(InboxEntry).where(InboxEntry.key == key, InboxEntry.claimed_at == claimed_at)
                .values(claimed_at=now, attempts=attempts + 1))).rowcount
            session.commit()
            if won:
                taken.append((key, payload, attempts + 1))
    return taken
