"""Alembic environment: the connection comes from tapbot, never from an ini file."""
from alembic import context

from storage.models import Base, managed_by_migrations

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `tapbot db upgrade` (storage.db.upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
    include_object=managed_by_migrations,  # APScheduler owns its job table
)
with context.begin_transaction():
    context.run_migrations()
