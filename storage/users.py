"""Display names of chat users as their platform gave them, kept for a while."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import UserName


def known_name(sessions: sessionmaker[Session], channel: str, user_id: str, fresh_for: timedelta) -> str | None:
    """The cached name, if it was fetched less than `fresh_for` ago."""
    # A plain select, not the ORM's identity map: this runs before every Slack message.
    with sessions() as session:
        cached = session.execute(select(UserName.display_name, UserName.fetched_at).where(
            UserName.channel == channel, UserName.user_id == user_id)).first()
    if cached is None:
        return None
    name, fetched = cached
    fetched = fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)
    return name if datetime.now(UTC) - fetched < fresh_for else None


def remember_name(sessions: sessionmaker[Session], channel: str, user_id: str, name: str) -> None:
    try:
        with sessions() as session:
            session.merge(UserName(channel=channel, user_id=user_id, display_name=name[:200],
                                   fetched_at=datetime.now(UTC)))
            session.commit()
    except IntegrityError:  # another process stored it at the same moment
        pass
