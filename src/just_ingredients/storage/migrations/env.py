"""Alembic environment. Run through `just_ingredients.storage.migrate`, which passes an open
connection in `config.attributes["connection"]` (so the caller controls locking and the
transaction); offline SQL generation uses the configured URL."""

from __future__ import annotations

from alembic import context

from just_ingredients.storage.migrate import include_object
from just_ingredients.storage.tables import metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        context.configure(
            url=context.config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            literal_binds=True,
            include_object=include_object,
            render_as_batch=True,
        )
    else:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            transaction_per_migration=False,
        )
    with context.begin_transaction():
        context.run_migrations()


run()
