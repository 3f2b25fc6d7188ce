"""Start-up wiring: settings → database (upgraded) → plans → the Context every channel shares."""
from __future__ import annotations

from bot.config import Settings
from handlers.context import Context, utc_today
from plan_data.loader import load_plans
from storage.db import make_engine, make_session_factory, upgrade


def build_context(settings: Settings) -> Context:
    engine = make_engine(settings.database_url)
    upgrade(engine)  # a no-op when the schema is current; creates the embedded SQLite on first use
    plans = load_plans(settings.plan_files, settings.crosswalk_files)
    return Context(
        sessions=make_session_factory(engine),
        plan=plans.current(utc_today()),
        plans=plans,
        admins=settings.admins,
    )
