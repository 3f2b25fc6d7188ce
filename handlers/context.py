"""What every command needs from the outside world, passed in explicitly."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from handlers.status import StatusCache
from plan_data.loader import Plan, Plans


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Context:
    sessions: sessionmaker[Session]
    plan: Plan  # the current plan: the one whose period holds today, else the latest
    admins: frozenset[str] = frozenset()
    today: Callable[[], date] = field(default=utc_today)
    # Status replies reused until the data changes (see handlers.status.StatusCache).
    status_cache: StatusCache = field(default_factory=StatusCache, compare=False)
    # Every loaded plan, by id (the current plan among them); just `plan` when not given.
    # Never None once built: __post_init__ fills it in, which mypy cannot see in a default.
    plans: Plans = None  # type: ignore[assignment]

    def __post_init__(self):
        if self.plans is None:
            object.__setattr__(self, "plans", Plans([self.plan]))
        elif self.plans.by_id.get(self.plan.id) is not self.plan:
            raise ValueError(f"plan {self.plan.id} is not among the loaded plans")
        self.status_cache.follow(self.sessions)

    def plan_for(self, start: date | None, end: date | None = None) -> Plan:
        """The plan an activity held on these dates counts in (see ``Plans.for_activity``).

        An undated activity is kept in the current plan, whose figures show it as undated.
        """
        return self.plans.for_activity(start, end, undated=self.plan)

    @property
    def engine(self) -> Engine:
        return self.sessions.kw["bind"]

    def may_change(self, user_id: str, author_id: str) -> bool:
        return user_id == author_id or user_id in self.admins
