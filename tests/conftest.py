"""Shared fixtures: a real database (SQLite, and PostgreSQL where it runs), the plan,
and a chat harness that talks to the bot through the same dispatch as every channel.

PostgreSQL: TAPBOT_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
Each test run gets its own schema, so runs on one server do not meet. Without a
reachable server those tests are skipped, loudly; with TAPBOT_REQUIRE_POSTGRES=1
(CI) they fail instead.
"""
from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text

from bot.console import ConsoleChannel
from handlers.context import Context
from handlers.render import render_text
from plan_data.loader import load_plan
from storage.db import make_engine, make_session_factory, normalise_url, upgrade

POSTGRES_URL = os.environ.get("TAPBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("TAPBOT_REQUIRE_POSTGRES") == "1"
SHARED = Path(__file__).resolve().parents[2] / "shared"
TODAY = date(2025, 6, 16)  # a Monday inside the plan period; tests that depend on "today" use it

_postgres_problem: str | None = None


def _postgres_reachable() -> bool:
    global _postgres_problem
    try:
        engine = create_engine(normalise_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception as error:  # any failure means: no PostgreSQL here
        _postgres_problem = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        return False


_POSTGRES = _postgres_reachable()


def pytest_report_header(config):
    if _POSTGRES:
        return f"PostgreSQL: {POSTGRES_URL}"
    return f"PostgreSQL: NOT REACHABLE at {POSTGRES_URL} ({_postgres_problem}) — its runs are skipped"


def pytest_terminal_summary(terminalreporter):
    if not _POSTGRES and not REQUIRE_POSTGRES:
        terminalreporter.write_line(
            f"NOTE: PostgreSQL runs were skipped (no server at {POSTGRES_URL}); SQLite runs passed alone.",
            yellow=True, bold=True)


@pytest.fixture(scope="session")
def plan():
    return load_plan()


@pytest.fixture(scope="session")
def postgres_schema_url():
    """A fresh schema on the test server for this run, dropped at the end."""
    if not _POSTGRES:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (TAPBOT_REQUIRE_POSTGRES=1) but unreachable: {_postgres_problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"tapbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def postgres_engine(schema: str, url: str = POSTGRES_URL):
    """An engine on `url` whose connections work in this run's schema."""
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f'SET search_path TO "{schema}"')
        dbapi_connection.commit()

    return engine


@pytest.fixture(scope="session")
def _postgres_engine(postgres_schema_url):
    engine = postgres_engine(postgres_schema_url)
    upgrade(engine)
    yield engine
    engine.dispose()



def _empty(engine) -> None:
    from storage.models import Base

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'tapbot.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
    else:
        engine = request.getfixturevalue("_postgres_engine")
        _empty(engine)
        yield engine


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'tapbot.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def ctx(engine, plan):
    return Context(sessions=make_session_factory(engine), plan=plan, admins=frozenset({"admin"}),
                   today=lambda: TODAY)


class Chat:
    """Talk to the bot as one user; returns the reply and its text as the terminal shows it."""

    def __init__(self, ctx: Context, user: str = "amina"):
        self.channel = ConsoleChannel(ctx, user)

    def __call__(self, message: str):
        reply = self.channel.send(message)
        reply.text = render_text(reply)
        return reply

    def as_user(self, user: str) -> Chat:
        return Chat(self.channel.ctx, user)


@pytest.fixture
def chat(ctx):
    return Chat(ctx)
