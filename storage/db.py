"""Building the engine, opening sessions, and bringing the schema up to date."""
from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc, inspect, make_url, text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: two processes upgrading one PostgreSQL at once take turns.
_UPGRADE_LOCK = 7_240_513


def normalise_url(url: str) -> str:
    """Accept the plain URL forms people and hosting platforms give, and pick psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Bounded waits, so that a database that is down or hangs costs a request seconds, not the
# outage: Slack wants an answer within 3 s, and a lost connection must not hold a worker thread.
CONNECT_TIMEOUT = 2  # seconds to open a connection (libpq counts it per host address)
POOL_TIMEOUT = 2.0  # seconds to wait for a free connection from the pool
BUSY_TIMEOUT_MS = 2000  # SQLite: how long a writer waits for another's lock
STATEMENT_TIMEOUT_MS = 5000  # PostgreSQL ends a statement that runs longer
LOCK_TIMEOUT_MS = 2000  # … or that waits longer for a row lock
# Past this, a statement or commit still waiting is cut off on our side: the server's own
# timeout cannot help when the network between us drops or holds packets.
CLIENT_TIMEOUT = STATEMENT_TIMEOUT_MS / 1000 + 1.0
# An execution option for work allowed to take long (migrations): no timeout on our side.
UNBOUNDED = "tapbot_unbounded"


class DatabaseUnavailable(Exception):
    """The database did not answer in time, or refused the connection: nothing was changed."""


def is_unavailable(error: BaseException) -> bool:
    """Whether an error means the database could not be reached or did not answer (not a bug)."""
    if isinstance(error, (DatabaseUnavailable, exc.TimeoutError)):  # TimeoutError: no free pooled connection
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, exc.OperationalError):
            return True
        code = getattr(error.orig, "sqlstate", None)
        return code in ("57014", "55P03")  # statement or lock timeout
    return False


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, pool_timeout=POOL_TIMEOUT)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    given = make_url(url).query.get("options", "")  # e.g. a search_path in DATABASE_URL: kept
    given = " ".join(given) if isinstance(given, tuple) else given
    engine = create_engine(url, pool_timeout=POOL_TIMEOUT, connect_args={
        "connect_timeout": CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS} {given}".strip(),
        # A peer that vanished is noticed within seconds, not after the kernel's two hours.
        "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 1, "keepalives_count": 3,
        "tcp_user_timeout": int(CLIENT_TIMEOUT * 1000),
    })
    _WATCHDOG.watch(engine)
    return engine


class _Watchdog:
    """Cuts off a PostgreSQL connection whose statement or commit waits longer than CLIENT_TIMEOUT.

    psycopg has no client-side timeout for a query: when the network holds packets, a
    statement waits as long as the outage. One thread looks at the connections that are
    waiting and shuts down the socket of any that waited too long; psycopg then raises, and
    SQLAlchemy drops that connection and the pool's others. A connection is also tested with
    a ping when taken from the pool (the pool's own pre-ping would not be watched).
    """

    def __init__(self) -> None:
        self._deadlines: dict[int, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, engine: Engine) -> None:
        event.listen(engine.pool, "checkout", self._ping)
        event.listen(engine.pool, "checkin", lambda dbapi, _record: self._done(dbapi))
        event.listen(engine, "before_cursor_execute", lambda conn, *_args: self._start_on(conn))
        event.listen(engine, "after_cursor_execute", lambda conn, *_args: self._done(conn.connection.dbapi_connection))
        event.listen(engine, "commit", self._start_on)

    def _start_on(self, conn) -> None:
        if not conn.get_execution_options().get(UNBOUNDED):
            self._start(conn.connection.dbapi_connection)

    def _ping(self, dbapi_connection, _record, _proxy) -> None:
        self._start(dbapi_connection)
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as error:  # the pool then tries a fresh connection
            raise exc.DisconnectionError(str(error)) from error
        finally:
            self._done(dbapi_connection)

    def _start(self, dbapi_connection) -> None:
        with self._lock:
            self._deadlines[id(dbapi_connection)] = (time.monotonic() + CLIENT_TIMEOUT, dbapi_connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()

    def _done(self, dbapi_connection) -> None:
        # A statement that failed leaves its deadline; the connection's return to the pool clears it.
        with self._lock:
            self._deadlines.pop(id(dbapi_connection), None)

    def _run(self) -> None:
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            with self._lock:
                late = [c for deadline, c in self._deadlines.values() if deadline < now]
                for connection in late:
                    self._deadlines.pop(id(connection), None)
            for connection in late:
                log.error("the database did not answer within %.0f s: cutting the connection off", CLIENT_TIMEOUT)
                _shut_down(connection)


def _shut_down(dbapi_connection) -> None:
    try:
        fd = dbapi_connection.fileno()
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


_WATCHDOG = _Watchdog()


# NUL and the other C0/C1 control characters, except tab and line breaks: PostgreSQL refuses
# NUL in text, and none of them means anything in a workshop's title or a name.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_control_characters(text: str) -> str:
    return _CONTROL.sub("", text)


def _cleaned(value):
    if isinstance(value, str):
        return without_control_characters(value)
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


@event.listens_for(Session, "before_flush")
def _store_no_control_characters(session: Session, _context, _instances) -> None:
    """Whatever reaches a table (forms, imports, messages, names) is stored without control characters."""
    for instance in (*session.new, *session.dirty):
        state = inspect(instance)
        for attribute in state.mapper.column_attrs:
            value = state.dict.get(attribute.key)
            if isinstance(value, (str, dict, list)):
                cleaned = _cleaned(value)
                if cleaned != value:
                    setattr(instance, attribute.key, cleaned)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer writes; the busy timeout makes
    # writers wait for each other instead of failing; SQLite leaves FKs off otherwise.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL is safe against corruption and skips an fsync per commit; a power
    # cut may lose the last commits, not the database.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest migration (a no-op when it is there)."""
    config = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(**{UNBOUNDED: True})
            conn.execute(text("SET statement_timeout = 0"))  # another process's migration may take a while
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _UPGRADE_LOCK})
            try:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _UPGRADE_LOCK})
                conn.execute(text("RESET statement_timeout"))  # back to the connection's bounded default
                conn.commit()
        return
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
