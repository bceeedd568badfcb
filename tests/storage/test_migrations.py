"""Alembic: empty → head → empty on both backends; models and migrations agree."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

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


def _insert_old_drafts(conn: Connection) -> None:
    """Drafts as revision 0001 stored them: pages and the edited recipe in image_sha256."""
    conn.execute(text("INSERT INTO users (id, telegram_id) VALUES (1, 7)"))
    conn.execute(text("INSERT INTO recipes (id, user_id, name, lang) VALUES (5, 1, 'Tarte', 'fr')"))
    rows = [
        (1, "reviewing", ["page:" + "a" * 64 + ":AgAC:x/1", "page:" + "b" * 64 + ":AgAD"]),
        (2, "reviewing", ["recipe:5"]),
        (3, "reviewing", ["recipe:99"]),  # the recipe is gone
        (4, "cancelled", ["c" * 64]),  # a bare hash of an older draft
    ]
    for id_, status, refs in rows:
        conn.execute(
            text(
                "INSERT INTO drafts (id, user_id, chat_id, lang, ingredients, status, image_sha256)"
                " VALUES (:id, 1, 7, 'fr', '[]', :status, :refs)"
            ),
            {"id": id_, "status": status, "refs": json.dumps(refs)},
        )


def _drafts(conn: Connection, column: str) -> dict[int, tuple[Any, ...]]:
    rows = conn.execute(text(f"SELECT id, {column}, recipe_id FROM drafts ORDER BY id"))
    return {r[0]: (json.loads(r[1]) if isinstance(r[1], str) else r[1], r[2]) for r in rows}


async def test_0002_moves_draft_pages_and_edited_recipe_out_of_image_sha256_and_back(
    empty_database_url: str,
) -> None:
    db = Database.from_url(empty_database_url)
    try:
        await upgrade(db.engine, "0001")
        async with db.engine.begin() as conn:
            await conn.run_sync(_insert_old_drafts)
        await upgrade(db.engine, "0002")
        async with db.engine.connect() as conn:
            upgraded = await conn.run_sync(_drafts, "pages")
            columns = {c["name"] for c in await conn.run_sync(
                lambda c: inspect(c).get_columns("drafts")
            )}  # fmt: skip
        assert "image_sha256" not in columns
        assert upgraded == {
            1: (
                [
                    {"sha256": "a" * 64, "file_id": "AgAC:x/1"},
                    {"sha256": "b" * 64, "file_id": "AgAD"},
                ],
                None,
            ),
            2: ([], 5),
            3: ([], None),
            4: ([{"sha256": "c" * 64, "file_id": ""}], None),
        }
        await downgrade(db.engine, "0001")
        async with db.engine.connect() as conn:
            downgraded = await conn.run_sync(_drafts, "image_sha256")
        assert downgraded == {
            1: (["page:" + "a" * 64 + ":AgAC:x/1", "page:" + "b" * 64 + ":AgAD"], None),
            2: (["recipe:5"], 5),
            3: ([], None),
            4: (["c" * 64], None),
        }
        await upgrade(db.engine)
        await downgrade(db.engine, "base")
    finally:
        await db.dispose()
