"""Schema migrations (Alembic, run from the package: no alembic.ini needed).

`upgrade()` is what `just-ingredients migrate` runs. On PostgreSQL it holds a transaction
advisory lock, so two copies started at once run one after the other (the second finds the
schema at head and does nothing). `ensure_schema_at_head()` is called by the CLI and the bot
at start; PostgreSQL is never migrated implicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from just_ingredients.storage.engine import is_postgres
from just_ingredients.storage.errors import SchemaOutOfDate
from just_ingredients.storage.tables import SEARCH_OBJECTS

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: pg_advisory_xact_lock key: "ji-migrate" as an int64
MIGRATION_LOCK_KEY = 0x6A692D6D69677261


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate filter: leave the backend-specific search objects (created by hand in
    the revisions, see search.py) out of the comparison with the models."""
    if name is None:
        return True
    return not (name in SEARCH_OBJECTS or name.startswith("recipe_search"))


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision`; a no-op when already there."""
    async with engine.connect() as conn:
        if is_postgres(engine):
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        await conn.run_sync(_upgrade, revision)
        await conn.commit()


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.connect() as conn:
        if is_postgres(engine):
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        await conn.run_sync(_downgrade, revision)
        await conn.commit()


async def current_revision(engine: AsyncEngine) -> tuple[str, ...]:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def ensure_schema_at_head(engine: AsyncEngine) -> None:
    """Raise SchemaOutOfDate unless the database is exactly at the head revision."""
    current = await current_revision(engine)
    head = head_revision()
    if current != ((head,) if head else ()):
        shown = ", ".join(current) or "empty"
        raise SchemaOutOfDate(
            f"database schema is at {shown} but this version needs {head}: "
            "run `just-ingredients migrate`"
        )
