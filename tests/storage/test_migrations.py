"""Alembic: empty → head → empty on both backends; models and migrations agree."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from just_ingredients.storage import (
    Database,
    SchemaOutOfDate,
    current_revision,
    downgrade,
    ensure_schema_at_head,
    head_revision,
    upgrade,
)
from just_ingredients.storage.migrate import include_object
from just_ingredients.storage.tables import metadata


def _tables(conn: Connection) -> set[str]:
    return {t for t in inspect(conn).get_table_names() if not t.startswith("recipe_search")}


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"include_object": include_object, "compare_type": True}
    )
    return list(compare_metadata(context, metadata))


async def test_upgrade_from_empty_then_downgrade_to_empty(empty_database_url: str) -> None:
    db = Database.from_url(empty_database_url)
    try:
        await upgrade(db.engine)
        assert await current_revision(db.engine) == (head_revision(),)
        async with db.engine.connect() as conn:
            assert set(metadata.tables) <= await conn.run_sync(_tables)
        await upgrade(db.engine)  # twice is a no-op
        await downgrade(db.engine, "base")
        assert await current_revision(db.engine) == ()
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) <= {"alembic_version"}
    finally:
        await db.dispose()


async def test_models_match_migrations(database_url: str) -> None:
    db = Database.from_url(database_url)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await db.dispose()


async def test_schema_behind_head_is_refused(empty_database_url: str) -> None:
    db = Database.from_url(empty_database_url)
    try:
        with pytest.raises(SchemaOutOfDate, match="just-ingredients migrate"):
            await ensure_schema_at_head(db.engine)
    finally:
        await db.dispose()


@pytest.mark.postgres
def test_two_concurrent_migrate_commands_both_succeed(make_pg_database: Any) -> None:
    url = make_pg_database()
    env = {**os.environ, "DATABASE_URL": url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "just_ingredients", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results

    async def check() -> None:
        db = Database.from_url(url)
        try:
            await ensure_schema_at_head(db.engine)
        finally:
            await db.dispose()

    asyncio.run(check())
