"""Start-up wiring: settings → database (upgraded) → plan → the Context every channel shares."""
from __future__ import annotations

from handlers.context import Context
from plan_data.loader import load_plan
from storage.db import make_engine, make_session_factory, upgrade
from bot.config import Settings


def build_context(settings: Settings) -> Context:
    engine = make_engine(settings.database_url)
    upgrade(engine)  # a no-op when the schema is current; creates the embedded SQLite on first use
    return Context(
        sessions=make_session_factory(engine),
        plan=load_plan(settings.tapbot_plan),
        admins=settings.admins,
    )
