"""The models and the migrations describe the same schema, on every database."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import alembic_config, make_engine, upgrade
from storage.models import Base, managed_by_migrations


def is_up_to_date(engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": managed_by_migrations})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_is_idempotent_and_creates_every_table(engine):
    upgrade(engine)  # a second time: nothing to do, nothing broken
    assert is_up_to_date(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_embedded_sqlite_is_created_on_first_use(tmp_path):
    path = tmp_path / "new" / "tapbot.db"
    path.parent.mkdir()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    assert path.exists() and is_up_to_date(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_database_url_forms():
    from storage.db import normalise_url

    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
