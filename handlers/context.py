"""What every command needs from the outside world, passed in explicitly."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from handlers.status import StatusCache
from plan_data.loader import Plan


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class Context:
    sessions: sessionmaker[Session]
    plan: Plan
    admins: frozenset[str] = frozenset()
    today: Callable[[], date] = field(default=utc_today)
    # Status replies reused until the data changes (see handlers.status.StatusCache).
    status_cache: StatusCache = field(default_factory=StatusCache, compare=False)

    def __post_init__(self):
        self.status_cache.follow(self.sessions)

    @property
    def engine(self) -> Engine:
        return self.sessions.kw["bind"]

    def may_change(self, user_id: str, author_id: str) -> bool:
        return user_id == author_id or user_id in self.admins
