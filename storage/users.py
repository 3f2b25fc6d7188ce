"""Display names of chat users as their platform gave them, kept for a while."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import UserName


def known_name(sessions: sessionmaker[Session], channel: str, user_id: str, fresh_for: timedelta) -> str | None:
    """The cached name, if it was fetched less than `fresh_for` ago."""
    with sessions() as session:
        cached = session.get(UserName, (channel, user_id))
    if cached is None:
        return None
    fetched = cached.fetched_at if cached.fetched_at.tzinfo else cached.fetched_at.replace(tzinfo=timezone.utc)
    return cached.display_name if datetime.now(timezone.utc) - fetched < fresh_for else None


def remember_name(sessions: sessionmaker[Session], channel: str, user_id: str, name: str) -> None:
    try:
        with sessions() as session:
            session.merge(UserName(channel=channel, user_id=user_id, display_name=name[:200],
                                   fetched_at=datetime.now(timezone.utc)))
            session.commit()
    except IntegrityError:  # another process stored it at the same moment
        pass
